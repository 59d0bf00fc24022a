/*
 * heapbar.h - draw a heap to scale into a rectangle of pixels
 * (heapbar.c).  Pure: the host tests build it as it is.
 */
#ifndef HEAPBAR_H
#define HEAPBAR_H

#include "heap.h"
#include "pixels.h"

/* What one drawing showed: pixels per kind, and the statistics (taken
 * with the same lock held, if the caller holds one) it was drawn from. */
struct heapbar_counts {
	uint64_t used_px;  /* allocated blocks, headers included */
	uint64_t free_px;  /* holes, headers included */
	uint64_t index_px; /* the index after the blocks */
	struct heap_stats stats;
};

/* Draw every pixel of pb: the blocks of h to scale in address order
 * (pixels.h: RGB_HEAP_USED, _UHDR, _FREE, _FHDR), then its index
 * (RGB_HEAP_INDEX), and count them in *out.  Returns 0, or heap_walk's
 * error (the pixels of the blocks after a damaged header stay as they
 * were), or HEAP_EINVAL for an empty pb or heap.  O(blocks + pixels). */
int heapbar_draw(const struct pixbuf *pb, const struct heap *h, struct heapbar_counts *out);

#endif
