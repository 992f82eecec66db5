/*
 * kernel/time/tsc.h - the time-stamp counter's frequency, for turning RDTSC
 * values (bootinfo_rdtsc, shared/bootinfo.h) into time.
 *
 * Where the frequency comes from, first that works:
 *   cpuid    CPUID leaf 0x15: crystal Hz * EBX / EAX; when the crystal
 *            field is 0, leaf 0x16's base MHz (Intel SDM vol. 2, CPUID);
 *   hpet     calibration: TSC cycles over TSC_CAL_MS of the HPET's main
 *            counter (base from the ACPI HPET table, period in fs from the
 *            capabilities register bits 63:32);
 *   pmtimer  the same against the ACPI PM timer (3.579545 MHz, I/O port
 *            from the FADT).
 * QEMU's TCG CPUs have no leaf 0x15: there the HPET is what runs.
 */
#ifndef KERNEL_TIME_TSC_H
#define KERNEL_TIME_TSC_H

#include <stdint.h>
#include "kernel/acpi/acpi.h"

/* Calibration interval, milliseconds: it is boot time (the SMP bring-up
 * needs the frequency for its delays).  Over 5 ms a 10 MHz HPET gives
 * 50,000 ticks and the PM timer 17,898: a tick of quantisation is 20 and
 * 56 ppm, a ~1 us counter read at each end 400 ppm at most - 1 MHz of a
 * 2.5 GHz TSC, 3 ms on a 7 s timeline. */
#define TSC_CAL_MS 5
/* A result outside [TSC_MIN_HZ, TSC_MAX_HZ] is taken as a failed method. */
#define TSC_MIN_HZ 1000000ull          /* 1 MHz */
#define TSC_MAX_HZ 100000000000ull     /* 100 GHz */

enum tsc_source { TSC_SRC_NONE, TSC_SRC_CPUID, TSC_SRC_HPET, TSC_SRC_PMTIMER };

struct tsc_freq {
	uint64_t hz;             /* cycles per second; 0 if unknown */
	enum tsc_source source;
};

/* Returns "cpuid", "hpet", "pmtimer" or "none". */
const char *tsc_source_str(enum tsc_source s);

/* Finds the TSC frequency (see the top) - once: later calls return the
 * frequency found first - from the ACPI tables of a parse a (the kernel's
 * one, kernel/acpi/boot.h; NULL or a failed parse: CPUID only), reaching
 * the HPET only through a->pm; maps nothing after it returns and prints
 * nothing.  Calibration busy-waits TSC_CAL_MS.  Returns 0 and fills *out,
 * or -1 (out->hz = 0, source none) when no method worked. */
int tsc_freq_find(const struct acpi *a, struct tsc_freq *out);

/* Converts a TSC value to microseconds at hz (> 0), without overflow for
 * any tsc: whole seconds and the remainder separately. */
uint64_t tsc_to_us(uint64_t tsc, uint64_t hz);

#endif
