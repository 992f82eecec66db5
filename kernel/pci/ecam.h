/*
 * kernel/pci/ecam.h - PCI configuration space through ECAM (the memory
 * window the ACPI MCFG table describes), and the kernel's listing of every
 * PCI function found there.  Kernel only (prints with kprintf).
 *
 * ECAM (PCI Express Base Specification, 7.2.2): function fn of device dev
 * on bus b has 4 KiB of configuration space at
 *   base + (b << ECAM_BUS_SHIFT | dev << ECAM_DEV_SHIFT | fn << ECAM_FN_SHIFT),
 * so one bus is 1 MiB; the listing maps one bus at a time, uncached.
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
#define PCI_HEADER_TYPE   0x0e   /* bit 7: multi-function device */
#define PCI_MULTIFUNCTION 0x80

/* Lists every PCI function of every bus of every usable MCFG allocation in
 * mcfg, mapping each bus through pm (PHYSMAP_UNCACHED) and unmapping it
 * before the next.  Every bus in an allocation's range is probed (no
 * bridge walk): simple, and it finds buses behind extra host bridges too.
 * Returns the number of functions listed. */
unsigned pci_ecam_list(const struct acpi_mcfg_info *mcfg, const struct physmap *pm);

#endif
