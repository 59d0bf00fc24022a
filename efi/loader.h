/*
 * loader.h - the pieces of the UEFI loader (efi/), called in order by
 * efi_main in efi/main.c.  Everything here runs with boot services.
 */
#ifndef LOADER_H
#define LOADER_H

#include <efi.h>
#include "boot_info.h"

#include "options.h"

#define LOADER_MAX_ARGS OPTIONS_MAX_WORDS
#define LOADER_ARG_LEN  OPTIONS_WORD_LEN

/* Our arguments as ASCII argv[] (argv[0] is "", for the program): the
 * shell's words, or without a shell the boot entry's options when they
 * are text (options_from_load_options).  Returns argc (1 when there are
 * none), or -1 on a non-ASCII or over-long argument, or too many. */
int loader_get_args(EFI_HANDLE image, char argv_buf[LOADER_MAX_ARGS][LOADER_ARG_LEN],
		    const char *argv[LOADER_MAX_ARGS]);

/* Print "loader: Secure Boot on", "... off" or "... setup mode", from
 * the firmware's SecureBoot and SetupMode variables (efi/secureboot.h
 * says how they are read).  Only reports: the firmware, not we, refuses
 * unsigned images. */
void loader_report_secure_boot(void);

/* Record framebuffer, ACPI RSDP, a copy of the memory attributes table
 * (in EfiLoaderData), runtime services and the image's placement in *bi.
 * None of them is required: a missing GOP, RSDP or table is left 0. */
void loader_record_firmware(EFI_HANDLE image, EFI_SYSTEM_TABLE *st, struct boot_info *bi);

/* Unless bi->opts.smp_max is 1, take two pages below 640 KiB as
 * EfiLoaderData for starting the other CPUs and record them in
 * bi->trampoline; none free: says so, leaves it 0 (one CPU). */
void loader_reserve_trampoline(struct boot_info *bi);

/* Check the machine can run the kernel with bi->opts: the CPU pages the
 * way we do, and the memory map, as it is now, holds every contiguous run
 * and enough free memory (paging/plan.h: the kernel's own planner, run
 * over the map before the exit).  Returns EFI_SUCCESS or an error after
 * printing a one-line reason, such as "no 64 KiB run of free memory for
 * the kernel stack (largest run: 60 KiB)". */
EFI_STATUS loader_check_memory(const struct boot_info *bi);

/* Allocate the map buffer, fetch the final map and exit boot services,
 * retrying on a stale map key or a map grown past the buffer
 * (efi/exitloop.h).  On success bi->mmap* are filled and interrupts are
 * off; nothing of boot services may be used afterwards. */
EFI_STATUS loader_exit_boot_services(EFI_HANDLE image, struct boot_info *bi);

#endif
