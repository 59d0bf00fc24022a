/*
 * pagetable.h - x86-64 4-level page tables: build, change and read an
 * address space.  An address space is named by the physical address of its
 * PML4; every table is one frame from frames.h, reached with phys_to_virt.
 * Mappings use 4 KiB, 2 MiB or 1 GiB pages.  Units: bytes; ranges are
 * half-open, [va, va + size).
 *
 * Rules every call keeps:
 *   - nothing is ever silently overwritten: a map that overlaps any
 *     existing mapping, at any level, fails with VM_EEXIST;
 *   - a call that fails changes nothing and leaks no frame (a map that runs
 *     out of frames half-way undoes what it did);
 *   - intermediate entries are present+writable (+user when a user page
 *     lives below them), so the leaf alone decides the access rights;
 *   - tables that an unmap leaves empty are freed, at every level below
 *     the PML4, or gathered for the caller to free after its TLB
 *     shootdown (pt_unmap_gather).  (If PML4 entries are ever shared
 *     between spaces, this must change.)
 * paging/ has no inline asm: after pt_unmap (or a flag change) on a live
 * space the caller must invlpg every page of the range, or reload CR3.
 */
#ifndef PAGING_PAGETABLE_H
#define PAGING_PAGETABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Our flag set; the PTE bits behind them live in mmu.h. */
enum pt_flag {
	VM_READ = 0,               /* every mapping can be read */
	VM_WRITE = 1u << 0,
	VM_EXEC = 1u << 1,         /* absent: no-execute (when NX is on) */
	VM_USER = 1u << 2,         /* ring 3 may access */
	VM_NOCACHE = 1u << 3,      /* strong uncached, UC (PAT index 3): MMIO */
	VM_WRITETHROUGH = 1u << 4, /* write-through, WT (PAT index 1) */
	VM_GLOBAL = 1u << 5,       /* kept in the TLB across CR3 loads */
	VM_PAGE_2M = 1u << 6,      /* page size; neither bit: 4 KiB */
	VM_PAGE_1G = 1u << 7,
	VM_WRITECOMBINE = 1u << 8, /* write-combining, WC (PAT index 4): the
				    * framebuffer; needs PAT_KERNEL loaded */
};
#define VM_PAGE_MASK (VM_PAGE_2M | VM_PAGE_1G)
/* The memory type: none of these bits is write-back; at most one is set. */
#define VM_CACHE_MASK (VM_NOCACHE | VM_WRITETHROUGH | VM_WRITECOMBINE)

/*
 * CPU features, set by the kernel after CPUID (both start false).  NX off:
 * bit 63 is never written and every page is executable.  1G off: a map
 * with VM_PAGE_1G fails with VM_ENOTSUP.
 */
void pt_set_nx_supported(bool on);
void pt_set_1g_supported(bool on);
bool pt_nx_supported(void);
bool pt_1g_supported(void);

/* Bytes in a page of the size flags names: 4096, 2 MiB or 1 GiB. */
uint64_t pt_page_size(unsigned flags);

/* A new, empty address space: the physical address of a zeroed PML4, or 0
 * when out of frames. */
uint64_t pt_new_space(void);

/* Free every page-table frame of the space, the PML4 included.  The frames
 * the space maps are not touched. */
void pt_free_space(uint64_t pml4);

/*
 * Map [va, va + size) to [pa, pa + size) with pages of the size in flags.
 * va, pa and size must be multiples of that page size, size > 0.
 * Returns 0 or:
 *   VM_EINVAL    pml4 0 or misaligned, misaligned va/pa/size, size 0,
 *                unknown flags, both page sizes, two memory types,
 *                pa + size beyond 2^52;
 *   VM_ENONCANON va range not wholly inside one canonical half;
 *   VM_ENOTSUP   VM_PAGE_1G without pt_set_1g_supported(true);
 *   VM_EEXIST    some part of the range is already mapped (any page size);
 *   VM_ENOMEM    out of frames for a table.
 * On any error the space is as it was before the call.
 */
int pt_map(uint64_t pml4, uint64_t va, uint64_t pa, uint64_t size, unsigned flags);

/*
 * Unmap [va, va + size) (4 KiB aligned, size > 0), whatever page sizes map
 * it, and free tables left empty.  Returns 0 or: VM_EINVAL (bad pml4,
 * misaligned, size 0), VM_ENONCANON, VM_ENOENT (a page in the range is not
 * mapped), VM_ESPLIT (the range covers only part of a 2M/1G page).  All or
 * nothing: on error nothing is unmapped.  The frames that were mapped are
 * not freed: they belong to the caller.
 */
int pt_unmap(uint64_t pml4, uint64_t va, uint64_t size);

/*
 * Page-table frames an unmap emptied and unlinked, kept from the frame
 * allocator until every CPU that ran on the space has flushed its TLB.
 * A CPU caches the tables of a walk (the paging-structure caches) as
 * well as its leaves, and may keep walking a table after its parent
 * entry is gone, until invlpg or a CR3 load drops it.  Freed at once,
 * the frame could be handed out and filled with data that such a walk
 * would read as entries.  Linux's mmu_gather waits the same way.
 * Start one with PT_GATHER_INIT.
 */
struct pt_gather {
	uint64_t head;  /* the last table gathered; its entry 0 names the one before */
	uint64_t count; /* tables gathered */
};
#define PT_GATHER_INIT { 0, 0 }

/* pt_unmap, but the tables it empties go on *g, not back to the frame
 * allocator: for a space other CPUs may be using.  Same errors. */
int pt_unmap_gather(uint64_t pml4, uint64_t va, uint64_t size, struct pt_gather *g);

/* Give g's tables back to the frame allocator; g is empty again.  Call
 * it once every TLB that may have walked them has been flushed. */
void pt_gather_free(struct pt_gather *g);

/*
 * Look va up.  On success stores the physical address va maps to in *pa
 * and the effective flags in *flags (what the CPU would allow, including
 * VM_PAGE_2M / VM_PAGE_1G for the page size); either pointer may be NULL.
 * Returns 0, VM_ENONCANON, or VM_ENOENT when nothing maps va.
 */
int pt_translate(uint64_t pml4, uint64_t va, uint64_t *pa, unsigned *flags);

/* True when va is mapped in the space. */
bool pt_is_mapped(uint64_t pml4, uint64_t va);

/* One present leaf entry, as pt_for_each_leaf reports it. */
struct pt_leaf {
	uint64_t va;     /* first byte mapped (upper half sign-extended) */
	uint64_t pa;     /* physical address of that byte */
	uint64_t size;   /* page size: 4096, 2 MiB or 1 GiB */
	unsigned flags;  /* effective flags, as pt_translate reports them */
};

typedef void pt_leaf_fn(const struct pt_leaf *leaf, void *ctx);

/*
 * Call fn(leaf, ctx) once for every present leaf of the space, 4 KiB,
 * 2 MiB and 1 GiB alike, in increasing order of the 48-bit index (lower
 * half first, then upper half).  fn must not change the space.
 */
void pt_for_each_leaf(uint64_t pml4, pt_leaf_fn *fn, void *ctx);

/* Page-table frames the space uses, the PML4 included. */
size_t pt_count_tables(uint64_t pml4);

#endif
