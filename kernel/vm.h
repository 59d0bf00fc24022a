/*
 * vm.h - the kernel's side of paging: CPU features, building our address
 * space with paging/layout.c, and the switch from the firmware's tables.
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

/* Build our page tables and switch to them: CR3, a fresh stack with a
 * guard page, then call next() on it.  Never returns.  Panics on
 * failure: without our tables the kernel cannot go on. */
NORETURN void vm_init_and_switch(const struct boot_info *bi, void (*next)(void));

const struct vm_info *vm_info(void);

/* Give boot-services memory to the frame allocator (paging/reclaim.h)
 * and print what it gained.  Call once, on our own tables and stack:
 * from then on nothing of the firmware's boot-time state exists. */
void vm_reclaim_boot_services(void);

/* Frames that are neither free, behind the heap window, a page table nor
 * a stack of the layout: 0 when every frame is accounted for. */
int64_t vm_frames_unaccounted(void);

/* Print the table of regions layout_build mapped. */
void vm_print_layout(void);

#endif
