/*
 * boot_info.h - the contract between a loader and the kernel: the one
 * structure that crosses the ExitBootServices line, and the three kernel
 * functions a loader may call.  docs/contract.md tells the whole story.
 *
 *   efi/ (loader) --fills--> boot/boot_info.h <--reads-- kernel/ --> paging/, heap/
 *
 * It lives in boot/, in neither side's folder: the loader includes it
 * without seeing the kernel's headers, the kernel includes it without
 * seeing gnu-efi, and another loader can fill it without either.
 *
 * The loader fills a struct boot_info while boot services still run and
 * hands kernel_main a pointer to it; the kernel never calls the firmware
 * again except through the runtime services table recorded here.  The
 * loader sets version and size; kernel_main refuses (a panic on serial)
 * a boot_info whose version or size it does not know.
 *
 * Plain C types only: gnu-efi is the loader's business (efi/contract.c
 * checks at compile time that our layouts match gnu-efi's), and paging/
 * includes this header on the host too.  The memory descriptor mirrors
 * the UEFI layout (UEFI spec 2.10, 7.2 EFI_MEMORY_DESCRIPTOR) but the
 * firmware may report a larger desc_size (edk2 reports 48): always step
 * by desc_size.
 */
#ifndef BOOT_INFO_H
#define BOOT_INFO_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

/* Bump when a field changes meaning, moves or appears: a kernel reads
 * only the version it was built with. */
#define BOOT_INFO_VERSION 3u

/* Pages the loader reserves below 1 MiB to start the other CPUs from
 * (boot_info.trampoline): the start-up code and a PML4 32-bit code can
 * load. */
#define BOOT_TRAMPOLINE_PAGES 2

/* UEFI memory types we care about (values fixed by the UEFI spec). */
enum efi_mem_type {
	EFI_MEM_RESERVED = 0,
	EFI_MEM_LOADER_CODE = 1,
	EFI_MEM_LOADER_DATA = 2,
	EFI_MEM_BOOT_CODE = 3,
	EFI_MEM_BOOT_DATA = 4,
	EFI_MEM_RUNTIME_CODE = 5,
	EFI_MEM_RUNTIME_DATA = 6,
	EFI_MEM_CONVENTIONAL = 7,
	EFI_MEM_UNUSABLE = 8,
	EFI_MEM_ACPI_RECLAIM = 9,
	EFI_MEM_ACPI_NVS = 10,
	EFI_MEM_MMIO = 11,
	EFI_MEM_MMIO_PORT = 12,
	EFI_MEM_PAL_CODE = 13,
	EFI_MEM_PERSISTENT = 14,
	EFI_MEM_UNACCEPTED = 15,
	EFI_MEM_NTYPES = 16,
};

/* Descriptor attribute bits (UEFI 2.10, 7.2).  The first five say which
 * memory types (caching) the region supports; several may be set. */
#define EFI_MEM_ATTR_UC 0x1ull          /* uncacheable */
#define EFI_MEM_ATTR_WC 0x2ull          /* write-combining */
#define EFI_MEM_ATTR_WT 0x4ull          /* write-through */
#define EFI_MEM_ATTR_WB 0x8ull          /* write-back: ordinary RAM */
#define EFI_MEM_ATTR_UCE 0x10ull        /* uncacheable, exported (fetch-and-add) */
#define EFI_MEM_ATTR_XP 0x4000ull       /* execute-protected: map no-execute */
#define EFI_MEM_ATTR_RO 0x20000ull      /* read-only */
/* Specific-purpose memory, "soft reserved" (UEFI 2.8 and later, 7.2,
 * the memory attribute definitions of GetMemoryMap): RAM earmarked for
 * one user (HBM, CXL memory).  gnu-efi 3.0.x does not define it. */
#define EFI_MEM_ATTR_SP 0x40000ull
#define EFI_MEM_ATTR_RUNTIME (1ull << 63) /* region must be mapped for RT calls */

/* The unit of num_pages: UEFI pages are always 4 KiB (UEFI 2.10, 7.2),
 * whatever page size the kernel maps with. */
#define BOOT_PAGE_SIZE 4096

/* The first fields of every UEFI memory descriptor (40 bytes). */
struct efi_mem_desc {
	uint32_t type;
	uint32_t pad;
	uint64_t phys_start;
	uint64_t virt_start;
	uint64_t num_pages;      /* in BOOT_PAGE_SIZE pages */
	uint64_t attribute;
};

/* What the user asked for on the command line (efi/options.c). */
enum boot_command {
	CMD_DEFAULT,  /* demo, then the self-tests */
	CMD_SELFTEST, /* only the self-tests (optionally those matching a name) */
	CMD_CRASH,    /* provoke a CPU exception to show its report */
	CMD_MEMMAP,   /* print the firmware's memory map, one row a descriptor */
	CMD_HEAPMAP,  /* a scripted heap session, drawn step by step */
	CMD_CPUS,     /* start the CPUs smp= allows, list every CPU the MADT names */
};

enum crash_kind {
	CRASH_NONE, CRASH_NULL, CRASH_WRITE_CODE, CRASH_EXEC_HEAP, CRASH_STACK_OVERFLOW,
	CRASH_DOUBLE_FREE, CRASH_AP_NULL,
};

enum exit_mode { EXIT_QEMU, EXIT_SHUTDOWN, EXIT_REBOOT, EXIT_HALT };

#define BOOT_TEST_NAME_MAX 48

struct boot_options {
	enum boot_command command;
	enum crash_kind crash;
	enum exit_mode exit;
	int exit_given;                       /* 1 when exit= was on the line */
	uint64_t heap_size;                   /* initial kernel heap, bytes */
	char test_name[BOOT_TEST_NAME_MAX];   /* "" runs every self-test */
	uint32_t screen;                      /* BOOT_SCREEN_* flags */
	uint32_t smp_max;                     /* smp=N: start at most N CPUs (the
					       * boot CPU included); 0: all */
};

/* boot_options.screen: how the run talks to a person watching. */
#define BOOT_SCREEN_SERIAL_COLOR 0x1u /* color=on: ANSI colours on serial too */
#define BOOT_SCREEN_PAUSE_KEY    0x2u /* pause=key: wait for a key on serial at each
					 "screen: paused" line (screenshots) */

/* The most CPUs smp= may ask for, and the kernel runs (kernel/smp.h). */
#define BOOT_SMP_MAX 64

/* Pixel formats of the GOP framebuffer we can draw to. */
enum fb_format { FB_NONE = 0, FB_RGBX = 1, FB_BGRX = 2 };

struct framebuffer {
	uint64_t base;      /* physical address; 0 when there is none */
	uint64_t size;      /* bytes */
	uint32_t width;     /* visible pixels */
	uint32_t height;
	uint32_t stride;    /* pixels per scan line: may exceed width */
	uint32_t format;    /* enum fb_format */
};

/*
 * The part of the firmware's runtime services table (UEFI 2.10, 8) the
 * kernel calls: only ResetSystem.  The functions use the firmware's
 * calling convention (Microsoft x64), whatever the kernel is built with.
 * efi/contract.c asserts reset_system sits where gnu-efi's
 * EFI_RUNTIME_SERVICES has ResetSystem.
 */
enum boot_reset_type { BOOT_RESET_COLD = 0, BOOT_RESET_WARM = 1, BOOT_RESET_SHUTDOWN = 2 };
#define BOOT_STATUS_SUCCESS 0ull
#define BOOT_STATUS_ABORTED ((1ull << 63) | 21) /* EFI_ABORTED */

typedef void (__attribute__((ms_abi)) *boot_reset_fn)(uint32_t type, uint64_t status,
						       uint64_t data_size, void *data);

struct boot_runtime_services {
	uint64_t signature;     /* EFI_TABLE_HEADER: "RUNTSERV" */
	uint32_t revision, header_size, crc32, reserved;
	void *time_services[4];     /* GetTime ... SetWakeupTime: not called */
	void *virtual_memory[2];    /* SetVirtualAddressMap, ConvertPointer: not called */
	void *variable_services[3]; /* GetVariable ... SetVariable: not called */
	void *get_next_high_monotonic_count; /* not called */
	boot_reset_fn reset_system;
	/* more services follow; the kernel calls none of them */
};

struct boot_info {
	uint32_t version;       /* BOOT_INFO_VERSION of the loader that filled it */
	uint32_t size;          /* sizeof(struct boot_info) as the loader saw it */

	/* The memory map as ExitBootServices saw it. */
	void *mmap;             /* desc_size-spaced struct efi_mem_desc */
	uint64_t mmap_size;     /* bytes used in mmap */
	uint64_t desc_size;     /* bytes between descriptors (>= 40) */
	uint32_t desc_version;

	struct framebuffer fb;
	uint64_t rsdp;          /* physical address of the ACPI RSDP, or 0 */
	uint32_t rsdp_revision; /* 2: an ACPI 2.0+ RSDP (it may name an XSDT); else 1 */
	struct boot_runtime_services *runtime_services; /* or NULL */

	/* The EFI memory attributes table's entries (UEFI 2.10, 4.6.4),
	 * copied from the firmware's table: the runtime images split into
	 * code (EFI_MEM_ATTR_RO) and data (EFI_MEM_ATTR_XP) ranges.  mat is
	 * NULL when the firmware published no table.  Same descriptor layout
	 * as the map, stepped by mat_desc_size. */
	void *mat;
	uint64_t mat_size;      /* bytes used in mat */
	uint64_t mat_desc_size;
	uint32_t mat_version;
	uint64_t image_base;    /* where the firmware loaded BOOTX64.EFI */
	uint64_t image_size;

	/* BOOT_TRAMPOLINE_PAGES pages from trampoline, below 1 MiB, that the
	 * loader allocated as EfiLoaderData for starting the other CPUs: a
	 * CPU leaves INIT in real mode and can only start below 1 MiB.  0:
	 * none (smp=1, or no free pages there); the kernel then runs on one
	 * CPU.  kernel/trampoline.h draws the two pages. */
	uint64_t trampoline;

	struct boot_options opts;
};

/* Descriptor i of the map; the caller checks i < boot_info_mmap_count(). */
static inline const struct efi_mem_desc *boot_info_desc(const struct boot_info *bi, size_t i)
{
	return (const struct efi_mem_desc *)((const char *)bi->mmap + i * bi->desc_size);
}

static inline size_t boot_info_mmap_count(const struct boot_info *bi)
{
	return bi->desc_size ? bi->mmap_size / bi->desc_size : 0;
}

/*
 * Bytes of the framebuffer the kernel may touch: PixelsPerScanLine *
 * height * 4 (32-bit pixels; a scan line may be wider than the screen).
 * The one definition both the page-table layout (which maps this much)
 * and the framebuffer console (which draws inside it) use.  Two 32-bit
 * factors: the product cannot wrap 64 bits.
 */
static inline uint64_t framebuffer_bytes(const struct framebuffer *fb)
{
	return (uint64_t)fb->stride * fb->height * 4;
}

/*
 * What the kernel offers a loader: the only kernel functions a loader
 * calls (`make` checks the EFI loader uses nothing else of kernel/).
 */

/* The handoff.  Call after ExitBootServices, in long mode on the
 * firmware's identity map, interrupts off, with bi filled in (version and
 * size included) in memory the firmware map calls loader data or code.
 * Never returns; refuses (panics on COM1) a boot_info it cannot read. */
__attribute__((noreturn)) void kernel_main(const struct boot_info *bi);

/* True when some self-test's name starts with prefix ("" matches all).
 * Pure: touches no hardware, so a loader may call it with boot services
 * running, to refuse `selftest NAME` while the user still has a shell. */
bool kernel_has_test(const char *prefix);

/* For a loader whose ExitBootServices failed (tries times, last status):
 * the firmware may be half gone and its console with it.  Reports on
 * the kernel's own consoles (COM1, bi->fb) and halts.  Never returns. */
__attribute__((noreturn)) void kernel_handoff_failed(const struct boot_info *bi, int tries,
						     uint64_t status);

#endif
