/*
 * tests/host/test_hhdm.c - mm/hhdm.c, the direct-map planner, against
 * reference models written here:
 *   - ranges: for every elementary interval between two descriptor
 *     boundaries, "some WB RAM-type descriptor covers all of it and no
 *     other descriptor touches it" evaluated descriptor by descriptor, and
 *     on small random maps a per-4K-page bitmap;
 *   - plan: the pieces cover exactly the ranges, each is aligned to its
 *     page size, and no page could have been a larger one (the enclosing
 *     2 MiB / 1 GiB block is never wholly inside a range);
 *   - table count: distinct PDPT / PD / PT indices marked in bitmaps.
 * Inputs: the real OVMF q35 512M and 5G maps, the 16 TiB server sample
 * (tests/data/memmaps/), a synthetic 1 TiB q35 map, random maps.  Controls:
 * the old rule (every 1 GiB chunk a WB descriptor touches) fails the
 * coverage comparison on q35 512M (it maps the PCI hole
 * 0x20000000-0x3fffffff), and an all-4K plan fails the maximality check.
 * Prints the page-table pages of each map (`hhdm: ...` lines), the figures
 * the loader's pool is sized from.  Run from the repository root.
 */
#include <stdlib.h>
#include <string.h>
#include "lib/range.h"
#include "mm/hhdm.h"
#include "mm/pgmode.h"
#include "mm/layout.h"
#include "mm/memmap.h"
#include "mm/status.h"
#include "mm/x86_64.h"
#include "tests/host/harness.h"

#define DATA     "tests/data/memmaps/"
#define MAXD     4096
#define MAXR     4096
#define WB       EFI_MEMORY_WB
#define ATTR_RAM 0xfULL            /* UC | WC | WT | WB */
#define ATTR_UC  0x1ULL
#define GiB      (1ULL << 30)
#define TiB      (1ULL << 40)

static struct bootinfo_efi_desc map[MAXD];
static size_t nmap;
static struct hhdm_range ranges[MAXR];
static size_t nranges;
static struct hhdm_piece pieces[5 * MAXR];
static size_t npieces;

static void add(uint32_t type, uint64_t start, uint64_t pages, uint64_t attr)
{
	if (nmap < MAXD)
		map[nmap++] = (struct bootinfo_efi_desc){ type, 0, start, 0, pages, attr };
}

/* The -sfo type names, index = EFI type. */
static const char *const sfo_names[] = {
	"Reserved", "LoaderCode", "LoaderData", "BootServiceCode", "BootServiceData",
	"RuntimeCode", "RuntimeData", "Available", "UnusableMemory", "ACPIReclaimMemory",
	"ACPIMemoryNVS", "MemoryMappedIO", "MemoryMappedIOPortSpace", "PalCode", "Persistent",
};
/* The Linux dmesg [name|...] names, index = EFI type. */
static const char *const dmesg_names[] = {
	"Reserved", "Loader Code", "Loader Data", "Boot Code", "Boot Data", "Runtime Code",
	"Runtime Data", "Conventional", "Unusable", "ACPI Reclaim", "ACPI Mem NVS", "MMIO",
	"MMIO Port", "PAL Code", "Persistent",
};

/* Loads a sample map (EDK II `memmap -sfo` or Linux `efi: memNN: [name|...]`
 * lines) into map[]; returns 0 if the file cannot be read. */
static int load(const char *name)
{
	char path[256], line[512];
	snprintf(path, sizeof(path), DATA "%s", name);
	FILE *f = fopen(path, "r");
	nmap = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char tname[64];
		unsigned long long s, e, pages, attr;
		if (sscanf(line, "MemoryMap,\"%63[^\"]\",\"%llx\",\"%llx\",\"%llx\",\"%llx\"",
			   tname, &s, &e, &pages, &attr) == 5) {
			for (uint32_t t = 0; t < sizeof(sfo_names) / sizeof(*sfo_names); t++)
				if (!strcmp(tname, sfo_names[t]))
					add(t, s, pages, attr);
			continue;
		}
		char *br = strchr(line, '['), *rg = strstr(line, "range=[");
		if (!br || !rg || sscanf(rg, "range=[%llx-%llx]", &s, &e) != 2)
			continue;
		for (uint32_t t = 0; t < sizeof(dmesg_names) / sizeof(*dmesg_names); t++) {
			size_t n = strlen(dmesg_names[t]);
			if (!strncmp(br + 1, dmesg_names[t], n) && (br[1 + n] == ' ' || br[1 + n] == '|'))
				add(t, s, (e + 1 - s) / PAGE_SIZE, strstr(br, "|WB|") ? ATTR_RAM : ATTR_UC);
		}
	}
	fclose(f);
	return nmap > 0;
}

/* ---- reference model of the ranges ------------------------------------ */

static uint64_t desc_end(const struct bootinfo_efi_desc *d)
{
	return d->phys_start + d->num_pages * PAGE_SIZE;
}

/* The rule, written out here independently of hhdm_desc_mapped: write-back
 * capable, and a type of RAM (loader, boot services, runtime, conventional,
 * ACPI reclaim and NVS: EFI types 1-7, 9, 10). */
static int is_ram(uint32_t type, uint64_t attr)
{
	return (attr & WB) && !(attr & EFI_MEMORY_SP) && type >= EFI_LOADER_CODE && type <= EFI_ACPI_NVS &&
	       type != EFI_UNUSABLE;
}

/* Whether [a, b) is direct-mapped by the rule, deciding descriptor by
 * descriptor: all of it inside one WB RAM descriptor, and no descriptor of
 * another kind sharing a byte with any page of it. */
static int model_mapped(uint64_t a, uint64_t b)
{
	int in = 0;
	for (size_t i = 0; i < nmap; i++) {
		const struct bootinfo_efi_desc *d = &map[i];
		int ram = is_ram(d->type, d->attribute);
		if (d->num_pages == 0)
			continue;
		if (ram && d->phys_start <= a && b <= desc_end(d))
			in = 1;
		if (!ram && d->phys_start < PAGE_ROUND_UP(b) && PAGE_ROUND_DOWN(a) < desc_end(d))
			return 0;
	}
	return in;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

/* The model's ranges, merged, into out; returns their number. */
static size_t model_ranges(struct hhdm_range *out)
{
	static uint64_t pts[4 * MAXD];
	size_t np = 0, n = 0;
	for (size_t i = 0; i < nmap; i++) {
		pts[np++] = PAGE_ROUND_UP(map[i].phys_start);
		pts[np++] = PAGE_ROUND_DOWN(map[i].phys_start);
		pts[np++] = PAGE_ROUND_UP(desc_end(&map[i]));
		pts[np++] = PAGE_ROUND_DOWN(desc_end(&map[i]));
	}
	qsort(pts, np, sizeof(*pts), cmp_u64);
	for (size_t i = 0; i + 1 < np; i++) {
		uint64_t a = pts[i], b = pts[i + 1];
		if (a >= b || !model_mapped(a, b))
			continue;
		if (n && out[n - 1].pa + out[n - 1].size == a)
			out[n - 1].size += b - a;
		else
			out[n++] = (struct hhdm_range){ a, b - a };
	}
	return n;
}

/* 1 if r[0..n) and q[0..m) are the same list. */
static int same_ranges(const struct hhdm_range *r, size_t n, const struct hhdm_range *q, size_t m)
{
	if (n != m)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (r[i].pa != q[i].pa || r[i].size != q[i].size)
			return 0;
	return 1;
}

/* ---- plan checks -------------------------------------------------------- */

/* Returns the number of problems of plan p[0..n) against ranges r[0..nr):
 * coverage (merged pieces == ranges), alignment, and - if check_max - that
 * no page could have been larger. */
static int plan_problems(const struct hhdm_piece *p, size_t n, const struct hhdm_range *r,
			 size_t nr, uint64_t max_page, int check_max)
{
	static struct hhdm_range merged[5 * MAXR];
	size_t m = 0;
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_aligned(p[i].pa | p[i].size, p[i].page_size) || p[i].page_size > max_page ||
		    (i && p[i].pa < p[i - 1].pa + p[i - 1].size))
			bad++;
		if (m && merged[m - 1].pa + merged[m - 1].size == p[i].pa)
			merged[m - 1].size += p[i].size;
		else
			merged[m++] = (struct hhdm_range){ p[i].pa, p[i].size };
	}
	if (!same_ranges(merged, m, r, nr))
		bad++;
	for (size_t i = 0; check_max && i < n; i++) {
		uint64_t up = p[i].page_size << 9;
		if (p[i].page_size == max_page)
			continue;
		for (uint64_t pa = p[i].pa; pa < p[i].pa + p[i].size; pa += p[i].page_size) {
			uint64_t blk = pa & ~(up - 1);
			for (size_t k = 0; k < nr; k++)
				if (r[k].pa <= blk && blk + up <= r[k].pa + r[k].size) {
					bad++;
					break;
				}
		}
	}
	return bad;
}

/* Distinct tables below the PML4 for p[0..n), counted with bitmaps. */
static uint64_t model_tables(const struct hhdm_piece *p, size_t n)
{
	static uint8_t seen[3][(HHDM_MAX_SIZE_4L >> 21) / 8];
	uint64_t count = 0;
	memset(seen, 0, sizeof(seen));
	for (size_t i = 0; i < n; i++) {
		for (uint64_t pa = p[i].pa; pa < p[i].pa + p[i].size; pa += p[i].page_size) {
			uint64_t id[3] = { pa >> 39, pa >> 30, pa >> 21 };
			int levels = p[i].page_size == HUGE_SIZE ? 1 : p[i].page_size == LARGE_SIZE ? 2 : 3;
			for (int l = 0; l < levels; l++) {
				if (!(seen[l][id[l] / 8] & (1u << (id[l] % 8)))) {
					seen[l][id[l] / 8] |= 1u << (id[l] % 8);
					count++;
				}
			}
		}
	}
	return count;
}

/* Runs the planner on map[] for both page-size limits and checks it all
 * against the models; prints the `hhdm:` figures line. */
static void check_map(const char *name)
{
	static struct hhdm_range want[MAXR];
	size_t nwant = model_ranges(want);
	REQUIRE_OK(hhdm_ranges(map, nmap * sizeof(*map), sizeof(*map), ranges, MAXR, &nranges),
		   "%s: hhdm_ranges", name);
	CHECK(same_ranges(ranges, nranges, want, nwant), "%s: %zu ranges, the model has %zu",
	      name, nranges, nwant);
	uint64_t tables[2];
	struct hhdm_counts c[2];
	for (int k = 0; k < 2; k++) {
		uint64_t max_page = k ? LARGE_SIZE : HUGE_SIZE;
		REQUIRE_OK(hhdm_plan(ranges, nranges, max_page, pieces, 5 * MAXR, &npieces),
			   "%s: hhdm_plan", name);
		CHECK(npieces <= 5 * nranges, "%s: %zu pieces for %zu ranges", name, npieces, nranges);
		CHECK(!plan_problems(pieces, npieces, ranges, nranges, max_page, 1),
		      "%s: plan with max page 0x%lx", name, (unsigned long)max_page);
		tables[k] = hhdm_plan_tables(pieces, npieces);
		CHECK(tables[k] == model_tables(pieces, npieces), "%s: %lu tables, the model counts %lu",
		      name, (unsigned long)tables[k], (unsigned long)model_tables(pieces, npieces));
		c[k] = hhdm_plan_count(pieces, npieces);
	}
	printf("hhdm: %s: %zu ranges, %lu MiB of RAM up to 0x%lx; 1 GiB pages: %lu x 1G + %lu x 2M + %lu x 4K, %lu tables; 2 MiB pages: %lu x 2M + %lu x 4K, %lu tables\n",
	       name, nranges, (unsigned long)(c[0].bytes >> 20), (unsigned long)c[0].top,
	       (unsigned long)c[0].huge, (unsigned long)c[0].large, (unsigned long)c[0].small,
	       (unsigned long)tables[0], (unsigned long)c[1].large, (unsigned long)c[1].small,
	       (unsigned long)tables[1]);
}

/* ---- tests -------------------------------------------------------------- */

/* The real OVMF q35 512M map; control: the old rule maps more. */
static void test_q35_512m(void)
{
	REQUIRE(load("ovmf-q35-512M.sfo.txt"), "cannot read the sample (run from the repository root)");
	check_map("q35-512M");
	/* Expect: nothing of [0x20000000, 0x40000000) (no RAM there) is mapped. */
	for (size_t i = 0; i < nranges; i++)
		CHECK(!ranges_overlap(ranges[i].pa, ranges[i].size, 0x20000000, 0x20000000),
		      "range 0x%lx+0x%lx reaches the PCI hole", (unsigned long)ranges[i].pa,
		      (unsigned long)ranges[i].size);
	/* Control: the old map_hhdm, one 1 GiB page per chunk a WB descriptor
	 * touches, as a plan; the same comparison must reject it. */
	struct hhdm_piece old[64];
	size_t nold = 0;
	for (size_t i = 0; i < nmap; i++) {
		if (!(map[i].attribute & WB) || !map[i].num_pages)
			continue;
		for (uint64_t pa = map[i].phys_start & ~(GiB - 1); pa < desc_end(&map[i]); pa += GiB)
			if (!nold || old[nold - 1].pa + old[nold - 1].size <= pa)
				old[nold++] = (struct hhdm_piece){ pa, GiB, GiB };
	}
	CHECK(nold >= 1 && plan_problems(old, nold, ranges, nranges, HUGE_SIZE, 0) > 0,
	      "control: the old rule's %zu chunks pass the coverage check", nold);
}

/* The real OVMF q35 5G map: it has a Reserved entry overlapping RAM. */
static void test_q35_5g(void)
{
	REQUIRE(load("ovmf-q35-5G.sfo.txt"), "cannot read the sample");
	check_map("q35-5G");
	for (size_t i = 0; i < nranges; i++)
		CHECK(!ranges_overlap(ranges[i].pa, ranges[i].size, 0xb0000000, 0x10000000),
		      "the reserved ECAM window 0xb0000000 is mapped");
}

/* q35 with 1 TiB: the low map of the 5G sample, RAM from 4 GiB to 1 TiB + 2 GiB. */
static void test_synthetic_1t(void)
{
	REQUIRE(load("ovmf-q35-5G.sfo.txt"), "cannot read the sample");
	for (size_t i = 0; i < nmap; i++)
		if (map[i].phys_start == 0x100000000ULL)
			map[i].num_pages = (TiB - 2 * GiB) / PAGE_SIZE;
	check_map("q35-1T");
	CHECK(nranges && ranges[nranges - 1].pa + ranges[nranges - 1].size == TiB + 2 * GiB,
	      "top of RAM");
}

/* The 16 TiB server sample. */
static void test_server_16t(void)
{
	REQUIRE(load("server-16t.dmesg-name.txt"), "cannot read the sample");
	check_map("server-16T");
}

/* Small hand-made cases: a partial page, an unaligned MMIO entry, a RAM
 * entry without WB, persistent memory, an overlap, specific-purpose RAM. */
static void test_edges(void)
{
	nmap = 0;
	add(EFI_CONVENTIONAL, 0x1000, 0x3ff, ATTR_RAM);          /* [4K, 4M) */
	add(EFI_MMIO, 0x200800, 1, ATTR_UC);                     /* touches 2 pages */
	add(EFI_CONVENTIONAL, 0x400000, 0x200, ATTR_UC);         /* no WB */
	add(EFI_PERSISTENT, 0x600000, 0x200, ATTR_RAM);
	add(EFI_ACPI_NVS, 0x800000, 0x10, ATTR_RAM);
	add(EFI_RESERVED, 0x808000, 1, ATTR_RAM);                /* inside the NVS one */
	add(EFI_CONVENTIONAL, 0xa00000, 0x200, ATTR_RAM | EFI_MEMORY_SP);  /* soft-reserved */
	check_map("edges");
	struct hhdm_range want[] = {
		{ 0x1000, 0x200000 - 0x1000 }, { 0x202000, 0x400000 - 0x202000 },
		{ 0x800000, 0x8000 }, { 0x809000, 0x7000 },
	};
	CHECK(same_ranges(ranges, nranges, want, 4), "%zu ranges, want the 4 written here", nranges);
}

/* Refusals: RAM beyond the 64 TiB direct map, a bad stride, a full output. */
static void test_refusals(void)
{
	size_t n = 7;
	nmap = 0;
	add(EFI_CONVENTIONAL, HHDM_MAX_SIZE - PAGE_SIZE, 2, ATTR_RAM);
	CHECK(hhdm_ranges(map, sizeof(*map), sizeof(*map), ranges, MAXR, &n) == MM_ERANGE && n == 0,
	      "RAM past HHDM_MAX_SIZE");
	nmap = 0;
	add(EFI_MMIO, HHDM_MAX_SIZE - PAGE_SIZE, 1ULL << 50, ATTR_UC);  /* wraps: ignored past the top */
	CHECK(hhdm_ranges(map, sizeof(*map), sizeof(*map), ranges, MAXR, &n) == MM_OK && n == 0,
	      "MMIO past the top is no error");
	CHECK(hhdm_ranges(map, sizeof(*map), 36, ranges, MAXR, &n) == MM_EINVAL, "stride 36");
	nmap = 0;
	add(EFI_CONVENTIONAL, 0x1000, 1, ATTR_RAM);
	add(EFI_CONVENTIONAL, 0x3000, 1, ATTR_RAM);
	CHECK(hhdm_ranges(map, 2 * sizeof(*map), sizeof(*map), ranges, 1, &n) == MM_EOVERFLOW && n == 1,
	      "two ranges into one slot");
	struct hhdm_range bad[2] = { { 0x2000, 0x1000 }, { 0x1000, 0x1000 } };
	CHECK(hhdm_plan(bad, 2, HUGE_SIZE, pieces, 10, &n) == MM_EINVAL, "unsorted ranges");
	CHECK(hhdm_plan(bad, 1, PAGE_SIZE, pieces, 10, &n) == MM_EINVAL, "max page 4K");
	struct hhdm_range big = { 0x1000, 2 * GiB };
	CHECK(hhdm_plan(&big, 1, HUGE_SIZE, pieces, 2, &n) == MM_EOVERFLOW, "pieces overflow");
}

/* Control of the maximality check: an all-4K plan of a 4 MiB range. */
static void test_control_not_maximal(void)
{
	struct hhdm_range r = { 0x400000, 0x400000 };
	struct hhdm_piece small = { 0x400000, 0x400000, PAGE_SIZE };
	CHECK(plan_problems(&small, 1, &r, 1, HUGE_SIZE, 1) > 0, "an all-4K plan passes");
	CHECK(plan_problems(&small, 1, &r, 1, HUGE_SIZE, 0) == 0, "...but covers the range");
}

/* Random maps within 64 MiB against a per-page bitmap. */
static void test_random(void)
{
	enum { PAGES = (64 << 20) / 4096 };
	static uint8_t ram[PAGES], blocked[PAGES];
	srand(12345);
	for (int round = 0; round < 300; round++) {
		memset(ram, 0, sizeof(ram));
		memset(blocked, 0, sizeof(blocked));
		nmap = 0;
		int nd = 1 + rand() % 40;
		for (int i = 0; i < nd; i++) {
			uint32_t type = rand() % 16;
			uint64_t start = (uint64_t)(rand() % PAGES) * PAGE_SIZE;
			uint64_t pages = 1 + rand() % (rand() % 4 ? 64 : 4096);
			uint64_t attr = rand() % 5 ? ATTR_RAM : ATTR_UC;
			if (start / PAGE_SIZE + pages > PAGES)
				pages = PAGES - start / PAGE_SIZE;
			add(type, start, pages, attr);
			for (uint64_t p = start / PAGE_SIZE; p < start / PAGE_SIZE + pages; p++)
				(is_ram(type, attr) ? ram : blocked)[p] = 1;
		}
		REQUIRE_OK(hhdm_ranges(map, nmap * sizeof(*map), sizeof(*map), ranges, MAXR, &nranges),
			   "round %d", round);
		uint8_t got[PAGES / 8 + 1];
		memset(got, 0, sizeof(got));
		for (size_t i = 0; i < nranges; i++)
			for (uint64_t p = ranges[i].pa / PAGE_SIZE; p < (ranges[i].pa + ranges[i].size) / PAGE_SIZE; p++)
				got[p / 8] |= 1 << (p % 8);
		int diff = 0;
		for (int p = 0; p < PAGES; p++)
			diff += !!(got[p / 8] & (1 << (p % 8))) != (ram[p] && !blocked[p]);
		CHECK(diff == 0, "round %d: %d pages differ from the bitmap", round, diff);
		REQUIRE_OK(hhdm_plan(ranges, nranges, HUGE_SIZE, pieces, 5 * MAXR, &npieces), "plan");
		CHECK(!plan_problems(pieces, npieces, ranges, nranges, HUGE_SIZE, 1), "round %d plan", round);
		CHECK(hhdm_plan_tables(pieces, npieces) == model_tables(pieces, npieces), "round %d tables", round);
		for (int k = 0; k < 20; k++) {
			uint64_t pa = (uint64_t)(rand() % PAGES) * PAGE_SIZE;
			CHECK(hhdm_ranges_contain(ranges, nranges, pa) == (ram[pa / PAGE_SIZE] && !blocked[pa / PAGE_SIZE]),
			      "round %d: contains 0x%lx", round, (unsigned long)pa);
		}
	}
}

/*
 * Tables below the root in both modes, by hand:
 *   [0, 2 GiB) in 1 GiB pages, [300 TiB, +1 GiB) in 1 GiB pages,
 *   [300 TiB + 1 GiB, +2 MiB) in one 2 MiB page.
 * 4 levels: PDPTs for 512 GiB slots 0 and 600, one PD = 3.
 * 5 levels: those plus PML4s for 256 TiB slots 0 and 1 = 5.  Control: the
 * 4-level count is not the 5-level one (a counter ignoring level 5).
 */
static void test_tables_both_modes(void)
{
	const uint64_t tib = 1ULL << 40;
	struct hhdm_piece p[3] = {
		{ 0, 2 * HUGE_SIZE, HUGE_SIZE },
		{ 300 * tib, HUGE_SIZE, HUGE_SIZE },
		{ 300 * tib + HUGE_SIZE, LARGE_SIZE, LARGE_SIZE },
	};
	pgmode_set(PGMODE_LEVELS_4);
	uint64_t t4 = hhdm_plan_tables(p, 3);
	pgmode_set(PGMODE_LEVELS_5);
	uint64_t t5 = hhdm_plan_tables(p, 3);
	pgmode_set(PGMODE_LEVELS_4);
	CHECK(t4 == 3 && t5 == 5 && t4 != t5, "4 levels %llu, 5 levels %llu",
	      (unsigned long long)t4, (unsigned long long)t5);
}

int main(void)
{
	RUN(test_tables_both_modes);
	RUN(test_q35_512m);
	RUN(test_q35_5g);
	RUN(test_synthetic_1t);
	RUN(test_server_16t);
	RUN(test_edges);
	RUN(test_refusals);
	RUN(test_control_not_maximal);
	RUN(test_random);
	return harness_done("hhdm");
}
