/*
 * frag_efi.c - FRAG.EFI, a test tool: fragment the firmware's memory map
 * before BOOTX64.EFI runs, the way a busy pre-boot driver or real
 * firmware does, so the QEMU suite can boot our loader over a map with
 * hundreds of pieces.  Pages it allocates stay allocated after it exits
 * (UEFI frees nothing an application forgets).
 *
 *   FRAG.EFI holes N
 *       Punch N one-page EfiReservedMemoryType holes, one every second
 *       page, into the largest free descriptor: the map gains N separate
 *       pieces of RAM and N separate 4 KiB free ranges.  Returns to the
 *       shell, which then runs BOOTX64.EFI normally.
 *   FRAG.EFI runs KIB MIB FILE
 *       Load FILE first (its image needs one large run), then take every
 *       free run longer than KIB KiB, giving MIB MiB of the first back as
 *       runs of KIB KiB with a taken page between them, then start FILE
 *       (with no arguments).  When FILE returns (it refused to run),
 *       print its status and leave QEMU through isa-debug-exit with
 *       0x10: the shell has too little memory left to go on.
 */
#include <efi.h>
#include <efilib.h>
#include "efi_tool.h"


/* The largest EfiConventionalMemory descriptor now: base and pages. */
static EFI_STATUS largest_free(EFI_PHYSICAL_ADDRESS *base, UINT64 *pages)
{
	UINTN n, key, dsize;
	UINT32 dver;
	EFI_MEMORY_DESCRIPTOR *map = LibMemoryMap(&n, &key, &dsize, &dver);

	if (!map)
		return EFI_NOT_FOUND;
	*pages = 0;
	for (UINTN i = 0; i < n; i++) {
		EFI_MEMORY_DESCRIPTOR *d = (void *)((char *)map + i * dsize);
		if (d->Type == EfiConventionalMemory && d->NumberOfPages > *pages) {
			*base = d->PhysicalStart;
			*pages = d->NumberOfPages;
		}
	}
	FreePool(map);
	return *pages ? EFI_SUCCESS : EFI_NOT_FOUND;
}

/* n reserved pages at base + EFI_PAGE_SIZE, + 3 * EFI_PAGE_SIZE, ...: n pieces of RAM. */
static UINTN punch(EFI_PHYSICAL_ADDRESS base, UINT64 stride, UINTN n)
{
	UINTN made = 0;

	for (UINTN i = 0; i < n; i++) {
		EFI_PHYSICAL_ADDRESS a = base + EFI_PAGE_SIZE + i * stride;
		if (!EFI_ERROR(BS->AllocatePages(AllocateAddress, EfiReservedMemoryType, 1, &a)))
			made++;
	}
	return made;
}

static EFI_STATUS holes(UINTN n)
{
	EFI_PHYSICAL_ADDRESS base;
	UINT64 pages;

	if (EFI_ERROR(largest_free(&base, &pages)) || pages < 2 * n + 2)
		return EFI_OUT_OF_RESOURCES;
	Print(L"frag: %ld holes punched at 0x%lx\n", punch(base, 2 * EFI_PAGE_SIZE, n), base);
	return EFI_SUCCESS;
}

/* Take every free run longer than run bytes, largest first; give keep
 * bytes of the first back as runs of run bytes between taken pages. */
static EFI_STATUS take_all_but(UINT64 keep, UINT64 run)
{
	EFI_PHYSICAL_ADDRESS base;
	UINT64 pages;

	while (!EFI_ERROR(largest_free(&base, &pages)) && pages * EFI_PAGE_SIZE > run) {
		EFI_PHYSICAL_ADDRESS a = base;
		if (EFI_ERROR(BS->AllocatePages(AllocateAddress, EfiLoaderData, pages, &a)))
			return EFI_OUT_OF_RESOURCES;
		if (pages * EFI_PAGE_SIZE < keep)
			continue;
		/* Hand keep bytes back as runs of `run` bytes, each followed by
		 * a page that stays taken (LoaderData: RAM, but not free). */
		for (UINT64 off = 0; off + run + EFI_PAGE_SIZE <= keep; off += run + EFI_PAGE_SIZE)
			BS->FreePages(base + off, run / EFI_PAGE_SIZE);
		keep = 0;
	}
	return EFI_SUCCESS;
}

static EFI_STATUS runs(EFI_HANDLE image, UINT64 run, UINT64 keep, CHAR16 *file)
{
	EFI_HANDLE h = NULL;
	EFI_STATUS st = tool_load(image, file, &h);

	if (EFI_ERROR(st))
		return st;
	Print(L"frag: leaving %ld KiB free in %ld KiB runs\n", keep >> 10, run >> 10);
	st = take_all_but(keep, run);
	if (!EFI_ERROR(st))
		st = BS->StartImage(h, NULL, NULL);
	tool_returned(L"frag", file, st);
	return st;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	CHAR16 **argv;
	INTN argc;

	InitializeLib(image, st);
	argc = GetShellArgcArgv(image, &argv);
	if (argc == 3 && StrCmp(argv[1], L"holes") == 0)
		return holes(Atoi(argv[2]));
	if (argc == 5 && StrCmp(argv[1], L"runs") == 0)
		return runs(image, Atoi(argv[2]) * 1024ull, (UINT64)Atoi(argv[3]) << 20, argv[4]);
	Print(L"usage: FRAG.EFI holes N | runs KIB MIB FILE\n");
	return EFI_INVALID_PARAMETER;
}
