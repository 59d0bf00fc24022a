/*
 * efi_tool.h - what the QEMU suite's test tools (FRAG.EFI, BOOTOPT.EFI)
 * share: load an application from the disk they were started from, and
 * leave QEMU when it returns.
 */
#ifndef EFI_TOOL_H
#define EFI_TOOL_H

#include <efi.h>
#include <efilib.h>

/* Load FILE, beside the tool `image`, as an image *h not yet started. */
static inline EFI_STATUS tool_load(EFI_HANDLE image, CHAR16 *file, EFI_HANDLE *h)
{
	EFI_LOADED_IMAGE *me;
	EFI_STATUS st = BS->HandleProtocol(image, &LoadedImageProtocol, (void **)&me);

	if (EFI_ERROR(st))
		return st;
	return BS->LoadImage(FALSE, image, FileDevicePath(me->DeviceHandle, file), NULL, 0, h);
}

/* FILE returned (it refused to run): say so, with its status, and leave
 * QEMU through isa-debug-exit with 0x10. */
static inline void tool_returned(const CHAR16 *tool, const CHAR16 *file, EFI_STATUS st)
{
	Print(L"%s: %s returned %r\n", tool, file, st);
	__asm__ volatile("outl %0, %1" : : "a"(0x10u), "Nd"((uint16_t)0xf4));
}

#endif
