/*
 * hello_efi.c - the smallest EFI application worth timing: print a line,
 * then leave QEMU through isa-debug-exit.  `make bench` boots it beside
 * BOOTX64.EFI, the same way, to show what our loader and kernel cost on
 * top of the firmware's own boot.
 */
#include <efi.h>
#include <efilib.h>

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	InitializeLib(image, st);
	Print(L"hello: done\n");
	__asm__ volatile("outl %0, %1" : : "a"(0x10u), "Nd"((uint16_t)0xf4));
	return EFI_SUCCESS;
}
