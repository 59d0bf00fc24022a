/*
 * vm.h - the kernel's side of paging: CPU features, building our address
 * space with paging/layout.c, and the switch from the firmware's tables.
 * The functions (vm.c) are listed in kernel.h; this header holds what
 * vm_info() reports.
 */
#ifndef VM_H
#define VM_H

#include "kernel.h"
#include "layout.h"
#include "reclaim.h"

struct vm_info {
	uint64_t firmware_pml4; /* the PML4 OVMF had loaded */
	bool firmware_pge;      /* CR4.PGE as the firmware left it */
	struct layout_out out;  /* our PML4, stacks, framebuffer window */
	bool nx, gb_pages;      /* what CPUID reported */
	bool pat, pge;          /* CPUID: PAT (so PAT_KERNEL is loaded), global pages */
	struct reclaim_stats reclaim;  /* vm_reclaim_boot_services */
	uint64_t reclaim_gain;  /* free frames it added */
};

#endif
