/*
 * trampoline.h - the layout of the AP start-up page, shared by
 * trampoline.S (which reads it) and smp.c (which fills it).  Plain
 * #defines, so the assembler can use them too.  The loader reserves the
 * BOOT_TRAMPOLINE_PAGES (boot_info.h) pages drawn here.
 *
 *   page 0 (the SIPI vector's page)      page 1
 *   +0x000  real-mode code, then 32-,    a PML4 for 32-bit code: a copy
 *           then 64-bit code             of the kernel's 512 entries,
 *   +0x800  TRAMP_DATA: what smp.c       below 4 GiB as a 32-bit CR3
 *           writes for the next AP       must be
 */
#ifndef TRAMPOLINE_H
#define TRAMPOLINE_H

#define TRAMP_DATA      0x800   /* offset of the data block in page 0 */

/* Offsets inside the data block. */
#define TD_GDTR         0x00    /* u16 limit, u32 base: lgdt in real mode */
#define TD_FAR32        0x08    /* u32 offset, u16 selector: into 32-bit code */
#define TD_FAR64        0x10    /* u32 offset, u16 selector: into 64-bit code */
#define TD_CR3_LOW      0x18    /* u32: page 1, the PML4 32-bit code loads */
#define TD_EFER         0x1C    /* u32: EFER bits to set (LME, NXE) */
#define TD_CR3          0x20    /* u64: the kernel's PML4 */
#define TD_STACK        0x28    /* u64: this AP's stack top */
#define TD_ENTRY        0x30    /* u64: the C function to call, smp.c's ap_main */
#define TD_ARG          0x38    /* u64: its argument, this AP's struct cpu */
#define TD_GDT          0x40    /* 4 descriptors: null, code32, data, code64 */
#define TD_END          0x60

/* The start-up GDT's selectors. */
#define TSEL_CODE32     0x08
#define TSEL_DATA       0x10
#define TSEL_CODE64     0x18

#endif
