/*
 * mm/pgmode.c - the paging mode chosen at boot (theory in mm/pgmode.h).
 */
#include "mm/layout.h"
#include "mm/pgmode.h"
#include "mm/status.h"

struct pgmode mm_pgmode = {
	PGMODE_LEVELS_4, PGMODE_VA_BITS_4, HHDM_BASE_4L, HHDM_MAX_SIZE_4L
};

/* See pgmode.h. */
int pgmode_set(unsigned levels)
{
	if (levels == PGMODE_LEVELS_4)
		mm_pgmode = (struct pgmode){ levels, PGMODE_VA_BITS_4, HHDM_BASE_4L, HHDM_MAX_SIZE_4L };
	else if (levels == PGMODE_LEVELS_5)
		mm_pgmode = (struct pgmode){ levels, PGMODE_VA_BITS_5, HHDM_BASE_5L, HHDM_MAX_SIZE_5L };
	else
		return MM_EINVAL;
	return MM_OK;
}

/* See pgmode.h. */
unsigned pgmode_choose(int fw_la57, int cpu_la57, uint64_t ram_top, int asked,
		       enum pgmode_why *why)
{
	int big = ram_top > HHDM_MAX_SIZE_4L;
	if (fw_la57) {
		*why = PGMODE_WHY_FIRMWARE;
		return PGMODE_LEVELS_5;
	}
	if (cpu_la57 && (big || asked)) {
		*why = big ? PGMODE_WHY_BIG : PGMODE_WHY_ASKED;
		return PGMODE_LEVELS_5;
	}
	*why = big || asked ? PGMODE_WHY_NO_LA57 : PGMODE_WHY_FITS;
	return PGMODE_LEVELS_4;
}
