/*
 * tests/fuzz/fuzz_acpi.c - libFuzzer harness for kernel/acpi/acpi.c (and
 * the SRAT/SLIT parser, kernel/acpi/numa.c, which acpi_parse runs).
 *
 * Input: one flags byte, then a run of tables back to back (QEMU's captured
 * *.bin files are valid inputs).  The harness cuts the run at each header's
 * length, places it at TABLES_PA in fake physical memory (the mapper of the
 * host tests: exact-size copies, so ASan sees any read past a mapping),
 * builds an RSDP and an XSDT (or RSDT) listing every piece, and runs
 * acpi_init and every parser.  Flags:
 *   bit 0  repair each piece's checksum, so the fuzzer gets past it
 *   bit 1  RSDP revision 0: use an RSDT instead of the XSDT
 *   bit 2  add root entries pointing at unmapped and wrapping addresses
 *   bit 3  point the FADT's DSDT fields at the last piece
 * Besides sanitizer reports, the harness aborts if a mapping is left behind
 * or an unmap does not match a map.
 *
 * Built by the Makefile (build/fuzz/bin/fuzz_acpi); tools/run-fuzz.sh runs
 * it with a seed corpus.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/host/acpi_fake.h"
#include "kernel/acpi/acpi_tables.h"

#define TABLES_PA 0x100000ull
#define ROOT_PA   0x80000ull
#define RSDP_PA   0xe0000ull
#define MAX_PIECES 48

/* acpi.c prints through mm_printf: format into a scratch buffer (so every
 * argument is still consumed) and drop it. */
void mm_printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
}

static void fix8(uint8_t *p, unsigned n, unsigned at)
{
	uint8_t s = 0;
	p[at] = 0;
	for (unsigned i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	p[at] = (uint8_t)-s;
}

/* Runs every parser on an exact-size copy of n bytes. */
static void parse_all(const uint8_t *p, uint32_t n)
{
	static struct acpi_madt_info madt;
	struct acpi_fadt_info fadt;
	struct acpi_hpet_info hpet;
	struct acpi_mcfg_info mcfg;
	uint8_t *c = malloc(n ? n : 1);
	memcpy(c, p, n);
	acpi_madt_parse(c, n, &madt);
	acpi_fadt_parse(c, n, &fadt);
	acpi_hpet_parse(c, n, &hpet);
	acpi_mcfg_parse(c, n, &mcfg);
	free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct acpi a;
	static struct fake_mem fm;
	if (size < 1 || size > (1u << 20))
		return 0;
	uint8_t flags = data[0];
	uint32_t n = (uint32_t)(size - 1);
	uint8_t *t = malloc(n ? n : 1);
	memcpy(t, data + 1, n);

	/* Cut into pieces at each header's length. */
	uint64_t piece[MAX_PIECES + 2];
	unsigned np = 0, fadt_off = UINT32_MAX;
	for (uint32_t off = 0; n - off >= sizeof(struct acpi_sdt_header) && np < MAX_PIECES;) {
		uint32_t len;
		memcpy(&len, t + off + 4, 4);
		piece[np++] = TABLES_PA + off;
		parse_all(t + off, n - off);
		if (len < sizeof(struct acpi_sdt_header) || len > n - off)
			break;
		if (memcmp(t + off, "FACP", 4) == 0 && len >= 44)
			fadt_off = off;
		if (flags & 1)
			fix8(t + off, len, 9);
		off += len;
	}
	if ((flags & 8) && fadt_off != UINT32_MAX && np > 0) {
		uint8_t *f = t + fadt_off;
		uint32_t flen, d32 = (uint32_t)piece[np - 1];
		memcpy(&flen, f + 4, 4);
		memcpy(f + 40, &d32, 4);
		if (flen >= 148)
			memcpy(f + 140, &piece[np - 1], 8);
		if (flags & 1)
			fix8(f, flen, 9);
	}
	if (flags & 4) {
		piece[np++] = 0x7fff0000ull;              /* unmapped */
		piece[np++] = 0xfffffffffffffff0ull;      /* header wraps */
	}

	/* Root table and RSDP. */
	int rsdt = flags & 2;
	uint32_t esize = rsdt ? 4 : 8, rlen = 36 + esize * np;
	uint8_t *root = calloc(1, rlen);
	memcpy(root, rsdt ? "RSDT" : "XSDT", 4);
	memcpy(root + 4, &rlen, 4);
	for (unsigned i = 0; i < np; i++)
		memcpy(root + 36 + esize * i, &piece[i], esize);
	fix8(root, rlen, 9);
	uint8_t rsdp[36] = "RSD PTR ";
	uint32_t root32 = (uint32_t)ROOT_PA, rsdp_len = 36;
	uint64_t root64 = ROOT_PA;
	rsdp[15] = rsdt ? 0 : 2;
	memcpy(rsdp + 16, &root32, 4);
	memcpy(rsdp + 20, &rsdp_len, 4);
	memcpy(rsdp + 24, &root64, 8);
	fix8(rsdp, 20, 8);
	fix8(rsdp, 36, 32);

	fake_init(&fm);
	fake_add(&fm, TABLES_PA, t, n);
	fake_add(&fm, ROOT_PA, root, rlen);
	fake_add(&fm, RSDP_PA, rsdp, sizeof(rsdp));
	if (acpi_init(&a, &fm.host, RSDP_PA) == ACPI_OK) {
		static struct acpi_madt_info madt;
		struct acpi_fadt_info fadt;
		struct acpi_hpet_info hpet;
		struct acpi_mcfg_info mcfg;
		acpi_get_madt(&a, &madt);
		acpi_get_fadt(&a, &fadt);
		acpi_get_hpet(&a, &hpet);
		acpi_get_mcfg(&a, &mcfg);
		for (unsigned i = 0; i < a.count; i++)
			acpi_print_table(&a.tables[i]);
		acpi_numa_print(&a.numa);   /* the SRAT/SLIT acpi_parse read */
		if (a.numa.nodes == 0 || a.numa.nodes > ACPI_NUMA_MAX_NODES ||
		    a.numa.nranges > ACPI_NUMA_MAX_RANGES)
			abort();
		for (unsigned i = 0; i + 1 < a.numa.nranges; i++)
			if (a.numa.range[i].base + a.numa.range[i].size > a.numa.range[i + 1].base)
				abort();    /* sorted and disjoint, or refused */
	}
	if (!fake_clean(&fm)) {
		fprintf(stderr, "fuzz_acpi: %u mappings left, %u bad unmaps\n", fm.nlive, fm.bad_unmaps);
		abort();
	}
	fake_free(&fm);
	free(root);
	free(t);
	return 0;
}
