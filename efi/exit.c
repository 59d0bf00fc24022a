/*
 * exit.c - the memory map and the one-way door of ExitBootServices.
 *
 * The map key changes whenever anything allocates, including hidden
 * allocations in console output.  So the buffer is allocated first, with
 * slack, and the last two firmware calls are GetMemoryMap and
 * ExitBootServices.  A stale key (EFI_INVALID_PARAMETER) means the map
 * changed under us: fetch it again into the same buffer and retry.
 */
#include <efi.h>
#include <efilib.h>
#include "loader.h"
#include "../kernel/kernel.h" /* our consoles, for a failure past the exit */

#define MAP_SLACK_DESCS 32  /* the Linux EFI stub's padding; 8 broke real machines */
#define EXIT_RETRIES    8
#define KERNEL_RESERVE  (8ull << 20) /* page tables, stacks, frames bookkeeping */

/* Sum of the conventional memory in a freshly fetched map. */
static EFI_STATUS conventional_bytes(uint64_t *bytes)
{
	UINTN entries, key, dsize;
	UINT32 dver;
	EFI_MEMORY_DESCRIPTOR *map = LibMemoryMap(&entries, &key, &dsize, &dver);

	if (!map)
		return EFI_NOT_FOUND;
	*bytes = 0;
	for (UINTN i = 0; i < entries; i++) {
		EFI_MEMORY_DESCRIPTOR *d = (void *)((char *)map + i * dsize);
		if (d->Type == EfiConventionalMemory)
			*bytes += d->NumberOfPages * EFI_PAGE_SIZE;
	}
	FreePool(map);
	return EFI_SUCCESS;
}

/* Our kernel builds 4-level tables.  Firmware that runs with 5-level
 * paging (CR4.LA57) would read our PML4 as a PML5 and triple-fault at the
 * CR3 load, so refuse here, while the shell can still show why. */
static bool five_level_paging(void)
{
	uint64_t cr4;

	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	return cr4 & (1ull << 12);
}

EFI_STATUS loader_check_memory(const struct boot_options *opts)
{
	uint64_t have = 0, need = opts->heap_size + KERNEL_RESERVE;

	if (five_level_paging()) {
		Print(L"BOOTX64.EFI: the firmware runs with 5-level paging (CR4.LA57); "
		      L"this kernel builds 4-level page tables\n");
		return EFI_UNSUPPORTED;
	}
	if (EFI_ERROR(conventional_bytes(&have))) {
		Print(L"BOOTX64.EFI: the firmware gave no memory map\n");
		return EFI_UNSUPPORTED;
	}
	if (have < need) {
		Print(L"BOOTX64.EFI: too little conventional memory: %ld KiB free, %ld KiB needed"
		      L" (try a smaller heap=)\n", have >> 10, need >> 10);
		return EFI_OUT_OF_RESOURCES;
	}
	return EFI_SUCCESS;
}

/* Size the map now and allocate room for it plus slack: the allocation
 * itself can split a free region and add descriptors. */
static EFI_STATUS alloc_map_buffer(struct boot_info *bi, UINTN *capacity)
{
	UINTN size = 0, key, dsize = 0;
	UINT32 dver;
	EFI_STATUS st = BS->GetMemoryMap(&size, NULL, &key, &dsize, &dver);

	if (st != EFI_BUFFER_TOO_SMALL || dsize < sizeof(EFI_MEMORY_DESCRIPTOR))
		return EFI_ERROR(st) && st != EFI_BUFFER_TOO_SMALL ? st : EFI_UNSUPPORTED;
	*capacity = size + MAP_SLACK_DESCS * dsize;
	return BS->AllocatePool(EfiLoaderData, *capacity, &bi->mmap);
}

EFI_STATUS loader_exit_boot_services(EFI_HANDLE image, struct boot_info *bi)
{
	UINTN capacity, size, key, dsize;
	UINT32 dver;
	int tries, exits = 0;
	EFI_STATUS st = alloc_map_buffer(bi, &capacity);

	if (EFI_ERROR(st)) {
		Print(L"BOOTX64.EFI: cannot allocate the memory map buffer: %r\n", st);
		return st;
	}
	for (tries = 0; tries < EXIT_RETRIES; tries++) {
		size = capacity;
		st = BS->GetMemoryMap(&size, bi->mmap, &key, &dsize, &dver);
		if (EFI_ERROR(st))
			break;
		st = BS->ExitBootServices(image, key);
		exits++;
		if (st == EFI_SUCCESS) {
			__asm__ volatile("cli");
			bi->mmap_size = size;
			bi->desc_size = dsize;
			bi->desc_version = dver;
			return EFI_SUCCESS;
		}
		if (st != EFI_INVALID_PARAMETER)
			break;
	}
	if (exits == 0) { /* ExitBootServices was never called: all still works */
		Print(L"BOOTX64.EFI: GetMemoryMap failed: %r\n", st);
		BS->FreePool(bi->mmap);
		return st;
	}
	/* After a refused ExitBootServices the firmware may have shut parts
	 * of itself down (UEFI 2.10, 7.4): no boot service is safe now, so
	 * report on our own consoles and stop. */
	__asm__ volatile("cli");
	serial_init();
	fbcon_init(&bi->fb);
	panic("loader: ExitBootServices failed %d times: status 0x%lx", exits, (uint64_t)st);
}
