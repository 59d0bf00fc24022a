/*
 * options.c - parse the EFI shell command line into struct boot_options.
 *
 * Everything here runs before ExitBootServices; it only reads its
 * arguments and writes *out and err, so the host tests can drive it.
 * No libc: the loader is freestanding.
 */
#include "options.h"

const char options_usage[] =
	"usage: BOOTX64.EFI [selftest [NAME] | crash KIND | memmap | heapmap | cpus]"
	" [heap=SIZE] [smp=N] [exit=qemu|shutdown|reboot|halt] [color=on|off] [pause=key|off]";

static int str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/* If s starts with prefix, return what follows it, else NULL. */
static const char *skip_prefix(const char *s, const char *prefix)
{
	while (*prefix) {
		if (*s++ != *prefix++)
			return NULL;
	}
	return s;
}

/* A word with '=' is an option (heap=, exit=, ...), never a command's argument. */
static int is_option(const char *w)
{
	while (*w && *w != '=')
		w++;
	return *w == '=';
}

/* Append src to the NUL-terminated dst of capacity cap, truncating. */
static void append(char *dst, size_t cap, const char *src)
{
	size_t n = 0;

	while (n < cap && dst[n])
		n++;
	while (n + 1 < cap && *src)
		dst[n++] = *src++;
	if (n < cap)
		dst[n] = '\0';
}

/* err = a + b + c, the usual "what: 'word'" message. */
static int fail(char *err, size_t errlen, const char *a, const char *b, const char *c)
{
	if (errlen == 0)
		return -1;
	err[0] = '\0';
	append(err, errlen, a);
	append(err, errlen, b);
	append(err, errlen, c);
	return -1;
}

int options_parse_size(const char *s, uint64_t *bytes)
{
	uint64_t n = 0, unit = 1;
	int digits = 0;

	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		if (n > (UINT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	switch (*s) {
	case 'k': case 'K': unit = 1ull << 10; s++; break;
	case 'm': case 'M': unit = 1ull << 20; s++; break;
	case 'g': case 'G': unit = 1ull << 30; s++; break;
	}
	if (digits == 0 || *s != '\0' || n > UINT64_MAX / unit)
		return -1;
	*bytes = n * unit;
	return 0;
}

static void set_defaults(struct boot_options *o)
{
	o->command = CMD_DEFAULT;
	o->crash = CRASH_NONE;
	o->exit = EXIT_SHUTDOWN;
	o->exit_given = 0;
	o->heap_size = HEAP_SIZE_DEFAULT;
	o->test_name[0] = '\0';
	o->screen = 0;
	o->smp_max = 0;
}

/* The range in parse_heap's message is written out: keep it true. */
_Static_assert(HEAP_SIZE_MIN == 64ull << 10 && HEAP_SIZE_MAX == 1ull << 30,
	       "update the heap= message: out of range (64K to 1G)");

static int parse_heap(const char *value, struct boot_options *o, char *err, size_t errlen)
{
	uint64_t size;

	if (options_parse_size(value, &size) != 0)
		return fail(err, errlen, "heap=: not a size: '", value, "' (try 4M)");
	if (size < HEAP_SIZE_MIN || size > HEAP_SIZE_MAX)
		return fail(err, errlen, "heap=", value, ": out of range (64K to 1G)");
	o->heap_size = size;
	return 0;
}

static int parse_exit(const char *value, struct boot_options *o, char *err, size_t errlen)
{
	static const char *const names[] = { "qemu", "shutdown", "reboot", "halt" };
	static const enum exit_mode modes[] = { EXIT_QEMU, EXIT_SHUTDOWN, EXIT_REBOOT, EXIT_HALT };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (str_eq(value, names[i])) {
			o->exit = modes[i];
			o->exit_given = 1;
			return 0;
		}
	}
	return fail(err, errlen, "exit=: unknown mode '", value, "' (qemu|shutdown|reboot|halt)");
}

/* color=on|off and pause=key|off: one flag of boot_options.screen each;
 * what starts the message for any other value. */
static int parse_screen_flag(const char *what, const char *value, const char *on, uint32_t flag,
			     struct boot_options *o, char *err, size_t errlen)
{
	if (str_eq(value, on))
		o->screen |= flag;
	else if (str_eq(value, "off"))
		o->screen &= ~flag;
	else
		return fail(err, errlen, what, value, "'");
	return 0;
}

/* The range in parse_smp's message is written out: keep it true. */
_Static_assert(BOOT_SMP_MAX == 64, "update the smp= message: out of range (1 to 64)");

/* smp=N: at most N CPUs, the boot CPU included; 1 is the one-CPU kernel. */
static int parse_smp(const char *value, struct boot_options *o, char *err, size_t errlen)
{
	uint32_t n = 0;
	const char *s = value;

	for (; *s >= '0' && *s <= '9'; s++)
		if (n <= BOOT_SMP_MAX) /* past it, n only has to stay out of range */
			n = n * 10 + (uint32_t)(*s - '0');
	if (s == value || *s != '\0')
		return fail(err, errlen, "smp=: not a number: '", value, "'");
	if (n < 1 || n > BOOT_SMP_MAX)
		return fail(err, errlen, "smp=", value, ": out of range (1 to 64)");
	o->smp_max = n;
	return 0;
}

static int parse_crash(const char *kind, struct boot_options *o, char *err, size_t errlen)
{
	static const char *const names[] = { "null", "write-code", "exec-heap", "stack-overflow",
					     "double-free", "ap-null" };
	static const enum crash_kind kinds[] = { CRASH_NULL, CRASH_WRITE_CODE, CRASH_EXEC_HEAP,
						 CRASH_STACK_OVERFLOW, CRASH_DOUBLE_FREE,
						 CRASH_AP_NULL };

	if (!kind)
		return fail(err, errlen, "crash: which one? ",
			    "null|write-code|exec-heap|stack-overflow|double-free|ap-null", "");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (str_eq(kind, names[i])) {
			o->command = CMD_CRASH;
			o->crash = kinds[i];
			return 0;
		}
	}
	return fail(err, errlen, "crash: unknown kind '", kind, "'");
}

static int set_test_name(const char *name, struct boot_options *o, char *err, size_t errlen)
{
	size_t n = 0;

	for (; name[n]; n++) {
		char c = name[n];
		int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
		if (!ok || n + 1 >= BOOT_TEST_NAME_MAX)
			return fail(err, errlen, "selftest: bad test name '", name, "'");
		o->test_name[n] = c;
	}
	o->test_name[n] = '\0';
	return 0;
}

/* A word without '=': a command, or the NAME argument of selftest. */
static int parse_word(const char *const argv[], int *i, int argc, struct boot_options *o,
		      char *err, size_t errlen, int *have_command)
{
	const char *w = argv[*i];
	const char *next = *i + 1 < argc ? argv[*i + 1] : NULL;
	int has_arg = next && !is_option(next);

	if (*have_command)
		return fail(err, errlen, "unexpected argument '", w, "'");
	*have_command = 1;
	if (str_eq(w, "selftest")) {
		o->command = CMD_SELFTEST;
		if (!has_arg)
			return 0;
		(*i)++;
		return set_test_name(next, o, err, errlen);
	}
	if (str_eq(w, "memmap")) {
		o->command = CMD_MEMMAP;
		return 0;
	}
	if (str_eq(w, "heapmap")) {
		o->command = CMD_HEAPMAP;
		return 0;
	}
	if (str_eq(w, "cpus")) {
		o->command = CMD_CPUS;
		return 0;
	}
	if (str_eq(w, "crash")) {
		if (has_arg)
			(*i)++;
		return parse_crash(has_arg ? next : NULL, o, err, errlen);
	}
	return fail(err, errlen, "unknown command '", w, "' (selftest|crash|memmap|heapmap|cpus)");
}

static int parse_all(int argc, const char *const argv[], struct boot_options *o, char *err,
		     size_t errlen)
{
	int have_command = 0;
	const char *v;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int rc;

		if (a[0] == '\0')
			continue;
		if ((v = skip_prefix(a, "heap=")))
			rc = parse_heap(v, o, err, errlen);
		else if ((v = skip_prefix(a, "exit=")))
			rc = parse_exit(v, o, err, errlen);
		else if ((v = skip_prefix(a, "color=")))
			rc = parse_screen_flag("color=: not on or off: '", v, "on", BOOT_SCREEN_SERIAL_COLOR, o, err, errlen);
		else if ((v = skip_prefix(a, "pause=")))
			rc = parse_screen_flag("pause=: not key or off: '", v, "key", BOOT_SCREEN_PAUSE_KEY, o, err, errlen);
		else if ((v = skip_prefix(a, "smp=")))
			rc = parse_smp(v, o, err, errlen);
		else if (a[0] == '-' || skip_prefix(a, "/"))
			rc = fail(err, errlen, "unknown option '", a, "'");
		else
			rc = parse_word(argv, &i, argc, o, err, errlen, &have_command);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int options_parse(int argc, const char *const argv[], struct boot_options *out, char *err,
		  size_t errlen)
{
	if (errlen > 0)
		err[0] = '\0';
	set_defaults(out);
	if (parse_all(argc, argv, out, err, errlen) == 0)
		return 0;
	set_defaults(out);
	return -1;
}

/* opts[0..n) up to the first NUL is printable ASCII, as UCS-2. */
static int is_text(const uint16_t *opts, size_t n)
{
	for (size_t i = 0; i < n && opts[i]; i++)
		if (opts[i] < 0x20 || opts[i] > 0x7e)
			return 0;
	return 1;
}

/* Does the word opts[i..end) end in ".efi", in any case? */
static int names_efi_file(const uint16_t *opts, size_t i, size_t end)
{
	static const char ext[] = ".efi";

	if (end - i < 4)
		return 0;
	for (size_t k = 0; k < 4; k++) {
		uint16_t c = opts[end - 4 + k];
		if ((c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c) != ext[k])
			return 0;
	}
	return 1;
}

/* Where the word starting at opts[i] ends: a space, a NUL or n. */
static size_t word_end(const uint16_t *opts, size_t i, size_t n)
{
	while (i < n && opts[i] && opts[i] != ' ')
		i++;
	return i;
}

int options_from_load_options(const uint16_t *opts, size_t bytes,
			      char buf[OPTIONS_MAX_WORDS][OPTIONS_WORD_LEN],
			      const char *argv[OPTIONS_MAX_WORDS])
{
	size_t n = bytes / 2, end;
	int argc = 1, first = 1;

	buf[0][0] = '\0';
	argv[0] = buf[0];
	if (!opts || bytes == 0)
		return 1;
	if (bytes % 2 || !is_text(opts, n))
		return 0;
	for (size_t i = 0; i < n && opts[i]; i = end) {
		if (opts[i] == ' ') {
			end = i + 1;
			continue;
		}
		end = word_end(opts, i, n);
		if (first && names_efi_file(opts, i, end)) {
			first = 0;
			continue; /* the loader's own path */
		}
		first = 0;
		if (argc == OPTIONS_MAX_WORDS || end - i >= OPTIONS_WORD_LEN)
			return -1;
		for (size_t k = i; k < end; k++)
			buf[argc][k - i] = (char)opts[k];
		buf[argc][end - i] = '\0';
		argv[argc] = buf[argc];
		argc++;
	}
	return argc;
}
