/*
 * lib/range.h - overflow-checked arithmetic on half-open ranges
 * [base, base + size) and on alignment, in one place instead of repeated
 * inline (memblock's habit).  Header-only, freestanding; used by the loader,
 * the kernel, mm/ and host programs.
 *
 * A range may end exactly at 2^64 (its last byte is 0xffff...ffff): its end
 * is then not representable in 64 bits, so helpers that return an end say
 * so, and the overlap test never computes one.
 */
#ifndef LIB_RANGE_H
#define LIB_RANGE_H

#include <stdint.h>

/* Sets *end to base + size and returns 1 if that fits in 64 bits; returns 0
 * (and leaves *end alone) if the range ends at or beyond 2^64. */
static inline int range_end(uint64_t base, uint64_t size, uint64_t *end)
{
	if (size > UINT64_MAX - base)
		return 0;
	*end = base + size;
	return 1;
}

/* Returns 1 if [base, base + size) ends at or beyond 2^64, i.e. its end is
 * not representable (the negation of range_end). */
static inline int range_wraps(uint64_t base, uint64_t size)
{
	return size > UINT64_MAX - base;
}

/* Sets *last to the last byte of [base, base + size) and returns 1 if the
 * range is non-empty and ends at or below 2^64; returns 0 otherwise. */
static inline int range_last(uint64_t base, uint64_t size, uint64_t *last)
{
	if (size == 0 || size - 1 > UINT64_MAX - base)
		return 0;
	*last = base + (size - 1);
	return 1;
}

/* Returns 1 if [off, off + len) lies inside [0, limit), without wrapping. */
static inline int range_within(uint64_t off, uint64_t len, uint64_t limit)
{
	return off <= limit && len <= limit - off;
}

/* Returns 1 if [base, base + size) lies inside [lo, hi), lo <= hi, without
 * wrapping: range_within for a window that need not start at 0. */
static inline int range_inside(uint64_t base, uint64_t size, uint64_t lo, uint64_t hi)
{
	return base >= lo && range_within(base - lo, size, hi - lo);
}

/* Returns 1 if [a, a + asize) and [b, b + bsize) share a byte.  Exact for
 * any two ranges that end at or below 2^64 (the end is never computed);
 * an empty range overlaps nothing. */
static inline int ranges_overlap(uint64_t a, uint64_t asize, uint64_t b, uint64_t bsize)
{
	return a >= b ? a - b < bsize && asize != 0 : b - a < asize && bsize != 0;
}

/* Returns 1 if x is a power of two (0 is not). */
static inline int is_pow2(uint64_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

/* Returns 1 if x is a multiple of align, a power of two. */
static inline int is_aligned(uint64_t x, uint64_t align)
{
	return (x & (align - 1)) == 0;
}

/* Sets *out to x rounded up to a multiple of align and returns 1; returns 0
 * (and leaves *out alone) if align is not a power of two or the result
 * would pass 2^64 - align. */
static inline int align_up(uint64_t x, uint64_t align, uint64_t *out)
{
	if (!is_pow2(align) || x > UINT64_MAX - (align - 1))
		return 0;
	*out = (x + (align - 1)) & ~(align - 1);
	return 1;
}

/* Sets *out to x rounded down to a multiple of align and returns 1; returns
 * 0 (and leaves *out alone) if align is not a power of two. */
static inline int align_down(uint64_t x, uint64_t align, uint64_t *out)
{
	if (!is_pow2(align))
		return 0;
	*out = x & ~(align - 1);
	return 1;
}

#endif
