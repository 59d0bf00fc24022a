/*
 * fwcheck.c - the loader's checks of the RSDP and of the framebuffer
 * size (fwcheck.h).  Pure: bytes and numbers in, a verdict out; the
 * loader (efi/firmware.c) decides what to record and says so.
 */
#include "fwcheck.h"
#include "layout.h"

/* RSDP fields (ACPI 6.5, Table 5.3), as byte offsets. */
#define RSDP_REVISION 15
#define RSDP_LENGTH   20

/* The 8-bit sum of n bytes: an ACPI checksum is good when it is 0. */
static uint8_t byte_sum(const uint8_t *p, uint32_t n)
{
	uint8_t sum = 0;

	while (n--)
		sum = (uint8_t)(sum + *p++);
	return sum;
}

/* Length, stored little-endian at an offset ACPI does not align. */
static uint32_t rsdp_length(const uint8_t *p)
{
	const uint8_t *l = p + RSDP_LENGTH;

	return l[0] | (uint32_t)l[1] << 8 | (uint32_t)l[2] << 16 | (uint32_t)l[3] << 24;
}

static int refuse(const char **why, const char *reason)
{
	*why = reason;
	return 0;
}

int fwcheck_rsdp(const uint8_t *p, const char **why)
{
	static const char signature[8] = "RSD PTR ";
	uint32_t length;

	for (int i = 0; i < 8; i++)
		if (p[i] != signature[i])
			return refuse(why, "no \"RSD PTR \" signature");
	if (byte_sum(p, RSDP_V1_BYTES) != 0)
		return refuse(why, "bad checksum");
	if (p[RSDP_REVISION] < 2)
		return 1; /* ACPI 1.0: the 20 bytes are all there is */
	length = rsdp_length(p);
	if (length < RSDP_V2_BYTES || length > RSDP_MAX_BYTES)
		return refuse(why, "bad length");
	if (byte_sum(p, length) != 0)
		return refuse(why, "bad extended checksum");
	return 2;
}

uint32_t fwcheck_framebuffer_rows(const struct framebuffer *fb, const char **why)
{
	uint64_t row_bytes = (uint64_t)fb->stride * 4;
	uint32_t rows = fb->height, window = layout_framebuffer_rows(fb);

	if (fb->width == 0 || fb->height == 0)
		return refuse(why, "a mode with no pixels");
	if (fb->stride < fb->width)
		return refuse(why, "a stride narrower than the width");
	if (fb->size < row_bytes)
		return refuse(why, "smaller than one scan line");
	if (fb->size < framebuffer_bytes(fb)) {
		rows = (uint32_t)(fb->size / row_bytes); /* < height: the span did not fit */
		*why = "FrameBufferSize is smaller than the mode's span";
	}
	if (window == 0)
		return refuse(why, "beyond what the kernel can map");
	if (window < rows) {
		rows = window;
		*why = PHYS_ADDR_LIMIT - fb->base < FB_WINDOW_MAX
			       ? "its span runs past the 52-bit physical address limit"
			       : "its span is larger than the kernel's 1 GiB framebuffer window";
	}
	return rows;
}
