/*
 * contract.c - compile-time proof that boot/boot_info.h, which the kernel
 * reads without gnu-efi, agrees with gnu-efi's definitions of the same
 * firmware structures.  No code: a mismatch stops the build here, in the
 * loader, the only side that sees both.
 */
#include <efi.h>
#include <stddef.h>
#include "boot_info.h"

_Static_assert(offsetof(struct boot_runtime_services, reset_system) ==
	       offsetof(EFI_RUNTIME_SERVICES, ResetSystem),
	       "boot_runtime_services.reset_system is not where the firmware keeps ResetSystem");
_Static_assert(offsetof(struct boot_runtime_services, get_next_high_monotonic_count) ==
	       offsetof(EFI_RUNTIME_SERVICES, GetNextHighMonotonicCount),
	       "boot_runtime_services does not follow EFI_RUNTIME_SERVICES");
/* (int): the two sides' enums are different types, their values must agree. */
_Static_assert((int)BOOT_RESET_COLD == (int)EfiResetCold &&
	       (int)BOOT_RESET_WARM == (int)EfiResetWarm &&
	       (int)BOOT_RESET_SHUTDOWN == (int)EfiResetShutdown, "reset types differ from gnu-efi's");
_Static_assert(BOOT_STATUS_ABORTED == EFI_ABORTED && BOOT_STATUS_SUCCESS == EFI_SUCCESS,
	       "status codes differ from gnu-efi's");

/* The memory descriptor: our first 40 bytes are the firmware's. */
_Static_assert(offsetof(struct efi_mem_desc, phys_start) ==
	       offsetof(EFI_MEMORY_DESCRIPTOR, PhysicalStart), "efi_mem_desc.phys_start");
_Static_assert(offsetof(struct efi_mem_desc, num_pages) ==
	       offsetof(EFI_MEMORY_DESCRIPTOR, NumberOfPages), "efi_mem_desc.num_pages");
_Static_assert(offsetof(struct efi_mem_desc, attribute) ==
	       offsetof(EFI_MEMORY_DESCRIPTOR, Attribute), "efi_mem_desc.attribute");
_Static_assert((int)EFI_MEM_CONVENTIONAL == (int)EfiConventionalMemory &&
	       (int)EFI_MEM_BOOT_DATA == (int)EfiBootServicesData &&
	       (int)EFI_MEM_RUNTIME_CODE == (int)EfiRuntimeServicesCode,
	       "memory types differ from gnu-efi's");
