/*
 * memmap.c - walking and summarizing the UEFI memory map (see memmap.h).
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

bool memmap_is_mmio(uint32_t type)
{
	return type == EFI_MEM_MMIO || type == EFI_MEM_MMIO_PORT;
}

bool memmap_is_ram(uint32_t type)
{
	switch (type) {
	case EFI_MEM_CONVENTIONAL:
	case EFI_MEM_LOADER_CODE:
	case EFI_MEM_LOADER_DATA:
	case EFI_MEM_BOOT_CODE:
	case EFI_MEM_BOOT_DATA:
	case EFI_MEM_RUNTIME_CODE:
	case EFI_MEM_RUNTIME_DATA:
	case EFI_MEM_ACPI_RECLAIM:
	case EFI_MEM_ACPI_NVS:
	case EFI_MEM_PERSISTENT:
		return true;
	default:
		return false;
	}
}

bool memmap_is_wb_ram(const struct efi_mem_desc *d)
{
	return memmap_is_ram(d->type) && (d->attribute & EFI_MEM_ATTR_WB);
}

bool memmap_is_boot_services(uint32_t type)
{
	return type == EFI_MEM_BOOT_CODE || type == EFI_MEM_BOOT_DATA;
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
	/* 64-bit fields: a size that is not a multiple of 8 misaligns them. */
	if (bi->desc_size % 8 || bi->mmap_size == 0 || bi->mmap_size % bi->desc_size)
		return VM_EINVAL;
	for (size_t i = 0; i < memmap_count(bi); i++)
		if (!desc_ok(memmap_desc(bi, i)))
			return VM_EINVAL;
	return 0;
}

static void add_desc(struct memmap_summary *s, const struct efi_mem_desc *d)
{
	s->entries++;
	if (d->num_pages == 0)
		s->empty_entries++;
	if (d->attribute & EFI_MEM_ATTR_RUNTIME)
		s->runtime_entries++;
	if (d->type < EFI_MEM_NTYPES)
		s->pages[d->type] += d->num_pages;
	else
		s->other_pages += d->num_pages;
	if (d->type == EFI_MEM_CONVENTIONAL)
		s->conventional_bytes += d->num_pages * PAGE_SIZE;
	/* Only RAM counts: a Reserved hole near 1 TiB (AMD) is not memory. */
	if (d->num_pages && memmap_is_ram(d->type) && memmap_end(d) > s->highest_end)
		s->highest_end = memmap_end(d);
}

int memmap_summarize(const struct boot_info *bi, struct memmap_summary *out)
{
	__builtin_memset(out, 0, sizeof(*out));
	int err = memmap_check(bi);
	if (err)
		return err;
	for (size_t i = 0; i < memmap_count(bi); i++)
		add_desc(out, memmap_desc(bi, i));
	return 0;
}

/* Does descriptor i come before descriptor j in (phys_start, index) order? */
static bool desc_before(const struct boot_info *bi, size_t i, size_t j)
{
	uint64_t a = memmap_desc(bi, i)->phys_start, b = memmap_desc(bi, j)->phys_start;

	return a < b || (a == b && i < j);
}

/*
 * The non-empty RAM descriptor that follows descriptor prev in
 * (phys_start, index) order, or SIZE_MAX when none does; prev SIZE_MAX
 * asks for the first.  Calling this in a loop is a selection sort that
 * needs no array: the map itself stays unsorted and untouched.
 */
static size_t next_ram(const struct boot_info *bi, size_t prev)
{
	size_t best = SIZE_MAX;

	for (size_t i = 0; i < memmap_count(bi); i++) {
		const struct efi_mem_desc *d = memmap_desc(bi, i);
		if (!memmap_is_wb_ram(d) || d->num_pages == 0)
			continue;
		if (prev != SIZE_MAX && !desc_before(bi, prev, i))
			continue;
		if (best == SIZE_MAX || desc_before(bi, i, best))
			best = i;
	}
	return best;
}

void memmap_ram_walk_start(const struct boot_info *bi, struct memmap_ram_walk *w)
{
	w->next = next_ram(bi, SIZE_MAX);
}

bool memmap_ram_walk_next(const struct boot_info *bi, struct memmap_ram_walk *w,
			  struct memmap_range *out)
{
	if (w->next == SIZE_MAX)
		return false;
	const struct efi_mem_desc *d = memmap_desc(bi, w->next);
	*out = (struct memmap_range){ d->phys_start, memmap_end(d) };
	/* In address order each descriptor either touches the range (grow
	 * it) or starts after it (the next range begins there). */
	for (w->next = next_ram(bi, w->next); w->next != SIZE_MAX; w->next = next_ram(bi, w->next)) {
		d = memmap_desc(bi, w->next);
		if (d->phys_start > out->end)
			break;
		if (memmap_end(d) > out->end)
			out->end = memmap_end(d);
	}
	return true;
}

int memmap_ram_ranges(const struct boot_info *bi, struct memmap_range *out, size_t max,
		      size_t *n)
{
	struct memmap_ram_walk w;
	struct memmap_range r;

	*n = 0;
	int err = memmap_check(bi);
	if (err)
		return err;
	for (memmap_ram_walk_start(bi, &w); memmap_ram_walk_next(bi, &w, &r);) {
		if (*n == max)
			return VM_ENOMEM;
		out[(*n)++] = r;
	}
	return 0;
}
