/*
 * trampoline.c - reserve the pages the kernel starts the other CPUs from.
 *
 * A CPU that leaves INIT runs in real mode and can only start at a
 * page-aligned address below 1 MiB (the start-up IPI carries the page
 * number in 8 bits).  Such pages are scarce and the firmware's, so the
 * loader takes two of them while it still may: the code page and a
 * page for a PML4 that 32-bit code can load (docs/smp.md).  As
 * EfiLoaderData they stay out of the kernel's frame allocator.
 */
#include <efi.h>
#include <efilib.h>
#include "loader.h"

#define TRAMPOLINE_LIMIT 0x9FFFFull /* below the EBDA and the legacy VGA hole */

void loader_reserve_trampoline(struct boot_info *bi)
{
	EFI_PHYSICAL_ADDRESS addr = TRAMPOLINE_LIMIT;
	EFI_STATUS st;

	bi->trampoline = 0;
	if (bi->opts.smp_max == 1)
		return; /* one CPU asked for: nothing to start */
	st = BS->AllocatePages(AllocateMaxAddress, EfiLoaderData, BOOT_TRAMPOLINE_PAGES, &addr);
	if (!EFI_ERROR(st) && addr == 0) {
		/* Page 0 would read as "none" in bi->trampoline: give it back. */
		BS->FreePages(addr, BOOT_TRAMPOLINE_PAGES);
		st = EFI_NOT_FOUND;
	}
	if (EFI_ERROR(st)) {
		Print(L"loader: no free pages below 640 KiB to start other CPUs from; "
		      L"running on one CPU\n");
		return;
	}
	bi->trampoline = addr;
}
