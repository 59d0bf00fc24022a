/*
 * firmware.c - what the kernel needs from the firmware, saved while its
 * protocols still exist: the GOP framebuffer, the ACPI RSDP, the runtime
 * services table, and where our own image was loaded.
 */
#include <efi.h>
#include <efilib.h>
#include "loader.h"

static void record_framebuffer(struct framebuffer *fb)
{
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = NULL;
	EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info;

	fb->base = 0;
	fb->format = FB_NONE;
	if (EFI_ERROR(LibLocateProtocol(&GraphicsOutputProtocol, (void **)&gop)) || !gop)
		return; /* serial-only machines exist */
	info = gop->Mode->Info;
	switch (info->PixelFormat) {
	case PixelRedGreenBlueReserved8BitPerColor: fb->format = FB_RGBX; break;
	case PixelBlueGreenRedReserved8BitPerColor: fb->format = FB_BGRX; break;
	default: return; /* bit masks or Blt-only: we do not draw there */
	}
	fb->base = gop->Mode->FrameBufferBase;
	fb->size = gop->Mode->FrameBufferSize;
	fb->width = info->HorizontalResolution;
	fb->height = info->VerticalResolution;
	fb->stride = info->PixelsPerScanLine; /* may be wider than the screen */
}

/* Prefer the ACPI 2.0 table (XSDT); fall back to the 1.0 RSDP. */
static void record_rsdp(EFI_SYSTEM_TABLE *st, struct boot_info *bi)
{
	EFI_GUID acpi20 = ACPI_20_TABLE_GUID, acpi10 = ACPI_TABLE_GUID;

	for (UINTN i = 0; i < st->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &st->ConfigurationTable[i];
		if (CompareGuid(&t->VendorGuid, &acpi20) == 0) {
			bi->rsdp = (uint64_t)(UINTN)t->VendorTable;
			bi->rsdp_revision = 2;
			return;
		}
		if (CompareGuid(&t->VendorGuid, &acpi10) == 0 && !bi->rsdp) {
			bi->rsdp = (uint64_t)(UINTN)t->VendorTable;
			bi->rsdp_revision = 1;
		}
	}
}

void loader_record_firmware(EFI_HANDLE image, EFI_SYSTEM_TABLE *st, struct boot_info *bi)
{
	EFI_LOADED_IMAGE *li = NULL;

	record_framebuffer(&bi->fb);
	record_rsdp(st, bi);
	bi->runtime_services = st->RuntimeServices;
	if (!EFI_ERROR(st->BootServices->HandleProtocol(image, &LoadedImageProtocol, (void **)&li))) {
		bi->image_base = (uint64_t)(UINTN)li->ImageBase;
		bi->image_size = li->ImageSize;
	}
}
