/*
 * memsummary.c - print what the firmware's memory map handed over.
 */
#include "kernel.h"

void memmap_print_summary(const struct boot_info *bi)
{
	kprintf("memmap: %ld entries, descriptor size %ld\n",
		(uint64_t)boot_info_mmap_count(bi), bi->desc_size);
}
