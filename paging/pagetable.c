/*
 * pagetable.c - building and reading 4-level page tables (see
 * pagetable.h).  Levels are numbered as in mmu.h: 4 = PML4 ... 1 = PT.
 * Every table is a 4096-byte frame of 512 64-bit entries.  Units: bytes.
 *
 * Changes (pt_map, pt_unmap, pt_free_space) take one spinlock, so
 * two CPUs cannot both create, or both free, the same table (the end of
 * this file).  Reads (pt_translate, the walks) take none: an entry is
 * one aligned 64-bit word, written whole; a reader racing an unmap of
 * the same range may see it either way, which is the caller's business.
 * Dropping stale TLB entries stays with the caller (tlb_shootdown in the
 * kernel).
 */
#include "pagetable.h"
#include "frames.h"
#include "mmu.h"
#include "phys.h"
#include "spinlock.h"
#include "vmerr.h"

#define VM_ALL_FLAGS (VM_WRITE | VM_EXEC | VM_USER | VM_CACHE_MASK | VM_GLOBAL | \
		      VM_PAGE_2M | VM_PAGE_1G)

static bool nx_on;
static bool gb_on;

void pt_set_nx_supported(bool on) { nx_on = on; }
void pt_set_1g_supported(bool on) { gb_on = on; }
bool pt_nx_supported(void) { return nx_on; }
bool pt_1g_supported(void) { return gb_on; }

uint64_t pt_page_size(unsigned flags)
{
	if (flags & VM_PAGE_1G)
		return PAGE_SIZE_1G;
	if (flags & VM_PAGE_2M)
		return PAGE_SIZE_2M;
	return PAGE_SIZE;
}

static uint64_t *table_at(uint64_t pa)
{
	return phys_to_virt(pa);
}

/* Level whose entries map pages of ps bytes: 1, 2 or 3. */
static int leaf_level(uint64_t ps)
{
	return ps == PAGE_SIZE ? 1 : ps == PAGE_SIZE_2M ? 2 : 3;
}

/* Does entry e, found at level, map a page itself (rather than a table)? */
static bool is_leaf(uint64_t e, int level)
{
	return level == 1 || (level <= 3 && (e & PTE_PS));
}

static uint64_t leaf_bits(unsigned flags, uint64_t ps)
{
	uint64_t e = PTE_P;

	if (flags & VM_WRITE)
		e |= PTE_W;
	if (flags & VM_USER)
		e |= PTE_U;
	/* The memory type as a PAT index (mmu.h); the PAT bit moves to bit
	 * 12 in large leaves, where bit 7 is PS. */
	if (flags & VM_NOCACHE)
		e |= PTE_PCD | PTE_PWT;
	if (flags & VM_WRITETHROUGH)
		e |= PTE_PWT;
	if (flags & VM_WRITECOMBINE)
		e |= ps == PAGE_SIZE ? PTE_PAT_4K : PTE_PAT_LARGE;
	if (flags & VM_GLOBAL)
		e |= PTE_G;
	if (ps != PAGE_SIZE)
		e |= PTE_PS;
	/* Without EFER.NXE bit 63 is reserved: setting it would fault. */
	if (!(flags & VM_EXEC) && nx_on)
		e |= PTE_NX;
	return e;
}

/* The memory type of leaf e at level, from its PAT index (mmu.h).  UC-
 * (2, 6) reads back as VM_NOCACHE: uncached either way. */
static unsigned cache_flags(uint64_t e, int level)
{
	uint64_t pat = e & (level == 1 ? PTE_PAT_4K : PTE_PAT_LARGE);

	if (e & PTE_PCD)
		return VM_NOCACHE;
	if (e & PTE_PWT)
		return VM_WRITETHROUGH;
	return pat ? VM_WRITECOMBINE : 0;
}

/* Our flags for leaf e at level; allow and nx gathered along the walk. */
static unsigned leaf_flags(uint64_t e, uint64_t allow, uint64_t nx, int level)
{
	unsigned f = level == 3 ? VM_PAGE_1G : level == 2 ? VM_PAGE_2M : 0;

	if (allow & PTE_W)
		f |= VM_WRITE;
	if (allow & PTE_U)
		f |= VM_USER;
	if (!nx)
		f |= VM_EXEC;
	f |= cache_flags(e, level);
	if (e & PTE_G)
		f |= VM_GLOBAL;
	return f;
}

/* 0 if [va, va + size) is non-empty, aligned to align and in one half. */
static int check_va_range(uint64_t va, uint64_t size, uint64_t align)
{
	if (size == 0 || va % align || size % align)
		return VM_EINVAL;
	uint64_t last = va + size - 1;
	if (last < va || !va_is_canonical(va) || !va_is_canonical(last))
		return VM_ENONCANON;
	if ((va < LOWER_HALF_END) != (last < LOWER_HALF_END))
		return VM_ENONCANON; /* crosses the hole */
	return 0;
}

static int check_map_args(uint64_t pml4, uint64_t va, uint64_t pa, uint64_t size,
			  unsigned flags)
{
	if (pml4 == 0 || pml4 % PAGE_SIZE || (flags & ~VM_ALL_FLAGS))
		return VM_EINVAL;
	if ((flags & VM_PAGE_MASK) == VM_PAGE_MASK)
		return VM_EINVAL;
	unsigned cache = flags & VM_CACHE_MASK;
	if (cache & (cache - 1))
		return VM_EINVAL; /* more than one memory type */
	if ((flags & VM_PAGE_1G) && !gb_on)
		return VM_ENOTSUP;
	uint64_t ps = pt_page_size(flags);
	if (pa % ps || size > PHYS_ADDR_LIMIT || pa > PHYS_ADDR_LIMIT - size)
		return VM_EINVAL;
	return check_va_range(va, size, ps);
}

/*
 * The entry for va at level, creating the missing tables above it (zeroed,
 * present, writable, +user for user pages).  NULL with *err set when a
 * large page already covers va or a table cannot be allocated.
 */
static uint64_t *walk_create(uint64_t pml4, uint64_t va, int level, unsigned flags, int *err)
{
	uint64_t table = pml4;
	uint64_t user = (flags & VM_USER) ? PTE_U : 0;

	for (int l = 4; l > level; l--) {
		uint64_t *e = &table_at(table)[PX(l, va)];
		if (!(*e & PTE_P)) {
			uint64_t t = frames_alloc_zeroed();
			if (!t) {
				*err = VM_ENOMEM;
				return NULL;
			}
			*e = t | PTE_P | PTE_W | user;
		} else if (is_leaf(*e, l)) {
			*err = VM_EEXIST;
			return NULL;
		}
		*e |= user;
		table = PTE_ADDR(*e);
	}
	return &table_at(table)[PX(level, va)];
}

/* The leaf entry mapping va and its page size, or NULL if unmapped. */
static uint64_t *find_leaf(uint64_t pml4, uint64_t va, uint64_t *ps)
{
	uint64_t table = pml4;

	for (int l = 4; l >= 1; l--) {
		uint64_t *e = &table_at(table)[PX(l, va)];
		if (!(*e & PTE_P))
			return NULL;
		if (is_leaf(*e, l)) {
			*ps = LEVEL_SPAN(l);
			return e;
		}
		table = PTE_ADDR(*e);
	}
	return NULL;
}

static bool table_empty(uint64_t table)
{
	const uint64_t *t = table_at(table);

	for (int i = 0; i < PT_ENTRIES; i++)
		if (t[i] & PTE_P)
			return false;
	return true;
}

/* A table just unlinked from its parent: freed now (g NULL), or put on
 * g's list.  The list runs through each table's entry 0, which holds
 * the next table's frame: 4 KiB aligned, so its present bit is clear,
 * and a CPU that still walks the table finds every entry absent. */
static void drop_table(uint64_t table, struct pt_gather *g)
{
	if (!g) {
		frames_free(table);
		return;
	}
	table_at(table)[0] = g->head;
	g->head = table;
	g->count++;
}

void pt_gather_free(struct pt_gather *g)
{
	for (; g->count > 0; g->count--) {
		uint64_t table = g->head;

		g->head = table_at(table)[0];
		frames_free(table);
	}
	g->head = 0;
}

/* Drop the tables on va's path that are empty, bottom-up, PML4 excluded. */
static void prune(uint64_t pml4, uint64_t va, struct pt_gather *g)
{
	uint64_t *parent[5]; /* parent[l]: the level-l entry naming a table */
	uint64_t table = pml4;
	int lowest = 4;

	for (int l = 4; l > 1; l--) {
		uint64_t *e = &table_at(table)[PX(l, va)];
		if (!(*e & PTE_P) || is_leaf(*e, l))
			break;
		parent[l] = e;
		table = PTE_ADDR(*e);
		lowest = l - 1;
	}
	for (int l = lowest; l < 4; l++) {
		uint64_t t = PTE_ADDR(*parent[l + 1]);
		if (!table_empty(t))
			break;
		*parent[l + 1] = 0;
		drop_table(t, g);
	}
}

/* Clear the leaves of a range known to be wholly mapped; prune as we go. */
static void unmap_range(uint64_t pml4, uint64_t va, uint64_t size, struct pt_gather *g)
{
	for (uint64_t off = 0; off < size;) {
		uint64_t ps = 0, cur = va + off;
		uint64_t *e = find_leaf(pml4, cur, &ps);
		*e = 0;
		off += ps;
		/* Leaving this leaf table, or the range: free it if now empty. */
		if (off == size || ((cur + ps) & (ps * PT_ENTRIES - 1)) == 0)
			prune(pml4, cur, g);
	}
}

static int map_one(uint64_t pml4, uint64_t va, uint64_t pa, uint64_t ps, unsigned flags)
{
	int err = 0;
	uint64_t *e = walk_create(pml4, va, leaf_level(ps), flags, &err);

	if (!e)
		return err;
	if (*e & PTE_P)
		return VM_EEXIST; /* a leaf, or a table of smaller pages */
	*e = pa | leaf_bits(flags, ps);
	return 0;
}

static int map_unlocked(uint64_t pml4, uint64_t va, uint64_t pa, uint64_t size, unsigned flags)
{
	int err = check_map_args(pml4, va, pa, size, flags);
	if (err)
		return err;
	uint64_t ps = pt_page_size(flags);
	for (uint64_t off = 0; off < size; off += ps) {
		err = map_one(pml4, va + off, pa + off, ps, flags);
		if (err) {
			/* Undo: our pages, then tables created for the failed one. */
			unmap_range(pml4, va, off, NULL);
			prune(pml4, va + off, NULL);
			return err;
		}
	}
	return 0;
}

/* 0 if every page of the range is mapped by a leaf wholly inside it. */
static int check_unmap(uint64_t pml4, uint64_t va, uint64_t size)
{
	for (uint64_t off = 0; off < size;) {
		uint64_t ps = 0, cur = va + off;
		if (!find_leaf(pml4, cur, &ps))
			return VM_ENOENT;
		if (cur % ps || size - off < ps)
			return VM_ESPLIT;
		off += ps;
	}
	return 0;
}

static int unmap_unlocked(uint64_t pml4, uint64_t va, uint64_t size, struct pt_gather *g)
{
	if (pml4 == 0 || pml4 % PAGE_SIZE)
		return VM_EINVAL;
	int err = check_va_range(va, size, PAGE_SIZE);
	if (!err)
		err = check_unmap(pml4, va, size);
	if (!err)
		unmap_range(pml4, va, size, g);
	return err;
}

int pt_translate(uint64_t pml4, uint64_t va, uint64_t *pa, unsigned *flags)
{
	uint64_t table = pml4;
	uint64_t allow = PTE_W | PTE_U; /* ANDed down the walk, as the CPU does */
	uint64_t nx = 0;                /* ORed down the walk */

	if (!va_is_canonical(va))
		return VM_ENONCANON;
	for (int l = 4; l >= 1; l--) {
		uint64_t e = table_at(table)[PX(l, va)];
		if (!(e & PTE_P))
			return VM_ENOENT;
		allow &= e;
		nx |= e & PTE_NX;
		if (is_leaf(e, l)) {
			uint64_t ps = LEVEL_SPAN(l);
			if (pa)
				*pa = (PTE_ADDR(e) & ~(ps - 1)) + (va & (ps - 1));
			if (flags)
				*flags = leaf_flags(e, allow, nx, l);
			return 0;
		}
		table = PTE_ADDR(e);
	}
	return VM_ENOENT;
}

bool pt_is_mapped(uint64_t pml4, uint64_t va)
{
	return pt_translate(pml4, va, NULL, NULL) == 0;
}

/* Bits 63..48 copied from bit 47, as the CPU requires. */
static uint64_t sign_extend(uint64_t va)
{
	return (va & LOWER_HALF_END) ? va | UPPER_HALF_START : va;
}

/* The walk state pt_for_each_leaf carries down the levels. */
struct leaf_walk {
	pt_leaf_fn *fn;
	void *ctx;
};

/*
 * Report the leaves under the table at level, whose first entry maps va
 * base.  allow (W and U ANDed) and nx (ORed) come from the entries above,
 * so each leaf is reported with the rights the CPU would give it.
 */
static void walk_leaves(const struct leaf_walk *w, uint64_t table, int level, uint64_t base,
			uint64_t allow, uint64_t nx)
{
	const uint64_t *t = table_at(table);

	for (int i = 0; i < PT_ENTRIES; i++) {
		uint64_t e = t[i];
		if (!(e & PTE_P))
			continue;
		uint64_t va = sign_extend(base + ((uint64_t)i << PX_SHIFT(level)));
		uint64_t a = allow & e, x = nx | (e & PTE_NX);
		if (!is_leaf(e, level)) {
			walk_leaves(w, PTE_ADDR(e), level - 1, va, a, x);
			continue;
		}
		uint64_t ps = LEVEL_SPAN(level);
		struct pt_leaf leaf = { va, PTE_ADDR(e) & ~(ps - 1), ps, leaf_flags(e, a, x, level) };
		w->fn(&leaf, w->ctx);
	}
}

void pt_for_each_leaf(uint64_t pml4, pt_leaf_fn *fn, void *ctx)
{
	struct leaf_walk w = { fn, ctx };

	if (pml4)
		walk_leaves(&w, pml4, 4, 0, PTE_W | PTE_U, 0);
}

uint64_t pt_new_space(void)
{
	return frames_alloc_zeroed();
}

/* Visit the table at level and, depth first, every table below it. */
static size_t walk_tables(uint64_t table, int level, bool free_them)
{
	size_t n = 1;

	if (level > 1) {
		const uint64_t *t = table_at(table);
		for (int i = 0; i < PT_ENTRIES; i++)
			if ((t[i] & PTE_P) && !is_leaf(t[i], level))
				n += walk_tables(PTE_ADDR(t[i]), level - 1, free_them);
	}
	if (free_them)
		frames_free(table);
	return n;
}

static struct spinlock pt_lock = SPINLOCK_INIT;

void pt_free_space(uint64_t pml4)
{
	spin_lock(&pt_lock);
	if (pml4)
		walk_tables(pml4, 4, true);
	spin_unlock(&pt_lock);
}

size_t pt_count_tables(uint64_t pml4)
{
	return pml4 ? walk_tables(pml4, 4, false) : 0;
}

/* --- The locked entry points (pagetable.h has their contracts) ---------
 * Lock order: pt_lock, then the frame allocator's own lock inside
 * frames_alloc/frames_free; nothing takes them the other way round. */

int pt_map(uint64_t pml4, uint64_t va, uint64_t pa, uint64_t size, unsigned flags)
{
	spin_lock(&pt_lock);
	int err = map_unlocked(pml4, va, pa, size, flags);
	spin_unlock(&pt_lock);
	return err;
}

int pt_unmap(uint64_t pml4, uint64_t va, uint64_t size)
{
	return pt_unmap_gather(pml4, va, size, NULL);
}

int pt_unmap_gather(uint64_t pml4, uint64_t va, uint64_t size, struct pt_gather *g)
{
	spin_lock(&pt_lock);
	int err = unmap_unlocked(pml4, va, size, g);
	spin_unlock(&pt_lock);
	return err;
}
