/*
 * fuzz_format.c - libFuzzer target for the kernel's printf
 * (kernel/format.c): random formats and arguments, our output compared
 * with the C library's snprintf byte for byte.
 *
 * The input is read as a sequence of pieces.  Each piece is built from
 * a safe grammar, that is only what C defines, so snprintf's answer is
 * the right one:
 *
 *   piece  = text [ "%%" ] "%" flags [ width ] [ precision ] [ length ] conv
 *   text   = 0..7 printable characters other than %
 *   flags  = any of "-0+ #", each only where the conversion defines it:
 *            + and space for d i; # for o x X; 0 for the integers
 *   width  = digits 0..99 | "*" (an int argument -99..99)
 *   precision = "." | "." digits | ".*"  (integers and %s only)
 *   length = hh h l ll z j t  (integers only)
 *   conv   = d i u o x X c s p
 *
 * plus the one argument the conversion takes, with the exact type C
 * expects, from 8 input bytes (a string for %s, from the input too).
 * Every piece is formatted on its own by both, into a buffer whose size
 * comes from the input too (0 to all of it), so truncation is checked
 * as well.  The return values and every byte of both buffers (filled
 * with a marker first) must agree, else abort() with both outputs.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

#define BUF 512
#define MAX_PIECES 16

/* The input, consumed from the front; zeros once it runs out. */
struct input {
	const uint8_t *p;
	size_t left;
};

static uint8_t take(struct input *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

static uint64_t take64(struct input *in)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | take(in);
	return v;
}

/* The type of the one argument a conversion takes. */
enum arg {
	ARG_INT, ARG_UINT, ARG_LONG, ARG_ULONG, ARG_LLONG, ARG_ULLONG,
	ARG_SSIZE, ARG_SIZE, ARG_INTMAX, ARG_UINTMAX, ARG_PTRDIFF, ARG_STR, ARG_PTR,
};

struct piece {
	char fmt[64];
	size_t len;
	int nstars;
	int star[2];
	enum arg type;
	uint64_t value;
	char str[16];
	size_t size; /* the buffer size both get */
};

static void add(struct piece *pc, const char *s)
{
	while (*s && pc->len + 1 < sizeof(pc->fmt))
		pc->fmt[pc->len++] = *s++;
	pc->fmt[pc->len] = '\0';
}

static void add_number(struct piece *pc, unsigned n)
{
	char digits[4];

	snprintf(digits, sizeof(digits), "%u", n);
	add(pc, digits);
}

static void add_text(struct piece *pc, struct input *in)
{
	char c[2] = { 0, 0 };

	for (int n = take(in) % 8; n > 0; n--) {
		c[0] = (char)(' ' + take(in) % 95); /* printable ASCII */
		add(pc, c[0] == '%' ? "%%" : c);
	}
	if (take(in) % 8 == 0)
		add(pc, "%%");
}

static void add_flags(struct piece *pc, struct input *in, char conv)
{
	bool is_signed = conv == 'd' || conv == 'i';
	bool is_integer = strchr("diuoxX", conv) != NULL;
	uint8_t f = take(in);

	if (f & 1)
		add(pc, "-");
	if ((f & 2) && is_integer)
		add(pc, "0");
	if ((f & 4) && is_signed)
		add(pc, "+");
	if ((f & 8) && is_signed)
		add(pc, " ");
	if ((f & 16) && strchr("oxX", conv))
		add(pc, "#");
}

/* A star argument: an int in [-99, 99]. */
static void add_star(struct piece *pc, struct input *in)
{
	add(pc, "*");
	pc->star[pc->nstars++] = (int)(take(in) % 199) - 99;
}

static void add_width_and_precision(struct piece *pc, struct input *in, char conv)
{
	uint8_t w = take(in), p = take(in);

	if (w % 3 == 1)
		add_number(pc, take(in) % 100);
	else if (w % 3 == 2)
		add_star(pc, in);
	if (!strchr("diuoxXs", conv) || p % 4 == 0)
		return;
	add(pc, ".");
	if (p % 4 == 2)
		add_number(pc, take(in) % 100);
	else if (p % 4 == 3)
		add_star(pc, in);
}

/* The length modifier and, from it, the argument's type. */
static void add_length(struct piece *pc, struct input *in, char conv)
{
	static const char *const lengths[] = { "", "hh", "h", "l", "ll", "z", "j", "t" };
	static const enum arg signed_arg[] = { ARG_INT, ARG_INT, ARG_INT, ARG_LONG,
					       ARG_LLONG, ARG_SSIZE, ARG_INTMAX, ARG_PTRDIFF };
	static const enum arg unsigned_arg[] = { ARG_UINT, ARG_UINT, ARG_UINT, ARG_ULONG,
						 ARG_ULLONG, ARG_SIZE, ARG_UINTMAX, ARG_SIZE };
	unsigned i = take(in) % 8;

	if (conv == 'c') {
		pc->type = ARG_INT;
	} else if (conv == 's') {
		pc->type = ARG_STR;
	} else if (conv == 'p') {
		pc->type = ARG_PTR;
	} else {
		add(pc, lengths[i]);
		pc->type = conv == 'd' || conv == 'i' ? signed_arg[i] : unsigned_arg[i];
	}
}

/* One piece of the grammar from the input. */
static void build_piece(struct piece *pc, struct input *in)
{
	static const char convs[] = "diuoxXcsp";
	char conv = convs[take(in) % (sizeof(convs) - 1)];
	char c[2] = { conv, 0 };

	memset(pc, 0, sizeof(*pc));
	add_text(pc, in);
	add(pc, "%");
	add_flags(pc, in, conv);
	add_width_and_precision(pc, in, conv);
	add_length(pc, in, conv);
	add(pc, c);
	pc->value = take64(in);
	for (size_t i = 0; i + 1 < sizeof(pc->str); i++) {
		uint8_t b = take(in);
		pc->str[i] = b ? (char)b : '.'; /* never NUL inside */
	}
	pc->str[take(in) % sizeof(pc->str)] = '\0';
	pc->size = take(in) % 2 ? BUF : take(in) % 64;
}

/* Call fn (format or snprintf) with the piece's stars and then arg. */
#define CALL(fn, buf, pc, arg)                                                        \
	((pc)->nstars == 0 ? fn(buf, (pc)->size, (pc)->fmt, arg)                      \
	 : (pc)->nstars == 1 ? fn(buf, (pc)->size, (pc)->fmt, (pc)->star[0], arg)     \
			     : fn(buf, (pc)->size, (pc)->fmt, (pc)->star[0], (pc)->star[1], arg))

/* The argument with its exact type, as C's default promotions pass it. */
#define WITH_ARG(fn, buf, pc)                                                         \
	switch ((pc)->type) {                                                         \
	case ARG_INT: return CALL(fn, buf, pc, (int)(pc)->value);                    \
	case ARG_UINT: return CALL(fn, buf, pc, (unsigned)(pc)->value);              \
	case ARG_LONG: return CALL(fn, buf, pc, (long)(pc)->value);                  \
	case ARG_ULONG: return CALL(fn, buf, pc, (unsigned long)(pc)->value);        \
	case ARG_LLONG: return CALL(fn, buf, pc, (long long)(pc)->value);            \
	case ARG_ULLONG: return CALL(fn, buf, pc, (unsigned long long)(pc)->value);  \
	case ARG_SSIZE: return CALL(fn, buf, pc, (ptrdiff_t)(pc)->value);            \
	case ARG_SIZE: return CALL(fn, buf, pc, (size_t)(pc)->value);                \
	case ARG_INTMAX: return CALL(fn, buf, pc, (intmax_t)(pc)->value);            \
	case ARG_UINTMAX: return CALL(fn, buf, pc, (uintmax_t)(pc)->value);          \
	case ARG_PTRDIFF: return CALL(fn, buf, pc, (ptrdiff_t)(pc)->value);          \
	case ARG_STR: return CALL(fn, buf, pc, (const char *)(pc)->str);             \
	case ARG_PTR: return CALL(fn, buf, pc, (void *)(uintptr_t)(pc)->value);      \
	}                                                                             \
	abort()

static int with_ours(char *buf, const struct piece *pc)
{
	WITH_ARG(format, buf, pc);
}

static int with_libc(char *buf, const struct piece *pc)
{
	WITH_ARG(snprintf, buf, pc);
}

static void compare(const struct piece *pc)
{
	char ours[BUF], libc[BUF];

	memset(ours, 0x5A, sizeof(ours));
	memset(libc, 0x5A, sizeof(libc));
	int n_ours = with_ours(ours, pc);
	int n_libc = with_libc(libc, pc);
	if (n_ours == n_libc && memcmp(ours, libc, sizeof(ours)) == 0)
		return;
	fprintf(stderr, "format \"%s\" (stars %d %d), size %zu: ours %d \"%.*s\", libc %d \"%.*s\"\n",
		pc->fmt, pc->star[0], pc->star[1], pc->size, n_ours, (int)pc->size, ours, n_libc,
		(int)pc->size, libc);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct piece pc;

	for (int i = 0; i < MAX_PIECES && in.left > 0; i++) {
		build_piece(&pc, &in);
		compare(&pc);
	}
	return 0;
}
