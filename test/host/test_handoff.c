/*
 * test_handoff.c - host tests of kernel/handoff.c: the kernel reads a
 * boot_info only when the loader filled in this kernel's version and
 * size (boot/boot_info.h), and says why it refuses one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kernel.h"

static struct boot_info good(void)
{
	struct boot_info bi = { .version = BOOT_INFO_VERSION, .size = sizeof(struct boot_info) };

	return bi;
}

/* Expect the boot_info our own loader fills to be accepted. */
static void handoff_check_accepts_this_version(void **state)
{
	struct boot_info bi = good();
	char why[120] = "untouched";

	(void)state;
	assert_int_equal(handoff_check(&bi, why, sizeof(why)), 0);
}

/* Expect a loader built for version 4 to be refused, both numbers named. */
static void handoff_check_refuses_other_version(void **state)
{
	struct boot_info bi = good();
	char why[120];

	(void)state;
	bi.version = BOOT_INFO_VERSION + 1;
	assert_int_equal(handoff_check(&bi, why, sizeof(why)), -1);
	assert_string_equal(why, "boot_info version 4, this kernel reads version 3 only");
}

/* Expect a boot_info of another size (a field added without a version
 * bump) to be refused. */
static void handoff_check_refuses_other_size(void **state)
{
	struct boot_info bi = good();
	char why[120];

	(void)state;
	bi.size -= 8;
	assert_int_equal(handoff_check(&bi, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "boot_info of "));
	assert_non_null(strstr(why, " bytes, this kernel's version 3 has "));
}

/* Expect an all-zero boot_info (a loader that never set version) refused. */
static void handoff_check_refuses_zeroed(void **state)
{
	struct boot_info bi;
	char why[120];

	(void)state;
	memset(&bi, 0, sizeof(bi));
	assert_int_equal(handoff_check(&bi, why, sizeof(why)), -1);
	assert_string_equal(why, "boot_info version 0, this kernel reads version 3 only");
}

/* Expect NULL refused, not dereferenced. */
static void handoff_check_refuses_null(void **state)
{
	char why[120];

	(void)state;
	assert_int_equal(handoff_check(NULL, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "NULL"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(handoff_check_accepts_this_version),
		cmocka_unit_test(handoff_check_refuses_other_version),
		cmocka_unit_test(handoff_check_refuses_other_size),
		cmocka_unit_test(handoff_check_refuses_zeroed),
		cmocka_unit_test(handoff_check_refuses_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
