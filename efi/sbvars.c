/*
 * sbvars.c - read the SecureBoot and SetupMode global variables from the
 * firmware and print the loader's first line, "loader: Secure Boot on",
 * "... off" or "... setup mode".  The decision itself is pure C in
 * efi/secureboot.c, where the host tests can reach it.
 */
#include <efi.h>
#include <efilib.h>
#include "loader.h"
#include "secureboot.h"

/* One variable of EFI_GLOBAL_VARIABLE.  The buffer is larger than the
 * one byte the spec allows, so an odd size comes back as a size (which
 * secureboot_decide refuses), not as EFI_BUFFER_TOO_SMALL. */
static struct sb_reading read_global(CHAR16 *name)
{
	UINT8 buf[8];
	UINTN size = sizeof(buf);
	EFI_STATUS st = RT->GetVariable(name, &gEfiGlobalVariableGuid, NULL, &size, buf);
	struct sb_reading r = { .found = 0 };

	if (st == EFI_SUCCESS || st == EFI_BUFFER_TOO_SMALL) {
		r.found = 1;
		r.size = size;
		r.first = (st == EFI_SUCCESS && size >= 1) ? buf[0] : 0;
	}
	return r;
}

void loader_report_secure_boot(void)
{
	enum sb_mode mode = secureboot_decide(read_global(L"SecureBoot"),
					      read_global(L"SetupMode"));

	Print(L"loader: Secure Boot %a\n", secureboot_words(mode));
}
