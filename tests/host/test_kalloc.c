/*
 * tests/host/test_kalloc.c - kalloc / kfree, kalloc_in / kfree_in.
 */
#include <stdlib.h>
#include <string.h>
#include "mm/kalloc.h"
#include "mm/layout.h"
#include "mm/platform.h"
#include "tests/host/harness.h"
#include "tests/host/mm_fixture.h"

#define PG(n) ((uint64_t)(n) * PAGE_SIZE)

static struct addrspace as;
static struct virtaddr_space kwin, user;
static struct pmm *pmm;
static uint64_t free0;

/* Fresh 32 MiB machine, a space with a kernel window and a user half. */
static void setup(void)
{
	pmm = fixture_init(32ULL << 20);
	free0 = pmm_free_frames(pmm);
	if (virtaddr_init(&kwin, pmm, KWIN_BASE, KWIN_END) != MM_OK ||
	    virtaddr_init(&user, pmm, USER_BASE, USER_END) != MM_OK ||
	    addrspace_create(&as, pmm, NULL, &kwin, &user) != MM_OK) {
		printf("setup failed\n");
		exit(2);
	}
}

/* Tears down and checks every frame came back. */
static void teardown_check(void)
{
	addrspace_destroy(&as);
	virtaddr_destroy(&kwin);
	virtaddr_destroy(&user);
	CHECK(pmm_free_frames(pmm) == free0, "leak: free %llu, was %llu",
	      (unsigned long long)pmm_free_frames(pmm), (unsigned long long)free0);
}

/* Returns the leaf PTE of pointer p (0 if unmapped). */
static uint64_t pte_of(const void *p)
{
	uint64_t pa, pte;
	return paging_query(&as, (uint64_t)(uintptr_t)p, &pa, &pte) == MM_OK ? pte : 0;
}

/*
 * kalloc(1 page, KERNEL|WRITABLE) -> direct map, no window range.
 * Expect: the pointer is the frame's direct-map address, zeroed, and the
 * window is untouched; kfree returns the frame.
 */
static void test_single_page_uses_direct_map(void)
{
	setup();
	uint64_t before = pmm_free_frames(pmm);
	uint8_t *p = kalloc_in(&as, 100, ALLOC_KERNEL | ALLOC_WRITABLE);
	REQUIRE(p, "kalloc");
	CHECK(kwin.nused == 0, "window used");
	CHECK(pmm_free_frames(pmm) == before - 1, "one frame");
	CHECK(p[0] == 0 && p[PAGE_SIZE - 1] == 0, "not zeroed");
	memset(p, 0xaa, PAGE_SIZE);
	CHECK(kfree_in(&as, p, 100) == MM_OK, "kfree");
	CHECK(pmm_free_frames(pmm) == before, "frame back");
	teardown_check();
}

/*
 * kalloc(5 pages + 1 byte, KERNEL|WRITABLE): 6 pages in the window.
 * Expect: the range is in the kernel window, every page mapped writable,
 * NX, not user; frames are allocated; kfree unmaps and frees all.
 */
static void test_multi_page_kernel(void)
{
	setup();
	void *p = kalloc_in(&as, PG(5) + 1, ALLOC_KERNEL | ALLOC_WRITABLE);
	REQUIRE(p, "kalloc");
	uint64_t va = (uint64_t)(uintptr_t)p;
	CHECK(va >= KWIN_BASE && va < KWIN_END && kwin.used_bytes == PG(6), "va %llx", (unsigned long long)va);
	for (int i = 0; i < 6; i++) {
		uint64_t pte = pte_of((char *)p + PG(i));
		CHECK((pte & (PTE_P | PTE_W | PTE_U | PTE_NX)) == (PTE_P | PTE_W | PTE_NX),
		      "page %d pte %llx", i, (unsigned long long)pte);
		CHECK(pmm_is_allocated(pmm, pte & PTE_ADDR), "frame %d", i);
	}
	CHECK(pte_of((char *)p + PG(6)) == 0, "page after");
	CHECK(kfree_in(&as, p, PG(5) + 1) == MM_OK, "kfree");
	CHECK(kwin.used_bytes == 0 && pte_of(p) == 0, "unmapped");
	teardown_check();
}

/*
 * Expect: ALLOC_USER lands in the user half with the U bit; without
 * ALLOC_WRITABLE pages are read-only (even a single kernel page, which
 * then needs the window); both halves at once, size 0 and unknown flags
 * give NULL.
 */
static void test_flags(void)
{
	setup();
	void *u = kalloc_in(&as, PG(2), ALLOC_USER | ALLOC_WRITABLE);
	REQUIRE(u, "user");
	uint64_t va = (uint64_t)(uintptr_t)u;
	CHECK(va >= USER_BASE && va < USER_END, "va %llx", (unsigned long long)va);
	CHECK((pte_of(u) & (PTE_U | PTE_W | PTE_NX)) == (PTE_U | PTE_W | PTE_NX), "user pte");
	void *ro = kalloc_in(&as, 1, ALLOC_KERNEL);
	REQUIRE(ro, "read-only page");
	CHECK((uint64_t)(uintptr_t)ro >= KWIN_BASE && !(pte_of(ro) & PTE_W), "ro pte %llx",
	      (unsigned long long)pte_of(ro));
	CHECK(kalloc_in(&as, 1, ALLOC_KERNEL | ALLOC_USER) == NULL, "both halves");
	CHECK(kalloc_in(&as, 0, ALLOC_KERNEL) == NULL, "size 0");
	CHECK(kalloc_in(&as, 1, 0x80) == NULL, "unknown flag");
	CHECK(kfree_in(&as, u, PG(2)) == MM_OK && kfree_in(&as, ro, 1) == MM_OK, "kfree");
	teardown_check();
}

/*
 * Expect: a wrong size, an address kalloc did not return and a double
 * free are reported with their arguments and change nothing.
 */
static void test_bad_kfree(void)
{
	setup();
	void *p = kalloc_in(&as, PG(3), ALLOC_WRITABLE);
	void *q = kalloc_in(&as, PG(1), ALLOC_WRITABLE);
	REQUIRE(p && q, "kalloc");
	host_capture_begin();
	int r1 = kfree_in(&as, p, PG(2));
	int r2 = kfree_in(&as, (char *)p + PG(1), PG(1));
	int r3 = kfree_in(&as, q, PG(2));
	const char *out = host_capture_end();
	CHECK(r1 == MM_ENOENT && r2 == MM_ENOENT && r3 == MM_ENOENT, "%d %d %d", r1, r2, r3);
	CHECK(strstr(out, "kfree: bad free of") && strstr(out, "size 8192"), "report: %s", out);
	CHECK(kwin.used_bytes == PG(3) && pte_of(p), "changed");
	CHECK(kfree_in(&as, p, PG(3)) == MM_OK && kfree_in(&as, q, PG(1)) == MM_OK, "kfree");
	host_capture_begin();
	int r4 = kfree_in(&as, q, PG(1));
	host_capture_end();
	CHECK(r4 == MM_ENOENT, "double free %d", r4);
	teardown_check();
}

/*
 * kalloc of 40 pages with the pmm squeezed to k free frames, every k.
 * Expect: NULL with the free count unchanged and the window empty until
 * enough frames are left; then success.
 */
static void test_oom_unwinds(void)
{
	static uint64_t held[10000];
	setup();
	void *warm = kalloc_in(&as, PG(40), ALLOC_WRITABLE);   /* tables and nodes exist now */
	REQUIRE(warm, "warm");
	kfree_in(&as, warm, PG(40));
	paging_purge(&as);      /* its frames back now, not at the first OOM */
	int ok_at = -1;
	for (uint64_t keep = 0; keep <= 48; keep++) {
		uint64_t n = fixture_squeeze(pmm, keep, held, 10000);
		uint64_t before = pmm_free_frames(pmm);
		void *p = kalloc_in(&as, PG(40), ALLOC_WRITABLE);
		if (p) {
			ok_at = (int)keep;
			kfree_in(&as, p, PG(40));
			fixture_release(pmm, held, n);
			break;
		}
		CHECK(pmm_free_frames(pmm) == before && kwin.used_bytes == 0, "keep %llu: free %llu/%llu",
		      (unsigned long long)keep, (unsigned long long)pmm_free_frames(pmm),
		      (unsigned long long)before);
		fixture_release(pmm, held, n);
	}
	CHECK(ok_at >= 40 && ok_at <= 44, "succeeded with %d frames", ok_at);
	teardown_check();
}

/* Expect: kalloc / kfree use the kernel's address space (registered with
 * addrspace_set_kernel), and fail cleanly without one. */
static void test_global_space(void)
{
	setup();
	addrspace_set_kernel(NULL);
	CHECK(kalloc(PG(2), ALLOC_WRITABLE) == NULL, "no space");
	addrspace_set_kernel(&as);
	CHECK(addrspace_kernel() == &as, "accessor");
	void *p = kalloc(PG(2), ALLOC_WRITABLE);
	CHECK(p && kwin.used_bytes == PG(2), "kalloc");
	kfree(p, PG(2));
	CHECK(kwin.used_bytes == 0, "kfree");
	addrspace_set_kernel(NULL);
	teardown_check();
}

/*
 *   1M                                      1M + 32M
 *   |bitmap+tags|tables|...kalloc page P ...|
 * Expect: kfree of a direct-map pointer into the allocator's own bitmap is
 * refused before anything is written: the metadata is byte-identical.
 */
static void test_kfree_of_bitmap_changes_nothing(void)
{
	setup();
	static uint8_t before[PG(16)];
	uint64_t meta = pmm->meta_pa, msize = pmm->meta_size;
	REQUIRE(msize <= sizeof(before), "meta %llu bytes", (unsigned long long)msize);
	memcpy(before, mm_phys_to_virt(meta), msize);
	host_capture_begin();
	int r = kfree_in(&as, mm_phys_to_virt(meta), PG(1));
	const char *out = host_capture_end();
	CHECK(r == MM_ENOENT, "status %d", r);
	CHECK(strstr(out, "kfree: bad free of"), "report: %s", out);
	CHECK(!memcmp(before, mm_phys_to_virt(meta), msize), "the bitmap was written");
	CHECK(pmm_check(pmm) == MM_OK, "pmm_check");
	teardown_check();
}

/*
 * Expect: after kfree(P), the frame goes to another owner through
 * pmm_alloc; a second (stale) kfree(P) is refused and the new owner's frame
 * stays allocated with its contents; pmm_free of a live kalloc page is
 * refused too (MM_EBUSY) and the page stays kalloc's.
 */
static void test_stale_and_foreign_frees(void)
{
	setup();
	uint8_t *p = kalloc_in(&as, PG(1), ALLOC_KERNEL | ALLOC_WRITABLE);
	REQUIRE(p, "kalloc");
	uint64_t pa = (uint64_t)(p - (uint8_t *)mm_phys_to_virt(0)), again;
	CHECK(pmm_is_tagged(pmm, pa), "kalloc page tagged");
	REQUIRE_OK(kfree_in(&as, p, PG(1)), "kfree");
	CHECK(!pmm_is_tagged(pmm, pa), "tag cleared by kfree");
	REQUIRE_OK(pmm_alloc(pmm, &again), "pmm_alloc");
	REQUIRE(again == pa, "the freed frame is handed out again (%#llx, %#llx)",
		(unsigned long long)again, (unsigned long long)pa);
	memset(p, 0x3c, PG(1));                    /* the new owner's data */
	host_capture_begin();
	int r = kfree_in(&as, p, PG(1));
	const char *out = host_capture_end();
	CHECK(r == MM_ENOENT && strstr(out, "not by kalloc"), "stale kfree: %d %s", r, out);
	CHECK(pmm_is_allocated(pmm, pa) && p[0] == 0x3c && p[PG(1) - 1] == 0x3c,
	      "the new owner's frame was freed or written");
	REQUIRE_OK(pmm_free(pmm, again), "the owner frees it");

	uint8_t *q = kalloc_in(&as, PG(1), ALLOC_KERNEL | ALLOC_WRITABLE);
	REQUIRE(q, "kalloc");
	uint64_t qa = (uint64_t)(q - (uint8_t *)mm_phys_to_virt(0));
	host_capture_begin();
	r = pmm_free(pmm, qa);
	out = host_capture_end();
	CHECK(r == MM_EBUSY && strstr(out, "tagged"), "pmm_free of a kalloc page: %d %s", r, out);
	CHECK(pmm_is_tagged(pmm, qa), "the page stays kalloc's");
	CHECK(kfree_in(&as, q, PG(1)) == MM_OK, "kfree");
	CHECK(pmm_check(pmm) == MM_OK, "pmm_check");
	teardown_check();
}

/*
 * kernel window: [mem_map_addr range M][virtaddr_alloc block V, mapped with mem_map_pages_at]
 * Expect: kfree(M) and kfree(V) are refused with MM_EOWNER and a report,
 * never a panic; nothing changes (M and V stay mapped, the pmm metadata
 * and the window are identical); the right APIs then free them.
 */
static void test_kfree_of_other_apis_ranges(void)
{
	static uint8_t snap[PG(16)];
	setup();
	uint64_t m, v;
	REQUIRE_OK(mem_map_addr(&as, FIX_MMIO_BASE, PG(2), MAPF_NOEXEC | MAPF_UNCACHED, &m), "map_addr");
	REQUIRE_OK(virtaddr_alloc(&kwin, PG(2), 0, &v), "virtaddr_alloc");
	REQUIRE_OK(mem_map_pages_at(&as, v, 2, MAPF_WRITE | MAPF_NOEXEC), "mem_map_pages_at");
	REQUIRE(pmm->meta_size <= sizeof(snap), "meta");
	memcpy(snap, mm_phys_to_virt(pmm->meta_pa), pmm->meta_size);
	uint64_t used = kwin.used_bytes;
	host_capture_begin();
	int r1 = kfree_in(&as, (void *)(uintptr_t)m, PG(2));
	int r2 = kfree_in(&as, (void *)(uintptr_t)v, PG(2));
	const char *out = host_capture_end();
	CHECK(r1 == MM_EOWNER && r2 == MM_EOWNER, "status %s %s", mm_status_str(r1), mm_status_str(r2));
	CHECK(strstr(out, "made by mem_map_addr") && strstr(out, "made by virtaddr_alloc"),
	      "report: %s", out);
	CHECK(!memcmp(snap, mm_phys_to_virt(pmm->meta_pa), pmm->meta_size) &&
	      kwin.used_bytes == used && pte_of((void *)(uintptr_t)m) && pte_of((void *)(uintptr_t)v),
	      "a refused kfree changed something");
	CHECK(mem_unmap_addr(&as, m, PG(2)) == MM_OK, "mem_unmap_addr");
	CHECK(mem_unmap_pages(&as, v, 2) == MM_OK && virtaddr_free(&kwin, v, PG(2)) == MM_OK, "free V");
	teardown_check();
}

int main(void)
{
	RUN_MODES(test_single_page_uses_direct_map);
	RUN_MODES(test_multi_page_kernel);
	RUN_MODES(test_flags);
	RUN_MODES(test_bad_kfree);
	RUN_MODES(test_oom_unwinds);
	RUN_MODES(test_global_space);
	RUN_MODES(test_kfree_of_bitmap_changes_nothing);
	RUN_MODES(test_stale_and_foreign_frees);
	RUN_MODES(test_kfree_of_other_apis_ranges);
	return harness_done("kalloc");
}
