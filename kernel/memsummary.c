/*
 * memsummary.c - print what the firmware's memory map handed over:
 * entries, MiB per type, total conventional memory.
 */
#include "kernel.h"
#include "memmap.h"

void memmap_print_summary(const struct boot_info *bi)
{
	struct memmap_summary s;

	if (memmap_summarize(bi, &s) != 0)
		panic("memmap: the firmware's map is malformed (desc_size %ld, size %ld)",
		      bi->desc_size, bi->mmap_size);
	kprintf("memmap: %ld entries (descriptor size %ld, %ld runtime)\n",
		(uint64_t)s.entries, bi->desc_size, (uint64_t)s.runtime_entries);
	for (uint32_t t = 0; t < EFI_MEM_NTYPES; t++) {
		uint64_t tenths = s.pages[t] * 4096 * 10 >> 20; /* MiB, one decimal */
		if (s.pages[t])
			kprintf("memmap:   %a: %ld.%ld MiB\n", memmap_type_name(t), tenths / 10, tenths % 10);
	}
	kprintf("memmap: conventional memory %ld MiB, highest RAM address 0x%lx\n",
		s.conventional_bytes >> 20, s.highest_end);
}

void memmap_print_rows(const struct boot_info *bi)
{
	for (size_t i = 0; i < memmap_count(bi); i++) {
		const struct efi_mem_desc *d = memmap_desc(bi, i);
		kprintf("FIX(%d, 0x%016lx, 0x%08lx, 0x%016lx)\n", d->type, d->phys_start,
			d->num_pages, d->attribute);
	}
}
