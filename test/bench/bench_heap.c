/*
 * bench_heap.c - heap/heap.c against glibc malloc, same operations, one table.
 *
 * Every workload runs the same operation sequence (fixed-seed PRNG) on
 * both allocators, through the same function-pointer table so both pay
 * the same call overhead.  First every workload is run once, untimed, to
 * measure footprints (glibc's in a child process forked from the pristine
 * parent, so memory glibc kept from earlier workloads cannot hide growth).
 * Then each workload gets one untimed warm-up run and RUNS timed runs
 * interleaved ours/glibc; the median is reported.  The bench's own arrays
 * come from mmap, so they count in neither allocator.
 *
 * Workloads (an "op" is one alloc, free or realloc call, except large_vec):
 *   many_boxes    alloc a 32-byte box, write it, free it; repeated.
 *   large_vec     push_back of 8-byte elements to 1M, capacity doubling by
 *                 realloc; an op is one push (amortised realloc cost).
 *   steady_N      N live objects of mixed sizes (16 + r % 2^(4..12), so
 *                 16..4111 bytes, log-spread); per step free a random live
 *                 one and allocate a new one in its place.  The fill and a
 *                 churn of `warm` steps (to fragment the heap) are not
 *                 timed.  Steps shrink as N grows: ours is first fit over
 *                 a list, O(holes) per op, so steady_100000 does far fewer.
 *   lifo          alloc N mixed objects, free them newest first.
 *   fifo          alloc N mixed objects, free them oldest first.
 *   mixed_align   steady state, 1,000 live, each alloc aligned to
 *                 16 << (r % 9), i.e. 16..4096 (glibc: posix_memalign).
 *
 * Footprint, taken in the measuring run:
 *   ours   the highest payload byte ever handed out + 1, minus the heap's
 *          base: how much of the region must be backed by memory.
 *   glibc  mallinfo2() arena + hblkhd (sbrk'd heap plus mmapped chunks)
 *          minus the same before the run, sampled every 1024 allocations,
 *          after every one of 64 KiB or more, and at the end; glibc grows
 *          its heap 128 KiB at a time, so small workloads show that granule.
 *   live   the largest sum of requested sizes live at one time.
 *
 * Build: cc -std=c11 -O2 -Iheap test/bench/bench_heap.c heap/heap.c
 * No timing assertions: it prints the table and exits 0.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "heap.h"

#define REGION_SIZE ((size_t)256 << 20)
#define RUNS 5
#define SAMPLE_EVERY 1024

/* ---- the two allocators behind one table ---- */

struct allocator {
	const char *name;
	void (*reset)(void);
	void *(*alloc)(size_t size, size_t align);
	void (*release)(void *p);
	void *(*resize)(void *p, size_t size);
	void (*note)(const void *p, size_t size); /* measuring run: after an alloc */
	size_t (*peak)(void);                     /* measuring run: footprint */
};

static struct heap heap;
static unsigned char *region;
static uintptr_t ours_high;

static void ours_reset(void)
{
	if (heap_init(&heap, region, REGION_SIZE) != 0)
		abort();
	ours_high = heap.base;
}

static void *ours_alloc(size_t size, size_t align)
{
	return heap_alloc(&heap, size, align);
}

static void ours_release(void *p)
{
	heap_free(&heap, p);
}

static void *ours_resize(void *p, size_t size)
{
	return heap_realloc(&heap, p, size);
}

static void ours_note(const void *p, size_t size)
{
	if ((uintptr_t)p + size > ours_high)
		ours_high = (uintptr_t)p + size;
}

static size_t ours_peak(void)
{
	return ours_high - heap.base;
}

static size_t glibc_base, glibc_high;
static unsigned long glibc_notes;

static size_t glibc_now(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.arena + mi.hblkhd;
}

static void glibc_reset(void)
{
	glibc_base = glibc_high = glibc_now();
	glibc_notes = 0;
}

static void *glibc_alloc(size_t size, size_t align)
{
	void *p;

	if (align <= 16)
		return malloc(size);
	return posix_memalign(&p, align, size) ? NULL : p;
}

static void *glibc_resize(void *p, size_t size)
{
	return realloc(p, size);
}

/* mallinfo2() walks glibc's free lists, so sample it: every 1024th
 * allocation, and every large one (those move the footprint at once). */
static void glibc_note(const void *p, size_t size)
{
	(void)p;
	if ((++glibc_notes % SAMPLE_EVERY == 0 || size >= 65536) && glibc_now() > glibc_high)
		glibc_high = glibc_now();
}

static size_t glibc_peak(void)
{
	if (glibc_now() > glibc_high)
		glibc_high = glibc_now();
	return glibc_high - glibc_base;
}

static const struct allocator ours = { "ours", ours_reset, ours_alloc, ours_release,
				       ours_resize, ours_note, ours_peak };
static const struct allocator glibc = { "glibc", glibc_reset, glibc_alloc, free,
					glibc_resize, glibc_note, glibc_peak };

/* Memory for the bench's own bookkeeping, kept out of both allocators. */
static void *scratch(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("bench_heap: mmap");
		exit(1);
	}
	return p;
}

/* ---- one run: the allocator, and the live-byte count when measuring ---- */

struct run {
	const struct allocator *a;
	int measuring;
	size_t live, peak_live;
	uint64_t rng;
};

static uint64_t rnd(struct run *r)
{
	r->rng ^= r->rng >> 12; /* xorshift64* */
	r->rng ^= r->rng << 25;
	r->rng ^= r->rng >> 27;
	return r->rng * 0x2545f4914f6cdd1dull;
}

static size_t mixed_size(struct run *r)
{
	uint64_t x = rnd(r);

	return 16 + (size_t)(x >> 8) % ((size_t)1 << (4 + x % 9));
}

static void *r_alloc(struct run *r, size_t size, size_t align)
{
	void *p = r->a->alloc(size, align);

	if (!p) {
		fprintf(stderr, "bench_heap: %s: out of memory\n", r->a->name);
		exit(1);
	}
	*(volatile char *)p = 1; /* touch it, as a caller would */
	if (r->measuring) {
		r->live += size;
		if (r->live > r->peak_live)
			r->peak_live = r->live;
		r->a->note(p, size);
	}
	return p;
}

static void r_free(struct run *r, void *p, size_t size)
{
	r->a->release(p);
	if (r->measuring)
		r->live -= size;
}

/* ---- workloads: each returns the number of ops it timed ---- */

struct workload {
	const char *name;
	size_t n;     /* objects, live set or iterations */
	size_t steps; /* steady-state steps, timed */
	size_t warm;  /* steady-state steps before timing */
	size_t (*run)(struct run *r, const struct workload *w, double *ns);
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static size_t many_boxes(struct run *r, const struct workload *w, double *ns)
{
	double t0 = now_ns();

	for (size_t i = 0; i < w->n; i++) {
		char *p = r_alloc(r, 32, 16);

		p[31] = (char)i;
		r_free(r, p, 32);
	}
	*ns = now_ns() - t0;
	return 2 * w->n;
}

static size_t large_vec(struct run *r, const struct workload *w, double *ns)
{
	double t0 = now_ns();
	uint64_t *v = NULL;
	size_t cap = 0;

	for (size_t i = 0; i < w->n; i++) {
		if (i == cap) {
			cap = cap ? 2 * cap : 1;
			v = r->a->resize(v, cap * sizeof *v);
			if (!v)
				abort();
			if (r->measuring) {
				r->live = r->peak_live = cap * sizeof *v;
				r->a->note(v, cap * sizeof *v);
			}
		}
		v[i] = i;
	}
	*ns = now_ns() - t0;
	r_free(r, v, 0);
	r->live = 0;
	return w->n;
}

/* Random steady state; align_shift_max 0 means align 16 for every alloc. */
static size_t steady_aligned(struct run *r, const struct workload *w, double *ns,
			     unsigned align_kinds)
{
	void **p = scratch(w->n * sizeof *p);
	size_t *size = scratch(w->n * sizeof *size);
	double t0;

	for (size_t i = 0; i < w->n; i++) {
		size[i] = mixed_size(r);
		p[i] = r_alloc(r, size[i], (size_t)16 << rnd(r) % align_kinds);
	}
	t0 = 0;
	for (size_t s = 0; s < w->warm + w->steps; s++) {
		size_t i = rnd(r) % w->n;

		if (s == w->warm)
			t0 = now_ns();
		r_free(r, p[i], size[i]);
		size[i] = mixed_size(r);
		p[i] = r_alloc(r, size[i], (size_t)16 << rnd(r) % align_kinds);
	}
	*ns = now_ns() - t0;
	for (size_t i = 0; i < w->n; i++)
		r_free(r, p[i], size[i]);
	munmap(p, w->n * sizeof *p);
	munmap(size, w->n * sizeof *size);
	return 2 * w->steps;
}

static size_t steady(struct run *r, const struct workload *w, double *ns)
{
	return steady_aligned(r, w, ns, 1);
}

static size_t mixed_align(struct run *r, const struct workload *w, double *ns)
{
	return steady_aligned(r, w, ns, 9);
}

/* Alloc n mixed objects, then free them newest first or oldest first. */
static size_t stack_or_queue(struct run *r, const struct workload *w, double *ns, int lifo)
{
	void **p = scratch(w->n * sizeof *p);
	size_t *size = scratch(w->n * sizeof *size);
	double t0;

	for (size_t i = 0; i < w->n; i++)
		size[i] = mixed_size(r);
	t0 = now_ns();
	for (size_t i = 0; i < w->n; i++)
		p[i] = r_alloc(r, size[i], 16);
	for (size_t i = 0; i < w->n; i++) {
		size_t k = lifo ? w->n - 1 - i : i;

		r_free(r, p[k], size[k]);
	}
	*ns = now_ns() - t0;
	munmap(p, w->n * sizeof *p);
	munmap(size, w->n * sizeof *size);
	return 2 * w->n;
}

static size_t lifo(struct run *r, const struct workload *w, double *ns)
{
	return stack_or_queue(r, w, ns, 1);
}

static size_t fifo(struct run *r, const struct workload *w, double *ns)
{
	return stack_or_queue(r, w, ns, 0);
}

static const struct workload workloads[] = {
	/* name            n        steps    warm */
	{ "many_boxes",     1000000, 0,       0,     many_boxes },
	{ "large_vec",      1 << 20, 0,       0,     large_vec },
	{ "steady_100",     100,     1000000, 100,   steady },
	{ "steady_1000",    1000,    300000,  1000,  steady },
	{ "steady_10000",   10000,   50000,   10000, steady },
	{ "steady_100000",  100000,  2000,    10000, steady },
	{ "lifo",           100000,  0,       0,     lifo },
	{ "fifo",           100000,  0,       0,     fifo },
	{ "mixed_align",    1000,    200000,  1000,  mixed_align },
};

/* ---- driver ---- */

struct result {
	double ns_per_op[RUNS];
	size_t ops, peak_fp, peak_live;
};

static double run_once(const struct allocator *a, const struct workload *w, int measuring,
		       struct result *res)
{
	struct run r = { a, measuring, 0, 0, 0x853c49e6748fea9bull };
	double ns;

	a->reset();
	res->ops = w->run(&r, w, &ns);
	if (measuring) {
		res->peak_fp = a->peak();
		res->peak_live = r.peak_live;
	}
	return ns / (double)res->ops;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v)
{
	qsort(v, RUNS, sizeof *v, by_value);
	return v[RUNS / 2];
}

/* The measuring run, in a child: it starts from the parent's heap, which
 * has run no workload yet, and reports back through a pipe. */
static void measure_in_child(const struct allocator *a, const struct workload *w,
			     struct result *res)
{
	int fd[2];
	pid_t pid;

	if (pipe(fd) != 0 || (pid = fork()) < 0) {
		perror("bench_heap: fork");
		exit(1);
	}
	if (pid == 0) {
		run_once(a, w, 1, res);
		_exit(write(fd[1], res, sizeof *res) == sizeof *res ? 0 : 1);
	}
	if (read(fd[0], res, sizeof *res) != sizeof *res || waitpid(pid, NULL, 0) != pid)
		exit(1);
	close(fd[0]);
	close(fd[1]);
}

static void time_runs(const struct workload *w, struct result *mine, struct result *theirs)
{
	run_once(&ours, w, 0, mine); /* warm-up: fault the pages in */
	run_once(&glibc, w, 0, theirs);
	for (int i = 0; i < RUNS; i++) {
		mine->ns_per_op[i] = run_once(&ours, w, 0, mine);
		theirs->ns_per_op[i] = run_once(&glibc, w, 0, theirs);
	}
}

static void print_row(const struct workload *w, struct result *mine, struct result *theirs)
{
	double a = median(mine->ns_per_op), b = median(theirs->ns_per_op);
	double live = (double)mine->peak_live;

	printf("%-14s %9zu %10.1f %10.1f %7.2fx %10.1f %10.1f %5.2fx %10.1f %5.2fx\n",
	       w->name, mine->ops, a, b, a / b, live / 1024, mine->peak_fp / 1024.0,
	       mine->peak_fp / live, theirs->peak_fp / 1024.0, theirs->peak_fp / live);
}

#define NWORK (sizeof workloads / sizeof workloads[0])

int main(void)
{
	static struct result mine[NWORK], theirs[NWORK];

	region = mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (region == MAP_FAILED) {
		perror("bench_heap: mmap");
		return 1;
	}
	for (size_t i = 0; i < NWORK; i++) {
		run_once(&ours, &workloads[i], 1, &mine[i]);
		measure_in_child(&glibc, &workloads[i], &theirs[i]);
	}
	printf("%-14s %9s %10s %10s %8s %10s %10s %6s %10s %6s\n", "workload", "ops/run",
	       "ours ns/op", "glibc ns", "ratio", "live KiB", "ours KiB", "/live",
	       "glibc KiB", "/live");
	for (size_t i = 0; i < NWORK; i++) {
		time_runs(&workloads[i], &mine[i], &theirs[i]);
		print_row(&workloads[i], &mine[i], &theirs[i]);
		fflush(stdout);
	}
	return 0;
}
