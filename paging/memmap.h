/*
 * memmap.h - reading a raw UEFI descriptor table: the memory map the
 * loader saved in boot_info, or the memory attributes table (same
 * layout).  Checking, counting and indexing, and the rule for a bad
 * descriptor (memmap_fit): the one reader of the map is paging/memblock.c, which turns it into a sorted list of typed
 * ranges for everyone else.  Besides it, the layout reads the MAT, and
 * the `memmap` command prints the raw rows (kernel/memsummary.c).
 *
 * A table is an array of descriptors spaced desc_size bytes apart (40, 48
 * or more: newer firmware appends fields), in no promised order, possibly
 * with zero-length entries.  Each descriptor covers the physical range
 * [phys_start, phys_start + num_pages * 4096).  Units: bytes and 4 KiB
 * UEFI pages as named.
 */
#ifndef PAGING_MEMMAP_H
#define PAGING_MEMMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot_info.h"

#define MEMMAP_DESC_MIN 40 /* sizeof the fields we read */

/*
 * Check that bi describes a map we can read at all: non-NULL, 8-byte
 * aligned, desc_size >= 40 and a multiple of 8 (the fields are 64-bit),
 * mmap_size a non-zero multiple of desc_size.  Returns 0 or VM_EINVAL.
 * memblock_build checks this first.  The descriptors themselves are not
 * judged here: one bad descriptor costs only itself (memmap_fit).
 */
int memmap_check(const struct boot_info *bi);

/* Number of descriptors (valid only after memmap_check() succeeded). */
size_t memmap_count(const struct boot_info *bi);

/* Descriptor i, 0 <= i < memmap_count(bi); steps by desc_size. */
const struct efi_mem_desc *memmap_desc(const struct boot_info *bi, size_t i);

/* End of the range d covers: phys_start + num_pages * 4096 (exclusive). */
uint64_t memmap_end(const struct efi_mem_desc *d);

/* Is d sound: 4 KiB aligned, and its end not past 2^64?  (A page count
 * of 2^52 or more is never sound: it spans more than 2^64 bytes.) */
bool memmap_desc_sound(const struct efi_mem_desc *d);

/* What memmap_fit makes of a descriptor. */
enum memmap_fate {
	MEMMAP_SOUND,   /* used as the firmware gave it */
	MEMMAP_ROUNDED, /* misaligned: rounded to whole pages */
	MEMMAP_DROPPED, /* wraps past 2^64, or no whole page left: not used */
};

/*
 * The range [*start, *end) of whole 4 KiB pages the kernel takes for d,
 * and why (MEMMAP_SOUND, _ROUNDED, _DROPPED; *start and *end are 0 when
 * dropped).  The one rule for a bad descriptor, after Linux's "[Firmware
 * Bug]" handling (efi_clean_memmap): a descriptor that wraps past 2^64
 * is dropped.  A misaligned one (phys_start not a multiple of 4096) is
 * rounded: inward when it is free memory (`inward`: start up, end down),
 * so that no frame partly someone else's is ever handed out; outward
 * otherwise (start down, end up), so that every byte the firmware named
 * stays covered.  Inward leaves one page fewer (none: dropped); outward
 * one page more (dropped if that end would pass 2^64).  An empty
 * descriptor is MEMMAP_SOUND with *start == *end.
 */
enum memmap_fate memmap_fit(const struct efi_mem_desc *d, bool inward, uint64_t *start,
			    uint64_t *end);

/* Bad descriptors of one map, as memblock_build met them. */
struct memmap_bad {
	size_t dropped;             /* MEMMAP_DROPPED */
	size_t rounded;             /* MEMMAP_ROUNDED */
	struct efi_mem_desc first;  /* the first bad one, in map order */
};

/* Count d in *bad if fate says it is bad. */
void memmap_bad_note(struct memmap_bad *bad, const struct efi_mem_desc *d,
		     enum memmap_fate fate);

/* A short printable name for a type ("Conventional"); never NULL. */
const char *memmap_type_name(uint32_t type);

#endif
