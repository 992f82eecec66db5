/*
 * kernel/pci/pci_cfg.h - PCI configuration space behind one small access
 * interface, and the bus walk every access method shares.
 *
 * Portable, freestanding C (no kernel headers): the walk runs in the kernel
 * over ECAM (kernel/pci/ecam.c) or the legacy ports 0xCF8/0xCFC
 * (kernel/pci/legacy.c), and in host tests over a fake configuration space
 * (tests/host/test_pci.c).
 *
 * Theory of operation:
 *   1. An access method is a struct pci_cfg: read32 returns the dword at a
 *      dword-aligned register of bus:dev.fn (all ones where no function
 *      answers, as the hardware does); bus_begin/bus_end, if not NULL,
 *      bracket the scan of one bus (ECAM maps the bus's 1 MiB there).  The
 *      walk reads nothing but aligned dwords, which every method supports
 *      (the legacy mechanism has no narrower access through 0xCFC here).
 *   2. pci_walk lists the buses marked in a struct pci_bus_set that lie in
 *      [first, last], in bus order; each PCI-to-PCI bridge found marks its
 *      secondary bus (if inside [first, last]); a bridge naming a lower,
 *      not yet listed bus starts another pass.  Every bus is listed at most
 *      once, so a bridge loop (firmware bug or fake) ends: at most 256
 *      passes of at most 256 buses.
 *   3. On a bus: function 0 of each device is read; a vendor of 0xffff
 *      there means no device (its other functions are not read), and so
 *      does 0x0000, which PCI-SIG never assigned and some boards read for
 *      an empty slot (Linux's pci_bus_generic_read_dev_vendor_id); functions
 *      1..7 are read only when function 0's header type has the
 *      multi-function bit.
 *   4. Each function found is handed to the caller's visitor; the walk
 *      prints nothing and keeps no state between calls.
 *
 * LOCKING: none here; an access method that shares hardware between CPUs
 * (the legacy port pair) locks inside its read32.
 */
#ifndef KERNEL_PCI_PCI_CFG_H
#define KERNEL_PCI_PCI_CFG_H

#include <stdint.h>

#define PCI_BUSES         256    /* bus numbers in a segment */
#define PCI_DEVS          32     /* devices per bus */
#define PCI_FNS           8      /* functions per device */
#define PCI_CFG_SIZE      256    /* conventional configuration space, bytes */
#define PCI_VENDOR        0x00   /* dword: vendor 15:0, device 31:16 */
#define PCI_VENDOR_NONE   0xffff /* vendor of an absent function */
#define PCI_VENDOR_ZERO   0x0000 /* never assigned: what some boards read for an empty slot */
#define PCI_CLASS_REV     0x08   /* dword: revision 7:0, prog-if 15:8, subclass 23:16, class 31:24 */
#define PCI_HEADER_DWORD  0x0c   /* dword holding the header type at 0x0e: bits 23:16 */
#define PCI_HEADER_SHIFT  16
#define PCI_HEADER_LAYOUT 0x7f   /* header type 6:0 */
#define PCI_HEADER_BRIDGE 0x01   /* layout 1: PCI-to-PCI bridge */
#define PCI_MULTIFUNCTION 0x80   /* header type bit 7 */
#define PCI_BUS_DWORD     0x18   /* bridges: primary 7:0, secondary 15:8, subordinate 23:16 */
#define PCI_SECONDARY_SHIFT 8

/* One access method (theory 1). */
struct pci_cfg {
	/* Returns the dword at reg (a multiple of 4, < PCI_CFG_SIZE) of
	 * bus:dev.fn, or 0xffffffff where nothing answers. */
	uint32_t (*read32)(void *ctx, unsigned bus, unsigned dev, unsigned fn, unsigned reg);
	/* Both may be NULL.  bus_begin returns 0 if bus can be read (then
	 * bus_end follows its scan), else -1: the bus is skipped. */
	int (*bus_begin)(void *ctx, unsigned bus);
	void (*bus_end)(void *ctx, unsigned bus);
	void *ctx;
};

/* A set of bus numbers: a bit each. */
struct pci_bus_set {
	uint64_t bits[PCI_BUSES / 64];
};

/* Returns 1 if bus b (< PCI_BUSES) is in s. */
int pci_bus_has(const struct pci_bus_set *s, unsigned b);

/* Puts bus b (< PCI_BUSES) into s. */
void pci_bus_add(struct pci_bus_set *s, unsigned b);

/* One function found by the walk. */
struct pci_fn {
	uint8_t  bus, dev, fn;
	uint16_t vendor, device;
	uint32_t class;          /* class 23:16, subclass 15:8, prog-if 7:0 */
	uint8_t  header;         /* header type byte (layout + multi-function bit) */
	uint8_t  secondary;      /* bridges: the bus behind; else 0 */
};

/* Called once per function found, in walk order. */
typedef void (*pci_visit_fn)(void *arg, const struct pci_fn *f);

/* Lists every bus of want inside [first, last] (first <= last <
 * PCI_BUSES) and every bus a bridge on a listed bus leads to inside that
 * range (theory 2, 3), calling visit for each function.  want is updated
 * with the bridges' buses.  Returns the number of functions, or 0 with
 * nothing read if first > last or last >= PCI_BUSES. */
unsigned pci_walk(const struct pci_cfg *c, unsigned first, unsigned last,
		  struct pci_bus_set *want, pci_visit_fn visit, void *arg);

#endif
