/*
 * kernel/mem/numa.h - the kernel's NUMA nodes: the SRAT/SLIT parse that
 * acpi_parse keeps (kernel/acpi/numa.h) handed to the frame allocator
 * (mm/pmm.h, pmm_set_numa: theory 16 in mm/pmm.c).
 */
#ifndef KERNEL_MEM_NUMA_H
#define KERNEL_MEM_NUMA_H

#include "kernel/acpi/acpi.h"
#include "mm/pmm.h"

/* Prints the numa: lines of acpi's parse (acpi NULL: no ACPI, one node),
 * then, with two nodes or more, tells pmm each node's ranges, each online
 * CPU's node (by its APIC ID; a CPU the SRAT does not list: node 0) and
 * the distances, and prints the `pmm: node` lines; then empties every
 * CPU cache and has each online CPU take (and give back) one frame,
 * printing `numa: cpu <n> apic <id> node <k>: frame 0x... in node <j>`
 * (j = k while node k has free frames).  After smp_init (the
 * CPUs' APIC IDs are known), on the boot CPU. */
void numa_init(const struct acpi *acpi, struct pmm *pmm);

#endif
