/*
 * selftest.c - run the in-kernel test tables and print KTAP.
 *
 *   KTAP version 1
 *   1..3
 *   ok 1 simple_allocation
 *   # tests_heap.c:42: expected sum == 499500
 *   not ok 2 large_vec
 *   ok 3 paging_write_xor_execute # SKIP the CPU has no NX bit
 *   ...
 *   # Totals: pass:1 fail:1 skip:1
 *
 * Around every test the runner compares the heap's live allocations and
 * used bytes before and after, and checks that every frame is accounted
 * for afterwards, so a test that leaks fails even when all its own checks
 * passed.
 */
#include "selftest.h"
#include "kheap.h"
#include "vm.h"

/* In this order.  heap_exhaustion_tests comes last: after it the heap
 * window holds nearly every frame (tests_heap.c). */
static const struct selftest *const tables[] = { boot_tests, paging_tests, firmware_tests,
						   heap_tests, smp_tests, heap_exhaustion_tests };
static bool current_failed;
static const char *current_skip; /* the reason, or NULL: not skipped */

void selftest_fail(const char *file, int line, const char *what)
{
	current_failed = true;
	kprintf("# %s:%d: expected %s\n", file, line, what);
}

void selftest_skip(const char *reason)
{
	current_skip = reason;
}

static bool starts_with(const char *s, const char *prefix)
{
	while (*prefix)
		if (*s++ != *prefix++)
			return false;
	return true;
}

/* Call fn(test) for every selected test; returns how many there were. */
static int for_each_selected(const char *prefix, void (*fn)(const struct selftest *, int))
{
	int n = 0;

	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct selftest *s = tables[t]; s->name; s++)
			if (starts_with(s->name, prefix)) {
				n++;
				if (fn)
					fn(s, n);
			}
	return n;
}

/* The loader calls this before ExitBootServices (boot_info.h). */
bool kernel_has_test(const char *prefix)
{
	return for_each_selected(prefix, NULL) > 0;
}

static int passed, failed, skipped;

static void check_leaks(const struct kheap_usage *before)
{
	struct kheap_usage after;

	kheap_usage(&after);
	if (after.allocations != before->allocations || after.used != before->used) {
		kprintf("# leak: %lu allocations / %lu bytes live before, %lu / %lu after\n",
			before->allocations, before->used, after.allocations, after.used);
		current_failed = true;
	}
	int64_t lost = vm_frames_unaccounted();
	if (lost != 0) {
		kprintf("# leak: %ld frames are neither free nor in use by the layout or heap\n", lost);
		current_failed = true;
	}
}

void selftest_print_result(int number, const char *name, bool failed, const char *skip)
{
	if (failed) {
		console_color(CON_BAD);
		kprintf("not ok %d %s", number, name);
	} else if (skip) {
		console_color(CON_SKIP);
		kprintf("ok %d %s # SKIP %s", number, name, skip);
	} else {
		console_color(CON_OK);
		kprintf("ok %d %s", number, name);
	}
	console_color(CON_NORMAL); /* before the newline: a terminal's colour ends with the line */
	kputs("\n");
}

static void run_one(const struct selftest *s, int number)
{
	struct kheap_usage before;

	kheap_usage(&before);
	heapview_caption(s->name);
	current_failed = false;
	current_skip = NULL;
	s->run();
	heapview_update();
	check_leaks(&before);
	selftest_print_result(number, s->name, current_failed, current_skip);
	if (current_failed)
		failed++;
	else if (current_skip)
		skipped++;
	else
		passed++;
}

bool selftest_run(const char *prefix)
{
	int total = for_each_selected(prefix, NULL);

	passed = failed = skipped = 0;
	heapview_start(); /* the heap picture, redrawn after every test */
	kputs("KTAP version 1\n");
	kprintf("1..%d\n", total);
	if (total == 0)
		kprintf("# no test name starts with '%s'\n", prefix);
	for_each_selected(prefix, run_one);
	kprintf("# Totals: pass:%d fail:%d skip:%d\n", passed, failed, skipped);
	return total > 0 && failed == 0;
}
