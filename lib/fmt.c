/*
 * lib/fmt.c - printf-style formatting (see fmt.h).  No floating point, no
 * recursion, no allocation: numbers are built right-to-left in a 24-byte
 * buffer (2^64 has 20 decimal and 22 octal digits).
 */
#include <stdint.h>
#include "lib/fmt.h"

struct fmt_spec {
	int left;      /* '-' */
	int alt;       /* '#': 0x prefix for %x */
	int zero;      /* '0' */
	int width;
	int prec;      /* -1: none */
};

/* Emits c count times. */
static int emit_pad(fmt_putc_fn putc, void *ctx, char c, int count)
{
	int n = 0;
	while (count-- > 0) {
		putc(ctx, c);
		n++;
	}
	return n;
}

/* Emits the len bytes of s, padded to the field width. */
static int emit_field(fmt_putc_fn putc, void *ctx, const struct fmt_spec *sp,
		      const char *prefix, const char *s, int len)
{
	int plen = 0, n = 0;
	while (prefix && prefix[plen])
		plen++;
	int pad = sp->width - len - plen;
	if (!sp->left && !sp->zero)
		n += emit_pad(putc, ctx, ' ', pad);
	for (int i = 0; i < plen; i++, n++)
		putc(ctx, prefix[i]);
	if (!sp->left && sp->zero)
		n += emit_pad(putc, ctx, '0', pad);
	for (int i = 0; i < len; i++, n++)
		putc(ctx, s[i]);
	if (sp->left)
		n += emit_pad(putc, ctx, ' ', pad);
	return n;
}

/* Emits v in base (8, 10, 16) with the sign prefix neg. */
static int emit_num(fmt_putc_fn putc, void *ctx, const struct fmt_spec *sp,
		    unsigned long long v, unsigned base, int upper, int neg,
		    const char *prefix)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	int i = (int)sizeof(buf);
	do {
		buf[--i] = digits[v % base];
		v /= base;
	} while (v);
	return emit_field(putc, ctx, sp, neg ? "-" : prefix, buf + i, (int)sizeof(buf) - i);
}

/* Formats fmt/ap through putc; returns the character count. */
int fmt_vformat(fmt_putc_fn putc, void *ctx, const char *fmt, va_list ap)
{
	int n = 0;
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			putc(ctx, *p);
			n++;
			continue;
		}
		struct fmt_spec sp = { 0, 0, 0, 0, -1 };
		for (p++; *p == '-' || *p == '0' || *p == '#'; p++) {
			if (*p == '-')
				sp.left = 1;
			else if (*p == '#')
				sp.alt = 1;
			else
				sp.zero = 1;
		}
		if (*p == '*') {
			sp.width = va_arg(ap, int);
			p++;
		}
		while (*p >= '0' && *p <= '9')
			sp.width = sp.width * 10 + (*p++ - '0');
		if (*p == '.') {
			sp.prec = 0;
			for (p++; *p >= '0' && *p <= '9'; p++)
				sp.prec = sp.prec * 10 + (*p - '0');
		}
		int lng = 0; /* 0 int, 1 long, 2 long long, 3 size_t, -1 short */
		for (;; p++) {
			if (*p == 'l')
				lng++;
			else if (*p == 'z')
				lng = 3;
			else if (*p == 'h')
				lng = -1;
			else
				break;
		}
		unsigned long long u;
		long long s;
		switch (*p) {
		case 'd':
		case 'i':
			if (lng == 2)
				s = va_arg(ap, long long);
			else if (lng == 1 || lng == 3)
				s = va_arg(ap, long);
			else
				s = va_arg(ap, int);
			u = s < 0 ? 0ULL - (unsigned long long)s : (unsigned long long)s;
			n += emit_num(putc, ctx, &sp, u, 10, 0, s < 0, 0);
			break;
		case 'u':
		case 'x':
		case 'X':
		case 'o':
			if (lng == 2)
				u = va_arg(ap, unsigned long long);
			else if (lng == 1)
				u = va_arg(ap, unsigned long);
			else if (lng == 3)
				u = va_arg(ap, size_t);
			else
				u = va_arg(ap, unsigned int);
			if (lng == -1)
				u &= 0xffff;
			n += emit_num(putc, ctx, &sp, u, *p == 'u' ? 10 : *p == 'o' ? 8 : 16,
				      *p == 'X', 0,
				      sp.alt && *p == 'x' ? "0x" : sp.alt && *p == 'X' ? "0X" : 0);
			break;
		case 'p': {
			struct fmt_spec ps = { sp.left, 0, 1, 18, -1 };
			u = (unsigned long long)(uintptr_t)va_arg(ap, void *);
			n += emit_num(putc, ctx, &ps, u, 16, 0, 0, "0x");
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);
			sp.zero = 0;
			n += emit_field(putc, ctx, &sp, 0, &c, 1);
			break;
		}
		case 's': {
			const char *str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			int len = 0;
			while (str[len] && (sp.prec < 0 || len < sp.prec))
				len++;
			sp.zero = 0;
			n += emit_field(putc, ctx, &sp, 0, str, len);
			break;
		}
		case '%':
			putc(ctx, '%');
			n++;
			break;
		case '\0':
			return n;
		default: /* unknown conversion: print it as written */
			putc(ctx, '%');
			putc(ctx, *p);
			n += 2;
			break;
		}
	}
	return n;
}

struct snbuf {
	char *buf;
	size_t n, len;
};

static void snbuf_putc(void *ctx, char c)
{
	struct snbuf *b = ctx;
	if (b->len + 1 < b->n)
		b->buf[b->len] = c;
	b->len++;
}

/* vsnprintf: see fmt.h. */
int fmt_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
	struct snbuf b = { buf, n, 0 };
	int r = fmt_vformat(snbuf_putc, &b, fmt, ap);
	if (n)
		buf[b.len < n ? b.len : n - 1] = '\0';
	return r;
}

/* snprintf: see fmt.h. */
int fmt_snprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = fmt_vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r;
}

/* Escapes one byte c into out (room for 5 bytes); returns the length. */
static size_t escape_byte(unsigned char c, char *out)
{
	static const char hex[] = "0123456789abcdef";
	if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
		out[0] = (char)c;
		return 1;
	}
	if (c == '\\' || c == '"') {
		out[0] = '\\';
		out[1] = (char)c;
		return 2;
	}
	out[0] = '\\';
	out[1] = 'x';
	out[2] = hex[c >> 4];
	out[3] = hex[c & 0xf];
	return 4;
}

/* fmt_escape: see fmt.h. */
size_t fmt_escape(char *out, size_t n, const char *s, size_t len)
{
	size_t used = 0, i;
	if (n == 0)
		return 0;
	for (i = 0; i < len; i++) {
		char e[4];
		size_t k = escape_byte((unsigned char)s[i], e);
		if (used + k >= n)
			break;
		for (size_t j = 0; j < k; j++)
			out[used++] = e[j];
	}
	out[used] = '\0';
	return i;
}
