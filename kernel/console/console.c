/*
 * kernel/console/console.c - console output to COM1, QEMU's debugcon and sinks.
 *
 * COM1 is probed with the scratch register first: a PC without a UART (or
 * QEMU -serial none) gets no serial output and no busy-wait on a missing
 * line-status register.
 */
#include "kernel/console/console.h"
#include "lib/fmt.h"
#include "kernel/arch/io.h"
#include "kernel/boot/handover.h"

#define COM1        0x3f8
#define DEBUGCON    0xe9     /* QEMU -debugcon: every byte written appears */
#define QEMU_EXIT   0xf4     /* isa-debug-exit, iobase=0xf4 */
/* The kernel's exit status is written as QEMU_EXIT_BASE + status: QEMU then
 * exits with ((QEMU_EXIT_BASE + status) << 1) | 1, which can never be
 * confused with QEMU's own failure status 1 (tools/qemu-run.sh decodes it). */
#define QEMU_EXIT_BASE 0x10
/* Bound on polling the UART's transmit-empty bit: a stuck UART slows the
 * console down but never hangs it (about 100 us per character at most). */
#define COM_SPIN    100000

/* Everything printed before the first sink exists is kept (up to 64 KiB,
 * room for a map of ~900 descriptors) and replayed into each new sink, so
 * the framebuffer console, which needs the memory manager to be mapped,
 * still shows the whole boot. */
#define CONSOLE_EARLY_SIZE 65536

static int com1_ok;
static char early[CONSOLE_EARLY_SIZE];
static size_t early_len, early_lost;
static void (*sinks[CONSOLE_MAX_SINKS])(const char *, size_t);
static int nsinks;

/* See console.h. */
void console_init(void)
{
	outb(COM1 + 7, 0x5a);             /* scratch register */
	if (inb(COM1 + 7) != 0x5a)
		return;
	outb(COM1 + 1, 0x00);             /* no interrupts */
	outb(COM1 + 3, 0x80);             /* DLAB on */
	outb(COM1 + 0, 0x01);             /* divisor 1: 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03);             /* 8N1, DLAB off */
	outb(COM1 + 2, 0xc7);             /* FIFO on, cleared */
	outb(COM1 + 4, 0x03);             /* DTR, RTS */
	com1_ok = 1;
}

static void com1_putc(char c)
{
	for (int i = 0; i < COM_SPIN && !(inb(COM1 + 5) & 0x20); i++)
		;
	outb(COM1, (uint8_t)c);
}

/* See console.h. */
void console_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (com1_ok) {
			if (s[i] == '\n')
				com1_putc('\r');
			com1_putc(s[i]);
		}
		outb(DEBUGCON, (uint8_t)s[i]);
	}
	for (int k = 0; k < nsinks; k++)
		sinks[k](s, n);
	if (nsinks == 0) {
		size_t keep = n < sizeof(early) - early_len ? n : sizeof(early) - early_len;
		for (size_t i = 0; i < keep; i++)
			early[early_len + i] = s[i];
		early_len += keep;
		early_lost += n - keep;
	}
}

/* See console.h. */
int console_add_sink(void (*write)(const char *s, size_t n))
{
	if (nsinks == CONSOLE_MAX_SINKS)
		return -1;
	sinks[nsinks++] = write;
	write(early, early_len);
	if (early_lost) {
		char note[96];
		size_t n = (size_t)fmt_snprintf(note, sizeof(note),
			"console: %lu earlier bytes are on serial/debugcon only\n", (unsigned long)early_lost);
		write(note, n);
	}
	return 0;
}

/* Characters are gathered in a line buffer so sinks see whole lines. */
struct linebuf {
	char buf[256];
	size_t len;
};

static void line_putc(void *ctx, char c)
{
	struct linebuf *lb = ctx;
	lb->buf[lb->len++] = c;
	if (c == '\n' || lb->len == sizeof(lb->buf)) {
		console_write(lb->buf, lb->len);
		lb->len = 0;
	}
}

/* See console.h. */
void kvprintf(const char *fmt, va_list ap)
{
	struct linebuf lb;
	lb.len = 0;
	fmt_vformat(line_putc, &lb, fmt, ap);
	if (lb.len)
		console_write(lb.buf, lb.len);
}

/* See console.h. */
void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

/* Ends the run: QEMU exit with code, when BootInfo asked for it, else halt. */
_Noreturn void kernel_exit(int code)
{
	if (bootinfo_qemu_exit())
		outl(QEMU_EXIT, QEMU_EXIT_BASE + (uint32_t)code);
	halt_forever();
	__builtin_unreachable();
}

/* See console.h. */
_Noreturn void kvpanic(const char *fmt, va_list ap)
{
	kprintf("panic: ");
	kvprintf(fmt, ap);
	kprintf("\n");
	kernel_exit(1);
}

/* See console.h. */
_Noreturn void panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvpanic(fmt, ap);
}
