/*
 * tests/host/test_madt.c - the table parsers of kernel/acpi/acpi.c (MADT, FADT,
 * HPET, MCFG) on QEMU's captured tables, on iasl-compiled tables and on
 * mutations of both.  The parsers are pure functions of (bytes, length):
 * each test hands them a malloc'd buffer of exactly that length, so ASan
 * catches any read past it.
 */
#include <stdlib.h>
#include <string.h>
#include "tests/host/harness.h"
#include "tests/host/acpi_fake.h"
#include "kernel/acpi/acpi_tables.h"

#define DATA "tests/data/acpi/"

static struct acpi_madt_info MI; /* ~4 KiB: off the stack */

static uint8_t *load(const char *path, uint32_t *len)
{
	uint64_t size;
	uint8_t *b = fake_read_file(path, &size);
	*len = (uint32_t)size;
	return b;
}

/* Returns a copy of the first n bytes of b (exact-size buffer for ASan). */
static uint8_t *prefix(const uint8_t *b, uint32_t n)
{
	uint8_t *c = malloc(n ? n : 1);
	memcpy(c, b, n);
	return c;
}

/* ------------------------------------------------------------------ MADT */

/* QEMU q35, -smp 1.  Expect: 1 cpu (apic id 0), IOAPIC 0xfec00000 gsi 0,
 * overrides for IRQ 0 -> GSI 2 and the level-triggered 5, 9, 10, 11. */
static void test_madt_q35(void)
{
	uint32_t len;
	uint8_t *t = load(DATA "q35/APIC.bin", &len);
	REQUIRE(acpi_madt_parse(t, len, &MI) == ACPI_OK, "parse");
	CHECK(MI.cpus == 1 && MI.cpu[0].apic_id == 0, "cpus %u", MI.cpus);
	CHECK(MI.ioapics == 1 && MI.ioapic[0].address == 0xfec00000 && MI.ioapic[0].gsi_base == 0,
	      "ioapics %u", MI.ioapics);
	CHECK(MI.isos == 5 && MI.iso[0].source == 0 && MI.iso[0].gsi == 2, "isos %u", MI.isos);
	CHECK(MI.lapic_pa == 0xfee00000, "lapic %llx", (unsigned long long)MI.lapic_pa);
	host_capture_begin();
	acpi_madt_print(&MI);
	const char *out = host_capture_end();
	CHECK(strstr(out, "acpi: MADT cpus=1 ioapics=1\n"), "%s", out);
	CHECK(strstr(out, "acpi: MADT ioapic id=0 base=0xfec00000 gsi_base=0\n"), "%s", out);
	CHECK(strstr(out, "acpi: MADT override bus=0 irq=0 gsi=2 flags=0x0000\n"), "%s", out);
	free(t);
}

/* madt4.aml: 3 LAPIC + 1 x2APIC enabled, 1 LAPIC online-capable only,
 * 2 IOAPICs, 2 overrides, 1 NMI, LAPIC override.  Expect: cpus=4. */
static void test_madt_iasl(void)
{
	uint32_t len;
	uint8_t *t = load(DATA "iasl/madt4.aml", &len);
	REQUIRE(acpi_madt_parse(t, len, &MI) == ACPI_OK, "parse");
	CHECK(MI.cpus == 4 && MI.cpus_disabled == 1, "cpus %u disabled %u", MI.cpus, MI.cpus_disabled);
	CHECK(MI.cpu[3].x2apic && MI.cpu[3].apic_id == 0x100 && MI.cpu[3].uid == 4, "x2apic entry");
	CHECK(MI.ioapics == 2 && MI.ioapic[1].address == 0xfec01000 && MI.ioapic[1].gsi_base == 24,
	      "ioapic 1");
	CHECK(MI.isos == 2 && MI.iso[1].flags == 0xd, "isos");
	CHECK(MI.nmis == 1 && MI.others == 0, "nmis %u others %u", MI.nmis, MI.others);
	host_capture_begin();
	acpi_madt_print(&MI);
	const char *out = host_capture_end();
	CHECK(strstr(out, "acpi: MADT cpus=4 ioapics=2\n"), "%s", out);
	free(t);
}

/*
 * Subtable damage in madt4 (first subtable at offset 44, an 8-byte LAPIC):
 *   length 0        -> bad subtable at 44 (no endless loop)
 *   length 1        -> bad subtable at 44
 *   length 4 (< 8)  -> bad subtable at 44 (would read flags past it)
 *   length 255      -> bad subtable at 44 (runs past the end)
 *   last subtable length + 1 -> bad subtable at its offset
 *   one stray byte after the last subtable -> bad subtable at len - 1
 *   table shorter than the fixed 44 bytes -> too short
 */
static void test_madt_bad_subtables(void)
{
	uint32_t len;
	uint8_t *base = load(DATA "iasl/madt4.aml", &len);
	const uint8_t bad_len[] = { 0, 1, 4, 255 };
	for (unsigned i = 0; i < sizeof(bad_len); i++) {
		uint8_t *t = prefix(base, len);
		t[45] = bad_len[i];
		CHECK(acpi_madt_parse(t, len, &MI) == ACPI_E_SUBTABLE, "len %u", bad_len[i]);
		CHECK(MI.bad_offset == 44, "len %u: offset %u", bad_len[i], MI.bad_offset);
		free(t);
	}

	uint32_t last = len - 12;   /* the LAPIC address override */
	uint8_t *t = prefix(base, len);
	REQUIRE(t[last] == ACPI_MADT_LAPIC_OVERRIDE, "layout");
	t[last + 1] = 13;
	CHECK(acpi_madt_parse(t, len, &MI) == ACPI_E_SUBTABLE && MI.bad_offset == last, "past end");
	free(t);

	t = malloc(len + 1);
	memcpy(t, base, len);
	t[len] = ACPI_MADT_LAPIC;
	CHECK(acpi_madt_parse(t, len + 1, &MI) == ACPI_E_SUBTABLE && MI.bad_offset == len,
	      "stray byte: offset %u", MI.bad_offset);
	free(t);

	t = prefix(base, 43);
	CHECK(acpi_madt_parse(t, 43, &MI) == ACPI_E_TOO_SHORT, "short");
	free(t);

	/* Cut at every length: never a read past it, always a defined result. */
	for (uint32_t n = 0; n <= len; n++) {
		t = prefix(base, n);
		enum acpi_status st = acpi_madt_parse(t, n, &MI);
		CHECK(st == ACPI_OK || st == ACPI_E_SUBTABLE || st == ACPI_E_TOO_SHORT, "n=%u", n);
		free(t);
	}
	free(base);
}

/* Through acpi_init: a MADT with a zero-length subtable but a valid
 * checksum is listed as ok, and acpi_get_madt reports the bad subtable. */
static void test_madt_bad_via_tables(void)
{
	static struct acpi a;
	uint32_t len;
	uint8_t *t = load(DATA "iasl/madt4.aml", &len);
	t[45] = 0;
	fake_fix_checksum(t, len);
	uint8_t x[44] = "XSDT";
	uint32_t xl = 44;
	uint64_t tab_pa = 0x10000;
	memcpy(x + 4, &xl, 4);
	memcpy(x + 36, &tab_pa, 8);
	fake_fix_checksum(x, 44);
	uint8_t r[36] = "RSD PTR ";
	r[15] = 2;
	uint32_t rl = 36;
	uint64_t xpa = 0x20000;
	memcpy(r + 20, &rl, 4);
	memcpy(r + 24, &xpa, 8);
	uint8_t s = 0;
	for (int i = 0; i < 20; i++) s = (uint8_t)(s + r[i]);
	r[8] = (uint8_t)-s;
	s = 0;
	for (int i = 0; i < 36; i++) s = (uint8_t)(s + r[i]);
	r[32] = (uint8_t)-s;

	struct fake_mem fm;
	fake_init(&fm);
	fake_add(&fm, tab_pa, t, len);
	fake_add(&fm, xpa, x, 44);
	fake_add(&fm, 0x30000, r, 36);
	host_capture_begin();
	enum acpi_status st = acpi_init(&a, &fm.host, 0x30000);
	host_capture_end();
	REQUIRE(st == ACPI_OK, "%s", acpi_status_str(st));
	CHECK(acpi_get_madt(&a, &MI) == ACPI_E_SUBTABLE && MI.bad_offset == 44, "get_madt");
	CHECK(fake_clean(&fm), "live %u", fm.nlive);
	fake_free(&fm);
	free(t);
}

/* ------------------------------------------------------------------ FADT */

/* QEMU q35 FADT (rev 3, 244 bytes).  Expect: PM timer at 0x608 (ICH9
 * PMBASE 0x600 + 8), reset via I/O 0xcf9, DSDT from X_DSDT. */
static void test_fadt_q35(void)
{
	uint32_t len;
	uint8_t *t = load(DATA "q35/FACP.bin", &len);
	struct acpi_fadt_info f;
	REQUIRE(acpi_fadt_parse(t, len, &f) == ACPI_OK, "parse");
	CHECK(f.revision == 3 && f.len_revision == 3, "rev %u/%u", f.revision, f.len_revision);
	CHECK(f.pm_timer_port == 0x608, "pm timer %x", f.pm_timer_port);
	CHECK(f.has_reset && f.reset_space == ACPI_GAS_IO && f.reset_addr == 0xcf9, "reset");
	CHECK(f.dsdt_pa == 0x1f779000 && f.x_dsdt == 0x1f779000, "dsdt %llx",
	      (unsigned long long)f.dsdt_pa);
	host_capture_begin();
	acpi_fadt_print(&f);
	const char *out = host_capture_end();
	CHECK(strstr(out, "acpi: FADT pm_timer port=0x608 24-bit\n"), "%s", out);
	CHECK(strstr(out, "acpi: FADT reset_reg io 0xcf9 value=0x0f\n"), "%s", out);

	/* Cut to ACPI 1.0 size: no reset register, no X_DSDT, rev from
	 * length 1; shorter than that: too short. */
	uint8_t *v1 = prefix(t, ACPI_FADT_V1_LEN);
	REQUIRE(acpi_fadt_parse(v1, ACPI_FADT_V1_LEN, &f) == ACPI_OK, "v1");
	CHECK(f.len_revision == 1 && !f.has_reset && f.x_dsdt == 0 && f.dsdt_pa == 0x1f779000,
	      "v1 fields");
	free(v1);
	v1 = prefix(t, ACPI_FADT_V1_LEN - 1);
	CHECK(acpi_fadt_parse(v1, ACPI_FADT_V1_LEN - 1, &f) == ACPI_E_TOO_SHORT, "short");
	free(v1);
	for (uint32_t n = 0; n <= len; n++) {
		v1 = prefix(t, n);
		acpi_fadt_parse(v1, n, &f);
		free(v1);
	}
	free(t);
}

/* QEMU pc FADT: ACPI 1.0, 116 bytes.  Expect: PM timer 0xb008 (PIIX4
 * PMBASE 0xb000 + 8), no reset register, DSDT from the 32-bit field. */
static void test_fadt_pc(void)
{
	uint32_t len;
	uint8_t *t = load(DATA "pc/FACP.bin", &len);
	struct acpi_fadt_info f;
	REQUIRE(len == ACPI_FADT_V1_LEN, "len %u", len);
	REQUIRE(acpi_fadt_parse(t, len, &f) == ACPI_OK, "parse");
	CHECK(f.revision == 1 && f.len_revision == 1, "rev %u/%u", f.revision, f.len_revision);
	CHECK(f.pm_timer_port == 0xb008 && f.pm_timer_bits == 24, "pm timer %x", f.pm_timer_port);
	CHECK(!f.has_reset && f.x_dsdt == 0 && f.dsdt_pa == 0x1f77a000, "fields");
	free(t);
}

/* Lengths of later specs.  Expect: 268 -> 5, 276 -> 6, 300 -> 6. */
static void test_fadt_len_revision(void)
{
	uint32_t len;
	uint8_t *t = load(DATA "q35/FACP.bin", &len);
	const uint32_t lens[] = { 243, 268, 275, 276, 300 };
	const uint8_t want[] = { 1, 5, 5, 6, 6 };
	for (unsigned i = 0; i < 5; i++) {
		uint8_t *b = calloc(1, lens[i]);
		memcpy(b, t, len < lens[i] ? len : lens[i]);
		struct acpi_fadt_info f;
		REQUIRE(acpi_fadt_parse(b, lens[i], &f) == ACPI_OK, "len %u", lens[i]);
		CHECK(f.len_revision == want[i], "len %u -> %u", lens[i], f.len_revision);
		free(b);
	}
	free(t);
}

/* ------------------------------------------------------------- HPET, MCFG */

static void test_hpet(void)
{
	uint32_t len;
	uint8_t *t = load(DATA "q35/HPET.bin", &len);
	struct acpi_hpet_info h;
	CHECK(acpi_hpet_parse(t, len, &h) == ACPI_OK && h.base_pa == 0xfed00000, "q35 hpet");
	free(t);
	t = load(DATA "iasl/hpet.aml", &len);
	CHECK(acpi_hpet_parse(t, len, &h) == ACPI_OK && h.base_pa == 0xfed00000 &&
	      h.block_id == 0x8086a201 && h.min_tick == 0x80, "iasl hpet");
	t[40] = ACPI_GAS_IO;
	CHECK(acpi_hpet_parse(t, len, &h) == ACPI_E_BAD_VALUE, "I/O space HPET");
	uint8_t *s = prefix(t, len - 1);
	CHECK(acpi_hpet_parse(s, len - 1, &h) == ACPI_E_TOO_SHORT, "short");
	free(s);
	free(t);
}

/* q35: one allocation 0xb0000000 buses 0-255; mcfg2: two segments; a
 * length of 44 + 16 + 8 uses one allocation and warns; end < start is
 * skipped. */
static void test_mcfg(void)
{
	uint32_t len;
	struct acpi_mcfg_info c;
	uint8_t *t = load(DATA "q35/MCFG.bin", &len);
	REQUIRE(acpi_mcfg_parse(t, len, &c) == ACPI_OK, "q35");
	CHECK(c.count == 1 && c.seg[0].base_pa == 0xb0000000 && c.seg[0].start_bus == 0 &&
	      c.seg[0].end_bus == 255 && c.warning == ACPI_OK, "q35 mcfg count %u", c.count);
	free(t);

	t = load(DATA "iasl/mcfg2.aml", &len);
	REQUIRE(acpi_mcfg_parse(t, len, &c) == ACPI_OK, "iasl");
	CHECK(c.count == 2 && c.seg[1].segment == 1 && c.seg[1].start_bus == 0x80 &&
	      c.seg[1].base_pa == 0xe0000000, "mcfg2");
	uint8_t *s = prefix(t, len - 8);
	CHECK(acpi_mcfg_parse(s, len - 8, &c) == ACPI_OK && c.count == 1 &&
	      c.warning == ACPI_E_ROOT_LENGTH, "odd length");
	free(s);
	t[44 + 16 + 10] = 0x90;   /* segment 1 start bus above its end */
	t[44 + 16 + 11] = 0x10;
	CHECK(acpi_mcfg_parse(t, len, &c) == ACPI_OK && c.count == 1 && c.skipped == 1, "end<start");
	s = prefix(t, 43);
	CHECK(acpi_mcfg_parse(s, 43, &c) == ACPI_E_TOO_SHORT, "short");
	free(s);
	free(t);
}

int main(void)
{
	RUN(test_madt_q35);
	RUN(test_madt_iasl);
	RUN(test_madt_bad_subtables);
	RUN(test_madt_bad_via_tables);
	RUN(test_fadt_q35);
	RUN(test_fadt_pc);
	RUN(test_fadt_len_revision);
	RUN(test_hpet);
	RUN(test_mcfg);
	return harness_done("madt");
}
