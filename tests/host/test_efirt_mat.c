/*
 * tests/host/test_efirt_mat.c - the runtime-region collector, the Memory
 * Attributes Table validator and permission runs (kernel/efirt/mat.c), and
 * the table checks (kernel/efirt/tables.c), against a reference written
 * here: a page-by-page model that knows nothing of mat.c's range helpers.
 *
 * Controls: every rule of mat.h has a table that breaks exactly it (bad
 * version, descriptor smaller than the struct, counts whose product
 * overflows the table, an entry straddling two regions, a type mismatch,
 * neither RO nor XP, ranges wrapping 2^64, an entry in no region,
 * overlapping runtime descriptors), and each must be refused for that
 * reason; the random run compares every verdict and every page's
 * permission with the model.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/efirt/mat.h"
#include "kernel/efirt/tables.h"
#include "tests/host/harness.h"

#define PG 4096ULL

/* A raw map / MAT body builder: descriptors of `size` bytes, the bytes
 * past the 40-byte struct filled with 0xa5 (they must be ignored). */
struct builder {
	uint8_t buf[64 * 1024];
	uint32_t size;
	uint32_t n;
	uint32_t off;   /* where descriptors start (16 for a MAT) */
};

static void b_init(struct builder *b, uint32_t size, uint32_t off)
{
	memset(b->buf, 0xa5, sizeof(b->buf));
	b->size = size;
	b->n = 0;
	b->off = off;
}

static void b_add(struct builder *b, uint32_t type, uint64_t pa, uint64_t pages, uint64_t attr)
{
	struct efi_memory_desc d = { .type = type, .phys_start = pa, .num_pages = pages,
				     .attribute = attr };
	memcpy(b->buf + b->off + (size_t)b->n * b->size, &d, sizeof(d));
	b->n++;
}

/* Finishes a MAT: header with version v. */
static uint64_t b_mat(struct builder *b, uint32_t v)
{
	struct efi_mat_header h = { .version = v, .number_of_entries = b->n,
				    .descriptor_size = b->size };
	memcpy(b->buf, &h, sizeof(h));
	return sizeof(h) + (uint64_t)b->n * b->size;
}

#define RT EFI_MEMORY_RUNTIME
#define CODE EFI_RUNTIME_SERVICES_CODE
#define DATA EFI_RUNTIME_SERVICES_DATA

static struct efirt_region regs[256];
static size_t nregs;
static struct efirt_mat_entry ents[4096];

/* The usual raw map of these tests:
 *   0x1000 [conv 16]  0x100000 [RT code 8][RT data 4]  0x200000 [RT data 2]
 *   0xfee00000 [MMIO rt 1]
 * Expect: four runtime regions, map order. */
static void std_map(void)
{
	struct builder b;
	b_init(&b, 48, 0);
	b_add(&b, 7, 0x1000, 16, EFI_MEMORY_WB);
	b_add(&b, CODE, 0x100000, 8, RT | EFI_MEMORY_WB);
	b_add(&b, DATA, 0x108000, 4, RT | EFI_MEMORY_WB);
	b_add(&b, DATA, 0x200000, 2, RT | EFI_MEMORY_WB);
	b_add(&b, EFI_MEMORY_MAPPED_IO, 0xfee00000, 1, RT | EFI_MEMORY_UC);
	int s = efirt_regions_collect(b.buf, (uint64_t)b.n * b.size, b.size, regs, 256, &nregs);
	CHECK(s == EFIRT_OK && nregs == 4, "collect: %d, %zu regions", s, nregs);
}

static void test_collect(void)
{
	std_map();
	REQUIRE(nregs == 4, "std map");
	CHECK(regs[0].pa == 0x100000 && regs[0].pages == 8 && regs[0].type == CODE &&
	      regs[0].index == 1, "region 0");
	CHECK(regs[3].pa == 0xfee00000 && regs[3].index == 4, "region 3");
}

/* Controls of the collector: overlap, zero pages, wrap, unaligned, stride
 * below 40, more than cap.  Expect: each refused, *n = 0. */
static void test_collect_refusals(void)
{
	struct {
		uint64_t pa, pages;
		int want;
	} c[] = {
		{ 0x101000, 1, EFIRT_EOVERLAP },                /* inside the code region */
		{ 0x300000, 0, EFIRT_EREGION },
		{ 0xfffffffffffff000ULL, 2, EFIRT_EREGION },    /* wraps 2^64 */
		{ 0x300800, 1, EFIRT_EREGION },                 /* unaligned */
		{ 0x1000, (UINT64_MAX >> 12) + 1, EFIRT_EREGION }, /* bytes overflow */
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct builder b;
		b_init(&b, 40, 0);
		b_add(&b, CODE, 0x100000, 8, RT);
		b_add(&b, DATA, c[i].pa, c[i].pages, RT);
		size_t n = 99;
		int s = efirt_regions_collect(b.buf, (uint64_t)b.n * b.size, b.size, regs, 256, &n);
		CHECK(s == c[i].want && n == 0, "case %zu: %s, n %zu", i, efirt_status_str(s), n);
	}
	/* The last page of the address space is refused (its end, 2^64, is
	 * not representable); the one below it is fine. */
	struct builder b;
	b_init(&b, 40, 0);
	b_add(&b, DATA, 0xfffffffffffff000ULL, 1, RT);
	size_t n;
	CHECK(efirt_regions_collect(b.buf, 40, 40, regs, 256, &n) == EFIRT_EREGION && n == 0,
	      "top page");
	b_init(&b, 40, 0);
	b_add(&b, DATA, 0xffffffffffffe000ULL, 1, RT);
	CHECK(efirt_regions_collect(b.buf, 40, 40, regs, 256, &n) == EFIRT_OK && n == 1,
	      "page below the top");
	CHECK(efirt_regions_collect(b.buf, 40, 32, regs, 256, &n) == EFIRT_EDESCSIZE && n == 0,
	      "stride 32");
	b_add(&b, DATA, 0x1000, 1, RT);
	CHECK(efirt_regions_collect(b.buf, 80, 40, regs, 1, &n) == EFIRT_EFULL && n == 0, "cap 1");
}

/* A good MAT over std_map: code split RX | RO+XP | XP, data XP, second data
 * region RO+XP.  Expect: 5 of 5 applied; per page the entry's permission. */
static void test_mat_good(void)
{
	std_map();
	struct builder b;
	struct efirt_mat_result r;
	b_init(&b, 48, 16);
	b_add(&b, CODE, 0x100000, 4, RT | EFI_MEMORY_RO);
	b_add(&b, CODE, 0x104000, 2, RT | EFI_MEMORY_RO | EFI_MEMORY_XP);
	b_add(&b, CODE, 0x106000, 2, RT | EFI_MEMORY_XP);
	b_add(&b, DATA, 0x108000, 4, RT | EFI_MEMORY_XP);
	b_add(&b, DATA, 0x200000, 2, RT | EFI_MEMORY_RO | EFI_MEMORY_XP);
	uint64_t len = b_mat(&b, 1);
	REQUIRE(efirt_mat_parse(b.buf, len, regs, nregs, ents, 4096, &r) == EFIRT_OK, "parse");
	CHECK(r.entries == 5 && r.applied == 5 && r.first_bad_status == EFIRT_OK,
	      "%u entries %u applied", r.entries, r.applied);
	uint64_t end;
	CHECK(efirt_perm_at(regs, 0, ents, r.applied, 0x100000, &end) == EFIRT_PERM_RX &&
	      end == 0x104000, "code RO: end %llx", (unsigned long long)end);
	CHECK(efirt_perm_at(regs, 0, ents, r.applied, 0x105000, &end) == EFIRT_PERM_R &&
	      end == 0x106000, "code RO+XP");
	CHECK(efirt_perm_at(regs, 0, ents, r.applied, 0x106000, &end) == EFIRT_PERM_RW &&
	      end == 0x108000, "code XP");
	CHECK(efirt_perm_at(regs, 3, ents, r.applied, 0xfee00000, &end) == EFIRT_PERM_RW &&
	      end == 0xfee01000, "MMIO default");
	/* Version 2 (UEFI 2.10) is the same table. */
	len = b_mat(&b, 2);
	CHECK(efirt_mat_parse(b.buf, len, regs, nregs, ents, 4096, &r) == EFIRT_OK &&
	      r.applied == 5, "version 2");
}

/* Controls: one bad entry among good ones is skipped for its reason;
 * Expect: applied = 1 (the good entry), first_bad_status = reason. */
static void test_mat_bad_entries(void)
{
	std_map();
	struct {
		const char *name;
		uint32_t type;
		uint64_t pa, pages, attr;
		int want;
	} c[] = {
		{ "straddles code into data", CODE, 0x106000, 4, RT | EFI_MEMORY_RO, EFIRT_ESTRADDLE },
		{ "straddles the end", DATA, 0x200000, 3, RT | EFI_MEMORY_XP, EFIRT_ESTRADDLE },
		{ "type mismatch", DATA, 0x100000, 1, RT | EFI_MEMORY_XP, EFIRT_EMISMATCH },
		{ "neither RO nor XP", CODE, 0x100000, 1, RT, EFIRT_EPERM },
		{ "not a runtime type", 7, 0x100000, 1, RT | EFI_MEMORY_XP, EFIRT_ETYPE },
		{ "MMIO type", EFI_MEMORY_MAPPED_IO, 0xfee00000, 1, RT | EFI_MEMORY_XP, EFIRT_ETYPE },
		{ "wraps 2^64", DATA, 0xffffffffffffe000ULL, 4, RT | EFI_MEMORY_XP, EFIRT_ERANGE },
		{ "pages overflow", DATA, 0x200000, 1ULL << 60, RT | EFI_MEMORY_XP, EFIRT_ERANGE },
		{ "0 pages", DATA, 0x200000, 0, RT | EFI_MEMORY_XP, EFIRT_ERANGE },
		{ "unaligned", DATA, 0x200800, 1, RT | EFI_MEMORY_XP, EFIRT_ERANGE },
		{ "in no region", DATA, 0x300000, 1, RT | EFI_MEMORY_XP, EFIRT_ENOREGION },
		{ "starts below a region", DATA, 0x1ff000, 2, RT | EFI_MEMORY_XP, EFIRT_ENOREGION },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct builder b;
		struct efirt_mat_result r;
		b_init(&b, 40, 16);
		b_add(&b, DATA, 0x108000, 4, RT | EFI_MEMORY_XP);
		b_add(&b, c[i].type, c[i].pa, c[i].pages, c[i].attr);
		uint64_t len = b_mat(&b, 1);
		int s = efirt_mat_parse(b.buf, len, regs, nregs, ents, 4096, &r);
		CHECK(s == EFIRT_OK && r.entries == 2 && r.applied == 1 && r.first_bad == 1 &&
		      r.first_bad_status == c[i].want, "%s: applied %u, reason %s", c[i].name,
		      r.applied, efirt_status_str(r.first_bad_status));
	}
}

/* Controls of the header: version 0 and 3, descriptor size 32, a count
 * whose product with the size is past EFIRT_MAT_MAX_BYTES or overflows 32
 * bits, a table shorter than it says, more entries than room.  Expect:
 * each refused whole, nothing applied. */
static void test_mat_bad_header(void)
{
	std_map();
	struct efirt_mat_result r;
	struct builder b;
	b_init(&b, 48, 16);
	b_add(&b, DATA, 0x108000, 4, RT | EFI_MEMORY_XP);
	uint64_t len = b_mat(&b, 1);
	struct efi_mat_header *h = (struct efi_mat_header *)b.buf;
	struct {
		const char *name;
		uint32_t version, count, size;
		uint64_t len;
		size_t cap;
		int want;
	} c[] = {
		{ "version 0", 0, 1, 48, len, 4096, EFIRT_EVERSION },
		{ "version 3", 3, 1, 48, len, 4096, EFIRT_EVERSION },
		{ "entry size 32", 1, 1, 32, len, 4096, EFIRT_EDESCSIZE },
		{ "entry size 0", 1, 1, 0, len, 4096, EFIRT_EDESCSIZE },
		{ "count x size overflows 32 bits", 1, 0xffffffffu, 0xffffffffu, len, 4096, EFIRT_ECOUNT },
		{ "count x size past the cap", 1, 0x100000, 48, UINT64_MAX, 1u << 24, EFIRT_ECOUNT },
		{ "table shorter than count", 1, 2, 48, len, 4096, EFIRT_ECOUNT },
		{ "header cut", 1, 1, 48, 8, 4096, EFIRT_ECOUNT },
		{ "more entries than room", 1, 1, 48, len, 0, EFIRT_EFULL },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		*h = (struct efi_mat_header){ c[i].version, c[i].count, c[i].size, 0 };
		int s = efirt_mat_parse(b.buf, c[i].len, regs, nregs, ents, c[i].cap, &r);
		CHECK(s == c[i].want && r.applied == 0, "%s: %s, applied %u", c[i].name,
		      efirt_status_str(s), r.applied);
	}
	/* And the same header, repaired, passes (the controls fail for their
	 * one reason, not for the fixture). */
	*h = (struct efi_mat_header){ 1, 1, 48, 0 };
	CHECK(efirt_mat_parse(b.buf, len, regs, nregs, ents, 4096, &r) == EFIRT_OK && r.applied == 1,
	      "repaired header");
}

/* ---- the reference model: page by page, 128-bit arithmetic ---- */

typedef unsigned __int128 u128;

/* Region index holding byte pa, or -1. */
static int ref_region_of(const struct efirt_region *r, size_t n, u128 pa)
{
	for (size_t i = 0; i < n; i++)
		if (pa >= r[i].pa && pa < (u128)r[i].pa + (u128)r[i].pages * PG)
			return (int)i;
	return -1;
}

static int ref_check(const struct efi_memory_desc *e, const struct efirt_region *r, size_t n)
{
	if (e->type != CODE && e->type != DATA)
		return EFIRT_ETYPE;
	u128 end = (u128)e->phys_start + (u128)e->num_pages * PG;
	if (e->num_pages == 0 || e->phys_start % PG || end >= ((u128)1 << 64))
		return EFIRT_ERANGE;
	int g = ref_region_of(r, n, e->phys_start);
	if (g < 0)
		return EFIRT_ENOREGION;
	for (u128 p = e->phys_start; p < end; p += PG)
		if (ref_region_of(r, n, p) != g)
			return EFIRT_ESTRADDLE;
	if (r[g].type != e->type)
		return EFIRT_EMISMATCH;
	if (!(e->attribute & (EFI_MEMORY_RO | EFI_MEMORY_XP)))
		return EFIRT_EPERM;
	return EFIRT_OK;
}

static unsigned ref_perm(uint64_t attr)
{
	int ro = !!(attr & EFI_MEMORY_RO), xp = !!(attr & EFI_MEMORY_XP);
	return ro && xp ? EFIRT_PERM_R : ro ? EFIRT_PERM_RX : EFIRT_PERM_RW;
}

/* Random maps on 64 pages with 1-6 runtime regions and 0-12 MAT entries
 * (mostly near the regions, some wrapping, some of the wrong type); every
 * verdict and every runtime page's permission against the model.
 * Expect: no difference in 20000 rounds. */
static void test_mat_random(void)
{
	srand(14);
	unsigned diffs = 0, applied_total = 0, bad_total = 0;
	for (int round = 0; round < 20000 && diffs < 5; round++) {
		struct builder map, mat;
		uint32_t stride = 40 + 8 * (uint32_t)(rand() % 3);
		b_init(&map, stride, 0);
		uint64_t base = (rand() % 4 == 0) ? 0xfffffffffffc0000ULL : 0x100000ULL;
		uint64_t pg = 0;
		int nr = 1 + rand() % 6;
		for (int i = 0; i < nr && pg < 60; i++) {
			pg += rand() % 3;                 /* gaps, sometimes none */
			uint64_t len = 1 + rand() % 8;
			if (pg + len > 63)   /* the top page stays free: ends < 2^64 */
				break;
			b_add(&map, rand() % 2 ? CODE : DATA, base + pg * PG, len, RT);
			if (rand() % 4 == 0)
				b_add(&map, 7, 0x1000, 1, 0);   /* non-runtime noise */
			pg += len;
		}
		REQUIRE(efirt_regions_collect(map.buf, (uint64_t)map.n * stride, stride, regs, 256,
					      &nregs) == EFIRT_OK, "round %d collect", round);
		uint32_t mstride = 40 + 4 * (uint32_t)(rand() % 4);
		b_init(&mat, mstride, 16);
		int ne = rand() % 13;
		struct efi_memory_desc want[16];
		for (int i = 0; i < ne; i++) {
			uint32_t t = rand() % 10 == 0 ? 11 : rand() % 2 ? CODE : DATA;
			uint64_t pa = base + (uint64_t)(rand() % 70) * PG - (rand() % 20 == 0 ? 0x800u : 0u);
			uint64_t pages = rand() % 20 == 0 ? (1ULL << 52) + rand() % 5 : (uint64_t)(rand() % 6);
			uint64_t attr = RT | (rand() % 2 ? EFI_MEMORY_RO : 0) | (rand() % 2 ? EFI_MEMORY_XP : 0);
			b_add(&mat, t, pa, pages, attr);
			want[i] = (struct efi_memory_desc){ .type = t, .phys_start = pa,
							    .num_pages = pages, .attribute = attr };
		}
		uint64_t len = b_mat(&mat, 1);
		struct efirt_mat_result r;
		REQUIRE(efirt_mat_parse(mat.buf, len, regs, nregs, ents, 4096, &r) == EFIRT_OK,
			"round %d parse", round);
		/* Verdicts. */
		uint32_t k = 0, first_bad = 0;
		int first_status = EFIRT_OK;
		struct efi_memory_desc good[16];
		for (int i = 0; i < ne; i++) {
			int s = ref_check(&want[i], regs, nregs);
			if (s == EFIRT_OK)
				good[k++] = want[i];
			else if (first_status == EFIRT_OK)
				first_bad = (uint32_t)i, first_status = s;
		}
		if (r.applied != k || r.first_bad_status != first_status ||
		    (first_status != EFIRT_OK && r.first_bad != first_bad)) {
			diffs++;
			CHECK(0, "round %d: applied %u want %u, first bad %u (%s) want %u (%s)", round,
			      r.applied, k, r.first_bad, efirt_status_str(r.first_bad_status), first_bad,
			      efirt_status_str(first_status));
			continue;
		}
		applied_total += k;
		bad_total += (uint32_t)ne - k;
		/* Every runtime page: the first applied entry holding it, else
		 * the region's default; walked through efirt_perm_at's runs. */
		for (size_t g = 0; g < nregs; g++) {
			uint64_t pa = regs[g].pa, end = regs[g].pa + regs[g].pages * PG;
			while (pa != end) {
				uint64_t run_end;
				unsigned p = efirt_perm_at(regs, g, ents, r.applied, pa, &run_end);
				if (!(run_end > pa && run_end <= end && (run_end - pa) % PG == 0)) {
					diffs++;
					CHECK(0, "round %d: run end %llx after %llx", round,
					      (unsigned long long)run_end, (unsigned long long)pa);
					break;
				}
				for (uint64_t q = pa; q != run_end; q += PG) {
					unsigned w = regs[g].type == CODE ? EFIRT_PERM_RX : EFIRT_PERM_RW;
					for (uint32_t i = 0; i < k; i++)
						if (q >= good[i].phys_start &&
						    (u128)q < (u128)good[i].phys_start + (u128)good[i].num_pages * PG) {
							w = ref_perm(good[i].attribute);
							break;
						}
					if (w != p) {
						diffs++;
						CHECK(0, "round %d: page %llx perm %u, model %u", round,
						      (unsigned long long)q, p, w);
						break;
					}
				}
				pa = run_end;
			}
		}
	}
	CHECK(applied_total > 1000 && bad_total > 1000, "random mix: %u applied, %u skipped",
	      applied_total, bad_total);
}

/* A system table with a right CRC; controls: a byte changed, the
 * signature, revision 0, header sizes 96 and 8192.  Expect: only the
 * good one passes. CRC-32 of "123456789" is 0xcbf43926 (the check value
 * of CRC-32/ISO-HDLC). */
static void test_tables(void)
{
	CHECK(efirt_crc32("123456789", 9) == 0xcbf43926u, "crc32 check value %x",
	      efirt_crc32("123456789", 9));
	uint8_t buf[EFIRT_TABLE_MAX + 64];
	memset(buf, 0x5c, sizeof(buf));
	struct efi_system_table st = { .hdr = { EFI_SYSTEM_TABLE_SIGNATURE, 2u << 16 | 70,
						sizeof(st), 0, 0 },
				       .runtime_services = 0x7f000000 };
	memcpy(buf, &st, sizeof(st));
	/* The CRC over the header-size bytes with the CRC field as 0. */
	uint32_t crc = efirt_crc32(buf, sizeof(st));
	memcpy(buf + offsetof(struct efi_table_header, crc32), &crc, 4);
	struct efi_table_header h;
	memcpy(&h, buf, sizeof(h));
	CHECK(efirt_header_check(&h, EFI_SYSTEM_TABLE_SIGNATURE, sizeof(st)) == EFIRT_OK, "good hdr");
	CHECK(efirt_crc_check(buf) == EFIRT_OK, "good crc");
	buf[100] ^= 1;
	CHECK(efirt_crc_check(buf) == EFIRT_ECRC, "changed byte");
	buf[100] ^= 1;
	CHECK(efirt_header_check(&h, EFI_RUNTIME_SERVICES_SIGNATURE, sizeof(st)) == EFIRT_ESIGNATURE,
	      "signature");
	struct efi_table_header bad = h;
	bad.revision = 0x00000063;
	CHECK(efirt_header_check(&bad, EFI_SYSTEM_TABLE_SIGNATURE, sizeof(st)) == EFIRT_EREVISION,
	      "revision 0.99");
	bad = h;
	bad.header_size = 96;
	CHECK(efirt_header_check(&bad, EFI_SYSTEM_TABLE_SIGNATURE, sizeof(st)) == EFIRT_EHDRSIZE,
	      "size 96");
	bad.header_size = 8192;
	CHECK(efirt_header_check(&bad, EFI_SYSTEM_TABLE_SIGNATURE, sizeof(st)) == EFIRT_EHDRSIZE,
	      "size 8192");
	/* A longer header (a later revision) is summed over all its bytes. */
	h.header_size = 200;
	memcpy(buf, &h, sizeof(h));
	CHECK(efirt_crc_check(buf) == EFIRT_ECRC, "longer header, old crc");
	memset(buf + offsetof(struct efi_table_header, crc32), 0, 4);
	crc = efirt_crc32(buf, 200);
	memcpy(buf + offsetof(struct efi_table_header, crc32), &crc, 4);
	CHECK(efirt_crc_check(buf) == EFIRT_OK, "longer header, new crc");
}

/* The configuration-table lookup: the MAT GUID among others, the first of
 * two matches; a GUID differing in its last byte is not found. */
static void test_config(void)
{
	static const struct efi_guid mat = { EFI_MEMORY_ATTRIBUTES_TABLE_GUID_BYTES };
	struct efi_config_entry t[4] = { 0 };
	memset(&t[0].guid, 1, 16);
	t[1].guid = mat;
	t[1].table = 0x7e000000;
	t[2].guid = mat;
	t[2].table = 0x1234000;
	uint64_t got = 0;
	CHECK(efirt_config_find(t, 4, &mat, &got) && got == 0x7e000000, "found %llx",
	      (unsigned long long)got);
	CHECK(!efirt_config_find(t, 1, &mat, &got), "not in the first entry");
	struct efi_guid other = mat;
	other.b[15] ^= 1;
	CHECK(!efirt_config_find(t, 4, &other, &got), "near miss");
}

/* GetTime's answer (tables.h efirt_time_check) against the ranges of UEFI
 * 2.10 8.3 written out here, and the Gregorian month lengths: a good time
 * and the edges pass; each field one past its range is refused, as are
 * 29 February of a year that is not a leap year (1900, 2026) and 31 April.
 * Control: the good time itself passes (the refusals are for their field,
 * not the fixture). */
static void test_time(void)
{
	const struct efi_time good = { .year = 2026, .month = 11, .day = 21, .hour = 18,
				       .minute = 3, .second = 12, .time_zone = 2047 };
	CHECK(efirt_time_check(&good) == EFIRT_OK, "good time");
	struct {
		const char *name;
		uint16_t year;
		uint8_t month, day, hour, minute, second;
		uint32_t ns;
		int16_t tz;
		int want;
	} c[] = {
		{ "lowest", 1900, 1, 1, 0, 0, 0, 0, -1440, EFIRT_OK },
		{ "highest", 9999, 12, 31, 23, 59, 59, 999999999, 1440, EFIRT_OK },
		{ "29 Feb 2000", 2000, 2, 29, 0, 0, 0, 0, 2047, EFIRT_OK },
		{ "29 Feb 2024", 2024, 2, 29, 0, 0, 0, 0, 0, EFIRT_OK },
		{ "30 Apr", 2026, 4, 30, 0, 0, 0, 0, 0, EFIRT_OK },
		{ "year 0", 0, 1, 1, 0, 0, 0, 0, 0, EFIRT_ETIME },
		{ "year 1899", 1899, 12, 31, 0, 0, 0, 0, 0, EFIRT_ETIME },
		{ "year 10000", 10000, 1, 1, 0, 0, 0, 0, 0, EFIRT_ETIME },
		{ "month 0", 2026, 0, 1, 0, 0, 0, 0, 0, EFIRT_ETIME },
		{ "month 13", 2026, 13, 1, 0, 0, 0, 0, 0, EFIRT_ETIME },
		{ "day 0", 2026, 1, 0, 0, 0, 0, 0, 0, EFIRT_ETIME },
		{ "day 32", 2026, 1, 32, 0, 0, 0, 0, 0, EFIRT_ETIME },
		{ "31 Apr", 2026, 4, 31, 0, 0, 0, 0, 0, EFIRT_ETIME },
		{ "29 Feb 2026", 2026, 2, 29, 0, 0, 0, 0, 0, EFIRT_ETIME },
		{ "29 Feb 1900", 1900, 2, 29, 0, 0, 0, 0, 0, EFIRT_ETIME },
		{ "hour 24", 2026, 1, 1, 24, 0, 0, 0, 0, EFIRT_ETIME },
		{ "minute 60", 2026, 1, 1, 0, 60, 0, 0, 0, EFIRT_ETIME },
		{ "second 60", 2026, 1, 1, 0, 0, 60, 0, 0, EFIRT_ETIME },
		{ "ns 10^9", 2026, 1, 1, 0, 0, 0, 1000000000, 0, EFIRT_ETIME },
		{ "zone -1441", 2026, 1, 1, 0, 0, 0, 0, -1441, EFIRT_ETIME },
		{ "zone 1441", 2026, 1, 1, 0, 0, 0, 0, 1441, EFIRT_ETIME },
		{ "all ones", 0xffff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xffffffffu, -1, EFIRT_ETIME },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct efi_time t = { .year = c[i].year, .month = c[i].month, .day = c[i].day,
				      .hour = c[i].hour, .minute = c[i].minute,
				      .second = c[i].second, .nanosecond = c[i].ns,
				      .time_zone = c[i].tz };
		int s = efirt_time_check(&t);
		CHECK(s == c[i].want, "%s: %s", c[i].name, efirt_status_str(s));
	}
}

int main(void)
{
	RUN(test_collect);
	RUN(test_collect_refusals);
	RUN(test_mat_good);
	RUN(test_mat_bad_entries);
	RUN(test_mat_bad_header);
	RUN(test_mat_random);
	RUN(test_tables);
	RUN(test_config);
	RUN(test_time);
	return harness_done("efirt_mat");
}
