/*
 * tests/host/test_acpi.c - table discovery (kernel/acpi/acpi.c): RSDP, XSDT/RSDT,
 * per-table length and checksum checks, against QEMU's own tables (captured
 * from q35 and pc, tests/data/acpi/<machine>/) and against a synthetic
 * machine built here from iasl-compiled tables, then mutated.
 *
 * Every test ends with fake_clean: all that was mapped was unmapped.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "tests/host/harness.h"
#include "tests/host/acpi_fake.h"
#include "kernel/acpi/acpi_tables.h"

#define DATA "tests/data/acpi/"

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static struct acpi A; /* big: keep it off the stack */

/* ------------------------------------------------------- parse, then report */

/* A physmap with no memory behind it: counts the calls, maps nothing. */
static void *dead_map(void *ctx, uint64_t pa, uint64_t size, unsigned flags)
{
	(void)pa, (void)size, (void)flags;
	++*(unsigned *)ctx;
	return NULL;
}

static void dead_unmap(void *ctx, void *va, uint64_t size)
{
	(void)va, (void)size;
	++*(unsigned *)ctx;
}

/* The kernel parses once and prints later (acpi.h, theory 5).  ref is what
 * acpi_init printed on fm (fresh: fm->maps counts acpi_init's maps only),
 * checked by hand in the caller.  Expect: acpi_parse prints nothing and
 * makes the same maps; acpi_report, with the memory gone, touches no
 * physmap and prints exactly ref. */
static void check_split(const char *what, struct fake_mem *fm, uint64_t rsdp, const char *ref)
{
	static char want[1 << 16];
	unsigned init_maps = fm->maps, calls = 0;
	snprintf(want, sizeof(want), "%s", ref);
	CHECK(want[0] != 0, "%s: acpi_init printed nothing", what);
	host_capture_begin();
	acpi_parse(&A, &fm->host, rsdp);
	const char *quiet = host_capture_end();
	CHECK(quiet[0] == 0, "%s: acpi_parse printed:\n%s", what, quiet);
	CHECK(fm->maps == 2 * init_maps, "%s: parse made %u maps, acpi_init %u", what,
	      fm->maps - init_maps, init_maps);
	struct physmap dead = { dead_map, dead_unmap, 0, &calls };
	A.pm = &dead;
	host_capture_begin();
	acpi_report(&A);
	const char *out = host_capture_end();
	A.pm = &fm->host;
	CHECK(strcmp(out, want) == 0, "%s: report differs:\n%s\nwant:\n%s", what, out, want);
	CHECK(calls == 0, "%s: the report made %u physmap calls", what, calls);
}

/* ------------------------------------------------------------ real tables */

/* Loads tests/data/acpi/<machine>: every mem-<pa>.bin at its pa; returns
 * the RSDP address. */
static uint64_t load_captured(struct fake_mem *fm, const char *machine)
{
	char path[512];
	uint64_t size, rsdp_pa = 0;
	snprintf(path, sizeof(path), DATA "%s/rsdp", machine);
	uint8_t *txt = fake_read_file(path, &size);
	txt[size ? size - 1 : 0] = 0;
	rsdp_pa = strtoull((char *)txt, NULL, 16);
	free(txt);

	snprintf(path, sizeof(path), DATA "%s", machine);
	DIR *d = opendir(path);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "mem-", 4) != 0)
			continue;
		uint64_t pa = strtoull(de->d_name + 4, NULL, 16);
		snprintf(path, sizeof(path), DATA "%s/%s", machine, de->d_name);
		uint8_t *blob = fake_read_file(path, &size);
		fake_add(fm, pa, blob, size);
		free(blob);
	}
	if (d)
		closedir(d);
	return rsdp_pa;
}


/*
 * QEMU q35 through OVMF: RSDP rev 2 -> XSDT -> FACP APIC HPET MCFG WAET BGRT,
 * FACP -> DSDT.  Expect: all eight tables valid, lines in the exact format.
 */
static void test_q35_captured(void)
{
	struct fake_mem fm;
	fake_init(&fm);
	uint64_t rsdp = load_captured(&fm, "q35");
	host_capture_begin();
	enum acpi_status st = acpi_init(&A, &fm.host, rsdp);
	const char *out = host_capture_end();
	REQUIRE(st == ACPI_OK, "status %s", acpi_status_str(st));
	CHECK(memcmp(A.root_sig, "XSDT", 4) == 0, "root %.4s", A.root_sig);
	CHECK(A.rsdp_revision == 2, "rev %u", A.rsdp_revision);
	static const char *const sigs[] = { "FACP", "APIC", "HPET", "MCFG", "WAET", "BGRT", "DSDT" };
	for (unsigned i = 0; i < 7; i++)
		CHECK(acpi_find(&A, sigs[i], 0), "%s missing", sigs[i]);
	CHECK(A.count == 7, "count %u", A.count);
	CHECK(strstr(out, "acpi: APIC phys=0x000000001f777000 len=120 rev=1 oem=\"BOCHS\" checksum=ok\n"),
	      "output:\n%s", out);
	CHECK(strstr(out, "acpi: DSDT phys=0x000000001f779000 len=8328 rev=1 oem=\"BOCHS\" checksum=ok\n"),
	      "output:\n%s", out);
	CHECK(strstr(out, "acpi: XSDT phys=0x000000001f77c0e8 len=84"), "output:\n%s", out);
	CHECK(!strstr(out, "BAD"), "output:\n%s", out);
	CHECK(fake_clean(&fm), "live %u bad unmaps %u", fm.nlive, fm.bad_unmaps);
	check_split("q35", &fm, rsdp, out);
	CHECK(fake_clean(&fm), "live %u bad unmaps %u", fm.nlive, fm.bad_unmaps);
	fake_free(&fm);
}

/* QEMU pc (i440fx): no MCFG.  Expect: FACP APIC HPET WAET DSDT valid. */
static void test_pc_captured(void)
{
	struct fake_mem fm;
	fake_init(&fm);
	uint64_t rsdp = load_captured(&fm, "pc");
	host_capture_begin();
	enum acpi_status st = acpi_init(&A, &fm.host, rsdp);
	const char *out = host_capture_end();
	REQUIRE(st == ACPI_OK, "status %s\n%s", acpi_status_str(st), out);
	CHECK(acpi_find(&A, "FACP", 0) && acpi_find(&A, "APIC", 0) && acpi_find(&A, "DSDT", 0),
	      "output:\n%s", out);
	CHECK(!acpi_find(&A, "MCFG", 0), "pc has no MCFG");
	CHECK(!strstr(out, "BAD"), "output:\n%s", out);
	CHECK(fake_clean(&fm), "live %u bad unmaps %u", fm.nlive, fm.bad_unmaps);
	fake_free(&fm);
}

/* Every injected map failure on the q35 walk: no crash, nothing leaked. */
static void test_map_failures(void)
{
	struct fake_mem fm;
	fake_init(&fm);
	uint64_t rsdp = load_captured(&fm, "q35");
	host_capture_begin();
	acpi_init(&A, &fm.host, rsdp);
	host_capture_end();
	unsigned total = fm.maps;
	for (unsigned k = 1; k <= total; k++) {
		fm.maps = 0;
		fm.fail_at = k;
		host_capture_begin();
		acpi_init(&A, &fm.host, rsdp);
		host_capture_end();
		CHECK(fake_clean(&fm), "fail_at %u: live %u", k, fm.nlive);
	}
	fake_free(&fm);
}

/* ------------------------------------------------------- synthetic machine */

/*
 *   0x000e0000 RSDP (rev 2, 36 bytes)
 *   0x00080000 XSDT -> T0 .. T(n-1)      0x00081000 RSDT -> same tables
 *   0x00100000 + i * 0x10000: table i    (each its own blob, exact size)
 *   T0 FACP (QEMU q35's, DSDT fields pointing at 0x00200000), T1 APIC
 *   (madt4.aml), T2 HPET (hpet.aml), T3 MCFG (mcfg2.aml); 0x00200000 DSDT.
 */
#define M_RSDP 0xe0000ull
#define M_XSDT 0x80000ull
#define M_RSDT 0x81000ull
#define M_DSDT 0x200000ull
#define M_TAB(i) (0x100000ull + (uint64_t)(i) * 0x10000)
#define M_NTAB 4

struct machine {
	struct fake_mem fm;
	uint8_t *rsdp, *xsdt, *rsdt, *tab[M_NTAB], *dsdt;
	uint32_t len[M_NTAB];
};

static void rsdp_fix(uint8_t *r)
{
	uint8_t s = 0;
	r[8] = 0;
	for (int i = 0; i < 20; i++)
		s = (uint8_t)(s + r[i]);
	r[8] = (uint8_t)-s;
	r[32] = 0;
	s = 0;
	for (int i = 0; i < 36; i++)
		s = (uint8_t)(s + r[i]);
	r[32] = (uint8_t)-s;
}

/* Builds a root table (esize 8: XSDT, 4: RSDT) listing n tables. */
static uint8_t *make_root(const char *sig, uint32_t esize, unsigned n, uint32_t *len)
{
	*len = 36 + esize * n;
	uint8_t *r = calloc(1, *len);
	memcpy(r, sig, 4);
	put32(r + 4, *len);
	r[8] = 1;
	memcpy(r + 10, "MEMBT ", 6);
	for (unsigned i = 0; i < n; i++) {
		if (esize == 8)
			put64(r + 36 + 8 * i, M_TAB(i));
		else
			put32(r + 36 + 4 * i, (uint32_t)M_TAB(i));
	}
	fake_fix_checksum(r, *len);
	return r;
}

static void machine_build(struct machine *m)
{
	static const char *const files[M_NTAB] = {
		DATA "q35/FACP.bin", DATA "iasl/madt4.aml", DATA "iasl/hpet.aml", DATA "iasl/mcfg2.aml",
	};
	uint64_t size;
	fake_init(&m->fm);
	for (unsigned i = 0; i < M_NTAB; i++) {
		uint8_t *t = fake_read_file(files[i], &size);
		if (i == 0) {
			put32(t + 40, (uint32_t)M_DSDT);
			put64(t + 140, M_DSDT);
			fake_fix_checksum(t, (uint32_t)size);
		}
		m->tab[i] = fake_add(&m->fm, M_TAB(i), t, size);
		m->len[i] = (uint32_t)size;
		free(t);
	}
	uint8_t *t = fake_read_file(DATA "q35/DSDT.bin", &size);
	m->dsdt = fake_add(&m->fm, M_DSDT, t, size);
	free(t);

	uint32_t len;
	t = make_root("XSDT", 8, M_NTAB, &len);
	m->xsdt = fake_add(&m->fm, M_XSDT, t, len);
	free(t);
	t = make_root("RSDT", 4, M_NTAB, &len);
	m->rsdt = fake_add(&m->fm, M_RSDT, t, len);
	free(t);

	uint8_t r[36] = { 0 };
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "MEMBT ", 6);
	r[15] = 2;
	put32(r + 16, (uint32_t)M_RSDT);
	put32(r + 20, 36);
	put64(r + 24, M_XSDT);
	rsdp_fix(r);
	m->rsdp = fake_add(&m->fm, M_RSDP, r, 36);
}

static struct machine M;

/* Runs acpi_init on M, returns the status; *out gets the captured text. */
static enum acpi_status machine_init(const char **out)
{
	host_capture_begin();
	enum acpi_status st = acpi_init(&A, &M.fm.host, M_RSDP);
	*out = host_capture_end();
	return st;
}

/* The synthetic machine as built.  Expect: 4 tables + DSDT, all valid. */
static void test_synthetic_ok(void)
{
	const char *out;
	machine_build(&M);
	REQUIRE(machine_init(&out) == ACPI_OK, "%s", out);
	CHECK(A.count == 5, "count %u\n%s", A.count, out);
	CHECK(strstr(out, "acpi: APIC phys=0x0000000000110000 len=154 rev=5 oem=\"MEMBT\" checksum=ok\n"),
	      "%s", out);
	CHECK(acpi_find(&A, "DSDT", 0) && acpi_find(&A, "DSDT", 0)->pa == M_DSDT, "%s", out);
	CHECK(fake_clean(&M.fm), "live %u", M.fm.nlive);
	fake_free(&M.fm);
}

/* RSDP revision 0: only the RSDT is looked at.  Expect: root RSDT. */
static void test_rsdp_rev0_uses_rsdt(void)
{
	const char *out;
	machine_build(&M);
	M.rsdp[15] = 0;
	rsdp_fix(M.rsdp);
	REQUIRE(machine_init(&out) == ACPI_OK, "%s", out);
	CHECK(memcmp(A.root_sig, "RSDT", 4) == 0, "%s", out);
	CHECK(A.count == 5, "count %u", A.count);
	CHECK(fake_clean(&M.fm), "live %u", M.fm.nlive);
	fake_free(&M.fm);
}

/* RSDP damage.  Expect: the matching error and no table at all. */
static void test_rsdp_errors(void)
{
	const char *out;
	struct { const char *what; int off; enum acpi_status want; } cases[] = {
		{ "signature", 0, ACPI_E_SIGNATURE },
		{ "v1 checksum byte", 8, ACPI_E_CHECKSUM },
		{ "xsdt address (extended checksum)", 24, ACPI_E_EXT_CHECKSUM },
		{ "reserved byte (extended checksum)", 34, ACPI_E_EXT_CHECKSUM },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		machine_build(&M);
		M.rsdp[cases[i].off] ^= 0x40;
		enum acpi_status st = machine_init(&out);
		CHECK(st == cases[i].want, "%s: got %s", cases[i].what, acpi_status_str(st));
		CHECK(A.count == 0, "%s: count %u", cases[i].what, A.count);
		CHECK(fake_clean(&M.fm), "live %u", M.fm.nlive);
		CHECK(strstr(out, acpi_status_str(cases[i].want)) != NULL, "%s: %s", cases[i].what, out);
		check_split(cases[i].what, &M.fm, M_RSDP, out);
		fake_free(&M.fm);
	}

	/* Absurd RSDP length: rejected before it is mapped. */
	machine_build(&M);
	put32(M.rsdp + 20, 0x7fffffff);
	rsdp_fix(M.rsdp);   /* v1 part still valid */
	CHECK(machine_init(&out) == ACPI_E_LENGTH, "%s", out);
	CHECK(M.fm.max_map <= ACPI_RSDP_MAX_LEN, "mapped %" PRIu64, M.fm.max_map);
	fake_free(&M.fm);

	/* No RSDP / RSDP where nothing is mapped. */
	host_capture_begin();
	CHECK(acpi_init(&A, &M.fm.host, 0) == ACPI_E_NO_RSDP, "null rsdp");
	CHECK(acpi_init(&A, &M.fm.host, 0x12345) == ACPI_E_MAP, "unmapped rsdp");
	host_capture_end();
}

/* A table with a bad checksum.  Expect: listed with checksum=BAD, absent
 * for lookups, its parser never runs. */
static void test_bad_checksum_is_absent(void)
{
	const char *out;
	machine_build(&M);
	M.tab[1][50] ^= 1;    /* inside the MADT */
	REQUIRE(machine_init(&out) == ACPI_OK, "%s", out);
	CHECK(strstr(out, "acpi: APIC phys=0x0000000000110000 len=154 rev=5 oem=\"MEMBT\" checksum=BAD\n"),
	      "%s", out);
	CHECK(acpi_find(&A, "APIC", 0) == NULL, "bad APIC is findable");
	struct acpi_madt_info *mi = malloc(sizeof(*mi));
	CHECK(acpi_get_madt(&A, mi) == ACPI_E_NOT_FOUND, "MADT parsed");
	free(mi);
	CHECK(acpi_find(&A, "HPET", 0), "other tables stay");
	CHECK(fake_clean(&M.fm), "live %u", M.fm.nlive);
	fake_free(&M.fm);
}

/*
 * Table lengths:  |hdr 36|......table......|
 *   len 20 (< header)          -> bad length
 *   len past the blob          -> cannot map (the whole table is mapped)
 *   len 0x40000000 (> bound)   -> bad length, never mapped
 */
static void test_table_lengths(void)
{
	const char *out;
	struct { uint32_t len; enum acpi_status want; } cases[] = {
		{ 20, ACPI_E_LENGTH }, { 0, ACPI_E_LENGTH }, { 35, ACPI_E_LENGTH },
		{ 155, ACPI_E_MAP }, { 0x10000, ACPI_E_MAP },
		{ ACPI_TABLE_MAX_LEN + 1, ACPI_E_LENGTH }, { 0xffffffff, ACPI_E_LENGTH },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		machine_build(&M);
		put32(M.tab[1] + 4, cases[i].len);
		REQUIRE(machine_init(&out) == ACPI_OK, "%s", out);
		CHECK(A.tables[1].status == cases[i].want, "len %u: %s", cases[i].len,
		      acpi_status_str(A.tables[1].status));
		CHECK(strstr(out, acpi_status_str(cases[i].want)), "len %u:\n%s", cases[i].len, out);
		CHECK(M.fm.max_map <= ACPI_TABLE_MAX_LEN, "mapped %" PRIu64, M.fm.max_map);
		CHECK(A.count == 5, "others still listed: %u", A.count);
		CHECK(fake_clean(&M.fm), "live %u", M.fm.nlive);
		fake_free(&M.fm);
	}
}

/* A table whose pa + length wraps past 2^64.  Expect: bad length. */
static void test_table_wraps(void)
{
	const char *out;
	machine_build(&M);
	uint64_t top = 0xfffffffffffff000ull;
	uint8_t *t = fake_add(&M.fm, top, M.tab[2], 4096 > M.len[2] ? M.len[2] : 4096);
	put32(t + 4, 0x2000);
	put64(M.xsdt + 36 + 8 * 2, top);
	fake_fix_checksum(M.xsdt, 36 + 8 * M_NTAB);
	REQUIRE(machine_init(&out) == ACPI_OK, "%s", out);
	CHECK(A.tables[2].status == ACPI_E_LENGTH, "%s", acpi_status_str(A.tables[2].status));
	CHECK(fake_clean(&M.fm), "live %u", M.fm.nlive);
	fake_free(&M.fm);
}

/*
 * XSDT length 36 + 8*4 + 5: the extra 5 bytes hold no whole entry.
 * Expect: warning, 4 entries used, nothing read past the length.
 */
static void test_xsdt_odd_length(void)
{
	const char *out;
	machine_build(&M);
	uint32_t len = 36 + 8 * M_NTAB + 5;
	uint8_t *x = calloc(1, len);
	memcpy(x, M.xsdt, 36 + 8 * M_NTAB);
	put32(x + 4, len);
	fake_fix_checksum(x, len);
	put64(M.rsdp + 24, 0x90000);
	rsdp_fix(M.rsdp);
	fake_add(&M.fm, 0x90000, x, len);
	free(x);
	REQUIRE(machine_init(&out) == ACPI_OK, "%s", out);
	CHECK(A.root_warning == ACPI_E_ROOT_LENGTH, "%s", out);
	CHECK(A.root_entries == M_NTAB, "entries %u", A.root_entries);
	CHECK(strstr(out, "acpi: XSDT len=73 is not 36 + 8*n: using 4 entries"), "%s", out);
	CHECK(fake_clean(&M.fm), "live %u", M.fm.nlive);
	check_split("xsdt odd length", &M.fm, M_RSDP, out);
	fake_free(&M.fm);
}

/*
 * XSDT entries pointing at garbage:
 *   entry 0 -> 0 (null), entry 1 -> unmapped, entry 2 -> random bytes,
 *   entry 3 -> valid MCFG.  Expect: three errors, MCFG still usable.
 */
static void test_xsdt_garbage_entries(void)
{
	const char *out;
	machine_build(&M);
	uint8_t junk[4096];
	srand(5);
	for (unsigned i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)rand();
	put32(junk + 4, 4096);   /* plausible length, surely a bad checksum */
	if (acpi_checksum_ok(junk, 4096))
		junk[100] ^= 1;
	fake_add(&M.fm, 0x300000, junk, sizeof(junk));
	put64(M.xsdt + 36, 0);
	put64(M.xsdt + 44, 0x7777000);
	put64(M.xsdt + 52, 0x300000);
	fake_fix_checksum(M.xsdt, 36 + 8 * M_NTAB);
	REQUIRE(machine_init(&out) == ACPI_OK, "%s", out);
	CHECK(A.tables[0].status == ACPI_E_NULL_ENTRY, "%s", acpi_status_str(A.tables[0].status));
	CHECK(A.tables[1].status == ACPI_E_MAP, "%s", acpi_status_str(A.tables[1].status));
	CHECK(A.tables[2].status == ACPI_E_CHECKSUM, "%s", acpi_status_str(A.tables[2].status));
	CHECK(A.tables[3].status == ACPI_OK, "%s", acpi_status_str(A.tables[3].status));
	CHECK(strstr(out, "acpi: table phys=0x0000000007777000: cannot map, ignored"), "%s", out);
	CHECK(A.count == 4, "no FADT, so no DSDT: %u", A.count);
	CHECK(fake_clean(&M.fm), "live %u", M.fm.nlive);
	check_split("garbage entries", &M.fm, M_RSDP, out);
	fake_free(&M.fm);
}

/* A bad XSDT (checksum, or wrong signature).  Expect: the RSDT is used. */
static void test_bad_xsdt_falls_back(void)
{
	const char *out;
	for (int how = 0; how < 2; how++) {
		machine_build(&M);
		if (how == 0) {
			M.xsdt[40] ^= 1;
		} else {
			memcpy(M.xsdt, "XSDX", 4);
			fake_fix_checksum(M.xsdt, 36 + 8 * M_NTAB);
		}
		REQUIRE(machine_init(&out) == ACPI_OK, "%s", out);
		CHECK(memcmp(A.root_sig, "RSDT", 4) == 0, "%s", out);
		CHECK(strstr(out, "falling back to the RSDT"), "%s", out);
		CHECK(A.count == 5, "count %u", A.count);
		CHECK(fake_clean(&M.fm), "live %u", M.fm.nlive);
		check_split(how ? "xsdt signature" : "xsdt checksum", &M.fm, M_RSDP, out);
		fake_free(&M.fm);
	}
}

/* FADT -> DSDT whose signature is not DSDT.  Expect: bad signature. */
static void test_dsdt_signature(void)
{
	const char *out;
	machine_build(&M);
	memcpy(M.dsdt, "SSDT", 4);
	fake_fix_checksum(M.dsdt, 8328);
	REQUIRE(machine_init(&out) == ACPI_OK, "%s", out);
	CHECK(A.tables[4].status == ACPI_E_SIGNATURE, "%s", acpi_status_str(A.tables[4].status));
	CHECK(!acpi_find(&A, "SSDT", 0) && !acpi_find(&A, "DSDT", 0), "%s", out);
	/* Listed as loaded, then again as refused. */
	const char *ok = strstr(out, "acpi: SSDT phys=0x0000000000200000 len=8328 rev=");
	const char *bad = strstr(out, "acpi: SSDT phys=0x0000000000200000 len=8328: bad signature, ignored\n");
	CHECK(ok && bad && ok < bad && strstr(ok, "checksum=ok\n") < bad, "%s", out);
	char ref[4096];
	snprintf(ref, sizeof(ref), "%s", out);
	check_split("dsdt signature", &M.fm, M_RSDP, ref);
	/* Control: a record without the renamed DSDT reports otherwise. */
	A.dsdt_renamed = ACPI_NO_INDEX;
	host_capture_begin();
	acpi_report(&A);
	CHECK(strcmp(host_capture_end(), ref) != 0, "control: the report ignores dsdt_renamed");
	fake_free(&M.fm);
}

/* More entries than ACPI_MAX_TABLES.  Expect: the rest counted, reported. */
static void test_too_many_tables(void)
{
	const char *out;
	machine_build(&M);
	unsigned n = ACPI_MAX_TABLES + 10;
	uint32_t len = 36 + 8 * n;
	uint8_t *x = calloc(1, len);
	memcpy(x, M.xsdt, 36);
	put32(x + 4, len);
	for (unsigned i = 0; i < n; i++)
		put64(x + 36 + 8 * i, M_TAB(2));
	fake_fix_checksum(x, len);
	fake_add(&M.fm, 0x90000, x, len);
	free(x);
	put64(M.rsdp + 24, 0x90000);
	rsdp_fix(M.rsdp);
	REQUIRE(machine_init(&out) == ACPI_OK, "%s", out);
	CHECK(A.count == ACPI_MAX_TABLES && A.dropped == 10, "count %u dropped %u", A.count, A.dropped);
	CHECK(strstr(out, "10 tables beyond"), "%s", out);
	check_split("too many tables", &M.fm, M_RSDP, out);
	fake_free(&M.fm);
}

/* Every status has a distinct name; out-of-range values do not crash. */
static void test_status_names(void)
{
	for (int i = 0; i < ACPI_STATUS_COUNT; i++) {
		CHECK(strcmp(acpi_status_str(i), "unknown status") != 0, "status %d unnamed", i);
		for (int j = 0; j < i; j++)
			CHECK(strcmp(acpi_status_str(i), acpi_status_str(j)) != 0, "%d == %d", i, j);
	}
	CHECK(strcmp(acpi_status_str(ACPI_STATUS_COUNT), "unknown status") == 0, "count");
	CHECK(strcmp(acpi_status_str((enum acpi_status)-1), "unknown status") == 0, "-1");
}

int main(void)
{
	RUN(test_q35_captured);
	RUN(test_pc_captured);
	RUN(test_map_failures);
	RUN(test_synthetic_ok);
	RUN(test_rsdp_rev0_uses_rsdt);
	RUN(test_rsdp_errors);
	RUN(test_bad_checksum_is_absent);
	RUN(test_table_lengths);
	RUN(test_table_wraps);
	RUN(test_xsdt_odd_length);
	RUN(test_xsdt_garbage_entries);
	RUN(test_bad_xsdt_falls_back);
	RUN(test_dsdt_signature);
	RUN(test_too_many_tables);
	RUN(test_status_names);
	return harness_done("acpi");
}
