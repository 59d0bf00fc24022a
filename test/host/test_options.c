/*
 * test_options.c - host tests of the EFI shell command-line parser
 * (efi/options.c), good lines and bad.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "options.h"

static char err[160];
static struct boot_options o;

/* Parse a NULL-terminated word list, with "BOOTX64.EFI" as argv[0]. */
static int parse(const char *first, ...)
{
	const char *argv[16] = { "BOOTX64.EFI" };
	int argc = 1;
	va_list ap;

	va_start(ap, first);
	for (const char *w = first; w && argc < 16; w = va_arg(ap, const char *))
		argv[argc++] = w;
	va_end(ap);
	memset(err, 0, sizeof(err));
	return options_parse(argc, argv, &o, err, sizeof(err));
}

/* Expect no arguments to give the default boot: demo, 1 MiB, shutdown. */
static void options_parse_empty_gives_defaults(void **state)
{
	(void)state;
	assert_int_equal(parse(NULL), 0);
	assert_int_equal(o.command, CMD_DEFAULT);
	assert_int_equal(o.heap_size, 1 << 20);
	assert_int_equal(o.exit, EXIT_SHUTDOWN);
	assert_int_equal(o.exit_given, 0);
	assert_string_equal(o.test_name, "");
}

/* Expect selftest with a name, a heap size and an exit mode, in any order. */
static void options_parse_selftest_full_line(void **state)
{
	(void)state;
	assert_int_equal(parse("heap=4M", "selftest", "heap_alloc", "exit=qemu", NULL), 0);
	assert_int_equal(o.command, CMD_SELFTEST);
	assert_string_equal(o.test_name, "heap_alloc");
	assert_int_equal(o.heap_size, 4 << 20);
	assert_int_equal(o.exit, EXIT_QEMU);
	assert_int_equal(o.exit_given, 1);
}

/* Expect selftest followed by an option to take no test name. */
static void options_parse_selftest_without_name(void **state)
{
	(void)state;
	assert_int_equal(parse("selftest", "exit=halt", NULL), 0);
	assert_int_equal(o.command, CMD_SELFTEST);
	assert_string_equal(o.test_name, "");
	assert_int_equal(o.exit, EXIT_HALT);
}

/* Expect each crash kind to be recognised. */
static void options_parse_crash_kinds(void **state)
{
	static const struct { const char *word; enum crash_kind kind; } k[] = {
		{ "null", CRASH_NULL }, { "write-code", CRASH_WRITE_CODE },
		{ "exec-heap", CRASH_EXEC_HEAP }, { "stack-overflow", CRASH_STACK_OVERFLOW },
		{ "double-free", CRASH_DOUBLE_FREE }, { "ap-null", CRASH_AP_NULL },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		assert_int_equal(parse("crash", k[i].word, NULL), 0);
		assert_int_equal(o.command, CMD_CRASH);
		assert_int_equal(o.crash, k[i].kind);
	}
}

/* Expect memmap to be a command of its own. */
static void options_parse_memmap_command(void **state)
{
	(void)state;
	assert_int_equal(parse("memmap", "exit=qemu", NULL), 0);
	assert_int_equal(o.command, CMD_MEMMAP);
	assert_int_equal(o.exit, EXIT_QEMU);
}

/* Expect heapmap to be a command, and color= and pause= to set their
 * screen flags (in any order, after selftest too) or clear them. */
static void options_parse_heapmap_and_screen_flags(void **state)
{
	(void)state;
	assert_int_equal(parse(NULL), 0);
	assert_int_equal(o.screen, 0);
	assert_int_equal(parse("heapmap", "heap=4M", "pause=key", NULL), 0);
	assert_int_equal(o.command, CMD_HEAPMAP);
	assert_int_equal(o.heap_size, 4 << 20);
	assert_int_equal(o.screen, BOOT_SCREEN_PAUSE_KEY);
	assert_int_equal(parse("selftest", "color=on", NULL), 0);
	assert_string_equal(o.test_name, "");
	assert_int_equal(o.screen, BOOT_SCREEN_SERIAL_COLOR);
	assert_int_equal(parse("color=on", "pause=key", "color=off", NULL), 0);
	assert_int_equal(o.screen, BOOT_SCREEN_PAUSE_KEY);
	assert_int_equal(parse("color=blue", NULL), -1);
	assert_string_equal(err, "color=: not on or off: 'blue'");
	assert_int_equal(parse("pause=on", NULL), -1);
	assert_int_equal(parse("heapmap", "extra", NULL), -1);
}

/* Expect cpus to be a command, smp=N to be read in any place (even
 * right after selftest, where it is not a test name), and no smp= to
 * mean every CPU (0). */
static void options_parse_cpus_and_smp(void **state)
{
	(void)state;
	assert_int_equal(parse("cpus", NULL), 0);
	assert_int_equal(o.command, CMD_CPUS);
	assert_int_equal(o.smp_max, 0);
	assert_int_equal(parse("smp=4", "cpus", NULL), 0);
	assert_int_equal(o.smp_max, 4);
	assert_int_equal(parse("selftest", "smp=1", NULL), 0);
	assert_string_equal(o.test_name, "");
	assert_int_equal(o.smp_max, 1);
	assert_int_equal(parse("smp=64", NULL), 0);
	assert_int_equal(o.smp_max, 64);
}

/* Expect smp= outside 1..64, or not a plain number, refused with the
 * reason, and the defaults left behind. */
static void options_parse_smp_rejects_bad_counts(void **state)
{
	static const struct { const char *arg, *msg; } bad[] = {
		{ "smp=0", "smp=0: out of range (1 to 64)" },
		{ "smp=65", "smp=65: out of range (1 to 64)" },
		{ "smp=99999999999999999999", "smp=99999999999999999999: out of range (1 to 64)" },
		{ "smp=", "smp=: not a number: ''" },
		{ "smp=2x", "smp=: not a number: '2x'" },
		{ "smp=-1", "smp=: not a number: '-1'" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse("cpus", bad[i].arg, NULL), -1);
		assert_string_equal(err, bad[i].msg);
		assert_int_equal(o.smp_max, 0);
		assert_int_equal(o.command, CMD_DEFAULT);
	}
}

/* Expect every exit mode by name. */
static void options_parse_exit_modes(void **state)
{
	(void)state;
	assert_int_equal(parse("exit=shutdown", NULL), 0);
	assert_int_equal(o.exit, EXIT_SHUTDOWN);
	assert_int_equal(parse("exit=reboot", NULL), 0);
	assert_int_equal(o.exit, EXIT_REBOOT);
}

/* Expect sizes with and without K/M/G suffixes, either case. */
static void options_parse_size_suffixes(void **state)
{
	uint64_t b;
	(void)state;
	assert_int_equal(options_parse_size("65536", &b), 0);
	assert_int_equal(b, 65536);
	assert_int_equal(options_parse_size("64k", &b), 0);
	assert_int_equal(b, 64 << 10);
	assert_int_equal(options_parse_size("3M", &b), 0);
	assert_int_equal(b, 3 << 20);
	assert_int_equal(options_parse_size("1G", &b), 0);
	assert_int_equal(b, 1ull << 30);
}

/* Expect garbage, empty numbers, bad suffixes and overflow refused. */
static void options_parse_size_rejects_garbage(void **state)
{
	static const char *bad[] = { "", "M", "4MB", "4 M", "-1", "0x10", "18446744073709551616",
				     "17179869184G", "1.5M" };
	uint64_t b = 7;
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(options_parse_size(bad[i], &b), -1);
	assert_int_equal(b, 7); /* untouched on failure */
}

/* Expect a failed parse to leave defaults, never a half-parsed line, and
 * a message naming the culprit. */
static void options_parse_error_leaves_defaults(void **state)
{
	(void)state;
	assert_int_equal(parse("heap=8M", "selftest", "exit=nope", NULL), -1);
	assert_non_null(strstr(err, "nope"));
	assert_int_equal(o.heap_size, 1 << 20);
	assert_int_equal(o.command, CMD_DEFAULT);
}

/* Expect each bad line to fail with a message containing `word`. */
static void expect_error(const char *word, const char *a, const char *b)
{
	assert_int_equal(parse(a, b, NULL), -1);
	assert_non_null(strstr(err, word));
}

static void options_parse_rejects_bad_lines(void **state)
{
	(void)state;
	expect_error("frobnicate", "frobnicate", NULL);
	expect_error("out of range", "heap=1K", NULL);
	expect_error("out of range", "heap=2G", NULL);
	expect_error("not a size", "heap=", NULL);
	expect_error("not a size", "heap=lots", NULL);
	expect_error("unknown mode", "exit=", NULL);
	expect_error("which one", "crash", NULL);
	expect_error("unknown kind", "crash", "everything");
	expect_error("bad test name", "selftest", "a b");
	expect_error("bad test name", "selftest", "Heap!");
	expect_error("unknown option", "-v", NULL);
	assert_int_equal(parse("selftest", "x", "y", NULL), -1);
	assert_non_null(strstr(err, "unexpected argument 'y'"));
}

/* Expect a too-small error buffer to be truncated, not overrun. */
static void options_parse_short_error_buffer(void **state)
{
	const char *argv[] = { "BOOTX64.EFI", "frobnicate" };
	char small[8];
	(void)state;
	memset(small, 'X', sizeof(small));
	assert_int_equal(options_parse(2, argv, &o, small, 5), -1);
	assert_int_equal(strlen(small), 4);
	assert_int_equal(small[5], 'X');
}

/* Expect an over-long test name refused. */
static void options_parse_rejects_long_test_name(void **state)
{
	char name[BOOT_TEST_NAME_MAX + 8];
	(void)state;
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	expect_error("bad test name", "selftest", name);
}

/*
 * Expect the largest heap= the shell accepts to be exactly the kernel's
 * heap window (HEAP_MAX, paging/layout.h): 1G in, one page more out, so
 * a heap accepted here always fits the window after the exit.
 */
static void options_heap_limit_is_the_window(void **state)
{
	(void)state;
	assert_int_equal(parse("heap=1G", NULL), 0);
	assert_int_equal(o.heap_size, HEAP_MAX);
	assert_int_equal(parse("heap=1048580K", NULL), -1);
	assert_non_null(strstr(err, "out of range"));
}

/* ---- A boot entry's options (options_from_load_options) ---- */

static char words[OPTIONS_MAX_WORDS][OPTIONS_WORD_LEN];
static const char *wargv[OPTIONS_MAX_WORDS];

/* Split s (ASCII, widened to UCS-2 with its NUL, as efibootmgr -u
 * stores it) into wargv. */
static int split(const char *s)
{
	uint16_t u[256];
	size_t n = strlen(s);

	for (size_t i = 0; i <= n; i++)
		u[i] = (unsigned char)s[i];
	return options_from_load_options(u, 2 * (n + 1), words, wargv);
}

/* Expect text options to be words for options_parse, with no program name
 * in front: the first word is the command. */
static void load_options_text_gives_words(void **state)
{
	(void)state;
	assert_int_equal(split("memmap exit=halt"), 3);
	assert_string_equal(wargv[0], "");
	assert_string_equal(wargv[1], "memmap");
	assert_string_equal(wargv[2], "exit=halt");
	assert_int_equal(options_parse(3, wargv, &o, err, sizeof(err)), 0);
	assert_int_equal(o.command, CMD_MEMMAP);
	assert_int_equal(o.exit, EXIT_HALT);
	assert_int_equal(split("  selftest   heap_  "), 3);
	assert_string_equal(wargv[2], "heap_");
	assert_int_equal(split(""), 1);
	assert_int_equal(options_from_load_options(NULL, 0, words, wargv), 1);
}

/* Expect a first word naming an .efi file (a boot manager that puts the
 * loader's path first) to be dropped, in any case, and only the first. */
static void load_options_drop_the_loader_path(void **state)
{
	(void)state;
	assert_int_equal(split("\\EFI\\BOOT\\BOOTX64.EFI memmap"), 2);
	assert_string_equal(wargv[1], "memmap");
	assert_int_equal(split("bootx64.efi"), 1);
	assert_int_equal(split("memmap x.efi"), 3);
	assert_string_equal(wargv[2], "x.efi");
	/* A path longer than any word may be, dropped all the same. */
	assert_int_equal(split("\\EFI\\a-very-long-folder-name-for-tools-and-loaders\\BOOTX64.EFI cpus"), 2);
	assert_string_equal(wargv[1], "cpus");
}

/* Expect data that is not text to be left alone (0), and options that do
 * not fit to be refused (-1). */
static void load_options_refuse_data_and_overflow(void **state)
{
	const uint16_t guid[8] = { 0x9a46, 0xd551, 0x11d4, 0x0090, 0x273f, 0xc14d, 0x0001, 0 };
	const uint16_t odd[2] = { 'm', 'e' };
	char many[200] = "";

	(void)state;
	assert_int_equal(options_from_load_options(guid, sizeof guid, words, wargv), 0);
	assert_int_equal(options_from_load_options(odd, 3, words, wargv), 0);
	assert_int_equal(split("memmap\texit=halt"), 0); /* a tab: not text */
	for (int i = 0; i < OPTIONS_MAX_WORDS; i++)
		strcat(many, "a ");
	assert_int_equal(split(many), -1); /* one word too many */
	many[2 * (OPTIONS_MAX_WORDS - 1)] = '\0';
	assert_int_equal(split(many), OPTIONS_MAX_WORDS);
	memset(many, 'x', OPTIONS_WORD_LEN);
	many[OPTIONS_WORD_LEN] = '\0';
	assert_int_equal(split(many), -1); /* a word one too long */
	many[OPTIONS_WORD_LEN - 1] = '\0';
	assert_int_equal(split(many), 2);
}

/* Expect the words to stop at the first NUL, whatever follows it. */
static void load_options_stop_at_nul(void **state)
{
	const uint16_t u[8] = { 'c', 'p', 'u', 's', 0, 0xffff, 0x0001, 0 };

	(void)state;
	assert_int_equal(options_from_load_options(u, sizeof u, words, wargv), 2);
	assert_string_equal(wargv[1], "cpus");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(options_parse_empty_gives_defaults),
		cmocka_unit_test(options_parse_selftest_full_line),
		cmocka_unit_test(options_parse_selftest_without_name),
		cmocka_unit_test(options_parse_crash_kinds),
		cmocka_unit_test(options_parse_memmap_command),
		cmocka_unit_test(options_parse_heapmap_and_screen_flags),
		cmocka_unit_test(options_parse_exit_modes),
		cmocka_unit_test(options_parse_size_suffixes),
		cmocka_unit_test(options_parse_size_rejects_garbage),
		cmocka_unit_test(options_parse_error_leaves_defaults),
		cmocka_unit_test(options_parse_rejects_bad_lines),
		cmocka_unit_test(options_parse_short_error_buffer),
		cmocka_unit_test(options_parse_rejects_long_test_name),
		cmocka_unit_test(options_heap_limit_is_the_window),
		cmocka_unit_test(options_parse_cpus_and_smp),
		cmocka_unit_test(options_parse_smp_rejects_bad_counts),
		cmocka_unit_test(load_options_text_gives_words),
		cmocka_unit_test(load_options_drop_the_loader_path),
		cmocka_unit_test(load_options_refuse_data_and_overflow),
		cmocka_unit_test(load_options_stop_at_nul),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
