/*
 * kernel/pci/ecam.c - listing PCI functions through ECAM (see ecam.h).
 */
#include "kernel/arch/io.h"
#include "kernel/console/console.h"
#include "kernel/pci/ecam.h"

/* Returns the offset of function fn of device dev inside its bus's window. */
static uint64_t ecam_fn_off(unsigned dev, unsigned fn)
{
	return ((uint64_t)dev << ECAM_DEV_SHIFT) | ((uint64_t)fn << ECAM_FN_SHIFT);
}

/* Buses of one ECAM allocation to list: a bit per bus number. */
struct bus_set {
	uint64_t bits[PCI_BUSES / 64];
};

static int bus_wanted(const struct bus_set *w, unsigned b)
{
	return (w->bits[b / 64] >> (b % 64)) & 1;
}

static void bus_want(struct bus_set *w, unsigned b)
{
	w->bits[b / 64] |= 1ULL << (b % 64);
}

/* Lists the functions of one bus mapped at bus and marks in w the
 * secondary buses of its PCI-to-PCI bridges that lie in [first, last].
 * Returns the number of functions listed. */
static unsigned ecam_scan_bus(const volatile uint8_t *bus, unsigned busno, unsigned first,
			      unsigned last, struct bus_set *w)
{
	unsigned found = 0;
	for (unsigned dev = 0; dev < PCI_DEVS; dev++) {
		for (unsigned fn = 0; fn < PCI_FNS; fn++) {
			const volatile uint8_t *cfg = bus + ecam_fn_off(dev, fn);
			uint32_t id = mmio_read32(cfg, PCI_VENDOR);
			if ((id & 0xffff) == PCI_VENDOR_NONE) {
				if (fn == 0)
					break;      /* no device: skip its functions */
				continue;
			}
			uint32_t cls = mmio_read32(cfg, PCI_CLASS_REV) >> 8;
			kprintf("pci: %02x:%02x.%u %04x:%04x class=%06x\n", busno, dev, fn,
				id & 0xffff, id >> 16, cls);
			found++;
			uint8_t ht = mmio_read8(cfg, PCI_HEADER_TYPE);
			if ((ht & PCI_HEADER_LAYOUT) == PCI_HEADER_BRIDGE) {
				unsigned sec = mmio_read8(cfg, PCI_SECONDARY_BUS);
				if (sec >= first && sec <= last)
					bus_want(w, sec);
			}
			if (fn == 0 && !(ht & PCI_MULTIFUNCTION))
				break;      /* single-function device */
		}
	}
	return found;
}

/* Returns 1 if function 0 of device 0 answers on bus b (one 4 KiB page
 * mapped and read); 0 if not or if the page cannot be mapped. */
static int bus_answers(uint64_t base, unsigned b, const struct physmap *pm)
{
	uint64_t pa = base + ((uint64_t)b << ECAM_BUS_SHIFT);
	const volatile uint8_t *cfg = pm->map(pm->ctx, pa, ECAM_FN_SIZE, PHYSMAP_UNCACHED);
	if (!cfg)
		return 0;
	int yes = (mmio_read32(cfg, PCI_VENDOR) & 0xffff) != PCI_VENDOR_NONE;
	pm->unmap(pm->ctx, (void *)cfg, ECAM_FN_SIZE);
	return yes;
}

/* Lists bus b (mapped whole) and marks in w the secondary buses of the
 * PCI-to-PCI bridges on it that lie in [first, last].  Returns the number
 * of functions listed. */
static unsigned list_bus(uint64_t base, unsigned b, unsigned first, unsigned last,
			 struct bus_set *w, const struct physmap *pm)
{
	uint64_t pa = base + ((uint64_t)b << ECAM_BUS_SHIFT);
	const volatile uint8_t *bus = pm->map(pm->ctx, pa, ECAM_BUS_SIZE, PHYSMAP_UNCACHED);
	if (!bus) {
		kprintf("pci: cannot map bus %02x\n", b);
		return 0;
	}
	unsigned found = ecam_scan_bus(bus, b, first, last, w);
	pm->unmap(pm->ctx, (void *)bus, ECAM_BUS_SIZE);
	return found;
}

/* See ecam.h. */
unsigned pci_ecam_list(const struct acpi_mcfg_info *mcfg, const struct physmap *pm)
{
	unsigned total = 0;
	for (unsigned s = 0; s < mcfg->count; s++) {
		uint64_t base = mcfg->seg[s].base_pa;
		unsigned first = mcfg->seg[s].start_bus, last = mcfg->seg[s].end_bus, found = 0;
		struct bus_set want = { { 0 } }, done = { { 0 } };
		kprintf("pci: ecam segment=%u base=0x%016llx buses=%02x-%02x\n",
			mcfg->seg[s].segment, (unsigned long long)base, first, last);
		bus_want(&want, first);
		for (unsigned b = first + 1; b <= last; b++)
			if (bus_answers(base, b, pm))
				bus_want(&want, b);
		/* In bus order; a bridge naming a lower bus (firmware may) starts
		 * another pass.  Each bus is listed once: at most 256 passes. */
		for (int again = 1; again;) {
			again = 0;
			for (unsigned b = first; b <= last; b++) {
				if (!bus_wanted(&want, b) || bus_wanted(&done, b))
					continue;
				bus_want(&done, b);
				found += list_bus(base, b, first, last, &want, pm);
				for (unsigned x = first; x < b && !again; x++)
					again = bus_wanted(&want, x) && !bus_wanted(&done, x);
			}
		}
		kprintf("pci: segment %u: %u functions\n", mcfg->seg[s].segment, found);
		total += found;
	}
	return total;
}
