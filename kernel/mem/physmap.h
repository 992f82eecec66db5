/*
 * kernel/mem/physmap.h - the kernel's struct acpi_host: firmware memory (ACPI
 * tables, MMIO, the ramdisk) reached through mem_map_addr, never through the
 * direct map.
 */
#ifndef KERNEL_PHYSMAP_H
#define KERNEL_PHYSMAP_H

#include "kernel/acpi/acpi.h"

/* Returns the host interface backed by mem_map_addr in the kernel space;
 * valid after kmem_init. */
const struct acpi_host *physmap_host(void);

#endif
