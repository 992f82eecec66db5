/*
 * efi/console.c - the loader's console: printf-style text on ConOut, which
 * OVMF also copies to the serial port.  Text is converted to UCS-2 in small
 * chunks, \n becoming \r\n, so no line needs an allocation.
 */
#include <stdarg.h>
#include "efi/loader.h"
#include "lib/fmt.h"

/* CHAR16 buffer being filled; flushed when full and at the end. */
struct conbuf {
	CHAR16 text[128];
	unsigned len;
};

static void con_flush(struct conbuf *b)
{
	b->text[b->len] = 0;
	if (efi_st && efi_st->ConOut)
		efi_st->ConOut->OutputString(efi_st->ConOut, b->text);
	b->len = 0;
}

static void con_putc(void *ctx, char c)
{
	struct conbuf *b = ctx;
	if (b->len + 3 >= sizeof(b->text) / sizeof(b->text[0]))
		con_flush(b);
	if (c == '\n')
		b->text[b->len++] = '\r';
	b->text[b->len++] = (CHAR16)(unsigned char)c;
}

static void lvprintf(const char *fmt, va_list ap)
{
	struct conbuf b = { .len = 0 };
	fmt_vformat(con_putc, &b, fmt, ap);
	con_flush(&b);
}

/* See loader.h. */
void lprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	lvprintf(fmt, ap);
	va_end(ap);
}

/* See loader.h. */
EFI_STATUS lfail(EFI_STATUS status, const char *fmt, ...)
{
	va_list ap;
	lprintf("memboot: loader error: ");
	va_start(ap, fmt);
	lvprintf(fmt, ap);
	va_end(ap);
	lprintf(" (status 0x%llx)\n", (unsigned long long)status);
	return status;
}
