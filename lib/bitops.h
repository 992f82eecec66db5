/*
 * lib/bitops.h - bitmaps as arrays of 64-bit words: which word and which bit
 * a bit number lands in, masks of bit runs, and the few bit tricks the
 * allocators use.  Header-only, freestanding.
 */
#ifndef LIB_BITOPS_H
#define LIB_BITOPS_H

#include <stdint.h>

#define BITS_PER_WORD  64          /* bits in one bitmap word (uint64_t) */
#define BITS_WORD_SHIFT 6          /* log2(BITS_PER_WORD) */
#define WORD_ALL_SET   (~0ULL)

/* Returns the index of the word holding bit n. */
static inline uint64_t bit_word(uint64_t n)
{
	return n >> BITS_WORD_SHIFT;
}

/* Returns the position of bit n inside its word, 0..63. */
static inline unsigned bit_index(uint64_t n)
{
	return (unsigned)(n & (BITS_PER_WORD - 1));
}

/* Returns the number of the first bit of word w: w * 64. */
static inline uint64_t bit_word_start(uint64_t w)
{
	return w << BITS_WORD_SHIFT;
}

/* Returns the number of bit index (0..63) of word word: word * 64 + index. */
static inline uint64_t bit_number(uint64_t word, unsigned index)
{
	return (word << BITS_WORD_SHIFT) | index;
}

/* Returns the number of words that hold n bits: ceil(n / 64), without
 * overflow for any n. */
static inline uint64_t bit_words(uint64_t n)
{
	return (n >> BITS_WORD_SHIFT) + ((n & (BITS_PER_WORD - 1)) != 0);
}

/* Returns bit n of the bitmap map (0 or 1). */
static inline unsigned bit_test(const uint64_t *map, uint64_t n)
{
	return (unsigned)(map[bit_word(n)] >> bit_index(n)) & 1;
}

/* Sets bit n of the bitmap map. */
static inline void bit_set(uint64_t *map, uint64_t n)
{
	map[bit_word(n)] |= 1ULL << bit_index(n);
}

/* Clears bit n of the bitmap map. */
static inline void bit_clear(uint64_t *map, uint64_t n)
{
	map[bit_word(n)] &= ~(1ULL << bit_index(n));
}

/* Returns the mask of bits [lo, hi) within one word, 0 <= lo <= hi <= 64
 * (lo == hi gives 0). */
static inline uint64_t bit_mask(unsigned lo, unsigned hi)
{
	uint64_t below_hi = hi >= BITS_PER_WORD ? WORD_ALL_SET : (1ULL << hi) - 1;
	return lo >= BITS_PER_WORD ? 0 : below_hi & (WORD_ALL_SET << lo);
}

/* Returns the mask of bits [lo, 64) of a word (lo <= 64). */
static inline uint64_t bit_mask_from(unsigned lo)
{
	return bit_mask(lo, BITS_PER_WORD);
}

/* Returns the index of the lowest set bit of x; x must not be 0. */
static inline unsigned bit_lowest(uint64_t x)
{
	return (unsigned)__builtin_ctzll(x);
}

/* Returns the number of set bits in x. */
static inline unsigned bit_count(uint64_t x)
{
	unsigned n = 0;
	for (; x; x &= x - 1)   /* a loop, not a builtin: no libgcc in the kernel */
		n++;
	return n;
}

#endif
