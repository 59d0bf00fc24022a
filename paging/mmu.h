/*
 * mmu.h - x86-64 4-level paging hardware facts: page sizes, the bits of a
 * page-table entry, and how a virtual address splits into table indexes.
 * Nothing here allocates or walks; see pagetable.h.  Units: bytes.
 *
 * A 48-bit virtual address (Intel SDM vol. 3, 4.5):
 *
 *  63        48 47      39 38      30 29      21 20      12 11          0
 * +------------+----------+----------+----------+----------+-------------+
 * | sign ext.  |   PML4   |   PDPT   |    PD    |    PT    |   offset    |
 * | = bit 47   |  9 bits  |  9 bits  |  9 bits  |  9 bits  |   12 bits   |
 * +------------+----------+----------+----------+----------+-------------+
 *   level:          4          3          2          1
 *
 * A PDPT entry with PS set maps a 1 GiB page (30-bit offset); a PD entry
 * with PS set maps a 2 MiB page (21-bit offset).  Bits 63..48 must copy
 * bit 47 ("canonical"), which splits the space into two halves with a
 * hole between them:
 *
 *   0x0000000000000000 - 0x00007FFFFFFFFFFF   lower half (128 TiB)
 *   0x0000800000000000 - 0xFFFF7FFFFFFFFFFF   non-canonical: #GP
 *   0xFFFF800000000000 - 0xFFFFFFFFFFFFFFFF   upper half (128 TiB)
 */
#ifndef PAGING_MMU_H
#define PAGING_MMU_H

#include <stdbool.h>
#include <stdint.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE 4096ull
#define PAGE_SIZE_2M (1ull << 21)
#define PAGE_SIZE_1G (1ull << 30)
#define PT_ENTRIES 512 /* entries per table: 4096 / 8 */

/* Level 1 = PT, 2 = PD, 3 = PDPT, 4 = PML4. */
#define PX_SHIFT(level) (PAGE_SHIFT + 9 * ((level) - 1))
#define PX(level, va) (((uint64_t)(va) >> PX_SHIFT(level)) & (PT_ENTRIES - 1))
#define PML4_INDEX(va) PX(4, va)
#define PDPT_INDEX(va) PX(3, va)
#define PD_INDEX(va) PX(2, va)
#define PT_INDEX(va) PX(1, va)
/* Bytes one entry at this level covers: 4K, 2M, 1G, 512G. */
#define LEVEL_SPAN(level) (1ull << PX_SHIFT(level))

/* Page-table entry bits. */
#define PTE_P (1ull << 0)    /* present */
#define PTE_W (1ull << 1)    /* writable (ANDed across levels) */
#define PTE_U (1ull << 2)    /* user may access (ANDed across levels) */
#define PTE_PWT (1ull << 3)  /* write-through */
#define PTE_PCD (1ull << 4)  /* cache disable */
#define PTE_A (1ull << 5)    /* accessed: set by the CPU */
#define PTE_D (1ull << 6)    /* dirty: set by the CPU (leaves only) */
#define PTE_PS (1ull << 7)   /* in a PD/PDPT entry: this is a 2M/1G leaf */
#define PTE_G (1ull << 8)    /* global: survives CR3 reload (leaves only) */
#define PTE_PAT_4K (1ull << 7)     /* PAT index bit 2, in a 4 KiB leaf */
#define PTE_PAT_LARGE (1ull << 12) /* PAT index bit 2, in a 2M/1G leaf */
#define PTE_NX (1ull << 63)  /* no execute: only if EFER.NXE, else reserved */

/*
 * The page attribute table (IA32_PAT, MSR 0x277): a leaf's PAT, PCD and
 * PWT bits form a 3-bit index into it, and the entry chosen is the
 * page's memory type.  Entries 0-3 keep their power-on values, so a
 * page with none of the bits is write-back and code that only knows
 * PCD/PWT still gets what it expects; entry 4 becomes write-combining,
 * which the power-on table lacks (there it is a second WB).
 *
 *   index  PAT PCD PWT  type   our flag
 *     0     0   0   0   WB     (none)
 *     1     0   0   1   WT     VM_WRITETHROUGH
 *     2     0   1   0   UC-    (not used)
 *     3     0   1   1   UC     VM_NOCACHE
 *     4     1   0   0   WC     VM_WRITECOMBINE
 *     5-7               WT, UC-, UC (power-on values, not used)
 */
#define MSR_PAT 0x277u
#define PAT_UC 0x00ull
#define PAT_WC 0x01ull
#define PAT_WT 0x04ull
#define PAT_WB 0x06ull
#define PAT_UC_MINUS 0x07ull
#define PAT_ENTRY(i, type) ((type) << (8 * (i)))
#define PAT_POWER_ON 0x0007040600070406ull /* WB WT UC- UC, twice */
#define PAT_KERNEL (PAT_ENTRY(0, PAT_WB) | PAT_ENTRY(1, PAT_WT) | PAT_ENTRY(2, PAT_UC_MINUS) | \
		    PAT_ENTRY(3, PAT_UC) | PAT_ENTRY(4, PAT_WC) | PAT_ENTRY(5, PAT_WT) | \
		    PAT_ENTRY(6, PAT_UC_MINUS) | PAT_ENTRY(7, PAT_UC))

/* Physical address bits 51..12 of an entry (large leaves use fewer). */
#define PTE_ADDR_MASK 0x000FFFFFFFFFF000ull
#define PTE_ADDR(e) ((e) & PTE_ADDR_MASK)

/* The architectural limit on physical addresses (MAXPHYADDR <= 52). */
#define PHYS_ADDR_LIMIT (1ull << 52)

#define LOWER_HALF_END 0x0000800000000000ull   /* first non-canonical address */
#define UPPER_HALF_START 0xFFFF800000000000ull /* first upper-half address */

/* True when bits 63..48 copy bit 47. */
static inline bool va_is_canonical(uint64_t va)
{
	return va < LOWER_HALF_END || va >= UPPER_HALF_START;
}

#endif
