/*
 * main.c - efi_main, the loader's boot story.
 *
 * Runs with boot services: read and check the command line, record what
 * the kernel needs from the firmware, check memory, then exit boot
 * services and hand one struct boot_info to kernel_main.  Every check
 * that can fail happens before the exit, so a mistake returns an error
 * status to a live EFI shell.
 *
 * Of the kernel it sees only boot/boot_info.h: the structure, and the
 * three functions a loader may call (kernel_main, kernel_has_test,
 * kernel_handoff_failed).
 *
 * gnu-efi's crt0 calls efi_main with the SysV ABI: it is not EFIAPI.
 */
#include <efi.h>
#include <efilib.h>
#include "loader.h"
#include "options.h"

/* Lives in the image (EfiLoaderCode/Data), so it survives the exit. */
static struct boot_info boot_info = { .version = BOOT_INFO_VERSION,
				      .size = sizeof(struct boot_info) };

static EFI_STATUS read_options(EFI_HANDLE image, struct boot_options *opts)
{
	static char argv_buf[LOADER_MAX_ARGS][LOADER_ARG_LEN];
	const char *argv[LOADER_MAX_ARGS];
	char err[160];
	int argc = loader_get_args(image, argv_buf, argv);

	if (argc < 0) {
		Print(L"BOOTX64.EFI: too many, too long or non-ASCII arguments\n%a\n", options_usage);
		return EFI_INVALID_PARAMETER;
	}
	if (options_parse(argc, argv, opts, err, sizeof(err)) != 0) {
		Print(L"BOOTX64.EFI: %a\n%a\n", err, options_usage);
		return EFI_INVALID_PARAMETER;
	}
	if (opts->command == CMD_SELFTEST && !kernel_has_test(opts->test_name)) {
		Print(L"BOOTX64.EFI: selftest: no test name starts with '%a'\n", opts->test_name);
		return EFI_NOT_FOUND;
	}
	return EFI_SUCCESS;
}

/* Back to the shell: give the firmware what the loader took for the
 * kernel (the copy of the memory attributes table, the pages below
 * 640 KiB that start the other CPUs), or every try at the shell would
 * keep some, and the low pages would run out.  Returns status. */
static EFI_STATUS give_back(struct boot_info *bi, EFI_STATUS status)
{
	if (bi->mat)
		BS->FreePool(bi->mat);
	if (bi->trampoline)
		BS->FreePages(bi->trampoline, BOOT_TRAMPOLINE_PAGES);
	bi->mat = NULL;
	bi->trampoline = 0;
	return status;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	EFI_STATUS status;

	InitializeLib(image, st);
	BS->SetWatchdogTimer(0, 0, 0, NULL); /* the boot manager armed 5 minutes */
	loader_report_secure_boot();         /* our first line: on, off or setup mode */

	status = read_options(image, &boot_info.opts);
	if (EFI_ERROR(status))
		return status;
	loader_record_firmware(image, st, &boot_info);
	loader_reserve_trampoline(&boot_info);
	status = loader_check_memory(&boot_info);
	if (EFI_ERROR(status))
		return give_back(&boot_info, status);

	/* For `make debug`: gdb loads the symbols at this address. */
	Print(L"loader: image base 0x%lx size 0x%lx\n", boot_info.image_base, boot_info.image_size);
	Print(L"loader: exiting boot services\n");

	status = loader_exit_boot_services(image, &boot_info);
	if (EFI_ERROR(status)) /* boot services still run: see exit.c */
		return give_back(&boot_info, status);
	kernel_main(&boot_info); /* never returns */
}
