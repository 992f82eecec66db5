/*
 * tests/host/test_pci.c - kernel/pci/legacy.c (configuration mechanism #1:
 * the address encoding, presence, reads) and kernel/pci/walk.c (the bus
 * walk ECAM and the ports share) against a fake chipset.
 *
 * The fake is a handful of functions with 256 bytes of configuration
 * space each, behind fake ports 0xCF8/0xCFC that decode the address by
 * the PCI spec's bit layout written out here (not through legacy.h's
 * macros).  Every expected listing is written by hand from the fake's
 * contents and the spec's rules (function 0 absent: device absent;
 * functions 1..7 only with the multi-function bit; buses behind bridges).
 */
#include <string.h>
#include "kernel/pci/legacy.h"
#include "kernel/pci/pci_cfg.h"
#include "tests/host/harness.h"

#define FAKE_MAX 16

struct fake_fn {
	unsigned bus, dev, fn;
	uint8_t cfg[256];
};

struct fake {
	struct fake_fn f[FAKE_MAX];
	unsigned n;
	uint32_t addr;           /* the CONFIG_ADDRESS latch */
	unsigned dev_shift;      /* 11 per spec; controls mis-wire it */
	int absent;              /* no chipset: every port reads all ones */
	uint32_t empty;          /* what an absent function reads (all ones per spec) */
	unsigned port_ops, unaligned, data_without_enable;
	unsigned begun, ended, refuse_bus; /* refuse_bus: 0 = none, else bus + 1 */
};

static struct fake F;

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* Adds function bus:dev.fn with the given ids, class (24 bits) and header
 * type; secondary is written for bridges. */
static struct fake_fn *add(unsigned bus, unsigned dev, unsigned fn, uint16_t vendor,
			   uint16_t device, uint32_t class, uint8_t header, uint8_t secondary)
{
	struct fake_fn *x = &F.f[F.n++];
	memset(x, 0, sizeof(*x));
	x->bus = bus, x->dev = dev, x->fn = fn;
	put32(x->cfg + 0x00, (uint32_t)device << 16 | vendor);
	put32(x->cfg + 0x08, class << 8 | 0x02);     /* revision 2 */
	x->cfg[0x0e] = header;
	x->cfg[0x18] = (uint8_t)bus;                 /* primary */
	x->cfg[0x19] = secondary;
	x->cfg[0x1a] = secondary;                    /* subordinate */
	return x;
}

static void fake_reset(void)
{
	memset(&F, 0, sizeof(F));
	F.dev_shift = 11;
	F.empty = 0xffffffffu;
}

/* The config dword at a decoded address, or all ones. */
static uint32_t fake_cfg(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	for (unsigned i = 0; i < F.n; i++)
		if (F.f[i].bus == bus && F.f[i].dev == dev && F.f[i].fn == fn) {
			uint32_t v;
			memcpy(&v, F.f[i].cfg + reg, 4);
			return v;
		}
	return F.empty;
}

static void fake_out32(void *ctx, uint16_t port, uint32_t v)
{
	(void)ctx;
	F.port_ops++;
	if (F.absent)
		return;
	if (port == 0xcf8)
		F.addr = v;
}

/* CONFIG_DATA decodes the latch: enable 31, bus 23:16, device 15:11,
 * function 10:8, register 7:2 (PCI Local Bus 3.0, 3.2.2.3.2). */
static uint32_t fake_in32(void *ctx, uint16_t port)
{
	(void)ctx;
	F.port_ops++;
	if (F.absent)
		return 0xffffffffu;
	if (port == 0xcf8)
		return F.addr;
	if (port != 0xcfc)
		return 0xffffffffu;
	if (F.addr & 3)
		F.unaligned++;
	if (!(F.addr >> 31)) {
		F.data_without_enable++;
		return 0xffffffffu;
	}
	return fake_cfg(F.addr >> 16 & 0xff, F.addr >> F.dev_shift & 0x1f, F.addr >> 8 & 7,
			F.addr & 0xfc);
}

static const struct pci_ports ports = { fake_out32, fake_in32, 0 };

/* The walk's visits, as "bb:dd.f vvvv:dddd cccccc" strings. */
static char seen[64][32];
static unsigned nseen;

static void record(void *arg, const struct pci_fn *f)
{
	(void)arg;
	if (nseen < 64)
		snprintf(seen[nseen], sizeof(seen[0]), "%02x:%02x.%u %04x:%04x %06x", f->bus, f->dev,
			 f->fn, f->vendor, f->device, f->class);
	nseen++;
}

/* 1 if the walk's visits are exactly want[0..n), in order. */
static int listing_is(const char *const *want, unsigned n)
{
	if (nseen != n)
		return 0;
	for (unsigned i = 0; i < n; i++)
		if (strcmp(seen[i], want[i]) != 0)
			return 0;
	return 1;
}

static unsigned walk_legacy(void)
{
	struct pci_cfg c;
	struct pci_bus_set want = { { 0 } };
	pci_legacy_cfg(&c, &ports);
	pci_bus_add(&want, 0);
	nseen = 0;
	return pci_walk(&c, 0, PCI_BUSES - 1, &want, record, 0);
}

/* QEMU pc's five functions (the PIIX3 at 00:01 multi-function, no
 * function 2), plus two that must not be listed: 00:02.1 behind a
 * single-function device and 00:03.1 whose function 0 is absent. */
static void fake_pc(void)
{
	fake_reset();
	add(0, 0, 0, 0x8086, 0x1237, 0x060000, 0x00, 0);
	add(0, 1, 0, 0x8086, 0x7000, 0x060100, 0x80, 0);
	add(0, 1, 1, 0x8086, 0x7010, 0x010180, 0x00, 0);
	add(0, 1, 3, 0x8086, 0x7113, 0x068000, 0x00, 0);
	add(0, 2, 0, 0x1234, 0x1111, 0x030000, 0x00, 0);
	add(0, 2, 1, 0xdead, 0xbeef, 0x0b4000, 0x00, 0);
	add(0, 3, 1, 0xdead, 0xbeef, 0x0b4000, 0x00, 0);
}

static const char *const pc_want[] = {
	"00:00.0 8086:1237 060000", "00:01.0 8086:7000 060100", "00:01.1 8086:7010 010180",
	"00:01.3 8086:7113 068000", "00:02.0 1234:1111 030000",
};
#define PC_N (sizeof(pc_want) / sizeof(pc_want[0]))

/* Expect: the address layout by hand-computed values; every out-of-range
 * or unaligned argument gives 0 (bit 31 clear, never a valid address). */
static void test_addr(void)
{
	CHECK(pci_legacy_addr(0, 0, 0, 0) == 0x80000000u, "0:0.0/0");
	CHECK(pci_legacy_addr(1, 2, 3, 0x10) == 0x80011310u, "%x", pci_legacy_addr(1, 2, 3, 0x10));
	CHECK(pci_legacy_addr(255, 31, 7, 0xfc) == 0x80fffffcu, "max");
	CHECK(pci_legacy_addr(0, 1, 3, 0x0c) == 0x80000b0cu, "%x", pci_legacy_addr(0, 1, 3, 0x0c));
	CHECK(pci_legacy_addr(0x80, 0, 0, 0) == 0x80800000u, "bus 0x80");
	/* Misuse. */
	CHECK(pci_legacy_addr(0, 0, 0, 0x0e) == 0, "unaligned 0x0e");
	CHECK(pci_legacy_addr(0, 0, 0, 0x19) == 0, "unaligned 0x19");
	CHECK(pci_legacy_addr(0, 0, 0, 256) == 0, "reg 256");
	CHECK(pci_legacy_addr(0, 32, 0, 0) == 0, "dev 32");
	CHECK(pci_legacy_addr(0, 0, 8, 0) == 0, "fn 8");
	CHECK(pci_legacy_addr(256, 0, 0, 0) == 0, "bus 256");
	CHECK(pci_legacy_addr(~0u, ~0u, ~0u, ~0u) == 0, "all ones");
}

/* Expect: a refused address reads all ones and touches no port; a good
 * one reads the fake's dword. */
static void test_read_misuse(void)
{
	fake_pc();
	CHECK(pci_legacy_read32(&ports, 0, 0, 0, 0x0e) == 0xffffffffu && F.port_ops == 0, "unaligned");
	CHECK(pci_legacy_read32(&ports, 0, 40, 0, 0) == 0xffffffffu && F.port_ops == 0, "dev 40");
	CHECK(pci_legacy_read32(&ports, 0, 0, 0, 0) == 0x12378086u && F.port_ops == 2,
	      "host bridge id, %u port ops", F.port_ops);
	CHECK(pci_legacy_read32(&ports, 0, 1, 0, 0x0c) >> 16 == 0x80, "PIIX3 header type");
}

/* Expect: present with a chipset, and CONFIG_ADDRESS put back; absent
 * (all ones) without. */
static void test_present(void)
{
	fake_pc();
	F.addr = 0x80001234u;
	CHECK(pci_legacy_present(&ports) == 1, "chipset present");
	CHECK(F.addr == 0x80001234u, "CONFIG_ADDRESS %x not restored", F.addr);
	F.absent = 1;
	CHECK(pci_legacy_present(&ports) == 0, "no chipset");
}

/* Expect: the pc machine's five functions, in order, nothing else; every
 * port read aligned and enabled.  Control: the same fake wired with the
 * device field at bit 12 gives a different listing. */
static void test_walk_pc(void)
{
	fake_pc();
	unsigned n = walk_legacy();
	CHECK(n == PC_N && listing_is(pc_want, PC_N), "pc listing: %u functions, first %s", n,
	      nseen ? seen[0] : "-");
	CHECK(F.unaligned == 0 && F.data_without_enable == 0, "unaligned %u, no enable %u",
	      F.unaligned, F.data_without_enable);
	/* Control: the comparison catches a listing missing one function. */
	CHECK(!listing_is(pc_want + 1, PC_N - 1), "control: a shorter expectation matched");
	/* Control: a fake decoding the device field at the wrong place. */
	fake_pc();
	F.dev_shift = 12;
	walk_legacy();
	CHECK(!listing_is(pc_want, PC_N), "control: mis-wired chipset gave the same listing");
}

/* Buses: 0 has a bridge to 2; 2 has a device at 3 (no device 0: found
 * only through its bridge) and a bridge back down to 1; 1 has a bridge
 * to 0 (a loop) and a function; 5 has a device no bridge leads to; a
 * bridge on bus 0 names 9 but a bus outside the walk's range is never
 * read.
 *
 *   bus 0: 00.0 host, 05.0 bridge -> 2, 06.0 bridge -> 0x30
 *   bus 2: 03.0 dev, 04.0 bridge -> 1
 *   bus 1: 00.0 bridge -> 0, 07.0 dev
 *   bus 5: 00.0 dev (unreached)
 *   bus 0x30: 00.0 dev (outside [0, 0x2f] in the ranged run)
 */
static void fake_bridges(void)
{
	fake_reset();
	add(0, 0, 0, 0x8086, 0x29c0, 0x060000, 0x00, 0);
	add(0, 5, 0, 0x1b36, 0x0001, 0x060400, 0x01, 2);
	add(0, 6, 0, 0x1b36, 0x0001, 0x060400, 0x01, 0x30);
	add(2, 3, 0, 0x1b36, 0x0005, 0x00ff00, 0x00, 0);
	add(2, 4, 0, 0x1b36, 0x0001, 0x060400, 0x01, 1);
	add(1, 0, 0, 0x1b36, 0x0001, 0x060400, 0x01, 0);
	add(1, 7, 0, 0x1af4, 0x1000, 0x020000, 0x00, 0);
	add(5, 0, 0, 0x1af4, 0x1001, 0x010000, 0x00, 0);
	add(0x30, 0, 0, 0x1af4, 0x1002, 0x010000, 0x00, 0);
}

/* Expect: bus 0, then 2 and 0x30 (bus order), then 1 (a second pass: its
 * bridge is on bus 2); bus 0 is not listed again; bus 5 never. */
static void test_walk_bridges(void)
{
	static const char *const want[] = {
		"00:00.0 8086:29c0 060000", "00:05.0 1b36:0001 060400", "00:06.0 1b36:0001 060400",
		"02:03.0 1b36:0005 00ff00", "02:04.0 1b36:0001 060400",
		"30:00.0 1af4:1002 010000",
		"01:00.0 1b36:0001 060400", "01:07.0 1af4:1000 020000",
	};
	fake_bridges();
	unsigned n = walk_legacy();
	CHECK(n == 8 && listing_is(want, 8), "%u functions: %s %s %s %s %s %s %s %s", n, seen[0],
	      seen[1], seen[2], seen[3], seen[4], seen[5], seen[6], seen[7]);
	/* Control: without the bridge on bus 0, nothing behind it. */
	fake_bridges();
	F.f[1].cfg[0x0e] = 0x00;     /* 00:05.0 now an ordinary function */
	n = walk_legacy();
	CHECK(n == 4, "control: %u functions without the bridge, want 4 (bus 0, 0x30)", n);
}

/* pci_cfg straight over the fake (an ECAM-like method with bus_begin). */
static uint32_t direct_read32(void *ctx, unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	(void)ctx;
	return fake_cfg(bus, dev, fn, reg);
}

static int direct_begin(void *ctx, unsigned bus)
{
	(void)ctx;
	if (F.refuse_bus == bus + 1)
		return -1;
	F.begun++;
	return 0;
}

static void direct_end(void *ctx, unsigned bus)
{
	(void)ctx;
	(void)bus;
	F.ended++;
}

/* Expect: over [0, 0x2f] bus 0x30 is not listed; a bus bus_begin refuses
 * is skipped with everything behind it, and bus_end pairs every begin;
 * first > last or last > 255 reads nothing. */
static void test_walk_range_and_begin(void)
{
	struct pci_cfg c = { direct_read32, direct_begin, direct_end, 0 };
	struct pci_bus_set want = { { 0 } };
	fake_bridges();
	pci_bus_add(&want, 0);
	nseen = 0;
	unsigned n = pci_walk(&c, 0, 0x2f, &want, record, 0);
	CHECK(n == 7, "%u functions in [0, 0x2f], want 7", n);
	CHECK(F.begun == 3 && F.ended == 3, "begun %u ended %u, want 3 (buses 0, 2, 1)", F.begun,
	      F.ended);

	fake_bridges();
	F.refuse_bus = 2 + 1;
	memset(&want, 0, sizeof(want));
	pci_bus_add(&want, 0);
	nseen = 0;
	n = pci_walk(&c, 0, 0xff, &want, record, 0);
	CHECK(n == 4, "%u functions with bus 2 refused, want 4 (bus 0 and 0x30)", n);
	CHECK(F.begun == F.ended, "begun %u ended %u", F.begun, F.ended);

	fake_bridges();
	memset(&want, 0, sizeof(want));
	pci_bus_add(&want, 0);
	CHECK(pci_walk(&c, 3, 2, &want, record, 0) == 0 && F.begun == 0, "first > last");
	CHECK(pci_walk(&c, 0, 256, &want, record, 0) == 0 && F.begun == 0, "last 256");
}

/* A board that reads 0 (or 0xffff0000) for an empty slot instead of all
 * ones (Linux's pci_bus_generic_read_dev_vendor_id knows such boards):
 * vendor 0x0000 is no vendor (PCI-SIG never assigned it).  Expect: pc's
 * five functions and nothing else.  Control: the same fake with the
 * spec's all ones gives the same listing (the fixture is pc's). */
static void test_walk_zero_slots(void)
{
	static const uint32_t empties[] = { 0x00000000u, 0xffff0000u, 0xffffffffu };
	for (size_t i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		fake_pc();
		F.empty = empties[i];
		unsigned n = walk_legacy();
		CHECK(n == PC_N && listing_is(pc_want, PC_N), "empty slots read %08x: %u functions",
		      empties[i], n);
	}
}

int main(void)
{
	RUN(test_addr);
	RUN(test_read_misuse);
	RUN(test_present);
	RUN(test_walk_pc);
	RUN(test_walk_bridges);
	RUN(test_walk_range_and_begin);
	RUN(test_walk_zero_slots);
	return harness_done("pci");
}
