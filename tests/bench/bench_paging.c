/*
 * tests/bench/bench_paging.c - map_pages + unmap_pages of 1 GiB in 4 KiB
 * pages (ns per page, tables included: they are made on map and freed on
 * unmap), and mem_map_addr + mem_unmap_addr of a 4 KiB table at an odd
 * offset (ns per pair).  Best of BENCH_REPEAT runs.  Then TLB shootdowns
 * per 1,000 unmaps: kfree of 2-page blocks (lazy, batched: one per purge
 * round) and the 1 GiB unmap_pages (immediate; a second shootdown frees
 * the emptied tables).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "mm/layout.h"
#include "mm/kalloc.h"
#include "mm/paging.h"
#include "tools/host_platform.h"
#include "tests/host/mm_fixture.h"

#define BENCH_REPEAT 5
#define GIB_PAGES    (1ULL << 18)
#define MAP_ROUNDS   200000
#define KFREE_ROUNDS 100000

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(void)
{
	static struct addrspace as;
	static struct virtaddr_space kwin;
	struct pmm *pmm = fixture_init(64ULL << 20);
	if (virtaddr_init(&kwin, pmm, KWIN_BASE, KWIN_END) != MM_OK ||
	    addrspace_create(&as, pmm, NULL, &kwin, NULL) != MM_OK)
		return 1;
	double map = 1e30, addr = 1e30;
	uint64_t s_map = host_shootdowns();
	for (int r = 0; r < BENCH_REPEAT; r++) {
		double t0 = now_ns();
		int rc = map_pages(&as, KWIN_BASE, 0x40000000, GIB_PAGES, MAPF_WRITE | MAPF_NOEXEC);
		rc |= unmap_pages(&as, KWIN_BASE, GIB_PAGES);
		double t = (now_ns() - t0) / GIB_PAGES;
		if (rc) {
			printf("bench_paging: map/unmap failed\n");
			return 1;
		}
		if (t < map)
			map = t;
	}
	double per_unmap = (host_shootdowns() - s_map) * 1000.0 / BENCH_REPEAT;
	for (int r = 0; r < BENCH_REPEAT; r++) {
		uint64_t va;
		int rc = 0;
		double t0 = now_ns();
		for (int i = 0; i < MAP_ROUNDS; i++) {
			rc |= mem_map_addr(&as, 0xe0000 + 0x10, PAGE_SIZE, MAPF_NOEXEC, &va);
			rc |= mem_unmap_addr(&as, va, PAGE_SIZE);
		}
		double t = (now_ns() - t0) / MAP_ROUNDS;
		if (rc) {
			printf("bench_paging: mem_map_addr failed\n");
			return 1;
		}
		if (t < addr)
			addr = t;
	}
	/* Shootdowns per 1,000 unmaps: kfree of 2-page blocks (lazy, batched:
	 * mm/paging.h theory 8) and unmap_pages (one each). */
	uint64_t s0 = host_shootdowns();
	for (int i = 0; i < KFREE_ROUNDS; i++) {
		void *p = kalloc_in(&as, 2 * PAGE_SIZE, ALLOC_KERNEL | ALLOC_WRITABLE);
		if (!p || kfree_in(&as, p, 2 * PAGE_SIZE) != MM_OK) {
			printf("bench_paging: kalloc/kfree failed\n");
			return 1;
		}
	}
	double per_kfree = (host_shootdowns() - s0) * 1000.0 / KFREE_ROUNDS;
	printf("bench: map_unmap_1gib_per_page %.2f ns\n", map);
	printf("bench: mem_map_addr_unmap_4k %.1f ns\n", addr);
	printf("bench: shootdowns_per_1000_kfree_2pages %.2f\n", per_kfree);
	printf("bench: shootdowns_per_1000_unmap_pages_1gib %.0f\n", per_unmap);
	return 0;
}
