/*
 * gopsize_efi.c - GOPSIZE.EFI, a test tool: make the GOP the loader
 * would draw on say its framebuffer is one scan line smaller than its
 * mode's span, as buggy firmware does, then start FILE with no options
 * (the boot a removable disk gets).
 *
 *   GOPSIZE.EFI FILE
 *       Cut the GOP on the console-out handle when it has a framebuffer,
 *       else the first that has one: the one an older loader took.  The
 *       loader should draw on another GOP that is whole (the GPU's own
 *       beside edk2's console splitter, or a second GPU's).
 *   GOPSIZE.EFI -all FILE
 *       Cut every GOP that has a framebuffer: the loader should keep the
 *       rows that fit.
 *
 * When FILE returns (it refused to run), print its status and leave
 * QEMU through isa-debug-exit with 0x10.
 */
#include <efi.h>
#include <efilib.h>
#include "efi_tool.h"

static EFI_GRAPHICS_OUTPUT_PROTOCOL *gop_on(EFI_HANDLE h)
{
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = NULL;

	if (!h || EFI_ERROR(BS->HandleProtocol(h, &GraphicsOutputProtocol, (void **)&gop)) ||
	    !gop || !gop->Mode || !gop->Mode->Info || !gop->Mode->FrameBufferBase)
		return NULL;
	return gop;
}

/* Cut gop's FrameBufferSize to one scan line short of its span. */
static void cut(EFI_GRAPHICS_OUTPUT_PROTOCOL *gop)
{
	EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info = gop->Mode->Info;

	gop->Mode->FrameBufferSize = (UINT64)info->PixelsPerScanLine * 4 *
				     (info->VerticalResolution - 1);
	Print(L"gopsize: FrameBufferSize of the %dx%d GOP at 0x%lx cut to %ld bytes\n",
	      info->HorizontalResolution, info->VerticalResolution, gop->Mode->FrameBufferBase,
	      gop->Mode->FrameBufferSize);
}

/* Cut the GOP on the console-out handle, else the first found; or, with
 * all, every one.  Returns how many were cut. */
static UINTN cut_gops(EFI_SYSTEM_TABLE *st, BOOLEAN all)
{
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = gop_on(st->ConsoleOutHandle);
	EFI_HANDLE *handles = NULL;
	UINTN n = 0, done = 0;

	if (gop) {
		cut(gop);
		done++;
	}
	if ((done && !all) ||
	    EFI_ERROR(LibLocateHandle(ByProtocol, &GraphicsOutputProtocol, NULL, &n, &handles)))
		return done;
	for (UINTN i = 0; i < n && (all || !done); i++) {
		gop = gop_on(handles[i]);
		if (gop && gop->Mode->FrameBufferSize > (UINT64)gop->Mode->Info->PixelsPerScanLine *
								4 * (gop->Mode->Info->VerticalResolution - 1)) {
			cut(gop); /* not one cut already (the console-out one) */
			done++;
		}
	}
	FreePool(handles);
	return done;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	EFI_HANDLE h = NULL;
	EFI_STATUS status;
	CHAR16 **argv, *file;
	INTN argc;
	BOOLEAN all;

	InitializeLib(image, st);
	argc = GetShellArgcArgv(image, &argv);
	all = argc == 3 && StrCmp(argv[1], L"-all") == 0;
	if (argc != 2 && !all) {
		Print(L"usage: GOPSIZE.EFI [-all] FILE\n");
		return EFI_INVALID_PARAMETER;
	}
	file = argv[argc - 1];
	if (!cut_gops(st, all)) {
		Print(L"gopsize: no GOP with a framebuffer\n");
		return EFI_NOT_FOUND;
	}
	status = tool_load(image, file, &h);
	if (!EFI_ERROR(status))
		status = BS->StartImage(h, NULL, NULL);
	tool_returned(L"gopsize", file, status);
	return status;
}
