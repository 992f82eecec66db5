/*
 * kernel/pci/legacy.h - PCI configuration mechanism #1: the I/O ports
 * 0xCF8 (CONFIG_ADDRESS) and 0xCFC (CONFIG_DATA) of every PC chipset, the
 * way to configuration space on machines whose ACPI has no MCFG (QEMU
 * `pc`, i440FX).  PCI Local Bus Specification 3.0, 3.2.2.3.2.
 *
 * Portable, freestanding C: the ports are reached through a struct
 * pci_ports (the kernel's is outl/inl, kernel/pci/list.c; the host test's
 * a fake chipset that decodes the address itself).
 *
 * Theory of operation:
 *   1. A read is two port accesses: the 32-bit configuration address to
 *      0xCF8, then the dword from 0xCFC.  The address is
 *        bit 31 enable | bus 23:16 | device 15:11 | function 10:8 | register 7:2
 *      (bits 1:0 zero: only dword-aligned registers are read).
 *   2. The mechanism is present if 0xCF8 holds a written enable bit and
 *      reads it back (a port with nothing behind it reads all ones); the
 *      register's old value is put back.  A chipset of mechanism #2 (pre-
 *      1995) is not supported.
 *   3. The address/data pair is one piece of hardware shared by every CPU:
 *      a read holds the lock pci_legacy_lock from the address write to the
 *      data read, so two CPUs never interleave their pairs.
 *
 * LOCKING: pci_legacy_lock ("pci cf8") protects the CONFIG_ADDRESS /
 * CONFIG_DATA pair; it is a leaf lock (nothing is taken under it).
 */
#ifndef KERNEL_PCI_LEGACY_H
#define KERNEL_PCI_LEGACY_H

#include <stdint.h>
#include "kernel/pci/pci_cfg.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA    0xcfc
#define PCI_ADDR_ENABLE    0x80000000u /* bit 31 */
#define PCI_ADDR_BUS_SHIFT 16
#define PCI_ADDR_DEV_SHIFT 11
#define PCI_ADDR_FN_SHIFT  8
#define PCI_ADDR_REG_MASK  0xfcu       /* register 7:2 */

/* The machine's two ports, as 32-bit accesses. */
struct pci_ports {
	void (*out32)(void *ctx, uint16_t port, uint32_t v);
	uint32_t (*in32)(void *ctx, uint16_t port);
	void *ctx;
};

/* Returns the configuration address of register reg of bus:dev.fn
 * (theory 1), or 0 - never a valid address, bit 31 is clear - if bus >=
 * PCI_BUSES, dev >= PCI_DEVS, fn >= PCI_FNS, reg >= PCI_CFG_SIZE or reg is
 * not a multiple of 4. */
uint32_t pci_legacy_addr(unsigned bus, unsigned dev, unsigned fn, unsigned reg);

/* Returns 1 if mechanism #1 answers on p (theory 2), else 0.  Leaves
 * CONFIG_ADDRESS as it found it. */
int pci_legacy_present(const struct pci_ports *p);

/* Returns the dword at reg of bus:dev.fn through p (theory 1, 3), or
 * 0xffffffff - without touching the ports - for an address
 * pci_legacy_addr refuses. */
uint32_t pci_legacy_read32(const struct pci_ports *p, unsigned bus, unsigned dev, unsigned fn,
			   unsigned reg);

/* Makes *c the access method "mechanism #1 through p" for pci_walk (p
 * must outlive c). */
void pci_legacy_cfg(struct pci_cfg *c, const struct pci_ports *p);

#endif
