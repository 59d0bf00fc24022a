/*
 * memmap.c - checking and indexing a raw UEFI descriptor table (see
 * memmap.h).
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

/* A descriptor is sane if aligned and its end does not wrap past 2^64. */
static bool desc_ok(const struct efi_mem_desc *d)
{
	if (d->phys_start % PAGE_SIZE)
		return false;
	return d->num_pages <= (UINT64_MAX - d->phys_start) / PAGE_SIZE;
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
	for (size_t i = 0; i < memmap_count(bi); i++)
		if (!desc_ok(memmap_desc(bi, i)))
			return VM_EINVAL;
	return 0;
}
