/*
 * secureboot.c - the Secure Boot mode from the SecureBoot and SetupMode
 * variables: the pure decision, built into the loader and into the host
 * tests (test/host/test_secureboot.c).  Reading the variables is
 * efi/sbvars.c's job.
 */
#include "secureboot.h"

/* Set means exactly what the spec allows for "1": one byte, value 1. */
static int is_set(struct sb_reading r)
{
	return r.found && r.size == 1 && r.first == 1;
}

enum sb_mode secureboot_decide(struct sb_reading secure_boot, struct sb_reading setup_mode)
{
	if (is_set(secure_boot))
		return SB_ON;
	if (is_set(setup_mode))
		return SB_SETUP;
	return SB_OFF;
}

const char *secureboot_words(enum sb_mode mode)
{
	switch (mode) {
	case SB_ON:
		return "on";
	case SB_SETUP:
		return "setup mode";
	case SB_OFF:
		break;
	}
	return "off";
}
