/*
 * tests/host/test_paging.c - map_pages, unmap_pages, mem_map_pages_at,
 * mem_unmap_pages, mem_map_addr / mem_unmap_addr, addrspace_* and
 * paging_query.  Page tables live in the host arena and are walked back.
 */
#include <stdlib.h>
#include <string.h>
#include "mm/kalloc.h"
#include "mm/layout.h"
#include "mm/paging.h"
#include "mm/platform.h"
#include "tests/host/harness.h"
#include "tests/host/mm_fixture.h"

#define UVA     0x400000ULL                 /* a user address */
#define PG(n)   ((uint64_t)(n) * PAGE_SIZE)

static struct addrspace as;
static struct virtaddr_space kwin;
static struct pmm *pmm;
static uint64_t free0;   /* pmm_free_frames(pmm) right after the fixture */

/* Fresh 64 MiB machine and an empty address space with a kernel window. */
static void setup(void)
{
	pmm = fixture_init(64ULL << 20);
	free0 = pmm_free_frames(pmm);
	if (virtaddr_init(&kwin, pmm, KWIN_BASE, KWIN_END) != MM_OK ||
	    addrspace_create(&as, pmm, NULL, &kwin, NULL) != MM_OK) {
		printf("setup failed\n");
		exit(2);
	}
}

/* Tears down and checks every frame came back. */
static void teardown_check(void)
{
	addrspace_destroy(&as);
	virtaddr_destroy(&kwin);
	CHECK(pmm_free_frames(pmm) == free0, "leak: free %llu, was %llu",
	      (unsigned long long)pmm_free_frames(pmm), (unsigned long long)free0);
}

/* Returns the leaf entry of va (0 if unmapped); *pa gets its frame. */
static uint64_t leaf(uint64_t va, uint64_t *pa)
{
	uint64_t pte = 0, p = 0;
	if (paging_query(&as, va, &p, &pte) != MM_OK)
		return 0;
	if (pa)
		*pa = p;
	return pte;
}

/*
 * va UVA: [p0][p1][p2]  -> frames 0x200000, 0x201000, 0x202000
 * Expect: each page translates to its frame with the asked bits (W, U, NX)
 * and nothing else; the page after the range is unmapped.
 */
static void test_map_and_query(void)
{
	uint64_t pa, pte;
	setup();
	int rc = map_pages(&as, UVA, 0x200000, 3, MAPF_WRITE | MAPF_USER | MAPF_NOEXEC);
	REQUIRE(rc == MM_OK, "map %d", rc);
	for (int i = 0; i < 3; i++) {
		pte = leaf(UVA + PG(i) + 0x123, &pa);
		CHECK(pa == 0x200000 + PG(i) + 0x123, "page %d pa %llx", i, (unsigned long long)pa);
		CHECK((pte & (PTE_P | PTE_W | PTE_U | PTE_NX)) == (PTE_P | PTE_W | PTE_U | PTE_NX),
		      "bits %llx", (unsigned long long)pte);
	}
	CHECK(leaf(UVA + PG(3), NULL) == 0, "page after the range");
	CHECK(as.table_pages == pgmode_levels(), "root + a table per level below: %llu",
	      (unsigned long long)as.table_pages);
	rc = unmap_pages(&as, UVA, 3);
	CHECK(rc == MM_OK, "unmap %d", rc);
	CHECK(leaf(UVA, NULL) == 0, "still mapped");
	CHECK(as.table_pages == 1, "empty tables freed: %llu", (unsigned long long)as.table_pages);
	teardown_check();
}

/*
 * |....[old]|   map 4 pages whose last page is already mapped
 * Expect: MM_EBUSY, the old mapping untouched, the three new pages not
 * mapped, and no table page left over.
 */
static void test_map_over_existing_is_busy(void)
{
	uint64_t pa;
	setup();
	int rc = map_pages(&as, UVA + PG(3), 0x300000, 1, MAPF_WRITE | MAPF_NOEXEC);
	REQUIRE(rc == MM_OK, "first map");
	uint64_t tables = as.table_pages;
	rc = map_pages(&as, UVA, 0x200000, 4, MAPF_WRITE | MAPF_NOEXEC);
	CHECK(rc == MM_EBUSY, "rc %d", rc);
	CHECK(leaf(UVA + PG(3), &pa) && pa == UVA * 0 + 0x300000, "old mapping");
	for (int i = 0; i < 3; i++)
		CHECK(leaf(UVA + PG(i), NULL) == 0, "page %d mapped", i);
	CHECK(as.table_pages == tables, "tables %llu", (unsigned long long)as.table_pages);
	/* A range whose tables do not exist yet, then hits a mapping in a new PT. */
	rc = map_pages(&as, UVA - PG(2), 0x200000, 6, MAPF_NOEXEC);
	CHECK(rc == MM_EBUSY && leaf(UVA - PG(2), NULL) == 0, "rc %d", rc);
	CHECK(as.table_pages == tables, "tables %llu", (unsigned long long)as.table_pages);
	unmap_pages(&as, UVA + PG(3), 1);
	teardown_check();
}

/* Expect: page 0, the direct map (also from a range that ends exactly at
 * 2^64, whose end is 0 in 64 bits), non-canonical and half-crossing
 * ranges, unaligned addresses, a user page in the upper half and unknown
 * flags are all MM_EINVAL. */
static void test_map_rejects_bad_ranges(void)
{
	setup();
	CHECK(map_pages(&as, 0, 0x200000, 1, 0) == MM_EINVAL, "page 0");
	CHECK(map_pages(&as, HHDM_BASE + PG(5), 0x200000, 1, 0) == MM_EINVAL, "direct map");
	uint64_t dm_last = HHDM_BASE + HHDM_MAX_SIZE - PG(1);
	CHECK(map_pages(&as, dm_last, 0x200000, 2, 0) == MM_EINVAL, "into the direct map");
	CHECK(map_pages(&as, dm_last, 0x200000, (0 - dm_last) >> PAGE_SHIFT, 0) ==
	      MM_EINVAL, "from the direct map's last page up to 2^64");
	CHECK(map_pages(&as, 0x0000800000000000ULL, 0x200000, 1, 0) == MM_EINVAL, "non-canonical");
	CHECK(map_pages(&as, USER_END - PG(1), 0x200000, 2, 0) == MM_EINVAL, "crosses the hole");
	CHECK(map_pages(&as, UVA + 8, 0x200000, 1, 0) == MM_EINVAL, "unaligned va");
	CHECK(map_pages(&as, UVA, 0x200010, 1, 0) == MM_EINVAL, "unaligned pa");
	CHECK(map_pages(&as, UVA, 0x200000, 0, 0) == MM_EINVAL, "count 0");
	CHECK(map_pages(&as, KWIN_BASE, 0x200000, 1, MAPF_USER) == MM_EINVAL, "user upper half");
	CHECK(map_pages(&as, UVA, 0x200000, 1, 0x100) == MM_EINVAL, "unknown flag");
	CHECK(as.table_pages == 1, "nothing allocated");
	teardown_check();
}

/*
 * 1030 pages from 2 pages below a 1 GiB boundary: crosses PTs, PDs, PDPT
 * entries.
 * Expect: every page translates; unmapping frees every table again.
 */
static void test_map_across_table_boundaries(void)
{
	uint64_t va = (1ULL << 30) * 3 - PG(2), pa;
	setup();
	int rc = map_pages(&as, va, 0x1000000, 1030, MAPF_NOEXEC);
	REQUIRE(rc == MM_OK, "map %d", rc);
	int bad = 0;
	for (int i = 0; i < 1030; i++)
		if (!leaf(va + PG(i), &pa) || pa != 0x1000000 + PG(i))
			bad++;
	CHECK(bad == 0, "%d pages wrong", bad);
	CHECK(unmap_pages(&as, va, 1030) == MM_OK, "unmap");
	CHECK(as.table_pages == 1, "tables %llu", (unsigned long long)as.table_pages);
	teardown_check();
}

/*
 * |[m][ ][m]|  unmap all three
 * Expect: the hole is reported with the arguments and MM_ENOENT returned;
 * nothing changes: the mapped pages stay mapped (all or nothing).
 */
static void test_unmap_missing_is_reported(void)
{
	setup();
	map_pages(&as, UVA, 0x200000, 1, MAPF_NOEXEC);
	map_pages(&as, UVA + PG(2), 0x202000, 1, MAPF_NOEXEC);
	host_capture_begin();
	int rc = unmap_pages(&as, UVA, 3);
	const char *out = host_capture_end();
	CHECK(rc == MM_ENOENT, "rc %d", rc);
	CHECK(strstr(out, "unmap_pages: va 0x400000 count 3: 1 pages not mapped"), "report: %s", out);
	CHECK(leaf(UVA, NULL) && leaf(UVA + PG(2), NULL), "a refused unmap unmapped pages");
	CHECK(unmap_pages(&as, UVA, 1) == MM_OK && unmap_pages(&as, UVA + PG(2), 1) == MM_OK,
	      "unmap one by one");
	host_capture_begin();
	rc = unmap_pages(&as, 0x7f0000000000ULL, 4);
	host_capture_end();
	CHECK(rc == MM_ENOENT, "no tables at all: %d", rc);
	teardown_check();
}

/*
 * A loader-style root: the direct map's root slot -> (PML4 ->) PDPT of
 * 1 GiB pages, a PD at va 1 GiB with one 2 MiB page.
 * Expect: adopt leaves them alone; query sees through large pages; a 4 KiB
 * map inside a large page is MM_EBUSY; unmap there is MM_EINVAL; the
 * direct map cannot be touched.
 */
static void test_adopt_and_large_pages(void)
{
	uint64_t root, pa, pte;
	struct addrspace a;
	int top = (int)pgmode_levels();
	pmm = fixture_init(64ULL << 20);
	pmm_alloc(pmm, &root);
	uint64_t *r = mm_phys_to_virt(root);
	memset(r, 0, PAGE_SIZE);
	for (uint64_t i = 0; i < 4; i++)
		*fixture_entry(pmm, root, HHDM_BASE + HUGE_SIZE * i, 3, PTE_P | PTE_W) =
			(HUGE_SIZE * i) | PTE_P | PTE_W | PTE_PS | PTE_NX;
	uint64_t *h1 = fixture_entry(pmm, root, HHDM_BASE + HUGE_SIZE, 3, 0);
	uint64_t *d = fixture_entry(pmm, root, HUGE_SIZE, 2, PTE_P | PTE_W);
	*d = 0x400000 | PTE_P | PTE_PS;                /* va 1 GiB -> pa 4 MiB, 2 MiB */
	uint64_t r_hhdm = r[PX(top, HHDM_BASE)];
	addrspace_adopt(&a, pmm, root, NULL, NULL);
	CHECK(paging_query(&a, HHDM_BASE + HUGE_SIZE + 0x1234, &pa, &pte) == MM_OK &&
	      pa == HUGE_SIZE + 0x1234, "1 GiB page: pa %llx", (unsigned long long)pa);
	CHECK(paging_query(&a, HUGE_SIZE + 0x5000, &pa, &pte) == MM_OK && pa == 0x405000,
	      "2 MiB page: pa %llx", (unsigned long long)pa);
	CHECK(map_pages(&a, HUGE_SIZE + 0x5000, 0x200000, 1, 0) == MM_EBUSY, "inside 2 MiB");
	host_capture_begin();
	int rc = unmap_pages(&a, HUGE_SIZE, 2);
	host_capture_end();
	CHECK(rc == MM_EINVAL && (*d & PTE_P), "unmap of a large page: %d", rc);
	CHECK(map_pages(&a, HHDM_BASE, 0x200000, 1, 0) == MM_EINVAL, "direct map");
	rc = map_pages(&a, KWIN_BASE, 0x200000, 1, MAPF_WRITE | MAPF_NOEXEC);
	CHECK(rc == MM_OK, "kernel window %d", rc);
	CHECK(unmap_pages(&a, KWIN_BASE, 1) == MM_OK, "unmap");
	CHECK(r[PX(top, HHDM_BASE)] == r_hhdm && *h1 == (HUGE_SIZE | PTE_P | PTE_W | PTE_PS | PTE_NX),
	      "direct map changed");
	CHECK(r[PX(top, KWIN_BASE)] & PTE_P, "kernel-half table under the root is kept (shared)");
	CHECK(a.table_pages == 1, "tables %llu", (unsigned long long)a.table_pages);
}

/*
 * mem_map_pages_at of 600 pages (two PTs) with the pmm squeezed so that
 * it runs dry after k frames, for every k up to what the call needs.
 * Expect: every failing call returns MM_ENOMEM and leaves the pmm's free
 * count and the tables exactly as before; the call that has enough
 * succeeds, with zeroed frames, and mem_unmap_pages returns them all.
 */
static void test_mem_map_pages_at_unwinds_on_oom(void)
{
	static uint64_t held[20000];
	setup();
	uint64_t tables = as.table_pages;
	int ok_at = -1;
	for (uint64_t keep = 0; keep < 620; keep += 1) {
		uint64_t n = fixture_squeeze(pmm, keep, held, 20000);
		uint64_t before = pmm_free_frames(pmm);
		int rc = mem_map_pages_at(&as, UVA, 600, MAPF_WRITE | MAPF_USER | MAPF_NOEXEC);
		if (rc == MM_OK) {
			ok_at = (int)keep;
			fixture_release(pmm, held, n);
			break;
		}
		CHECK(rc == MM_ENOMEM, "keep %llu: rc %d", (unsigned long long)keep, rc);
		CHECK(pmm_free_frames(pmm) == before && as.table_pages == tables && !leaf(UVA, NULL),
		      "keep %llu: free %llu before %llu tables %llu", (unsigned long long)keep,
		      (unsigned long long)pmm_free_frames(pmm), (unsigned long long)before,
		      (unsigned long long)as.table_pages);
		fixture_release(pmm, held, n);
	}
	/* 600 frames + 2 PTs + PD + PDPT (+ PML4 under 5 levels). */
	CHECK(ok_at == 600 + 2 + (int)pgmode_levels() - 2, "succeeded with %d frames left", ok_at);
	uint64_t pa;
	REQUIRE(leaf(UVA + PG(599), &pa), "last page");
	CHECK(*(uint64_t *)mm_phys_to_virt(pa & ~PAGE_MASK) == 0, "frame not zeroed");
	CHECK(mem_unmap_pages(&as, UVA, 600) == MM_OK, "unmap");
	teardown_check();
}

/*
 * An ACPI-like table at pa 0x1234567, 0x2000 bytes: spans 3 pages.
 * Expect: the returned va has the same page offset, maps all 3 pages;
 * MAPF_UNCACHED sets PCD|PWT; mem_unmap_addr gives the window back;
 * a bad unmap is reported.
 */
static void test_mem_map_addr(void)
{
	uint64_t va, va2, pa, pte;
	setup();
	int rc = mem_map_addr(&as, 0x1234567, 0x2000, MAPF_NOEXEC, &va);
	REQUIRE(rc == MM_OK, "rc %d", rc);
	CHECK((va & PAGE_MASK) == 0x567 && va >= KWIN_BASE && va < KWIN_END, "va %llx",
	      (unsigned long long)va);
	CHECK(paging_query(&as, va, &pa, &pte) == MM_OK && pa == 0x1234567, "pa %llx",
	      (unsigned long long)pa);
	CHECK(paging_query(&as, va + 0x1fff, &pa, &pte) == MM_OK && pa == 0x1236566, "end");
	CHECK(kwin.used_bytes == PG(3), "window %llu", (unsigned long long)kwin.used_bytes);
	rc = mem_map_addr(&as, FIX_MMIO_BASE + 0x10, 4, MAPF_WRITE | MAPF_NOEXEC | MAPF_UNCACHED, &va2);
	REQUIRE(rc == MM_OK, "mmio %d", rc);
	CHECK(paging_query(&as, va2, &pa, &pte) == MM_OK && (pte & (PTE_PCD | PTE_PWT)) ==
	      (PTE_PCD | PTE_PWT) && pa == FIX_MMIO_BASE + 0x10, "pte %llx", (unsigned long long)pte);
	CHECK(mem_unmap_addr(&as, va, 0x2000) == MM_OK, "unmap");
	CHECK(mem_unmap_addr(&as, va2, 4) == MM_OK, "unmap mmio");
	host_capture_begin();
	CHECK(mem_unmap_addr(&as, va, 0x2000) == MM_ENOENT, "double unmap");
	host_capture_end();
	CHECK(kwin.used_bytes == 0, "window %llu", (unsigned long long)kwin.used_bytes);
	CHECK(mem_map_addr(&as, 0x1000, 0, 0, &va) == MM_EINVAL, "size 0");
	CHECK(mem_map_addr(&as, 0x1000, 1, MAPF_USER, &va) == MM_EINVAL, "user");
	/* NULL is no space, even with a kernel space registered. */
	CHECK(mem_map_addr(NULL, 0x1000, 1, 0, &va) == MM_EINVAL, "NULL space");
	addrspace_set_kernel(&as);
	CHECK(mem_map_addr(NULL, 0x1000, 1, MAPF_NOEXEC, &va) == MM_EINVAL, "NULL space, kernel set");
	host_capture_begin();
	rc = mem_unmap_addr(NULL, va, 1);
	CHECK(rc == MM_EINVAL && strstr(host_capture_end(), "no kernel window"), "NULL space unmap");
	addrspace_set_kernel(NULL);
	teardown_check();
}

/* Copies the pmm's metadata (bitmap, summaries, tags) into buf. */
static void pmm_snapshot(uint8_t *buf)
{
	memcpy(buf, mm_phys_to_virt(pmm->meta_pa), pmm->meta_size);
}

/* Returns 1 if the pmm's metadata equals snapshot buf. */
static int pmm_same(const uint8_t *buf)
{
	return !memcmp(buf, mm_phys_to_virt(pmm->meta_pa), pmm->meta_size);
}

/*
 * UVA:      [b0][b1]    map_pages of frames the caller owns (MMIO-like)
 * UVA+4pg:  [o0][o1]    mem_map_pages_at: frames owned by the mapping
 * UVA+8pg:  [b ][o ]    one of each
 * Expect: each free of the wrong kind (mem_unmap_pages of borrowed pages,
 * unmap_pages of owned ones, either over the mixed pair) is refused with
 * MM_EOWNER and a report; the pmm metadata and every leaf are unchanged;
 * the right calls then succeed and every frame comes back.
 */
static void test_unmap_kind_mismatch_changes_nothing(void)
{
	static uint8_t snap[PG(16)];
	setup();
	REQUIRE(pmm->meta_size <= sizeof(snap), "meta");
	uint64_t fr;
	REQUIRE_OK(pmm_alloc(pmm, &fr), "a frame the caller owns");
	REQUIRE_OK(map_pages(&as, UVA, FIX_MMIO_BASE, 2, MAPF_NOEXEC), "map_pages");
	REQUIRE_OK(mem_map_pages_at(&as, UVA + PG(4), 2, MAPF_WRITE | MAPF_NOEXEC), "mem_map_pages_at");
	REQUIRE_OK(map_pages(&as, UVA + PG(8), fr, 1, MAPF_NOEXEC), "map_pages");
	REQUIRE_OK(mem_map_pages_at(&as, UVA + PG(9), 1, MAPF_NOEXEC), "mem_map_pages_at");
	CHECK(!(leaf(UVA, NULL) & PTE_OWNED) && (leaf(UVA + PG(4), NULL) & PTE_OWNED),
	      "PTE_OWNED marks exactly the frames the mapping owns");
	uint64_t pte[10];
	for (int i = 0; i < 10; i++)
		pte[i] = leaf(UVA + PG(i), NULL);
	pmm_snapshot(snap);
	uint64_t tables = as.table_pages;
	struct { uint64_t va, n; int frees; } bad[] = {
		{ UVA, 2, 1 }, { UVA + PG(4), 2, 0 }, { UVA + PG(8), 2, 1 }, { UVA + PG(8), 2, 0 },
	};
	for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		host_capture_begin();
		int rc = bad[k].frees ? mem_unmap_pages(&as, bad[k].va, bad[k].n)
				      : unmap_pages(&as, bad[k].va, bad[k].n);
		const char *out = host_capture_end();
		CHECK(rc == MM_EOWNER, "case %u: rc %s", k, mm_status_str(rc));
		CHECK(strstr(out, "(nothing changed)"), "case %u: report: %s", k, out);
		int same = pmm_same(snap) && as.table_pages == tables;
		for (int i = 0; i < 10; i++)
			same &= leaf(UVA + PG(i), NULL) == pte[i];
		CHECK(same, "case %u: a refused unmap changed something", k);
	}
	CHECK(unmap_pages(&as, UVA, 2) == MM_OK && mem_unmap_pages(&as, UVA + PG(4), 2) == MM_OK &&
	      unmap_pages(&as, UVA + PG(8), 1) == MM_OK &&
	      mem_unmap_pages(&as, UVA + PG(9), 1) == MM_OK, "the right unmaps");
	CHECK(pmm_free(pmm, fr) == MM_OK, "the caller's frame was never freed by mem_unmap_pages");
	teardown_check();
}

/*
 * Kernel window:  [kalloc 3pg][mem_map_addr 2pg][virtaddr_alloc 2pg, mem_map_pages_at]
 * Expect: every free through another API is refused with MM_EOWNER and a
 * report naming the maker, nothing changed: mem_unmap_addr of the kalloc
 * and virtaddr blocks, virtaddr_free of the kalloc and mem_map_addr blocks,
 * unmap_pages / mem_unmap_pages of pages inside the kalloc and mem_map_addr
 * blocks.  The right frees then succeed and every frame comes back.
 */
static void test_window_blocks_know_their_maker(void)
{
	static uint8_t snap[PG(16)];
	setup();
	addrspace_set_kernel(&as);
	uint8_t *k = kalloc(PG(3), ALLOC_KERNEL | ALLOC_WRITABLE);
	REQUIRE(k, "kalloc");
	uint64_t kva = (uint64_t)(uintptr_t)k, ma, vb;
	REQUIRE_OK(mem_map_addr(&as, FIX_MMIO_BASE, PG(2), MAPF_NOEXEC | MAPF_UNCACHED, &ma), "map_addr");
	REQUIRE_OK(virtaddr_alloc(&kwin, PG(2), 0, &vb), "virtaddr_alloc");
	REQUIRE_OK(mem_map_pages_at(&as, vb, 2, MAPF_WRITE | MAPF_NOEXEC), "mem_map_pages_at");
	uint64_t kpa;   /* window pages are not host memory: write k's first frame directly */
	REQUIRE(leaf(kva, &kpa), "kalloc page mapped");
	uint8_t *kmem = mm_phys_to_virt(kpa);
	memset(kmem, 0x5a, PG(1));
	pmm_snapshot(snap);
	uint64_t used = kwin.used_bytes, nblocks = kwin.nblocks, tables = as.table_pages;
	uint64_t pk = leaf(kva, NULL), pm = leaf(ma, NULL), pv = leaf(vb, NULL);
	struct { const char *what, *maker; int rc; } r[8];
	int n = 0;
#define TRY(call, m) do { host_capture_begin(); r[n].rc = (call); \
		r[n].what = #call; r[n].maker = strstr(host_capture_end(), m) ? m : NULL; n++; } while (0)
	TRY(mem_unmap_addr(&as, kva, PG(3)), "kalloc");
	TRY(mem_unmap_addr(&as, vb, PG(2)), "virtaddr_alloc");
	TRY(virtaddr_free(&kwin, kva, PG(3)), "kalloc");
	TRY(virtaddr_free(&kwin, ma, PG(2)), "mem_map_addr");
	TRY(unmap_pages(&as, ma, 1), "mem_map_addr");
	TRY(mem_unmap_pages(&as, kva + PG(1), 1), "kalloc");
	TRY(unmap_pages(&as, kva, 3), "kalloc");
	TRY(mem_unmap_pages(&as, vb - PG(3), 5), "kalloc");   /* the end of k's block, then vb's */
#undef TRY
	for (int i = 0; i < n; i++)
		CHECK(r[i].rc == MM_EOWNER && r[i].maker, "%s: %s, report names the maker: %s",
		      r[i].what, mm_status_str(r[i].rc), r[i].maker ? "yes" : "no");
	CHECK(pmm_same(snap) && kwin.used_bytes == used && kwin.nblocks == nblocks &&
	      as.table_pages == tables && leaf(kva, NULL) == pk && leaf(ma, NULL) == pm &&
	      leaf(vb, NULL) == pv && kmem[0] == 0x5a && kmem[PG(1) - 1] == 0x5a,
	      "a refused free changed something");
	CHECK(virtaddr_check(&kwin) == 0, "virtaddr_check");
	kfree(k, PG(3));
	CHECK(mem_unmap_addr(&as, ma, PG(2)) == MM_OK, "mem_unmap_addr");
	CHECK(mem_unmap_pages(&as, vb, 2) == MM_OK && virtaddr_free(&kwin, vb, PG(2)) == MM_OK,
	      "caller's block");
	CHECK(kwin.used_bytes == 0, "window %llu", (unsigned long long)kwin.used_bytes);
	addrspace_set_kernel(NULL);
	teardown_check();
}

/*
 * Expect: a space created from a kernel space shares its upper-half PML4
 * entries; destroying it frees only its own tables.
 */
static void test_create_shares_kernel_half(void)
{
	struct addrspace user;
	setup();
	int shift = PX_SHIFT(pgmode_levels());
	uint64_t slots = ((KWIN_END - 1) >> shift) - (KWIN_BASE >> shift) + 1;  /* 64 or 1 */
	int pr = paging_prepopulate(&as, KWIN_BASE, KWIN_END - KWIN_BASE);
	REQUIRE(pr == MM_OK, "prepopulate");
	CHECK(as.table_pages == 1 + slots, "%llu kernel-window tables under the root: %llu",
	      (unsigned long long)slots, (unsigned long long)as.table_pages);
	int rc = addrspace_create(&user, pmm, &as, NULL, NULL);
	REQUIRE(rc == MM_OK, "create");
	uint64_t *k = mm_phys_to_virt(as.root_pa), *u = mm_phys_to_virt(user.root_pa);
	CHECK(memcmp(k + 256, u + 256, 256 * 8) == 0, "upper half differs");
	map_pages(&user, UVA, 0x200000, 1, MAPF_USER | MAPF_NOEXEC);
	addrspace_destroy(&user);
	teardown_check();
}

/* The memory type of a 4 KiB leaf pte under the PAT value pat, by the SDM
 * (vol. 3, 12.12.3): entry PAT*4 + PCD*2 + PWT, one byte per entry. */
static unsigned pte_memtype(uint64_t pte, uint64_t pat)
{
	unsigned idx = (unsigned)(((pte >> 7) & 1) * 4 + ((pte >> 4) & 1) * 2 + ((pte >> 3) & 1));
	return (unsigned)(pat >> (8 * idx)) & 0xff;
}

/*
 * Cache modes through the PAT.  The PAT the kernel programs, written out
 * here from the SDM's encodings (UC 0, WC 1, WT 4, WB 6, UC- 7): the
 * power-on WB WT UC- UC WB WT UC- UC with entry 7 made WC.
 * Expect: mem_map_addr with MAPF_WRCOMBINE gives a leaf whose type is WC,
 * and under the power-on PAT UC (a CPU not yet programmed never caches
 * the framebuffer); no flag, MAPF_WRTHROUGH and MAPF_UNCACHED keep WB, WT
 * and UC; UNCACHED wins over WRCOMBINE.  Control: PCD|PWT alone (the PAT
 * bit forgotten) is not WC.
 */
static void test_cache_modes(void)
{
	const uint64_t pat_kernel = 0x0107040600070406ULL, pat_power_on = 0x0007040600070406ULL;
	uint64_t va, pa, pte;

	CHECK(PAT_MEMBOOT == pat_kernel, "PAT_MEMBOOT %llx", (unsigned long long)PAT_MEMBOOT);
	setup();
	REQUIRE_OK(mem_map_addr(&as, FIX_MMIO_BASE, PG(2), MAPF_WRITE | MAPF_NOEXEC | MAPF_WRCOMBINE,
				&va), "map wc");
	REQUIRE(paging_query(&as, va + PAGE_SIZE, &pa, &pte) == MM_OK, "query");
	CHECK(pte_memtype(pte, pat_kernel) == 0x01, "WC flag: type %u (pte %llx)",
	      pte_memtype(pte, pat_kernel), (unsigned long long)pte);
	CHECK(pte_memtype(pte, pat_power_on) == 0x00, "WC flag, power-on PAT: type %u",
	      pte_memtype(pte, pat_power_on));
	CHECK((pte & PTE_W) && (pte & PTE_NX), "pte %llx", (unsigned long long)pte);
	CHECK(mem_unmap_addr(&as, va, PG(2)) == MM_OK, "unmap");
	CHECK(pte_memtype(paging_pte_bits(0), pat_kernel) == 0x06, "default not WB");
	CHECK(pte_memtype(paging_pte_bits(MAPF_WRTHROUGH), pat_kernel) == 0x04, "WT");
	CHECK(pte_memtype(paging_pte_bits(MAPF_UNCACHED), pat_kernel) == 0x00, "UC");
	CHECK(pte_memtype(paging_pte_bits(MAPF_UNCACHED | MAPF_WRCOMBINE), pat_kernel) == 0x00,
	      "UC | WC");
	CHECK(pte_memtype(paging_pte_bits(MAPF_WRCOMBINE | MAPF_WRTHROUGH), pat_kernel) == 0x01,
	      "WC | WT");
	CHECK(pte_memtype(PTE_P | PTE_PCD | PTE_PWT, pat_kernel) != 0x01, "control: PCD|PWT is WC");
	teardown_check();
}

/*
 * A non-canonical address is mapped by nothing (the CPU faults on it), but
 * the table indices of its low va_bits bits name a real path: the sign bits
 * cleared from KWIN_BASE (0x0000c00000000000 under 4 levels,
 * 0x01ffc00000000000 under 5) walk to KWIN_BASE's page.  Expect
 * paging_query to say MM_ENOENT for it; control: KWIN_BASE itself is
 * found at its frame.
 */
static void test_query_non_canonical(void)
{
	uint64_t pa = 0, pte = 0;
	uint64_t alias = KWIN_BASE & ((1ULL << mm_pgmode.va_bits) - 1);
	setup();
	REQUIRE_OK(map_pages(&as, KWIN_BASE, 0x200000, 1, MAPF_NOEXEC), "map");
	CHECK(paging_query(&as, KWIN_BASE, &pa, &pte) == MM_OK && pa == 0x200000,
	      "control: KWIN_BASE not found");
	CHECK(paging_query(&as, alias, &pa, &pte) == MM_ENOENT, "non-canonical 0x%llx found",
	      (unsigned long long)alias);
	CHECK(unmap_pages(&as, KWIN_BASE, 1) == MM_OK, "unmap");
	teardown_check();
}

/*
 * paging_prepopulate takes root entries for any range: it must refuse what
 * map_pages refuses, or a bad range reaches a root slot it has no business
 * in.  Bad ranges (by hand, PX = va >> 39 or >> 48 & 511):
 *   0x0000900000000000: 4 levels non-canonical (would take root slot 288);
 *   0x0080000000000000: 5 levels the lower half above USER_END (slot 128);
 *   0x0100000000000000: non-canonical in both; under 5 levels it would take
 *   root slot 256, the direct map's (0xff00000000000000 >> 48 & 511).
 * Expect MM_EINVAL and the root table unchanged; control: the kernel
 * window is accepted.
 */
static void test_prepopulate_rejects_bad_ranges(void)
{
	static const uint64_t bad[] = {
		0x0000900000000000ULL, 0x0080000000000000ULL, 0x0100000000000000ULL,
	};
	static uint64_t before[PT_ENTRIES];
	setup();
	const uint64_t *r = mm_phys_to_virt(as.root_pa);
	memcpy(before, r, sizeof(before));
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(paging_prepopulate(&as, bad[i], PAGE_SIZE) == MM_EINVAL, "va 0x%llx accepted",
		      (unsigned long long)bad[i]);
		CHECK(memcmp(before, r, sizeof(before)) == 0, "va 0x%llx changed the root table",
		      (unsigned long long)bad[i]);
		memcpy(before, r, sizeof(before));
	}
	CHECK(paging_prepopulate(&as, KWIN_BASE, PAGE_SIZE) == MM_OK, "control: kernel window");
	teardown_check();
}

/*
 * 5 levels only.  KWIN_BASE is PML5 slot 511, PML4 slot 384 (by hand:
 * 0xffffc00000000000 >> 48 & 511, >> 39 & 511).  Expect: a page mapped
 * there hangs below root slot 511 and a PML4 whose slot 384 is present,
 * and root slot 384 stays empty (a mapper ignoring level 5 would use it:
 * the control reads the same space as 4 levels and finds the page
 * missing).  Addresses canonical under 57 bits but not 48
 * (0xff80000000000000) map; the lower half above USER_END (1 << 50),
 * addresses past 57 bits (0x0100000000000000) and the 5-level direct map
 * (0xff00000000000000 + 4 MiB) are MM_EINVAL.
 */
static void test_five_levels(void)
{
	uint64_t pa, pte;
	pgmode_set(PGMODE_LEVELS_5);
	setup();
	REQUIRE_OK(map_pages(&as, KWIN_BASE, 0x200000, 1, MAPF_WRITE | MAPF_NOEXEC), "map");
	uint64_t *r = mm_phys_to_virt(as.root_pa);
	CHECK((r[511] & PTE_P) && !(r[384] & PTE_P), "root 511 %llx 384 %llx",
	      (unsigned long long)r[511], (unsigned long long)r[384]);
	uint64_t *pml4 = mm_phys_to_virt(r[511] & PTE_ADDR);
	CHECK(pml4[384] & PTE_P, "PML4 slot 384 %llx", (unsigned long long)pml4[384]);
	CHECK(paging_query(&as, KWIN_BASE, &pa, &pte) == MM_OK && pa == 0x200000, "query");
	pgmode_set(PGMODE_LEVELS_4);
	CHECK(paging_query(&as, KWIN_BASE, &pa, &pte) != MM_OK, "control: 4-level read found it");
	pgmode_set(PGMODE_LEVELS_5);
	CHECK(map_pages(&as, 0xff80000000000000ULL, 0x200000, 1, MAPF_NOEXEC) == MM_OK, "57-bit va");
	CHECK(paging_query(&as, 0xff80000000000000ULL, &pa, &pte) == MM_OK && pa == 0x200000,
	      "57-bit query");
	CHECK(unmap_pages(&as, 0xff80000000000000ULL, 1) == MM_OK, "57-bit unmap");
	CHECK(map_pages(&as, 1ULL << 50, 0x200000, 1, 0) == MM_EINVAL, "lower half above USER_END");
	CHECK(map_pages(&as, 0x0100000000000000ULL, 0x200000, 1, 0) == MM_EINVAL, "non-canonical");
	CHECK(map_pages(&as, 0xff00000000400000ULL, 0x200000, 1, 0) == MM_EINVAL, "direct map");
	CHECK(unmap_pages(&as, KWIN_BASE, 1) == MM_OK, "unmap");
	teardown_check();
	pgmode_set(PGMODE_LEVELS_4);
	setup();
	CHECK(map_pages(&as, 0xff80000000000000ULL, 0x200000, 1, MAPF_NOEXEC) == MM_EINVAL,
	      "4 levels: 57-bit va is non-canonical");
	teardown_check();
}

int main(void)
{
	RUN_MODES(test_map_and_query);
	RUN_MODES(test_map_over_existing_is_busy);
	RUN_MODES(test_map_rejects_bad_ranges);
	RUN_MODES(test_map_across_table_boundaries);
	RUN_MODES(test_unmap_missing_is_reported);
	RUN_MODES(test_adopt_and_large_pages);
	RUN_MODES(test_mem_map_pages_at_unwinds_on_oom);
	RUN_MODES(test_mem_map_addr);
	RUN_MODES(test_create_shares_kernel_half);
	RUN_MODES(test_unmap_kind_mismatch_changes_nothing);
	RUN_MODES(test_window_blocks_know_their_maker);
	RUN_MODES(test_cache_modes);
	RUN_MODES(test_prepopulate_rejects_bad_ranges);
	RUN_MODES(test_query_non_canonical);
	RUN(test_five_levels);
	return harness_done("paging");
}
