/*
 * kernel/time/tsc.c - the TSC frequency (interface and sources in tsc.h).
 */
#include "kernel/acpi/acpi.h"
#include "kernel/acpi/acpi_tables.h"
#include "kernel/acpi/hpet_regs.h"
#include "kernel/arch/io.h"
#include "kernel/time/tsc.h"
#include "lib/string.h"
#include "shared/bootinfo.h"

#define CPUID_LEAF_TSC      0x15
#define CPUID_LEAF_FREQ     0x16
#define HZ_PER_MHZ          1000000ull
#define NS_PER_SEC          1000000000ull
#define US_PER_SEC          1000000ull
#define FS_PER_NS           1000000ull
#define FS_PER_MS           1000000000000ull

/* ACPI PM timer (ACPI 6.5, 4.8.3.3). */
#define PMTIMER_HZ          3579545ull

/* See tsc.h. */
const char *tsc_source_str(enum tsc_source s)
{
	switch (s) {
	case TSC_SRC_CPUID:   return "cpuid";
	case TSC_SRC_HPET:    return "hpet";
	case TSC_SRC_PMTIMER: return "pmtimer";
	default:              return "none";
	}
}

/* See tsc.h. */
uint64_t tsc_to_us(uint64_t tsc, uint64_t hz)
{
	/* rem < hz <= TSC_MAX_HZ, so rem * 10^6 < 10^17 fits. */
	return tsc / hz * US_PER_SEC + tsc % hz * US_PER_SEC / hz;
}

/* Runs CPUID for leaf (subleaf 0) into *a..*d. */
static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

/* The frequency CPUID states (leaf 0x15, 0x16 as the crystal's stand-in),
 * or 0 if it states none. */
static uint64_t tsc_hz_cpuid(void)
{
	uint32_t max, den, num, crystal, d;
	cpuid(0, &max, &num, &crystal, &d);
	if (max < CPUID_LEAF_TSC)
		return 0;
	cpuid(CPUID_LEAF_TSC, &den, &num, &crystal, &d);
	if (den == 0 || num == 0)
		return 0;
	if (crystal)
		return (uint64_t)crystal * num / den;
	if (max < CPUID_LEAF_FREQ)
		return 0;
	uint32_t base_mhz, b, c;
	cpuid(CPUID_LEAF_FREQ, &base_mhz, &b, &c, &d);
	return (uint64_t)(base_mhz & 0xffff) * HZ_PER_MHZ;
}

/* hz if plausible, else 0. */
static uint64_t plausible(uint64_t hz)
{
	return hz >= TSC_MIN_HZ && hz <= TSC_MAX_HZ ? hz : 0;
}

/* Calibrates against the HPET at base_pa: TSC cycles over TSC_CAL_MS of
 * its counter.  Enables a halted counter (and leaves it on, as the ACPI
 * demo does).  Returns Hz, or 0. */
static uint64_t tsc_hz_hpet(uint64_t base_pa, const struct physmap *pm)
{
	volatile uint8_t *r = pm->map(pm->ctx, base_pa, HPET_MMIO_SIZE, PHYSMAP_UNCACHED);
	if (!r)
		return 0;
	uint64_t cap = mmio_read64(r, HPET_CAP);
	uint32_t period = HPET_CAP_PERIOD(cap);
	uint64_t hz = 0;
	if (period != 0 && period <= HPET_MAX_PERIOD_FS) {
		uint64_t cfg = mmio_read64(r, HPET_CONFIG);
		if (!(cfg & HPET_CFG_ENABLE))
			mmio_write64(r, HPET_CONFIG, cfg | HPET_CFG_ENABLE);
		uint64_t mask = (cap & HPET_CAP_64BIT) ? ~0ull : 0xffffffffull;
		uint64_t want = TSC_CAL_MS * FS_PER_MS / period, ticks;
		/* Start on a tick edge, so the interval is whole ticks. */
		uint64_t h0 = mmio_read64(r, HPET_COUNTER) & mask, h1;
		while (((h1 = mmio_read64(r, HPET_COUNTER) & mask)) == h0)
			;
		uint64_t t0 = bootinfo_rdtsc();
		do
			ticks = ((mmio_read64(r, HPET_COUNTER) & mask) - h1) & mask;
		while (ticks < want);
		uint64_t t1 = bootinfo_rdtsc();
		uint64_t ns = ticks * period / FS_PER_NS; /* <= ~2 * 10^7 */
		if (ns)
			hz = plausible((t1 - t0) * NS_PER_SEC / ns);
	}
	pm->unmap(pm->ctx, (void *)r, HPET_MMIO_SIZE);
	return hz;
}

/* Calibrates against the ACPI PM timer at port (bits: 24 or 32).
 * Returns Hz, or 0. */
static uint64_t tsc_hz_pmtimer(uint16_t port, unsigned bits)
{
	uint32_t mask = bits == 32 ? 0xffffffffu : 0xffffffu;
	uint64_t want = PMTIMER_HZ * TSC_CAL_MS / 1000, ticks;
	uint32_t p0 = inl(port) & mask, p1;
	while ((p1 = inl(port) & mask) == p0)
		;
	uint64_t t0 = bootinfo_rdtsc();
	do
		ticks = ((inl(port) & mask) - p1) & mask;
	while (ticks < want);
	uint64_t t1 = bootinfo_rdtsc();
	return plausible((t1 - t0) * PMTIMER_HZ / ticks);
}

/* The measurement behind tsc_freq_find. */
static int tsc_freq_measure(const struct acpi *a, struct tsc_freq *out)
{
	out->hz = plausible(tsc_hz_cpuid());
	out->source = TSC_SRC_CPUID;
	if (out->hz)
		return 0;
	if (a && a->status == ACPI_OK) {
		struct acpi_hpet_info hpet;
		struct acpi_fadt_info fadt;
		if (acpi_get_hpet(a, &hpet) == ACPI_OK &&
		    (out->hz = tsc_hz_hpet(hpet.base_pa, a->pm))) {
			out->source = TSC_SRC_HPET;
			return 0;
		}
		if (acpi_get_fadt(a, &fadt) == ACPI_OK && fadt.pm_timer_port &&
		    fadt.pm_timer_port <= 0xffff &&
		    (out->hz = tsc_hz_pmtimer((uint16_t)fadt.pm_timer_port, fadt.pm_timer_bits))) {
			out->source = TSC_SRC_PMTIMER;
			return 0;
		}
	}
	out->hz = 0;
	out->source = TSC_SRC_NONE;
	return -1;
}

/* See tsc.h: the first frequency found is kept, so a second caller (the
 * SMP start's timeouts, then the boot timeline) pays no calibration. */
int tsc_freq_find(const struct acpi *a, struct tsc_freq *out)
{
	static struct tsc_freq known;
	if (known.hz) {
		*out = known;
		return 0;
	}
	int r = tsc_freq_measure(a, out);
	if (r == 0)
		known = *out;
	return r;
}
