/*
 * lib/fmt.h - printf-style formatting without libc: the one formatter of the
 * loader (its console) and the kernel (kprintf, and so mm_printf).
 *
 * Conversions: %d %i %u %x %X %o %c %s %p %%; length modifiers h, l, ll, z;
 * flags '-' (left-justify), '0' (zero-pad) and '#' (0x before %x); a field width (digits or *);
 * a precision for %s (maximum bytes).  %p prints 0x and 16 hex digits.
 */
#ifndef LIB_FMT_H
#define LIB_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Receives each output character. */
typedef void (*fmt_putc_fn)(void *ctx, char c);

/* Formats fmt/ap, handing every character to putc(ctx, c).  Returns the
 * number of characters produced. */
int fmt_vformat(fmt_putc_fn putc, void *ctx, const char *fmt, va_list ap);

/* snprintf: writes at most n - 1 characters and a NUL (if n > 0); returns
 * the length the full output would have had. */
int fmt_snprintf(char *buf, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int fmt_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);

/* Copies len bytes of untrusted text s into out (n bytes, NUL-terminated if
 * n > 0) so that printing it cannot reach a terminal's control functions:
 * printable ASCII stays, backslash and double quote become \\ and \",
 * every other byte \xNN (lower-case hex).  Stops before a byte whose escape
 * would not fit; returns the number of bytes of s consumed. */
size_t fmt_escape(char *out, size_t n, const char *s, size_t len);

#endif
