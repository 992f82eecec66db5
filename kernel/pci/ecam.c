/*
 * kernel/pci/ecam.c - listing PCI functions through ECAM (see ecam.h).
 */
#include "kernel/arch/io.h"
#include "kernel/console/console.h"
#include "kernel/pci/ecam.h"
#include "kernel/pci/list.h"

/* Returns the offset of function fn of device dev inside its bus's window. */
static uint64_t ecam_fn_off(unsigned dev, unsigned fn)
{
	return ((uint64_t)dev << ECAM_DEV_SHIFT) | ((uint64_t)fn << ECAM_FN_SHIFT);
}

/* One ECAM allocation as a pci_cfg: the bus being scanned is mapped whole. */
struct ecam {
	uint64_t base;                   /* physical address of bus 0's window */
	const struct physmap *pm;
	const volatile uint8_t *bus_va;  /* the mapped bus, or NULL */
};

/* pci_cfg.bus_begin: maps bus b's 1 MiB uncached. */
static int ecam_bus_begin(void *ctx, unsigned b)
{
	struct ecam *e = ctx;
	uint64_t pa = e->base + ((uint64_t)b << ECAM_BUS_SHIFT);
	e->bus_va = e->pm->map(e->pm->ctx, pa, ECAM_BUS_SIZE, PHYSMAP_UNCACHED);
	if (!e->bus_va) {
		kprintf("pci: cannot map bus %02x\n", b);
		return -1;
	}
	return 0;
}

/* pci_cfg.bus_end: unmaps the bus bus_begin mapped. */
static void ecam_bus_end(void *ctx, unsigned b)
{
	struct ecam *e = ctx;
	(void)b;
	e->pm->unmap(e->pm->ctx, (void *)e->bus_va, ECAM_BUS_SIZE);
	e->bus_va = 0;
}

/* pci_cfg.read32: the walk reads only the bus it has begun. */
static uint32_t ecam_read32(void *ctx, unsigned b, unsigned dev, unsigned fn, unsigned reg)
{
	struct ecam *e = ctx;
	(void)b;
	return mmio_read32(e->bus_va + ecam_fn_off(dev, fn), reg);
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

/* See ecam.h. */
unsigned pci_ecam_list(const struct acpi_mcfg_info *mcfg, const struct physmap *pm)
{
	unsigned total = 0;
	for (unsigned s = 0; s < mcfg->count; s++) {
		struct ecam e = { mcfg->seg[s].base_pa, pm, 0 };
		struct pci_cfg c = { ecam_read32, ecam_bus_begin, ecam_bus_end, &e };
		unsigned first = mcfg->seg[s].start_bus, last = mcfg->seg[s].end_bus;
		struct pci_bus_set want = { { 0 } };
		kprintf("pci: ecam segment=%u base=0x%016llx buses=%02x-%02x\n",
			mcfg->seg[s].segment, (unsigned long long)e.base, first, last);
		pci_bus_add(&want, first);
		for (unsigned b = first + 1; b <= last; b++)
			if (bus_answers(e.base, b, pm))
				pci_bus_add(&want, b);
		unsigned found = pci_walk(&c, first, last, &want, pci_print_fn, 0);
		kprintf("pci: segment %u: %u functions\n", mcfg->seg[s].segment, found);
		total += found;
	}
	return total;
}
