/*
 * kernel/pci/list.c - the `pci:` function lines and the listing through
 * the legacy ports (interface and output in list.h).
 */
#include "kernel/arch/io.h"
#include "kernel/console/console.h"
#include "kernel/pci/legacy.h"
#include "kernel/pci/list.h"

/* The segment mechanism #1 reaches: the only one a PC has without MCFG. */
#define PCI_LEGACY_SEGMENT 0

/* See list.h. */
void pci_print_fn(void *arg, const struct pci_fn *f)
{
	(void)arg;
	kprintf("pci: %02x:%02x.%u %04x:%04x class=%06x\n", f->bus, f->dev, f->fn, f->vendor,
		f->device, f->class);
}

/* pci_ports.out32: the real port. */
static void port_out32(void *ctx, uint16_t port, uint32_t v)
{
	(void)ctx;
	outl(port, v);
}

/* pci_ports.in32: the real port. */
static uint32_t port_in32(void *ctx, uint16_t port)
{
	(void)ctx;
	return inl(port);
}

static const struct pci_ports machine_ports = { port_out32, port_in32, 0 };

/* See list.h. */
unsigned pci_legacy_list(void)
{
	struct pci_cfg c;
	struct pci_bus_set want = { { 0 } };
	if (!pci_legacy_present(&machine_ports)) {
		kprintf("pci: no legacy config ports (0x%x does not hold its enable bit): no PCI listing\n",
			PCI_CONFIG_ADDRESS);
		return 0;
	}
	kprintf("pci: legacy config ports 0x%x/0x%x: buses %02x-%02x\n", PCI_CONFIG_ADDRESS,
		PCI_CONFIG_DATA, 0, PCI_BUSES - 1);
	pci_legacy_cfg(&c, &machine_ports);
	pci_bus_add(&want, 0);
	unsigned found = pci_walk(&c, 0, PCI_BUSES - 1, &want, pci_print_fn, 0);
	kprintf("pci: segment %u: %u functions\n", PCI_LEGACY_SEGMENT, found);
	return found;
}
