/*
 * preload.c - the kernel heap (heap/heap.c) as a process's malloc family,
 * loaded with LD_PRELOAD, so the kernel's allocator can be tried on real
 * programs (python3, sqlite3, gcc).
 *
 * Owns one region of address space: a large PROT_NONE, MAP_NORESERVE
 * reservation, made readable and writable from its start as the heap
 * grows.  heap.c manages the accessible part; when an allocation does
 * not fit, the next pages are opened with mprotect and handed over with
 * heap_extend.  Growth is geometric (at least 1/8 of the current size),
 * so heap_extend, which may move side structures at the region's end,
 * runs rarely.  Memory is never given back to the system.
 *
 * One pthread mutex guards the heap and every counter; fork holds it so a
 * child never inherits it half-changed.  Nothing here calls malloc: no
 * stdio, and messages go out with write(2).  A pointer the heap refuses
 * (double free, interior or foreign pointer, damaged header) is reported
 * on stderr and the process stops with abort(), as musl does.
 *
 * Environment: HEAP_PRELOAD_STATS=1 prints one line of counters on stderr
 * at exit, and the result of heap_check over the whole heap.
 */
#define _GNU_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include "heap.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define PAGE 4096ul
#define RESERVE_MAX ((size_t)32 << 30) /* first try: 32 GiB of address space */
#define RESERVE_MIN ((size_t)64 << 20) /* give up below 64 MiB */
#define INITIAL ((size_t)1 << 20)      /* the first heap: 1 MiB */

_Static_assert(RESERVE_MAX <= HEAP_MAX_SIZE, "one heap covers the whole reservation");

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* True in the thread that is forking, from fork_prepare until the fork
 * handlers after it (and in its copy, the child's one thread): that
 * thread holds the lock, every other waits.  Other libraries' fork
 * handlers run inside that window, in that thread, and may allocate;
 * they must not wait for a lock their own thread holds.  Which of them
 * run inside it depends on the order the handlers were registered in,
 * which this library does not control: the constructors of the libraries
 * a program links against run before this one's (check.py:
 * fork_handlers_allocate). */
static __thread bool forking __attribute__((tls_model("initial-exec")));

static void lock_heap(void)
{
	if (!forking)
		pthread_mutex_lock(&lock);
}

static void unlock_heap(void)
{
	if (!forking)
		pthread_mutex_unlock(&lock);
}

static struct heap heap;
static uintptr_t region;  /* start of the reservation; 0 until the first call */
static size_t reserved;   /* bytes reserved at region */
static size_t committed;  /* [region, region + committed) is read-write */
static uintptr_t dirty;   /* below it, bytes may have been written: see calloc */

/* Counters for HEAP_PRELOAD_STATS, changed under the lock. */
static struct {
	size_t allocs, frees, reallocs, extends;
} count;

/* ---- Messages without malloc ---------------------------------------------- */

/* Where messages go: stderr, or for the exit line a copy of it taken at
 * start (some programs, coreutils among them, close stderr at exit). */
static int say_fd = 2;

static void say(const char *s)
{
	size_t n = strlen(s);

	while (n) {
		ssize_t w = write(say_fd, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* Write x in base 10 or 16 into buf (at least 24 bytes); returns buf. */
static char *fmt_num(char *buf, uintptr_t x, unsigned base)
{
	char tmp[24];
	int n = 0;
	char *p = buf;

	do {
		tmp[n++] = "0123456789abcdef"[x % base];
		x /= base;
	} while (x);
	if (base == 16) {
		*p++ = '0';
		*p++ = 'x';
	}
	while (n)
		*p++ = tmp[--n];
	*p = '\0';
	return buf;
}

static void say_num(uintptr_t x, unsigned base)
{
	char buf[24];

	say(fmt_num(buf, x, base));
}

/* A pointer the heap refused: a bug in the program.  Say which call, which
 * pointer and why, then stop before the damage spreads. */
static _Noreturn void refuse(const char *who, const void *ptr, int err)
{
	say("heap-preload: ");
	say(who);
	say("(");
	say_num((uintptr_t)ptr, 16);
	say("): ");
	say(err == HEAP_ECORRUPT ? "the heap is corrupt around this block"
				 : "not a live block (double free, interior or foreign pointer)");
	say("\n");
	abort();
}

/* The heap found a free block's header overwritten while allocating for
 * `who` and now refuses everything.  Not "out of memory": say so and
 * stop, as for a refused pointer.  Lock held; abort() does not return. */
static _Noreturn void corrupt(const char *who, size_t size)
{
	say("heap-preload: ");
	say(who);
	say("(");
	say_num(size, 10);
	say("): the heap is corrupt: a free block's header was overwritten "
	    "(a write past the end of a block, or after its free)\n");
	abort();
}

/* ---- The region ------------------------------------------------------------- */

/* Reserve address space, halving the request until the system agrees.
 * Returns false when even RESERVE_MIN is refused. */
static bool reserve(void)
{
	for (size_t size = RESERVE_MAX; size >= RESERVE_MIN; size /= 2) {
		void *p = mmap(NULL, size, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p != MAP_FAILED) {
			region = (uintptr_t)p;
			reserved = size;
			return true;
		}
	}
	return false;
}

/* Open [region + committed, + bytes) for reading and writing. */
static bool commit(size_t bytes)
{
	if (bytes > reserved - committed ||
	    mprotect((void *)(region + committed), bytes, PROT_READ | PROT_WRITE) != 0)
		return false;
	committed += bytes;
	return true;
}

/* The first call: reserve, open INITIAL bytes, make them the heap.
 * Called with the lock held; false leaves everything for a later try. */
static bool init_locked(void)
{
	if (region)
		return heap.ready;
	if (!reserve())
		return false;
	if (!commit(INITIAL) || heap_init(&heap, (void *)region, committed) != 0) {
		munmap((void *)region, reserved);
		region = reserved = committed = 0;
		return false;
	}
	dirty = region + committed; /* the first hole's header, the index */
	return true;
}

/* Make room for a block of size bytes aligned to align: open what
 * heap_extend_need says it takes (the heap's index at the region's end
 * takes its share of every extension), and at least 1/8 of the heap,
 * page-rounded; then heap_extend.  Returns false (nothing changed) when
 * no extension can help or the reservation cannot hold it. */
static bool grow_locked(size_t size, size_t align)
{
	size_t room = reserved - committed, need, by;
	uintptr_t old_end = region + committed;

	need = heap_extend_need(&heap, size, align);
	if (need == 0 || need > room)
		return false;
	by = committed / 8 > need ? committed / 8 : need;
	by = (by + PAGE - 1) & ~(PAGE - 1);
	if (by > room)
		by = room & ~(PAGE - 1);
	if (by < need || !commit(by))
		return false;
	/* The index at the old end becomes heap now, old bytes in it.  The
	 * new pages stay zero up to the new index, which lies past every
	 * block until the next extend. */
	dirty = old_end > dirty ? old_end : dirty;
	if (heap_extend(&heap, by) != 0) {
		/* Only a corrupt heap refuses bytes the reservation holds. */
		refuse("heap_extend", (void *)old_end, HEAP_ECORRUPT);
	}
	count.extends++;
	return true;
}

/* Bytes past a block's requested end that may be written once it is
 * handed out: its payload holds up to 32 more (heap.h, heap_usable_size),
 * and when the payload ends short of that, at most 16 past the request,
 * the heap may write the header of the hole it leaves after the block
 * there, which ends 32 past at most (calloc_boundary in cases.c). */
#define WRITTEN_PAST 32

/* A block of size bytes at p was handed out: its bytes, and the header
 * after it, may be written from now on. */
static void written(const void *p, size_t size)
{
	uintptr_t end = (uintptr_t)p + size + WRITTEN_PAST;

	dirty = end > dirty ? end : dirty;
}

/* Where the bytes of a block handed out now stop needing a memset: pages
 * at or above `dirty` are as mmap gave them, zero.  HEAP_POISON builds
 * fill every hole, fresh ones too. */
static uintptr_t zero_from(void)
{
#ifdef HEAP_POISON
	return UINTPTR_MAX;
#else
	return dirty;
#endif
}

/* heap_alloc, growing the heap once when nothing fits; *zero, if asked
 * for, gets zero_from() as it was for the block (calloc).  Lock held. */
static void *alloc_locked(size_t size, size_t align, uintptr_t *zero)
{
	void *p;

	if (!init_locked())
		return NULL;
	p = heap_alloc(&heap, size, align);
	if (!p && !heap_broken(&heap) && grow_locked(size, align))
		p = heap_alloc(&heap, size, align);
	if (!p && heap_broken(&heap))
		corrupt("malloc", size);
	if (p) {
		if (zero)
			*zero = zero_from();
		count.allocs++;
		written(p, size);
	}
	return p;
}

/* ---- The malloc family ----------------------------------------------------- */

/* Every allocating entry point: size bytes aligned to align (a power of
 * two), or NULL with errno ENOMEM; *zero as alloc_locked says. */
static void *allocate(size_t size, size_t align, uintptr_t *zero)
{
	void *p;

	lock_heap();
	p = alloc_locked(size, align, zero);
	unlock_heap();
	if (!p)
		errno = ENOMEM;
	return p;
}

EXPORT void *malloc(size_t size)
{
	return allocate(size, HEAP_ALIGN, NULL);
}

/* n * size zeroed bytes; NULL with ENOMEM when the product overflows.
 * The heap does not zero: reused blocks hold old data.  But a block in
 * memory no call has written yet is zero already, and clearing it would
 * make every page of it resident: calloc(1, 1 << 30) would cost a GiB
 * before the program writes a byte.  So only the part below `dirty` is
 * cleared, as glibc does for fresh memory at the top of its heap. */
EXPORT void *calloc(size_t n, size_t size)
{
	uintptr_t zero = 0;
	size_t total;
	void *p;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	p = allocate(total, HEAP_ALIGN, &zero);
	if (p && zero > (uintptr_t)p)
		memset(p, 0, zero - (uintptr_t)p < total ? zero - (uintptr_t)p : total);
	return p;
}

/* free(ptr) for the call `who`; a pointer the heap refuses stops the
 * process. */
static void release(const char *who, void *ptr)
{
	int err;

	if (!ptr)
		return;
	lock_heap();
	err = region ? heap_free(&heap, ptr) : HEAP_EINVAL;
	if (!err)
		count.frees++;
	unlock_heap();
	if (err)
		refuse(who, ptr, err);
}

EXPORT void free(void *ptr)
{
	release("free", ptr);
}

/* heap_realloc, and when it returns NULL: a bad pointer stops the process,
 * a full heap grows once and retries.  Lock held, ptr not NULL. */
static void *realloc_locked(void *ptr, size_t size, int *bad)
{
	void *p = region ? heap_realloc(&heap, ptr, size) : NULL;

	if (!p && region && heap_broken(&heap))
		corrupt("realloc", size); /* broken by this call: ptr did nothing wrong */
	if (!p)
		*bad = region ? heap_check_ptr(&heap, ptr) : HEAP_EINVAL;
	if (!p && !*bad && grow_locked(size, HEAP_ALIGN))
		p = heap_realloc(&heap, ptr, size);
	if (p) {
		count.reallocs++;
		written(p, size);
	}
	return p;
}

/* glibc's choices: realloc(NULL, n) is malloc(n); realloc(p, 0) frees p
 * and returns NULL.  On failure p is untouched and errno is ENOMEM. */
EXPORT void *realloc(void *ptr, size_t size)
{
	int bad = 0;
	void *p;

	if (!ptr)
		return malloc(size);
	if (size == 0) {
		release("realloc", ptr);
		return NULL;
	}
	lock_heap();
	p = realloc_locked(ptr, size, &bad);
	unlock_heap();
	if (bad)
		refuse("realloc", ptr, bad);
	if (!p)
		errno = ENOMEM;
	return p;
}

/* realloc(ptr, n * size), NULL with ENOMEM when the product overflows. */
EXPORT void *reallocarray(void *ptr, size_t n, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(ptr, total);
}

static bool power_of_two(size_t x)
{
	return x && !(x & (x - 1));
}

/* POSIX: align must be a power of two and a multiple of sizeof(void *),
 * else EINVAL; ENOMEM when no room.  *out is set only on success. */
EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
	void *p;

	if (!power_of_two(align) || align % sizeof(void *))
		return EINVAL;
	lock_heap();
	p = alloc_locked(size, align, NULL);
	unlock_heap();
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

/* C11 as current glibc (2.38 and later) reads it: any power of two is
 * taken, size need not be a multiple of it; anything else is NULL with
 * EINVAL. */
EXPORT void *aligned_alloc(size_t align, size_t size)
{
	if (!power_of_two(align)) {
		errno = EINVAL;
		return NULL;
	}
	return allocate(size, align, NULL);
}

/* glibc's memalign: an alignment that is not a power of two is rounded up
 * to the next one; one too large to round is NULL with EINVAL. */
EXPORT void *memalign(size_t align, size_t size)
{
	size_t a = HEAP_ALIGN;

	if (align > SIZE_MAX / 2 + 1) {
		errno = EINVAL;
		return NULL;
	}
	while (a < align)
		a *= 2;
	return allocate(size, a, NULL);
}

EXPORT void *valloc(size_t size)
{
	return allocate(size, PAGE, NULL);
}

/* valloc with size rounded up to whole pages (ENOMEM if that wraps). */
EXPORT void *pvalloc(size_t size)
{
	if (size > SIZE_MAX - (PAGE - 1)) {
		errno = ENOMEM;
		return NULL;
	}
	return allocate((size + PAGE - 1) & ~(PAGE - 1), PAGE, NULL);
}

/* The bytes ptr's block really holds; 0 for NULL or a pointer that is not
 * a live block (glibc does not check; we do, and report 0). */
EXPORT size_t malloc_usable_size(void *ptr)
{
	size_t n;

	lock_heap();
	n = region ? heap_usable_size(&heap, ptr) : 0;
	unlock_heap();
	return n;
}

/* ---- fork and exit ---------------------------------------------------------- */

static void fork_prepare(void)
{
	pthread_mutex_lock(&lock);
	forking = true;
}

static void fork_release(void)
{
	forking = false;
	pthread_mutex_unlock(&lock);
}

static bool stats_wanted(void)
{
	const char *env = getenv("HEAP_PRELOAD_STATS");

	return env && strcmp(env, "1") == 0;
}

/* A copy of stderr for the exit line; -1 when stats are off. */
static int stats_fd = -1;

/* Runs when the library is loaded, outside any malloc call, so
 * pthread_atfork may allocate. */
__attribute__((constructor)) static void preload_start(void)
{
	pthread_atfork(fork_prepare, fork_release, fork_release);
	if (stats_wanted())
		stats_fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
}

/* One counter with its name, for the exit line. */
static void say_count(const char *name, size_t value)
{
	say(" ");
	say(name);
	say("=");
	say_num(value, 10);
}

/* HEAP_PRELOAD_STATS=1: one line of counters at exit, e.g.
 * "heap-preload: allocs=... frees=... reallocs=... extends=... live=...
 *  heap_bytes=... reserved=... heap_check=ok" */
__attribute__((destructor)) static void preload_stop(void)
{
	struct heap_stats s;
	int check;

	if (stats_fd < 0)
		return;
	lock_heap();
	say_fd = stats_fd;
	heap_stats(&heap, &s);
	check = heap.ready ? heap_check(&heap) : 0;
	say("heap-preload:");
	say_count("allocs", count.allocs);
	say_count("frees", count.frees);
	say_count("reallocs", count.reallocs);
	say_count("extends", count.extends);
	say_count("live", s.allocations);
	say_count("heap_bytes", s.size);
	say_count("reserved", reserved);
	say(check == 0 ? " heap_check=ok\n" : " heap_check=CORRUPT\n");
	say_fd = 2;
	unlock_heap();
}
