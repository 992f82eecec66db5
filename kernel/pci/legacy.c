/*
 * kernel/pci/legacy.c - configuration mechanism #1 (interface and theory
 * in legacy.h).
 */
#include "kernel/pci/legacy.h"
#include "mm/lock.h"

/* Theory 3: the CONFIG_ADDRESS / CONFIG_DATA pair. */
static struct mm_lock pci_legacy_lock = MM_LOCK_INIT("pci cf8");

/* See legacy.h. */
uint32_t pci_legacy_addr(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	if (bus >= PCI_BUSES || dev >= PCI_DEVS || fn >= PCI_FNS || reg >= PCI_CFG_SIZE ||
	    (reg & ~PCI_ADDR_REG_MASK))
		return 0;
	return PCI_ADDR_ENABLE | (uint32_t)bus << PCI_ADDR_BUS_SHIFT |
	       (uint32_t)dev << PCI_ADDR_DEV_SHIFT | (uint32_t)fn << PCI_ADDR_FN_SHIFT | reg;
}

/* See legacy.h. */
int pci_legacy_present(const struct pci_ports *p)
{
	mm_lock(&pci_legacy_lock);
	uint32_t old = p->in32(p->ctx, PCI_CONFIG_ADDRESS);
	p->out32(p->ctx, PCI_CONFIG_ADDRESS, PCI_ADDR_ENABLE);
	int yes = p->in32(p->ctx, PCI_CONFIG_ADDRESS) == PCI_ADDR_ENABLE;
	p->out32(p->ctx, PCI_CONFIG_ADDRESS, old);
	mm_unlock(&pci_legacy_lock);
	return yes;
}

/* See legacy.h. */
uint32_t pci_legacy_read32(const struct pci_ports *p, unsigned bus, unsigned dev, unsigned fn,
			   unsigned reg)
{
	uint32_t addr = pci_legacy_addr(bus, dev, fn, reg);
	if (!addr)
		return ~0u;
	mm_lock(&pci_legacy_lock);
	p->out32(p->ctx, PCI_CONFIG_ADDRESS, addr);
	uint32_t v = p->in32(p->ctx, PCI_CONFIG_DATA);
	mm_unlock(&pci_legacy_lock);
	return v;
}

/* pci_cfg.read32 over the ports in ctx. */
static uint32_t legacy_cfg_read32(void *ctx, unsigned bus, unsigned dev, unsigned fn,
				  unsigned reg)
{
	return pci_legacy_read32(ctx, bus, dev, fn, reg);
}

/* See legacy.h. */
void pci_legacy_cfg(struct pci_cfg *c, const struct pci_ports *p)
{
	c->read32 = legacy_cfg_read32;
	c->bus_begin = 0;
	c->bus_end = 0;
	c->ctx = (void *)p;
}
