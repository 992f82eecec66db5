/*
 * kernel/pci/ecam.h - PCI configuration space through ECAM (the memory
 * window the ACPI MCFG table describes), and the kernel's listing of every
 * PCI function found there.  Kernel only (prints with kprintf).
 *
 * ECAM (PCI Express Base Specification, 7.2.2): function fn of device dev
 * on bus b has 4 KiB of configuration space at
 *   base + (b << ECAM_BUS_SHIFT | dev << ECAM_DEV_SHIFT | fn << ECAM_FN_SHIFT),
 * so one bus is 1 MiB.  The listing maps, uncached, one 4 KiB page per
 * bus to see whether device 0 answers there, and then one listed bus at a
 * time (1 MiB).  The bus walk itself is the one every access method
 * shares (kernel/pci/pci_cfg.h); this file gives it an ECAM struct pci_cfg.
 *
 * Output:
 *   pci: ecam segment=<n> base=0x<16 hex> buses=<2 hex>-<2 hex>
 *   pci: <bus>:<dev>.<fn> <vendor>:<device> class=<class>   (kernel/pci/list.h)
 *   pci: segment <n>: <count> functions
 */
#ifndef KERNEL_PCI_ECAM_H
#define KERNEL_PCI_ECAM_H

#include <stdint.h>
#include "kernel/acpi/acpi.h"
#include "kernel/mem/physmap.h"
#include "kernel/pci/pci_cfg.h"

#define ECAM_BUS_SHIFT  20
#define ECAM_DEV_SHIFT  15
#define ECAM_FN_SHIFT   12
#define ECAM_BUS_SIZE   (1ull << ECAM_BUS_SHIFT)

#define ECAM_FN_SIZE      (1ull << ECAM_FN_SHIFT)

/* Lists every PCI function of the buses of every usable MCFG allocation in
 * mcfg, mapping through pm (PHYSMAP_UNCACHED) and unmapping before the
 * next.  Listed: the allocation's first bus, every bus of its range where
 * function 0 of device 0 answers (a host bridge, a PCIe port's link: the
 * probe maps one 4 KiB page per bus, not the bus's 1 MiB), and every bus a
 * PCI-to-PCI bridge on a listed bus names as its secondary bus (a
 * conventional PCI bus with no device 0).  Not listed: a bus whose
 * devices all sit above device 0 and that no bridge leads to - a peer root
 * bus only ACPI's namespace describes.  Returns the number of functions. */
unsigned pci_ecam_list(const struct acpi_mcfg_info *mcfg, const struct physmap *pm);

#endif
