/*
 * layout.h - the kernel address space, written down once.  Units: bytes.
 *
 *  0xFFFFFFFFFFFFFFFF +---------------------------------+
 *                     | slot 511: unused (a future      |
 *  0xFFFFFF8000000000 |   -2 GiB kernel image)          |
 *                     +---------------------------------+
 *  IST_STACK_TOP      | double-fault stack, RW NX       |  guard page(s)
 *                     |   (unmapped gap below)          |  below each
 *  KSTACK_TOP         | kernel stack, RW NX             |  stack: never
 *  0xFFFFFF0000000000 |   (unmapped gap below)          |  mapped
 *                     +---------------------------------+
 *  0xFFFFFE0000000000 | framebuffer window, RW NX WC    |
 *                     +---------------------------------+
 *  0xFFFFC00000000000 | (unused)                        |
 *                     +---------------------------------+
 *  DIRECT_MAP_BASE    | direct map of RAM only (holes   |
 *  0xFFFF800000000000 |   unmapped), RW NX              |
 *                     +=================================+
 *                     | non-canonical hole              |
 *                     +=================================+
 *  0x00007FFFFFFFFFFF | (unused)                        |
 *  HEAP_START + MAX   +---------------------------------+
 *                     | kernel heap window: reserved,   |
 *  HEAP_START         |   mapped page by page by kernel |
 *  0x0000444444440000 +---------------------------------+
 *                     | identity (VA == PA): the image  |
 *                     |   W^X, UEFI runtime regions,    |
 *                     |   ranges the kernel asks to keep|
 *  0x0000000000001000 +---------------------------------+
 *  0x0000000000000000 | page 0: never mapped (NULL)     |
 *                     +---------------------------------+
 *
 * docs/memory-layout.md has the same picture with every region's flags.
 */
#ifndef PAGING_LAYOUT_H
#define PAGING_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot_info.h"
#include "memblock.h"
#include "mmu.h"

/* Direct map: physical address p is at DIRECT_MAP_BASE + p. */
#define DIRECT_MAP_BASE 0xFFFF800000000000ull
#define DIRECT_MAP_MAX (64ull << 40)           /* 64 TiB: PML4 slots 256..383 */

#define FB_WINDOW_BASE 0xFFFFFE0000000000ull   /* PML4 slot 508 */
#define FB_WINDOW_MAX (1ull << 30)

/*
 * How many rows of fb's mode the framebuffer window can map: fb->height
 * when its whole span (framebuffer_bytes, from base % PAGE_SIZE on)
 * fits in FB_WINDOW_MAX and ends below the 52-bit physical address
 * limit; else the whole scan lines that do; 0 when none does.
 * layout_build refuses a framebuffer that does not fit whole; the
 * loader keeps only the rows that fit (efi/fwcheck.c), before the exit,
 * so the two cannot disagree.
 */
static inline uint32_t layout_framebuffer_rows(const struct framebuffer *fb)
{
	uint64_t row = (uint64_t)fb->stride * 4;
	uint64_t room = FB_WINDOW_MAX - fb->base % PAGE_SIZE;

	if (row == 0 || fb->base >= PHYS_ADDR_LIMIT)
		return 0;
	if (room > PHYS_ADDR_LIMIT - fb->base)
		room = PHYS_ADDR_LIMIT - fb->base;
	return room / row < fb->height ? (uint32_t)(room / row) : fb->height;
}

/* Stacks grow down from their TOP; the 1 MiB below each is never mapped. */
#define STACK_REGION_BASE 0xFFFFFF0000000000ull /* PML4 slot 510 */
#define KSTACK_TOP (STACK_REGION_BASE + 0x200000)
#define KSTACK_MAX (1ull << 20)
#define IST_STACK_TOP (STACK_REGION_BASE + 0x400000)
#define IST_STACK_MAX (1ull << 20)

/* Kernel heap window: not mapped by layout_build; the kernel maps pages
 * [HEAP_START, HEAP_START + n * 4096) RW NX as the heap grows. */
#define HEAP_START 0x444444440000ull
#define HEAP_MAX (1ull << 30)
#define HEAP_END (HEAP_START + HEAP_MAX)

/* Frames the page tables for `bytes` more of the heap window can take,
 * wherever in it they start: a page table per 2 MiB begun and a page
 * directory per 1 GiB begun (the start may fall inside either), and a
 * directory-pointer table (the window lies in one PML4 slot). */
static inline uint64_t layout_heap_tables(uint64_t bytes)
{
	return (bytes >> 21) + 2 + (bytes >> 30) + 2 + 1;
}

/* The kernel's stacks: the only physically contiguous memory it needs
 * besides the frame allocator's bookkeeping (and a large region table). */
#define LAYOUT_KSTACK_SIZE (64ull << 10)
#define LAYOUT_IST_STACK_SIZE (16ull << 10)

/*
 * The region table is sized from the map (layout_table_rows): each
 * map_best call makes at most five rows (runs of 4K, 2M, 1G, 2M, 4K
 * pages), one call per piece of RAM and per runtime region.  Up to
 * LAYOUT_STATIC_REGIONS rows it lives in the image; a bigger one (a
 * fragmented map) in contiguous frames.  No map has too many pieces.
 */
#define LAYOUT_STATIC_REGIONS 512
#define LAYOUT_MAX_KEEP 8

/* A half-open range [start, end) of addresses; start == end: empty. */
struct layout_span {
	uint64_t start;
	uint64_t end;
};

/* A range the kernel still reaches by its physical address after the
 * switch (e.g. the memory-map buffer): identity-mapped RW NX. */
struct layout_keep {
	const char *name;
	uint64_t base;
	uint64_t size;
};

struct layout_input {
	const struct memblock *map;     /* the memory list (memblock.h) */
	const struct boot_info *boot;   /* framebuffer, MAT, image base and size */
	struct layout_span image;       /* whole loaded image; {0,0}: boot's */
	struct layout_span text;        /* mapped R+X */
	struct layout_span rodata;      /* mapped R, NX (may be empty) */
	struct layout_span data;        /* .data through .bss: RW, NX */
	uint64_t kstack_size;           /* > 0, multiple of 4096, <= KSTACK_MAX */
	uint64_t ist_stack_size;        /* 0: none; else as kstack_size */
	struct layout_keep keep[LAYOUT_MAX_KEEP];
	size_t nkeep;
	bool nx;                        /* CPUID says NX and EFER.NXE is set */
	bool gb_pages;                  /* CPUID says 1 GiB pages */
	bool rt_code_rx;                /* no MAT: map runtime code RX, not RWX */
	bool pat;                       /* PAT_KERNEL (mmu.h) is loaded, so
					 * VM_WRITECOMBINE is WC */
};

/* What layout_build made, for the kernel to switch to. */
struct layout_out {
	uint64_t pml4;                  /* load into CR3 */
	uint64_t kstack_top;            /* load into RSP (KSTACK_TOP) */
	uint64_t kstack_phys;           /* frames behind the stack */
	uint64_t kstack_guard;          /* an unmapped page just below it */
	uint64_t ist_stack_top;         /* for TSS.IST1, or 0 */
	uint64_t ist_stack_phys;
	uint64_t ist_stack_guard;
	uint64_t fb_va;                 /* framebuffer's first byte, or 0 */
	uint64_t direct_map_size;       /* bytes of RAM mapped at DIRECT_MAP_BASE:
					 * the sum of the merged RAM ranges, holes
					 * not counted (the highest RAM address is
					 * memblock_summary.ram_end) */
	size_t page_tables;             /* page-table frames, PML4 included */
	uint64_t table_pa;              /* region table in frames, or 0: static */
	uint64_t table_frames;          /* frames it took (0: static) */
	uint64_t rwx_pages;             /* 4 KiB pages mapped writable and
					 * executable (0 with NX off) */
	size_t mat_entries;             /* entries of the memory attributes
					 * table used; 0: none used */
	bool mat_invalid;               /* a table was given but is malformed */
};

/*
 * One row of the table of everything layout_build mapped: a run of pages
 * of one size with the same flags, contiguous in both va and pa.  Rows
 * never mix page sizes, so any byte of a row translates with its flags.
 */
struct layout_region {
	const char *name;
	uint64_t va;
	uint64_t pa;
	uint64_t size;
	unsigned flags;                 /* VM_* as mapped, page size included */
	bool wx_exempt;                 /* runtime code with no MAT: W+X on purpose */
};

/*
 * Build the kernel address space (sets pt_set_nx_supported(in->nx) and
 * pt_set_1g_supported(in->gb_pages) first).  Maps, recording each piece:
 *   - the direct map: every piece of write-back RAM of the list
 *     (memblock_next_ram: memblock_is_wb_ram ranges, joined) at
 *     DIRECT_MAP_BASE + pa, RW NX global, write-back, with the largest
 *     pages its alignment allows and never a page past the range's end.  Holes (legacy VGA, the PCI hole, Reserved, MMIO,
 *     the framebuffer) stay unmapped.  Each merged range gives 1 to 5
 *     "direct map" rows, one per run of equal page size;
 *   - the image at its running address, page by page: pages overlapping
 *     text R+X, else data RW NX, else R NX (rodata, headers, relocations);
 *   - the kernel stack (and the double-fault stack) in fresh contiguous
 *     frames below KSTACK_TOP (IST_STACK_TOP), RW NX, guard below;
 *   - every EFI_MEM_ATTR_RUNTIME range identity-mapped with the memory
 *     type its attributes allow (layout_memory_type).  MMIO: RW NX.
 *     Runtime code and data: as the EFI memory attributes table in
 *     boot->mat says, entry by entry (RO: no write, XP: no execute);
 *     what no entry covers, and everything when there is no usable
 *     table, gets code RWX (wx_exempt only when there is no table; RX
 *     with rt_code_rx) and data RW NX;
 *   - the framebuffer at FB_WINDOW_BASE + (base % 4096), RW NX, WC (WT
 *     without in->pat): framebuffer_bytes() rounded out to pages; the
 *     keep ranges identity RW NX.
 * Page 0 and the heap window stay unmapped.  The contiguous runs
 * (layout_runs: region table, stacks) are taken first, before any single
 * frame, so that page tables cannot use up the one run a stack needs.
 * The map itself is checked first, before any frame is taken
 * (layout_check_map).  Returns 0, or: VM_EINVAL (bad input, no RAM or
 * RAM above DIRECT_MAP_MAX, a framebuffer over FB_WINDOW_MAX, an
 * identity range touching page 0, a page both text and data), VM_EEXIST
 * (identity ranges collide with each other or with the heap window),
 * VM_ENONCANON (an identity range above 128 TiB), VM_ENOMEM (out of
 * frames, or no run long enough).  On error every frame it took is
 * given back.
 */
int layout_build(const struct layout_input *in, struct layout_out *out);

/* Why layout_check_map refuses a memory list. */
struct layout_refusal {
	const char *what;               /* "RAM", "runtime memory", "the map", "the image" */
	const char *why;                /* "lies beyond the 64 TiB the direct map holds" */
	uint64_t start;                 /* the range [start, end) at fault; */
	uint64_t end;                   /* 0, 0: the map as a whole */
};

/*
 * The memory list's part of layout_build's checks: what no amount of
 * free memory could make it map.  Refuses
 *   - no write-back RAM at all (VM_EINVAL: nothing for a direct map);
 *   - write-back RAM ending above DIRECT_MAP_MAX (VM_EINVAL);
 *   - a runtime range (EFI_MEM_ATTR_RUNTIME), which is identity-mapped,
 *     touching page 0 (VM_EINVAL), overlapping the heap window or the
 *     image (VM_EEXIST: both are mapped too, and the image pages with
 *     their own rights) or ending above 128 TiB, outside the lower
 *     canonical half (VM_ENONCANON);
 *   - an image (also identity-mapped; image: its bytes [start, end),
 *     taken as the pages they lie in, or an empty span for none) that
 *     cannot be, for the same reasons.
 * Returns 0, or the error with *why filled (the first range at fault,
 * in address order, then the image).  layout_build calls it first; the
 * loader's pre-exit plan (plan.h) calls it too, with the image the
 * firmware loaded, so the two cannot disagree.
 */
int layout_check_map(const struct memblock *mb, struct layout_span image,
		     struct layout_refusal *why);

/* Give back all a successful layout_build took: its page tables, stacks
 * and region table (which layout_regions then no longer shows). */
void layout_release(struct layout_out *out);

/*
 * The memory type (0 = write-back, or one VM_CACHE_MASK flag) for a
 * region whose UEFI descriptor has these attribute bits: WB if allowed,
 * else UC if allowed (UC or UCE), else WT, else WC (only when pat says
 * the kernel's PAT is loaded), else UC.
 */
unsigned layout_memory_type(uint64_t attribute, bool pat);

/* The table of regions the last successful layout_build mapped. */
const struct layout_region *layout_regions(size_t *n);

/* Rows layout_build will size its region table for: 5 per piece of RAM,
 * per stack or framebuffer and per piece of a runtime range (one, or
 * with a usable memory attributes table, in bi, up to 2E + 1 for the E
 * entries that overlap it), 7 for the image, one per keep range. */
size_t layout_table_rows(const struct memblock *mb, const struct boot_info *bi);

/* One physically contiguous run layout_build takes; frames 0: none. */
struct layout_run {
	const char *what;               /* "the kernel stack" */
	uint64_t frames;
};

#define LAYOUT_NRUNS 3

/*
 * The runs layout_build takes with frames_alloc_contig, in its order:
 * the region table (when over LAYOUT_STATIC_REGIONS rows), the kernel
 * stack, the double-fault stack.  A check made before ExitBootServices
 * takes the same runs from a dry-run frame allocator.
 */
void layout_runs(const struct memblock *mb, const struct boot_info *bi, uint64_t kstack_size,
		 uint64_t ist_stack_size, struct layout_run runs[LAYOUT_NRUNS]);

/*
 * An upper bound on the page-table frames layout_build needs for this
 * list (generous: 6 a piece of RAM or runtime range, plus the image of
 * bi->image_size bytes, stacks, framebuffer and keep ranges).  For
 * pre-exit checks.
 */
uint64_t layout_tables_bound(const struct memblock *mb, const struct boot_info *bi);

/*
 * Check W^X over the whole space, not just the table: walk every present
 * leaf of pml4 (all four levels, large pages included) and count in *bad
 * the leaves that are writable and executable, unless the leaf lies
 * wholly inside a wx_exempt row of the last layout_build (runtime code
 * of firmware that published no memory attributes table).  Mappings
 * made after layout_build (the heap, anything else) are checked too.  With NX off nothing can be non-executable, so
 * nothing is counted.  Returns true when *bad == 0.
 */
bool layout_verify(uint64_t pml4, size_t *bad);

#endif
