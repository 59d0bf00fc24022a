/*
 * bootopt_efi.c - BOOTOPT.EFI, a test tool: start an application as the
 * firmware's boot manager starts a boot entry, with LoadOptions set from
 * the entry's OptionalData and no shell protocol on its handle, so the
 * QEMU suite can check what the loader makes of an entry's options.
 *
 *   BOOTOPT.EFI FILE WORD...
 *       LoadOptions: the words joined by spaces, in UCS-2 with a NUL,
 *       as `efibootmgr -u 'WORD ...'` stores them.
 *   BOOTOPT.EFI -data FILE
 *       LoadOptions: 16 bytes of binary data, as a vendor's entry holds.
 *
 * When FILE returns (it refused to run), print its status and leave
 * QEMU through isa-debug-exit with 0x10.
 */
#include <efi.h>
#include <efilib.h>
#include "efi_tool.h"

/* 16 bytes that are no text: a GUID, as some entries carry. */
static const UINT8 data[16] = { 0x2c, 0x6f, 0xb3, 0xd3, 0x51, 0xd5, 0xd4, 0x11,
				0x9a, 0x46, 0x00, 0x90, 0x27, 0x3f, 0xc1, 0x4d };

/* argv[from..argc) joined by single spaces into buf (cap characters). */
static UINTN join(CHAR16 **argv, INTN from, INTN argc, CHAR16 *buf, UINTN cap)
{
	UINTN n = 0;

	for (INTN i = from; i < argc; i++) {
		for (CHAR16 *c = argv[i]; *c && n + 2 < cap; c++)
			buf[n++] = *c;
		if (i + 1 < argc && n + 2 < cap)
			buf[n++] = L' ';
	}
	buf[n] = 0;
	return n;
}

static EFI_STATUS start(EFI_HANDLE image, CHAR16 *file, void *opts, UINT32 bytes)
{
	EFI_LOADED_IMAGE *child;
	EFI_HANDLE h = NULL;
	EFI_STATUS st = tool_load(image, file, &h);

	if (EFI_ERROR(st))
		return st;
	st = BS->HandleProtocol(h, &LoadedImageProtocol, (void **)&child);
	if (EFI_ERROR(st))
		return st;
	child->LoadOptions = opts;
	child->LoadOptionsSize = bytes;
	st = BS->StartImage(h, NULL, NULL);
	tool_returned(L"bootopt", file, st);
	return st;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	static CHAR16 text[256];
	CHAR16 **argv;
	INTN argc;

	InitializeLib(image, st);
	argc = GetShellArgcArgv(image, &argv);
	if (argc == 3 && StrCmp(argv[1], L"-data") == 0)
		return start(image, argv[2], (void *)data, sizeof data);
	if (argc >= 3)
		return start(image, argv[1], text,
			     (UINT32)((join(argv, 2, argc, text, 256) + 1) * sizeof(CHAR16)));
	Print(L"usage: BOOTOPT.EFI FILE WORD... | -data FILE\n");
	return EFI_INVALID_PARAMETER;
}
