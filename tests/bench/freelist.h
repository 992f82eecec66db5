/*
 * tests/bench/freelist.h - the limit a frame allocator's single-frame pair
 * is measured against: a plain stack of frame numbers, no checks beyond
 * empty/full, no lock, no CPU number.  Built as its own file (like
 * mm/pmm.c) so that calls into it cost what calls into the pmm cost.
 */
#ifndef TESTS_BENCH_FREELIST_H
#define TESTS_BENCH_FREELIST_H

#include <stdint.h>

struct freelist {
	uint64_t *frames;     /* frame numbers, [0, top) free */
	uint64_t top;
	uint64_t cap;
};

/* Pops a frame: 0 with *pa set, or -1 if empty. */
int freelist_alloc(struct freelist *fl, uint64_t *pa);

/* Pushes the frame at pa: 0, or -1 if full. */
int freelist_free(struct freelist *fl, uint64_t pa);

#endif
