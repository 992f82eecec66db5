/*
 * tests/boot/sbhello.c - the smallest EFI application, for the image and
 * Secure Boot tests (tests/boot/secureboot.sh): prints SBHELLO_MARKER on the
 * firmware console (OVMF copies it to the serial port), then ends QEMU
 * through isa-debug-exit with status 0.  Built like the loader (PE32+,
 * Windows ABI) with gnu-efi's headers only.
 */
#include <efi.h>

#define QEMU_EXIT_PORT 0xf4   /* isa-debug-exit iobase in tools/qemu-run.sh */

/* Entry point: prints the marker and exits QEMU; returns EFI_SUCCESS if
 * there is no isa-debug-exit device. */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	(void)image;
	st->ConOut->OutputString(st->ConOut, L"\r\nsbhello: payload running\r\n");
	__asm__ volatile("outb %0, %1" : : "a"((unsigned char)0), "Nd"((unsigned short)QEMU_EXIT_PORT));
	return EFI_SUCCESS;
}
