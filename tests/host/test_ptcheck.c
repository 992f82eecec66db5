/*
 * tests/host/test_ptcheck.c - the page-table checker on clean tables and
 * on tables with one planted fault each.
 */
#include <stdlib.h>
#include <string.h>
#include "mm/layout.h"
#include "mm/platform.h"
#include "mm/ptcheck.h"
#include "tests/host/harness.h"
#include "tests/host/mm_fixture.h"

#define UVA 0x400000ULL
#define KVA (KWIN_END - PAGE_SIZE)   /* outside what kwin hands out first */

static struct addrspace as;
static struct virtaddr_space kwin;
static struct pmm *pmm;

/* Fresh machine; a clean space with one user page, one kernel-window page
 * and one MMIO page. */
static void setup(void)
{
	uint64_t va;
	pmm = fixture_init(16ULL << 20);
	if (virtaddr_init(&kwin, pmm, KWIN_BASE, KWIN_END) != MM_OK ||
	    addrspace_create(&as, pmm, NULL, &kwin, NULL) != MM_OK ||
	    mem_map_pages_at(&as, UVA, 1, MAPF_USER | MAPF_WRITE | MAPF_NOEXEC) != MM_OK ||
	    mem_map_pages_at(&as, KVA, 1, MAPF_WRITE | MAPF_NOEXEC) != MM_OK ||
	    mem_map_addr(&as, FIX_MMIO_BASE, 16, MAPF_WRITE | MAPF_NOEXEC | MAPF_UNCACHED, &va) != MM_OK) {
		printf("setup failed\n");
		exit(2);
	}
}

/* Returns a pointer to the leaf entry of va (which is mapped). */
static uint64_t *pte_ptr(uint64_t va)
{
	uint64_t *t = mm_phys_to_virt(as.root_pa);
	for (int l = 4; l > 1; l--)
		t = mm_phys_to_virt(t[PX(l, va)] & PTE_ADDR);
	return &t[PX(1, va)];
}

/* Runs ptcheck capturing its output; *out gets the text. */
static int run(const char **out)
{
	host_capture_begin();
	int n = ptcheck(&as, pmm, NULL);
	*out = host_capture_end();
	return n;
}

/* Expect: tables made by the mm API pass with no violation and every
 * leaf counted. */
static void test_clean_space_passes(void)
{
	uint64_t leaves;
	setup();
	int n = ptcheck(&as, pmm, &leaves);
	CHECK(n == 0 && leaves == 3, "violations %d leaves %llu", n, (unsigned long long)leaves);
}

/* Writable user page with NX cleared.  Expect: one W+X violation naming
 * the address. */
static void test_writable_executable(void)
{
	const char *out;
	setup();
	*pte_ptr(UVA) &= ~PTE_NX;
	CHECK(run(&out) == 1 && strstr(out, "va 0x400000") && strstr(out, "writable and executable"),
	      "%s", out);
}

/* NX only on the PD entry above a W page.  Expect: no violation (NX is
 * inherited down the levels). */
static void test_nx_inherited(void)
{
	const char *out;
	setup();
	*pte_ptr(UVA) &= ~PTE_NX;
	uint64_t *t = mm_phys_to_virt(as.root_pa);
	t = mm_phys_to_virt(t[PX(4, UVA)] & PTE_ADDR);
	t = mm_phys_to_virt(t[PX(3, UVA)] & PTE_ADDR);
	t[PX(2, UVA)] |= PTE_NX;
	CHECK(run(&out) == 0, "%s", out);
}

/* U bit on a kernel-window page (and on its tables).  Expect: one
 * violation. */
static void test_user_in_kernel_half(void)
{
	const char *out;
	setup();
	uint64_t *t = mm_phys_to_virt(as.root_pa);
	t[PX(4, KVA)] |= PTE_U;
	t = mm_phys_to_virt(t[PX(4, KVA)] & PTE_ADDR);
	t[PX(3, KVA)] |= PTE_U;
	t = mm_phys_to_virt(t[PX(3, KVA)] & PTE_ADDR);
	t[PX(2, KVA)] |= PTE_U;
	*pte_ptr(KVA) |= PTE_U;
	CHECK(run(&out) == 1 && strstr(out, "user-accessible outside"), "%s", out);
}

/* The frame under the user page is freed behind the tables' back.
 * Expect: one "free RAM" violation; MMIO frames are not flagged. */
static void test_mapped_frame_free(void)
{
	const char *out;
	setup();
	pmm_free(pmm, *pte_ptr(UVA) & PTE_ADDR);
	CHECK(run(&out) == 1 && strstr(out, "frame is free RAM"), "%s", out);
}

/* A mapping at page 0 planted by hand.  Expect: one violation. */
static void test_page_zero(void)
{
	const char *out;
	uint64_t pa;
	setup();
	pmm_alloc(pmm, &pa);
	uint64_t *t = mm_phys_to_virt(as.root_pa);
	t = mm_phys_to_virt(t[0] & PTE_ADDR);
	t = mm_phys_to_virt(t[0] & PTE_ADDR);
	uint64_t pt;
	pmm_alloc(pmm, &pt);
	memset(mm_phys_to_virt(pt), 0, PAGE_SIZE);
	t[0] = pt | PTE_P | PTE_W | PTE_U;
	((uint64_t *)mm_phys_to_virt(pt))[0] = pa | PTE_P | PTE_NX;
	CHECK(run(&out) == 1 && strstr(out, "page 0 is mapped"), "%s", out);
}

/* Loader-style direct map of 1 GiB pages without NX.  Expect: each W+X
 * large page counted, only PTCHECK_PRINT_MAX printed plus a summary. */
static void test_large_pages_counted(void)
{
	const char *out;
	uint64_t pdpt;
	setup();
	pmm_alloc(pmm, &pdpt);
	uint64_t *h = mm_phys_to_virt(pdpt);
	memset(h, 0, PAGE_SIZE);
	for (int i = 0; i < 20; i++)
		h[i] = ((uint64_t)i << 30) | PTE_P | PTE_W | PTE_PS;
	((uint64_t *)mm_phys_to_virt(as.root_pa))[PX(4, HHDM_BASE)] = pdpt | PTE_P | PTE_W;
	int n = run(&out);
	CHECK(n == 20 && strstr(out, "4 more violations not printed"), "%d: %s", n, out);
}

/* 4 KiB direct-map pages of free frames, as the loader maps the edges of
 * RAM.  Expect: no violation at HHDM_BASE + pa; one for a page whose frame
 * is not the one its address names (the control). */
static void test_direct_map_small_pages(void)
{
	const char *out;
	uint64_t tables[3], free_pa;
	setup();
	for (int i = 0; i < 3; i++) {
		pmm_alloc(pmm, &tables[i]);
		memset(mm_phys_to_virt(tables[i]), 0, PAGE_SIZE);
	}
	pmm_alloc(pmm, &free_pa);
	pmm_free(pmm, free_pa);
	uint64_t va = HHDM_BASE + free_pa;
	((uint64_t *)mm_phys_to_virt(as.root_pa))[PX(4, va)] = tables[0] | PTE_P | PTE_W;
	((uint64_t *)mm_phys_to_virt(tables[0]))[PX(3, va)] = tables[1] | PTE_P | PTE_W;
	((uint64_t *)mm_phys_to_virt(tables[1]))[PX(2, va)] = tables[2] | PTE_P | PTE_W;
	uint64_t *pt = mm_phys_to_virt(tables[2]);
	pt[PX(1, va)] = free_pa | PTE_P | PTE_W | PTE_NX;
	CHECK(run(&out) == 0, "%s", out);
	pt[PX(1, va ^ PAGE_SIZE)] = free_pa | PTE_P | PTE_W | PTE_NX;
	CHECK(run(&out) == 1 && strstr(out, "direct-map page not at"), "%s", out);
}

/*
 *   0xfffffffffffff000      2^64
 *   |  user page (U, NX)      |     the last page of the address space
 *
 * Its end, 2^64, is 0 in 64 bits.  Expect: one violation all the same (a
 * 64-bit "va + size > USER_END" test saw 0 and let it pass).
 */
static void test_user_top_page(void)
{
	const char *out;
	uint64_t top = 0 - PAGE_SIZE, pa, table[3];
	setup();
	for (int i = 0; i < 3; i++) {
		pmm_alloc(pmm, &table[i]);
		memset(mm_phys_to_virt(table[i]), 0, PAGE_SIZE);
	}
	pmm_alloc(pmm, &pa);
	uint64_t *t = mm_phys_to_virt(as.root_pa);
	t[PX(4, top)] = table[0] | PTE_P | PTE_U;
	((uint64_t *)mm_phys_to_virt(table[0]))[PX(3, top)] = table[1] | PTE_P | PTE_U;
	((uint64_t *)mm_phys_to_virt(table[1]))[PX(2, top)] = table[2] | PTE_P | PTE_U;
	((uint64_t *)mm_phys_to_virt(table[2]))[PX(1, top)] = pa | PTE_P | PTE_U | PTE_NX;
	CHECK(run(&out) == 1 && strstr(out, "va 0xfffffffffffff000") &&
	      strstr(out, "user-accessible outside"), "%s", out);
}

int main(void)
{
	RUN(test_clean_space_passes);
	RUN(test_writable_executable);
	RUN(test_nx_inherited);
	RUN(test_user_in_kernel_half);
	RUN(test_mapped_frame_free);
	RUN(test_page_zero);
	RUN(test_large_pages_counted);
	RUN(test_user_top_page);
	RUN(test_direct_map_small_pages);
	return harness_done("ptcheck");
}
