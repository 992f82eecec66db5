/*
 * kernel/time/boottime.h - the boot timeline: TSC stamps at eleven stages,
 * two from the loader (BootInfo v2) and nine from the kernel, printed as
 * time since TSC 0 (CPU reset on hardware and KVM; under QEMU TCG the
 * guest's TSC follows the host's, so the figures there are the host's
 * uptime and only differences between them mean anything).
 *
 * Output (boottime_report, just before `memboot: done`), in this order:
 *   boot: loader-entry <ms>.<3 digits> ms        efi_main's first statement
 *   boot: exit-boot-services <ms> ms             before the ExitBootServices that succeeded
 *   boot: kernel-entry <ms> ms                   kmain's first statement
 *   boot: memory-ready <ms> ms                   after kmem_init
 *   boot: console-ready <ms> ms                  framebuffer console up, early output replayed
 *   boot: efirt-ready <ms> ms                    UEFI runtime services mapped, GetTime called
 *   boot: smp-ready <ms> ms                      other CPUs started, shootdown proof done
 *   boot: selftest-done <ms> ms                  after the mm selftest
 *   boot: acpi-done <ms> ms                      after the ACPI / PCI demos
 *   boot: ramdisk-done <ms> ms                   after the ramdisk listing
 *   boot: done <ms> ms                           just before `memboot: done`
 *   boot: tsc <MHz>.<3 digits> MHz (cpuid|hpet|pmtimer)
 * or, when no frequency source works, one line:
 *   boot: tsc frequency unknown (no CPUID leaf 0x15, HPET or PM timer): no timeline
 */
#ifndef KERNEL_TIME_BOOTTIME_H
#define KERNEL_TIME_BOOTTIME_H

#include <stddef.h>
#include <stdint.h>
#include "kernel/acpi/acpi.h"
#include "shared/bootinfo.h"

enum boot_stage {
	BOOT_LOADER_ENTRY,
	BOOT_EXIT_BOOT_SERVICES,
	BOOT_KERNEL_ENTRY,
	BOOT_MEMORY_READY,
	BOOT_CONSOLE_READY,
	BOOT_EFIRT_READY,
	BOOT_SMP_READY,
	BOOT_SELFTEST_DONE,
	BOOT_ACPI_DONE,
	BOOT_RAMDISK_DONE,
	BOOT_DONE,
	BOOT_STAGES
};

/* Records the TSC now as the time of kernel stage s (a loader stage or a
 * value out of range is ignored: those come from BootInfo). */
void boottime_mark(enum boot_stage s);

/* Finds the TSC frequency (kernel/time/tsc.h, from the kernel's ACPI
 * parse acpi; may busy-wait for a calibration) and prints the timeline of
 * the loader's stamps in bi and the kernel's, in the format above. */
void boottime_report(const struct bootinfo *bi, const struct acpi *acpi);

/* Formats tsc at hz (> 0) as milliseconds with three decimals ("5903.118")
 * into buf (n bytes); returns what fmt_snprintf returns. */
int boottime_fmt_ms(char *buf, size_t n, uint64_t tsc, uint64_t hz);

#endif
