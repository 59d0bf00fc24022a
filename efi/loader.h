/*
 * loader.h - the pieces of the UEFI loader (efi/), called in order by
 * efi_main in efi/main.c.  Everything here runs with boot services.
 */
#ifndef LOADER_H
#define LOADER_H

#include <efi.h>
#include "boot_info.h"

#define LOADER_MAX_ARGS 16
#define LOADER_ARG_LEN  64

/* The shell's arguments as ASCII argv[] (argv[0] is the program).
 * Returns argc (1 when not started from a shell), or -1 on a non-ASCII
 * or over-long argument. */
int loader_get_args(EFI_HANDLE image, char argv_buf[LOADER_MAX_ARGS][LOADER_ARG_LEN],
		    const char *argv[LOADER_MAX_ARGS]);

/* Record framebuffer, ACPI RSDP, a copy of the memory attributes table
 * (in EfiLoaderData), runtime services and the image's placement in *bi.
 * None of them is required: a missing GOP, RSDP or table is left 0. */
void loader_record_firmware(EFI_HANDLE image, EFI_SYSTEM_TABLE *st, struct boot_info *bi);

/* Check the machine can run the kernel with these options: a memory map
 * exists and holds enough conventional memory.  Returns EFI_SUCCESS or an
 * error after printing a one-line reason. */
EFI_STATUS loader_check_memory(const struct boot_options *opts);

/* Allocate the map buffer, fetch the final map and exit boot services,
 * retrying on a stale map key.  On success bi->mmap* are filled and
 * interrupts are off; nothing of boot services may be used afterwards. */
EFI_STATUS loader_exit_boot_services(EFI_HANDLE image, struct boot_info *bi);

#endif
