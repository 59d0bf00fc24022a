/*
 * memmap.h - reading the UEFI memory map the loader saved in boot_info.
 *
 * The map is an array of descriptors spaced desc_size bytes apart (40, 48
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

/* What the kernel prints at boot. */
struct memmap_summary {
	size_t entries;            /* descriptors, zero-length ones included */
	size_t empty_entries;      /* descriptors with num_pages == 0 */
	size_t runtime_entries;    /* descriptors with EFI_MEM_ATTR_RUNTIME */
	uint64_t pages[EFI_MEM_NTYPES]; /* 4 KiB pages per type; bytes = pages * 4096 */
	uint64_t other_pages;      /* pages of types >= EFI_MEM_NTYPES (OEM/OS) */
	uint64_t conventional_bytes;
	uint64_t highest_end;      /* max end over RAM descriptors (memmap_is_ram), bytes */
};

/* A half-open range [start, end) of physical addresses. */
struct memmap_range {
	uint64_t start;
	uint64_t end;
};

/*
 * Check that bi describes a sane map: non-NULL, desc_size >= 40 and a
 * multiple of 8 (the fields are 64-bit), mmap_size a non-zero multiple of
 * desc_size, every descriptor 4 KiB aligned and not wrapping past 2^64.
 * Returns 0 or VM_EINVAL.  Every other memmap_ and frames_ call checks
 * this first, so a caller rarely needs it on its own.
 */
int memmap_check(const struct boot_info *bi);

/* Number of descriptors (valid only after memmap_check() succeeded). */
size_t memmap_count(const struct boot_info *bi);

/* Descriptor i, 0 <= i < memmap_count(bi); steps by desc_size. */
const struct efi_mem_desc *memmap_desc(const struct boot_info *bi, size_t i);

/* End of the range d covers: phys_start + num_pages * 4096 (exclusive). */
uint64_t memmap_end(const struct efi_mem_desc *d);

/* True for memory-mapped I/O types, which are not RAM (MMIO, MMIO port). */
bool memmap_is_mmio(uint32_t type);

/*
 * True for types that are ordinary write-back RAM: Conventional, Loader
 * code/data, Boot services code/data, Runtime services code/data, ACPI
 * reclaim, ACPI NVS and Persistent.  Everything else may be a device or
 * a hole (Reserved covers PCIe ECAM and the AMD HyperTransport hole),
 * is broken (Unusable), or must not be touched before it is accepted
 * (Unaccepted, in confidential VMs).
 */
bool memmap_is_ram(uint32_t type);

/*
 * True for a descriptor the direct map may cover: a RAM type
 * (memmap_is_ram) whose attributes allow write-back (EFI_MEM_ATTR_WB).
 * RAM that the firmware says must not be cached write-back is left to
 * mappings with its own memory type; mapping it WB as well would give
 * one physical page two memory types (Intel SDM 3A, 11.12.4).
 */
bool memmap_is_wb_ram(const struct efi_mem_desc *d);

/* True for EfiBootServicesCode and EfiBootServicesData: in use until
 * ExitBootServices, free after it (paging/reclaim.h). */
bool memmap_is_boot_services(uint32_t type);

/*
 * Fill *out from the map.  Tolerates unsorted maps, zero-length entries
 * and regions above 4 GiB.  Returns 0, or VM_EINVAL if memmap_check()
 * fails (then *out is zeroed).
 */
int memmap_summarize(const struct boot_info *bi, struct memmap_summary *out);

/*
 * A walk over the write-back RAM of the map (memmap_is_wb_ram
 * descriptors) as sorted, disjoint ranges: descriptors that touch or
 * overlap are merged, so each step gives one separate piece of RAM (a
 * handful on OVMF, whose map has ~125 descriptors; hundreds on
 * fragmented maps).  Needs no memory
 * at all, so no map has too many pieces:
 *
 *     struct memmap_ram_walk w;
 *     struct memmap_range r;
 *     for (memmap_ram_walk_start(bi, &w); memmap_ram_walk_next(bi, &w, &r);)
 *             use(r);
 *
 * bi must pass memmap_check().  Cost O(D) a step, O(D^2) for the whole
 * walk over D descriptors (a selection sort that leaves the map as it
 * is).
 */
struct memmap_ram_walk {
	size_t next; /* the next RAM descriptor in address order, or SIZE_MAX */
};

void memmap_ram_walk_start(const struct boot_info *bi, struct memmap_ram_walk *w);

/* The next merged range into *out; false (out untouched) at the end. */
bool memmap_ram_walk_next(const struct boot_info *bi, struct memmap_ram_walk *w,
			  struct memmap_range *out);

/*
 * The walk's ranges into out[0..max), their number in *n.  Returns 0,
 * VM_EINVAL if memmap_check() fails, or VM_ENOMEM if the RAM is in more
 * than max pieces (then out holds the first max and *n == max).
 */
int memmap_ram_ranges(const struct boot_info *bi, struct memmap_range *out, size_t max,
		      size_t *n);

/* A short printable name for a type ("Conventional"); never NULL. */
const char *memmap_type_name(uint32_t type);

#endif
