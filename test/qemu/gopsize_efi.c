/*
 * gopsize_efi.c - GOPSIZE.EFI, a test tool: make a GOP say its
 * framebuffer is one scan line smaller than its mode's span, as buggy
 * firmware does, then start FILE with no options (the boot a removable
 * disk gets).
 *
 *   GOPSIZE.EFI FILE
 *       Cut the GOP on the console-out handle if it has a framebuffer,
 *       else the first GOP that has one.  Under the UEFI Shell the
 *       console-out handle is the shell's own, with no GOP, so in OVMF
 *       that is the first GPU's GOP.  Beside it stands a whole one (the
 *       console splitter's copy of it, or a second GPU's): the loader
 *       should draw on that.
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

/* One scan line short of gop's span, or 0 if gop cannot be cut: no GOP,
 * fewer than two rows, or already that small (one Mode may stand behind
 * two handles). */
static UINT64 short_size(EFI_GRAPHICS_OUTPUT_PROTOCOL *gop)
{
	EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info = gop ? gop->Mode->Info : NULL;
	UINT64 size;

	if (!info || info->VerticalResolution < 2)
		return 0;
	size = (UINT64)info->PixelsPerScanLine * 4 * (info->VerticalResolution - 1);
	return gop->Mode->FrameBufferSize > size ? size : 0;
}

/* Cut gop if it can be; 1 if it was. */
static UINTN cut(EFI_GRAPHICS_OUTPUT_PROTOCOL *gop)
{
	UINT64 size = short_size(gop);

	if (!size)
		return 0;
	gop->Mode->FrameBufferSize = size;
	Print(L"gopsize: FrameBufferSize of the %dx%d GOP at 0x%lx cut to %ld bytes\n",
	      gop->Mode->Info->HorizontalResolution, gop->Mode->Info->VerticalResolution,
	      gop->Mode->FrameBufferBase, size);
	return 1;
}

/* Cut the console-out GOP, else the first found; or, with all, every
 * one.  Returns how many were cut. */
static UINTN cut_gops(EFI_SYSTEM_TABLE *st, BOOLEAN all)
{
	EFI_HANDLE *handles = NULL;
	UINTN n = 0, done = cut(gop_on(st->ConsoleOutHandle));

	if (done && !all)
		return done;
	if (EFI_ERROR(LibLocateHandle(ByProtocol, &GraphicsOutputProtocol, NULL, &n, &handles)))
		return done;
	for (UINTN i = 0; i < n && (all || !done); i++)
		done += cut(gop_on(handles[i]));
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
		Print(L"gopsize: no GOP it could cut (none with a framebuffer of 2 rows or more)\n");
		return EFI_NOT_FOUND;
	}
	status = tool_load(image, file, &h);
	if (!EFI_ERROR(status))
		status = BS->StartImage(h, NULL, NULL);
	tool_returned(L"gopsize", file, status);
	return status;
}
