/*
 * kernel/acpi/demo.c - the ACPI demos (interface and output in demo.h):
 * list every table, decode MADT and FADT, read the HPET's registers and
 * list PCI through ECAM (kernel/pci/ecam.c).  Every mapping is counted
 * here, and at the end the demo checks that all of them were undone and
 * that the caller's mapping window is back where it started.
 */
#include "kernel/acpi/acpi.h"
#include "kernel/acpi/demo.h"
#include "kernel/acpi/hpet_regs.h"
#include "kernel/arch/io.h"
#include "kernel/console/console.h"
#include "kernel/pci/ecam.h"
#include "kernel/pci/list.h"
#include "shared/bootinfo.h"

/* ---------------------------------------------------------------- counting */

struct counting {
	const struct physmap *inner;
	unsigned maps, unmaps, failed;
};

static void *count_map(void *ctx, uint64_t pa, uint64_t size, unsigned flags)
{
	struct counting *c = ctx;
	void *va = c->inner->map(c->inner->ctx, pa, size, flags);
	if (va)
		c->maps++;
	else
		c->failed++;
	return va;
}

static void count_unmap(void *ctx, void *va, uint64_t size)
{
	struct counting *c = ctx;
	c->unmaps++;
	c->inner->unmap(c->inner->ctx, va, size);
}

/* ---------------------------------------------------------------- HPET */

#define FS_PER_SEC           1000000000000000ull
/* Counter reads after the first before a counter that has not moved is
 * called stopped: a 10 MHz or faster HPET moves within a few reads (each
 * is an uncached MMIO access, ~1 us on hardware). */
#define HPET_MAX_READS       100000

static void hpet_demo(const struct acpi *a, const struct physmap *h)
{
	struct acpi_hpet_info info;
	enum acpi_status st = acpi_get_hpet(a, &info);
	if (st != ACPI_OK) {
		kprintf("hpet: no usable HPET table: %s\n", acpi_status_str(st));
		return;
	}
	volatile uint8_t *r = h->map(h->ctx, info.base_pa, HPET_MMIO_SIZE, PHYSMAP_UNCACHED);
	if (!r) {
		kprintf("hpet: cannot map 0x%016llx\n", (unsigned long long)info.base_pa);
		return;
	}
	uint64_t cap = mmio_read64(r, HPET_CAP);
	uint32_t period = HPET_CAP_PERIOD(cap);
	int wide = (cap & HPET_CAP_64BIT) != 0;
	if (period == 0 || period > HPET_MAX_PERIOD_FS) {
		kprintf("hpet: capabilities 0x%016llx: period %u fs out of range, not an HPET\n",
			(unsigned long long)cap, period);
		h->unmap(h->ctx, (void *)r, HPET_MMIO_SIZE);
		return;
	}
	kprintf("hpet: base=0x%016llx vendor=%04x rev=%u timers=%u 64-bit=%s period=%u fs freq=%llu Hz\n",
		(unsigned long long)info.base_pa, HPET_CAP_VENDOR(cap), HPET_CAP_REV(cap),
		HPET_CAP_TIMERS(cap), wide ? "yes" : "no", period,
		(unsigned long long)(FS_PER_SEC / period));

	uint64_t cfg = mmio_read64(r, HPET_CONFIG);
	if (!(cfg & HPET_CFG_ENABLE)) {
		kprintf("hpet: counter was halted; enabling it\n");
		mmio_write64(r, HPET_CONFIG, cfg | HPET_CFG_ENABLE);
	}
	uint64_t mask = wide ? ~0ull : 0xffffffffull;
	uint64_t t0 = mmio_read64(r, HPET_COUNTER) & mask, t1 = t0;
	for (unsigned i = 0; i < HPET_MAX_READS && t1 == t0; i++)
		t1 = mmio_read64(r, HPET_COUNTER) & mask;
	uint64_t ticks = (t1 - t0) & mask;
	uint64_t ns = ticks < ~0ull / period ? ticks * period / 1000000 : ~0ull;
	kprintf("hpet: counter 0x%016llx -> 0x%016llx (+%llu ticks, %llu ns): %s\n",
		(unsigned long long)t0, (unsigned long long)t1, (unsigned long long)ticks,
		(unsigned long long)ns, ticks ? "advancing" : "NOT advancing");
	h->unmap(h->ctx, (void *)r, HPET_MMIO_SIZE);
}

/* ---------------------------------------------------------------- PCI */

/* Lists PCI through the ECAM windows of the MCFG, or through the legacy
 * ports where there is none (QEMU pc). */
static void pci_demo(const struct acpi *a, const struct physmap *h)
{
	static struct acpi_mcfg_info mcfg;
	enum acpi_status st = acpi_get_mcfg(a, &mcfg);
	if (st != ACPI_OK) {
		kprintf("pci: no usable MCFG (%s): no ECAM listing\n", acpi_status_str(st));
		pci_legacy_list();
		return;
	}
	if (mcfg.warning != ACPI_OK)
		kprintf("pci: MCFG %s: trailing bytes ignored\n", acpi_status_str(mcfg.warning));
	pci_ecam_list(&mcfg, h);
	if (mcfg.skipped)
		kprintf("pci: %u MCFG allocations skipped (bad bus range or base)\n", mcfg.skipped);
}

/* ---------------------------------------------------------------- main */

/* The demos proper, once the table list is known. */
static void run_demos(const struct acpi *a, const struct physmap *h)
{
	static struct acpi_madt_info madt;
	struct acpi_fadt_info fadt;

	enum acpi_status st = acpi_get_madt(a, &madt);
	if (st == ACPI_OK)
		acpi_madt_print(&madt);
	else
		kprintf("acpi: MADT: %s (offset %u)\n", acpi_status_str(st), madt.bad_offset);

	st = acpi_get_fadt(a, &fadt);
	if (st == ACPI_OK) {
		acpi_fadt_print(&fadt);
		const struct acpi_table_info *d = acpi_find(a, "DSDT", 0);
		if (d && d->pa == fadt.dsdt_pa)
			kprintf("acpi: DSDT from FADT %s: len=%u rev=%u checksum=ok\n",
				fadt.x_dsdt ? "X_DSDT" : "DSDT", d->length, d->revision);
		else
			kprintf("acpi: DSDT at 0x%016llx not usable\n", (unsigned long long)fadt.dsdt_pa);
	} else {
		kprintf("acpi: FADT: %s\n", acpi_status_str(st));
	}

	hpet_demo(a, h);
	pci_demo(a, h);
}

/* See demo.h. */
void acpi_demo_run(const struct bootinfo *bi, const struct acpi *acpi, const struct physmap *pm)
{
	/* The parse, reaching memory through the counting physmap. */
	static struct acpi a;
	struct counting cnt = { .inner = pm };
	struct physmap h = { count_map, count_unmap, 0, &cnt };
	uint64_t window0 = pm->window_used ? pm->window_used(pm->ctx) : 0;

	if (!(bi->flags & BOOTINFO_F_RSDP)) {
		kprintf("acpi: the loader found no RSDP\n");
		return;
	}
	acpi_report(acpi);
	a = *acpi;
	a.pm = &h;
	if (a.status == ACPI_OK)
		run_demos(&a, &h);

	uint64_t window1 = pm->window_used ? pm->window_used(pm->ctx) : 0;
	unsigned live = cnt.maps - cnt.unmaps;
	kprintf("acpi: demo mappings: maps=%u unmaps=%u live=%u window before=%llu after=%llu: %s\n",
		cnt.maps, cnt.unmaps, live, (unsigned long long)window0,
		(unsigned long long)window1, live == 0 && window0 == window1 ? "ok" : "LEAK");
}
