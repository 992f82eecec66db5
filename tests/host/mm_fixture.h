/*
 * tests/host/mm_fixture.h - a small machine for the mm host tests: a
 * sanitised map with RAM_BASE..+ram usable, then a hole, then an MMIO
 * window, and a pmm over it.  Static state: call fixture_init at the start
 * of each test (the harness has just reset the arena).
 *
 *   0          1 MiB                   1 MiB + ram        4 GiB - 16 MiB
 *   |reserved  |usable ............... | (hole) ......... |MMIO (16 MiB)|
 */
#ifndef TESTS_HOST_MM_FIXTURE_H
#define TESTS_HOST_MM_FIXTURE_H

#include <string.h>
#include "mm/pgmode.h"
#include "mm/platform.h"
#include "mm/pmm.h"
#include "mm/status.h"
#include "mm/x86_64.h"

/* Runs test fn once in each paging mode (mm/pgmode.h), as fn@4 and fn@5;
 * the mode is back to 4 levels afterwards. */
#define RUN_MODES(fn) do {					\
	pgmode_set(PGMODE_LEVELS_4); harness_run(#fn "@4", fn);	\
	pgmode_set(PGMODE_LEVELS_5); harness_run(#fn "@5", fn);	\
	pgmode_set(PGMODE_LEVELS_4);				\
} while (0)

/* The test's own walker, written from the SDM's table format and not from
 * mm/paging.c: returns the entry of va at level (1 = PT ... the root =
 * pgmode_levels()) in the tables at root_pa, making zeroed tables from pmm
 * with entries `bits` where one is missing on the way. */
static inline uint64_t *fixture_entry(struct pmm *pmm, uint64_t root_pa, uint64_t va,
				      int level, uint64_t bits)
{
	uint64_t *t = mm_phys_to_virt(root_pa);
	for (int l = (int)pgmode_levels(); l > level; l--) {
		uint64_t *e = &t[PX(l, va)];
		if (!(*e & PTE_P)) {
			uint64_t pa;
			if (pmm_alloc(pmm, &pa) != MM_OK) {
				printf("fixture_entry: out of frames\n");
				exit(2);
			}
			memset(mm_phys_to_virt(pa), 0, PAGE_SIZE);
			*e = pa | bits;
		}
		t = mm_phys_to_virt(*e & PTE_ADDR);
	}
	return &t[PX(level, va)];
}

#define FIX_RAM_BASE  0x100000ULL
#define FIX_MMIO_BASE 0xff000000ULL
#define FIX_MMIO_SIZE 0x01000000ULL

static struct mm_region fixture_map[3];
static struct pmm fixture_pmm;

/* Builds the map and the pmm with ram bytes of usable RAM; returns the pmm. */
static inline struct pmm *fixture_init(uint64_t ram)
{
	fixture_map[0] = (struct mm_region){ 0, FIX_RAM_BASE, MR_RESERVED, 0 };
	fixture_map[1] = (struct mm_region){ FIX_RAM_BASE, ram, MR_USABLE, 0 };
	fixture_map[2] = (struct mm_region){ FIX_MMIO_BASE, FIX_MMIO_SIZE, MR_MMIO, 0 };
	if (pmm_init(&fixture_pmm, fixture_map, 3) != MM_OK) {
		printf("fixture_init: pmm_init failed\n");
		exit(2);
	}
	return &fixture_pmm;
}

/* Takes every free frame but keep; returns how many were taken.  The
 * frames are recorded in out (cap entries) so fixture_release can give
 * them back.  This is the OOM injection: the next allocations fail after
 * exactly keep frames. */
static inline uint64_t fixture_squeeze(struct pmm *pmm, uint64_t keep,
				       uint64_t *out, uint64_t cap)
{
	uint64_t n = 0, pa;
	while (pmm_free_frames(pmm) > keep && n < cap && pmm_alloc(pmm, &pa) == MM_OK)
		out[n++] = pa;
	return n;
}

/* Gives back what fixture_squeeze took. */
static inline void fixture_release(struct pmm *pmm, const uint64_t *frames, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		pmm_free(pmm, frames[i]);
}

#endif
