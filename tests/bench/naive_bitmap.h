/*
 * tests/bench/naive_bitmap.h - what a frame allocator is measured against
 * at the physical limit: the first thing a student writes.  A plain bitmap
 * (1 bit per frame, 1 = used), no summaries, no lock, no checks beyond
 * "is that bit set".  Contiguous requests are a first-fit scan of the
 * aligned candidates, a whole word at a time; single frames a next-fit
 * word scan (a rover), which is the stronger of the two obvious versions
 * (first-fit from frame 0 costs O(frames) per call when memory is full).
 * Built as its own file (like mm/pmm.c) so that calls into it cost what
 * calls into the pmm cost.
 */
#ifndef TESTS_BENCH_NAIVE_BITMAP_H
#define TESTS_BENCH_NAIVE_BITMAP_H

#include <stdint.h>

struct naive_bitmap {
	uint64_t *bits;       /* 1 bit per frame, 1 = used; padding bits set */
	uint64_t nframes;     /* frames [0, nframes) */
	uint64_t nwords;
	uint64_t rover;       /* next-fit word of naive_alloc */
};

/* First fit: the lowest f, a multiple of align (frames, a power of two),
 * with frames [f, f + n) free; marks them used.  0 with *f set, or -1. */
int naive_alloc_contig(struct naive_bitmap *nb, uint64_t n, uint64_t align, uint64_t *f);

/* Marks frames [f, f + n) free. */
void naive_free_contig(struct naive_bitmap *nb, uint64_t f, uint64_t n);

/* Next fit: the first free frame from the rover's word on (wrapping
 * once); marks it used.  0 with *f set, or -1. */
int naive_alloc(struct naive_bitmap *nb, uint64_t *f);

/* Frees frame f: 0, or -1 if it was not used. */
int naive_free(struct naive_bitmap *nb, uint64_t f);

#endif
