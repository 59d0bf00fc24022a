/*
 * test_secureboot.c - host tests of the Secure Boot decision
 * (efi/secureboot.c): what the loader says for each pair of SecureBoot
 * and SetupMode readings, missing variables and odd sizes included.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "secureboot.h"

/* Readings as GetVariable would give them. */
static const struct sb_reading missing = { .found = 0 };

static struct sb_reading byte(uint8_t value)
{
	return (struct sb_reading){ .found = 1, .size = 1, .first = value };
}

static struct sb_reading sized(size_t size, uint8_t first)
{
	return (struct sb_reading){ .found = 1, .size = size, .first = first };
}

/* Expect a firmware without either variable (no Secure Boot support
 * built in) to be reported as off. */
static void secureboot_decide_missing_variables_is_off(void **state)
{
	(void)state;
	assert_int_equal(secureboot_decide(missing, missing), SB_OFF);
	assert_int_equal(secureboot_decide(missing, byte(0)), SB_OFF);
	assert_int_equal(secureboot_decide(byte(0), missing), SB_OFF);
}

/* Expect SecureBoot=1 to be on, whatever SetupMode says: the firmware
 * is checking images, and that is what the user must know. */
static void secureboot_decide_secure_boot_1_is_on(void **state)
{
	(void)state;
	assert_int_equal(secureboot_decide(byte(1), byte(0)), SB_ON);
	assert_int_equal(secureboot_decide(byte(1), missing), SB_ON);
	assert_int_equal(secureboot_decide(byte(1), byte(1)), SB_ON);
}

/* Expect a key enrolled but checking switched off in the firmware's
 * setup (SecureBoot=0, SetupMode=0) to be off. */
static void secureboot_decide_both_0_is_off(void **state)
{
	(void)state;
	assert_int_equal(secureboot_decide(byte(0), byte(0)), SB_OFF);
}

/* Expect no Platform Key (SetupMode=1) to be setup mode: Debian's
 * plain OVMF, and a PC whose keys were cleared. */
static void secureboot_decide_setup_mode_1_is_setup(void **state)
{
	(void)state;
	assert_int_equal(secureboot_decide(byte(0), byte(1)), SB_SETUP);
	assert_int_equal(secureboot_decide(missing, byte(1)), SB_SETUP);
}

/* Expect a variable of any size but one byte, even one whose first
 * byte is 1, not to count: the spec's variables are one UINT8. */
static void secureboot_decide_odd_sizes_do_not_count(void **state)
{
	(void)state;
	assert_int_equal(secureboot_decide(sized(0, 1), byte(0)), SB_OFF);
	assert_int_equal(secureboot_decide(sized(2, 1), byte(0)), SB_OFF);
	assert_int_equal(secureboot_decide(sized(4, 1), byte(0)), SB_OFF);
	assert_int_equal(secureboot_decide(sized(64, 1), byte(0)), SB_OFF);
	assert_int_equal(secureboot_decide(byte(0), sized(2, 1)), SB_OFF);
	assert_int_equal(secureboot_decide(sized(2, 1), sized(0, 1)), SB_OFF);
}

/* Expect values other than 0 and 1 not to count as 1. */
static void secureboot_decide_other_values_do_not_count(void **state)
{
	(void)state;
	assert_int_equal(secureboot_decide(byte(2), byte(0)), SB_OFF);
	assert_int_equal(secureboot_decide(byte(0xFF), byte(0)), SB_OFF);
	assert_int_equal(secureboot_decide(byte(0), byte(2)), SB_OFF);
	assert_int_equal(secureboot_decide(byte(0x81), byte(0x81)), SB_OFF);
}

/* Expect the three words of the loader's line, exactly. */
static void secureboot_words_name_each_mode(void **state)
{
	(void)state;
	assert_string_equal(secureboot_words(SB_ON), "on");
	assert_string_equal(secureboot_words(SB_OFF), "off");
	assert_string_equal(secureboot_words(SB_SETUP), "setup mode");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(secureboot_decide_missing_variables_is_off),
		cmocka_unit_test(secureboot_decide_secure_boot_1_is_on),
		cmocka_unit_test(secureboot_decide_both_0_is_off),
		cmocka_unit_test(secureboot_decide_setup_mode_1_is_setup),
		cmocka_unit_test(secureboot_decide_odd_sizes_do_not_count),
		cmocka_unit_test(secureboot_decide_other_values_do_not_count),
		cmocka_unit_test(secureboot_words_name_each_mode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
