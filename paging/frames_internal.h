/*
 * frames_internal.h - what frames.c shares with test-only code that
 * reaches inside the allocator (test/host/fixtures/frames_reserve.c).
 * Not part of the API: the kernel uses frames.h.
 */
#ifndef PAGING_FRAMES_INTERNAL_H
#define PAGING_FRAMES_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Range-table rows beyond what the map needs, for frames_cut after init. */
#define FRAMES_SPARE_RANGES 32

/*
 * One run of managed memory, [base, end).  Frames in [base, next)
 * were handed out at least once (they are allocated or on the freed
 * stack); frames in [next, end) never were.
 */
struct frame_range {
	uint64_t base;
	uint64_t next;
	uint64_t end;
	uint64_t bit_base; /* bitmap index of the frame at base */
};

/* The range table, sorted by address; *n gets its row count. */
const struct frame_range *frames_ranges(size_t *n);

/*
 * Stop managing the never-used frames of [cb, ce) (frame aligned), in
 * every range; frames already handed out are left alone.  Returns 0, or
 * VM_ENOMEM, changing nothing, when the table has no room for the
 * ranges the cut splits in two.
 */
int frames_cut(uint64_t cb, uint64_t ce);

#endif
