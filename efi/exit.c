/*
 * exit.c - the pre-exit check of the memory map and the one-way door of
 * ExitBootServices.
 *
 * The check runs the kernel's own planner (paging/plan.c) over the map
 * as it is now, so a map the kernel could not use (too fragmented, too
 * small) is refused here, at a live shell, with the reason.  The exit
 * itself is efi/exitloop.c over the real boot services: the map key
 * changes whenever anything allocates, including hidden allocations in
 * console output, so the last two firmware calls are GetMemoryMap and
 * ExitBootServices, retried when the key went stale or the map grew.
 */
#include <efi.h>
#include <efilib.h>
#include "loader.h"
#include "exitloop.h"
#include "plan.h"

/* Our kernel builds 4-level tables.  Firmware that runs with 5-level
 * paging (CR4.LA57) would read our PML4 as a PML5 and triple-fault at the
 * CR3 load, so refuse here, while the shell can still show why. */
static bool five_level_paging(void)
{
	uint64_t cr4;

	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	return cr4 & (1ull << 12);
}

/* "... cannot map runtime memory [0x0, 0x1000): touches page 0, ..." */
static EFI_STATUS report_unmappable(const struct layout_refusal *r)
{
	if (r->start == r->end)
		Print(L"BOOTX64.EFI: the kernel cannot use this memory map: %a %a\n", r->what,
		      r->why);
	else
		Print(L"BOOTX64.EFI: the kernel cannot map %a [0x%lx, 0x%lx): %a\n", r->what,
		      r->start, r->end, r->why);
	return EFI_UNSUPPORTED;
}

/* Say why the plan failed, in the shell's words. */
static EFI_STATUS report(const struct plan *p)
{
	switch (p->verdict) {
	case PLAN_OK:
		return EFI_SUCCESS;
	case PLAN_BAD_MAP:
		Print(L"BOOTX64.EFI: the firmware's memory map is malformed: %a\n", p->what);
		return EFI_UNSUPPORTED;
	case PLAN_NO_RUN:
		Print(L"BOOTX64.EFI: no %ld KiB run of free memory for %a (largest run: %ld KiB)\n",
		      p->need >> 10, p->what, p->have >> 10);
		return EFI_OUT_OF_RESOURCES;
	case PLAN_UNMAPPABLE:
		return report_unmappable(&p->refusal);
	case PLAN_TOO_LITTLE:
		break;
	}
	Print(L"BOOTX64.EFI: too little conventional memory: %ld KiB free, %ld KiB needed"
	      L" (try a smaller heap=)\n", p->have >> 10, p->need >> 10);
	return EFI_OUT_OF_RESOURCES;
}

/* Run the planner over a freshly fetched map, with scratch from the pool. */
static EFI_STATUS plan_now(const struct boot_info *bi, struct plan *p)
{
	UINTN entries, key, dsize;
	UINT32 dver;
	struct boot_info probe = *bi;
	struct memblock mb; /* built in map's buffer, a copy of the firmware's map */
	EFI_MEMORY_DESCRIPTOR *map = LibMemoryMap(&entries, &key, &dsize, &dver);

	if (!map)
		return EFI_NOT_FOUND;
	probe.mmap = map;
	probe.mmap_size = entries * dsize;
	probe.desc_size = dsize;
	if (plan_read_map(&probe, &mb, p) != PLAN_OK) {
		FreePool(map);
		return EFI_SUCCESS; /* the verdict says why */
	}
	uint64_t bytes = plan_store_bytes(&mb);
	void *store = AllocatePool(bytes);
	if (!store) {
		FreePool(map);
		return EFI_OUT_OF_RESOURCES;
	}
	plan_check(&mb, &probe, bi->opts.heap_size, store, p);
	if (store)
		FreePool(store);
	FreePool(map);
	return EFI_SUCCESS;
}

EFI_STATUS loader_check_memory(const struct boot_info *bi)
{
	struct plan p;
	EFI_STATUS st;

	if (five_level_paging()) {
		Print(L"BOOTX64.EFI: the firmware runs with 5-level paging (CR4.LA57); "
		      L"this kernel builds 4-level page tables\n");
		return EFI_UNSUPPORTED;
	}
	st = plan_now(bi, &p);
	if (st == EFI_NOT_FOUND)
		Print(L"BOOTX64.EFI: the firmware gave no memory map\n");
	else if (EFI_ERROR(st))
		Print(L"BOOTX64.EFI: no memory for checking the memory map: %r\n", st);
	return EFI_ERROR(st) ? st : report(&p);
}

/* The real boot services behind struct exit_fw (ctx: our image handle). */
static uint64_t fw_get_map(void *ctx, uint64_t *size, void *buf, uint64_t *key,
			   uint64_t *desc_size, uint32_t *desc_version)
{
	UINTN s = *size, k = 0, d = 0;
	UINT32 v = 0;
	EFI_STATUS st = BS->GetMemoryMap(&s, buf, &k, &d, &v);

	(void)ctx;
	*size = s, *key = k, *desc_size = d, *desc_version = v;
	return st;
}

static uint64_t fw_exit(void *ctx, uint64_t key)
{
	return BS->ExitBootServices(ctx, key);
}

static uint64_t fw_alloc(void *ctx, uint64_t size, void **buf)
{
	(void)ctx;
	return BS->AllocatePool(EfiLoaderData, size, buf);
}

static void fw_free(void *ctx, void *buf)
{
	(void)ctx;
	BS->FreePool(buf);
}

EFI_STATUS loader_exit_boot_services(EFI_HANDLE image, struct boot_info *bi)
{
	const struct exit_fw fw = { image, fw_get_map, fw_exit, fw_alloc, fw_free };
	int exits;
	EFI_STATUS st = exit_loop_run(&fw, bi, &exits);

	if (st == EFI_SUCCESS) {
		__asm__ volatile("cli");
		return EFI_SUCCESS;
	}
	if (exits == 0) { /* ExitBootServices was never called: all still works */
		Print(L"BOOTX64.EFI: cannot fetch the final memory map: %r\n", st);
		return st;
	}
	/* After a refused ExitBootServices the firmware may have shut parts
	 * of itself down (UEFI 2.10, 7.4): only allocation services are
	 * safe now, so the kernel reports on its own consoles and stops. */
	__asm__ volatile("cli");
	kernel_handoff_failed(bi, exits, st);
}
