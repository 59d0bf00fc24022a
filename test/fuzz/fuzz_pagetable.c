/*
 * fuzz_pagetable.c - libFuzzer target for paging/pagetable.c: sequences
 * of pt_map / pt_unmap / pt_translate at 4 KiB, 2 MiB and 1 GiB over
 * simulated physical memory (test/host/fixtures/sim.h), checked against
 * a model: the list of leaf pages the space should hold, sorted by va.
 *
 * Input: a 16-byte header (NX on/off, 1 GiB pages on/off, how many frames
 * the allocator gets), then 16-byte operations (struct op below).  After
 * every operation the target checks:
 *   - each call returns exactly the error the model predicts (bad
 *     arguments, non-canonical, overlap at any level, a partial large
 *     page, nothing mapped, out of frames), and a failed call changes
 *     nothing;
 *   - pt_translate agrees with the model on address and flags;
 *   - the page-table frames in use are exactly those the model's leaves
 *     need (one PML4, plus one table per distinct 512 GiB, 1 GiB and
 *     2 MiB region holding smaller pages), so no frame leaks;
 * and at the end that pt_for_each_leaf reports the model's leaves, and
 * that unmapping everything and freeing the space gives back every frame.
 * A failed check calls abort(), which libFuzzer reports with the input.
 *
 * The error precedence (flags, then page size support, then pa, then va)
 * is the order pagetable.c checks in; pagetable.h documents the codes.
 */
#define _DEFAULT_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures/sim.h"
#include "frames.h"
#include "mmu.h"
#include "pagetable.h"
#include "vmerr.h"
#include "fuzz_check.h"

#define SIM_BYTES (8ull << 20)        /* simulated physical memory */
#define MAX_FRAMES 1024               /* the allocator gets 1..this frames */
#define MAX_PAGES 16                  /* pages per map operation */
#define MAX_LEAVES (1 << 16)
#define BAD_FLAG (1u << 15)           /* no VM_* flag uses this bit */

enum { HDR_NX = 1, HDR_GB = 2 };

struct hdr {
	uint8_t opts;           /* HDR_* */
	uint8_t frames[2];      /* frames for the allocator: 1 + this % MAX_FRAMES */
	uint8_t pad[13];
};

enum op_kind { OP_MAP, OP_UNMAP, OP_TRANSLATE, OP_BAD_PML4, OP_COUNT };

/* One operation.  va's top 16 bits: SHAPE_TOP picks sign-extended from
 * bit 47 (canonical), zeros, ones, or the byte top repeated. */
struct op {
	uint8_t kind;           /* enum op_kind, modulo OP_COUNT */
	uint8_t flags;          /* VM_* flags as given */
	uint8_t count;          /* size = (count % 17) pages of the flags' size */
	uint8_t shape;          /* SHAPE_* */
	uint8_t va[6];          /* va bits 47..0, little-endian */
	uint8_t pa[5];          /* pa >> 12, little-endian */
	uint8_t top;
};

enum {
	SHAPE_TOP = 3,          /* 0 sign-extend, 1 zeros, 2 ones, 3 top byte */
	SHAPE_VA_4K = 1 << 2,   /* va + 4096: misaligned for large pages */
	SHAPE_PA_4K = 1 << 3,   /* pa + 4096 */
	SHAPE_SIZE_4K = 1 << 4, /* size + 4096 */
	SHAPE_BAD_FLAG = 1 << 5,
	SHAPE_VA_ODD = 1 << 6,  /* va + 8: not page aligned at all */
	SHAPE_HUGE = 1 << 7,    /* size = 2^64 - (count % 17) pages: wraps, or
				 * runs from the lower half into the upper */
};

/* A leaf page the space should hold; flags as passed to pt_map. */
struct leaf {
	uint64_t va, pa, size;
	unsigned flags;
};

static struct leaf model[MAX_LEAVES]; /* sorted by va, never overlapping */
static size_t nleaves;
static uint64_t pml4;
static uint64_t free0;                /* free frames before pt_new_space */
/* Page-table frames the model's leaves need, the PML4 included: a table
 * at level l - 1 below each level-l entry that has smaller pages under
 * it.  Kept up to date by insert_leaf and remove_leaves. */
static uint64_t ntables;

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* Index of the first leaf with va >= a (nleaves if none). */
static size_t lower_bound(uint64_t a)
{
	size_t lo = 0, hi = nleaves;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (model[mid].va < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The leaf holding byte a, or NULL. */
static const struct leaf *leaf_at(uint64_t a)
{
	size_t i = lower_bound(a);

	if (i < nleaves && model[i].va == a)
		return &model[i];
	if (i > 0 && a - model[i - 1].va < model[i - 1].size)
		return &model[i - 1];
	return NULL;
}

enum entry { E_EMPTY, E_LEAF, E_TABLE };

/* What the level-l entry covering va holds, as walk_create would find it
 * (the levels above are known to hold tables). */
static enum entry entry_state(int l, uint64_t va)
{
	uint64_t span = LEVEL_SPAN(l), start = va & ~(span - 1);
	size_t i = lower_bound(start);

	if (i == nleaves || model[i].va - start >= span)
		return E_EMPTY;
	return model[i].va == start && model[i].size == span ? E_LEAF : E_TABLE;
}

/* Level whose entries map pages of ps bytes: 1, 2 or 3. */
static int leaf_level(uint64_t ps)
{
	return ps == PAGE_SIZE ? 1 : ps == PAGE_SIZE_2M ? 2 : 3;
}

/* Entries above a leaf of size ps at va that hold no table (E_EMPTY): the
 * tables a new leaf there needs, or that removing the only leaf there
 * freed. */
static uint64_t empty_above(uint64_t va, uint64_t ps)
{
	uint64_t n = 0;

	for (int l = 4; l > leaf_level(ps); l--)
		n += entry_state(l, va) == E_EMPTY;
	return n;
}

static void insert_leaf(struct leaf l)
{
	size_t i = lower_bound(l.va);

	CHECK(nleaves < MAX_LEAVES);
	ntables += empty_above(l.va, l.size);
	memmove(&model[i + 1], &model[i], (nleaves - i) * sizeof(model[0]));
	model[i] = l;
	nleaves++;
}

/* Count ntables afresh: one table per distinct region of each level that
 * holds a smaller leaf (the model is sorted, so a region's leaves are
 * neighbours). */
static void recount_tables(void)
{
	ntables = 1;
	for (int l = 4; l >= 2; l--) {
		uint64_t span = LEVEL_SPAN(l), last_key = 0;
		bool any = false;
		for (size_t i = 0; i < nleaves; i++) {
			uint64_t key = model[i].va / span;
			if (model[i].size >= span || (any && key == last_key))
				continue;
			ntables++;
			any = true;
			last_key = key;
		}
	}
}

/* Remove the leaves whose va lies in [va, last]. */
static void remove_leaves(uint64_t va, uint64_t last)
{
	size_t i = lower_bound(va), j = i;

	while (j < nleaves && model[j].va <= last)
		j++;
	if (j == i)
		return;
	struct leaf one = model[i];
	memmove(&model[i], &model[j], (nleaves - j) * sizeof(model[0]));
	nleaves -= j - i;
	if (j - i == 1)
		ntables -= empty_above(one.va, one.size); /* what it alone needed */
	else
		recount_tables();
}

static bool canonical(uint64_t va)
{
	return va < LOWER_HALF_END || va >= UPPER_HALF_START;
}

/* pt_map's and pt_unmap's range check, from pagetable.h: the whole range
 * must lie inside one half, [0, 2^47) or [2^64 - 2^47, 2^64). */
static int model_va_range(uint64_t va, uint64_t size, uint64_t align)
{
	if (size == 0 || va % align || size % align)
		return VM_EINVAL;
	bool low = va < LOWER_HALF_END && size <= LOWER_HALF_END - va;
	bool high = va >= UPPER_HALF_START && size - 1 <= UINT64_MAX - va;
	return low || high ? 0 : VM_ENONCANON;
}

static int model_map_args(uint64_t va, uint64_t pa, uint64_t size, unsigned flags)
{
	uint64_t all = VM_WRITE | VM_EXEC | VM_USER | VM_NOCACHE | VM_WRITETHROUGH |
		       VM_GLOBAL | VM_PAGE_2M | VM_PAGE_1G;
	uint64_t ps = pt_page_size(flags);

	if ((flags & ~all) || (flags & VM_PAGE_MASK) == VM_PAGE_MASK)
		return VM_EINVAL;
	if ((flags & VM_NOCACHE) && (flags & VM_WRITETHROUGH))
		return VM_EINVAL;
	if ((flags & VM_PAGE_1G) && !pt_1g_supported())
		return VM_ENOTSUP;
	if (pa % ps || size > PHYS_ADDR_LIMIT || pa > PHYS_ADDR_LIMIT - size)
		return VM_EINVAL;
	return model_va_range(va, size, ps);
}

/* Can page va (size ps) go in now?  *frames is what is left to build
 * tables with; the tables this page needs are taken from it. */
static int model_page(uint64_t va, uint64_t ps, uint64_t *frames)
{
	for (int l = 4; l > leaf_level(ps); l--) {
		enum entry e = entry_state(l, va);
		if (e == E_LEAF)
			return VM_EEXIST;
		if (e == E_EMPTY && (*frames)-- == 0)
			return VM_ENOMEM;
	}
	return entry_state(leaf_level(ps), va) == E_EMPTY ? 0 : VM_EEXIST;
}

/* The model's pt_map: the predicted result; on success the leaves are in. */
static int model_map(uint64_t va, uint64_t pa, uint64_t size, unsigned flags)
{
	int err = model_map_args(va, pa, size, flags);
	uint64_t ps = pt_page_size(flags), frames = free0 - ntables;

	for (uint64_t off = 0; !err && off < size; off += ps) {
		err = model_page(va + off, ps, &frames);
		if (!err)
			insert_leaf((struct leaf){ va + off, pa + off, ps, flags });
		else if (off)
			remove_leaves(va, va + off - 1);
	}
	return err;
}

/* The model's pt_unmap: the predicted result; on success the leaves go. */
static int model_unmap(uint64_t va, uint64_t size)
{
	int err = model_va_range(va, size, PAGE_SIZE);

	for (uint64_t off = 0; !err && off < size;) {
		const struct leaf *l = leaf_at(va + off);
		if (!l)
			return VM_ENOENT;
		if (l->va != va + off || size - off < l->size)
			return VM_ESPLIT;
		off += l->size;
	}
	if (!err)
		remove_leaves(va, va + size - 1);
	return err;
}

/* The flags pt_translate reports for a leaf mapped with these flags. */
static unsigned effective(const struct leaf *l)
{
	unsigned f = l->flags & (VM_WRITE | VM_USER | VM_GLOBAL | VM_PAGE_MASK);

	if (l->flags & VM_NOCACHE)
		f |= VM_NOCACHE;
	else if (l->flags & VM_WRITETHROUGH)
		f |= VM_WRITETHROUGH;
	if ((l->flags & VM_EXEC) || !pt_nx_supported())
		f |= VM_EXEC;
	return f;
}

/* pt_translate(va) must say what the model says. */
static void check_translate(uint64_t va)
{
	const struct leaf *l = canonical(va) ? leaf_at(va) : NULL;
	uint64_t pa = 0;
	unsigned flags = 0;
	int err = pt_translate(pml4, va, &pa, &flags);

	if (!canonical(va))
		CHECK(err == VM_ENONCANON);
	else if (!l)
		CHECK(err == VM_ENOENT);
	else
		CHECK(err == 0 && pa == l->pa + (va - l->va) && flags == effective(l));
}

/* The space uses exactly the table frames the model needs (walking the
 * tables to count them is slow: only when asked). */
static void check_frames(bool walk)
{
	CHECK(frames_free_count() == free0 - ntables);
	if (walk)
		CHECK(pt_count_tables(pml4) == ntables);
}

/* va as the op spells it: top 16 bits by SHAPE_TOP, low 48 as given. */
static uint64_t op_va(const struct op *o)
{
	uint64_t low = le(o->va, 6);

	switch (o->shape & SHAPE_TOP) {
	case 0: return low & (1ull << 47) ? low | UPPER_HALF_START : low;
	case 1: return low;
	case 2: return low | 0xFFFF000000000000ull;
	default: return low | (uint64_t)(o->top * 0x0101u) << 48;
	}
}

/* The op's va aligned down to page size ps, then misaligned as asked. */
static uint64_t op_page_va(const struct op *o, uint64_t ps)
{
	return (op_va(o) & ~(ps - 1)) + ((o->shape & SHAPE_VA_4K) ? PAGE_SIZE : 0) +
	       ((o->shape & SHAPE_VA_ODD) ? 8 : 0);
}

/* count pages of ps bytes, give or take what the shape asks. */
static uint64_t op_size(const struct op *o, uint64_t ps)
{
	uint64_t size = (o->count % (MAX_PAGES + 1)) * ps;

	if (o->shape & SHAPE_HUGE)
		size = 0 - size; /* unsigned: 2^64 - size */
	return size + ((o->shape & SHAPE_SIZE_4K) ? PAGE_SIZE : 0);
}

static void do_map(const struct op *o)
{
	unsigned flags = o->flags | ((o->shape & SHAPE_BAD_FLAG) ? BAD_FLAG : 0);
	uint64_t ps = pt_page_size(flags);
	uint64_t va = op_page_va(o, ps), size = op_size(o, ps);
	uint64_t pa = ((le(o->pa, 5) << 12) & ~(ps - 1)) + ((o->shape & SHAPE_PA_4K) ? PAGE_SIZE : 0);
	int want = model_map(va, pa, size, flags);

	CHECK(pt_map(pml4, va, pa, size, flags) == want);
	if (want == 0) {
		check_translate(va);
		check_translate(va + size - 1);
	}
}

/* Unmap count pages of the size the flags name, from the op's va. */
static void do_unmap(const struct op *o)
{
	uint64_t ps = pt_page_size(o->flags);
	uint64_t va = op_page_va(o, ps), size = op_size(o, ps);
	int want = model_unmap(va, size);

	CHECK(pt_unmap(pml4, va, size) == want);
	if (want == 0)
		check_translate(va);
}

/* A PML4 of 0 or not page aligned is refused and changes nothing. */
static void do_bad_pml4(const struct op *o)
{
	uint64_t bad = (o->shape & 1) ? pml4 + 8 : 0;
	uint64_t va = op_va(o) & ~(PAGE_SIZE - 1);

	CHECK(pt_map(bad, va, 0, PAGE_SIZE, 0) == VM_EINVAL);
	CHECK(pt_unmap(bad, va, PAGE_SIZE) == VM_EINVAL);
}

static void run_op(const struct op *o)
{
	switch (o->kind % OP_COUNT) {
	case OP_MAP: do_map(o); break;
	case OP_UNMAP: do_unmap(o); break;
	case OP_TRANSLATE: check_translate(op_va(o)); break;
	case OP_BAD_PML4: do_bad_pml4(o); break;
	}
	check_frames(false);
}

/* pt_for_each_leaf callback: leaves come in model order, and match. */
static void match_leaf(const struct pt_leaf *leaf, void *ctx)
{
	size_t *i = ctx;
	const struct leaf *l = &model[*i];

	CHECK(*i < nleaves);
	CHECK(leaf->va == l->va && leaf->pa == l->pa && leaf->size == l->size);
	CHECK(leaf->flags == effective(l));
	(*i)++;
}

/* Every leaf reported; then unmap all, free the space: all frames back. */
static void check_end(void)
{
	size_t seen = 0;

	pt_for_each_leaf(pml4, match_leaf, &seen);
	CHECK(seen == nleaves);
	check_frames(true);
	while (nleaves) {
		struct leaf l = model[nleaves - 1];
		CHECK(pt_unmap(pml4, l.va, l.size) == 0);
		remove_leaves(l.va, l.va); /* the last leaf: O(1) memmove */
		check_frames(false);
	}
	CHECK(ntables == 1 && pt_count_tables(pml4) == 1);
	pt_free_space(pml4);
	CHECK(frames_free_count() == free0);
}

/* A fresh allocator over one conventional range of n frames at 4 KiB. */
static void init_frames(uint64_t n)
{
	struct efi_mem_desc d = { EFI_MEM_CONVENTIONAL, 0, PAGE_SIZE, 0, n, 0xF };
	struct boot_info bi = { .mmap = &d, .mmap_size = sizeof(d), .desc_size = sizeof(d) };
	struct memblock mb;

	CHECK(memblock_build(&bi, &mb) == 0); /* in d: the list of one range */
	CHECK(frames_init(&mb) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct hdr h;
	struct op o;

	if (!sim_base)
		sim_phys_init(SIM_BYTES);
	if (len < sizeof(h))
		return 0;
	memcpy(&h, data, sizeof(h));
	pt_set_nx_supported(h.opts & HDR_NX);
	pt_set_1g_supported(h.opts & HDR_GB);
	/* +1: the bitmap takes one frame; at least the PML4 must fit. */
	init_frames(1 + 1 + le(h.frames, 2) % MAX_FRAMES);
	free0 = frames_free_count();
	pml4 = pt_new_space();
	CHECK(pml4 != 0);
	nleaves = 0;
	ntables = 1;
	check_frames(true);
	for (size_t at = sizeof(h); at + sizeof(o) <= len; at += sizeof(o)) {
		memcpy(&o, data + at, sizeof(o));
		run_op(&o);
	}
	check_end();
	return 0;
}
