/*
 * mm/range.h - overflow-safe arithmetic on half-open ranges [base, base+size),
 * in one place instead of repeated inline (memblock's habit).  Header-only;
 * used by the loader, the kernel, mm/ and the host.
 */
#ifndef MM_RANGE_H
#define MM_RANGE_H

#include <stdint.h>

/* Returns 1 if [base, base + size) wraps past 2^64 (ends at or beyond it). */
static inline int range_wraps(uint64_t base, uint64_t size)
{
	return base + size < base;
}

/* Returns 1 if [off, off + len) lies inside [0, limit), without wrapping. */
static inline int range_within(uint64_t off, uint64_t len, uint64_t limit)
{
	return off <= limit && len <= limit - off;
}

#endif
