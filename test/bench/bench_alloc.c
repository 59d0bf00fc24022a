/*
 * bench_alloc.c - the five allocators bench_heap.c compares: ours, the
 * list reference, glibc, jemalloc and mimalloc.
 *
 * One process, five allocators.  Linking jemalloc or mimalloc the usual
 * way would replace malloc for the whole process (Debian's libraries both
 * export malloc and free), so glibc would vanish from the comparison and
 * the bench's own stdio would run on them.  Instead both are dlopen'd with
 * RTLD_LOCAL: their symbols stay out of the global scope, so every plain
 * malloc in the process is still glibc's, and the bench calls each one
 * only through its own non-standard API, looked up with dlsym:
 *   jemalloc  mallocx / rallocx / dallocx (MALLOCX_LG_ALIGN for alignment)
 *   mimalloc  mi_malloc / mi_malloc_aligned_at / mi_realloc / mi_free
 * Neither library then calls back into the bench or into the other.
 *
 * One catch: libjemalloc.so.2 keeps its per-thread state in initial-exec
 * TLS (2.6 KiB, flag STATIC_TLS), and glibc leaves only 512 bytes of
 * static TLS spare for libraries loaded later, so dlopen fails with
 * "cannot allocate memory in static TLS block".  The spare is a glibc
 * tunable read at start-up, so allocators_init() sets
 * GLIBC_TUNABLES=glibc.rtld.optional_static_tls=8192 and re-executes the
 * program once.  If that fails, jemalloc is reported missing, not faked.
 * Not under valgrind: there the exec would leave valgrind, so the caller
 * sets the tunable (bench_report.c's callgrind runs inherit it).
 *
 * ours and list share one 256 MiB region (MAP_NORESERVE): a run resets the
 * heap over it, and the two never hold blocks at the same time.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#include "bench_alloc.h"
#include "heap.h"
#include "list_heap.h"

#define REGION_SIZE ((size_t)256 << 20)
#define STATIC_TLS_TUNABLE "glibc.rtld.optional_static_tls=8192"

static unsigned char *region;

/* ---- ours (heap/heap.c) and list (test/reference/list_heap.c) ----
 *
 * The two heaps have the same API, one with the prefix heap_, the other
 * list_heap_, so one macro writes the wrappers of both.  A failing free
 * aborts: the bench only ever frees live blocks. */

#define REGION_HEAP(name, type, api)                                        \
	static struct type name##_heap;                                     \
	static void name##_reset(void)                                      \
	{                                                                   \
		if (api##init(&name##_heap, region, REGION_SIZE) != 0)      \
			abort();                                            \
	}                                                                   \
	static void *name##_alloc(size_t size, size_t align)                \
	{                                                                   \
		return api##alloc(&name##_heap, size, align);               \
	}                                                                   \
	static void name##_release(void *p)                                 \
	{                                                                   \
		if (api##free(&name##_heap, p) != 0)                        \
			abort();                                            \
	}                                                                   \
	static void *name##_resize(void *p, size_t size)                    \
	{                                                                   \
		return api##realloc(&name##_heap, p, size);                 \
	}                                                                   \
	static int name##_check(void)                                       \
	{                                                                   \
		return api##check(&name##_heap);                            \
	}                                                                   \
	static uintptr_t name##_base(void)                                  \
	{                                                                   \
		return name##_heap.base;                                    \
	}                                                                   \
	static size_t name##_index(void)                                    \
	{                                                                   \
		struct heap_stats s;                                        \
                                                                            \
		api##stats(&name##_heap, &s);                               \
		return s.index_bytes;                                       \
	}

REGION_HEAP(ours, heap, heap_)
REGION_HEAP(list, list_heap, list_heap_)

/* ---- glibc ---- */

/* glibc, jemalloc and mimalloc start every run from whatever they kept. */
static void no_reset(void)
{
}

static void *glibc_alloc(size_t size, size_t align)
{
	void *p;

	if (align <= 16)
		return malloc(size);
	return posix_memalign(&p, align, size) ? NULL : p;
}

/* ---- jemalloc, through its non-standard API ---- */

static void *(*je_mallocx)(size_t size, int flags);
static void *(*je_rallocx)(void *p, size_t size, int flags);
static void (*je_dallocx)(void *p, int flags);

/* MALLOCX_LG_ALIGN(lg) is lg itself (jemalloc.h); 0 means default alignment. */
static int je_flags(size_t align)
{
	return align <= 16 ? 0 : __builtin_ctzl(align);
}

static void *je_alloc(size_t size, size_t align)
{
	return je_mallocx(size, je_flags(align));
}

static void je_release(void *p)
{
	je_dallocx(p, 0);
}

static void *je_resize(void *p, size_t size)
{
	return p ? je_rallocx(p, size, 0) : je_mallocx(size, 0);
}

/* ---- mimalloc, through its mi_ API ----
 *
 * Not mi_malloc_aligned: in Debian's 2.0.9 its fast path returns blocks
 * that are not aligned when size is a multiple of align (256..1024), a bug
 * fixed upstream later (microsoft/mimalloc#700, #602); the bench's
 * alignment check caught it.  mi_malloc_aligned_at(size, align, 0) means
 * the same and skips that path. */

static void *(*mi_malloc)(size_t size);
static void *(*mi_malloc_aligned_at)(size_t size, size_t align, size_t offset);
static void *(*mi_realloc)(void *p, size_t size);
static void (*mi_free)(void *p);

static void *mi_alloc(size_t size, size_t align)
{
	return align <= 16 ? mi_malloc(size) : mi_malloc_aligned_at(size, align, 0);
}

static void mi_release(void *p)
{
	mi_free(p);
}

static void *mi_resize(void *p, size_t size)
{
	return mi_realloc(p, size);
}

/* ---- the table ---- */

struct allocator allocators[NALLOC] = {
	[OURS] = { "ours", NULL, ours_reset, ours_alloc, ours_release, ours_resize,
		   ours_check, ours_base, ours_index },
	[LIST] = { "list", NULL, list_reset, list_alloc, list_release, list_resize,
		   list_check, list_base, list_index },
	[GLIBC] = { "glibc", NULL, no_reset, glibc_alloc, free, realloc, NULL, NULL, NULL },
	[JEMALLOC] = { "jemalloc", NULL, no_reset, je_alloc, je_release, je_resize,
		       NULL, NULL, NULL },
	[MIMALLOC] = { "mimalloc", NULL, no_reset, mi_alloc, mi_release, mi_resize,
		       NULL, NULL, NULL },
};

/* Look up each name in lib into the matching slot of fns.  Returns NULL,
 * or why not (dlerror's text).  A data-to-function pointer copy through
 * memcpy: ISO C has no cast for it, POSIX guarantees it works. */
static const char *load(const char *soname, const char *const *names, void **fns[])
{
	void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

	if (!lib)
		return strdup(dlerror());
	for (size_t i = 0; names[i]; i++) {
		void *f = dlsym(lib, names[i]);

		if (!f)
			return strdup(dlerror());
		memcpy(fns[i], &f, sizeof f);
	}
	return NULL;
}

/* Re-execute once with enough spare static TLS for jemalloc (see top). */
static void ensure_static_tls(char **argv)
{
	const char *old = getenv("GLIBC_TUNABLES");
	char buf[512];

	if ((old && strstr(old, "optional_static_tls")) || RUNNING_ON_VALGRIND)
		return;
	snprintf(buf, sizeof buf, "%s%s" STATIC_TLS_TUNABLE, old ? old : "", old ? ":" : "");
	if (setenv("GLIBC_TUNABLES", buf, 1) == 0)
		execv("/proc/self/exe", argv);
	/* Still here: jemalloc's dlopen will fail and say why. */
}

void allocators_init(char **argv)
{
	static const char *const je_names[] = { "mallocx", "rallocx", "dallocx", NULL };
	static const char *const mi_names[] = { "mi_malloc", "mi_malloc_aligned_at", "mi_realloc",
						"mi_free", NULL };
	void **je_fns[] = { (void **)&je_mallocx, (void **)&je_rallocx, (void **)&je_dallocx };
	void **mi_fns[] = { (void **)&mi_malloc, (void **)&mi_malloc_aligned_at,
			    (void **)&mi_realloc, (void **)&mi_free };

	ensure_static_tls(argv);
	allocators[JEMALLOC].missing = load("libjemalloc.so.2", je_names, je_fns);
	allocators[MIMALLOC].missing = load("libmimalloc.so.2", mi_names, mi_fns);
	region = mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (region == MAP_FAILED) {
		perror("bench_heap: mmap");
		exit(1);
	}
}

const struct allocator *allocator_named(const char *name)
{
	for (int i = 0; i < NALLOC; i++)
		if (strcmp(allocators[i].name, name) == 0)
			return &allocators[i];
	return NULL;
}
