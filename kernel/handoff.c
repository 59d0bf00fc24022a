/*
 * handoff.c - may the kernel read the boot_info it was handed?
 *
 * A loader built against another version of boot/boot_info.h would hand
 * over fields at other offsets; reading them as ours would mean wrong
 * page tables or a wild framebuffer.  So the kernel reads the first two
 * fields, which never move, and refuses anything it was not built for.
 */
#include "kernel.h"
#include "format.h"

int handoff_check(const struct boot_info *bi, char *why, size_t len)
{
	if (!bi) {
		format(why, len, "the loader passed no boot_info (NULL)");
		return -1;
	}
	if (bi->version != BOOT_INFO_VERSION) {
		format(why, len, "boot_info version %u, this kernel reads version %u only",
		       bi->version, BOOT_INFO_VERSION);
		return -1;
	}
	if (bi->size != sizeof(struct boot_info)) {
		format(why, len, "boot_info of %u bytes, this kernel's version %u has %zu",
		       bi->size, BOOT_INFO_VERSION, sizeof(struct boot_info));
		return -1;
	}
	return 0;
}
