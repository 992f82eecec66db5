/*
 * kernel/acpi/boot.h - the kernel's one parse of the ACPI tables.
 *
 * kmain calls acpi_boot_init once, before the first user (the TSC
 * calibration, which the SMP bring-up starts), and hands the same struct
 * acpi to every user: the TSC calibration (HPET, FADT's PM timer: through
 * smp_init and boottime_report), the SMP bring-up (the MADT's CPUs) and
 * the ACPI demo, which prints its report (kernel/acpi/acpi.h, theory 5),
 * and the NUMA setup (kernel/mem/numa.h: the SRAT and SLIT, parsed by
 * acpi_parse into the same struct).
 * Nothing is printed here.  Boot CPU only, before the other CPUs start:
 * afterwards the struct is read-only, so no lock.
 */
#ifndef KERNEL_ACPI_BOOT_H
#define KERNEL_ACPI_BOOT_H

#include "kernel/acpi/acpi.h"
#include "kernel/mem/physmap.h"
#include "shared/bootinfo.h"

/* Parses the tables under the RSDP the loader found in bi (none: the
 * parse records ACPI_E_NO_RSDP), reaching memory through pm, which must
 * outlive every later use.  A second call is a caller bug: reported, and
 * the first parse kept.  Returns the parse. */
const struct acpi *acpi_boot_init(const struct bootinfo *bi, const struct physmap *pm);

#endif
