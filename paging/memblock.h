/*
 * memblock.h - the firmware's memory map, read once into a list of typed
 * physical ranges (the memblock idea, after Linux mm/memblock.c).
 *
 * The raw map (boot_info.mmap) is an array of desc_size-spaced
 * descriptors in no promised order, with zero-length entries and, on
 * real firmware, overlaps.  memblock_build reads it once and gives
 *
 *     r[0] < r[1] < ... < r[n-1]     sorted by start, disjoint,
 *                                    [start, end) half-open, 4 KiB aligned
 *
 * with touching neighbours of the same EFI type and attributes merged.
 * The summary, the frame allocator, the layout, reclaim and the loader's
 * pre-exit planner read this list; nothing else walks the raw map but
 * the `memmap` command's printout of it (see below).
 *
 * At a glance:
 *   memblock_build(bi, &mb)          the map -> the list, once, in place
 *   mb.r[0 .. mb.n)                  rows: start, end, attribute, type, kind
 *   memblock_kind_of(type, attr)     an EFI type -> what it is to us
 *   memblock_is_ram, _is_wb_ram      RAM; RAM the direct map covers
 *   memblock_next_ram(mb, &i, &s)    write-back RAM, piece by piece
 *   memblock_summarize(mb, &sum)     pages per type, highest RAM end
 *
 * Overlaps (the rule): where two descriptors overlap, the stronger
 * claim wins that part, and the loser keeps only what lies outside the
 * winner.  Stronger means a stronger kind; kinds are listed below
 * weakest first, and the order says "a claim that means `do not touch`
 * beats a claim that means `free`": free memory loses to everything, so
 * the frame allocator never hands out a page that any other descriptor
 * claims.  Two claims of one kind: the larger EFI type, then the larger
 * attribute word (RUNTIME is its top bit) wins.  So the list never
 * depends on the order of the map.
 *
 * Where the list lives: in the map's own buffer, built in place.  A row
 * (32 bytes) is smaller than a descriptor (40 bytes, 48 on edk2), so the
 * rows of all the descriptors fit where the descriptors were, with room
 * to spare for a quarter as many rows again (half with 48-byte
 * descriptors).  The spare room takes the extra row an overlap makes
 * when it splits a range in two (a Reserved page inside a Conventional
 * descriptor: one descriptor, two free rows).  So the list needs no
 * memory of its own before the frame allocator exists, costs no frame,
 * and has no fixed capacity: it grows with the map (the QEMU case
 * frag_holes_400 boots a 922-descriptor map).  Only a map in which more
 * than a quarter of the descriptors split another would not fit:
 * memblock_build refuses it (VM_ENOMEM), and so does the loader's
 * pre-exit planner, which builds the list of the map it checks, at the
 * shell.  Afterwards the buffer holds rows, not descriptors: whoever
 * wants the raw descriptors (the `memmap` command prints them) reads
 * them before.
 * Units: bytes, and 4 KiB pages where named.
 */
#ifndef PAGING_MEMBLOCK_H
#define PAGING_MEMBLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot_info.h"

/* What a range is to the kernel, weakest claim first (see the overlap
 * rule above).  RAM kinds come before MEMBLOCK_MMIO (all but soft
 * reserved). */
enum memblock_kind {
	MEMBLOCK_FREE,          /* Conventional: free now (not if soft reserved) */
	MEMBLOCK_BOOT_SERVICES, /* BootServices code/data: free once we leave
				 * the firmware's tables and stack (reclaim.h) */
	MEMBLOCK_SOFT_RESERVED, /* Conventional or BootServices marked
				 * specific-purpose (EFI_MEM_ATTR_SP): not ours,
				 * but weaker than every real claim, so an
				 * overlap never erases one; not RAM to us */
	MEMBLOCK_LOADER,        /* Loader code/data: our image, boot_info, the map */
	MEMBLOCK_ACPI_RECLAIM,  /* ACPI tables: RAM, ours once they are read */
	MEMBLOCK_PERSISTENT,    /* persistent memory (NVDIMM) */
	MEMBLOCK_RUNTIME,       /* Runtime code/data: the firmware's, forever */
	MEMBLOCK_ACPI_NVS,      /* the firmware's own RAM: never touched */
	MEMBLOCK_MMIO,          /* device registers: MMIO, MMIO port */
	MEMBLOCK_RESERVED,      /* Reserved, Unusable, Unaccepted, PalCode, OEM */
};

/* The attribute bits a range keeps: caching (the memory type it may be
 * mapped with), SP (it makes free memory soft reserved, so such a row
 * must never merge with a plain one) and RUNTIME.  Others (XP, RO,
 * RP, ...) are dropped, so they never keep two ranges apart: nothing
 * reads them from the map (runtime code and data rights come from the
 * attributes table). */
#define MEMBLOCK_ATTRS (EFI_MEM_ATTR_UC | EFI_MEM_ATTR_WC | EFI_MEM_ATTR_WT | \
			EFI_MEM_ATTR_WB | EFI_MEM_ATTR_UCE | EFI_MEM_ATTR_SP | \
			EFI_MEM_ATTR_RUNTIME)

/* One piece of the map: [start, end), one EFI type, one set of attributes. */
struct memblock_range {
	uint64_t start;
	uint64_t end;
	uint64_t attribute;  /* the descriptor's bits & MEMBLOCK_ATTRS */
	uint32_t type;       /* the descriptor's EFI type (enum efi_mem_type, or OEM) */
	uint32_t kind;       /* enum memblock_kind, memblock_kind_of(type, attribute) */
};

/* The list, read-only for its users. */
struct memblock {
	const struct memblock_range *r; /* r[0..n) */
	size_t n;
	size_t descs;                   /* descriptors in the map, empty ones included */
};

/*
 * Read bi's map (it must pass memmap_check: memmap.h) and build the list
 * in place, in bi->mmap's buffer; *mb points at it.  Then sets
 * bi->mmap_size to 0: the descriptors are gone, and a later
 * memmap_check(bi) says so.  Touches nothing but the buffer, *bi and
 * *mb.  Returns 0; VM_EINVAL for a malformed map (nothing changed,
 * mb->n == 0); VM_ENOMEM when overlaps split more ranges than the spare
 * room holds (the buffer is garbage then).  Costs: O(D^2) for D
 * descriptors in the worst case (an insertion sort), O(D) for a map in
 * address order, as firmware gives it.
 */
int memblock_build(struct boot_info *bi, struct memblock *mb);

/*
 * The kind of a descriptor of this EFI type and attribute word:
 * MEMBLOCK_RESERVED for types we do not know, MEMBLOCK_SOFT_RESERVED for
 * memory that would be free (Conventional now, BootServices after the
 * exit) but is specific-purpose (EFI_MEM_ATTR_SP).
 */
enum memblock_kind memblock_kind_of(uint32_t type, uint64_t attribute);

/* RAM: a kind below MEMBLOCK_MMIO, but not soft reserved (RAM, but not
 * ours: see memblock.c).  Reserved may be a device or a hole
 * (PCIe ECAM, the AMD HyperTransport hole), Unusable is broken, and
 * Unaccepted must not be touched before it is accepted. */
bool memblock_is_ram(const struct memblock_range *r);

/* RAM the direct map covers: RAM whose attributes allow write-back.
 * RAM that must not be cached write-back is left to mappings with its
 * own memory type (one page, two memory types: Intel SDM 3A, 11.12.4). */
bool memblock_is_wb_ram(const struct memblock_range *r);

/* Free write-back RAM: what the frame allocator takes. */
bool memblock_is_free_wb(const struct memblock_range *r);

/* 4 KiB pages of r. */
uint64_t memblock_pages(const struct memblock_range *r);

/* A half-open range [start, end) of physical addresses. */
struct memblock_span {
	uint64_t start;
	uint64_t end;
};

/*
 * The pieces of write-back RAM (memblock_is_wb_ram ranges, touching ones
 * joined: LoaderData next to Conventional is one piece), in address
 * order.  Start with *i = 0; each call gives the next piece in *out and
 * returns true, or false at the end.
 *
 *     for (size_t i = 0; memblock_next_ram(mb, &i, &span);)
 *             use(span);
 */
bool memblock_next_ram(const struct memblock *mb, size_t *i, struct memblock_span *out);

/* What the kernel prints at boot (kernel/memsummary.c). */
struct memblock_summary {
	uint64_t pages[EFI_MEM_NTYPES]; /* pages per EFI type; overlaps counted once;
					 * soft-reserved pages not counted here */
	uint64_t other_pages;           /* pages of types >= EFI_MEM_NTYPES (OEM/OS) */
	uint64_t soft_reserved_pages;   /* Conventional or BootServices pages kept
					 * back for EFI_MEM_ATTR_SP */
	size_t runtime_ranges;          /* ranges with EFI_MEM_ATTR_RUNTIME */
	uint64_t ram_end;               /* highest end of a RAM range, bytes; 0: none */
};

/* Fill *out from the list (what the boot summary prints). */
void memblock_summarize(const struct memblock *mb, struct memblock_summary *out);

#endif
