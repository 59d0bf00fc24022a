/*
 * fuzz_check.h - the fuzzers' one assertion.  CHECK(cond) aborts when cond is
 * false, so libFuzzer keeps the input as a crash.  Not assert(): NDEBUG
 * must never switch a fuzzer's checks off.
 */
#ifndef FUZZ_CHECK_H
#define FUZZ_CHECK_H

#include <stdlib.h>

#define CHECK(cond) \
	do { \
		if (!(cond)) \
			abort(); \
	} while (0)

#endif
