/*
 * efi/pins.c - the pins of this loader build (see pins.h).  Compiled twice:
 * with MEMBOOT_PINNED and build/pin_digests.h on the include path, and without.
 */
#include "efi/pins.h"

#ifdef MEMBOOT_PINNED
#include "pin_digests.h" /* build/pin_digests.h */
const struct loader_pins loader_pins = { 1, PIN_KERNEL_SHA256, PIN_INITRD_SHA256 };
#else
const struct loader_pins loader_pins = { 0, { 0 }, { 0 } };
#endif
