/*
 * frames.c - physical frame allocator (see frames.h for the design).
 * Allocates whole 4096-byte frames.  Units: bytes for addresses, frames
 * for counts.
 */
#include "frames.h"
#include "memmap.h"
#include "phys.h"
#include "vmerr.h"

/*
 * One run of conventional memory, [base, end).  Frames in [base, next)
 * were handed out at least once (they are allocated or on the freed
 * stack); frames in [next, end) never were.
 */
struct frame_range {
	uint64_t base;
	uint64_t next;
	uint64_t end;
	uint64_t bit_base; /* bitmap index of the frame at base */
};

static struct {
	struct frame_range r[FRAMES_MAX_RANGES];
	size_t nr;
	size_t bump;       /* ranges below this index have next == end */
	uint64_t freed;    /* top of the LIFO stack of freed frames, 0 = empty */
	uint64_t total;
	uint64_t nfree;
	uint64_t bitmap_pa;
	uint64_t bitmap_frames;
	uint64_t dropped;
	uint64_t late_bit;  /* next bitmap bit for frames_add */
	uint64_t late_end;  /* bits reserved for frames_add end here */
} fa;

static uint64_t frames_in(uint64_t base, uint64_t end)
{
	return (end - base) / FRAME_SIZE;
}

static void remove_range(size_t i)
{
	for (; i + 1 < fa.nr; i++)
		fa.r[i] = fa.r[i + 1];
	fa.nr--;
}

static int insert_range(size_t i, struct frame_range x)
{
	if (fa.nr == FRAMES_MAX_RANGES)
		return VM_ENOMEM;
	for (size_t j = fa.nr; j > i; j--)
		fa.r[j] = fa.r[j - 1];
	fa.r[i] = x;
	fa.nr++;
	return 0;
}

/* Init only: add [base, end) to the sorted table, merging neighbours. */
static void add_free(uint64_t base, uint64_t end)
{
	size_t i = 0;

	while (i < fa.nr && fa.r[i].end < base)
		i++;
	if (i < fa.nr && fa.r[i].base <= end) {
		/* Overlaps or touches range i: grow it, swallow what it reaches. */
		struct frame_range *x = &fa.r[i];
		x->base = x->next = base < x->base ? base : x->base;
		x->end = end > x->end ? end : x->end;
		while (i + 1 < fa.nr && fa.r[i + 1].base <= x->end) {
			if (fa.r[i + 1].end > x->end)
				x->end = fa.r[i + 1].end;
			remove_range(i + 1);
		}
		return;
	}
	struct frame_range x = { base, base, end, 0 };
	if (insert_range(i, x))
		fa.dropped += frames_in(base, end);
}

/* Remove [lo, hi) (inside the never-used part) from range i. */
static int cut_range(size_t i, uint64_t lo, uint64_t hi)
{
	struct frame_range *x = &fa.r[i];

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
	size_t n = 0;

	for (size_t i = 0; i < fa.nr; i++) {
		const struct frame_range *x = &fa.r[i];
		uint64_t lo = cb > x->next ? cb : x->next;
		uint64_t hi = ce < x->end ? ce : x->end;
		if (lo < hi && hi != x->end && lo != x->base)
			n++;
	}
	return n;
}

/* Remove [cb, ce) from the never-used memory of every range. */
static int cut(uint64_t cb, uint64_t ce)
{
	if (fa.nr + splits_needed(cb, ce) > FRAMES_MAX_RANGES)
		return VM_ENOMEM;
	for (size_t i = 0; i < fa.nr; i++) {
		uint64_t lo = cb > fa.r[i].next ? cb : fa.r[i].next;
		uint64_t hi = ce < fa.r[i].end ? ce : fa.r[i].end;
		if (lo < hi)
			cut_range(i, lo, hi); /* cannot fail: room checked above */
	}
	return 0;
}

/* The range holding frame pa, or NULL.  Binary search: ranges are sorted. */
static struct frame_range *find_range(uint64_t pa)
{
	size_t lo = 0, hi = fa.nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (fa.r[mid].end <= pa)
			lo = mid + 1;
		else if (fa.r[mid].base > pa)
			hi = mid;
		else
			return &fa.r[mid];
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

/* Collect conventional memory, then cut out what anything else claims. */
static int collect(const struct boot_info *bi)
{
	size_t n = memmap_count(bi);

	for (size_t i = 0; i < n; i++) {
		const struct efi_mem_desc *d = memmap_desc(bi, i);
		/* Frames are reached through the direct map: write-back RAM only. */
		if (d->type == EFI_MEM_CONVENTIONAL && d->num_pages && memmap_is_wb_ram(d))
			add_free(d->phys_start, memmap_end(d));
	}
	for (size_t i = 0; i < n; i++) {
		const struct efi_mem_desc *d = memmap_desc(bi, i);
		if (d->type != EFI_MEM_CONVENTIONAL && d->num_pages &&
		    cut(d->phys_start, memmap_end(d)))
			return VM_ENOMEM;
	}
	return cut(0, FRAME_SIZE); /* frame 0 is "no frame" */
}

/* Drop empty ranges and number the frames for the bitmap. */
static uint64_t number_frames(void)
{
	uint64_t bit = 0;

	for (size_t i = 0; i < fa.nr;) {
		if (fa.r[i].base == fa.r[i].end) {
			remove_range(i);
			continue;
		}
		fa.r[i].bit_base = bit;
		bit += frames_in(fa.r[i].base, fa.r[i].end);
		i++;
	}
	return bit;
}

/* Take the bitmap's frames from the top of the largest range, zero it. */
static int place_bitmap(uint64_t nbits)
{
	uint64_t bytes = (nbits + 63) / 64 * 8;
	uint64_t need = (bytes + FRAME_SIZE - 1) / FRAME_SIZE;
	size_t best = 0;

	for (size_t i = 1; i < fa.nr; i++)
		if (frames_in(fa.r[i].base, fa.r[i].end) > frames_in(fa.r[best].base, fa.r[best].end))
			best = i;
	if (fa.nr == 0 || frames_in(fa.r[best].base, fa.r[best].end) < need)
		return VM_ENOMEM;
	fa.r[best].end -= need * FRAME_SIZE;
	fa.bitmap_pa = fa.r[best].end;
	fa.bitmap_frames = need;
	__builtin_memset(phys_to_virt(fa.bitmap_pa), 0, bytes);
	return 0;
}

/* Boot-services pages: what frames_add may be given later. */
static uint64_t reclaimable_pages(const struct boot_info *bi)
{
	uint64_t n = 0;

	for (size_t i = 0; i < memmap_count(bi); i++) {
		const struct efi_mem_desc *d = memmap_desc(bi, i);
		if (d->type == EFI_MEM_BOOT_CODE || d->type == EFI_MEM_BOOT_DATA)
			n += d->num_pages;
	}
	return n;
}

int frames_init(const struct boot_info *bi)
{
	__builtin_memset(&fa, 0, sizeof(fa));
	int err = memmap_check(bi);
	if (err)
		return err;
	err = collect(bi);
	if (!err) {
		fa.late_bit = number_frames();
		fa.late_end = fa.late_bit + reclaimable_pages(bi);
		err = place_bitmap(fa.late_end);
	}
	if (err) {
		__builtin_memset(&fa, 0, sizeof(fa));
		return err;
	}
	fa.total = 0; /* the cuts above counted down from 0: start afresh */
	for (size_t i = 0; i < fa.nr; i++)
		fa.total += frames_in(fa.r[i].base, fa.r[i].end);
	fa.nfree = fa.total;
	return 0;
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
	while (fa.bump < fa.nr && fa.r[fa.bump].next == fa.r[fa.bump].end)
		fa.bump++;
	if (fa.bump == fa.nr)
		return 0;
	uint64_t pa = fa.r[fa.bump].next;
	fa.r[fa.bump].next += FRAME_SIZE;
	return pa;
}

uint64_t frames_alloc(void)
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
		__builtin_memset(phys_to_virt(pa), 0, FRAME_SIZE);
	return pa;
}

/* 0 if pa may be freed now, else the error frames_free() reports. */
static int check_free(uint64_t pa)
{
	if (pa == 0 || pa % FRAME_SIZE)
		return VM_EINVAL;
	const struct frame_range *x = find_range(pa);
	if (!x)
		return VM_EINVAL;
	if (!test_bit(bit_of(x, pa)))
		return VM_EEXIST;
	return 0;
}

int frames_free(uint64_t pa)
{
	int err = check_free(pa);
	if (err)
		return err;
	set_bit(bit_of(find_range(pa), pa), false);
#ifdef FRAMES_POISON
	/* Checked builds: make use-after-free reads obvious. */
	__builtin_memset(phys_to_virt(pa), 0xDB, FRAME_SIZE);
#endif
	*(uint64_t *)phys_to_virt(pa) = fa.freed;
	fa.freed = pa;
	fa.nfree++;
	return 0;
}

uint64_t frames_alloc_contig(size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = fa.bump; i < fa.nr; i++) {
		struct frame_range *x = &fa.r[i];
		if (frames_in(x->next, x->end) < n)
			continue;
		uint64_t pa = x->next;
		x->next += n * FRAME_SIZE;
		for (size_t k = 0; k < n; k++)
			set_bit(bit_of(x, pa) + k, true);
		fa.nfree -= n;
		return pa;
	}
	return 0;
}

int frames_free_contig(uint64_t pa, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		int err = check_free(pa + k * FRAME_SIZE);
		if (err)
			return err;
	}
	for (size_t k = 0; k < n; k++)
		frames_free(pa + k * FRAME_SIZE);
	return 0;
}

int frames_reserve(uint64_t base, uint64_t size)
{
	if (size == 0 || base + size < base || base + size > UINT64_MAX - FRAME_SIZE)
		return VM_EINVAL;
	uint64_t cb = base & ~(FRAME_SIZE - 1);
	uint64_t ce = (base + size + FRAME_SIZE - 1) & ~(FRAME_SIZE - 1);

	for (size_t i = 0; i < fa.nr; i++)
		if (cb < fa.r[i].next && ce > fa.r[i].base)
			return VM_EBUSY;
	return cut(cb, ce);
}

/* 0 if no managed frame and no bitmap frame lies in [base, end). */
static int check_unmanaged(uint64_t base, uint64_t end)
{
	uint64_t bm_end = fa.bitmap_pa + fa.bitmap_frames * FRAME_SIZE;

	if (base < bm_end && fa.bitmap_pa < end)
		return VM_EEXIST;
	for (size_t i = 0; i < fa.nr; i++)
		if (base < fa.r[i].end && fa.r[i].base < end)
			return VM_EEXIST;
	return 0;
}

int frames_add(uint64_t base, uint64_t size)
{
	uint64_t end = base + size, n = size / FRAME_SIZE;

	if (base == 0 || size == 0 || (base | size) % FRAME_SIZE || end < base)
		return VM_EINVAL;
	int err = check_unmanaged(base, end);
	if (err)
		return err;
	if (fa.late_end - fa.late_bit < n)
		return VM_ENOMEM;
	size_t i = 0;
	while (i < fa.nr && fa.r[i].end <= base)
		i++;
	struct frame_range *prev = i ? &fa.r[i - 1] : NULL;
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

	return pa % FRAME_SIZE == 0 && x && test_bit(bit_of(x, pa));
}

uint64_t frames_total(void)
{
	return fa.total;
}

uint64_t frames_free_count(void)
{
	return fa.nfree;
}

void frames_get_stats(struct frames_stats *out)
{
	out->total = fa.total;
	out->free = fa.nfree;
	out->ranges = fa.nr;
	out->bitmap_pa = fa.bitmap_pa;
	out->bitmap_frames = fa.bitmap_frames;
	out->dropped = fa.dropped;
}
