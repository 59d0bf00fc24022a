/*
 * args.c - our command line as a C argv[].
 *
 * From a shell: the UEFI Shell passes the words the user typed through
 * the shell parameters protocol on our image's handle, the old EFI 1.1
 * shell through its shell interface protocol.  From the firmware's boot
 * manager: a boot entry's OptionalData, our LoadOptions, which is "a
 * binary data buffer that is passed to the loaded image" (UEFI 2.10,
 * 3.1.3).  `efibootmgr -u 'memmap exit=halt'` puts text there, without
 * the program's name; vendors and boot managers put data of their own.
 * So options are read only when they are text (efi/options.c says
 * exactly what that is), and data is left alone with a note.  gnu-efi's
 * GetShellArgcArgv would split any LoadOptions and take its first word
 * for the program's name, losing the command and refusing data.
 */
#include <efi.h>
#include <efilib.h>
#include <efishell.h>
#include <efishellintf.h>
#include "loader.h"

/* Copy one UCS-2 argument into dst as ASCII; -1 if it does not fit. */
static int to_ascii(const CHAR16 *src, char *dst, size_t cap)
{
	size_t n = 0;

	for (; src[n]; n++) {
		if (src[n] > 0x7e || src[n] < 0x20 || n + 1 >= cap)
			return -1;
		dst[n] = (char)src[n];
	}
	dst[n] = '\0';
	return 0;
}

/* The words a shell started us with (the program's name first), from
 * either shell's protocol on our image's handle; 0 without a shell. */
static UINTN shell_words(EFI_HANDLE image, CHAR16 ***words)
{
	EFI_GUID old_guid = SHELL_INTERFACE_PROTOCOL_GUID;
	EFI_SHELL_PARAMETERS_PROTOCOL *params = NULL;
	EFI_SHELL_INTERFACE *old = NULL;

	if (!EFI_ERROR(BS->HandleProtocol(image, &ShellParametersProtocolGuid, (void **)&params)) &&
	    params && params->Argv) {
		*words = params->Argv;
		return params->Argc;
	}
	if (!EFI_ERROR(BS->HandleProtocol(image, &old_guid, (void **)&old)) && old && old->Argv) {
		*words = old->Argv;
		return old->Argc;
	}
	return 0;
}

/* The boot entry's options, as words: see options_from_load_options. */
static int entry_words(EFI_HANDLE image, char argv_buf[LOADER_MAX_ARGS][LOADER_ARG_LEN],
		       const char *argv[LOADER_MAX_ARGS])
{
	EFI_LOADED_IMAGE *me = NULL;
	int argc;

	if (EFI_ERROR(BS->HandleProtocol(image, &LoadedImageProtocol, (void **)&me)) || !me)
		return 1;
	argc = options_from_load_options(me->LoadOptions, me->LoadOptionsSize, argv_buf, argv);
	if (argc == 0)
		Print(L"loader: the boot entry's options are not text: ignored\n");
	return argc == 0 ? 1 : argc;
}

int loader_get_args(EFI_HANDLE image, char argv_buf[LOADER_MAX_ARGS][LOADER_ARG_LEN],
		    const char *argv[LOADER_MAX_ARGS])
{
	CHAR16 **words = NULL;
	UINTN argc = shell_words(image, &words);

	/* The program's name, however long or wherever it lies, is not ours
	 * to judge: argv[0] stays empty, as options_parse never reads it. */
	argv_buf[0][0] = '\0';
	argv[0] = argv_buf[0];
	if (argc == 0)
		return entry_words(image, argv_buf, argv);
	if (argc > LOADER_MAX_ARGS)
		return -1;
	for (UINTN i = 1; i < argc; i++) {
		if (!words[i] || to_ascii(words[i], argv_buf[i], LOADER_ARG_LEN) != 0)
			return -1;
		argv[i] = argv_buf[i];
	}
	return (int)argc;
}
