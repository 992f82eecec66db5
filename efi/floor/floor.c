/*
 * efi/floor/floor.c - the boot benchmark's floor (make boot-bench): the
 * least a UEFI application can do and still say it ran.  It writes one line
 * to COM1 (already set up by the firmware: OVMF's console is on it) and
 * exits QEMU through isa-debug-exit with status 0, as the kernel does with
 * qemu-exit.  QEMU start -> this line is the cost of the firmware alone,
 * against which memboot's QEMU start -> `memboot: done` is compared.
 * Builds against the gnu-efi headers only; links nothing.
 */
#include <efi.h>

#define COM1            0x3f8
#define COM1_LSR        (COM1 + 5)
#define LSR_THR_EMPTY   0x20
#define QEMU_EXIT_PORT  0xf4   /* isa-debug-exit, tools/qemu-run.sh */
#define QEMU_EXIT_OK    0x10   /* the kernel's 0x10 + status, status 0 */

/* Writes v to I/O port. */
static void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

/* Reads a byte from I/O port. */
static uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* Writes the NUL-terminated s to COM1, polling for room before each byte. */
static void serial_puts(const char *s)
{
	for (; *s; s++) {
		while (!(inb(COM1_LSR) & LSR_THR_EMPTY))
			;
		outb(COM1, (uint8_t)*s);
	}
}

/* Prints `floor: done` and exits QEMU; on a machine without isa-debug-exit
 * returns to the firmware. */
EFI_STATUS EFIAPI efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	(void)image;
	(void)systab;
	serial_puts("floor: done\r\n");
	outb(QEMU_EXIT_PORT, QEMU_EXIT_OK);
	return EFI_SUCCESS;
}
