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

/* Returns a pointer to the entry of va at level, making missing tables
 * on the way with entries `bits` (fixture_entry). */
static uint64_t *ent(uint64_t va, int level, uint64_t bits)
{
	return fixture_entry(pmm, as.root_pa, va, level, bits);
}

/* Returns a pointer to the leaf entry of va (which is mapped). */
static uint64_t *pte_ptr(uint64_t va)
{
	return ent(va, 1, 0);
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
	*ent(UVA, 2, 0) |= PTE_NX;
	CHECK(run(&out) == 0, "%s", out);
}

/* U bit on a kernel-window page (and on its tables).  Expect: one
 * violation. */
static void test_user_in_kernel_half(void)
{
	const char *out;
	setup();
	for (int l = (int)pgmode_levels(); l >= 1; l--)
		*ent(KVA, l, 0) |= PTE_U;
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
	*ent(0, 1, PTE_P | PTE_W | PTE_U) = pa | PTE_P | PTE_NX;
	CHECK(run(&out) == 1 && strstr(out, "page 0 is mapped"), "%s", out);
}

/* Loader-style direct map of 1 GiB pages without NX.  Expect: each W+X
 * large page counted, only PTCHECK_PRINT_MAX printed plus a summary. */
static void test_large_pages_counted(void)
{
	const char *out;
	setup();
	for (uint64_t i = 0; i < 20; i++)
		*ent(HHDM_BASE + (i << 30), 3, PTE_P | PTE_W) = (i << 30) | PTE_P | PTE_W | PTE_PS;
	int n = run(&out);
	CHECK(n == 20 && strstr(out, "4 more violations not printed"), "%d: %s", n, out);
}

/* 4 KiB direct-map pages of free frames, as the loader maps the edges of
 * RAM.  Expect: no violation at HHDM_BASE + pa; one for a page whose frame
 * is not the one its address names (the control). */
static void test_direct_map_small_pages(void)
{
	const char *out;
	uint64_t free_pa;
	setup();
	pmm_alloc(pmm, &free_pa);
	uint64_t va = HHDM_BASE + free_pa;
	*ent(va, 1, PTE_P | PTE_W) = free_pa | PTE_P | PTE_W | PTE_NX;
	pmm_free(pmm, free_pa);
	CHECK(run(&out) == 0, "%s", out);
	*ent(va ^ PAGE_SIZE, 1, PTE_P | PTE_W) = free_pa | PTE_P | PTE_W | PTE_NX;
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
	uint64_t top = 0 - PAGE_SIZE, pa;
	setup();
	pmm_alloc(pmm, &pa);
	*ent(top, 1, PTE_P | PTE_U) = pa | PTE_P | PTE_U | PTE_NX;
	for (int l = (int)pgmode_levels(); l > 1; l--)   /* 5 levels: root slot 511 is KVA's too */
		*ent(top, l, 0) |= PTE_U;
	CHECK(run(&out) == 1 && strstr(out, "va 0xfffffffffffff000") &&
	      strstr(out, "user-accessible outside"), "%s", out);
}

/*
 * 5 levels: a W+X kernel page planted under PML5 slot 300, PML4 slot 7,
 * PDPT 5, PD 3, PT 1: va 0xff2c038140601000 by hand (300 << 48 | 7 << 39
 * | 5 << 30 | 3 << 21 | 1 << 12, bits 63..57 set).  Expect: exactly that
 * address reported.  Control: the same tables walked as 4 levels (a
 * walker ignoring level 5) read the PML4 as a PDPT and the PT's parent as
 * the leaf table: the report then names 0xffff9601c0a03000 (root slot 300
 * of a PML4, then 7 GiB + 5 * 2 MiB + 3 pages) and not the planted page.
 */
static void test_level5_address(void)
{
	const char *out;
	uint64_t pa, va = 0xff2c038140601000ULL;
	pgmode_set(PGMODE_LEVELS_5);
	setup();
	pmm_alloc(pmm, &pa);
	*ent(va, 1, PTE_P | PTE_W) = pa | PTE_P | PTE_W;
	CHECK(run(&out) == 1 && strstr(out, "va 0xff2c038140601000 ") &&
	      strstr(out, "writable and executable"), "%s", out);
	pgmode_set(PGMODE_LEVELS_4);
	int n = run(&out);
	CHECK(n >= 1 && !strstr(out, "va 0xff2c038140601000 ") &&
	      strstr(out, "va 0xffff9601c0a03000 "), "control: %d %s", n, out);
}

int main(void)
{
	RUN_MODES(test_clean_space_passes);
	RUN_MODES(test_writable_executable);
	RUN_MODES(test_nx_inherited);
	RUN_MODES(test_user_in_kernel_half);
	RUN_MODES(test_mapped_frame_free);
	RUN_MODES(test_page_zero);
	RUN_MODES(test_large_pages_counted);
	RUN_MODES(test_user_top_page);
	RUN_MODES(test_direct_map_small_pages);
	RUN(test_level5_address);
	return harness_done("ptcheck");
}
