/*
 * kernel/acpi/demo.c - the ACPI demos of issue 5, kernel only: list every
 * table, decode MADT and FADT, read the HPET's registers and walk PCI
 * configuration space through ECAM.  Physical memory is reached only
 * through the struct acpi_host the caller passes in (mem_map_addr in
 * kmain); every mapping is counted here, and at the end the demo checks
 * that all of them were undone and that the caller's mapping window is back
 * where it started.
 *
 * Output formats (besides kernel/acpi/acpi.c's table lines):
 *   hpet: base=0x<16 hex> vendor=<4 hex> rev=<n> timers=<n> 64-bit=<yes|no> period=<fs> fs freq=<Hz> Hz
 *   hpet: counter was halted; enabling it      (OVMF leaves it halted; it stays on)
 *   hpet: counter 0x<16 hex> -> 0x<16 hex> (+<ticks> ticks, <ns> ns): advancing
 *   pci: ecam segment=<n> base=0x<16 hex> buses=<2 hex>-<2 hex>   (no MCFG, e.g. pc: no listing)
 *   pci: <bus 2 hex>:<dev 2 hex>.<fn 1 digit> <vendor 4 hex>:<device 4 hex> class=<6 hex>
 *        class = base class << 16 | subclass << 8 | prog-if, e.g. 060000 host bridge
 *   acpi: demo mappings: maps=<n> unmaps=<n> live=<n> window before=<n> after=<n>: <ok|LEAK>
 */
#include "kernel/acpi/acpi.h"
#include "kernel/console/console.h"
#include "shared/bootinfo.h"

/* ---------------------------------------------------------------- counting */

struct counting {
	const struct acpi_host *inner;
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

/* Register offsets and fields (IA-PC HPET spec 1.0a, 2.3). */
#define HPET_MMIO_SIZE   0x400   /* the register block is 1 KiB */
#define HPET_CAP         0x000
#define HPET_CONFIG      0x010
#define HPET_COUNTER     0x0f0
#define HPET_CAP_REV(c)      ((unsigned)((c) & 0xff))
#define HPET_CAP_TIMERS(c)   ((unsigned)(((c) >> 8) & 0x1f) + 1)
#define HPET_CAP_64BIT       (1ull << 13)
#define HPET_CAP_VENDOR(c)   ((unsigned)(((c) >> 16) & 0xffff))
#define HPET_CAP_PERIOD(c)   ((uint32_t)((c) >> 32))   /* femtoseconds per tick */
#define HPET_CFG_ENABLE      (1ull << 0)
/* The spec caps the period at 100 ns: a larger (or zero) value is not an
 * HPET. */
#define HPET_MAX_PERIOD_FS   100000000u
#define FS_PER_SEC           1000000000000000ull
/* Busy-wait between the two counter reads: long enough for a 10 MHz or
 * faster counter to move, short enough not to be noticed. */
#define HPET_SPIN            200000

static uint64_t mmio_read64(const volatile uint8_t *base, unsigned off)
{
	return *(const volatile uint64_t *)(base + off);
}

static void mmio_write64(volatile uint8_t *base, unsigned off, uint64_t v)
{
	*(volatile uint64_t *)(base + off) = v;
}

static void hpet_demo(const struct acpi *a, const struct acpi_host *h)
{
	struct acpi_hpet_info info;
	enum acpi_status st = acpi_get_hpet(a, &info);
	if (st != ACPI_OK) {
		kprintf("hpet: no usable HPET table: %s\n", acpi_status_str(st));
		return;
	}
	volatile uint8_t *r = h->map(h->ctx, info.base_pa, HPET_MMIO_SIZE, ACPI_MAP_UNCACHED);
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
	uint64_t t0 = mmio_read64(r, HPET_COUNTER) & mask;
	for (volatile unsigned i = 0; i < HPET_SPIN; i++)
		;
	uint64_t t1 = mmio_read64(r, HPET_COUNTER) & mask;
	uint64_t ticks = (t1 - t0) & mask;
	uint64_t ns = ticks < ~0ull / period ? ticks * period / 1000000 : ~0ull;
	kprintf("hpet: counter 0x%016llx -> 0x%016llx (+%llu ticks, %llu ns): %s\n",
		(unsigned long long)t0, (unsigned long long)t1, (unsigned long long)ticks,
		(unsigned long long)ns, ticks ? "advancing" : "NOT advancing");
	h->unmap(h->ctx, (void *)r, HPET_MMIO_SIZE);
}

/* ---------------------------------------------------------------- PCI */

/* Configuration space through ECAM (PCI Express base spec 7.2.2): each
 * function has 4 KiB at base + (bus << 20 | dev << 15 | fn << 12); a bus
 * is 1 MiB, mapped one at a time. */
#define ECAM_BUS_SIZE   (1ull << 20)
#define ECAM_FN_OFF(dev, fn) (((uint64_t)(dev) << 15) | ((uint64_t)(fn) << 12))
#define PCI_DEVS        32
#define PCI_FNS         8
#define PCI_VENDOR      0x00   /* 16 bits; 0xffff = nothing there */
#define PCI_DEVICE      0x02
#define PCI_CLASS_REV   0x08   /* revision 7:0, prog-if 15:8, subclass 23:16, class 31:24 */
#define PCI_HEADER_TYPE 0x0e   /* bit 7: multi-function device */
#define PCI_MULTIFUNCTION 0x80

static uint32_t cfg_read32(const volatile uint8_t *bus, unsigned dev, unsigned fn, unsigned off)
{
	return *(const volatile uint32_t *)(bus + ECAM_FN_OFF(dev, fn) + off);
}

static uint8_t cfg_read8(const volatile uint8_t *bus, unsigned dev, unsigned fn, unsigned off)
{
	return *(bus + ECAM_FN_OFF(dev, fn) + off);
}

/* Lists the functions of one bus; returns how many. */
static unsigned pci_scan_bus(const volatile uint8_t *bus, unsigned busno)
{
	unsigned found = 0;
	for (unsigned dev = 0; dev < PCI_DEVS; dev++) {
		for (unsigned fn = 0; fn < PCI_FNS; fn++) {
			uint32_t id = cfg_read32(bus, dev, fn, PCI_VENDOR);
			if ((id & 0xffff) == 0xffff) {
				if (fn == 0)
					break;      /* no device: skip its functions */
				continue;
			}
			uint32_t cls = cfg_read32(bus, dev, fn, PCI_CLASS_REV) >> 8;
			kprintf("pci: %02x:%02x.%u %04x:%04x class=%06x\n", busno, dev, fn,
				id & 0xffff, id >> 16, cls);
			found++;
			if (fn == 0 && !(cfg_read8(bus, dev, 0, PCI_HEADER_TYPE) & PCI_MULTIFUNCTION))
				break;      /* single-function device */
		}
	}
	return found;
}

static void pci_demo(const struct acpi *a, const struct acpi_host *h)
{
	static struct acpi_mcfg_info mcfg;
	enum acpi_status st = acpi_get_mcfg(a, &mcfg);
	if (st != ACPI_OK) {
		kprintf("pci: no usable MCFG (%s): no ECAM listing\n", acpi_status_str(st));
		return;
	}
	if (mcfg.warning != ACPI_OK)
		kprintf("pci: MCFG %s: trailing bytes ignored\n", acpi_status_str(mcfg.warning));
	for (unsigned s = 0; s < mcfg.count; s++) {
		uint64_t base = mcfg.seg[s].base_pa;
		unsigned first = mcfg.seg[s].start_bus, last = mcfg.seg[s].end_bus, found = 0;
		kprintf("pci: ecam segment=%u base=0x%016llx buses=%02x-%02x\n",
			mcfg.seg[s].segment, (unsigned long long)base, first, last);
		/* Every bus in the range is probed (no bridge walk): simple, and it
		 * also finds buses behind extra host bridges. */
		for (unsigned b = first; b <= last; b++) {
			const volatile uint8_t *bus =
				h->map(h->ctx, base + ((uint64_t)b << 20), ECAM_BUS_SIZE, ACPI_MAP_UNCACHED);
			if (!bus) {
				kprintf("pci: cannot map bus %02x\n", b);
				continue;
			}
			found += pci_scan_bus(bus, b);
			h->unmap(h->ctx, (void *)bus, ECAM_BUS_SIZE);
		}
		kprintf("pci: segment %u: %u functions\n", mcfg.seg[s].segment, found);
	}
	if (mcfg.skipped)
		kprintf("pci: %u MCFG allocations skipped (bad bus range or base)\n", mcfg.skipped);
}

/* ---------------------------------------------------------------- main */

/* The demos proper, once the table list is known. */
static void run_demos(const struct acpi *a, const struct acpi_host *h)
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

void acpi_demo_run(const struct bootinfo *bi, const struct acpi_host *host)
{
	static struct acpi a;
	struct counting cnt = { .inner = host };
	struct acpi_host h = { count_map, count_unmap, 0, &cnt };
	uint64_t window0 = host->window_used ? host->window_used(host->ctx) : 0;

	if (!(bi->flags & BOOTINFO_F_RSDP)) {
		kprintf("acpi: the loader found no RSDP\n");
		return;
	}
	if (acpi_init(&a, &h, bi->rsdp_pa) == ACPI_OK)
		run_demos(&a, &h);

	uint64_t window1 = host->window_used ? host->window_used(host->ctx) : 0;
	unsigned live = cnt.maps - cnt.unmaps;
	kprintf("acpi: demo mappings: maps=%u unmaps=%u live=%u window before=%llu after=%llu: %s\n",
		cnt.maps, cnt.unmaps, live, (unsigned long long)window0,
		(unsigned long long)window1, live == 0 && window0 == window1 ? "ok" : "LEAK");
}
