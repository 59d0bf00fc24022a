/*
 * fwcheck.h - checks of two things the firmware hands the loader, made
 * before the loader passes them on in struct boot_info:
 *
 *   - the ACPI RSDP a configuration table points at: firmware has
 *     shipped 2.0 tables with bad checksums, and the kernel starts its
 *     CPUs from what the RSDP leads to;
 *   - the GOP framebuffer's size against its mode's span, which the
 *     kernel maps and clears (framebuffer_bytes() in boot/boot_info.h),
 *     and that span against the window the kernel maps it in.
 *
 * Plain C with no gnu-efi header, so the host tests build it
 * (test/host/test_fwcheck.c).  efi/firmware.c finds the candidates and
 * prints the loader's notes.
 */
#ifndef FWCHECK_H
#define FWCHECK_H

#include <stdbool.h>
#include <stdint.h>
#include "boot_info.h"

#define RSDP_V1_BYTES  20   /* ACPI 1.0's part, covered by the first checksum */
#define RSDP_V2_BYTES  36   /* the ACPI 2.0 structure: its Length is at least this */
#define RSDP_MAX_BYTES 4096 /* a longer Length is not believed (every version so far: 36) */

/*
 * Check the RSDP at p (ACPI 6.5, 5.2.5.3): the "RSD PTR " signature, the
 * checksum over its first 20 bytes and, when its Revision is 2 or more,
 * a Length in [36, RSDP_MAX_BYTES] and the extended checksum over Length
 * bytes.  Reads no further than those fields allow: 20 bytes, then 36,
 * then Length.  Returns 2 for a good ACPI 2.0+ RSDP, 1 for a good ACPI
 * 1.0 one (whatever table pointed at it), or 0 with *why set to a short
 * reason ("bad extended checksum").
 */
int fwcheck_rsdp(const uint8_t *p, const char **why);

/*
 * The rows of fb's mode the kernel may map and draw on: fb->height when
 * framebuffer_bytes(fb) fits both in fb->size (the GOP's
 * FrameBufferSize) and in the kernel's framebuffer window
 * (layout_framebuffer_rows: 1 GiB, below 2^52); fewer, with *why set,
 * when only that many whole scan lines fit both; 0 with *why set when
 * not one row fits or the mode makes no sense (no pixels, or a stride
 * narrower than the width, which the kernel would draw past).  The
 * kernel's layout_build refuses a framebuffer that does not fit whole:
 * clamped here, before the exit, it always does.
 */
uint32_t fwcheck_framebuffer_rows(const struct framebuffer *fb, const char **why);

/* Can the kernel draw on every row of fb's mode (at least one)? */
static inline bool fwcheck_framebuffer_whole(const struct framebuffer *fb)
{
	const char *why;
	uint32_t rows = fwcheck_framebuffer_rows(fb, &why);

	return rows != 0 && rows == fb->height; /* a mode of 0 rows is no screen */
}

#endif
