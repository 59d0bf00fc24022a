/*
 * bench_report.h - bench_heap's results and how they are printed: an
 * aligned text table, or the same table in markdown for docs/heap.md.
 */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "bench_alloc.h"

#define RUNS 5 /* timed runs per allocator and workload; the median is shown */

/* One allocator on one workload. */
struct result {
	double ns_per_op[RUNS]; /* one per timed round */
	size_t ops;             /* ops per run */
	size_t peak_fp;         /* peak footprint, bytes (see bench_heap.c) */
	size_t peak_live;       /* most requested bytes live at once */
	size_t index_bytes;     /* region heaps: heap_stats index_bytes */
	uint64_t addr_hash;     /* region heaps: hash of every offset handed out */
};

/* The column heads. */
void report_header(int markdown);

/* One workload's row: res holds one result per allocator (allocators[]). */
void report_row(int markdown, const char *workload, struct result res[NALLOC]);

/* Instructions per op of each allocator on workload (ops per run), each
 * counted by a callgrind run of this program's --only mode.
 * have_callgrind: the program was built with valgrind/callgrind.h (else
 * there is nothing to count, and it says so). */
void report_instructions(int markdown, const char *workload, size_t ops, int have_callgrind);

/* What the columns mean, and a line for each allocator that could not be
 * loaded. */
void report_legend(int markdown);

#endif /* BENCH_REPORT_H */
