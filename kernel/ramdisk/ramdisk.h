/*
 * kernel/ramdisk/ramdisk.h - the initrd demo: list the USTAR ramdisk the loader
 * loaded (\boot\initrd) and print its hello.txt.
 */
#ifndef KERNEL_RAMDISK_H
#define KERNEL_RAMDISK_H

#include "kernel/mem/physmap.h"
#include "shared/bootinfo.h"

/* Maps [ramdisk_pa, +ramdisk_size) through pm (cached), checks every
 * header, lists the files and prints hello.txt, then unmaps it.  A bad
 * archive is reported (naming the entry) and the kernel carries on. */
void ramdisk_run(const struct bootinfo *bi, const struct physmap *pm);

#endif
