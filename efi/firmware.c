/*
 * firmware.c - what the kernel needs from the firmware, saved while its
 * protocols still exist: the GOP framebuffer, the ACPI RSDP, the memory
 * attributes table, the runtime services table, and where our own image
 * was loaded.
 */
#include <efi.h>
#include <efilib.h>
#include "loader.h"
#include "fwcheck.h"

/*
 * The EFI memory attributes table (UEFI 2.10, 4.6.4).  gnu-efi 3.0.15's
 * headers do not define it, so we do.  The header is followed by
 * NumberOfEntries memory descriptors, DescriptorSize bytes apart.
 */
#define MEMORY_ATTRIBUTES_TABLE_GUID \
	{ 0xdcfa911d, 0x26eb, 0x469f, { 0xa2, 0x20, 0x38, 0xb7, 0xdc, 0x46, 0x12, 0x20 } }

struct memory_attributes_table {
	UINT32 Version;         /* 1 or 2 */
	UINT32 NumberOfEntries;
	UINT32 DescriptorSize;
	UINT32 Flags;           /* "Reserved" in version 1 */
	/* EFI_MEMORY_DESCRIPTOR Entry[NumberOfEntries] follows */
};

#define MAT_MAX_BYTES (1u << 20) /* a table bigger than this is not believed */

/* Installed on the handle of every device the firmware's text goes to
 * (edk2's ConsoleOutDevice.h; the UEFI spec leaves it to the platform). */
#define CONSOLE_OUT_DEVICE_GUID \
	{ 0xd3b36f2c, 0xd551, 0x11d4, { 0x9a, 0x46, 0x00, 0x90, 0x27, 0x3f, 0xc1, 0x4d } }

/* The GOP on handle h, or NULL. */
static EFI_GRAPHICS_OUTPUT_PROTOCOL *gop_on(EFI_SYSTEM_TABLE *st, EFI_HANDLE h)
{
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = NULL;

	if (!h || EFI_ERROR(st->BootServices->HandleProtocol(h, &GraphicsOutputProtocol,
							     (void **)&gop)))
		return NULL;
	return gop;
}

/* Can we draw on gop: a framebuffer, in a pixel format we know?  Not
 * one with bit masks, nor one that only does Blt (no framebuffer). */
static BOOLEAN drawable(EFI_GRAPHICS_OUTPUT_PROTOCOL *gop)
{
	EFI_GRAPHICS_PIXEL_FORMAT f;

	if (!gop || !gop->Mode || !gop->Mode->Info || !gop->Mode->FrameBufferBase)
		return FALSE;
	f = gop->Mode->Info->PixelFormat;
	return f == PixelRedGreenBlueReserved8BitPerColor ||
	       f == PixelBlueGreenRedReserved8BitPerColor;
}

/* gop's framebuffer as the kernel gets it, before fit_framebuffer. */
static void read_gop(EFI_GRAPHICS_OUTPUT_PROTOCOL *gop, struct framebuffer *fb)
{
	EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info = gop->Mode->Info;

	fb->format = info->PixelFormat == PixelRedGreenBlueReserved8BitPerColor ? FB_RGBX : FB_BGRX;
	fb->base = gop->Mode->FrameBufferBase;
	fb->size = gop->Mode->FrameBufferSize;
	fb->width = info->HorizontalResolution;
	fb->height = info->VerticalResolution;
	fb->stride = info->PixelsPerScanLine; /* may be wider than the screen */
}

/* Can we draw on all of gop: drawable, and every row of its mode fits
 * both its FrameBufferSize and the kernel's window (fwcheck)? */
static BOOLEAN whole(EFI_GRAPHICS_OUTPUT_PROTOCOL *gop)
{
	struct framebuffer fb;

	if (!drawable(gop))
		return FALSE;
	read_gop(gop, &fb);
	return fwcheck_framebuffer_whole(&fb);
}

/*
 * The GOP to draw on, among those `usable` accepts.  First the one on
 * the console-out handle: the screen the firmware's own text went to.
 * But with two GPUs that handle is edk2's console splitter, whose GOP
 * draws on both through Blt and has no framebuffer (and under the UEFI
 * Shell it is the shell's own, with no GOP).  Then, among every GOP,
 * the first whose handle is a console-out device; else the first at
 * all.  The Linux EFI stub chooses the same way.  NULL: none.
 */
static EFI_GRAPHICS_OUTPUT_PROTOCOL *find_gop(EFI_SYSTEM_TABLE *st,
					      BOOLEAN (*usable)(EFI_GRAPHICS_OUTPUT_PROTOCOL *))
{
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = gop_on(st, st->ConsoleOutHandle), *console = NULL,
				     *any = NULL;
	EFI_GUID conout = CONSOLE_OUT_DEVICE_GUID;
	EFI_HANDLE *handles = NULL;
	UINTN n = 0;
	void *dev;

	if (usable(gop))
		return gop;
	if (EFI_ERROR(LibLocateHandle(ByProtocol, &GraphicsOutputProtocol, NULL, &n, &handles)))
		return NULL;
	for (UINTN i = 0; i < n && !console; i++) {
		gop = gop_on(st, handles[i]);
		if (!usable(gop))
			continue;
		if (!EFI_ERROR(st->BootServices->HandleProtocol(handles[i], &conout, &dev)))
			console = gop; /* a screen the firmware's text goes to */
		else if (!any)
			any = gop;
	}
	FreePool(handles);
	return console ? console : any;
}

/*
 * Keep the framebuffer to what its memory holds.  The kernel maps and
 * clears framebuffer_bytes(fb) (stride * height * 4); a GOP whose
 * FrameBufferSize is smaller (buggy firmware) would have it write past
 * the framebuffer.  So: draw only on the rows that fit, or, if not one
 * does, on nothing (serial only).  Either way the loader says so.
 */
static void fit_framebuffer(struct framebuffer *fb)
{
	const char *why = "";
	uint32_t rows = fwcheck_framebuffer_rows(fb, &why);

	if (rows == 0) { /* first: a mode of 0 rows gives 0 too */
		Print(L"loader: GOP framebuffer not used (%a): serial only\n", why);
		fb->base = 0;
		fb->format = FB_NONE;
		return;
	}
	if (rows == fb->height)
		return;
	Print(L"loader: GOP framebuffer is %ld bytes, its mode spans %ld (%a): using %ld of %ld rows\n",
	      fb->size, framebuffer_bytes(fb), why, (UINT64)rows, (UINT64)fb->height);
	fb->height = rows;
}

/* A GOP the kernel can draw on whole, in find_gop's order; else the
 * first one it can draw on at all, clamped to the rows that fit: with
 * two GPUs, one whose FrameBufferSize is too small (buggy firmware)
 * must not win over one that is fine.  (So a whole GOP on a GPU with no
 * console also wins over a console-out one a row short: a screen that
 * works beats the screen the firmware used.) */
static void record_framebuffer(EFI_SYSTEM_TABLE *st, struct framebuffer *fb)
{
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = find_gop(st, whole);

	fb->base = 0;
	fb->format = FB_NONE;
	if (!gop)
		gop = find_gop(st, drawable);
	if (!gop)
		return; /* serial-only machines exist */
	read_gop(gop, fb);
	fit_framebuffer(fb);
}

/*
 * The first configuration table with this GUID whose RSDP passes
 * fwcheck_rsdp, with the revision its bytes show in *revision; 0 if
 * none.  Each one refused gets a note: a broken table is worth knowing.
 */
static uint64_t checked_rsdp(EFI_SYSTEM_TABLE *st, EFI_GUID *guid, const char *name,
			     uint32_t *revision)
{
	for (UINTN i = 0; i < st->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &st->ConfigurationTable[i];
		const char *why = "null pointer"; /* until fwcheck_rsdp says more */
		int rev;

		if (CompareGuid(&t->VendorGuid, guid) != 0)
			continue;
		rev = t->VendorTable ? fwcheck_rsdp(t->VendorTable, &why) : 0;
		if (rev) {
			*revision = rev;
			return (uint64_t)(UINTN)t->VendorTable;
		}
		Print(L"loader: ACPI %a table's RSDP at 0x%lx not trusted: %a\n", name,
		      (UINT64)(UINTN)t->VendorTable, why);
	}
	return 0;
}

/* Prefer the ACPI 2.0 table (XSDT); fall back to the 1.0 RSDP.  Only a
 * checked one is recorded: the kernel finds its CPUs through it. */
static void record_rsdp(EFI_SYSTEM_TABLE *st, struct boot_info *bi)
{
	EFI_GUID acpi20 = ACPI_20_TABLE_GUID, acpi10 = ACPI_TABLE_GUID;

	bi->rsdp = checked_rsdp(st, &acpi20, "2.0", &bi->rsdp_revision);
	if (!bi->rsdp)
		bi->rsdp = checked_rsdp(st, &acpi10, "1.0", &bi->rsdp_revision);
	if (!bi->rsdp)
		Print(L"loader: no valid ACPI RSDP: the kernel will run on one CPU\n");
}

/*
 * Copy the memory attributes table's entries into loader data, sized
 * from the table itself: the firmware's copy is in memory the kernel may
 * not map, and every row matters (a dropped row would leave a runtime
 * page with the wrong rights).  No table, or one we cannot copy: bi->mat
 * stays NULL and runtime code stays RWX.
 */
static void record_mat(EFI_SYSTEM_TABLE *st, struct boot_info *bi)
{
	EFI_GUID guid = MEMORY_ATTRIBUTES_TABLE_GUID;

	for (UINTN i = 0; i < st->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &st->ConfigurationTable[i];
		if (CompareGuid(&t->VendorGuid, &guid) != 0)
			continue;
		const struct memory_attributes_table *mat = t->VendorTable;
		uint64_t bytes = (uint64_t)mat->NumberOfEntries * mat->DescriptorSize;
		if (bytes == 0 || bytes > MAT_MAX_BYTES ||
		    EFI_ERROR(st->BootServices->AllocatePool(EfiLoaderData, bytes, &bi->mat))) {
			Print(L"loader: memory attributes table of %ld bytes not copied\n", bytes);
			bi->mat = NULL;
			return;
		}
		CopyMem(bi->mat, (void *)(mat + 1), bytes);
		bi->mat_size = bytes;
		bi->mat_desc_size = mat->DescriptorSize;
		bi->mat_version = mat->Version;
		return;
	}
}

void loader_record_firmware(EFI_HANDLE image, EFI_SYSTEM_TABLE *st, struct boot_info *bi)
{
	EFI_LOADED_IMAGE *li = NULL;

	record_framebuffer(st, &bi->fb);
	record_rsdp(st, bi);
	record_mat(st, bi);
	/* The kernel sees it through boot/boot_info.h's own type; efi/contract.c
	 * checks the two layouts agree. */
	bi->runtime_services = (struct boot_runtime_services *)st->RuntimeServices;
	if (!EFI_ERROR(st->BootServices->HandleProtocol(image, &LoadedImageProtocol, (void **)&li))) {
		bi->image_base = (uint64_t)(UINTN)li->ImageBase;
		bi->image_size = li->ImageSize;
	}
}
