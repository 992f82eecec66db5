/*
 * kernel/pci/list.h - the kernel's listing of PCI functions, one line each,
 * whatever the access method (ECAM: ecam.h; the legacy ports: below).
 * Kernel only (prints with kprintf, reaches the ports with outl/inl).
 *
 * Output:
 *   pci: <bus 2 hex>:<dev 2 hex>.<fn 1 digit> <vendor 4 hex>:<device 4 hex> class=<6 hex>
 *        class = base class << 16 | subclass << 8 | prog-if, e.g. 060000 host bridge
 *   pci: legacy config ports 0xcf8/0xcfc: buses 00-ff       (then the function lines)
 *   pci: segment 0: <count> functions
 *   pci: no legacy config ports (0xcf8 does not hold its enable bit): no PCI listing
 */
#ifndef KERNEL_PCI_LIST_H
#define KERNEL_PCI_LIST_H

#include "kernel/pci/pci_cfg.h"

/* pci_visit_fn that prints f's line (arg unused). */
void pci_print_fn(void *arg, const struct pci_fn *f);

/* Lists bus 0 and every bus behind a PCI-to-PCI bridge through
 * configuration mechanism #1 (kernel/pci/legacy.h), or says the ports do
 * not answer.  Returns the number of functions listed. */
unsigned pci_legacy_list(void);

#endif
