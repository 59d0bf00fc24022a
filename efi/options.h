/*
 * options.h - the command line a user types at the EFI shell.
 *
 *   BOOTX64.EFI [selftest [NAME] | crash KIND | memmap | heapmap | cpus] [heap=SIZE]
 *               [smp=N] [exit=MODE] [color=on|off] [pause=key|off]
 *
 * Parsed while boot services still run, so a mistake is reported on the
 * firmware console and the user gets a live shell back.  Plain C: the host
 * tests build this file too.
 */
#ifndef OPTIONS_H
#define OPTIONS_H

#include <stddef.h>
#include "boot_info.h"
#include "layout.h" /* HEAP_MAX, the heap window: the one limit */

#define HEAP_SIZE_DEFAULT (1ull << 20)  /* 1 MiB, as in the blog_os post */
#define HEAP_SIZE_MIN     (64ull << 10) /* the self-tests need room to work */
#define HEAP_SIZE_MAX     HEAP_MAX      /* the whole window may be mapped */

/*
 * Fill *out from argv[1..argc) (argv[0] is the program's name and is
 * ignored).  Returns 0, or -1 with a one-line reason in err[0..errlen).
 * On error *out holds the defaults, never a half-parsed line.
 */
int options_parse(int argc, const char *const argv[], struct boot_options *out,
		  char *err, size_t errlen);

#define OPTIONS_MAX_WORDS 16 /* argv[0] included */
#define OPTIONS_WORD_LEN 64  /* NUL included */

/*
 * The options a firmware boot entry gives (its OptionalData, our
 * LoadOptions, as `efibootmgr -u '...'` or a boot manager's entry sets
 * them) as argv words for options_parse: UCS-2 text split at spaces,
 * into buf; argv[0] is "".  Some boot managers put the loader's own path
 * first: a first word ending in ".efi" (any case) is dropped.
 * Returns argc (1 when there is no word); 0 when the bytes are not text
 * (odd in size, or a character outside ' '..'~' before the first NUL):
 * a boot entry's binary data, not meant for us; -1 when a word is longer
 * than OPTIONS_WORD_LEN - 1 or there are more than OPTIONS_MAX_WORDS - 1.
 */
int options_from_load_options(const uint16_t *opts, size_t bytes,
			      char buf[OPTIONS_MAX_WORDS][OPTIONS_WORD_LEN],
			      const char *argv[OPTIONS_MAX_WORDS]);

/* Parse "4096", "64K", "4M", "1G" (case-insensitive suffix) into bytes.
 * Returns 0, or -1 on garbage, an empty number, or overflow. */
int options_parse_size(const char *s, uint64_t *bytes);

/* The usage line, for error messages. */
extern const char options_usage[];

#endif
