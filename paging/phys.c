/*
 * phys.c - storage for the phys-to-virt offset (see phys.h).  Unit: bytes.
 */
#include "phys.h"

uint64_t paging_phys_offset; /* 0: identity, as the firmware leaves us */

void paging_set_phys_offset(uint64_t off)
{
	paging_phys_offset = off;
}
