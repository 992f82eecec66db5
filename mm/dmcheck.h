/*
 * mm/dmcheck.h - checks the direct map the loader built against the raw
 * firmware map (the independent truth): every mapped page must be
 * write-back RAM, and all such RAM must be mapped.  For the kernel
 * selftest; portable (tables reached through mm_phys_to_virt).
 *
 * "RAM" is written out here on its own, not taken from mm/hhdm.c, so that
 * a mistake in the planner's rule shows: a descriptor with EFI_MEMORY_WB
 * of type loader code/data, boot-services code/data, runtime code/data,
 * conventional, ACPI reclaim or ACPI NVS; a page any other descriptor
 * touches is not RAM.
 */
#ifndef MM_DMCHECK_H
#define MM_DMCHECK_H

#include <stddef.h>
#include <stdint.h>
#include "mm/hhdm.h"

/* Only this many problems are printed; all are counted. */
#define DMCHECK_PRINT_MAX 8

/*
 * dmcheck_walk - the physical runs the direct map maps: walks the root slots (PML4 or PML5)
 * of [HHDM_BASE, HHDM_BASE + HHDM_MAX_SIZE) of the tables at root_pa and
 * merges the leaves into sorted runs [pa, pa + size) (HHDM_BASE + pa maps
 * pa; a leaf that maps anything else is counted in *misplaced).  Returns
 * MM_OK or MM_EOVERFLOW (more than cap runs).
 */
int dmcheck_walk(uint64_t root_pa, struct hhdm_range *runs, size_t cap, size_t *n,
		 uint64_t *misplaced);

/*
 * dmcheck_compare - compares runs[0..n) (sorted, as dmcheck_walk makes
 * them) with the raw map: counts each run part that is not RAM (into
 * *not_ram, if not NULL) and each RAM page range left unmapped, printing
 * the first DMCHECK_PRINT_MAX as `dmcheck: ...` lines.  Returns the total
 * (0 = the direct map is exactly the RAM).  desc_size must be a valid
 * stride (memmap_desc_size_ok).
 */
int dmcheck_compare(const struct hhdm_range *runs, size_t n, const void *raw,
		    uint64_t raw_size, uint32_t desc_size, int *not_ram);

#endif
