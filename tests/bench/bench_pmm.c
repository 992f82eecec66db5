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
 *   memset_bitmap_1t   ms for a memset of as many bytes as pmm_init_1t
 *                      writes (bitmap, summaries, free-block map, tags; not
 *                      where[], which it never initialises), over the same
 *                      already-touched memory (best of REPEAT runs)
 *   pmm_ratio_init_1t_memset   pmm_init_1t over memset_bitmap_1t
 * and, all with the same pattern (BATCH allocations, then their frees, the
 * last first) on one thread with the per-CPU cache unless said otherwise:
 *   freelist_pair      ns per pop + push of a plain stack of frame numbers
 *                      (tests/bench/freelist.c): the limit
 *   pmm_pair_16g_0     ns per pmm pair, 16 GiB, empty
 *   pmm_pair_16g_99.9  16 GiB, 99.9% allocated (0.1% random frames free)
 *   pmm_pair_1t_99.9   1 TiB, 99.9% allocated: the bitmap is 32 MiB, a walk
 *                      of it misses the CPU caches
 *   pmm_pair_1t_99.9_batch4096  the same with 4096 allocations before the
 *                      frees: 64 refills and drains per round, so this is
 *                      the bitmap's cost through the cache (not a goal line)
 *   pmm_pair_threads1 / pmm_pair_threads2  ns per pair per thread, 16 GiB,
 *                      with 1 and 2 threads (host CPUs 0 and 1) at once
 *   pmm_ratio_*        each pmm pair line over the free list measured in
 *                      the same minutes: every timed repetition of a pmm
 *                      line runs right after one of the free list, and
 *                      each takes its best (the shared machine's load
 *                      comes and goes; a baseline timed a minute earlier
 *                      can be 2 x off); threads1 and threads2 alternate
 *                      the same way
 * BENCH_PAIRS=<n> in the environment runs n pairs per measurement instead of
 * PAIRS (for valgrind --tool=callgrind instruction counts).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mm/pmm.h"
#include "mm/status.h"
#include "tests/bench/freelist.h"
#include "tools/host_platform.h"

#define MiB 0x100000ULL
#define GiB 0x40000000ULL
#define TiB 0x10000000000ULL
#define PG  4096ULL

#define BATCH   32         /* allocations before their frees */
#define PAIRS   (8 << 20)  /* measured pairs per fill level */
#define REPEAT  5          /* init runs; the best is reported */
#define REPS    6          /* pair runs: a warm-up, then the best of 5 (the
			    * machine is shared: the minimum is the least
			    * disturbed figure) */

static uint64_t rng = 0x2545f4914f6cdd1dULL;
static uint64_t npairs = PAIRS;   /* BENCH_PAIRS overrides */

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
		for (uint64_t i = 0; i < npairs / BATCH; i++) {
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
	return best / (npairs / BATCH * BATCH);
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

/* Returns the best pmm_init time in ms for RAM [1M, top); *memset_ms (if
 * not NULL) gets the best time of a memset of the metadata's bytes, at the
 * same place, measured in turns with the inits. */
static double init_ms(uint64_t top, double *memset_ms)
{
	struct mm_region map[] = {
		{ .base = PG, .size = 0x9f000, .type = MR_USABLE },
		{ .base = MiB, .size = 3 * GiB - MiB, .type = MR_USABLE },
		{ .base = 3 * GiB, .size = GiB, .type = MR_MMIO },
		{ .base = 4 * GiB, .size = top - 4 * GiB, .type = MR_USABLE },
	};
	struct pmm p;
	double best = 1e30, mbest = 1e30;

	for (int i = 0; i < REPEAT; i++) {
		double t0 = now_ns();
		ok(pmm_init(&p, map, 4), "init");
		double t = now_ns() - t0;
		if (t < best)
			best = t;
		if (memset_ms) {
			/* what pmm_init writes: the bitmap, summaries, free-block
			 * map and tags (where[], after them, it leaves as it is:
			 * mm/pmm.c theory 10) */
			void *meta = p.bitmap;
			size_t len = (size_t)((uint8_t *)p.where - (uint8_t *)p.bitmap);
			t0 = now_ns();
			memset(meta, i & 1 ? 0 : 0xff, len);
			__asm__ volatile("" : : "r"(meta) : "memory");
			t = now_ns() - t0;
			if (t < mbest)
				mbest = t;
		}
	}
	if (memset_ms)
		*memset_ms = mbest / 1e6;
	return best / 1e6;
}

/* Allocates every free frame: the largest contiguous runs first (a 1 TiB
 * pool in a few hundred calls), then single frames. */
static void fill_all(struct pmm *p)
{
	uint64_t pa;

	for (uint64_t run = 1ULL << 28; run > 1; run >>= 1)
		while (pmm_alloc_contig(p, run, PG, &pa) == MM_OK)
			;
	while (pmm_alloc(p, &pa) == MM_OK)
		;
}

/* Fills p to (1000 - free_permille) / 10 percent: allocates everything,
 * then frees total * free_permille / 1000 random allocated frames (not
 * the metadata); the frees pass through CPU 0's cache. */
static void fill_permille(struct pmm *p, unsigned free_permille)
{
	uint64_t want = p->total * free_permille / 1000, done = 0;

	fill_all(p);
	while (done < want) {
		uint64_t a = rnd() % p->nframes * PG;
		if (pmm_is_allocated(p, a) && !(a >= p->meta_pa && a < p->meta_pa + p->meta_size)) {
			ok(pmm_free(p, a), "fill free");
			done++;
		}
	}
}

/* The free list every pair line is compared with: a plain stack holding
 * the frames of 16 GiB (freelist_init fills it). */
static struct freelist fl;

static void freelist_init(void)
{
	fl.cap = 16 * GiB / PG;
	fl.frames = malloc(fl.cap * sizeof(uint64_t));
	if (!fl.frames)
		ok(MM_ENOMEM, "freelist");
	for (fl.top = 0; fl.top < fl.cap; fl.top++)
		fl.frames[fl.top] = fl.cap - fl.top;
}

/* ns per pair of `pairs` pairs on the free list: rounds of BATCH pops
 * then their pushes. */
static double freelist_once(uint64_t pairs)
{
	uint64_t pa[BATCH];
	double t0 = now_ns();

	for (uint64_t i = 0; i < pairs / BATCH; i++) {
		for (int j = 0; j < BATCH; j++)
			if (freelist_alloc(&fl, &pa[j]))
				ok(MM_ENOMEM, "freelist alloc");
		for (int j = BATCH - 1; j >= 0; j--)
			if (freelist_free(&fl, pa[j]))
				ok(MM_ENOENT, "freelist free");
	}
	return (now_ns() - t0) / (pairs / BATCH * BATCH);
}

/* Slices per timed repetition of a pair line: the free list and the pmm
 * alternate every npairs / SLICES pairs, and each keeps its best slice, so
 * both take their best from the same short stretches of a machine whose
 * neighbours' load changes from one second to the next. */
#define SLICES 8

/* Best ns per pair of rounds of batch pmm_alloc then batch pmm_free (the
 * last first) on p from the calling thread; rep 0 warms up.  With fl_best
 * (main thread only), each repetition follows one of the free list, whose
 * best over the same repetitions goes to *fl_best. */
static double pmm_pairs(struct pmm *p, int batch, double *fl_best)
{
	static _Thread_local uint64_t pa[4096];
	double best = 1e30;

	uint64_t per = npairs / SLICES;

	if (fl_best)
		*fl_best = 1e30;
	for (int rep = 0; rep < REPS * SLICES; rep++) {
		double f = fl_best ? freelist_once(per) : 0;
		double t0 = now_ns();
		for (uint64_t i = 0; i < per / batch; i++) {
			for (int j = 0; j < batch; j++)
				if (pmm_alloc(p, &pa[j]) != MM_OK)
					ok(MM_ENOMEM, "pair alloc");
			for (int j = batch - 1; j >= 0; j--)
				if (pmm_free(p, pa[j]) != MM_OK)
					ok(MM_ENOENT, "pair free");
		}
		double t = (now_ns() - t0) / (per / batch * batch);
		if (rep >= SLICES && t < best)           /* the first repetition warms up */
			best = t;
		if (rep >= SLICES && fl_best && f < *fl_best)
			*fl_best = f;
	}
	return best;
}

struct pair_thread {
	struct pmm *p;
	unsigned cpu;
	pthread_barrier_t *start;
	double ns;
};

/* One host CPU of the threads benchmark. */
static void *pair_thread_run(void *arg)
{
	struct pair_thread *t = arg;

	host_set_cpu(t->cpu);
	pthread_barrier_wait(t->start);
	t->ns = pmm_pairs(t->p, BATCH, NULL);
	return NULL;
}

/* ns per pair per thread (the mean over threads) with n threads on one
 * empty 16 GiB pmm at once. */
static double threads_ns(unsigned n)
{
	static struct pmm p;
	pthread_t tid[2];
	struct pair_thread t[2];
	pthread_barrier_t start;
	double sum = 0;

	ok(pmm_init(&p, map16, 2), "init");
	pthread_barrier_init(&start, NULL, n);
	for (unsigned i = 0; i < n; i++) {
		t[i] = (struct pair_thread){ &p, i, &start, 0 };
		pthread_create(&tid[i], NULL, pair_thread_run, &t[i]);
	}
	for (unsigned i = 0; i < n; i++) {
		pthread_join(tid[i], NULL);
		sum += t[i].ns;
	}
	pthread_barrier_destroy(&start);
	ok(pmm_check(&p), "check after threads");
	return sum / n;
}

/* The per-CPU cache lines (see the header comment). */
static void cache_lines(void)
{
	static const struct mm_region map1t[] = {
		{ .base = PG, .size = 0x9f000, .type = MR_USABLE },
		{ .base = MiB, .size = TiB - MiB, .type = MR_USABLE },
	};
	struct pmm p;
	double f16_0, f16_999, f1t, fb, t16_0, t16_999, t1t, t1t_b, th1 = 1e30, th2 = 1e30;
	double fth = 1e30;

	freelist_init();
	ok(pmm_init(&p, map16, 2), "init");
	t16_0 = pmm_pairs(&p, BATCH, &f16_0);
	ok(pmm_init(&p, map16, 2), "init");
	fill_permille(&p, 1);
	t16_999 = pmm_pairs(&p, BATCH, &f16_999);
	host_arena_init(TiB);
	ok(pmm_init(&p, map1t, 2), "init");
	fill_permille(&p, 1);
	t1t = pmm_pairs(&p, BATCH, &f1t);
	t1t_b = pmm_pairs(&p, 4096, &fb);
	ok(pmm_check(&p), "check 1t");
	host_arena_init(HOST_ARENA_DEFAULT);
	for (int r = 0; r < 3; r++) {   /* alternating, each with the list */
		double f = freelist_once(npairs), a = threads_ns(1), b = threads_ns(2);
		th1 = a < th1 ? a : th1;
		th2 = b < th2 ? b : th2;
		fth = f < fth ? f : fth;
	}
	double flbest = f16_0;
	double all[] = { f16_999, f1t, fb, fth };
	for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		flbest = all[i] < flbest ? all[i] : flbest;
	printf("bench: freelist_pair %.1f ns\n", flbest);
	printf("bench: pmm_pair_16g_0 %.1f ns\n", t16_0);
	printf("bench: pmm_pair_16g_99.9 %.1f ns\n", t16_999);
	printf("bench: pmm_pair_1t_99.9 %.1f ns\n", t1t);
	printf("bench: pmm_pair_1t_99.9_batch4096 %.1f ns\n", t1t_b);
	printf("bench: pmm_pair_threads1 %.1f ns\n", th1);
	printf("bench: pmm_pair_threads2 %.1f ns\n", th2);
	printf("bench: pmm_ratio_16g_0_freelist %.2f x\n", t16_0 / f16_0);
	printf("bench: pmm_ratio_16g_99.9_freelist %.2f x\n", t16_999 / f16_999);
	printf("bench: pmm_ratio_1t_99.9_freelist %.2f x\n", t1t / f1t);
	printf("bench: pmm_ratio_threads1_freelist %.2f x\n", th1 / fth);
	printf("bench: pmm_ratio_threads2_freelist %.2f x\n", th2 / fth);
	printf("bench: pmm_ratio_threads2_threads1 %.2f x\n", th2 / th1);
	free(fl.frames);
}

int main(void)
{
	static const unsigned pcts[] = { 0, 50, 90, 99 };
	double t[4];
	const char *env = getenv("BENCH_PAIRS");

	if (env && atoll(env) >= BATCH)
		npairs = (uint64_t)atoll(env);
	host_arena_init(HOST_ARENA_DEFAULT);
	cache_lines();
	for (int i = 0; i < 4; i++) {
		t[i] = pair_ns(pcts[i]);
		printf("bench: pmm_pair_%upct %.1f ns\n", pcts[i], t[i]);
	}
	printf("bench: pmm_ratio_99_0 %.2f x\n", t[3] / t[0]);
	printf("bench: pmm_contig_512_2m %.1f ns\n", contig_ns());
	double ms, i1t;
	printf("bench: pmm_init_16g %.2f ms\n", init_ms(16 * GiB, NULL));
	i1t = init_ms(TiB, &ms);
	printf("bench: memset_bitmap_1t %.2f ms\n", ms);
	printf("bench: pmm_init_1t %.2f ms\n", i1t);
	printf("bench: pmm_ratio_init_1t_memset %.2f x\n", i1t / ms);
	return 0;
}
