/*
 * fuzz_heap_diff.c - libFuzzer target: the fast heap against the reference
 * list heap, on programs the fuzzer writes.
 *
 * The first two bytes choose the region (misalignment and size, tiny ones
 * included) and, with bit 4 of the first, junk in the late header before
 * every call (pair_scramble); with bit 5, a first block of 1 MiB that
 * stays (pair_ballast), so that every later one lies where a free finds
 * its neighbours in the bitmap, as in a large heap; the rest is a
 * program for
 * test/reference/heap_pair.c, which
 * makes each call on both heaps and aborts on the first disagreement:
 * another address, another result, other heap_stats, or a heap_check that
 * fails.  libFuzzer reports the abort with the input that caused it.
 *
 * Build: see `make fuzz` (clang -fsanitize=fuzzer,address,undefined).
 */
#include <stddef.h>
#include <stdint.h>

#include "heap_pair.h"

#define ROOM (1 << 18) /* bytes each heap may grow to, past any ballast */
#define BALLAST (1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct program prog = { data, data + len };
	size_t off, size, ballast, extra;
	struct pair *p;

	if (len < 2)
		return 0;
	off = data[0] % 16;
	ballast = data[0] & 32 ? BALLAST : 0;
	extra = ballast ? ballast + 64 * 1024 : 0; /* the ballast, and room past it */
	size = 48 + (size_t)data[1] * 256 + extra;
	prog.at += 2;
	p = pair_new(off, size, ROOM + extra);
	if (!p)
		return 0; /* too small for the fast heap: nothing to compare */
	if (ballast)
		pair_ballast(p, ballast);
	if (data[0] & 16)
		pair_scramble(p);
	while (prog.at < prog.end)
		pair_step(p, &prog);
	pair_drain(p);
	pair_free(p);
	return 0;
}
