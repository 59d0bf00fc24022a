/*
 * cases.c - small programs that check the malloc family of
 * libheap-preload.so from the outside, as any program would use it.
 *
 *   cases NAME     run one case; exit 0 when every check held, 1 (with a
 *                  line on stderr per broken check) otherwise
 *
 * check.py runs each case with LD_PRELOAD and HEAP_PRELOAD_STATS=1 and
 * also reads what the library prints.  The bad-pointer cases print the
 * pointer they pass on stdout, then expect to be stopped by abort();
 * reaching their end is a failure.
 */
#define _GNU_SOURCE /* reallocarray, memalign, valloc, pvalloc */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,   \
				__LINE__, #cond);                                \
			failures++;                                              \
		}                                                                \
	} while (0)

static int aligned(const void *p, size_t align)
{
	return (uintptr_t)p % align == 0;
}

/* x, unknown to the compiler: gcc refuses to build calls with sizes no
 * object can have, and those are exactly what some checks pass. */
static size_t opaque(size_t x)
{
	volatile size_t v = x;

	return v;
}

/* Tell check.py which pointer is about to be refused, before the abort. */
static void announce(const void *p)
{
	printf("bad pointer %p\n", p);
}

/* Expect abort() in free, with the pointer and the reason on stderr. */
static void double_free(void)
{
	char *p = malloc(100);

	free(p);
	announce(p);
	free(p);
}

static void interior_free(void)
{
	char *p = malloc(100);

	announce(p + 16);
	free(p + 16);
}

static void foreign_free(void)
{
	static char not_ours[64];

	announce(not_ours + 16);
	free(not_ours + 16);
}

/* Expect abort() in realloc: a freed pointer, not a full heap. */
static void realloc_freed(void)
{
	char *p = malloc(100);

	free(p);
	announce(p);
	p = realloc(p, 200);
	printf("realloc returned %p\n", (void *)p);
}

/* Every power of two from 16 to 1 MiB, through each aligned entry point. */
static void alignments(void)
{
	void *p = NULL;

	CHECK(posix_memalign(&p, 4096, 100) == 0 && aligned(p, 4096));
	if (p)
		memset(p, 1, 100);
	free(p);
	for (size_t a = 16; a <= (1u << 20); a *= 2) {
		void *q = NULL, *r = aligned_alloc(a, 3 * a / 2), *s = memalign(a, 10);
		CHECK(posix_memalign(&q, a, a + 1) == 0 && aligned(q, a));
		CHECK(r && aligned(r, a));
		CHECK(s && aligned(s, a));
		free(q);
		free(r);
		free(s);
	}
	p = valloc(10);
	CHECK(p && aligned(p, 4096));
	free(p);
	p = pvalloc(5000);
	CHECK(p && aligned(p, 4096) && malloc_usable_size(p) >= 8192);
	free(p);
}

/* The arguments C and POSIX reject, and what glibc does with them. */
static void bad_alignments(void)
{
	void *p = &p;

	CHECK(posix_memalign(&p, 24, 10) == EINVAL && p == &p); /* not a power of two */
	CHECK(posix_memalign(&p, 4, 10) == EINVAL && p == &p);  /* under sizeof(void *) */
	CHECK(posix_memalign(&p, 0, 10) == EINVAL && p == &p);
	errno = 0;
	CHECK(aligned_alloc(3, 10) == NULL && errno == EINVAL);
	errno = 0;
	CHECK(aligned_alloc(0, 10) == NULL && errno == EINVAL);
	p = memalign(48, 10); /* glibc rounds up to 64 */
	CHECK(p && aligned(p, 64));
	free(p);
	errno = 0;
	CHECK(memalign(opaque(SIZE_MAX / 2 + 2), 10) == NULL && errno == EINVAL);
}

/* calloc refuses a product that wraps, and zeroes reused memory. */
static void calloc_cases(void)
{
	unsigned char *p;
	int zero = 1;

	/* (2^61 + 1) * 8 wraps to 8: a small block would be a disaster. */
	errno = 0;
	CHECK(calloc(opaque(SIZE_MAX / 8 + 2), 8) == NULL && errno == ENOMEM);
	errno = 0;
	CHECK(reallocarray(NULL, opaque(SIZE_MAX / 8 + 2), 8) == NULL && errno == ENOMEM);
	p = malloc(4000);
	memset(p, 0xaa, 4000);
	free(p);
	p = calloc(1000, 4); /* first fit: the same bytes come back */
	for (size_t i = 0; p && i < 4000; i++)
		zero &= p[i] == 0;
	CHECK(p && zero);
	free(p);
}

/* Resident bytes of this process, from /proc/self/statm; read without
 * stdio, whose buffers would come from the heap under test. */
static long resident(void)
{
	char buf[128] = { 0 };
	int fd = open("/proc/self/statm", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
	char *at = strchr(buf, ' ');

	if (fd >= 0)
		close(fd);
	return n > 0 && at ? strtol(at + 1, NULL, 10) * sysconf(_SC_PAGESIZE) : -1;
}

/* A big calloc costs no memory until it is written: the pages past what
 * the heap ever handed out are zero already and are left alone.  The
 * block starts in bytes that were written and freed, so the part below
 * them must still be cleared. */
static void calloc_fresh(void)
{
	size_t used = (size_t)8 << 20, n = (size_t)512 << 20;
	unsigned char *p = malloc(used), *q;
	long before;
	int zero = 1;

	CHECK(p != NULL);
	if (!p)
		return;
	memset(p, 0xaa, used);
	free(p);
	before = resident();
	q = calloc(1, n);
	CHECK(q == p); /* first fit: the freed bytes come first */
	if (!q)
		return;
	CHECK(before > 0 && resident() - before < (long)(64 << 20));
	for (size_t i = 0; i < n; i++)
		zero &= q[i] == 0;
	CHECK(zero);
	free(q);
}

/* A calloc over bytes written before clears all of them, to the last:
 * the payload a malloc(n) had (up to 32 bytes past n) and the header of
 * the hole the heap left after it, which the free of another block wrote.
 * Each block lies just past everything written before it, where calloc
 * clears only what it must. */
static void calloc_boundary(void)
{
	unsigned char *other = malloc(64), *past = malloc(2 << 20), *q, *r;
	int zero = 1;

	/* past takes the heap beyond its first MiB, all of which calloc
	 * clears: the blocks after it lie in memory the heap grew into. */
	CHECK(other != NULL && past != NULL);
	for (size_t n = 0; other && n < 100; n++) {
		q = malloc(n);
		CHECK(q != NULL);
		if (!q)
			return;
		memset(q, 0xaa, malloc_usable_size(q));
		free(other); /* the heap writes the header after q's block now */
		other = malloc(64);
		free(q);
		r = calloc(1, n + 256); /* over q's bytes and that header */
		CHECK(r == q);
		for (size_t i = 0; r && i < n + 256; i++)
			zero &= r[i] == 0;
		/* r stays: the next block goes past it. */
	}
	CHECK(zero);
}

/* malloc_usable_size covers the request, and all of it may be written. */
static void usable_size(void)
{
	for (size_t n = 0; n < 5000; n += 7) {
		unsigned char *p = malloc(n);
		size_t u = malloc_usable_size(p);
		CHECK(p && u >= n);
		if (p)
			memset(p, 0x5a, u); /* heap_check at exit sees any overflow */
		free(p);
	}
	CHECK(malloc_usable_size(NULL) == 0);
}

/* realloc keeps contents, realloc(NULL, n) allocates, realloc(p, 0) frees
 * (glibc), and sizes nobody can have fail cleanly with ENOMEM. */
static void realloc_cases(void)
{
	char *p = realloc(NULL, 10), *q, *keep;
	int same = 1;

	CHECK(p != NULL);
	for (int i = 0; i < 10; i++)
		p[i] = (char)i;
	keep = malloc(16); /* a used block above p: growing must move it */
	q = realloc(p, 100000);
	for (int i = 0; q && i < 10; i++)
		same &= q[i] == (char)i;
	CHECK(q && same);
	errno = 0;
	CHECK(realloc(q, opaque(SIZE_MAX - 8)) == NULL && errno == ENOMEM);
	CHECK(malloc_usable_size(q) >= 100000); /* still live after the failure */
	CHECK(realloc(q, 0) == NULL);
	CHECK(malloc_usable_size(q) == 0); /* freed: no longer a live block */
	p = malloc(0);
	q = malloc(0);
	CHECK(p && q && p != q);
	free(p);
	free(q);
	free(keep);
	errno = 0;
	CHECK(malloc(opaque(SIZE_MAX)) == NULL && errno == ENOMEM);
	errno = 0;
	CHECK(malloc(opaque((size_t)1 << 50)) == NULL && errno == ENOMEM);
}

/* One large block makes the heap grow far past its first megabyte. */
static void large_block(void)
{
	size_t n = (size_t)300 << 20;
	char *p = malloc(n);

	CHECK(p != NULL);
	if (!p)
		return;
	p[0] = 1;
	p[n - 1] = 2;
	CHECK(p[0] == 1 && p[n - 1] == 2);
	free(p);
}

/* ---- Threads -------------------------------------------------------------- */

#define THREADS 4
#define OPS 100000
#define SLOTS 64

struct slot {
	unsigned char *p;
	size_t n;
	unsigned char tag;
};

/* Each thread keeps SLOTS blocks filled with its own tag byte and checks
 * every byte before freeing: a block handed out twice, or overwritten by
 * the heap, shows as a wrong byte. */
static void *churn(void *arg)
{
	uintptr_t id = (uintptr_t)arg, bad = 0;
	struct slot s[SLOTS] = { 0 };
	unsigned x = (unsigned)id * 2654435761u + 1;

	for (int op = 0; op < OPS; op++) {
		struct slot *k;
		x = x * 1103515245u + 12345u;
		k = &s[(x >> 8) % SLOTS];
		for (size_t i = 0; i < k->n; i++)
			bad += k->p[i] != k->tag;
		if ((x >> 20) % 4 == 0 && k->p) { /* grow or shrink in place */
			k->n = 1 + (x >> 4) % 1024;
			k->p = realloc(k->p, k->n);
		} else {
			free(k->p);
			k->n = 1 + (x >> 4) % 1024;
			k->p = malloc(k->n);
		}
		if (!k->p)
			return (void *)(uintptr_t)-1;
		k->tag = (unsigned char)(id * 64 + op);
		memset(k->p, k->tag, k->n);
	}
	for (int j = 0; j < SLOTS; j++)
		free(s[j].p);
	return (void *)bad;
}

static void threads(void)
{
	pthread_t t[THREADS];
	void *bad;

	for (uintptr_t i = 0; i < THREADS; i++)
		CHECK(pthread_create(&t[i], NULL, churn, (void *)i) == 0);
	for (int i = 0; i < THREADS; i++) {
		CHECK(pthread_join(t[i], &bad) == 0);
		CHECK(bad == NULL);
	}
}

/* ---- fork ---------------------------------------------------------------- */

static volatile int stop_busy;

static void *busy(void *arg)
{
	(void)arg;
	while (!stop_busy)
		free(malloc(64));
	return NULL;
}

/* fork n times; each child allocates once, and must exit 0. */
static void fork_times(int n)
{
	for (int i = 0; i < n; i++) {
		int status = -1;
		pid_t pid = fork();
		if (pid == 0) {
			free(malloc(100));
			_exit(0);
		}
		CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
}

/* fork while another thread allocates without pause: without the
 * pthread_atfork handlers a child would inherit a held lock and hang in
 * its first malloc (check.py runs this under a timeout). */
static void fork_while_busy(void)
{
	pthread_t t;

	CHECK(pthread_create(&t, NULL, busy, NULL) == 0);
	fork_times(200);
	stop_busy = 1;
	pthread_join(t, NULL);
}

int forklib_linked(void); /* forklib.c */

/* fork with forklib's handlers, which allocate, registered before the
 * preload's: in the parent before and after the fork, and in the child
 * before the preload releases its lock there. */
static void fork_handlers_allocate(void)
{
	CHECK(forklib_linked());
	fork_times(20);
}

/* Expect abort() in the malloc after an overrun of a onto the header of
 * the freed block b above it: a corrupt heap, not "out of memory". */
static void overrun_then_malloc(void)
{
	char *a = malloc(2000), *b = malloc(2000);

	CHECK(malloc(16) != NULL); /* keeps b's hole off the top */
	free(b);
	memset(a, 'A', malloc_usable_size(a) + 32); /* 32 bytes too many */
	malloc(2000);
	fprintf(stderr, "malloc returned on a corrupt heap\n");
	failures++;
}

static const struct {
	const char *name;
	void (*run)(void);
} cases[] = {
	{ "double_free", double_free },
	{ "interior_free", interior_free },
	{ "foreign_free", foreign_free },
	{ "realloc_freed", realloc_freed },
	{ "alignments", alignments },
	{ "bad_alignments", bad_alignments },
	{ "calloc", calloc_cases },
	{ "calloc_fresh", calloc_fresh },
	{ "calloc_boundary", calloc_boundary },
	{ "usable_size", usable_size },
	{ "realloc", realloc_cases },
	{ "large_block", large_block },
	{ "threads", threads },
	{ "fork_while_busy", fork_while_busy },
	{ "fork_handlers_allocate", fork_handlers_allocate },
	{ "overrun_then_malloc", overrun_then_malloc },
};

int main(int argc, char **argv)
{
	/* No stdio buffer: it would be malloc'd at the first printf, and first
	 * fit would hand it the block a bad-pointer case has just freed. */
	setvbuf(stdout, NULL, _IONBF, 0);
	for (size_t i = 0; argc == 2 && i < sizeof cases / sizeof cases[0]; i++) {
		if (strcmp(argv[1], cases[i].name) == 0) {
			cases[i].run();
			return failures ? 1 : 0;
		}
	}
	fprintf(stderr, "usage: cases NAME; names:");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		fprintf(stderr, " %s", cases[i].name);
	fprintf(stderr, "\n");
	return 2;
}
