/*
 * secureboot.h - is Secure Boot on, off, or in setup mode?  Decided from
 * the two UEFI global variables the firmware keeps (UEFI 2.10, 3.3):
 *
 *   SecureBoot  UINT8, 1: the firmware checks every image's signature
 *   SetupMode   UINT8, 1: no Platform Key is enrolled, nothing is checked
 *
 * Plain C with no gnu-efi header, so the host tests build it; the loader
 * reads the variables (efi/sbvars.c) and hands them over as readings.
 */
#ifndef SECUREBOOT_H
#define SECUREBOOT_H

#include <stddef.h>
#include <stdint.h>

enum sb_mode {
	SB_OFF,   /* images run unchecked: no variable, or both 0 */
	SB_ON,    /* the firmware refuses images not signed by an enrolled key */
	SB_SETUP, /* no Platform Key yet: keys may be enrolled, nothing checked */
};

/* One variable as GetVariable returned it: found or not, the size the
 * firmware reported, and its first byte (meaningful when size >= 1). */
struct sb_reading {
	int found;
	size_t size;
	uint8_t first;
};

/*
 * The mode the two readings describe.  A variable counts as set only
 * when it was found, is exactly one byte (the spec's UINT8) and holds 1:
 * a missing variable, an odd size or another value is not a claim we
 * repeat.  SecureBoot set gives SB_ON (the firmware checks images, even
 * if SetupMode contradicts it); else SetupMode set gives SB_SETUP; else
 * SB_OFF.
 */
enum sb_mode secureboot_decide(struct sb_reading secure_boot, struct sb_reading setup_mode);

/* "on", "off" or "setup mode": the words of the loader's line
 * "loader: Secure Boot <words>".  Never NULL. */
const char *secureboot_words(enum sb_mode mode);

#endif
