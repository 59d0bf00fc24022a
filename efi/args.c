/*
 * args.c - the EFI shell's command line as a C argv[].
 *
 * gnu-efi's GetShellArgcArgv asks the shell (its parameters protocol) for
 * the words the user typed.  Started by the boot manager instead, there
 * are none, and LoadOptions may hold binary data we must not parse.
 */
#include <efi.h>
#include <efilib.h>
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

int loader_get_args(EFI_HANDLE image, char argv_buf[LOADER_MAX_ARGS][LOADER_ARG_LEN],
		    const char *argv[LOADER_MAX_ARGS])
{
	CHAR16 **wargv = NULL;
	INTN argc = GetShellArgcArgv(image, &wargv);

	if (argc <= 0 || !wargv) {
		argv_buf[0][0] = '\0';
		argv[0] = argv_buf[0];
		return 1;
	}
	if (argc > LOADER_MAX_ARGS)
		return -1;
	for (INTN i = 0; i < argc; i++) {
		if (to_ascii(wargv[i], argv_buf[i], LOADER_ARG_LEN) != 0)
			return -1;
		argv[i] = argv_buf[i];
	}
	return (int)argc;
}
