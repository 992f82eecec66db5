/*
 * efi/pins.h - SHA-256 pins of the files the loader accepts.
 *
 * The loader is linked twice: build/BOOTX64.EFI with pinning off (the
 * development loader of build/esp.img, so a rebuilt or deliberately broken
 * kernel.elf can be tried without rebuilding the loader) and
 * build/BOOTX64-pinned.EFI, the one `make image` signs for Secure Boot, with
 * the digests of the kernel.elf and initrd it was built with (build/pin_digests.h,
 * written by tools/pin-hashes.sh).
 */
#ifndef EFI_PINS_H
#define EFI_PINS_H

#include <stdint.h>

struct loader_pins {
	uint32_t enabled;        /* 0: accept any file (development loader) */
	uint8_t kernel[32];      /* SHA-256 of \boot\kernel.elf */
	uint8_t initrd[32];      /* SHA-256 of \boot\initrd */
};

extern const struct loader_pins loader_pins;

#endif
