/*
 * tests/bench/bench_pmm.c - frame allocator figures (`make bench`; not a
 * pass/fail test).  Prints `bench: <name> <value> <unit>` lines:
 *   pmm_pair_<N>pct    ns per pmm_alloc + pmm_free pair on 16 GiB of RAM
 *                      filled to N% by freeing random frames of a full pool;
 *                      measured in batches of BATCH allocations followed by
 *                      their frees, so the next-fit hint walks the whole
 *                      (fragmented) bitmap instead of reusing one frame
 *   pmm_ratio_99_0     pair time at 99% over pair time at 0%
 *   pmm_contig_512_2m  ns per 512-frame, 2 MiB-aligned pmm_alloc_contig +
 *                      pmm_free_contig pair (16 GiB, empty)
 *   pmm_init_16g / pmm_init_1t   ms for pmm_init (best of REPEAT runs)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mm/pmm.h"
#include "mm/status.h"
#include "tools/host_platform.h"

#define MiB 0x100000ULL
#define GiB 0x40000000ULL
#define TiB 0x10000000000ULL
#define PG  4096ULL

#define BATCH   32         /* allocations before their frees */
#define PAIRS   (8 << 20)  /* measured pairs per fill level */
#define REPEAT  5          /* init runs; the best is reported */
#define REPS    4          /* pair runs: a warm-up, then the best of 3 (the
			    * machine is shared: the minimum is the least
			    * disturbed figure) */

static uint64_t rng = 0x2545f4914f6cdd1dULL;

/* xorshift64*. */
static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

/* CPU time of this thread: the machine is shared, wall time would count
 * other programs running while we are preempted. */
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
		fprintf(stderr, "bench_pmm: %s: %s\n", what, mm_status_str(st));
		exit(1);
	}
}

/* The 16 GiB map: low memory, then [1M, 16G). */
static const struct mm_region map16[] = {
	{ .base = PG, .size = 0x9f000, .type = MR_USABLE },
	{ .base = MiB, .size = 16 * GiB - MiB, .type = MR_USABLE },
};

/* Fills p to pct percent: allocates every frame, then frees each with
 * probability 1 - pct/100. */
static void fill_random(struct pmm *p, unsigned pct)
{
	uint64_t pa;

	if (pct == 0)
		return;
	while (pmm_alloc(p, &pa) == MM_OK)
		;
	for (uint64_t f = 0; f < p->nframes; f++) {
		uint64_t a = f * PG;
		if (rnd() % 10000 >= pct * 100 && pmm_is_allocated(p, a) &&
		    !(a >= p->meta_pa && a < p->meta_pa + p->meta_size))
			ok(pmm_free(p, a), "fill free");
	}
	p->hint = 0;
}

/* Returns ns per alloc + free pair at fill level pct. */
static double pair_ns(unsigned pct)
{
	struct pmm p;
	uint64_t pa[BATCH];
	double t0, t1;

	ok(pmm_init(&p, map16, 2), "init");
	fill_random(&p, pct);
	double best = 1e30;
	for (int rep = 0; rep < REPS; rep++) {   /* rep 0 warms up */
		t0 = now_ns();
		for (int i = 0; i < PAIRS / BATCH; i++) {
			for (int j = 0; j < BATCH; j++)
				if (pmm_alloc(&p, &pa[j]) != MM_OK)
					ok(MM_ENOMEM, "pair alloc");
			for (int j = BATCH - 1; j >= 0; j--)
				if (pmm_free(&p, pa[j]) != MM_OK)
					ok(MM_ENOENT, "pair free");
		}
		t1 = now_ns();
		if (rep > 0 && t1 - t0 < best)
			best = t1 - t0;
	}
	return best / PAIRS;
}

/* Returns ns per 512-frame 2 MiB-aligned alloc + free pair. */
static double contig_ns(void)
{
	enum { BLOCKS = 1024, ROUNDS = 16 };
	static uint64_t pa[BLOCKS];
	struct pmm p;
	double t0, t1;

	ok(pmm_init(&p, map16, 2), "init");
	t0 = now_ns();
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < BLOCKS; i++)
			ok(pmm_alloc_contig(&p, 512, 2 * MiB, &pa[i]), "contig alloc");
		for (int i = 0; i < BLOCKS; i++)
			ok(pmm_free_contig(&p, pa[i], 512), "contig free");
	}
	t1 = now_ns();
	return (t1 - t0) / (BLOCKS * ROUNDS);
}

/* Returns the best pmm_init time in ms for RAM [1M, top). */
static double init_ms(uint64_t top)
{
	struct mm_region map[] = {
		{ .base = PG, .size = 0x9f000, .type = MR_USABLE },
		{ .base = MiB, .size = 3 * GiB - MiB, .type = MR_USABLE },
		{ .base = 3 * GiB, .size = GiB, .type = MR_MMIO },
		{ .base = 4 * GiB, .size = top - 4 * GiB, .type = MR_USABLE },
	};
	struct pmm p;
	double best = 1e30;

	for (int i = 0; i < REPEAT; i++) {
		double t0 = now_ns();
		ok(pmm_init(&p, map, 4), "init");
		double t = now_ns() - t0;
		if (t < best)
			best = t;
	}
	return best / 1e6;
}

int main(void)
{
	static const unsigned pcts[] = { 0, 50, 90, 99 };
	double t[4];

	host_arena_init(HOST_ARENA_DEFAULT);
	for (int i = 0; i < 4; i++) {
		t[i] = pair_ns(pcts[i]);
		printf("bench: pmm_pair_%upct %.1f ns\n", pcts[i], t[i]);
	}
	printf("bench: pmm_ratio_99_0 %.2f x\n", t[3] / t[0]);
	printf("bench: pmm_contig_512_2m %.1f ns\n", contig_ns());
	printf("bench: pmm_init_16g %.2f ms\n", init_ms(16 * GiB));
	printf("bench: pmm_init_1t %.2f ms\n", init_ms(TiB));
	return 0;
}
