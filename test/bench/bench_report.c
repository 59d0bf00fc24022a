/*
 * bench_report.c - prints bench_heap's table, as aligned text or as
 * markdown, and counts instructions per op with callgrind.
 *
 * Both formats come from the same cells, so they cannot disagree.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_report.h"

#define NCOL 16
#define CELL 24

static const char *const md_head[NCOL] = {
	"workload", "ops/run", "ours ns", "list ns", "glibc ns", "jemalloc ns", "mimalloc ns",
	"ours/list", "ours/glibc", "live KiB", "ours KiB", "vs list", "index KiB",
	"glibc KiB", "jemalloc KiB", "mimalloc KiB",
};
static const char *const text_head[NCOL] = {
	"workload", "ops/run", "ours", "list", "glibc", "jemalloc", "mimalloc",
	"ours/list", "ours/glibc", "live", "ours", "vs list", "index",
	"glibc", "jemalloc", "mimalloc",
};
/* Text widths; negative: left-aligned. */
static const int width[NCOL] = { -13, 8, 8, 8, 7, 8, 8, 9, 10, 8, 8, 7, 6, 8, 8, 8 };

/* Text: groups of columns, labelled on a line above the heads. */
static const struct {
	int first, last;
	const char *label;
} groups[] = {
	{ 2, 6, "ns per op, median of 5" },
	{ 7, 8, "ratio" },
	{ 9, 15, "peak footprint, KiB" },
};

static void print_cells(int markdown, char cells[NCOL][CELL])
{
	for (int c = 0; c < NCOL; c++) {
		if (markdown)
			printf("| %s ", cells[c]);
		else
			printf("%s%*s", c ? " " : "", width[c], cells[c]);
	}
	printf(markdown ? "|\n" : "\n");
}

/* "----- label -----" spanning columns first..last of the text table. */
static void print_group(int first, int last, const char *label)
{
	int span = -1, len = (int)strlen(label) + 2, left;

	for (int c = first; c <= last; c++)
		span += abs(width[c]) + 1;
	left = (span - len) / 2;
	printf(" %.*s %s %.*s", left, "------------------------------------------------", label,
	       span - len - left, "------------------------------------------------");
}

void report_header(int markdown)
{
	char cells[NCOL][CELL];

	if (!markdown) {
		int at = 0;

		for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
			for (; at < groups[g].first; at++)
				printf("%*s", abs(width[at]) + (at > 0), "");
			print_group(groups[g].first, groups[g].last, groups[g].label);
			at = groups[g].last + 1;
		}
		printf("\n");
	}
	for (int c = 0; c < NCOL; c++)
		snprintf(cells[c], CELL, "%s", markdown ? md_head[c] : text_head[c]);
	print_cells(markdown, cells);
	if (markdown)
		printf("|---%s\n", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
	fflush(stdout);
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v)
{
	double s[RUNS];

	memcpy(s, v, sizeof s);
	qsort(s, RUNS, sizeof *s, by_value);
	return s[RUNS / 2];
}

static void kib(char *cell, size_t bytes)
{
	snprintf(cell, CELL, "%.1f", bytes / 1024.0);
}

/* ours against list: the same blocks, or how they differ. */
static void vs_list(char *cell, const struct result *ours, const struct result *list)
{
	if (ours->peak_fp != list->peak_fp)
		snprintf(cell, CELL, "%+lld B", (long long)ours->peak_fp - (long long)list->peak_fp);
	else
		snprintf(cell, CELL, "%s", ours->addr_hash == list->addr_hash ? "same" : "addrs");
}

void report_row(int markdown, const char *workload, struct result res[NALLOC])
{
	char cells[NCOL][CELL];
	double ns[NALLOC];

	for (int k = 0; k < NALLOC; k++) {
		int miss = allocators[k].missing != NULL;

		ns[k] = miss ? 0 : median(res[k].ns_per_op);
		snprintf(cells[2 + k], CELL, miss ? "-" : "%.1f", ns[k]);
		if (k >= GLIBC && miss)
			snprintf(cells[13 + k - GLIBC], CELL, "-");
		else if (k >= GLIBC)
			kib(cells[13 + k - GLIBC], res[k].peak_fp);
	}
	snprintf(cells[0], CELL, "%s", workload);
	snprintf(cells[1], CELL, "%zu", res[OURS].ops);
	snprintf(cells[7], CELL, "%.2fx", ns[OURS] / ns[LIST]);
	snprintf(cells[8], CELL, "%.2fx", ns[OURS] / ns[GLIBC]);
	kib(cells[9], res[OURS].peak_live);
	kib(cells[10], res[OURS].peak_fp);
	vs_list(cells[11], &res[OURS], &res[LIST]);
	kib(cells[12], res[OURS].index_bytes);
	print_cells(markdown, cells);
	fflush(stdout);
}

/* Instructions callgrind counted in one `--only alloc work` run of this
 * program (instrumentation is on only in the timed loop), or -1 when
 * valgrind failed. */
static double callgrind_count(const char *alloc, const char *work)
{
	char self[1024], out[64], cmd[1400], line[256];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	double total = -1;
	FILE *f;

	if (n <= 0)
		return -1;
	self[n] = '\0';
	snprintf(out, sizeof out, "/tmp/bench_heap.%d.callgrind", (int)getpid());
	snprintf(cmd, sizeof cmd,
		 "valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=%s "
		 "'%s' --only %s %s >/dev/null 2>&1", out, self, alloc, work);
	if (system(cmd) != 0 || !(f = fopen(out, "r")))
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "totals: %lf", &total) == 1)
			break;
	fclose(f);
	unlink(out);
	return total;
}

/* Why no instructions can be counted here, or NULL. */
static const char *cannot_count(int have_callgrind)
{
	if (!have_callgrind)
		return "built without valgrind/callgrind.h";
	if (system("command -v valgrind >/dev/null 2>&1") != 0)
		return "valgrind not installed";
	return NULL;
}

void report_instructions(int markdown, const char *workload, size_t ops, int have_callgrind)
{
	const char *why = cannot_count(have_callgrind);

	if (why) {
		printf("\nInstructions per op at %s: skipped, %s.\n", workload, why);
		return;
	}
	printf(markdown ? "\nInstructions per op, %s, timed loop (callgrind):\n\n"
			  "| allocator | instructions/op |\n|---|---:|\n"
			: "\ninstructions per op, %s, timed loop (callgrind):", workload);
	for (int k = 0; k < NALLOC; k++) {
		double count = allocators[k].missing ? -1
						     : callgrind_count(allocators[k].name, workload);

		if (count < 0)
			printf(markdown ? "| %s | - |\n" : "  %s -", allocators[k].name);
		else
			printf(markdown ? "| %s | %.0f |\n" : "  %s %.0f", allocators[k].name,
			       count / (double)ops);
		fflush(stdout);
	}
	printf(markdown ? "" : "\n");
}

void report_legend(int markdown)
{
	static const char *const lines[] = {
		"ns per op: CPU time, median of 5 timed runs interleaved across allocators.",
		"ratio: ours' median over list's and over glibc's; below 1 is faster.",
		"live: most requested bytes live at once.  ours: highest payload byte",
		"handed out minus the heap's base; vs list: same (same peak, every offset",
		"the same), else the peak difference or \"addrs\"; index: ours' index_bytes,",
		"outside that span.  glibc, jemalloc, mimalloc: growth of resident",
		"anonymous memory in a forked child, every page handed out touched.",
	};

	printf("\n");
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
		printf("%s\n", lines[i]);
	for (int k = 0; k < NALLOC; k++)
		if (allocators[k].missing)
			printf("%s%s: not measured: %s\n", markdown ? "\n" : "", allocators[k].name,
			       allocators[k].missing);
}
