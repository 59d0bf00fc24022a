/*
 * fuzz_memmap.c - libFuzzer target for the memory-map path: the memory
 * list (paging/memblock.c), the frame allocator's seeding and hand-out
 * (paging/frames.c) and the layout builder (paging/layout.c), over
 * simulated physical memory (test/host/fixtures/sim.h).
 *
 * The input is a 16-byte header (struct hdr below: descriptor size and
 * what to ask of the layout) followed by the raw map bytes, so any
 * descriptor size, order, overlap, length, type and attribute can occur.
 * The map's size is rounded down to whole descriptors unless the header
 * asks for the raw size (OPT_RAW_SIZE), which memblock_build must refuse.
 * Each run, in order:
 *   1. memblock_build (in a copy of the map) refuses exactly the maps
 *      the model calls bad, with VM_EINVAL; otherwise its list is sorted,
 *      disjoint, non-empty, 4 KiB aligned and merged, and equal, row for
 *      row, to a model written from memblock.h's rule in another way (a
 *      sweep from edge to edge, the owner of each stretch chosen among
 *      all descriptors), unless the map's overlaps split more ranges than
 *      its buffer holds (VM_ENOMEM: never for a map without overlaps);
 *      memblock_summarize adds up the list;
 *   2. if the list's free memory lies inside the simulated 8 GiB:
 *      frames_init; its bitmap sits in free memory; the frames it manages
 *      are exactly the model's (free write-back rows, not frame 0, not
 *      the bitmap);
 *   3. if the RAM and runtime regions lie below 64 GiB (so the tables stay
 *      small): layout_build; W^X holds, the direct map holds all RAM and
 *      nothing else; page 0 and the heap window stay unmapped; tearing it
 *      down gives every frame back;
 *   4. frames_reserve of a chosen range (before the layout, or after it
 *      when the header says so), then frames_alloc until
 *      exhaustion: every frame is one the model allows and none comes
 *      twice; frees and double frees behave.
 * Every refusal must be one of the error codes the contract names.  A
 * failed check calls abort(), which libFuzzer reports with the input.
 */
#define _DEFAULT_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures/sim.h"
#include "frames.h"
#include "fixtures/frames_reserve.h"
#include "layout.h"
#include "memblock.h"
#include "memmap.h"
#include "mmu.h"
#include "pagetable.h"
#include "vmerr.h"
#include "fuzz_check.h"

#define SIM_BYTES (8ull << 30)          /* simulated physical memory */
#define SIM_FRAMES (SIM_BYTES / PAGE_SIZE)
#define LAYOUT_LIMIT (64ull << 30)      /* RAM and runtime below this: build */
#define SMALL_PAGES 4096                /* image and keep ranges at most 16 MiB */
#define KEEP_FREED 64                   /* frames freed and taken again */

/* The header, little-endian, before the map bytes. */
struct hdr {
	uint16_t desc_size;     /* any value: the walker must refuse bad ones */
	uint8_t opts;           /* OPT_* */
	uint8_t kstack_pages;   /* kstack_size = (this % 17) pages: 0 is refused */
	uint8_t unused;         /* was: a buffer size for a raw-map walker */
	uint8_t reserve_desc;   /* frames_reserve starts at this descriptor */
	uint16_t reserve_pages; /* ... for (this % 1024) pages; bit 15: after layout */
	uint8_t fb_desc;        /* framebuffer at this descriptor's start ... */
	uint8_t fb_off;         /* ... plus 64 * this bytes */
	uint8_t fb_w, fb_h;     /* stride 8 * w pixels, 4 * h lines */
	uint8_t nfree;          /* frames to free and take again after exhaustion */
	uint8_t pad[3];
};

enum {
	OPT_NX = 1 << 0, OPT_GB = 1 << 1, OPT_RT_RX = 1 << 2, OPT_IST = 1 << 3,
	OPT_FB = 1 << 4, OPT_KEEP = 1 << 5, OPT_RAW_SIZE = 1 << 6,
};

/* The model: which frames of the simulated memory may be handed out. */
static uint8_t *allowed;        /* one byte per frame */
static uint8_t *seen;           /* one byte per frame: handed out this run */
static uint64_t model_frames;   /* frames with allowed[] set */
static uint64_t dirty;          /* frames of allowed[] and seen[] in use */

static bool model_desc_ok(const struct efi_mem_desc *d)
{
	return d->phys_start % PAGE_SIZE == 0 &&
	       d->num_pages <= (UINT64_MAX - d->phys_start) / PAGE_SIZE;
}

/* What memmap_check should say, written from its contract. */
static bool model_map_ok(const struct boot_info *bi)
{
	if (bi->desc_size < 40 || bi->desc_size % 8 || bi->mmap_size == 0 ||
	    bi->mmap_size % bi->desc_size)
		return false;
	for (size_t i = 0; i < bi->mmap_size / bi->desc_size; i++)
		if (!model_desc_ok(boot_info_desc(bi, i)))
			return false;
	return true;
}

/* The model's list and the real one, for this run. */
/* The model's own statement of "RAM": below MMIO, not soft reserved. */
static bool model_ram_kind(uint32_t kind)
{
	return kind < MEMBLOCK_MMIO && kind != MEMBLOCK_SOFT_RESERVED;
}

static struct memblock_range *model;
static size_t model_n;
static struct memblock list;
static void *list_buf;

static int by_value(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return (*x > *y) - (*x < *y);
}

/* Every start and end of a non-empty descriptor, sorted, duplicates
 * removed, into e (room for 2 per descriptor); returns how many. */
static size_t model_edges(const struct boot_info *bi, uint64_t *e)
{
	size_t n = 0, k = 0;

	for (size_t i = 0; i < memmap_count(bi); i++) {
		const struct efi_mem_desc *d = memmap_desc(bi, i);
		if (d->num_pages) {
			e[n++] = d->phys_start;
			e[n++] = memmap_end(d);
		}
	}
	qsort(e, n, sizeof(*e), by_value);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || e[i] != e[k - 1])
			e[k++] = e[i];
	return k;
}

/* Descriptor i beats j (both cover the same byte) by memblock.h's rule:
 * the stronger kind, the larger type, the larger attribute word (of the
 * bits a row keeps). */
static bool model_beats(const struct boot_info *bi, size_t i, size_t j)
{
	const struct efi_mem_desc *a = memmap_desc(bi, i), *b = memmap_desc(bi, j);
	uint32_t ka = memblock_kind_of(a->type, a->attribute);
	uint32_t kb = memblock_kind_of(b->type, b->attribute);

	if (ka != kb)
		return ka > kb;
	if (a->type != b->type)
		return a->type > b->type;
	return (a->attribute & MEMBLOCK_ATTRS) > (b->attribute & MEMBLOCK_ATTRS);
}

/* The descriptor that owns byte pa, or SIZE_MAX if none covers it. */
static size_t model_owner(const struct boot_info *bi, uint64_t pa)
{
	size_t best = SIZE_MAX;

	for (size_t i = 0; i < memmap_count(bi); i++) {
		const struct efi_mem_desc *d = memmap_desc(bi, i);
		if (d->phys_start <= pa && pa < memmap_end(d) &&
		    (best == SIZE_MAX || model_beats(bi, i, best)))
			best = i;
	}
	return best;
}

/* Append [start, end) owned by d to the model, merged as memblock does. */
static void model_emit(uint64_t start, uint64_t end, const struct efi_mem_desc *d)
{
	uint64_t attr = d->attribute & MEMBLOCK_ATTRS;
	struct memblock_range *last = model_n ? &model[model_n - 1] : NULL;

	if (last && last->end == start && last->type == d->type && last->attribute == attr) {
		last->end = end;
		return;
	}
	model[model_n++] = (struct memblock_range){ start, end, attr, d->type,
						    memblock_kind_of(d->type, d->attribute) };
}

/* The model list: between two neighbouring edges one owner holds all. */
static void model_build(const struct boot_info *bi)
{
	uint64_t *e = calloc(2 * memmap_count(bi) + 1, sizeof(*e));
	size_t n = model_edges(bi, e);

	model = calloc(n + 1, sizeof(*model));
	model_n = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		size_t o = model_owner(bi, e[i]);
		if (o != SIZE_MAX)
			model_emit(e[i], e[i + 1], memmap_desc(bi, o));
	}
	free(e);
}

/* Do two non-empty descriptors overlap? */
static bool any_overlap(const struct boot_info *bi)
{
	for (size_t i = 0; i < memmap_count(bi); i++)
		for (size_t j = i + 1; j < memmap_count(bi); j++) {
			const struct efi_mem_desc *a = memmap_desc(bi, i), *b = memmap_desc(bi, j);
			if (a->num_pages && b->num_pages && a->phys_start < memmap_end(b) &&
			    b->phys_start < memmap_end(a))
				return true;
		}
	return false;
}

/* The invariants every list keeps, whatever the map. */
static void check_well_formed(const struct memblock *mb)
{
	for (size_t i = 0; i < mb->n; i++) {
		const struct memblock_range *r = &mb->r[i], *p = i ? r - 1 : NULL;
		CHECK(r->start < r->end && (r->start | r->end) % PAGE_SIZE == 0);
		CHECK(r->kind == memblock_kind_of(r->type, r->attribute) && !(r->attribute & ~MEMBLOCK_ATTRS));
		CHECK(!p || p->end <= r->start); /* sorted and disjoint */
		CHECK(!p || p->end != r->start || p->type != r->type || p->attribute != r->attribute);
	}
}

/* memblock_summarize against the list, row by row. */
static void check_summary(const struct memblock *mb)
{
	struct memblock_summary s, m;

	memset(&m, 0, sizeof(m));
	for (size_t i = 0; i < mb->n; i++) {
		const struct memblock_range *r = &mb->r[i];
		uint64_t pages = (r->end - r->start) / PAGE_SIZE;
		if (r->kind == MEMBLOCK_SOFT_RESERVED)
			m.soft_reserved_pages += pages;
		else if (r->type < EFI_MEM_NTYPES)
			m.pages[r->type] += pages;
		else
			m.other_pages += pages;
		m.runtime_ranges += (r->attribute & EFI_MEM_ATTR_RUNTIME) != 0;
		if (model_ram_kind(r->kind) && r->end > m.ram_end)
			m.ram_end = r->end;
	}
	memblock_summarize(mb, &s);
	CHECK(memcmp(&s, &m, sizeof(s)) == 0);
}

/* Stage 1: the list of a copy of bi's map.  True when there is one. */
static bool check_list(const struct boot_info *bi, bool ok)
{
	struct boot_info copy = *bi;

	list_buf = copy.mmap = malloc(bi->mmap_size ? bi->mmap_size : 1);
	memcpy(copy.mmap, bi->mmap, bi->mmap_size);
	int err = memblock_build(&copy, &list);
	if (!ok) {
		CHECK(err == VM_EINVAL && list.n == 0 && copy.mmap_size == bi->mmap_size);
		return false;
	}
	CHECK(copy.mmap_size == 0 && list.descs == memmap_count(bi));
	if (err) {
		CHECK(err == VM_ENOMEM && any_overlap(bi));
		return false;
	}
	check_well_formed(&list);
	model_build(bi);
	CHECK(list.n == model_n && memcmp(list.r, model, model_n * sizeof(*model)) == 0);
	check_summary(&list);
	return true;
}

/* The pieces of write-back RAM (memblock_next_ram), from the model,
 * into r (room for model_n); returns how many. */
static size_t model_ram(struct memblock_span *r)
{
	size_t k = 0;

	for (size_t i = 0; i < model_n; i++) {
		const struct memblock_range *m = &model[i];
		if (!model_ram_kind(m->kind) || !(m->attribute & EFI_MEM_ATTR_WB))
			continue;
		if (k && r[k - 1].end == m->start)
			r[k - 1].end = m->end;
		else
			r[k++] = (struct memblock_span){ m->start, m->end };
	}
	return k;
}

/* Does every free row (or, !free_only, every RAM or runtime row: what
 * layout_build maps) end at or below limit? */
static bool all_below(uint64_t limit, bool free_only)
{
	for (size_t i = 0; i < model_n; i++) {
		const struct memblock_range *m = &model[i];
		bool mapped = model_ram_kind(m->kind) || (m->attribute & EFI_MEM_ATTR_RUNTIME);
		bool counts = free_only ? m->kind == MEMBLOCK_FREE : mapped;
		if (counts && m->end > limit)
			return false;
	}
	return true;
}

/* Set allowed[f] = on for the frames of [start, end) inside the window. */
static void paint(uint64_t start, uint64_t end, bool on)
{
	if (start >= SIM_BYTES)
		return;
	if (end > SIM_BYTES)
		end = SIM_BYTES;
	memset(allowed + start / PAGE_SIZE, on, (end - start) / PAGE_SIZE);
}

/* The frames frames.h promises: the model's free write-back rows (frames
 * are reached through the direct map), never frame 0. */
static void model_frames_build(void)
{
	/* Only the frames below the last run's highest free end can be
	 * dirty: clearing just those keeps small maps fast. */
	memset(allowed, 0, dirty);
	memset(seen, 0, dirty);
	dirty = 0;
	for (size_t i = 0; i < model_n; i++) {
		const struct memblock_range *m = &model[i];
		if (m->kind != MEMBLOCK_FREE || !(m->attribute & EFI_MEM_ATTR_WB))
			continue;
		paint(m->start, m->end, true);
		if (m->end / PAGE_SIZE > dirty)
			dirty = m->end / PAGE_SIZE;
	}
	allowed[0] = 0;
	model_frames = 0;
	for (uint64_t f = 0; f < dirty; f++)
		model_frames += allowed[f];
}

/* Stage 2: seed the allocator; its frames must be the model's. */
static bool check_init(void)
{
	struct frames_stats st;
	int err = frames_init(&list);

	model_frames_build();
	if (err) {
		CHECK(err == VM_ENOMEM && frames_free_count() == 0 && frames_alloc() == 0);
		return false;
	}
	frames_get_stats(&st);
	CHECK(st.meta_frames > 0 && st.meta_pa % PAGE_SIZE == 0);
	for (uint64_t k = 0; k < st.meta_frames; k++) {
		uint64_t f = st.meta_pa / PAGE_SIZE + k;
		CHECK(f < SIM_FRAMES && allowed[f]); /* the bookkeeping is in free RAM */
		allowed[f] = 0;
	}
	model_frames -= st.meta_frames;
	CHECK(st.free == st.total);
	CHECK(st.total == model_frames); /* no frame dropped, none invented */
	return true;
}

/* Model frames in [base, base + size), rounded out, as frames_reserve
 * would take them. */
static uint64_t model_count(uint64_t base, uint64_t size, bool clear)
{
	uint64_t n = 0, f = base / PAGE_SIZE;
	uint64_t e = (base + size + PAGE_SIZE - 1) / PAGE_SIZE;

	for (; f < e && f < SIM_FRAMES; f++) {
		n += allowed[f];
		if (clear)
			allowed[f] = 0;
	}
	return n;
}

/* Stage 4a: reserve a range.  Before anything was handed out, VM_EBUSY
 * is impossible; a refusal changes nothing. */
static void check_reserve(const struct boot_info *bi, const struct hdr *h, bool fresh)
{
	const struct efi_mem_desc *d = memmap_desc(bi, h->reserve_desc % memmap_count(bi));
	uint64_t base = d->phys_start, size = (h->reserve_pages % 1024) * PAGE_SIZE;
	uint64_t before = frames_free_count();
	int err = frames_reserve(base, size);

	if (size == 0)
		CHECK(err == VM_EINVAL);
	if (err) {
		CHECK(err == VM_EINVAL || err == VM_ENOMEM || (err == VM_EBUSY && !fresh));
		CHECK(frames_free_count() == before);
		return;
	}
	uint64_t taken = model_count(base, size, true);
	if (base + size > base)
		CHECK(before - frames_free_count() == taken);
	model_frames -= taken;
}

/* Stage 4b: take every frame, checking each; give some back and take
 * them again (LIFO); free errors. */
static void check_exhaust(const struct hdr *h)
{
	uint64_t want = frames_free_count(), got = 0, pa;
	uint64_t keep[KEEP_FREED];
	size_t nkeep = h->nfree % (KEEP_FREED + 1), k = 0;

	while ((pa = frames_alloc()) != 0) {
		uint64_t f = pa / PAGE_SIZE;
		CHECK(pa % PAGE_SIZE == 0 && f < SIM_FRAMES && allowed[f] && !seen[f]);
		seen[f] = 1;
		if (k < nkeep)
			keep[k++] = pa;
		got++;
	}
	CHECK(got == want && frames_free_count() == 0);
	CHECK(frames_alloc() == 0 && frames_alloc_contig(1) == 0);
	CHECK(frames_free(0) == VM_EINVAL && frames_free(PAGE_SIZE + 1) == VM_EINVAL);
	for (size_t i = 0; i < k; i++) {
		CHECK(frames_is_allocated(keep[i]));
		CHECK(frames_free(keep[i]) == 0 && frames_free(keep[i]) == VM_EEXIST);
		CHECK(!frames_is_allocated(keep[i]));
	}
	CHECK(frames_free_count() == k);
	for (size_t i = k; i > 0; i--) /* LIFO: the last freed comes first */
		CHECK(frames_alloc() == keep[i - 1]);
	CHECK(frames_alloc() == 0);
}

/* The first non-empty descriptor of type at most SMALL_PAGES long. */
static const struct efi_mem_desc *small_desc(const struct boot_info *bi, uint32_t type)
{
	for (size_t i = 0; i < memmap_count(bi); i++) {
		const struct efi_mem_desc *d = memmap_desc(bi, i);
		if (d->type == type && d->num_pages && d->num_pages <= SMALL_PAGES)
			return d;
	}
	return NULL;
}

/* The layout input: the image is the first small LoaderCode region (half
 * text, a quarter rodata, the rest data), else one text page at 1 MiB. */
static void make_input(const struct boot_info *bi, const struct hdr *h, struct layout_input *in)
{
	const struct efi_mem_desc *img = small_desc(bi, EFI_MEM_LOADER_CODE);
	const struct efi_mem_desc *ld = small_desc(bi, EFI_MEM_LOADER_DATA);

	memset(in, 0, sizeof(*in));
	in->map = &list;
	in->boot = bi;
	in->kstack_size = (h->kstack_pages % 17) * PAGE_SIZE;
	in->ist_stack_size = (h->opts & OPT_IST) ? 4 * PAGE_SIZE : 0;
	in->nx = h->opts & OPT_NX;
	in->gb_pages = h->opts & OPT_GB;
	in->rt_code_rx = h->opts & OPT_RT_RX;
	in->text = (struct layout_span){ 0x100000, 0x101000 };
	if (img) {
		uint64_t s = img->phys_start, e = memmap_end(img);
		uint64_t t = s + ((img->num_pages + 1) / 2) * PAGE_SIZE;
		uint64_t r = t + (img->num_pages / 4) * PAGE_SIZE;
		in->image = (struct layout_span){ s, e };
		in->text = (struct layout_span){ s, t };
		in->rodata = (struct layout_span){ t, r };
		in->data = (struct layout_span){ r, e };
	}
	if (ld && (h->opts & OPT_KEEP)) {
		in->keep[0] = (struct layout_keep){ "memory map", ld->phys_start,
						    ld->num_pages * PAGE_SIZE };
		in->nkeep = 1;
	}
}

struct dm_count {
	uint64_t bytes;     /* bytes of direct-map leaves */
	bool bad;           /* a direct-map leaf not write-back RW data */
};

/* pt_for_each_leaf callback: add up the direct map's leaves. */
static void count_direct(const struct pt_leaf *leaf, void *ctx)
{
	struct dm_count *c = ctx;

	if (leaf->va < DIRECT_MAP_BASE || leaf->va >= DIRECT_MAP_BASE + DIRECT_MAP_MAX)
		return;
	c->bytes += leaf->size;
	if (leaf->pa != leaf->va - DIRECT_MAP_BASE || !(leaf->flags & VM_WRITE) ||
	    (leaf->flags & (VM_NOCACHE | VM_WRITETHROUGH | VM_USER)))
		c->bad = true;
}

/* Stage 3 checks on a built space: RAM, all of it and only it, in the
 * direct map; W^X; nothing at page 0 or in the heap window. */
static void check_space(const struct layout_out *out)
{
	struct memblock_span *r = calloc(model_n + 1, sizeof(*r));
	size_t n = model_ram(r), bad;
	struct dm_count c = { 0, false };
	uint64_t ram = 0, pa;

	for (size_t i = 0; i < n; i++) {
		ram += r[i].end - r[i].start;
		CHECK(pt_translate(out->pml4, DIRECT_MAP_BASE + r[i].start, &pa, NULL) == 0);
		CHECK(pa == r[i].start);
		CHECK(pt_translate(out->pml4, DIRECT_MAP_BASE + r[i].end - 1, &pa, NULL) == 0);
		CHECK(pa == r[i].end - 1);
	}
	pt_for_each_leaf(out->pml4, count_direct, &c);
	CHECK(!c.bad && c.bytes == ram && out->direct_map_size == ram);
	CHECK(layout_verify(out->pml4, &bad) && bad == 0);
	CHECK(!pt_is_mapped(out->pml4, 0) && !pt_is_mapped(out->pml4, HEAP_START));
	CHECK(pt_count_tables(out->pml4) == out->page_tables);
	free(r);
}

/* Stage 3: build the space, check it, give everything back. */
static void check_layout(const struct boot_info *bi, const struct hdr *h)
{
	struct layout_input in;
	struct layout_out out;
	uint64_t before = frames_free_count();

	make_input(bi, h, &in);
	int err = layout_build(&in, &out);
	if (err) {
		CHECK(err == VM_EINVAL || err == VM_EEXIST || err == VM_ENONCANON ||
		      err == VM_ENOMEM);
		CHECK(frames_free_count() == before && out.pml4 == 0);
		return;
	}
	check_space(&out);
	CHECK(before - frames_free_count() ==
	      out.page_tables + (in.kstack_size + in.ist_stack_size) / PAGE_SIZE);
	pt_free_space(out.pml4);
	CHECK(frames_free_contig(out.kstack_phys, in.kstack_size / PAGE_SIZE) == 0);
	if (in.ist_stack_size)
		CHECK(frames_free_contig(out.ist_stack_phys, in.ist_stack_size / PAGE_SIZE) == 0);
	CHECK(frames_free_count() == before);
}

/* The map bytes after the header, in a buffer of exactly mmap_size bytes
 * so that ASan sees any read past the end. */
static void make_map(struct boot_info *bi, const struct hdr *h, const uint8_t *p, size_t len)
{
	memset(bi, 0, sizeof(*bi));
	bi->desc_size = h->desc_size;
	bi->mmap_size = len;
	if (!(h->opts & OPT_RAW_SIZE) && h->desc_size)
		bi->mmap_size = len / h->desc_size * h->desc_size;
	bi->mmap = malloc(bi->mmap_size ? bi->mmap_size : 1);
	memcpy(bi->mmap, p, bi->mmap_size);
}

/* A framebuffer at a chosen descriptor's start (a map memmap_check took). */
static void make_fb(struct boot_info *bi, const struct hdr *h)
{
	const struct efi_mem_desc *d = memmap_desc(bi, h->fb_desc % memmap_count(bi));
	uint32_t stride = h->fb_w * 8u, height = h->fb_h * 4u;

	bi->fb = (struct framebuffer){ d->phys_start + h->fb_off * 64u,
				       (uint64_t)stride * height * 4, stride, height, stride,
				       FB_BGRX };
}

static void run(const struct hdr *h, const uint8_t *p, size_t len)
{
	struct boot_info bi;

	make_map(&bi, h, p, len);
	bool ok = check_list(&bi, model_map_ok(&bi));
	if (ok && (h->opts & OPT_FB))
		make_fb(&bi, h);
	if (ok && all_below(SIM_BYTES, true) && check_init()) {
		bool late = h->reserve_pages & 0x8000;
		if (!late)
			check_reserve(&bi, h, true);
		if (all_below(LAYOUT_LIMIT, false))
			check_layout(&bi, h);
		if (late)
			check_reserve(&bi, h, false);
		check_exhaust(h);
	}
	free(bi.mmap);
	free(list_buf);
	free(model);
	list_buf = NULL;
	model = NULL;
	model_n = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct hdr h;

	if (!allowed) {
		sim_phys_init(SIM_BYTES);
		allowed = calloc(SIM_FRAMES, 1);
		seen = calloc(SIM_FRAMES, 1);
		CHECK(allowed && seen);
	}
	if (len < sizeof(h))
		return 0;
	memcpy(&h, data, sizeof(h));
	run(&h, data + sizeof(h), len - sizeof(h));
	/* Give the host back every simulated page this run touched. */
	CHECK(madvise(sim_base, SIM_BYTES, MADV_DONTNEED) == 0);
	return 0;
}
