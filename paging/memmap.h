/*
 * memmap.h - reading a raw UEFI descriptor table: the memory map the
 * loader saved in boot_info, or the memory attributes table (same
 * layout).  Checking, counting and indexing only: the one reader of the
 * map is paging/memblock.c, which turns it into a sorted list of typed
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
 * Check that bi describes a sane map: non-NULL, 8-byte aligned, desc_size
 * >= 40 and a multiple of 8 (the fields are 64-bit), mmap_size a non-zero multiple of
 * desc_size, every descriptor 4 KiB aligned and not wrapping past 2^64.
 * Returns 0 or VM_EINVAL.  memblock_build checks this first.
 */
int memmap_check(const struct boot_info *bi);

/* Number of descriptors (valid only after memmap_check() succeeded). */
size_t memmap_count(const struct boot_info *bi);

/* Descriptor i, 0 <= i < memmap_count(bi); steps by desc_size. */
const struct efi_mem_desc *memmap_desc(const struct boot_info *bi, size_t i);

/* End of the range d covers: phys_start + num_pages * 4096 (exclusive). */
uint64_t memmap_end(const struct efi_mem_desc *d);

/* A short printable name for a type ("Conventional"); never NULL. */
const char *memmap_type_name(uint32_t type);

#endif
