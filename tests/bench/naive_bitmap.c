/*
 * tests/bench/naive_bitmap.c - the student's frame bitmap (see
 * naive_bitmap.h).
 */
#include "tests/bench/naive_bitmap.h"

#define WORD_BITS 64
#define ALL_SET   (~0ULL)

/* Mask of bits [lo, hi) of one word, 0 <= lo < hi <= 64. */
static uint64_t mask(unsigned lo, unsigned hi)
{
	uint64_t below = hi == WORD_BITS ? ALL_SET : (1ULL << hi) - 1;
	return below & (ALL_SET << lo);
}

/* 1 if frames [f, f + n) are all free (a word at a time, stops at the
 * first used one). */
static int run_free(const struct naive_bitmap *nb, uint64_t f, uint64_t n)
{
	uint64_t end = f + n;

	while (f < end) {
		uint64_t w = f / WORD_BITS, wend = (w + 1) * WORD_BITS;
		unsigned hi = end >= wend ? WORD_BITS : (unsigned)(end % WORD_BITS);
		if (nb->bits[w] & mask((unsigned)(f % WORD_BITS), hi))
			return 0;
		f = end >= wend ? wend : end;
	}
	return 1;
}

/* Sets (used) or clears frames [f, f + n), a word at a time. */
static void run_set(struct naive_bitmap *nb, uint64_t f, uint64_t n, int used)
{
	uint64_t end = f + n;

	while (f < end) {
		uint64_t w = f / WORD_BITS, wend = (w + 1) * WORD_BITS;
		unsigned hi = end >= wend ? WORD_BITS : (unsigned)(end % WORD_BITS);
		uint64_t m = mask((unsigned)(f % WORD_BITS), hi);
		nb->bits[w] = used ? nb->bits[w] | m : nb->bits[w] & ~m;
		f = end >= wend ? wend : end;
	}
}

int naive_alloc_contig(struct naive_bitmap *nb, uint64_t n, uint64_t align, uint64_t *f)
{
	for (uint64_t c = 0; c + n <= nb->nframes; c += align)
		if (run_free(nb, c, n)) {
			run_set(nb, c, n, 1);
			*f = c;
			return 0;
		}
	return -1;
}

void naive_free_contig(struct naive_bitmap *nb, uint64_t f, uint64_t n)
{
	run_set(nb, f, n, 0);
}

int naive_alloc(struct naive_bitmap *nb, uint64_t *f)
{
	for (uint64_t i = 0; i < nb->nwords; i++) {
		uint64_t w = nb->rover + i < nb->nwords ? nb->rover + i : nb->rover + i - nb->nwords;
		uint64_t v = nb->bits[w];
		if (v != ALL_SET) {
			unsigned b = (unsigned)__builtin_ctzll(~v);
			nb->bits[w] = v | 1ULL << b;
			nb->rover = w;
			*f = w * WORD_BITS + b;
			return 0;
		}
	}
	return -1;
}

int naive_free(struct naive_bitmap *nb, uint64_t f)
{
	uint64_t m = 1ULL << (f % WORD_BITS);

	if (!(nb->bits[f / WORD_BITS] & m))
		return -1;
	nb->bits[f / WORD_BITS] &= ~m;
	return 0;
}
