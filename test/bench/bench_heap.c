/*
 * bench_heap.c - heap/heap.c against the list reference, glibc, jemalloc
 * and mimalloc: the same operations on each, one table.
 *
 *   bench_heap                      the table (and instructions per op)
 *   bench_heap --markdown           the same as a markdown table
 *   bench_heap --only ALLOC WORK    one run of one allocator on one
 *                                   workload, for perf or callgrind
 *     --warm                        after one untimed run (another seed;
 *                                   the table warms up from the same one)
 *     --steps-x N                   N times the steady-state steps: a
 *                                   longer timed part, for steadier figures
 *
 * Five allocators in one process: jemalloc and mimalloc both export
 * malloc, so linking either would replace glibc's everywhere.  Instead
 * they are dlopen'd with RTLD_LOCAL and called only through their own
 * APIs (mallocx/rallocx/dallocx, mi_malloc/mi_malloc_aligned_at/...), so
 * every plain malloc stays glibc's; bench_alloc.c gives the details (a
 * static-TLS re-exec for jemalloc, a mimalloc 2.0.9 alignment bug).  All
 * five are reached through one function-pointer table, so each pays the
 * same call overhead, and every run of every allocator starts its PRNG
 * from the same seed, so all of them see the same operation sequence.
 *
 * Order of a full run: first every workload is run once per allocator,
 * untimed, in a child process forked from the pristine parent, to measure
 * footprints (so memory an allocator kept from an earlier run cannot hide
 * growth).  Then, per workload, one untimed warm-up run per allocator and
 * RUNS timed rounds; a round runs every allocator once, starting with a
 * different one each round, so noise hits all of them alike.  Each
 * allocator's median over the rounds is reported, and the ratios are of
 * those medians (which may come from different rounds).  Times are the
 * thread's CPU time (CLOCK_THREAD_CPUTIME_ID, user + kernel, so page
 * faults count): on a
 * machine shared with other work, the time spent running someone else is
 * left out; on an idle one it equals wall time.  The bench's own arrays
 * are mmap'd and touched before any of that, so they count in no
 * allocator.
 *
 * Workloads (an "op" is one alloc, free or realloc call, except large_vec):
 *   many_boxes    alloc a 32-byte box, write it, free it; repeated.
 *   large_vec     push_back of 8-byte elements to 1M, capacity doubling by
 *                 realloc; an op is one push (amortised realloc cost).
 *   steady_N      N live objects of mixed sizes (16 + r % 2^(4..12), so
 *                 16..4111 bytes, log-spread); per step free a random live
 *                 one and allocate a new one in its place.  The fill and a
 *                 churn of `warm` steps (to fragment the heap) are not
 *                 timed.  Steps shrink as N grows because the list
 *                 reference is O(holes) per op; every allocator runs the
 *                 same steps, so the whole bench stays within minutes.
 *   lifo          alloc N mixed objects, free them newest first.
 *   fifo          alloc N mixed objects, free them oldest first.
 *   mixed_align   steady state, 1,000 live, each alloc aligned to
 *                 16 << (r % 9), i.e. 16..4096, one in nine plain 16.
 *
 * Peak footprint, from the measuring run:
 *   ours, list    the highest payload byte ever handed out + 1, minus the
 *                 heap's base: how much of the region must be backed.
 *                 Both choose the same blocks, so "vs list" says "same"
 *                 when the peaks and every offset handed out agree, else
 *                 the peak difference in bytes, or "addrs" when only the
 *                 offsets differ.  "index" is ours' heap_stats index_bytes,
 *                 the side structures it keeps outside that span.
 *   glibc, jemalloc, mimalloc
 *                 growth of the child's resident anonymous memory
 *                 (/proc/self/statm resident - shared), sampled every 1024
 *                 allocations, after every one of 64 KiB or more, at the
 *                 point of most live data and at the end.  The measuring
 *                 run writes one byte in every page it is given, so RSS
 *                 counts every page handed out, plus the allocator's
 *                 metadata and the free memory it holds.  Same method for
 *                 all three; their own statistics disagree on what counts.
 *   live          the largest sum of requested sizes live at one time.
 *
 * Instructions per op at steady_1000 come from callgrind (perf has no
 * hardware counters on a VM): `--only` runs under
 * valgrind --tool=callgrind --instr-atstart=no, and the bench turns
 * instrumentation on for the timed loop only, so the count is the timed
 * loop's: the allocator plus the bench's own per-op work (PRNG, call
 * through the table, the write), the same for every allocator.
 *
 * Correctness smoke: every run of ours and list calls heap_check (or
 * list_heap_check) after its timed part, while the heap is full, and again
 * at the end, and aborts if it fails; every pointer's alignment is checked.
 * No timing assertions: it prints figures and exits 0.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_alloc.h"
#include "bench_report.h"

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HAVE_CALLGRIND 1
#else
#define HAVE_CALLGRIND 0
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif

#define SAMPLE_EVERY 1024
#define PAGE 4096
#define MAX_LIVE 100000 /* the largest n of any workload below */

/* The bench's own arrays: a live block and its requested size per slot. */
static void **slot;
static size_t *slot_size;

/* ---- one run: the allocator, and what the measuring run records ---- */

struct run {
	const struct allocator *a;
	const char *workload;
	int measuring;
	uint64_t rng;
	double t0, ns;
	/* measuring runs only */
	size_t live, peak_live, allocs;
	uintptr_t high;     /* region heaps: highest payload end */
	uint64_t addr_hash; /* region heaps: every offset handed out */
	size_t rss0, peak_rss;
	size_t index_bytes;
};

static uint64_t rnd(struct run *r)
{
	r->rng ^= r->rng >> 12; /* xorshift64* */
	r->rng ^= r->rng << 25;
	r->rng ^= r->rng >> 27;
	return r->rng * 0x2545f4914f6cdd1dull;
}

/* x scaled to [0, n): the high half of x * n, one multiply (Lemire's
 * reduction).  x % n would be a 64-bit divide, some 15 to 40 cycles: the
 * bench's own work counts in every allocator's time, and made the
 * ratios between them look closer than they are. */
static size_t below(uint64_t x, size_t n)
{
	return (size_t)(((unsigned __int128)x * n) >> 64);
}

static size_t mixed_size(struct run *r)
{
	uint64_t x = rnd(r);

	return 16 + (size_t)(x >> 8) % ((size_t)1 << (4 + x % 9));
}

/* CPU time of this thread, in ns (see the top comment). */
static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Resident anonymous bytes of this process.  read(), not stdio: stdio
 * would allocate from glibc, which may be the allocator being measured. */
static size_t rss_anon(void)
{
	char buf[128];
	unsigned long size, resident, shared;
	int fd = open("/proc/self/statm", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%lu %lu %lu", &size, &resident, &shared) != 3)
		return 0;
	return (resident - shared) * (size_t)sysconf(_SC_PAGESIZE);
}

/* Measuring runs: a footprint sample (a no-op for region heaps, whose
 * footprint r_note tracks exactly). */
static void r_sample(struct run *r)
{
	size_t rss;

	if (!r->measuring || r->a->base)
		return;
	rss = rss_anon();
	if (rss > r->peak_rss)
		r->peak_rss = rss;
}

/* Abort unless the heap passes its own full check. */
static void r_check(struct run *r, const char *when)
{
	if (r->a->check && r->a->check() != 0) {
		fprintf(stderr, "bench_heap: %s: heap check failed %s %s\n", r->a->name, when,
			r->workload);
		abort();
	}
}

static void clock_start(struct run *r)
{
	CALLGRIND_START_INSTRUMENTATION;
	r->t0 = now_ns();
}

/* Stop the clock, then sample and check the heap while it is still full. */
static void clock_stop(struct run *r)
{
	r->ns = now_ns() - r->t0;
	CALLGRIND_STOP_INSTRUMENTATION;
	r_sample(r);
	if (r->measuring && r->a->index_bytes && r->a->index_bytes() > r->index_bytes)
		r->index_bytes = r->a->index_bytes();
	r_check(r, "after the timed part of");
}

/* Measuring runs: record a block just handed out and touch all its pages. */
static void r_note(struct run *r, void *p, size_t size)
{
	unsigned char *q = p;

	if (!r->measuring)
		return;
	if (r->a->base) {
		uintptr_t end = (uintptr_t)p + size;

		r->addr_hash = (r->addr_hash ^ ((uintptr_t)p - r->a->base())) * 0x100000001b3ull;
		if (end > r->high)
			r->high = end;
	}
	for (size_t i = 0; i < size; i += PAGE)
		q[i] = 1;
	if (size)
		q[size - 1] = 1;
	if (++r->allocs % SAMPLE_EVERY == 0 || size >= 65536)
		r_sample(r);
}

static void *r_alloc(struct run *r, size_t size, size_t align)
{
	void *p = r->a->alloc(size, align);

	if (!p || ((uintptr_t)p & (align - 1))) { /* align is a power of two: no divide */
		fprintf(stderr, "bench_heap: %s: %s for %zu bytes aligned %zu\n", r->a->name,
			p ? "misaligned block" : "out of memory", size, align);
		exit(1);
	}
	*(volatile char *)p = 1; /* touch it, as a caller would */
	if (r->measuring) {
		r->live += size;
		if (r->live > r->peak_live)
			r->peak_live = r->live;
		r_note(r, p, size);
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
	size_t (*run)(struct run *r, const struct workload *w);
};

static size_t many_boxes(struct run *r, const struct workload *w)
{
	clock_start(r);
	for (size_t i = 0; i < w->n; i++) {
		char *p = r_alloc(r, 32, 16);

		p[31] = (char)i;
		r_free(r, p, 32);
	}
	clock_stop(r);
	return 2 * w->n;
}

static size_t large_vec(struct run *r, const struct workload *w)
{
	uint64_t *v = NULL;
	size_t cap = 0;

	clock_start(r);
	for (size_t i = 0; i < w->n; i++) {
		if (i == cap) {
			cap = cap ? 2 * cap : 1;
			v = r->a->resize(v, cap * sizeof *v);
			if (!v)
				abort();
			if (r->measuring)
				r->live = r->peak_live = cap * sizeof *v;
			r_note(r, v, cap * sizeof *v);
		}
		v[i] = i;
	}
	clock_stop(r);
	r_free(r, v, 0);
	r->live = 0;
	return w->n;
}

/* --steps-x: how many times the workload's steady-state steps to time. */
static size_t steps_x = 1;

/* Random steady state; each alloc aligned to 16 << (r % align_kinds). */
static size_t steady_aligned(struct run *r, const struct workload *w, unsigned align_kinds)
{
	size_t steps = w->steps * steps_x;

	for (size_t i = 0; i < w->n; i++) {
		slot_size[i] = mixed_size(r);
		slot[i] = r_alloc(r, slot_size[i], (size_t)16 << below(rnd(r), align_kinds));
	}
	r_sample(r);
	for (size_t s = 0; s < w->warm + steps; s++) {
		size_t i = below(rnd(r), w->n);

		if (s == w->warm)
			clock_start(r);
		r_free(r, slot[i], slot_size[i]);
		slot_size[i] = mixed_size(r);
		slot[i] = r_alloc(r, slot_size[i], (size_t)16 << below(rnd(r), align_kinds));
	}
	clock_stop(r);
	for (size_t i = 0; i < w->n; i++)
		r_free(r, slot[i], slot_size[i]);
	return 2 * steps;
}

static size_t steady(struct run *r, const struct workload *w)
{
	return steady_aligned(r, w, 1);
}

static size_t mixed_align(struct run *r, const struct workload *w)
{
	return steady_aligned(r, w, 9);
}

/* Alloc n mixed objects, then free them newest first or oldest first. */
static size_t stack_or_queue(struct run *r, const struct workload *w, int lifo)
{
	for (size_t i = 0; i < w->n; i++)
		slot_size[i] = mixed_size(r);
	clock_start(r);
	for (size_t i = 0; i < w->n; i++)
		slot[i] = r_alloc(r, slot_size[i], 16);
	r_sample(r); /* the most live data; measuring runs only, untimed */
	for (size_t i = 0; i < w->n; i++) {
		size_t k = lifo ? w->n - 1 - i : i;

		r_free(r, slot[k], slot_size[k]);
	}
	clock_stop(r);
	return 2 * w->n;
}

static size_t lifo(struct run *r, const struct workload *w)
{
	return stack_or_queue(r, w, 1);
}

static size_t fifo(struct run *r, const struct workload *w)
{
	return stack_or_queue(r, w, 0);
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

#define NWORK (sizeof workloads / sizeof workloads[0])
#define INSTR_WORKLOAD "steady_1000"

/* ---- driver ---- */

/* Where every run's PRNG starts, so that all allocators see the same
 * operations; --only's warm-up run alone starts elsewhere (see only()). */
#define SEED 0x853c49e6748fea9bull

/* One run from an empty heap, its PRNG started at seed; returns ns per
 * op.  A measuring run also fills res's footprint fields. */
static double run_once_from(const struct allocator *a, const struct workload *w, int measuring,
			    uint64_t seed, struct result *res)
{
	struct run r = { .a = a, .workload = w->name, .measuring = measuring, .rng = seed };

	a->reset();
	if (measuring)
		r.rss0 = r.peak_rss = rss_anon();
	res->ops = w->run(&r, w);
	r_check(&r, "at the end of");
	if (measuring) {
		r_sample(&r);
		res->peak_fp = a->base ? r.high - a->base() : r.peak_rss - r.rss0;
		res->peak_live = r.peak_live;
		res->addr_hash = r.addr_hash;
		res->index_bytes = r.index_bytes;
	}
	return r.ns / (double)res->ops;
}

/* The same from SEED: every run but --only's warm-up. */
static double run_once(const struct allocator *a, const struct workload *w, int measuring,
		       struct result *res)
{
	return run_once_from(a, w, measuring, SEED, res);
}

/* The measuring run, in a child forked from the parent, which has run no
 * workload yet; the child reports back through a pipe. */
static void measure_in_child(const struct allocator *a, const struct workload *w,
			     struct result *res)
{
	int fd[2], status;
	pid_t pid;

	if (pipe(fd) != 0 || (pid = fork()) < 0) {
		perror("bench_heap: fork");
		exit(1);
	}
	if (pid == 0) {
		run_once(a, w, 1, res);
		_exit(write(fd[1], res, sizeof *res) == sizeof *res ? 0 : 1);
	}
	close(fd[1]);
	if (read(fd[0], res, sizeof *res) != sizeof *res || waitpid(pid, &status, 0) != pid ||
	    status != 0) {
		fprintf(stderr, "bench_heap: measuring %s on %s failed\n", a->name, w->name);
		exit(1);
	}
	close(fd[0]);
}

/* The warm-up run, then RUNS rounds, each starting with another allocator. */
static void time_runs(const struct workload *w, struct result res[NALLOC])
{
	for (int k = 0; k < NALLOC; k++)
		if (!allocators[k].missing)
			run_once(&allocators[k], w, 0, &res[k]);
	for (int i = 0; i < RUNS; i++) {
		for (int j = 0; j < NALLOC; j++) {
			int k = (i + j) % NALLOC;

			if (!allocators[k].missing)
				res[k].ns_per_op[i] = run_once(&allocators[k], w, 0, &res[k]);
		}
	}
}

/* The bench's own arrays, mmap'd and touched now so they count in no
 * allocator's footprint. */
static void make_slots(void)
{
	slot = mmap(NULL, MAX_LIVE * (sizeof *slot + sizeof *slot_size), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (slot == MAP_FAILED) {
		perror("bench_heap: mmap");
		exit(1);
	}
	slot_size = (size_t *)(slot + MAX_LIVE);
	memset(slot, 0, MAX_LIVE * (sizeof *slot + sizeof *slot_size));
}

static const struct workload *workload_named(const char *name)
{
	for (size_t i = 0; i < NWORK; i++)
		if (strcmp(workloads[i].name, name) == 0)
			return &workloads[i];
	return NULL;
}

/* --only ALLOC WORKLOAD: one run, its ops and ns/op on stdout; with
 * warm, after an untimed one (like the table's warm-up: a region heap's
 * pages are then mapped, as in the table's timed rounds).  That warm-up
 * starts from another seed: from the same one, ours would replay the very
 * addresses of the run before, whose lines the L3 still holds, and came
 * out some 7 % faster at 10,000 live than in the table, where another
 * allocator runs before it.  (In the table the list usually follows ours
 * over the same region and seed; a cache simulation of that order found
 * it no faster than after another allocator.)  glibc, which keeps its
 * heap from run to run, gains nothing from it. */
static int only(const char *alloc, const char *work, int warm)
{
	const struct allocator *a = allocator_named(alloc);
	const struct workload *w = workload_named(work);
	struct result res;
	double ns;

	if (!a || !w || a->missing) {
		fprintf(stderr, "bench_heap: --only: %s\n",
			!a ? "no such allocator" : !w ? "no such workload" : a->missing);
		return 2;
	}
	if (warm)
		run_once_from(a, w, 0, ~SEED, &res);
	ns = run_once(a, w, 0, &res);
	printf("%s %s ops %zu ns/op %.1f\n", a->name, w->name, res.ops, ns);
	return 0;
}

static void full_run(int markdown)
{
	static struct result res[NWORK][NALLOC];

	for (size_t i = 0; i < NWORK; i++)
		for (int k = 0; k < NALLOC; k++)
			if (!allocators[k].missing)
				measure_in_child(&allocators[k], &workloads[i], &res[i][k]);
	report_header(markdown);
	for (size_t i = 0; i < NWORK; i++) {
		time_runs(&workloads[i], res[i]);
		report_row(markdown, workloads[i].name, res[i]);
	}
	report_legend(markdown);
	report_instructions(markdown, INSTR_WORKLOAD,
			    res[workload_named(INSTR_WORKLOAD) - workloads][OURS].ops, HAVE_CALLGRIND);
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_heap [--markdown | --only ALLOC WORKLOAD [--warm] [--steps-x N]]\n");
	return 2;
}

/* --only ALLOC WORKLOAD and its options. */
static int only_args(int argc, char **argv)
{
	int warm = 0;

	for (int i = 4; i < argc; i++) {
		if (strcmp(argv[i], "--warm") == 0)
			warm = 1;
		else if (strcmp(argv[i], "--steps-x") == 0 && i + 1 < argc &&
			 (steps_x = strtoul(argv[++i], NULL, 10)) > 0)
			continue;
		else
			return usage();
	}
	return only(argv[2], argv[3], warm);
}

int main(int argc, char **argv)
{
	allocators_init(argv);
	make_slots();
	if (argc >= 4 && strcmp(argv[1], "--only") == 0)
		return only_args(argc, argv);
	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--markdown") != 0))
		return usage();
	full_run(argc == 2);
	return 0;
}
