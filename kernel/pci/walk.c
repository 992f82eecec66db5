/*
 * kernel/pci/walk.c - the bus walk shared by every configuration access
 * method (interface and theory in pci_cfg.h).
 */
#include "kernel/pci/pci_cfg.h"

/* See pci_cfg.h. */
int pci_bus_has(const struct pci_bus_set *s, unsigned b)
{
	return (s->bits[b / 64] >> (b % 64)) & 1;
}

/* See pci_cfg.h. */
void pci_bus_add(struct pci_bus_set *s, unsigned b)
{
	s->bits[b / 64] |= 1ULL << (b % 64);
}

/* Reads function fn of dev on bus into *f; returns 1 if it answers (a
 * vendor other than 0xffff and 0x0000: theory 3). */
static int read_fn(const struct pci_cfg *c, unsigned bus, unsigned dev, unsigned fn,
		   struct pci_fn *f)
{
	uint32_t id = c->read32(c->ctx, bus, dev, fn, PCI_VENDOR);
	if ((id & 0xffff) == PCI_VENDOR_NONE || (id & 0xffff) == PCI_VENDOR_ZERO)
		return 0;
	f->bus = (uint8_t)bus;
	f->dev = (uint8_t)dev;
	f->fn = (uint8_t)fn;
	f->vendor = (uint16_t)id;
	f->device = (uint16_t)(id >> 16);
	f->class = c->read32(c->ctx, bus, dev, fn, PCI_CLASS_REV) >> 8;
	f->header = (uint8_t)(c->read32(c->ctx, bus, dev, fn, PCI_HEADER_DWORD) >> PCI_HEADER_SHIFT);
	f->secondary = 0;
	if ((f->header & PCI_HEADER_LAYOUT) == PCI_HEADER_BRIDGE)
		f->secondary = (uint8_t)(c->read32(c->ctx, bus, dev, fn, PCI_BUS_DWORD) >>
					 PCI_SECONDARY_SHIFT);
	return 1;
}

/* Lists the functions of one bus (theory 3), marking in want the
 * secondary buses of its bridges that lie in [first, last].  Returns the
 * number of functions. */
static unsigned scan_bus(const struct pci_cfg *c, unsigned bus, unsigned first, unsigned last,
			 struct pci_bus_set *want, pci_visit_fn visit, void *arg)
{
	unsigned found = 0;
	for (unsigned dev = 0; dev < PCI_DEVS; dev++) {
		for (unsigned fn = 0; fn < PCI_FNS; fn++) {
			struct pci_fn f;
			if (!read_fn(c, bus, dev, fn, &f)) {
				if (fn == 0)
					break;      /* no device: skip its functions */
				continue;
			}
			visit(arg, &f);
			found++;
			if ((f.header & PCI_HEADER_LAYOUT) == PCI_HEADER_BRIDGE &&
			    f.secondary >= first && f.secondary <= last)
				pci_bus_add(want, f.secondary);
			if (fn == 0 && !(f.header & PCI_MULTIFUNCTION))
				break;      /* single-function device */
		}
	}
	return found;
}

/* See pci_cfg.h. */
unsigned pci_walk(const struct pci_cfg *c, unsigned first, unsigned last,
		  struct pci_bus_set *want, pci_visit_fn visit, void *arg)
{
	struct pci_bus_set done = { { 0 } };
	unsigned found = 0;
	if (first > last || last >= PCI_BUSES)
		return 0;
	for (int again = 1; again;) {
		again = 0;
		for (unsigned b = first; b <= last; b++) {
			if (!pci_bus_has(want, b) || pci_bus_has(&done, b))
				continue;
			pci_bus_add(&done, b);
			if (c->bus_begin && c->bus_begin(c->ctx, b) != 0)
				continue;
			found += scan_bus(c, b, first, last, want, visit, arg);
			if (c->bus_end)
				c->bus_end(c->ctx, b);
			for (unsigned x = first; x < b && !again; x++)
				again = pci_bus_has(want, x) && !pci_bus_has(&done, x);
		}
	}
	return found;
}
