/*
 * tests/bench/bench_vaddr.c - virtaddr_alloc + virtaddr_free cost with 100,
 * 10k and 100k live blocks.  The live blocks are 1-4 pages with a 1-page
 * hole after each, so the space is fragmented.  Two measures:
 *   vaddr_alloc_free_N: alloc 2 pages (lowest fit: no 1-page hole fits,
 *     a list walk would visit all N blocks) and free them again: the
 *     algorithmic cost, the goal's measure (100k / 100 <= 4).
 *   vaddr_churn_N: free a random live block and allocate 1-16 pages
 *     (lowest fit) in its stead; random index paths over 2N blocks, so at
 *     100k it is bound by cache misses, not by the algorithm: the goal is
 *     vaddr_churn_ratio_100k_100 <= 4.
 * Each figure is the best of BENCH_REPEAT runs of thread CPU time (the
 * machine is shared), the runs interleaved: every round of repetitions
 * measures each line once (100, 10k, 100k pairs, then 100, 10k, 100k
 * churn), so the lines of a ratio get their best from the same stretch of
 * time (the host's load moves the 100-block lines by up to 1.6 x from one
 * minute to the next); each run still starts from the generator state it
 * had when the runs went line by line, so every run sees the same random
 * pattern as before.
 * The arena (node frames and the pmm's metadata) is mapped with 2 MiB
 * pages (host_arena_init_huge), as the kernel reaches all of them through
 * its direct map of 1 GiB / 2 MiB pages: with 4 KiB pages the 100k lines
 * paid TLB misses and page walks the kernel does not (about 10 % of
 * vaddr_churn_100k).  The bench's own va[]/sz[] arrays stay on 4 KiB pages.
 * BENCH_ROUNDS in the environment overrides ROUNDS;
 * the timed loops are the functions pair_loop and churn_loop, so
 *   valgrind --tool=callgrind --toggle-collect=churn_loop ...
 * counts the instructions of the measured operations alone; BENCH_ONLY=
 * <line name> (e.g. vaddr_churn_100k) runs that line alone, once.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "mm/vaddr.h"
#include "mm/layout.h"
#include "tools/host_platform.h"
#include "tests/host/mm_fixture.h"

#define ROUNDS 1000000
#define BENCH_REPEAT 3
#define BENCH_RAM (256ULL << 20)   /* the pmm's RAM: node frames come from it */
#define BENCH_ARENA (1ULL << 30)  /* covers BENCH_RAM from 1 MiB (small enough for valgrind) */
#define CHURN_MAX_PAGES 16   /* churn allocates 1..CHURN_MAX_PAGES pages */

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static uint64_t rng = 0x2545f4914f6cdd1dULL;
static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

/* Steps the generator as k calls of rnd would. */
static void rnd_skip(uint64_t k)
{
	while (k--)
		rnd(1);
}

static long rounds = ROUNDS;
static int repeat = BENCH_REPEAT;
static const char *only;   /* BENCH_ONLY: the one line to measure, or NULL */

/* The timed loop of vaddr_alloc_free_N; returns the OR of the statuses. */
__attribute__((noinline)) static int pair_loop(struct virtaddr_space *sp)
{
	int bad = 0;
	uint64_t v;
	for (long r = 0; r < rounds; r++) {
		bad |= virtaddr_alloc(sp, 2 * PAGE_SIZE, 0, &v);
		bad |= virtaddr_free(sp, v, 2 * PAGE_SIZE);
	}
	return bad;
}

/* The timed loop of vaddr_churn_N over the n live blocks va[], sz[]. */
__attribute__((noinline)) static int churn_loop(struct virtaddr_space *sp, uint64_t n,
						uint64_t *va, uint64_t *sz)
{
	int bad = 0;
	for (long r = 0; r < rounds; r++) {
		uint64_t k = rnd(n);
		bad |= virtaddr_free(sp, va[k], sz[k]);
		sz[k] = PAGE_SIZE * (1 + rnd(CHURN_MAX_PAGES));
		bad |= virtaddr_alloc(sp, sz[k], 0, &va[k]);
	}
	return bad;
}

/* Returns ns per alloc+free pair with n live blocks; churn picks the
 * measure (see the top of the file). */
static double run(uint64_t n, int churn)
{
	static struct virtaddr_space sp;
	uint64_t *va = malloc(n * sizeof(*va)), *sz = malloc(n * sizeof(*sz)), hole;
	host_arena_init_huge(BENCH_ARENA);
	struct pmm *pmm = fixture_init(BENCH_RAM);
	virtaddr_init(&sp, pmm, KWIN_BASE, KWIN_END);
	for (uint64_t i = 0; i < n; i++) {
		sz[i] = PAGE_SIZE * (1 + rnd(4));
		virtaddr_alloc(&sp, sz[i], 0, &va[i]);
		virtaddr_alloc(&sp, PAGE_SIZE, 0, &hole);   /* a hole-to-be */
	}
	for (uint64_t i = 0; i < n; i++)
		virtaddr_free(&sp, va[i] + sz[i], PAGE_SIZE);
	double t0 = now_ns();
	int bad = churn ? churn_loop(&sp, n, va, sz) : pair_loop(&sp);
	double t = (now_ns() - t0) / rounds;
	if (bad || virtaddr_check(&sp)) {
		printf("bench_vaddr: failed\n");
		exit(1);
	}
	virtaddr_destroy(&sp);
	free(va);
	free(sz);
	return t;
}

#define LINES 6   /* vaddr_alloc_free_{100,10k,100k}, vaddr_churn_{100,10k,100k} */

int main(void)
{
	const char *env = getenv("BENCH_ROUNDS");
	if (env && atol(env) > 0)
		rounds = atol(env);
	only = getenv("BENCH_ONLY");
	if (only)
		repeat = 1;
	static const uint64_t ns[] = { 100, 10000, 100000 };
	static const char *names[] = { "100", "10k", "100k" };
	char name[LINES][64];
	double t[LINES];   /* pair 100, 10k, 100k, then churn 100, 10k, 100k */
	for (int l = 0; l < LINES; l++) {
		snprintf(name[l], sizeof(name[l]), "vaddr_%s_%s",
			 l < 3 ? "alloc_free" : "churn", names[l % 3]);
		t[l] = only && strcmp(only, name[l]) ? 0 : 1e30;
	}
	/* Each run starts from the generator state it would have if the runs
	 * went line by line (all of a line's runs, then the next line's), so
	 * every run sees the same random pattern whatever the order. */
	static uint64_t seed[LINES][BENCH_REPEAT];
	for (int l = 0; l < LINES; l++)
		for (int r = 0; t[l] != 0 && r < repeat; r++) {
			seed[l][r] = rng;
			rnd_skip(ns[l % 3] + (l >= 3 ? 2 * (uint64_t)rounds : 0));
		}
	/* Round r measures every line once, so each line's best comes from
	 * the same stretch of time as the others' (see the top of the file). */
	for (int r = 0; r < repeat; r++)
		for (int l = 0; l < LINES; l++) {
			if (t[l] == 0)
				continue;   /* BENCH_ONLY skips it */
			rng = seed[l][r];
			double x = run(ns[l % 3], l >= 3);
			if (x < t[l])
				t[l] = x;
		}
	for (int l = 0; l < 3; l++)
		printf("bench: %s %.1f ns\n", name[l], t[l]);
	printf("bench: vaddr_ratio_100k_100 %.2f x\n", t[2] / t[0]);
	for (int l = 3; l < LINES; l++)
		printf("bench: %s %.1f ns\n", name[l], t[l]);
	printf("bench: vaddr_churn_ratio_100k_100 %.2f x\n", t[5] / t[3]);
	return 0;
}
