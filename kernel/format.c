/*
 * format.c - printf-style formatting with no C library: the engine under
 * kprintf and panic, and format()/vformat() with snprintf's contract.
 * The language and the choices C leaves open are in format.h.
 *
 * One pass over the format: plain characters go straight out; each %
 * is parsed into a struct spec (flags, width, precision, length,
 * conversion), its argument fetched with the type the length names, and
 * the field laid out as C describes it:
 *
 *   [spaces][sign or 0x][zeros][digits][spaces]
 *    right    prefix   precision        left-justified (-)
 *    justified         or 0 flag
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include "format.h"

enum {
	F_LEFT = 1 << 0,  /* - */
	F_PLUS = 1 << 1,  /* + */
	F_SPACE = 1 << 2, /* space */
	F_ZERO = 1 << 3,  /* 0 */
	F_ALT = 1 << 4,   /* # */
};

enum length { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_J, LEN_T };

struct spec {
	unsigned flags;
	int width;     /* 0 when none was given */
	int precision; /* -1 when none was given */
	enum length length;
	char conv;     /* the conversion character; '\0' if fmt ended first */
};

/* The output, and how many characters it has been given so far. */
struct sink {
	format_emit_fn *emit;
	void *ctx;
	size_t count;
};

static void put(struct sink *s, char c)
{
	s->emit(c, s->ctx);
	s->count++;
}

static void put_repeat(struct sink *s, char c, int n)
{
	for (; n > 0; n--)
		put(s, c);
}

static void put_span(struct sink *s, const char *p, const char *end)
{
	while (p < end)
		put(s, *p++);
}

/* Decimal digits at *p, as an int that stops growing at INT_MAX (a
 * width nobody can mean must not overflow). */
static int parse_number(const char **p)
{
	int n = 0;

	for (; **p >= '0' && **p <= '9'; (*p)++)
		n = n > (INT_MAX - 9) / 10 ? INT_MAX : n * 10 + (**p - '0');
	return n;
}

static unsigned parse_flags(const char **p)
{
	unsigned flags = 0;

	for (;; (*p)++) {
		switch (**p) {
		case '-': flags |= F_LEFT; break;
		case '+': flags |= F_PLUS; break;
		case ' ': flags |= F_SPACE; break;
		case '0': flags |= F_ZERO; break;
		case '#': flags |= F_ALT; break;
		default: return flags;
		}
	}
}

/* Width: digits, or * taking an int; a negative one means - flag. */
static void parse_width(const char **p, struct spec *sp, va_list *ap)
{
	if (**p != '*') {
		sp->width = parse_number(p);
		return;
	}
	(*p)++;
	int w = va_arg(*ap, int);
	if (w < 0) {
		sp->flags |= F_LEFT;
		w = w == INT_MIN ? INT_MAX : -w;
	}
	sp->width = w;
}

/* Precision: '.' then digits (none means 0) or * (negative: as if none). */
static void parse_precision(const char **p, struct spec *sp, va_list *ap)
{
	sp->precision = -1;
	if (**p != '.')
		return;
	(*p)++;
	if (**p != '*') {
		sp->precision = parse_number(p);
		return;
	}
	(*p)++;
	int prec = va_arg(*ap, int);
	sp->precision = prec < 0 ? -1 : prec;
}

static enum length parse_length(const char **p)
{
	switch (**p) {
	case 'h':
		(*p)++;
		return **p == 'h' ? ((*p)++, LEN_HH) : LEN_H;
	case 'l':
		(*p)++;
		return **p == 'l' ? ((*p)++, LEN_LL) : LEN_L;
	case 'z': (*p)++; return LEN_Z;
	case 'j': (*p)++; return LEN_J;
	case 't': (*p)++; return LEN_T;
	default: return LEN_NONE;
	}
}

/* Parse the conversion after a '%' (p points past it) into *sp, taking
 * the * arguments from ap.  Returns a pointer to the conversion
 * character (the terminating NUL if the format ends first). */
static const char *parse_spec(const char *p, struct spec *sp, va_list *ap)
{
	sp->flags = parse_flags(&p);
	parse_width(&p, sp, ap);
	parse_precision(&p, sp, ap);
	sp->length = parse_length(&p);
	sp->conv = *p;
	return p;
}

/* The argument of %d or %i, with the type its length names.  C passes
 * char and short as int, so hh and h narrow it back.  %zd takes the
 * signed type of size_t's width: ptrdiff_t here (both are 64-bit). */
static intmax_t fetch_signed(enum length len, va_list *ap)
{
	switch (len) {
	case LEN_HH: return (signed char)va_arg(*ap, int);
	case LEN_H: return (short)va_arg(*ap, int);
	case LEN_L: return va_arg(*ap, long);
	case LEN_LL: return va_arg(*ap, long long);
	case LEN_Z: return va_arg(*ap, ptrdiff_t);
	case LEN_J: return va_arg(*ap, intmax_t);
	case LEN_T: return va_arg(*ap, ptrdiff_t);
	default: return va_arg(*ap, int);
	}
}

/* The argument of %u %o %x %X; %t takes ptrdiff_t, seen as unsigned. */
static uintmax_t fetch_unsigned(enum length len, va_list *ap)
{
	switch (len) {
	case LEN_HH: return (unsigned char)va_arg(*ap, unsigned);
	case LEN_H: return (unsigned short)va_arg(*ap, unsigned);
	case LEN_L: return va_arg(*ap, unsigned long);
	case LEN_LL: return va_arg(*ap, unsigned long long);
	case LEN_Z: return va_arg(*ap, size_t);
	case LEN_J: return va_arg(*ap, uintmax_t);
	case LEN_T: return (size_t)va_arg(*ap, ptrdiff_t);
	default: return va_arg(*ap, unsigned);
	}
}

/* The digits of v in base, least significant first; none for 0 (C's
 * precision rule decides whether a 0 is printed).  Returns how many. */
static int to_digits(uintmax_t v, unsigned base, bool upper, char *out)
{
	const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	int n = 0;

	for (; v; v /= base)
		out[n++] = set[v % base];
	return n;
}

/* The sign or base prefix of an integer field: "-", "+", " ", "0x",
 * "0X" or "".  Returns its length. */
static int integer_prefix(const struct spec *sp, uintmax_t v, bool negative, char *out)
{
	bool is_signed = sp->conv == 'd' || sp->conv == 'i';

	if (negative)
		return out[0] = '-', 1;
	if (is_signed && (sp->flags & F_PLUS))
		return out[0] = '+', 1;
	if (is_signed && (sp->flags & F_SPACE))
		return out[0] = ' ', 1;
	if (sp->conv == 'p' || ((sp->flags & F_ALT) && v && (sp->conv == 'x' || sp->conv == 'X'))) {
		out[0] = '0';
		out[1] = sp->conv == 'X' ? 'X' : 'x';
		return 2;
	}
	return 0;
}

/* An integer field: magnitude v, a '-' if negative, laid out as in the
 * picture at the top of this file. */
static void put_integer(struct sink *s, const struct spec *sp, uintmax_t v, bool negative)
{
	char digits[sizeof(uintmax_t) * 3]; /* 64 bits are 22 octal digits */
	char prefix[2];
	unsigned base = sp->conv == 'o' ? 8 : sp->conv == 'd' || sp->conv == 'i' || sp->conv == 'u' ? 10 : 16;
	int nd = to_digits(v, base, sp->conv == 'X', digits);
	int np = integer_prefix(sp, v, negative, prefix);
	int precision = sp->precision < 0 ? 1 : sp->precision;
	int zeros = precision > nd ? precision - nd : 0;

	if (sp->conv == 'o' && (sp->flags & F_ALT) && zeros == 0)
		zeros = 1; /* # makes an octal number start with 0 */
	int pad = sp->width - np - zeros - nd;
	if (pad < 0)
		pad = 0;
	if (!(sp->flags & F_LEFT) && (sp->flags & F_ZERO) && sp->precision < 0) {
		zeros += pad; /* 0 flag: the padding goes after the sign, as zeros */
		pad = 0;
	}
	if (!(sp->flags & F_LEFT))
		put_repeat(s, ' ', pad);
	put_span(s, prefix, prefix + np);
	put_repeat(s, '0', zeros);
	while (nd > 0)
		put(s, digits[--nd]);
	if (sp->flags & F_LEFT)
		put_repeat(s, ' ', pad);
}

/* n characters of p in a field of sp->width, padded with spaces. */
static void put_text(struct sink *s, const struct spec *sp, const char *p, int n)
{
	int pad = sp->width > n ? sp->width - n : 0;

	if (!(sp->flags & F_LEFT))
		put_repeat(s, ' ', pad);
	put_span(s, p, p + n);
	if (sp->flags & F_LEFT)
		put_repeat(s, ' ', pad);
}

/* %s: at most precision characters, never reading past them (the
 * array need not have a NUL then). */
static void put_string(struct sink *s, const struct spec *sp, const char *str)
{
	int n = 0;

	if (!str)
		str = "(null)";
	while ((sp->precision < 0 || n < sp->precision) && str[n] && n < INT_MAX)
		n++;
	put_text(s, sp, str, n);
}

/* %p: 0x and lowercase hex, as %#lx; "(nil)" for NULL, as glibc. */
static void put_pointer(struct sink *s, const struct spec *sp, const void *ptr)
{
	if (!ptr) {
		put_text(s, sp, "(nil)", 5);
		return;
	}
	put_integer(s, sp, (uintptr_t)ptr, false);
}

/* Emit one conversion whose spec is parsed; false if it is not one we
 * know (then nothing was emitted). */
static bool convert(struct sink *s, const struct spec *sp, va_list *ap)
{
	char c;

	if (sp->length != LEN_NONE && (sp->conv == 'c' || sp->conv == 's' || sp->conv == 'p'))
		return false; /* wide characters and strings */
	switch (sp->conv) {
	case 'd': case 'i': {
		intmax_t v = fetch_signed(sp->length, ap);
		put_integer(s, sp, v < 0 ? -(uintmax_t)v : (uintmax_t)v, v < 0);
		return true;
	}
	case 'u': case 'o': case 'x': case 'X':
		put_integer(s, sp, fetch_unsigned(sp->length, ap), false);
		return true;
	case 'p': put_pointer(s, sp, va_arg(*ap, void *)); return true;
	case 'c': c = (char)va_arg(*ap, int); put_text(s, sp, &c, 1); return true;
	case 's': put_string(s, sp, va_arg(*ap, const char *)); return true;
	case '%': put(s, '%'); return true;
	default: return false;
	}
}

int vformat_to(format_emit_fn *emit, void *ctx, const char *fmt, va_list ap)
{
	struct sink s = { emit, ctx, 0 };
	struct spec sp;
	va_list args;

	va_copy(args, ap); /* helpers take a va_list *: portable only for a local */
	while (*fmt) {
		if (*fmt != '%') {
			put(&s, *fmt++);
			continue;
		}
		const char *start = fmt;
		fmt = parse_spec(fmt + 1, &sp, &args);
		if (*fmt == '\0' || !convert(&s, &sp, &args))
			put_span(&s, start, *fmt ? fmt + 1 : fmt); /* unknown: as written */
		if (*fmt)
			fmt++;
	}
	va_end(args);
	return s.count > INT_MAX ? -1 : (int)s.count;
}

/* A buffer being filled: len characters so far, room for size - 1. */
struct buffer {
	char *buf;
	size_t size;
	size_t len;
};

static void to_buffer(char c, void *ctx)
{
	struct buffer *b = ctx;

	if (b->len + 1 < b->size)
		b->buf[b->len++] = c;
}

int vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct buffer b = { buf, size, 0 };
	int n = vformat_to(to_buffer, &b, fmt, ap);

	if (size > 0)
		buf[b.len] = '\0';
	return n;
}

int format(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vformat(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
