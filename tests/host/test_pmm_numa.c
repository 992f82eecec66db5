/*
 * tests/host/test_pmm_numa.c - the frame allocator's NUMA nodes
 * (pmm_set_numa, mm/pmm.c theory 16): a CPU's single frames come from its
 * own node while it has any, then from the nearest node, then from RAM
 * outside every node; per-node counts against arithmetic on the ranges;
 * every misuse of pmm_set_numa refused with nothing changed.  The node a
 * frame belongs to is worked out here from the ranges the test chose.
 */
#include <stdlib.h>
#include <string.h>

#include "mm/platform.h"
#include "mm/pmm.h"
#include "mm/status.h"
#include "tests/host/harness.h"
#include "tools/host_platform.h"

#define MiB 0x100000ULL
#define PG  4096ULL
#define R(t, b_, n_) { .base = (b_), .size = (n_), .type = (t) }
#define N(a) (sizeof(a) / sizeof((a)[0]))
#define CHECK_OK(expr, ...) CHECK((expr) == MM_OK, __VA_ARGS__)

static struct pmm_numa NU;          /* ~1.5 KiB: off the stack */
static uint64_t held[1 << 15];      /* frames a test holds */

/* RAM [1M, 65M): node 0 is [0, 33M) (metadata at its start), node 1
 * [33M, 65M): 8192 frames. */
#define SPLIT (33 * MiB)
#define TOP   (65 * MiB)

static void two_nodes(struct pmm_numa *n, unsigned cpu1_node)
{
	memset(n, 0, sizeof(*n));
	n->nodes = 2;
	n->nranges = 2;
	n->range[0].base = 0;     n->range[0].size = SPLIT;            n->range[0].node = 0;
	n->range[1].base = SPLIT; n->range[1].size = TOP - SPLIT;      n->range[1].node = 1;
	n->cpu_node[1] = (uint8_t)cpu1_node;
	n->cpu_node[3] = (uint8_t)cpu1_node;
	n->dist[0][0] = n->dist[1][1] = 10;
	n->dist[0][1] = n->dist[1][0] = 20;
}

/* Allocates on CPU 1 until the first frame below SPLIT; returns how many
 * frames at or above SPLIT came before it (-1 on ENOMEM). */
static long node1_run(struct pmm *p, uint64_t *n_held)
{
	uint64_t pa;
	long above = 0;

	host_set_cpu(1);
	for (;;) {
		if (pmm_alloc(p, &pa) != MM_OK)
			return -1;
		held[(*n_held)++] = pa;
		if (pa < SPLIT)
			return above;
		above++;
	}
}

/*
 *   1M                 33M                 65M
 *   |M  node 0 ........|  node 1 ..........|
 * Expect: CPU 1 (node 1) gets all 8192 node-1 frames first, then node
 * 0's; CPU 0 meanwhile gets node-0 frames.  Control: without NUMA, CPU
 * 1's first frame is in node 0 (its refills start 1/ncpus of the way).
 */
static void test_own_node_first(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, TOP - MiB) };
	struct pmm p;
	uint64_t n = 0, pa;

	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	REQUIRE(p.meta_pa + p.meta_size <= SPLIT, "metadata in node 0");
	two_nodes(&NU, 1);
	REQUIRE_OK(pmm_set_numa(&p, &NU), "set");
	host_set_cpu(0);
	REQUIRE_OK(pmm_alloc(&p, &pa), "cpu 0");
	CHECK(pa < SPLIT, "CPU 0 got %#llx, node 1's", (unsigned long long)pa);
	held[n++] = pa;
	long above = node1_run(&p, &n);
	CHECK(above == (long)((TOP - SPLIT) / PG), "CPU 1 got %ld node-1 frames first, want %llu",
	      above, (unsigned long long)((TOP - SPLIT) / PG));
	/* Node 1 is empty: the rest of CPU 1's frames are node 0's. */
	for (int i = 0; i < 100; i++) {
		REQUIRE_OK(pmm_alloc(&p, &pa), "alloc");
		CHECK(pa < SPLIT, "after node 1: %#llx", (unsigned long long)pa);
		held[n++] = pa;
	}
	uint64_t f1, t1;
	REQUIRE_OK(pmm_node_frames(&p, 1, &f1, &t1), "node 1 frames");
	CHECK(f1 == 0 && t1 == (TOP - SPLIT) / PG, "node 1: %llu free of %llu",
	      (unsigned long long)f1, (unsigned long long)t1);
	CHECK_OK(pmm_check(&p), "check");
	for (uint64_t i = 0; i < n; i++)
		CHECK_OK(pmm_free(&p, held[i]), "free");

	/* Control: the same machine without NUMA. */
	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	n = 0;
	CHECK(node1_run(&p, &n) == 0, "control: CPU 1's first frame is node 0's");
	/* Control: NUMA with CPU 1 on node 0. */
	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	two_nodes(&NU, 0);
	REQUIRE_OK(pmm_set_numa(&p, &NU), "set");
	n = 0;
	CHECK(node1_run(&p, &n) == 0, "control: a node-0 CPU starts in node 0");
}

/* Two CPUs of node 1 (1 and 3), each opening its cache after
 * pmm_set_numa: their first frames are node 1's and in different bitmap
 * words (refills start cpu/ncpus of the way through the node, so the CPUs
 * do not share the words their fast paths update).  Without that spread
 * both would start at the node's first word and share it. */
static void test_node_spread(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, TOP - MiB) };
	struct pmm p;
	uint64_t a, b;

	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	two_nodes(&NU, 1);
	REQUIRE_OK(pmm_set_numa(&p, &NU), "set");
	host_set_cpu(1);
	REQUIRE_OK(pmm_alloc(&p, &a), "cpu 1");
	host_set_cpu(3);
	REQUIRE_OK(pmm_alloc(&p, &b), "cpu 3");
	CHECK(a >= SPLIT && b >= SPLIT, "node 1: %#llx %#llx", (unsigned long long)a,
	      (unsigned long long)b);
	CHECK(a / PG / 64 != b / PG / 64, "same bitmap word: %#llx %#llx", (unsigned long long)a,
	      (unsigned long long)b);
	/* A cache opened before pmm_set_numa is moved into its node too. */
	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	host_set_cpu(1);
	REQUIRE_OK(pmm_alloc(&p, &a), "cpu 1 before");
	CHECK(a < SPLIT, "before NUMA: node 0 frame %#llx", (unsigned long long)a);
	CHECK_OK(pmm_free(&p, a), "free");
	REQUIRE_OK(pmm_set_numa(&p, &NU), "set");
	pmm_drain_all(&p);
	REQUIRE_OK(pmm_alloc(&p, &a), "cpu 1 after");
	CHECK(a >= SPLIT && a / PG / 64 == (SPLIT / PG + (TOP - SPLIT) / PG / p.ncpus) / 64,
	      "after: %#llx, want the word cpu/ncpus into node 1", (unsigned long long)a);
}

/* Per-node counts: free = node frames (arithmetic) minus those held in
 * it; cached frames count as free; nodes + no-node = pmm_free_frames. */
static void test_node_counts(void)
{
	/* RAM [1M, 65M) and [96M, 100M); nodes cover up to 65M only. */
	struct mm_region map[] = { R(MR_USABLE, MiB, TOP - MiB), R(MR_USABLE, 96 * MiB, 4 * MiB) };
	struct pmm p;
	uint64_t f0, t0, f1, t1, fx, tx, pa, n = 0;

	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	CHECK(pmm_node_frames(&p, 0, &f0, &t0) == MM_EINVAL, "no NUMA yet");
	two_nodes(&NU, 1);
	REQUIRE_OK(pmm_set_numa(&p, &NU), "set");
	REQUIRE_OK(pmm_node_frames(&p, 0, &f0, &t0), "0");
	REQUIRE_OK(pmm_node_frames(&p, 1, &f1, &t1), "1");
	REQUIRE_OK(pmm_node_frames(&p, 2, &fx, &tx), "no node");
	CHECK(t0 == (SPLIT - MiB) / PG && t1 == (TOP - SPLIT) / PG && tx == 4 * MiB / PG,
	      "totals %llu %llu %llu", (unsigned long long)t0, (unsigned long long)t1,
	      (unsigned long long)tx);
	CHECK(f0 == t0 - p.meta_size / PG && f1 == t1 && fx == tx, "free at start");
	CHECK(pmm_node_frames(&p, 3, &fx, &tx) == MM_EINVAL, "node 3 of 2");
	/* 100 frames on CPU 1 (node 1; its cache holds a batch more). */
	host_set_cpu(1);
	for (int i = 0; i < 100; i++) {
		REQUIRE_OK(pmm_alloc(&p, &pa), "alloc");
		held[n++] = pa;
	}
	REQUIRE_OK(pmm_node_frames(&p, 1, &f1, &t1), "1");
	CHECK(f1 == t1 - 100, "node 1 free %llu, want %llu", (unsigned long long)f1,
	      (unsigned long long)(t1 - 100));
	REQUIRE_OK(pmm_node_frames(&p, 0, &f0, &t0), "0");
	REQUIRE_OK(pmm_node_frames(&p, 2, &fx, &tx), "x");
	CHECK(f0 + f1 + fx == pmm_free_frames(&p), "sum %llu vs %llu",
	      (unsigned long long)(f0 + f1 + fx), (unsigned long long)pmm_free_frames(&p));
	host_capture_begin();
	pmm_print_nodes(&p);
	const char *out = host_capture_end();
	char want[128];
	snprintf(want, sizeof(want), "pmm: node 1: %llu free frames of %llu\n",
		 (unsigned long long)(t1 - 100), (unsigned long long)((TOP - SPLIT) / PG));
	CHECK(strstr(out, want), "%s", out);
	CHECK(strstr(out, "pmm: no node: 1024 free frames of 1024\n"), "%s", out);
	for (uint64_t i = 0; i < n; i++)
		CHECK_OK(pmm_free(&p, held[i]), "free");
}

/*
 *   1M                    513M                      1025M
 *   |M  node 0 ...........|  node 1 ................|
 * Big enough that pmm_node_frames skips 128 MiB at a time.  Expect: counts
 * as the ranges say at start, and exactly 1000 fewer in node 1 after 1000
 * allocations on a node-1 CPU; nodes sum to pmm_free_frames.
 */
static void test_node_counts_big(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, 1024 * MiB) };
	struct pmm p;
	uint64_t f0, t0, f1, t1, pa;

	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	memset(&NU, 0, sizeof(NU));
	NU.nodes = 2;
	NU.nranges = 2;
	NU.range[0].size = 513 * MiB;
	NU.range[1].base = 513 * MiB; NU.range[1].size = 512 * MiB; NU.range[1].node = 1;
	NU.cpu_node[1] = 1;
	NU.dist[0][1] = NU.dist[1][0] = 20;
	REQUIRE_OK(pmm_set_numa(&p, &NU), "set");
	REQUIRE_OK(pmm_node_frames(&p, 0, &f0, &t0), "0");
	REQUIRE_OK(pmm_node_frames(&p, 1, &f1, &t1), "1");
	CHECK(t0 == 512 * MiB / PG && f0 == t0 - p.meta_size / PG, "node 0 %llu of %llu",
	      (unsigned long long)f0, (unsigned long long)t0);
	CHECK(t1 == 512 * MiB / PG && f1 == t1, "node 1 %llu of %llu", (unsigned long long)f1,
	      (unsigned long long)t1);
	host_set_cpu(1);
	for (int i = 0; i < 1000; i++) {
		REQUIRE_OK(pmm_alloc(&p, &pa), "alloc");
		CHECK(pa >= 513 * MiB, "node 1 frame %#llx", (unsigned long long)pa);
	}
	REQUIRE_OK(pmm_node_frames(&p, 1, &f1, &t1), "1");
	REQUIRE_OK(pmm_node_frames(&p, 0, &f0, &t0), "0");
	CHECK(f1 == t1 - 1000 && f0 + f1 == pmm_free_frames(&p), "after: node 1 %llu, sum %llu vs %llu",
	      (unsigned long long)f1, (unsigned long long)(f0 + f1),
	      (unsigned long long)pmm_free_frames(&p));
}

/* Three nodes, from node 0: node 2 at 15, node 1 at 30.  Expect: after
 * node 0, node 2, then node 1; then RAM outside every node, then ENOMEM
 * after exactly every usable frame.  Control: swapped distances. */
static void test_nearest_fallback(void)
{
	/* RAM [1M, 49M): node 0 [1M,17M) (metadata), 1 [17M,33M), 2 [33M,45M);
	 * [45M, 49M) in no node. */
	struct mm_region map[] = { R(MR_USABLE, MiB, 48 * MiB) };
	struct pmm p;

	for (int swap = 0; swap < 2; swap++) {
		REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
		memset(&NU, 0, sizeof(NU));
		NU.nodes = 3;
		NU.nranges = 3;
		for (int i = 0; i < 3; i++) {
			NU.range[i].base = (1 + 16 * i) * MiB;
			NU.range[i].size = (i == 2 ? 12 : 16) * MiB;
			NU.range[i].node = i;
			NU.dist[i][i] = 10;
		}
		NU.dist[0][1] = NU.dist[1][0] = swap ? 15 : 30;
		NU.dist[0][2] = NU.dist[2][0] = swap ? 30 : 15;
		NU.dist[1][2] = NU.dist[2][1] = 20;
		REQUIRE_OK(pmm_set_numa(&p, &NU), "set");
		host_set_cpu(0);
		/* Order of first appearance of each region. */
		int seen[4] = { 0 }, order[4], k = 0;
		uint64_t pa, got = 0;
		while (pmm_alloc(&p, &pa) == MM_OK) {
			int r = pa < 17 * MiB ? 0 : pa < 33 * MiB ? 1 : pa < 45 * MiB ? 2 : 3;
			if (!seen[r]) {
				seen[r] = 1;
				order[k++] = r;
			}
			got++;
		}
		REQUIRE(k == 4, "all four regions used: %d", k);
		if (!swap)
			CHECK(order[0] == 0 && order[1] == 2 && order[2] == 1 && order[3] == 3,
			      "order %d %d %d %d", order[0], order[1], order[2], order[3]);
		else
			CHECK(order[1] == 1 && order[2] == 2, "control: swapped order %d %d",
			      order[1], order[2]);
		CHECK(got == p.total - p.meta_size / PG, "ENOMEM after %llu of %llu",
		      (unsigned long long)got, (unsigned long long)(p.total - p.meta_size / PG));
	}
}

/* Expect: a node a refill found full is skipped from then on, until one
 * of its frames goes back to the bitmap: node 1 runs dry for CPU 1, then
 * one node-1 frame freed through pmm_free_contig, and later one freed by a
 * CPU without a cache (bitmap_give), is what CPU 1's next refill takes,
 * not node 0's.  Control: a node-0 frame freed the same way leaves node 1
 * skipped (CPU 1 refills from node 0, and that frame is the one).  With
 * the mark never cleared (a planted bug) both node-1 checks fail. */
static void test_empty_node_comes_back(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, TOP - MiB) };
	struct pmm p;
	uint64_t n = 0, pa, back[3];

	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	two_nodes(&NU, 1);
	REQUIRE_OK(pmm_set_numa(&p, &NU), "set");
	REQUIRE(node1_run(&p, &n) == (long)((TOP - SPLIT) / PG), "node 1 ran dry");
	back[0] = held[0];            /* a node-1 frame */
	back[1] = held[1];            /* another */
	back[2] = held[n - 1];        /* the node-0 frame that ended the run */
	REQUIRE(back[0] >= SPLIT && back[1] >= SPLIT && back[2] < SPLIT, "frames");
	for (int k = 0; k < 3; k++) {
		if (k == 1) {
			host_set_cpu(MM_MAX_CPUS - 1);     /* no cache: to the bitmap */
			REQUIRE(p.ncpus <= MM_MAX_CPUS - 1, "CPU without a cache");
			REQUIRE_OK(pmm_free(&p, back[k]), "free to the bitmap");
		} else {
			REQUIRE_OK(pmm_free_contig(&p, back[k], 1), "free_contig");
		}
		host_set_cpu(1);
		pmm_drain_all(&p);            /* CPU 1's next alloc refills */
		REQUIRE_OK(pmm_alloc(&p, &pa), "alloc %d", k);
		CHECK(pa == back[k], "case %d: refill took %#llx, want %#llx", k,
		      (unsigned long long)pa, (unsigned long long)back[k]);
		for (uint64_t i = 0; i < n; i++)
			if (held[i] == back[k])
				held[i] = pa;
	}
	CHECK_OK(pmm_check(&p), "check");
	for (uint64_t i = 0; i < n; i++)
		CHECK_OK(pmm_free(&p, held[i]), "free");
	host_set_cpu(0);
}

/* Misuse: each refused with MM_EINVAL and the node table unchanged. */
static void test_set_numa_misuse(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, TOP - MiB) };
	struct pmm p;

	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	two_nodes(&NU, 1);
	REQUIRE_OK(pmm_set_numa(&p, &NU), "valid");
	struct pmm_nodes before = p.numa;
	for (int lie = 0; lie < 8; lie++) {
		two_nodes(&NU, 1);
		switch (lie) {
		case 0: NU.nodes = 0; break;
		case 1: NU.nodes = PMM_MAX_NODES + 1; break;
		case 2: NU.range[1].node = 2; break;
		case 3: NU.range[1].base = SPLIT - PG; break;               /* overlap */
		case 4: NU.range[0].base = SPLIT; NU.range[1].base = 0; break; /* unsorted */
		case 5: NU.range[1].size = UINT64_MAX; break;               /* wraps */
		case 6: NU.cpu_node[7] = 2; break;
		case 7: NU.nranges = PMM_MAX_NODE_RANGES + 1; break;
		}
		host_capture_begin();
		int st = pmm_set_numa(&p, &NU);
		const char *out = host_capture_end();
		CHECK(st == MM_EINVAL, "lie %d accepted", lie);
		CHECK(strstr(out, "pmm_set_numa: "), "lie %d not reported: %s", lie, out);
		CHECK(memcmp(&before, &p.numa, sizeof(before)) == 0, "lie %d changed the table", lie);
	}
	two_nodes(&NU, 0);
	CHECK_OK(pmm_set_numa(&p, &NU), "control: valid again");
	CHECK(p.numa.cpu_node[1] == 0, "control took effect");
}

int main(void)
{
	RUN(test_own_node_first);
	RUN(test_node_spread);
	RUN(test_node_counts);
	RUN(test_node_counts_big);
	RUN(test_nearest_fallback);
	RUN(test_empty_node_comes_back);
	RUN(test_set_numa_misuse);
	return harness_done("pmm_numa");
}
