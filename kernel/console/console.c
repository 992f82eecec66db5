/*
 * kernel/console/console.c - console output to COM1, QEMU's debugcon and sinks.
 *
 * COM1 is probed with the scratch register first: a PC without a UART (or
 * QEMU -serial none) gets no serial output and no busy-wait on a missing
 * line-status register.
 *
 * Locking: console_lock (an mm_lock: interrupts off while held) makes each
 * console_write - one line of kprintf - whole on every output, so lines of
 * two CPUs never interleave mid-line.  It protects the outputs, the early
 * buffer and the sink table.  A CPU that writes while it holds it already
 * (a fault inside a sink, reported by the trap handler) writes without it;
 * once a panic has begun, a writer that cannot get the lock within
 * PANIC_LOCK_SPIN tries (its holder may be the CPU that broke) writes
 * without it: the panic message gets out, perhaps mixed with another line.
 */
#include "kernel/console/console.h"
#include "lib/fmt.h"
#include "kernel/arch/io.h"
#include "kernel/boot/handover.h"
#include "mm/lock.h"
#include "mm/platform.h"

#define COM1        0x3f8
/* 16550 UART registers (offsets from the base port) and the bits used. */
#define UART_DATA   0        /* transmit holding / divisor low with DLAB */
#define UART_IER    1        /* interrupt enable / divisor high with DLAB */
#define UART_FCR    2        /* FIFO control */
#define UART_LCR    3        /* line control */
#define UART_MCR    4        /* modem control */
#define UART_LSR    5        /* line status */
#define UART_SCR    7        /* scratch: reads back what was written */
#define UART_LCR_DLAB  0x80  /* divisor latch access */
#define UART_LCR_8N1   0x03
#define UART_FCR_CLEAR 0xc7  /* FIFOs on and cleared, 14-byte trigger */
#define UART_MCR_DTR_RTS 0x03
#define UART_LSR_THRE  0x20  /* transmit holding register empty */
#define UART_DIV_115200 1    /* 115200 baud from the 1.8432 MHz clock / 16 */
#define UART_PROBE     0x5a  /* any value: a missing UART reads back 0xff */
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

/* Tries for the console lock once a panic has begun (~ a few ms). */
#define PANIC_LOCK_SPIN 1000000

static struct mm_lock console_lock = MM_LOCK_INIT("console");
static uint32_t panicking;
static int com1_ok;
static char early[CONSOLE_EARLY_SIZE];
static size_t early_len, early_lost;
static void (*sinks[CONSOLE_MAX_SINKS])(const char *, size_t);
static int nsinks;

/* See console.h. */
void console_init(void)
{
	outb(COM1 + UART_SCR, UART_PROBE);
	if (inb(COM1 + UART_SCR) != UART_PROBE)
		return;
	outb(COM1 + UART_IER, 0);                 /* no interrupts */
	outb(COM1 + UART_LCR, UART_LCR_DLAB);
	outb(COM1 + UART_DATA, UART_DIV_115200);
	outb(COM1 + UART_IER, 0);                 /* divisor high byte */
	outb(COM1 + UART_LCR, UART_LCR_8N1);      /* and DLAB off */
	outb(COM1 + UART_FCR, UART_FCR_CLEAR);
	outb(COM1 + UART_MCR, UART_MCR_DTR_RTS);
	com1_ok = 1;
}

static void com1_putc(char c)
{
	for (int i = 0; i < COM_SPIN && !(inb(COM1 + UART_LSR) & UART_LSR_THRE); i++)
		;
	outb(COM1, (uint8_t)c);
}

/* Writes n bytes to every output; the caller holds console_lock or has
 * decided to go without it (console_write). */
static void write_all(const char *s, size_t n)
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

/* Takes console_lock for an output step (see the top): returns 1 if taken
 * (release with mm_unlock), 0 if the step goes without it - this CPU holds
 * it already, or a panic is under way and the lock stayed busy. */
static int console_enter(void)
{
	if (mm_lock_held(&console_lock))
		return 0;
	if (__atomic_load_n(&panicking, __ATOMIC_RELAXED)) {
		for (int i = 0; i < PANIC_LOCK_SPIN; i++) {
			if (mm_trylock(&console_lock))
				return 1;
			mm_cpu_relax();
		}
		return 0;
	}
	mm_lock(&console_lock);
	return 1;
}

/* See console.h. */
void console_write(const char *s, size_t n)
{
	int locked = console_enter();
	write_all(s, n);
	if (locked)
		mm_unlock(&console_lock);
}

/* See console.h. */
int console_add_sink(void (*write)(const char *s, size_t n))
{
	mm_lock(&console_lock);
	if (nsinks == CONSOLE_MAX_SINKS) {
		mm_unlock(&console_lock);
		return -1;
	}
	sinks[nsinks++] = write;
	write(early, early_len);
	if (early_lost) {
		char note[96];
		size_t n = (size_t)fmt_snprintf(note, sizeof(note),
			"console: %lu earlier bytes are on serial/debugcon only\n", (unsigned long)early_lost);
		write(note, n);
	}
	mm_unlock(&console_lock);
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

static void (*flush_hook)(void);

/* See console.h. */
void console_set_flush(void (*flush)(void))
{
	flush_hook = flush;
}

/* See console.h. */
void console_flush(void)
{
	int locked = console_enter();
	if (flush_hook)
		flush_hook();
	if (locked)
		mm_unlock(&console_lock);
}

/* Ends the run: QEMU exit with code, when BootInfo asked for it, else
 * halt; every sink shows everything first. */
_Noreturn void kernel_exit(int code)
{
	console_flush();
	if (bootinfo_qemu_exit())
		outl(QEMU_EXIT, QEMU_EXIT_BASE + (uint32_t)code);
	halt_forever();
	__builtin_unreachable();
}

/* See console.h. */
_Noreturn void kvpanic(const char *fmt, va_list ap)
{
	__atomic_store_n(&panicking, 1, __ATOMIC_RELAXED);
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
