/*
 * bench_frames.c - how fast the frame allocator is on the host: frames per
 * second for alloc+free pairs, and for allocating every frame of 256 MiB
 * then freeing them all.  Prints the median of repeated runs; asserts
 * nothing about time.  Build with -O2 (see docs/paging.md).
 */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../host/fixtures/sim.h"
#include "frames.h"

#define RUNS 9
#define PAIRS 10000000ull
#define MiB (1ull << 20)

static const struct fix_row ram[] = {
	{ EFI_MEM_BOOT_DATA, 0, 0x100, 0xF },
	{ EFI_MEM_CONVENTIONAL, MiB, (256 * MiB) / 4096, 0xF },
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v)
{
	qsort(v, RUNS, sizeof(*v), cmp);
	return v[RUNS / 2];
}

/* Frames per second for PAIRS alloc+free pairs (the LIFO fast path). */
static double run_pairs(void)
{
	uint64_t sink = 0;
	double t0 = now();
	for (uint64_t i = 0; i < PAIRS; i++) {
		uint64_t pa = frames_alloc();
		sink += pa;
		frames_free(pa);
	}
	double dt = now() - t0;
	if (sink == 0)
		abort();
	return PAIRS / dt;
}

/* Frames per second to allocate all (bump path) then free all. */
static double run_all(uint64_t *buf, struct boot_info *bi, double *free_rate)
{
	frames_init(sim_list(bi));
	uint64_t n = 0, pa;
	double t0 = now();
	while ((pa = frames_alloc()) != 0)
		buf[n++] = pa;
	double t1 = now();
	for (uint64_t i = 0; i < n; i++)
		frames_free(buf[i]);
	double t2 = now();
	*free_rate = n / (t2 - t1);
	return n / (t1 - t0);
}

int main(void)
{
	struct boot_info bi;
	double pairs[RUNS], alloc_all[RUNS], free_all[RUNS];

	sim_phys_init(257 * MiB);
	map_build(&bi, ram, 2, 48);
	frames_init(sim_list(&bi));
	uint64_t *buf = malloc(frames_total() * sizeof(*buf));
	for (int r = 0; r < RUNS; r++)
		pairs[r] = run_pairs();
	for (int r = 0; r < RUNS; r++)
		alloc_all[r] = run_all(buf, &bi, &free_all[r]);
	printf("frames: %llu (256 MiB), median of %d runs\n",
	       (unsigned long long)frames_total(), RUNS);
	printf("alloc+free pairs: %8.1f M frames/s\n", median(pairs) / 1e6);
	printf("alloc all (bump): %8.1f M frames/s\n", median(alloc_all) / 1e6);
	printf("free all (LIFO):  %8.1f M frames/s\n", median(free_all) / 1e6);
	free(buf);
	map_free(&bi);
	sim_phys_fini();
	return 0;
}
