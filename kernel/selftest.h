/*
 * selftest.h - in-kernel tests, reported in KTAP on serial and screen.
 *
 * A test is a plain function in a table; it checks with EXPECT(), which
 * prints a "# file:line" diagnostic and marks the running test failed
 * but lets it go on (so one run shows every broken check).  A test that
 * cannot make its check on this machine (no NX bit, too few frames) says
 * so with SKIP(reason) and returns: it is reported as skipped, never as
 * passed.  The runner (selftest.c) prints the KTAP plan, one ok/not ok
 * line per test, and the closing "# Totals:" line.
 */
#ifndef SELFTEST_H
#define SELFTEST_H

#include "kernel.h"

struct selftest {
	const char *name;
	void (*run)(void);
};

/* The tables, one per subsystem (tests_*.c); each ends with {NULL, NULL}. */
extern const struct selftest boot_tests[];
extern const struct selftest paging_tests[];
extern const struct selftest firmware_tests[];
extern const struct selftest heap_tests[];
extern const struct selftest smp_tests[];
extern const struct selftest heap_exhaustion_tests[]; /* last: it keeps the frames */

/* Run every test whose name starts with `prefix` ("" runs all).
 * Returns true when all passed and at least one ran. */
bool selftest_run(const char *prefix);

/* Print one KTAP result line, "ok N name", "not ok N name" or
 * "ok N name # SKIP reason" (skip non-NULL), in its colour: the runner's,
 * and heapmap's for its steps. */
void selftest_print_result(int number, const char *name, bool failed, const char *skip);

/* Record a failed check; used through EXPECT(). */
void selftest_fail(const char *file, int line, const char *what);

/* Mark the running test skipped: its line becomes
 * "ok N name # SKIP reason".  reason must be a string literal (it is
 * printed after the test returns).  A failed EXPECT still wins: a test
 * that failed a check and then skipped is "not ok". */
void selftest_skip(const char *reason);
#define SKIP(reason) selftest_skip(reason)

#define EXPECT(cond) \
	do { \
		if (!(cond)) \
			selftest_fail(__FILE__, __LINE__, #cond); \
	} while (0)

#endif
