/*
 * kernel/boot/handover.h - checking and holding the BootInfo the loader passed.
 */
#ifndef KERNEL_BOOT_HANDOVER_H
#define KERNEL_BOOT_HANDOVER_H

#include <stddef.h>
#include "shared/bootinfo.h"

/* Largest raw memory map accepted: 256 KiB is over 6500 descriptors, an
 * order of magnitude above the biggest real maps (a few hundred), and sizes
 * the kernel's sanitiser scratch (kernel/main.c: 16 bytes per change point,
 * two per descriptor: ~205 KiB of .bss). */
#define BOOTINFO_MAP_MAX (1u << 18)

/* Largest descriptor stride accepted (the rest of the rule is
 * memmap_desc_size_ok): a page per descriptor is far beyond any real one. */
#define BOOTINFO_DESC_MAX   4096u

/*
 * bootinfo_check - validate bi before anything else reads it: magic,
 * version, size first; then the paging levels (4 or 5) and the direct map
 * (where those levels put it: mm/pgmode.h), the raw map (descriptor size
 * >= 40, size a multiple of it, an 8-byte aligned start, inside the direct
 * map), the used ranges
 * (count, no wrap, known type), the ramdisk, the trampoline (none, or whole
 * pages below 1 MiB inside a trampoline used range) and the command line
 * (NUL-terminated).
 * Portable (host-tested).  Returns 0, or -1 with a reason in err.
 */
int bootinfo_check(const struct bootinfo *bi, char *err, size_t errlen);

/* Remembers bi as the kernel's BootInfo (after bootinfo_check passed). */
void bootinfo_set(const struct bootinfo *bi);

/* Returns the kernel's BootInfo, or NULL before bootinfo_set. */
const struct bootinfo *bootinfo_get(void);

/* Returns 1 if the loader asked for a QEMU exit when the kernel is done. */
int bootinfo_qemu_exit(void);

#endif
