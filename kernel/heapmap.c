/*
 * heapmap.c - `BOOTX64.EFI heapmap`: a scripted session with the kernel
 * heap, slow enough to watch on the heap picture (heapview.c).
 *
 *   fill          blocks of 2 to 8 KiB, packed from the bottom up
 *   free_every_other   every second block goes: a row of holes
 *   coalesce      the blocks between the lower holes go: they merge
 *   first_fit     a large block lands in the lowest hole that fits
 *   grow          a block larger than any hole: the heap maps more
 *   free_all      everything goes back: one hole again
 *
 * Each step is a KTAP result (ok when heap_check passes and the heap has
 * the shape the step promises) with one line of caption, on the console
 * and under the picture.  Between steps the run waits 1.5 s (timer.c:
 * the TSC, measured against the PIT at start-up), or, with pause=key,
 * until a key arrives on serial.  At the end it prints what drawing and
 * scrolling cost, in TSC cycles.
 */
#include "kernel.h"
#include "cpu.h"
#include "format.h"
#include "kheap.h"
#include "selftest.h" /* selftest_print_result */
#include "smp.h"      /* timer_delay_us */

#define MAX_BLOCKS 128
#define STEP_MS 1500

static void *blocks[MAX_BLOCKS];
static size_t sizes[MAX_BLOCKS], nblocks;
static void *big, *huge;
static struct heap_stats before, now;
static char caption[128];

static bool step_fill(void)
{
	for (nblocks = 0; nblocks < MAX_BLOCKS && now.used < now.size * 3 / 5; nblocks++) {
		sizes[nblocks] = (2 + nblocks % 4 * 2) << 10;
		if (!(blocks[nblocks] = kmalloc(sizes[nblocks])))
			return false;
		kheap_stats(&now);
	}
	format(caption, sizeof(caption), "fill: %lu blocks of 2 to 8 KiB, packed from the bottom up",
	       (uint64_t)nblocks);
	return now.allocations == before.allocations + nblocks;
}

static bool step_free_every_other(void)
{
	for (size_t i = 0; i < nblocks; i += 2)
		kfree(blocks[i]), blocks[i] = NULL;
	kheap_stats(&now);
	format(caption, sizeof(caption), "free every other block: %lu holes, none big", (uint64_t)now.holes);
	return now.holes >= before.holes + nblocks / 2 - 1 && now.largest_free < now.size;
}

static bool step_coalesce(void)
{
	size_t merged = 0, holes = now.holes, k = 0;

	for (size_t i = 1; i < nblocks / 2; i += 2, k++)
		kfree(blocks[i]), blocks[i] = NULL;
	for (size_t i = 0; i < nblocks / 2; i++)
		merged += sizes[i];
	kheap_stats(&now);
	format(caption, sizeof(caption), "coalesce: free the blocks between the lower holes: "
	       "%lu holes merge into one of %lu KiB", (uint64_t)(k + 1), (uint64_t)now.largest_free >> 10);
	return now.holes == holes - k && now.largest_free >= merged;
}

static bool step_first_fit(void)
{
	big = kmalloc(3 * sizes[0]);
	kheap_stats(&now);
	format(caption, sizeof(caption), "first fit: a %lu KiB block takes the lowest hole that fits",
	       (uint64_t)(3 * sizes[0]) >> 10);
	return big && (uintptr_t)big < (uintptr_t)blocks[nblocks / 2 | 1];
}

static bool step_grow(void)
{
	struct heap_stats was = now;

	huge = kmalloc(now.largest_free + (64 << 10));
	kheap_stats(&now);
	format(caption, sizeof(caption), "grow: a %lu KiB block fits no hole, so the heap maps more: %lu KiB now",
	       (uint64_t)(was.largest_free + (64 << 10)) >> 10, (uint64_t)now.size >> 10);
	return huge && now.size > was.size;
}

static bool step_free_all(void)
{
	for (size_t i = 0; i < nblocks; i++)
		kfree(blocks[i]), blocks[i] = NULL;
	kfree(big);
	kfree(huge);
	kheap_stats(&now);
	format(caption, sizeof(caption), "free all: %lu blocks merge back into %lu hole%s",
	       (uint64_t)nblocks + 2, (uint64_t)now.holes, now.holes == 1 ? "" : "s");
	return now.allocations == before.allocations && now.holes == before.holes;
}

static const struct {
	const char *name;
	bool (*run)(void);
} steps[] = {
	{ "heapmap_fill", step_fill },
	{ "heapmap_free_every_other", step_free_every_other },
	{ "heapmap_coalesce", step_coalesce },
	{ "heapmap_first_fit", step_first_fit },
	{ "heapmap_grow", step_grow },
	{ "heapmap_free_all", step_free_all },
};
#define NSTEPS (int)(sizeof(steps) / sizeof(steps[0]))

/* What one picture and one scrolled line cost, as a KTAP diagnostic. */
static void print_figures(void)
{
	uint64_t draws = heapview_draws(), cycles = heapview_cycles(), t0, scroll;

	if (draws == 0) {
		kputs("# heapview: no picture on this screen: nothing to time\n");
		return;
	}
	t0 = rdtsc();
	fbcon_putc('\n'); /* the console is full by now: a newline scrolls it */
	scroll = rdtsc() - t0;
	kprintf("# heapview: %lu pictures, %lu cycles each on average; a newline that scrolls "
		"the text: %lu cycles (rdtsc; under QEMU TCG the TSC is emulated)\n",
		draws, cycles / draws, scroll);
}

bool heapmap_run(void)
{
	int failed = 0;
	char name[24];

	kheap_stats(&before);
	now = before;
	heapview_start();
	kputs("KTAP version 1\n");
	kprintf("1..%d\n", NSTEPS);
	for (int i = 0; i < NSTEPS; i++) {
		bool ok = steps[i].run() && kheap_check() == 0;

		kprintf("# step %d/%d: %s\n", i + 1, NSTEPS, caption);
		heapview_caption(caption);
		selftest_print_result(i + 1, steps[i].name, !ok, NULL);
		failed += !ok;
		format(name, sizeof(name), "heapmap-%d", i + 1);
		if (console_pausing())
			heapview_pause(name); /* pause=key: until a key arrives */
		else
			timer_delay_us(STEP_MS * 1000u);
	}
	print_figures();
	kprintf("# Totals: pass:%d fail:%d skip:0\n", NSTEPS - failed, failed);
	return failed == 0;
}
