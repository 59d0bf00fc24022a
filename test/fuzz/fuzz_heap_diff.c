/*
 * fuzz_heap_diff.c - libFuzzer target: the fast heap against the reference
 * list heap, on programs the fuzzer writes.
 *
 * The first two bytes choose the region (misalignment and size, tiny ones
 * included) and, with bit 4 of the first, junk in the late header before
 * every call (pair_scramble); the rest is a program for
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

#define ROOM (1 << 18) /* bytes each heap may grow to */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct program prog = { data, data + len };
	size_t off, size;
	struct pair *p;

	if (len < 2)
		return 0;
	off = data[0] % 16;
	size = 48 + (size_t)data[1] * 256;
	prog.at += 2;
	p = pair_new(off, size, ROOM);
	if (!p)
		return 0; /* too small for the fast heap: nothing to compare */
	if (data[0] & 16)
		pair_scramble(p);
	while (prog.at < prog.end)
		pair_step(p, &prog);
	pair_drain(p);
	pair_free(p);
	return 0;
}
