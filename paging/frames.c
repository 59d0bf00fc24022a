/*
 * frames.c - physical frame allocator (see frames.h for the design).
 * Allocates whole 4096-byte frames.  Units: bytes for addresses, frames
 * for counts.
 *
 * Every CPU may call it: the entry points that hand out, give back or
 * add frames take one spinlock (the end of this file) around the
 * unlocked code above.  frames_init and frames_cut run before there is
 * a second CPU.  The counters (frames_free_count, ...) are read without
 * it: one aligned word, possibly a moment old.
 */
#include "frames.h"
#include "frames_internal.h"
#include "memblock.h"
#include "phys.h"
#include "spinlock.h"
#include "vmerr.h"

static struct {
	uint64_t table_pa; /* the range table: cap entries, via phys_to_virt */
	size_t cap;
	size_t nr;
	size_t bump;       /* ranges below this index have next == end */
	uint64_t freed;    /* top of the LIFO stack of freed frames, 0 = empty */
	uint64_t total;
	uint64_t nfree;
	uint64_t meta_pa;  /* the bookkeeping's frames, cut from the map */
	uint64_t meta_frames;
	uint64_t bitmap_pa; /* inside the bookkeeping, after the table */
	uint64_t late_bit;  /* next bitmap bit for frames_add */
	uint64_t late_end;  /* bits reserved for frames_add end here */
} fa;

/* The range table; re-read on each use, since the phys offset changes
 * when the kernel moves to its own page tables. */
static struct frame_range *table(void)
{
	return phys_to_virt(fa.table_pa);
}

static uint64_t frames_in(uint64_t base, uint64_t end)
{
	return (end - base) / PAGE_SIZE;
}

static void remove_range(size_t i)
{
	struct frame_range *r = table();

	for (; i + 1 < fa.nr; i++)
		r[i] = r[i + 1];
	fa.nr--;
}

/* Cannot fail during init (the table is sized from the map); later
 * frames_cut and frames_add insert, and they check for room first. */
static int insert_range(size_t i, struct frame_range x)
{
	struct frame_range *r = table();

	if (fa.nr == fa.cap)
		return VM_ENOMEM;
	for (size_t j = fa.nr; j > i; j--)
		r[j] = r[j - 1];
	r[i] = x;
	fa.nr++;
	return 0;
}

/* Init only: add [base, end) to the sorted table, merging neighbours.
 * The first range ending at or above base is searched for from the top:
 * collect() adds the list's rows in address order, so it is found at
 * once and init stays O(R). */
static int add_free(uint64_t base, uint64_t end)
{
	struct frame_range *r = table();
	size_t i = fa.nr;

	while (i > 0 && r[i - 1].end >= base)
		i--;
	if (i < fa.nr && r[i].base <= end) {
		/* Overlaps or touches range i: grow it, swallow what it reaches. */
		struct frame_range *x = &r[i];
		x->base = x->next = base < x->base ? base : x->base;
		x->end = end > x->end ? end : x->end;
		while (i + 1 < fa.nr && r[i + 1].base <= x->end) {
			if (r[i + 1].end > x->end)
				x->end = r[i + 1].end;
			remove_range(i + 1);
		}
		return 0;
	}
	return insert_range(i, (struct frame_range){ base, base, end, 0 });
}

/* Remove [lo, hi) (inside the never-used part) from range i. */
static int cut_range(size_t i, uint64_t lo, uint64_t hi)
{
	struct frame_range *x = &table()[i];

	fa.nfree -= frames_in(lo, hi);
	fa.total -= frames_in(lo, hi);
	if (hi == x->end) {             /* the tail goes */
		x->end = lo;
		return 0;
	}
	if (lo == x->base) {            /* never used, the head goes */
		x->bit_base += frames_in(x->base, hi);
		x->base = x->next = hi;
		return 0;
	}
	struct frame_range right = { hi, hi, x->end, x->bit_base + frames_in(x->base, hi) };
	x->end = lo;                    /* the middle goes: split in two */
	return insert_range(i + 1, right);
}

/* How many ranges removing [cb, ce) from the never-used memory splits. */
static size_t splits_needed(uint64_t cb, uint64_t ce)
{
	const struct frame_range *r = table();
	size_t n = 0;

	for (size_t i = 0; i < fa.nr; i++) {
		const struct frame_range *x = &r[i];
		uint64_t lo = cb > x->next ? cb : x->next;
		uint64_t hi = ce < x->end ? ce : x->end;
		if (lo < hi && hi != x->end && lo != x->base)
			n++;
	}
	return n;
}

int frames_cut(uint64_t cb, uint64_t ce)
{
	struct frame_range *r = table();

	if (fa.nr + splits_needed(cb, ce) > fa.cap)
		return VM_ENOMEM;
	for (size_t i = 0; i < fa.nr; i++) {
		uint64_t lo = cb > r[i].next ? cb : r[i].next;
		uint64_t hi = ce < r[i].end ? ce : r[i].end;
		if (lo < hi)
			cut_range(i, lo, hi); /* cannot fail: room checked above */
	}
	return 0;
}

/* The range holding frame pa, or NULL.  Binary search: ranges are sorted. */
static struct frame_range *find_range(uint64_t pa)
{
	struct frame_range *r = table();
	size_t lo = 0, hi = fa.nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r[mid].end <= pa)
			lo = mid + 1;
		else if (r[mid].base > pa)
			hi = mid;
		else
			return &r[mid];
	}
	return NULL;
}

static uint64_t *bitmap_word(uint64_t bit)
{
	return (uint64_t *)phys_to_virt(fa.bitmap_pa) + bit / 64;
}

static uint64_t bit_of(const struct frame_range *x, uint64_t pa)
{
	return x->bit_base + frames_in(x->base, pa);
}

static bool test_bit(uint64_t bit)
{
	return (*bitmap_word(bit) >> (bit % 64)) & 1;
}

static void set_bit(uint64_t bit, bool on)
{
	if (on)
		*bitmap_word(bit) |= 1ull << (bit % 64);
	else
		*bitmap_word(bit) &= ~(1ull << (bit % 64));
}

static bool is_boot_services(const struct memblock_range *r)
{
	return r->kind == MEMBLOCK_BOOT_SERVICES;
}

/* Pages of the list's ranges that pass want, and (if rows is not NULL)
 * how many such ranges there are.  The list's ranges are disjoint, so
 * the sum is below 2^52 pages. */
static uint64_t pages_of(const struct memblock *mb, bool (*want)(const struct memblock_range *),
			 size_t *rows)
{
	uint64_t pages = 0;

	if (rows)
		*rows = 0;
	for (size_t i = 0; i < mb->n; i++) {
		if (!want(&mb->r[i]))
			continue;
		pages += memblock_pages(&mb->r[i]);
		if (rows)
			(*rows)++;
	}
	return pages;
}

/*
 * Rows the range table needs: one per free range, and every cut (page
 * 0, the bookkeeping itself) splits at most one range in two: F + 2 for
 * F free ranges.  Then one row for each boot-services range that
 * frames_add may be given later, plus room for frames_cut splits after
 * init.
 */
static size_t table_cap(const struct memblock *mb)
{
	size_t now, late;

	pages_of(mb, memblock_is_free_wb, &now);
	pages_of(mb, is_boot_services, &late);
	return now + 2 + late + FRAMES_SPARE_RANGES;
}

/* Bitmap bytes: one bit per free page, then one per boot-services page
 * for frames_add. */
static uint64_t bitmap_bytes(const struct memblock *mb)
{
	uint64_t now = pages_of(mb, memblock_is_free_wb, NULL);
	uint64_t late = pages_of(mb, is_boot_services, NULL);

	return (now + late + 63) / 64 * 8;
}

uint64_t frames_meta_bytes(const struct memblock *mb)
{
	return table_cap(mb) * sizeof(struct frame_range) + bitmap_bytes(mb);
}

/*
 * Where the bookkeeping goes: the top n frames of the largest free
 * range (the direct map reaches it; not page 0).  The largest, so that
 * small runs stay whole for callers of frames_alloc_contig.  0 when no
 * range holds n frames.
 */
static uint64_t place_meta(const struct memblock *mb, uint64_t n)
{
	uint64_t best = 0, best_pages = 0;

	for (size_t i = 0; i < mb->n; i++) {
		const struct memblock_range *r = &mb->r[i];
		uint64_t pages = memblock_pages(r);
		if (!memblock_is_free_wb(r) || pages < n || pages <= best_pages ||
		    r->end - n * PAGE_SIZE < PAGE_SIZE)
			continue;
		best = r->end - n * PAGE_SIZE;
		best_pages = pages;
	}
	return best;
}

/* Collect the free ranges (the list already left out everything another
 * descriptor claims), then cut out page 0 and the bookkeeping. */
static int collect(const struct memblock *mb)
{
	int err = 0;

	for (size_t i = 0; !err && i < mb->n; i++)
		if (memblock_is_free_wb(&mb->r[i]))
			err = add_free(mb->r[i].start, mb->r[i].end);
	if (!err)
		err = frames_cut(0, PAGE_SIZE); /* frame 0 is "no frame" */
	if (!err)
		err = frames_cut(fa.meta_pa, fa.meta_pa + fa.meta_frames * PAGE_SIZE);
	return err;
}

/* Drop empty ranges and number the frames for the bitmap. */
static uint64_t number_frames(void)
{
	struct frame_range *r = table();
	uint64_t bit = 0;

	for (size_t i = 0; i < fa.nr;) {
		if (r[i].base == r[i].end) {
			remove_range(i);
			continue;
		}
		r[i].bit_base = bit;
		bit += frames_in(r[i].base, r[i].end);
		i++;
	}
	return bit;
}

/* Size the bookkeeping, choose its place in the map, and say where it
 * is kept: in that place, or in a dry run's store. */
static int place_bookkeeping(const struct memblock *mb, const void *store)
{
	fa.cap = table_cap(mb);
	fa.meta_frames = (frames_meta_bytes(mb) + PAGE_SIZE - 1) / PAGE_SIZE;
	fa.meta_pa = place_meta(mb, fa.meta_frames);
	if (!fa.meta_pa)
		return VM_ENOMEM; /* no conventional memory, or no run long enough */
	fa.table_pa = store ? (uint64_t)(uintptr_t)store - paging_phys_offset : fa.meta_pa;
	fa.bitmap_pa = fa.table_pa + fa.cap * sizeof(struct frame_range);
	return 0;
}

/* frames_init (store NULL) and frames_init_dry. */
static int init(const struct memblock *mb, const void *store)
{
	__builtin_memset(&fa, 0, sizeof(fa));
	int err = place_bookkeeping(mb, store);
	if (!err)
		err = collect(mb);
	if (err) {
		__builtin_memset(&fa, 0, sizeof(fa));
		return err;
	}
	fa.late_bit = number_frames(); /* frames_add numbers on from here */
	fa.late_end = fa.late_bit + pages_of(mb, is_boot_services, NULL);
	__builtin_memset(phys_to_virt(fa.bitmap_pa), 0, (fa.late_end + 63) / 64 * 8);
	fa.total = 0; /* the cuts above counted down from 0: start afresh */
	for (size_t i = 0; i < fa.nr; i++)
		fa.total += frames_in(table()[i].base, table()[i].end);
	fa.nfree = fa.total;
	return 0;
}

int frames_init(const struct memblock *mb)
{
	return init(mb, NULL);
}

int frames_init_dry(const struct memblock *mb, void *store)
{
	return init(mb, store);
}

/* Pop the most recently freed frame, or 0. */
static uint64_t pop_freed(void)
{
	uint64_t pa = fa.freed;

	if (pa) {
		uint64_t *link = phys_to_virt(pa);
		fa.freed = *link;
		*link = 0;
	}
	return pa;
}

/* The next never-used frame, or 0. */
static uint64_t bump_one(void)
{
	struct frame_range *r = table();

	while (fa.bump < fa.nr && r[fa.bump].next == r[fa.bump].end)
		fa.bump++;
	if (fa.bump == fa.nr)
		return 0;
	uint64_t pa = r[fa.bump].next;
	r[fa.bump].next += PAGE_SIZE;
	return pa;
}

static uint64_t alloc_one(void)
{
	uint64_t pa = pop_freed();

	if (!pa)
		pa = bump_one();
	if (pa) {
		set_bit(bit_of(find_range(pa), pa), true);
		fa.nfree--;
	}
	return pa;
}

uint64_t frames_alloc_zeroed(void)
{
	uint64_t pa = frames_alloc();

	if (pa)
		__builtin_memset(phys_to_virt(pa), 0, PAGE_SIZE);
	return pa;
}

/* 0 if pa may be freed now, else the error frames_free() reports. */
static int check_free(uint64_t pa)
{
	if (pa == 0 || pa % PAGE_SIZE)
		return VM_EINVAL;
	const struct frame_range *x = find_range(pa);
	if (!x)
		return VM_EINVAL;
	if (!test_bit(bit_of(x, pa)))
		return VM_EEXIST;
	return 0;
}

static int free_one(uint64_t pa)
{
	int err = check_free(pa);
	if (err)
		return err;
	set_bit(bit_of(find_range(pa), pa), false);
#ifdef FRAMES_POISON
	/* Checked builds: make use-after-free reads obvious. */
	__builtin_memset(phys_to_virt(pa), 0xDB, PAGE_SIZE);
#endif
	*(uint64_t *)phys_to_virt(pa) = fa.freed;
	fa.freed = pa;
	fa.nfree++;
	return 0;
}

static uint64_t alloc_run(size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = fa.bump; i < fa.nr; i++) {
		struct frame_range *x = &table()[i];
		if (frames_in(x->next, x->end) < n)
			continue;
		uint64_t pa = x->next;
		x->next += n * PAGE_SIZE;
		for (size_t k = 0; k < n; k++)
			set_bit(bit_of(x, pa) + k, true);
		fa.nfree -= n;
		return pa;
	}
	return 0;
}

static int free_run(uint64_t pa, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		int err = check_free(pa + k * PAGE_SIZE);
		if (err)
			return err;
	}
	for (size_t k = 0; k < n; k++)
		free_one(pa + k * PAGE_SIZE);
	return 0;
}

/* 0 if no managed frame and no bookkeeping frame lies in [base, end). */
static int check_unmanaged(uint64_t base, uint64_t end)
{
	const struct frame_range *r = table();
	uint64_t meta_end = fa.meta_pa + fa.meta_frames * PAGE_SIZE;

	if (base < meta_end && fa.meta_pa < end)
		return VM_EEXIST;
	for (size_t i = 0; i < fa.nr; i++)
		if (base < r[i].end && r[i].base < end)
			return VM_EEXIST;
	return 0;
}

static int add_range(uint64_t base, uint64_t size)
{
	uint64_t end = base + size, n = size / PAGE_SIZE;

	if (base == 0 || size == 0 || (base | size) % PAGE_SIZE || end < base)
		return VM_EINVAL;
	int err = check_unmanaged(base, end);
	if (err)
		return err;
	if (fa.late_end - fa.late_bit < n)
		return VM_ENOMEM;
	struct frame_range *r = table();
	size_t i = 0;
	while (i < fa.nr && r[i].end <= base)
		i++;
	struct frame_range *prev = i ? &r[i - 1] : NULL;
	if (prev && prev->end == base &&
	    prev->bit_base + frames_in(prev->base, prev->end) == fa.late_bit) {
		prev->end = end; /* continues the last range added: grow it */
		i--;
	} else if ((err = insert_range(i, (struct frame_range){ base, base, end, fa.late_bit })))
		return err;
	if (fa.bump > i)
		fa.bump = i; /* range i has never-used frames again */
	fa.late_bit += n;
	fa.total += n;
	fa.nfree += n;
	return 0;
}

bool frames_is_allocated(uint64_t pa)
{
	const struct frame_range *x = find_range(pa);

	return pa % PAGE_SIZE == 0 && x && test_bit(bit_of(x, pa));
}

uint64_t frames_total(void)
{
	return fa.total;
}

uint64_t frames_free_count(void)
{
	return fa.nfree;
}

static uint64_t largest_run(void)
{
	const struct frame_range *r = table();
	uint64_t best = 0;

	for (size_t i = fa.bump; i < fa.nr; i++)
		if (frames_in(r[i].next, r[i].end) > best)
			best = frames_in(r[i].next, r[i].end);
	return best;
}

const struct frame_range *frames_ranges(size_t *n)
{
	*n = fa.nr;
	return table();
}

void frames_get_stats(struct frames_stats *out)
{
	out->total = fa.total;
	out->free = fa.nfree;
	out->ranges = fa.nr;
	out->meta_pa = fa.meta_pa;
	out->meta_frames = fa.meta_frames;
	out->table_cap = fa.cap;
}

/* --- The locked entry points (frames.h has their contracts) ------------- */

static struct spinlock frames_lock = SPINLOCK_INIT;

uint64_t frames_alloc(void)
{
	spin_lock(&frames_lock);
	uint64_t pa = alloc_one();
	spin_unlock(&frames_lock);
	return pa;
}

int frames_free(uint64_t pa)
{
	spin_lock(&frames_lock);
	int err = free_one(pa);
	spin_unlock(&frames_lock);
	return err;
}

uint64_t frames_alloc_contig(size_t n)
{
	spin_lock(&frames_lock);
	uint64_t pa = alloc_run(n);
	spin_unlock(&frames_lock);
	return pa;
}

int frames_free_contig(uint64_t pa, size_t n)
{
	spin_lock(&frames_lock);
	int err = free_run(pa, n);
	spin_unlock(&frames_lock);
	return err;
}

int frames_add(uint64_t base, uint64_t size)
{
	spin_lock(&frames_lock);
	int err = add_range(base, size);
	spin_unlock(&frames_lock);
	return err;
}

uint64_t frames_largest_run(void)
{
	spin_lock(&frames_lock);
	uint64_t n = largest_run();
	spin_unlock(&frames_lock);
	return n;
}
