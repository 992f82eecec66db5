/*
 * tests/bench/bench_pmm_naive.c - the frame allocator at the physical limit,
 * side by side with the first thing a student writes (tests/bench/
 * naive_bitmap.c), on the same data in the same run (`make bench`; not a
 * pass/fail test).  Prints `bench: <name> <value> <unit>` lines, each the
 * median of REPS runs (thread CPU time), the naive and pmm runs taking
 * turns:
 *   naive_contig512_<s> / pmm_contig512_<s>   ns per 512-frame 2 MiB-aligned
 *          allocation + its free (rounds of ROUND allocations, then their
 *          frees in the same order) on 16 GiB, state <s>:
 *            90     90% full, random fragmentation: every frame used except
 *                   1% of RAM in whole random 2 MiB blocks and random
 *                   single frames making up the other 9%
 *            empty  nothing allocated
 *            nofit  one random used frame in every 2 MiB block: nearly
 *                   empty, no aligned run (ns per failed attempt)
 *   naive_bulk_1t_99.9   ns per frame: BULK_1T single frames allocated one
 *          by one by the naive next-fit scan, then freed (1 TiB, 99.9% full:
 *          0.1% random frames free)
 *   pmm_bulk_16g_99.9 / pmm_bulk_1t_99.9   ns per frame of pmm_alloc_bulk
 *          then pmm_free_bulk (no per-CPU cache) of BULK_16G / BULK_1T frames
 *          at 99.9% full (16 GiB holds only 4,194 free frames then: it takes
 *          4,096, the same share of its free frames as 65,536 of 1 TiB's)
 *   pmm_ratio_*   the pmm line over its naive line (goal <= 1), and
 *          pmm_bulk_1t over pmm_bulk_16g (goal <= 2)
 * The pmm and the naive bitmap hold exactly the same used frames (checked
 * with memcmp before every measurement).  BENCH_ROUNDS=<n> in the
 * environment sets the contiguous rounds per run, BENCH_ONLY=<word> runs
 * only the groups whose name contains it (90, empty, nofit, bulk): for
 * valgrind --tool=callgrind instruction counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/bitops.h"
#include "mm/pmm.h"
#include "mm/status.h"
#include "tests/bench/naive_bitmap.h"
#include "tools/host_platform.h"

#define MiB 0x100000ULL
#define GiB 0x40000000ULL
#define TiB 0x10000000000ULL
#define PG  4096ULL
#define BLOCK 512ULL          /* frames in a 2 MiB block */
#define ARENA_16G (17 * GiB)  /* the 16 GiB map's arena: small enough for
				 valgrind (it cannot map the 64 GiB default) */

#define REPS     5            /* runs per line: the median is reported */
#define ROUND    64           /* contiguous allocations before their frees
				(128 MiB held at once: a guest's or a
				device's 2 MiB pages; see README for 16) */
#define BULK_16G 4096         /* see the header comment */
#define BULK_1T  65536
#define BULK_REPS  9          /* bulk runs per line (median) */
#define BULK_16G_CYCLES 16    /* a 16 GiB run repeats its 4,096 frames this
				 often: ~1 ms, like a 1 TiB run */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rounds = 256;  /* contiguous rounds per run (BENCH_ROUNDS) */
static uint64_t pa[BULK_1T];
static uint64_t fr[BULK_1T];

/* xorshift64*. */
static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

/* CPU time of this thread in ns. */
static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Exits with a message if st is not MM_OK. */
static void ok(int st, const char *what)
{
	if (st != MM_OK) {
		fprintf(stderr, "bench_pmm_naive: %s: %s\n", what, mm_status_str(st));
		exit(1);
	}
}

/* Median of n values (sorts v). */
static double median(double *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v[n / 2];
}

static const struct mm_region map16[] = {
	{ .base = PG, .size = 0x9f000, .type = MR_USABLE },
	{ .base = MiB, .size = 16 * GiB - MiB, .type = MR_USABLE },
};

static const struct mm_region map1t[] = {
	{ .base = PG, .size = 0x9f000, .type = MR_USABLE },
	{ .base = MiB, .size = TiB - MiB, .type = MR_USABLE },
};

/* Number of clear bits of nb. */
static uint64_t free_bits(const struct naive_bitmap *nb)
{
	uint64_t n = 0;
	for (uint64_t w = 0; w < nb->nwords; w++)
		n += bit_count(~nb->bits[w]);
	return n;
}

/* Patterns: mark more frames used in nb (init: the pmm's state after
 * pmm_init, a copy). */
static void pat_empty(struct naive_bitmap *nb, const uint64_t *init)
{
	(void)nb;
	(void)init;
}

/* Everything used except want_free random free frames of init, and
 * blocks random whole free 2 MiB blocks. */
static void keep_free(struct naive_bitmap *nb, const uint64_t *init, uint64_t blocks,
		      uint64_t want_free)
{
	uint64_t got = 0, nblocks = nb->nframes / BLOCK;

	memset(nb->bits, 0xff, nb->nwords * 8);
	while (got < blocks * BLOCK) {
		uint64_t b = rnd() % nblocks, w = b * BLOCK / 64, k;
		for (k = 0; k < BLOCK / 64 && init[w + k] == 0 && nb->bits[w + k] == ~0ULL; k++)
			;
		if (k < BLOCK / 64)
			continue;
		memset(&nb->bits[w], 0, BLOCK / 8);
		got += BLOCK;
	}
	while (got < want_free) {
		uint64_t f = rnd() % nb->nframes;
		if (!bit_test(init, f) && bit_test(nb->bits, f)) {
			bit_clear(nb->bits, f);
			got++;
		}
	}
}

static void pat_90(struct naive_bitmap *nb, const uint64_t *init)
{
	uint64_t ram = free_bits(nb);
	keep_free(nb, init, ram / BLOCK / 100, ram / 10);
}

static void pat_999(struct naive_bitmap *nb, const uint64_t *init)
{
	keep_free(nb, init, 0, free_bits(nb) / 1000);
}

static void pat_nofit(struct naive_bitmap *nb, const uint64_t *init)
{
	(void)init;
	for (uint64_t b = 0; b < nb->nframes / BLOCK; b++)
		bit_set(nb->bits, b * BLOCK + rnd() % BLOCK);
}

/* Allocates every free frame of p: the largest contiguous runs first, then
 * single frames. */
static void fill_all(struct pmm *p)
{
	uint64_t a;

	for (uint64_t run = 1ULL << 28; run > 1; run >>= 1)
		while (pmm_alloc_contig(p, run, PG, &a) == MM_OK)
			;
	while (pmm_alloc(p, &a) == MM_OK)
		;
}

/* Builds p over map and nb with the same used frames: pmm_init's state
 * plus what pat marks. */
static void build(struct pmm *p, struct naive_bitmap *nb, const struct mm_region *map,
		  size_t count, void (*pat)(struct naive_bitmap *, const uint64_t *))
{
	ok(pmm_init(p, map, count), "init");
	nb->nframes = p->nframes;
	nb->nwords = p->nwords;
	nb->rover = 0;
	free(nb->bits);
	nb->bits = malloc(nb->nwords * 8);
	uint64_t *init = malloc(nb->nwords * 8);
	if (!nb->bits || !init)
		ok(MM_ENOMEM, "naive bitmap");
	memcpy(init, p->bitmap, nb->nwords * 8);
	memcpy(nb->bits, init, nb->nwords * 8);
	pat(nb, init);
	for (uint64_t w = 0; w < nb->nwords; w++)
		nb->bits[w] |= init[w];
	free(init);
	fill_all(p);
	for (uint64_t f = 0; f < nb->nframes;) {        /* free nb's free runs */
		if (bit_test(nb->bits, f)) {
			f++;
			continue;
		}
		uint64_t e = f;
		while (e < nb->nframes && !bit_test(nb->bits, e))
			e++;
		ok(pmm_free_contig(p, f * PG, e - f), "fill free");
		f = e;
	}
	p->hint = 0;
	p->chint = 0;
	ok(pmm_check(p), "check after build");
	if (memcmp(p->bitmap, nb->bits, nb->nwords * 8) != 0)
		ok(MM_EINVAL, "pmm and naive bitmaps differ");
}

/* One run of contiguous rounds on the naive bitmap: ns per attempt. */
static double naive_contig(struct naive_bitmap *nb, int fit)
{
	double t0 = now_ns();
	for (uint64_t r = 0; r < rounds; r++) {
		for (int i = 0; i < ROUND; i++)
			if (naive_alloc_contig(nb, BLOCK, BLOCK, &fr[i]) != 0 && fit)
				ok(MM_ENOMEM, "naive contig");
		if (fit)
			for (int i = 0; i < ROUND; i++)
				naive_free_contig(nb, fr[i], BLOCK);
	}
	return (now_ns() - t0) / (rounds * ROUND);
}

/* The same on the pmm. */
static double pmm_contig(struct pmm *p, int fit)
{
	double t0 = now_ns();
	for (uint64_t r = 0; r < rounds; r++) {
		for (int i = 0; i < ROUND; i++) {
			int st = pmm_alloc_contig(p, BLOCK, BLOCK * PG, &pa[i]);
			if (st != (fit ? MM_OK : MM_ENOMEM))
				ok(fit ? st : MM_EINVAL, "pmm contig");
		}
		if (fit)
			for (int i = 0; i < ROUND; i++)
				ok(pmm_free_contig(p, pa[i], BLOCK), "pmm contig free");
	}
	return (now_ns() - t0) / (rounds * ROUND);
}

/* The contig512 lines for state name / pattern pat. */
static const char *only;          /* BENCH_ONLY */

static void contig_lines(const char *name, void (*pat)(struct naive_bitmap *, const uint64_t *),
			 int fit)
{
	static struct pmm p;
	static struct naive_bitmap nb;
	double tn[REPS], tp[REPS];

	if (only && !strstr(name, only))
		return;
	build(&p, &nb, map16, 2, pat);
	naive_contig(&nb, fit);         /* warm-up */
	pmm_contig(&p, fit);
	for (int i = 0; i < REPS; i++) {
		tn[i] = naive_contig(&nb, fit);
		tp[i] = pmm_contig(&p, fit);
	}
	ok(pmm_check(&p), "check after contig");
	double n = median(tn, REPS), m = median(tp, REPS);
	printf("bench: naive_contig512_%s %.1f ns\n", name, n);
	printf("bench: pmm_contig512_%s %.1f ns\n", name, m);
	printf("bench: pmm_ratio_contig512_%s_naive %.3f x\n", name, m / n);
	free(nb.bits);
	nb.bits = NULL;
}

/* One bulk run on the pmm: ns per frame of n frames allocated and freed,
 * cycles times. */
static double pmm_bulk(struct pmm *p, uint64_t n, int cycles)
{
	double t0 = now_ns();
	for (int c = 0; c < cycles; c++) {
		ok(pmm_alloc_bulk(p, n, pa), "pmm_alloc_bulk");
		ok(pmm_free_bulk(p, n, pa), "pmm_free_bulk");
	}
	return (now_ns() - t0) / ((double)n * cycles);
}

/* The same with the naive next-fit scan. */
static double naive_bulk(struct naive_bitmap *nb, uint64_t n)
{
	double t0 = now_ns();
	for (uint64_t i = 0; i < n; i++)
		if (naive_alloc(nb, &fr[i]) != 0)
			ok(MM_ENOMEM, "naive alloc");
	for (uint64_t i = 0; i < n; i++)
		if (naive_free(nb, fr[i]) != 0)
			ok(MM_ENOENT, "naive free");
	return (now_ns() - t0) / n;
}

int main(void)
{
	static struct pmm p;
	static struct naive_bitmap nb;
	double t[BULK_REPS], tn[BULK_REPS], b16, b1t, n1t;
	const char *env = getenv("BENCH_ROUNDS");

	if (env && atoll(env) > 0)
		rounds = (uint64_t)atoll(env);
	only = getenv("BENCH_ONLY");
	host_arena_init(ARENA_16G);
	contig_lines("90", pat_90, 1);
	contig_lines("empty", pat_empty, 1);
	contig_lines("nofit", pat_nofit, 0);
	if (only && !strstr("bulk", only))
		return 0;

	build(&p, &nb, map16, 2, pat_999);
	pmm_bulk(&p, BULK_16G, BULK_16G_CYCLES);
	for (int i = 0; i < BULK_REPS; i++)
		t[i] = pmm_bulk(&p, BULK_16G, BULK_16G_CYCLES);
	ok(pmm_check(&p), "check 16g bulk");
	b16 = median(t, BULK_REPS);
	printf("bench: pmm_bulk_16g_99.9 %.1f ns\n", b16);

	host_arena_init(TiB);
	build(&p, &nb, map1t, 2, pat_999);
	pmm_bulk(&p, BULK_1T, 1);
	naive_bulk(&nb, BULK_1T);
	for (int i = 0; i < BULK_REPS; i++) {
		tn[i] = naive_bulk(&nb, BULK_1T);
		t[i] = pmm_bulk(&p, BULK_1T, 1);
	}
	ok(pmm_check(&p), "check 1t bulk");
	n1t = median(tn, BULK_REPS);
	b1t = median(t, BULK_REPS);
	printf("bench: naive_bulk_1t_99.9 %.1f ns\n", n1t);
	printf("bench: pmm_bulk_1t_99.9 %.1f ns\n", b1t);
	printf("bench: pmm_ratio_bulk_1t_16g %.2f x\n", b1t / b16);
	printf("bench: pmm_ratio_bulk_1t_naive %.2f x\n", b1t / n1t);
	free(nb.bits);
	host_arena_init(ARENA_16G);
	return 0;
}
