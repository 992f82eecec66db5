/*
 * kernel/time/boottime.c - the boot timeline (interface and output in
 * boottime.h).
 */
#include "kernel/console/console.h"
#include "kernel/time/boottime.h"
#include "kernel/time/tsc.h"
#include "lib/fmt.h"

#define US_PER_MS 1000u
#define HZ_PER_KHZ 1000u

static uint64_t kernel_stamps[BOOT_STAGES];

static const char *const stage_names[BOOT_STAGES] = {
	"loader-entry", "exit-boot-services", "kernel-entry", "memory-ready",
	"console-ready", "efirt-ready", "smp-ready", "selftest-done", "acpi-done", "ramdisk-done", "done",
};

/* See boottime.h. */
void boottime_mark(enum boot_stage s)
{
	if (s >= BOOT_KERNEL_ENTRY && s < BOOT_STAGES)
		kernel_stamps[s] = bootinfo_rdtsc();
}

/* See boottime.h. */
int boottime_fmt_ms(char *buf, size_t n, uint64_t tsc, uint64_t hz)
{
	uint64_t us = tsc_to_us(tsc, hz);
	return fmt_snprintf(buf, n, "%lu.%03lu", (unsigned long)(us / US_PER_MS),
			    (unsigned long)(us % US_PER_MS));
}

/* See boottime.h. */
void boottime_report(const struct bootinfo *bi, const struct acpi *acpi)
{
	struct tsc_freq f;
	if (tsc_freq_find(acpi, &f) != 0) {
		kprintf("boot: tsc frequency unknown (no CPUID leaf 0x15, HPET or PM timer): no timeline\n");
		return;
	}
	uint64_t stamps[BOOT_STAGES];
	for (int i = 0; i < BOOT_STAGES; i++)
		stamps[i] = kernel_stamps[i];
	stamps[BOOT_LOADER_ENTRY] = bi->tsc_loader_entry;
	stamps[BOOT_EXIT_BOOT_SERVICES] = bi->tsc_exit_boot_services;
	for (int i = 0; i < BOOT_STAGES; i++) {
		char ms[32];
		boottime_fmt_ms(ms, sizeof(ms), stamps[i], f.hz);
		kprintf("boot: %s %s ms\n", stage_names[i], ms);
	}
	uint64_t khz = f.hz / HZ_PER_KHZ;
	kprintf("boot: tsc %lu.%03lu MHz (%s)\n", (unsigned long)(khz / 1000),
		(unsigned long)(khz % 1000), tsc_source_str(f.source));
}
