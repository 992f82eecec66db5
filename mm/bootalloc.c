/*
 * mm/bootalloc.c - the bump boot allocator (see mm/bootalloc.h).
 *
 * The bump pointer only moves up: through the current usable region, then to
 * the next one.  Memory skipped for alignment, or left at the end of a region
 * too small for a request, is never handed out - and never recorded, so the
 * bitmap allocator treats it as free.
 */
#include "lib/range.h"
#include "mm/bootalloc.h"
#include "mm/status.h"
#include "mm/x86_64.h"

/* Sets (*idx, *next) to the start of usable region idx or a later one that
 * has room above BOOTALLOC_FLOOR; *idx == count when there is none. */
static void bootalloc_enter(const struct bootalloc *ba, size_t *idx, uint64_t *next)
{
	for (; *idx < ba->count; (*idx)++) {
		const struct mm_region *r = &ba->map[*idx];
		uint64_t end = r->base + r->size;
		if (r->type != MR_USABLE || end <= BOOTALLOC_FLOOR)
			continue;
		*next = PAGE_ROUND_UP(r->base < BOOTALLOC_FLOOR ? BOOTALLOC_FLOOR : r->base);
		if (*next < end)
			return;
	}
}

void bootalloc_init(struct bootalloc *ba, const struct mm_region *map, size_t count)
{
	ba->map = map;
	ba->count = count;
	ba->allocated = 0;
	ba->nranges = 0;
	ba->next = 0;
	ba->idx = 0;
	bootalloc_enter(ba, &ba->idx, &ba->next);
}

/* Records [pa, pa + size) as handed out, merging with the last range.
 * Returns 0 if the record is full. */
static int bootalloc_record(struct bootalloc *ba, uint64_t pa, uint64_t size)
{
	if (ba->nranges > 0) {
		struct bootalloc_range *last = &ba->ranges[ba->nranges - 1];
		if (last->pa + last->size == pa) {
			last->size += size;
			return 1;
		}
	}
	if (ba->nranges == BOOTALLOC_MAX_RANGES)
		return 0;
	ba->ranges[ba->nranges].pa = pa;
	ba->ranges[ba->nranges].size = size;
	ba->nranges++;
	return 1;
}

int bootalloc_alloc(struct bootalloc *ba, uint64_t size, uint64_t align, uint64_t *pa)
{
	if (size == 0 || align < PAGE_SIZE || !is_pow2(align))
		return MM_EINVAL;
	if (!align_up(size, PAGE_SIZE, &size))
		return MM_ENOMEM;
	/* The search moves a copy of the bump pointer: a request that fits
	 * nowhere leaves the allocator as it was, for the next request. */
	size_t idx = ba->idx;
	uint64_t next = ba->next;
	for (; idx < ba->count; idx++, bootalloc_enter(ba, &idx, &next)) {
		const struct mm_region *r = &ba->map[idx];
		uint64_t end = r->base + r->size;
		uint64_t p;
		if (!align_up(next, align, &p) || p >= end || end - p < size)
			continue;
		/* A full record would lose track of this range: refuse it
		 * rather than let the bitmap hand it out twice. */
		if (!bootalloc_record(ba, p, size))
			return MM_ENOMEM;
		ba->idx = idx;
		ba->next = p + size;
		ba->allocated += size;
		*pa = p;
		return MM_OK;
	}
	return MM_ENOMEM;
}
