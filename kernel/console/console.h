/*
 * kernel/console/console.h - the kernel console: every line goes to COM1, to QEMU's
 * debugcon (port 0xE9) and to any registered sink (the framebuffer console).
 */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <stdarg.h>
#include <stddef.h>

/* Initialises COM1 (115200 8N1) if a UART answers there. */
void console_init(void);

/* Writes n bytes to every output. */
void console_write(const char *s, size_t n);

/* Adds a sink that receives every byte written from now on, after a replay
 * of what was printed before the first sink (kept up to 64 KiB); returns 0,
 * or -1 if the sink table (CONSOLE_MAX_SINKS) is full. */
#define CONSOLE_MAX_SINKS 4
int console_add_sink(void (*write)(const char *s, size_t n));

/* Sinks may keep what they are given and show it later (the screen
 * console draws on a flush): console_set_flush registers the one hook that
 * makes them catch up, console_flush calls it.  kernel_exit (and so panic)
 * flushes; kmain flushes at every boot stage. */
void console_set_flush(void (*flush)(void));
void console_flush(void);

/* printf to the console; formats as lib/fmt.h describes. */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);

/* Ends the run: exits QEMU through isa-debug-exit with code (0 = success)
 * when BootInfo asked for it, otherwise halts forever. */
_Noreturn void kernel_exit(int code);

/* Stops the kernel: prints "panic: <message>", exits QEMU with status 1
 * when BootInfo asked for QEMU exit, otherwise halts forever. */
_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void kvpanic(const char *fmt, va_list ap);

#endif
