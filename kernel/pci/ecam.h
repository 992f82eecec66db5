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
 * time (1 MiB).
 *
 * Output:
 *   pci: ecam segment=<n> base=0x<16 hex> buses=<2 hex>-<2 hex>
 *   pci: <bus 2 hex>:<dev 2 hex>.<fn 1 digit> <vendor 4 hex>:<device 4 hex> class=<6 hex>
 *        class = base class << 16 | subclass << 8 | prog-if, e.g. 060000 host bridge
 *   pci: segment <n>: <count> functions
 */
#ifndef KERNEL_PCI_ECAM_H
#define KERNEL_PCI_ECAM_H

#include <stdint.h>
#include "kernel/acpi/acpi.h"
#include "kernel/mem/physmap.h"

#define ECAM_BUS_SHIFT  20
#define ECAM_DEV_SHIFT  15
#define ECAM_FN_SHIFT   12
#define ECAM_BUS_SIZE   (1ull << ECAM_BUS_SHIFT)

#define PCI_DEVS          32     /* devices per bus */
#define PCI_FNS           8      /* functions per device */
#define PCI_VENDOR        0x00   /* 16 bits; 0xffff = nothing there */
#define PCI_VENDOR_NONE   0xffff
#define PCI_DEVICE        0x02
#define PCI_CLASS_REV     0x08   /* revision 7:0, prog-if 15:8, subclass 23:16, class 31:24 */
#define PCI_HEADER_TYPE   0x0e   /* bit 7: multi-function device; 6:0 layout */
#define PCI_HEADER_LAYOUT 0x7f
#define PCI_HEADER_BRIDGE 0x01   /* layout 1: PCI-to-PCI bridge */
#define PCI_SECONDARY_BUS 0x19   /* bridges: the bus behind them */
#define PCI_BUSES         256    /* bus numbers in a segment */
#define ECAM_FN_SIZE      (1ull << ECAM_FN_SHIFT)
#define PCI_MULTIFUNCTION 0x80

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
