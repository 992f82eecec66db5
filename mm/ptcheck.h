/*
 * mm/ptcheck.h - page-table checker, for host tests and the kernel selftest.
 *
 * Walks every present entry of an address space (large pages included)
 * with the effective permissions of each leaf (W and U are ANDed down the
 * levels, NX is ORed) and reports:
 *   - a page both writable and executable (W^X),
 *   - a user-accessible page outside the user half [USER_BASE, USER_END),
 *   - a 4 KiB page outside the direct map, or a table page, whose frame is
 *     RAM the pmm manages but is not allocated (frames outside RAM - MMIO,
 *     ACPI, the loader's ranges - are fine),
 *   - a page of the direct map [HHDM_BASE, + HHDM_MAX_SIZE) that does not
 *     map HHDM_BASE + pa to pa (its 4 KiB edge pages alias free RAM by
 *     design and are not flagged for it),
 *   - a PTE_OWNED leaf that is a large page or whose frame is not RAM,
 *   - anything mapped at page 0,
 *   - a pending entry (mm/paging.h theory 8: not present, PTE_PENDING)
 *     whose owned frame is free RAM: it must stay allocated until the
 *     shootdown has returned.  Pending entries are not leaves otherwise.
 * Each root slot (PML4 or PML5) is walked under the paging lock of its half.
 */
#ifndef MM_PTCHECK_H
#define MM_PTCHECK_H

#include "mm/paging.h"

/* Only this many violations are printed; all are counted. */
#define PTCHECK_PRINT_MAX 16

/* Walks as; prints each violation (up to PTCHECK_PRINT_MAX) and returns
 * how many there are (0 = clean).  *leaves (if not NULL) gets the number
 * of leaf entries seen. */
int ptcheck(const struct addrspace *as, const struct pmm *pmm, uint64_t *leaves);

#endif
