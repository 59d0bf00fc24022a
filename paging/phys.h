/*
 * phys.h - the one road from a physical address to a pointer.
 *
 * paging/ never dereferences a physical address directly: it asks
 * phys_to_virt(), which adds one offset.  The kernel sets the offset to 0
 * while the firmware's identity map is live, then to DIRECT_MAP_BASE once
 * our own tables are loaded.  Host tests set it so that simulated physical
 * addresses land inside a big host buffer.  Unit: bytes.
 */
#ifndef PAGING_PHYS_H
#define PAGING_PHYS_H

#include <stdint.h>

/* Added to a physical address to get a usable pointer; see phys.c. */
extern uint64_t paging_phys_offset;

/*
 * Set the offset phys_to_virt() adds.  Every physical address paging/ will
 * touch (frames, page tables, the frame bitmap) must be reachable at
 * pa + off from then on.  Unsigned arithmetic: wrap-around is intended.
 */
void paging_set_phys_offset(uint64_t off);

/* A pointer through which the byte at physical address pa can be reached. */
static inline void *phys_to_virt(uint64_t pa)
{
	return (void *)(uintptr_t)(pa + paging_phys_offset);
}

#endif
