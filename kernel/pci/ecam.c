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

/* Lists the functions of one bus mapped at bus; returns how many. */
static unsigned ecam_scan_bus(const volatile uint8_t *bus, unsigned busno)
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
			if (fn == 0 && !(mmio_read8(cfg, PCI_HEADER_TYPE) & PCI_MULTIFUNCTION))
				break;      /* single-function device */
		}
	}
	return found;
}

/* See ecam.h. */
unsigned pci_ecam_list(const struct acpi_mcfg_info *mcfg, const struct physmap *pm)
{
	unsigned total = 0;
	for (unsigned s = 0; s < mcfg->count; s++) {
		uint64_t base = mcfg->seg[s].base_pa;
		unsigned first = mcfg->seg[s].start_bus, last = mcfg->seg[s].end_bus, found = 0;
		kprintf("pci: ecam segment=%u base=0x%016llx buses=%02x-%02x\n",
			mcfg->seg[s].segment, (unsigned long long)base, first, last);
		for (unsigned b = first; b <= last; b++) {
			uint64_t pa = base + ((uint64_t)b << ECAM_BUS_SHIFT);
			const volatile uint8_t *bus = pm->map(pm->ctx, pa, ECAM_BUS_SIZE, PHYSMAP_UNCACHED);
			if (!bus) {
				kprintf("pci: cannot map bus %02x\n", b);
				continue;
			}
			found += ecam_scan_bus(bus, b);
			pm->unmap(pm->ctx, (void *)bus, ECAM_BUS_SIZE);
		}
		kprintf("pci: segment %u: %u functions\n", mcfg->seg[s].segment, found);
		total += found;
	}
	return total;
}
