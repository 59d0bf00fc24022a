/*
 * memmap.c - checking and indexing a raw UEFI descriptor table, and the
 * one rule for a bad descriptor in it (see memmap.h).
 * Steps by desc_size, never by sizeof(struct efi_mem_desc): edk2 reports
 * 48-byte descriptors on purpose so that we notice.  Units: bytes.
 */
#include "memmap.h"
#include "mmu.h"
#include "vmerr.h"

/* Descriptors count pages of the firmware's size; we count in ours. */
_Static_assert(BOOT_PAGE_SIZE == PAGE_SIZE, "UEFI pages and our pages differ");

static const char *const type_names[EFI_MEM_NTYPES] = {
	[EFI_MEM_RESERVED] = "Reserved",
	[EFI_MEM_LOADER_CODE] = "LoaderCode",
	[EFI_MEM_LOADER_DATA] = "LoaderData",
	[EFI_MEM_BOOT_CODE] = "BootServicesCode",
	[EFI_MEM_BOOT_DATA] = "BootServicesData",
	[EFI_MEM_RUNTIME_CODE] = "RuntimeServicesCode",
	[EFI_MEM_RUNTIME_DATA] = "RuntimeServicesData",
	[EFI_MEM_CONVENTIONAL] = "Conventional",
	[EFI_MEM_UNUSABLE] = "Unusable",
	[EFI_MEM_ACPI_RECLAIM] = "ACPIReclaim",
	[EFI_MEM_ACPI_NVS] = "ACPINVS",
	[EFI_MEM_MMIO] = "MMIO",
	[EFI_MEM_MMIO_PORT] = "MMIOPort",
	[EFI_MEM_PAL_CODE] = "PalCode",
	[EFI_MEM_PERSISTENT] = "Persistent",
	[EFI_MEM_UNACCEPTED] = "Unaccepted",
};

const char *memmap_type_name(uint32_t type)
{
	if (type < EFI_MEM_NTYPES)
		return type_names[type];
	return "OEM/OS-defined";
}

size_t memmap_count(const struct boot_info *bi)
{
	return boot_info_mmap_count(bi);
}

const struct efi_mem_desc *memmap_desc(const struct boot_info *bi, size_t i)
{
	return boot_info_desc(bi, i);
}

uint64_t memmap_end(const struct efi_mem_desc *d)
{
	return d->phys_start + d->num_pages * PAGE_SIZE;
}

/* Does [start, start + pages * 4096) end at or below 2^64 - 1?  Written
 * as a division so that the product itself cannot overflow. */
static bool fits_below_2_64(uint64_t start, uint64_t pages)
{
	return pages <= (UINT64_MAX - start) / PAGE_SIZE;
}

static uint64_t page_down(uint64_t a)
{
	return a & ~(PAGE_SIZE - 1);
}

/* The caller makes sure a + 4095 does not wrap. */
static uint64_t page_up(uint64_t a)
{
	return page_down(a + PAGE_SIZE - 1);
}

bool memmap_desc_sound(const struct efi_mem_desc *d)
{
	return d->phys_start % PAGE_SIZE == 0 && fits_below_2_64(d->phys_start, d->num_pages);
}

/* Round the misaligned [s, e) to whole pages, inward or outward, into
 * [*start, *end) (see memmap_fit).  e - s is whole pages, so e is
 * misaligned as s is: both ends move. */
static enum memmap_fate round_to_pages(uint64_t s, uint64_t e, bool inward, uint64_t *start,
				       uint64_t *end)
{
	if (inward) {
		s = page_up(s), e = page_down(e);
		if (s >= e)
			return MEMMAP_DROPPED; /* not one whole page inside */
	} else {
		if (e > UINT64_MAX - PAGE_SIZE + 1)
			return MEMMAP_DROPPED; /* the last page would end at 2^64 */
		s = page_down(s), e = page_up(e);
	}
	*start = s, *end = e;
	return MEMMAP_ROUNDED;
}

enum memmap_fate memmap_fit(const struct efi_mem_desc *d, bool inward, uint64_t *start,
			    uint64_t *end)
{
	*start = *end = 0;
	if (d->num_pages == 0) { /* empty: nothing to judge, nothing to use */
		*start = *end = d->phys_start;
		return MEMMAP_SOUND;
	}
	if (!fits_below_2_64(d->phys_start, d->num_pages))
		return MEMMAP_DROPPED;
	if (d->phys_start % PAGE_SIZE)
		return round_to_pages(d->phys_start, memmap_end(d), inward, start, end);
	*start = d->phys_start, *end = memmap_end(d);
	return MEMMAP_SOUND;
}

void memmap_bad_note(struct memmap_bad *bad, const struct efi_mem_desc *d,
		     enum memmap_fate fate)
{
	if (fate == MEMMAP_SOUND)
		return;
	if (bad->dropped + bad->rounded == 0)
		bad->first = *d;
	if (fate == MEMMAP_DROPPED)
		bad->dropped++;
	else
		bad->rounded++;
}

int memmap_check(const struct boot_info *bi)
{
	if (!bi || !bi->mmap || bi->desc_size < MEMMAP_DESC_MIN)
		return VM_EINVAL;
	/* 64-bit fields: a buffer or a size that is not a multiple of 8
	 * misaligns them. */
	if ((uintptr_t)bi->mmap % 8 || bi->desc_size % 8)
		return VM_EINVAL;
	if (bi->mmap_size == 0 || bi->mmap_size % bi->desc_size)
		return VM_EINVAL;
	return 0;
}
