/*
 * test_exit.c - host tests for efi/exitloop.c: GetMemoryMap and
 * ExitBootServices against a fake firmware whose map grows when we
 * allocate and whose ExitBootServices refuses a stale key, or answers
 * from a script.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "exitloop.h"

#define DESC 48
#define EXIT_ST_OUT_OF_RESOURCES (0x8000000000000000ull | 9)
#define EXIT_ST_DEVICE_ERROR (0x8000000000000000ull | 7)

/* The fake firmware's state; every test starts from make_fake(). */
struct fake {
	uint64_t map_bytes;      /* the map's size now */
	uint64_t grow_on_alloc;  /* bytes the map grows by per allocation */
	uint64_t grow_on_exit;   /* ... per refused ExitBootServices */
	uint64_t key;            /* the current map key */
	uint64_t desc_size;
	const uint64_t *script;  /* ExitBootServices answers, then real ones */
	int nscript;
	int gets, exits, allocs, frees, live;
	int alloc_fails;         /* refuse allocations */
};

static uint64_t fake_get_map(void *ctx, uint64_t *size, void *buf, uint64_t *key,
			     uint64_t *desc_size, uint32_t *desc_version)
{
	struct fake *f = ctx;
	f->gets++;
	*desc_size = f->desc_size;
	*desc_version = 1;
	if (*size < f->map_bytes) {
		*size = f->map_bytes;
		return EXIT_ST_BUFFER_TOO_SMALL;
	}
	if (!buf)
		return EXIT_ST_INVALID_PARAMETER;
	memset(buf, 0x7E, f->map_bytes); /* ASan: the buffer must be this big */
	*size = f->map_bytes;
	*key = f->key;
	return EXIT_ST_SUCCESS;
}

static uint64_t fake_exit(void *ctx, uint64_t key)
{
	struct fake *f = ctx;
	uint64_t st = key == f->key ? EXIT_ST_SUCCESS : EXIT_ST_INVALID_PARAMETER;
	if (f->exits < f->nscript)
		st = f->script[f->exits];
	f->exits++;
	if (st != EXIT_ST_SUCCESS) {
		f->key++;                         /* firmware work changed the map */
		f->map_bytes += f->grow_on_exit;
	}
	return st;
}

static uint64_t fake_alloc(void *ctx, uint64_t size, void **buf)
{
	struct fake *f = ctx;
	f->allocs++;
	if (f->alloc_fails)
		return EXIT_ST_OUT_OF_RESOURCES;
	*buf = malloc(size);
	f->live++;
	f->key++;
	f->map_bytes += f->grow_on_alloc;
	return EXIT_ST_SUCCESS;
}

static void fake_free(void *ctx, void *buf)
{
	struct fake *f = ctx;
	f->frees++;
	f->live--;
	f->key++;
	free(buf);
}

static struct fake make_fake(uint64_t descs)
{
	return (struct fake){ .map_bytes = descs * DESC, .grow_on_alloc = 2 * DESC, .key = 1000,
			      .desc_size = DESC };
}

/* Run the loop against f; the map buffer stays in bi (freed by done()). */
static uint64_t run(struct fake *f, struct boot_info *bi, int *exits)
{
	const struct exit_fw fw = { f, fake_get_map, fake_exit, fake_alloc, fake_free };
	memset(bi, 0, sizeof(*bi));
	return exit_loop_run(&fw, bi, exits);
}

static void done(struct fake *f, struct boot_info *bi)
{
	if (bi->mmap)
		fake_free(f, bi->mmap);
	assert_int_equal(f->live, 0);
}

/* Expect the plain path: probe the size, allocate with slack, fetch,
 * exit once; the map handed over whole. */
static void exit_first_try(void **state)
{
	(void)state;
	struct fake f = make_fake(100);
	struct boot_info bi;
	int exits;
	assert_int_equal(run(&f, &bi, &exits), EXIT_ST_SUCCESS);
	assert_int_equal(exits, 1);
	assert_int_equal(f.gets, 2);
	assert_int_equal(f.allocs, 1);
	assert_int_equal(bi.mmap_size, 102 * DESC);
	assert_int_equal(bi.desc_size, DESC);
	assert_int_equal(bi.desc_version, 1);
	done(&f, &bi);
}

/* Expect a stale key (EFI_INVALID_PARAMETER) twice, then success: the
 * map fetched again into the same buffer each time. */
static void exit_stale_key_retries(void **state)
{
	(void)state;
	static const uint64_t script[] = { EXIT_ST_INVALID_PARAMETER, EXIT_ST_INVALID_PARAMETER };
	struct fake f = make_fake(100);
	struct boot_info bi;
	int exits;
	f.script = script, f.nscript = 2;
	assert_int_equal(run(&f, &bi, &exits), EXIT_ST_SUCCESS);
	assert_int_equal(exits, 3);
	assert_int_equal(f.allocs, 1);
	done(&f, &bi);
}

/*
 * Expect a refused ExitBootServices after which the map outgrew the
 * buffer (the firmware's partial shutdown added 40 descriptors, more
 * than the slack) to be handled: the buffer freed, a bigger one
 * allocated (still allowed then), the exit retried and done.
 */
static void exit_refused_then_map_outgrows_buffer(void **state)
{
	(void)state;
	static const uint64_t script[] = { EXIT_ST_INVALID_PARAMETER };
	struct fake f = make_fake(100);
	struct boot_info bi;
	int exits;
	f.script = script, f.nscript = 1;
	f.grow_on_exit = (EXIT_SLACK_DESCS + 8) * DESC;
	assert_int_equal(run(&f, &bi, &exits), EXIT_ST_SUCCESS);
	assert_int_equal(exits, 2);
	assert_int_equal(f.allocs, 2);
	assert_int_equal(f.frees, 1);
	assert_int_equal(bi.mmap_size, f.map_bytes);
	done(&f, &bi);
}

/* Expect a firmware that never takes the key to be given up on after
 * EXIT_ROUNDS map fetches (the first only sizes the buffer), the status
 * returned and the buffer freed. */
static void exit_gives_up(void **state)
{
	(void)state;
	static uint64_t script[EXIT_ROUNDS];
	struct fake f = make_fake(100);
	struct boot_info bi;
	int exits;
	for (int i = 0; i < EXIT_ROUNDS; i++)
		script[i] = EXIT_ST_INVALID_PARAMETER;
	f.script = script, f.nscript = EXIT_ROUNDS;
	assert_int_equal(run(&f, &bi, &exits), EXIT_ST_INVALID_PARAMETER);
	assert_int_equal(exits, EXIT_ROUNDS - 1);
	assert_int_equal(f.gets, EXIT_ROUNDS);
	assert_null(bi.mmap);
	done(&f, &bi);
}

/* Expect errors that a retry cannot mend to stop at once: no pool for
 * the buffer (no exit tried), a device error from ExitBootServices, a
 * descriptor size we cannot read (no exit tried). */
static void exit_hard_errors_stop(void **state)
{
	(void)state;
	static const uint64_t script[] = { EXIT_ST_DEVICE_ERROR };
	struct boot_info bi;
	int exits;
	struct fake f = make_fake(100);
	f.alloc_fails = 1;
	assert_int_equal(run(&f, &bi, &exits), EXIT_ST_OUT_OF_RESOURCES);
	assert_int_equal(exits, 0);
	done(&f, &bi);

	f = make_fake(100);
	f.script = script, f.nscript = 1;
	assert_int_equal(run(&f, &bi, &exits), EXIT_ST_DEVICE_ERROR);
	assert_int_equal(exits, 1);
	done(&f, &bi);

	f = make_fake(100);
	f.desc_size = 24;
	assert_int_equal(run(&f, &bi, &exits), EXIT_ST_UNSUPPORTED);
	assert_int_equal(exits, 0);
	done(&f, &bi);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exit_first_try),
		cmocka_unit_test(exit_stale_key_retries),
		cmocka_unit_test(exit_refused_then_map_outgrows_buffer),
		cmocka_unit_test(exit_gives_up),
		cmocka_unit_test(exit_hard_errors_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
