/*
 * kernel/acpi/demo.h - the kernel's ACPI demos, run once at boot: every
 * table listed (kernel/acpi/acpi.c's lines), the MADT and FADT decoded, the
 * HPET's counter read, PCI listed through ECAM (kernel/pci/ecam.h) or the
 * legacy ports (kernel/pci/list.h), and a
 * check that every mapping made on the way was undone.
 *
 * Output (besides the acpi:, MADT, FADT and pci: lines):
 *   hpet: base=0x<16 hex> vendor=<4 hex> rev=<n> timers=<n> 64-bit=<yes|no> period=<fs> fs freq=<Hz> Hz
 *   hpet: counter was halted; enabling it      (OVMF leaves it halted; it stays on)
 *   hpet: counter 0x<16 hex> -> 0x<16 hex> (+<ticks> ticks, <ns> ns): advancing
 *   pci: no usable MCFG (<why>): no ECAM listing   (QEMU pc: then the legacy
 *        ports list PCI, kernel/pci/list.h)
 *   acpi: demo mappings: maps=<n> unmaps=<n> live=<n> window before=<n> after=<n>: <ok|LEAK>
 */
#ifndef KERNEL_ACPI_DEMO_H
#define KERNEL_ACPI_DEMO_H

#include "kernel/acpi/acpi.h"
#include "kernel/mem/physmap.h"
#include "shared/bootinfo.h"

/* Prints the report of the kernel's ACPI parse acpi (kernel/acpi/boot.h;
 * made from the RSDP the loader found in bi), then runs the demos on it,
 * reaching firmware memory only through pm (the parse's own physmap,
 * counted here). */
void acpi_demo_run(const struct bootinfo *bi, const struct acpi *acpi, const struct physmap *pm);

#endif
