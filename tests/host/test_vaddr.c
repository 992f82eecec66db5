/*
 * tests/host/test_vaddr.c - virtaddr_init / alloc / take / free / destroy.
 * Pictures: '.' free, '#' in use, one character per page unless stated.
 */
#include <stdlib.h>
#include <string.h>
#include "mm/vaddr.h"
#include "tests/host/harness.h"
#include "tests/host/mm_fixture.h"

#define SP_BASE 0x10000000ULL          /* any page-aligned base */
#define PG(n)   ((uint64_t)(n) * PAGE_SIZE)

static struct virtaddr_space sp;

/* Fresh pmm (16 MiB) and a space of npages pages at SP_BASE. */
static struct pmm *setup(uint64_t npages)
{
	struct pmm *pmm = fixture_init(16ULL << 20);
	if (virtaddr_init(&sp, pmm, SP_BASE, SP_BASE + PG(npages)) != MM_OK) {
		printf("setup: virtaddr_init failed\n");
		exit(2);
	}
	return pmm;
}

/* Returns the number of blocks on the list. */
static uint64_t count_blocks(void)
{
	struct virtaddr_block *b;
	uint64_t n = 0;
	for_each_virtaddr_block(&sp, b)
		n++;
	return n;
}

/*
 * |................|   one free block
 * Expect: a new space is exactly one free block covering it.
 */
static void test_init_one_free_block(void)
{
	setup(16);
	REQUIRE(sp.head && !sp.head->next, "blocks %llu", (unsigned long long)count_blocks());
	CHECK(sp.head->base == SP_BASE && sp.head->size == PG(16) && !sp.head->owner,
	      "head [%llx +%llx] used %u", (unsigned long long)sp.head->base,
	      (unsigned long long)sp.head->size, sp.head->owner);
	CHECK(virtaddr_check(&sp) == 0, "invariants");
	CHECK(virtaddr_init(&sp, &fixture_pmm, SP_BASE + 1, SP_BASE + PG(2)) == MM_EINVAL, "unaligned");
	CHECK(virtaddr_init(&sp, &fixture_pmm, SP_BASE, SP_BASE) == MM_EINVAL, "empty");
}

/*
 * |AABBBC..........|  then free B:  |AA...C..........|  then alloc 2:
 * |AADD.C..........|
 * Expect: allocations go to the lowest fit, and a freed hole is reused
 * before the free space above it.
 */
static void test_alloc_lowest_fit(void)
{
	int rc;
	uint64_t a, b, c, d;
	setup(16);
	rc = virtaddr_alloc(&sp, PG(2), 0, &a);
	REQUIRE(rc == MM_OK, "a");
	rc = virtaddr_alloc(&sp, PG(3), 0, &b);
	REQUIRE(rc == MM_OK, "b");
	rc = virtaddr_alloc(&sp, PG(1), 0, &c);
	REQUIRE(rc == MM_OK, "c");
	CHECK(a == SP_BASE && b == SP_BASE + PG(2) && c == SP_BASE + PG(5), "a %llx b %llx c %llx",
	      (unsigned long long)a, (unsigned long long)b, (unsigned long long)c);
	rc = virtaddr_free(&sp, b, PG(3));
	REQUIRE(rc == MM_OK, "free b");
	rc = virtaddr_alloc(&sp, PG(2), 0, &d);
	REQUIRE(rc == MM_OK, "d");
	CHECK(d == b, "d %llx, want %llx", (unsigned long long)d, (unsigned long long)b);
	CHECK(count_blocks() == 5, "blocks %llu", (unsigned long long)count_blocks());
	CHECK(virtaddr_check(&sp) == 0, "invariants");
}

/*
 * |A...............|  alloc 1 page aligned to 8 pages:
 * |A.......B.......|
 * Expect: the block starts at the next multiple of the alignment and the
 * pages skipped stay free.
 */
static void test_alloc_aligned(void)
{
	int rc;
	uint64_t a, b;
	setup(16);
	rc = virtaddr_alloc(&sp, PG(1), 0, &a);
	REQUIRE(rc == MM_OK, "a");
	rc = virtaddr_alloc(&sp, PG(1), PG(8), &b);
	REQUIRE(rc == MM_OK, "b");
	CHECK(b == SP_BASE + PG(8), "b %llx", (unsigned long long)b);
	CHECK(virtaddr_alloc(&sp, PG(1), PG(3), &b) == MM_EINVAL, "align not a power of two");
	CHECK(virtaddr_alloc(&sp, PG(1), PG(32), &b) == MM_ENOMEM, "no aligned fit");
	CHECK(virtaddr_alloc(&sp, 100, 0, &b) == MM_EINVAL, "unaligned size");
	CHECK(virtaddr_alloc(&sp, 0, 0, &b) == MM_EINVAL, "zero size");
	CHECK(virtaddr_check(&sp) == 0, "invariants");
}

/*
 * |################|  full: one more page does not fit
 * Expect: MM_ENOMEM when the space is full, and the space is unchanged.
 */
static void test_alloc_full(void)
{
	uint64_t a;
	setup(16);
	for (int i = 0; i < 16; i++) {
		int rc = virtaddr_alloc(&sp, PG(1), 0, &a);
		REQUIRE(rc == MM_OK, "alloc %d", i);
	}
	CHECK(virtaddr_alloc(&sp, PG(1), 0, &a) == MM_ENOMEM, "17th page");
	CHECK(virtaddr_alloc(&sp, PG(17), 0, &a) == MM_ENOMEM, "bigger than the space");
	CHECK(sp.nused == 16 && virtaddr_check(&sp) == 0, "nused %llu", (unsigned long long)sp.nused);
}

/*
 * |......TT........|  take pages 6..8
 * Expect: exactly that range is claimed, split between two free blocks.
 */
static void test_take_exact(void)
{
	int rc;
	setup(16);
	rc = virtaddr_take(&sp, SP_BASE + PG(6), PG(2), NULL);
	REQUIRE(rc == MM_OK, "take");
	struct virtaddr_block *b = virtaddr_find(&sp, SP_BASE + PG(7));
	REQUIRE(b, "find");
	CHECK(b->owner && b->base == SP_BASE + PG(6) && b->size == PG(2), "block");
	CHECK(count_blocks() == 3, "blocks %llu", (unsigned long long)count_blocks());
	CHECK(virtaddr_check(&sp) == 0, "invariants");
}

/*
 * |....####........|
 *   take 2..6  -> partly (pages 2,3 free)
 *   take 4..8  -> wholly
 *   take 5..7  -> wholly (inside one block)
 * Expect: MM_EBUSY with PARTLY / WHOLLY told apart, nothing changed.
 */
static void test_take_taken(void)
{
	int rc;
	int how;
	setup(16);
	rc = virtaddr_take(&sp, SP_BASE + PG(4), PG(4), NULL);
	REQUIRE(rc == MM_OK, "take");
	CHECK(virtaddr_take(&sp, SP_BASE + PG(2), PG(4), &how) == MM_EBUSY && how == VIRTADDR_PARTLY,
	      "partly: how %d", how);
	CHECK(virtaddr_take(&sp, SP_BASE + PG(4), PG(4), &how) == MM_EBUSY && how == VIRTADDR_WHOLLY,
	      "wholly: how %d", how);
	CHECK(virtaddr_take(&sp, SP_BASE + PG(5), PG(2), &how) == MM_EBUSY && how == VIRTADDR_WHOLLY,
	      "inside: how %d", how);
	CHECK(virtaddr_take(&sp, SP_BASE + PG(7), PG(3), &how) == MM_EBUSY && how == VIRTADDR_PARTLY,
	      "tail: how %d", how);
	CHECK(virtaddr_take(&sp, SP_BASE + PG(15), PG(2), &how) == MM_ERANGE, "past the end");
	CHECK(virtaddr_take(&sp, SP_BASE - PG(1), PG(1), &how) == MM_ERANGE, "below");
	CHECK(count_blocks() == 3 && virtaddr_check(&sp) == 0, "unchanged");
}

/*
 * |AAAABBBBCCCC....|  free A, free C: |....BBBB........|  then free B:
 * |................|
 * Expect: a free merges with both free neighbours into one block.
 */
static void test_free_merges(void)
{
	int rc;
	uint64_t a, b, c;
	setup(16);
	virtaddr_alloc(&sp, PG(4), 0, &a);
	virtaddr_alloc(&sp, PG(4), 0, &b);
	virtaddr_alloc(&sp, PG(4), 0, &c);
	rc = virtaddr_free(&sp, a, PG(4));
	REQUIRE(rc == MM_OK, "a");
	rc = virtaddr_free(&sp, c, PG(4));
	REQUIRE(rc == MM_OK, "c");
	CHECK(count_blocks() == 3, "after a, c: %llu", (unsigned long long)count_blocks());
	rc = virtaddr_free(&sp, b, PG(4));
	REQUIRE(rc == MM_OK, "b");
	CHECK(count_blocks() == 1 && sp.nused == 0, "blocks %llu", (unsigned long long)count_blocks());
	CHECK(virtaddr_check(&sp) == 0, "invariants");
}

/*
 * |AAAA............|
 *   free 1 page of A, free at A+1, free of a free range, double free
 * Expect: each bad free is reported with its arguments and returns
 * MM_ENOENT (MM_EINVAL if unaligned); the space does not change.
 */
static void test_bad_free(void)
{
	int rc;
	uint64_t a;
	setup(16);
	virtaddr_alloc(&sp, PG(4), 0, &a);
	host_capture_begin();
	int r1 = virtaddr_free(&sp, a, PG(1));
	int r2 = virtaddr_free(&sp, a + PG(1), PG(3));
	int r3 = virtaddr_free(&sp, a + PG(8), PG(1));
	int r4 = virtaddr_free(&sp, a + 5, PG(1));
	int r5 = virtaddr_free(&sp, SP_BASE + PG(100), PG(1));
	const char *out = host_capture_end();
	CHECK(r1 == MM_ENOENT && r2 == MM_ENOENT && r3 == MM_ENOENT && r5 == MM_ENOENT,
	      "%d %d %d %d", r1, r2, r3, r5);
	CHECK(r4 == MM_EINVAL, "unaligned: %d", r4);
	CHECK(strstr(out, "bad free of [0x10000000, 0x10001000) (va 0x10000000 size 0x1000)") &&
	      strstr(out, "size differs"), "report: %s", out);
	CHECK(strstr(out, "not allocated") && strstr(out, "not the start") &&
	      strstr(out, "outside the space"), "reasons: %s", out);
	CHECK(sp.nused == 1 && virtaddr_check(&sp) == 0, "unchanged");
	rc = virtaddr_free(&sp, a, PG(4));
	REQUIRE(rc == MM_OK, "good free");
	host_capture_begin();
	CHECK(virtaddr_free(&sp, a, PG(4)) == MM_ENOENT, "double free");
	host_capture_end();
}

/*
 * Node frames: the pmm is squeezed to zero free frames after the spare
 * nodes are used up.
 * Expect: alloc and take fail with MM_ENOMEM leaving the space unchanged;
 * with frames back they succeed; destroy returns every node frame.
 */
static void test_node_oom(void)
{
	static uint64_t held[8192];
	struct pmm *pmm = setup(1 << 20);
	uint64_t base_free = pmm_free_frames(pmm) + sp.node_frames, va;
	/* Use up the spare nodes: every other page keeps one node per block. */
	while (sp.nspare >= 2) {
		int rc = virtaddr_take(&sp, SP_BASE + PG(2 * sp.nblocks), PG(1), NULL);
		REQUIRE(rc == MM_OK, "fill");
	}
	uint64_t blocks = sp.nblocks;
	uint64_t n = fixture_squeeze(pmm, 0, held, 8192);
	CHECK(virtaddr_take(&sp, SP_BASE + PG(4 * blocks + 1), PG(1), NULL) == MM_ENOMEM, "take");
	CHECK(virtaddr_alloc(&sp, PG(1), PG(4), &va) == MM_ENOMEM, "alloc");
	CHECK(virtaddr_check(&sp) == 0, "invariants");
	fixture_release(pmm, held, n);
	CHECK(virtaddr_take(&sp, SP_BASE + PG(4 * blocks + 1), PG(1), NULL) == MM_OK, "retake");
	CHECK(sp.nblocks == blocks + 2, "blocks %llu", (unsigned long long)sp.nblocks);
	CHECK(virtaddr_check(&sp) == 0, "invariants");
	virtaddr_destroy(&sp);
	CHECK(pmm_free_frames(pmm) == base_free, "free %llu want %llu", (unsigned long long)pmm_free_frames(pmm),
	      (unsigned long long)base_free);
}

/* Expect: 20000 random allocs / takes / frees on a 4096-page space keep
 * every invariant and agree with a page-by-page model. */
static void test_random_against_model(void)
{
	enum { NP = 4096, NLIVE = 512 };
	static uint8_t model[NP];
	static uint64_t live_va[NLIVE], live_sz[NLIVE];
	int nlive = 0;
	memset(model, 0, sizeof(model));
	setup(NP);
	srand(4);
	for (int step = 0; step < 20000; step++) {
		int op = rand() % 3;
		if (op < 2 && nlive < NLIVE) {
			uint64_t np = 1 + rand() % 8, va;
			uint64_t align = PG(1) << (rand() % 3);
			int rc;
			if (op == 0) {
				rc = virtaddr_alloc(&sp, PG(np), align, &va);
			} else {
				va = SP_BASE + PG(rand() % NP);
				rc = virtaddr_take(&sp, va, PG(np), NULL);
			}
			int model_free = va >= SP_BASE && va + PG(np) <= SP_BASE + PG(NP);
			for (uint64_t i = 0; model_free && i < np; i++)
				model_free = !model[(va - SP_BASE) / PAGE_SIZE + i];
			if (rc == MM_OK) {
				REQUIRE(model_free, "step %d: range %llx+%llu overlaps", step,
					(unsigned long long)va, (unsigned long long)np);
				REQUIRE(va % align == 0 || op == 1, "alignment");
				for (uint64_t i = 0; i < np; i++)
					model[(va - SP_BASE) / PAGE_SIZE + i] = 1;
				live_va[nlive] = va;
				live_sz[nlive++] = PG(np);
			} else if (op == 1) {
				REQUIRE(!model_free, "step %d: take failed %d on a free range", step, rc);
			}
		} else if (nlive) {
			int k = rand() % nlive;
			int rc = virtaddr_free(&sp, live_va[k], live_sz[k]);
			REQUIRE(rc == MM_OK, "free");
			for (uint64_t i = 0; i < live_sz[k] / PAGE_SIZE; i++)
				model[(live_va[k] - SP_BASE) / PAGE_SIZE + i] = 0;
			live_va[k] = live_va[--nlive];
			live_sz[k] = live_sz[nlive];
		}
		if (step % 500 == 0)
			REQUIRE(virtaddr_check(&sp) == 0, "invariants at step %d", step);
	}
	CHECK(sp.nused == (uint64_t)nlive, "nused");
}

/*
 * |KKK#MM..........|  K: kalloc's block, #: the caller's, M: mem_map_addr's
 * Expect: a free naming another owner is refused with MM_EOWNER and a
 * report naming both; the list is unchanged; an unknown owner tag is
 * refused by virtaddr_alloc_owned and caught by virtaddr_check (control:
 * a block whose tag is corrupted).
 */
static void test_owner_tags(void)
{
	setup(16);
	uint64_t k, c, m, x;
	REQUIRE_OK(virtaddr_alloc_owned(&sp, PG(3), 0, VIRTADDR_OWNER_KALLOC, &k), "kalloc's");
	REQUIRE_OK(virtaddr_alloc(&sp, PG(1), 0, &c), "caller's");
	REQUIRE_OK(virtaddr_alloc_owned(&sp, PG(2), 0, VIRTADDR_OWNER_MAP_ADDR, &m), "map_addr's");
	CHECK(virtaddr_alloc_owned(&sp, PG(1), 0, VIRTADDR_FREE_BLOCK, &x) == MM_EINVAL &&
	      virtaddr_alloc_owned(&sp, PG(1), 0, VIRTADDR_OWNERS, &x) == MM_EINVAL, "bad tags");
	uint64_t nblocks = sp.nblocks, used = sp.used_bytes;
	host_capture_begin();
	int r1 = virtaddr_free(&sp, k, PG(3));
	int r2 = virtaddr_free_owned(&sp, m, PG(2), VIRTADDR_OWNER_KALLOC);
	int r3 = virtaddr_free_owned(&sp, c, PG(1), VIRTADDR_OWNER_MAP_ADDR);
	int r4 = virtaddr_free_owned(&sp, k, PG(2), VIRTADDR_OWNER_KALLOC);   /* wrong size */
	const char *out = host_capture_end();
	CHECK(r1 == MM_EOWNER && r2 == MM_EOWNER && r3 == MM_EOWNER && r4 == MM_ENOENT,
	      "%d %d %d %d", r1, r2, r3, r4);
	CHECK(strstr(out, "expected a block made by virtaddr_alloc/virtaddr_take, found") &&
	      strstr(out, "made by kalloc") && strstr(out, "made by mem_map_addr"), "report: %s", out);
	CHECK(sp.nblocks == nblocks && sp.used_bytes == used && virtaddr_check(&sp) == 0, "changed");
	struct virtaddr_block *b = virtaddr_find(&sp, c);
	b->owner = 9;                                  /* control: corrupt the tag */
	host_capture_begin();
	int bad = virtaddr_check(&sp);
	host_capture_end();
	/* Two broken: the unknown tag, and the leaf's copy of it (theory 2). */
	CHECK(bad == 2, "virtaddr_check missed an unknown tag (%d)", bad);
	b->owner = VIRTADDR_OWNER_CALLER;
	CHECK(virtaddr_free_owned(&sp, k, PG(3), VIRTADDR_OWNER_KALLOC) == MM_OK &&
	      virtaddr_free(&sp, c, PG(1)) == MM_OK &&
	      virtaddr_free_owned(&sp, m, PG(2), VIRTADDR_OWNER_MAP_ADDR) == MM_OK, "right frees");
	CHECK(sp.nblocks == 1 && sp.used_bytes == 0, "merged back");
	virtaddr_destroy(&sp);
}

/* Returns the lowest page of model[0..np) starting a run of k free pages,
 * or np if there is none: the lowest fit, computed without the index. */
static uint64_t model_lowest_fit(const uint8_t *model, uint64_t np, uint64_t k)
{
	uint64_t run = 0;
	for (uint64_t i = 0; i < np; i++) {
		run = model[i] ? 0 : run + 1;
		if (run == k)
			return i + 1 - k;
	}
	return np;
}

/*
 * A deep index: 20000 one-page blocks taken at every other page of a
 * 65536-page space (40000 blocks: four or more index levels).
 *   |#.#.#.#.# ... #.#.#.........................|
 * Expect: frees in random order, each followed by an allocation of 1-3
 * pages, return exactly the lowest fit a page model computes; invariants
 * hold throughout; once all is free the index is one leaf again and
 * destroy returns every node frame.
 */
static void test_index_deep(void)
{
	enum { NP = 65536, NB = 20000 };
	static uint8_t model[NP];
	static uint64_t live[NB], size[NB];
	struct pmm *pmm = setup(NP);
	uint64_t base_free = pmm_free_frames(pmm) + sp.node_frames;
	memset(model, 0, sizeof(model));
	for (uint64_t i = 0; i < NB; i++) {
		REQUIRE_OK(virtaddr_take(&sp, SP_BASE + PG(2 * i), PG(1), NULL), "take %llu",
			   (unsigned long long)i);
		model[2 * i] = 1;
		live[i] = SP_BASE + PG(2 * i);
		size[i] = PG(1);
	}
	CHECK(sp.height >= 4 && sp.nblocks == 2 * NB, "height %llu blocks %llu",
	      (unsigned long long)sp.height, (unsigned long long)sp.nblocks);
	REQUIRE(virtaddr_check(&sp) == 0, "invariants after the takes");
	srand(11);
	for (int step = 0; step < 4000; step++) {
		uint64_t k = rand() % NB, va;
		REQUIRE_OK(virtaddr_free(&sp, live[k], size[k]), "free at step %d", step);
		for (uint64_t i = 0; i < size[k] / PAGE_SIZE; i++)
			model[(live[k] - SP_BASE) / PAGE_SIZE + i] = 0;
		uint64_t np = 1 + rand() % 3, want = model_lowest_fit(model, NP, np);
		REQUIRE(want < NP, "model: no fit");
		REQUIRE_OK(virtaddr_alloc(&sp, PG(np), 0, &va), "alloc at step %d", step);
		REQUIRE(va == SP_BASE + PG(want), "step %d: alloc of %llu pages at page %llu, lowest fit %llu",
			step, (unsigned long long)np, (unsigned long long)((va - SP_BASE) / PAGE_SIZE),
			(unsigned long long)want);
		for (uint64_t i = 0; i < np; i++)
			model[want + i] = 1;
		live[k] = va;
		size[k] = PG(np);
		if (step % 400 == 0)
			REQUIRE(virtaddr_check(&sp) == 0, "invariants at step %d", step);
	}
	for (uint64_t i = 0; i < NB; i++)
		REQUIRE_OK(virtaddr_free(&sp, live[i], size[i]), "final free %llu", (unsigned long long)i);
	CHECK(sp.nblocks == 1 && sp.height == 1 && sp.nix == 1 && virtaddr_check(&sp) == 0,
	      "blocks %llu height %llu index nodes %llu", (unsigned long long)sp.nblocks,
	      (unsigned long long)sp.height, (unsigned long long)sp.nix);
	virtaddr_destroy(&sp);
	CHECK(pmm_free_frames(pmm) == base_free, "frames not returned");
}

/*
 * The checker sees a broken index (controls): an inner entry whose
 * largest free size or lowest key is off, and a leaf entry whose free
 * size or state (owner tag copy) disagrees with its block, are each
 * reported; restored, the space checks clean.
 */
static void test_index_check_controls(void)
{
	setup(4096);
	for (uint64_t i = 0; i < 600; i++)
		REQUIRE_OK(virtaddr_take(&sp, SP_BASE + PG(3 * i), PG(1), NULL), "take");
	REQUIRE(sp.height >= 3 && virtaddr_check(&sp) == 0, "setup");
	struct virtaddr_index *r = sp.root, *leaf = r;
	while (!leaf->leaf)
		leaf = leaf->ptr[0];
	uint64_t *fields[] = { &r->max_free[1], &r->key[1], &leaf->max_free[1] };
	for (unsigned f = 0; f < 3; f++) {
		uint64_t keep = *fields[f];
		*fields[f] += PAGE_SIZE;
		host_capture_begin();
		int bad = virtaddr_check(&sp);
		const char *out = host_capture_end();
		CHECK(bad >= 1 && strstr(out, "stale index entry"), "control %u not caught (%d)", f, bad);
		*fields[f] = keep;
	}
	uint8_t keep_st = leaf->state[0];
	leaf->state[0] = VIRTADDR_OWNER_KALLOC;     /* the block is the caller's */
	host_capture_begin();
	int bad = virtaddr_check(&sp);
	const char *out = host_capture_end();
	CHECK(bad == 1 && strstr(out, "stale index entry"), "state control not caught (%d)", bad);
	leaf->state[0] = keep_st;
	CHECK(virtaddr_check(&sp) == 0, "restored");
	virtaddr_destroy(&sp);
}

/*
 * A free checks the block from its leaf entry alone when the leaf also
 * holds the next entry (theory 2).  With blocks in the middle of a leaf:
 *   |#.#.#.#.#| ... (one page each)
 * Expect: that check refuses what the block check does - a free block
 * (also when the caller passes the free tag as owner), a pending block,
 * another owner's block, a wrong size, a va inside a block - with the
 * same status and nothing changed.  A block at a leaf's last entry (its
 * size checked against the next subtree's key in the parent) refuses a
 * size reaching into the next block, and is freed with its own size, as
 * is one in the middle.
 */
static void test_leaf_check_refusals(void)
{
	setup(4096);
	for (uint64_t i = 0; i < 600; i++)
		REQUIRE_OK(virtaddr_take(&sp, SP_BASE + PG(2 * i), PG(1), NULL), "take");
	uint64_t k;
	REQUIRE_OK(virtaddr_alloc_owned(&sp, PG(3), 0, VIRTADDR_OWNER_KALLOC, &k), "kalloc's");
	REQUIRE(k == SP_BASE + PG(1199), "kalloc block at %llx", (unsigned long long)k);
	REQUIRE(sp.height >= 2 && virtaddr_check(&sp) == 0, "setup");
	struct virtaddr_index *leaf = sp.root;
	while (!leaf->leaf)
		leaf = leaf->ptr[0];
	REQUIRE(leaf->n >= 4 && leaf->key[0] == SP_BASE, "first leaf");
	uint64_t mid = SP_BASE + PG(2), last = leaf->key[leaf->n - 1];
	struct virtaddr_block *pend;
	if (!leaf->state[leaf->n - 1])   /* a hole: make the last entry a block in use */
		REQUIRE_OK(virtaddr_take(&sp, last, PG(1), NULL), "take the last hole");
	REQUIRE_OK(virtaddr_take(&sp, SP_BASE + PG(1), PG(1), NULL), "take the hole");
	REQUIRE(leaf->key[leaf->n - 1] == last, "exact takes keep the leaf");
	REQUIRE_OK(virtaddr_claim_owned(&sp, SP_BASE + PG(1), PG(1), VIRTADDR_OWNER_CALLER,
					"test", &pend), "claim");
	uint64_t nblocks = sp.nblocks, used = sp.used_bytes, pending = sp.pending_bytes;
	host_capture_begin();
	int r[] = {
		virtaddr_free_owned(&sp, mid + PG(1), PG(1), VIRTADDR_FREE_BLOCK),   /* free block */
		virtaddr_free(&sp, mid + PG(1), PG(1)),                              /* free block */
		virtaddr_free(&sp, SP_BASE + PG(1), PG(1)),                          /* pending */
		virtaddr_free_owned(&sp, mid, PG(1), VIRTADDR_OWNER_KALLOC),         /* other owner */
		virtaddr_free_owned(&sp, mid, PG(1), VIRTADDR_FREE_BLOCK),           /* free tag */
		virtaddr_free(&sp, mid, PG(2)),                                      /* wrong size */
		virtaddr_free(&sp, k + PG(1), PG(1)),                                /* inside */
		virtaddr_free(&sp, k, PG(3)),                                        /* kalloc's */
		virtaddr_free(&sp, last, PG(2)),          /* leaf's last entry, too big */
		virtaddr_free(&sp, k, PG(4)),             /* kalloc's block, too big */
	};
	const char *out = host_capture_end();
	int want[] = { MM_ENOENT, MM_ENOENT, MM_ENOENT, MM_EOWNER, MM_EOWNER, MM_ENOENT,
		       MM_ENOENT, MM_EOWNER, MM_ENOENT, MM_ENOENT };
	for (unsigned i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		CHECK(r[i] == want[i], "refusal %u: %d, want %d", i, r[i], want[i]);
	CHECK(strstr(out, "not allocated") && strstr(out, "pending") &&
	      strstr(out, "size differs") && strstr(out, "not the start"), "reasons: %s", out);
	CHECK(sp.nblocks == nblocks && sp.used_bytes == used && sp.pending_bytes == pending &&
	      virtaddr_check(&sp) == 0, "a refused free changed the space");
	CHECK(virtaddr_free(&sp, mid, PG(1)) == MM_OK && virtaddr_free(&sp, last, PG(1)) == MM_OK,
	      "middle and last entries freed");
	virtaddr_free_pending(&sp, pend);
	CHECK(virtaddr_find(&sp, mid) == virtaddr_find(&sp, SP_BASE + PG(1)) &&
	      virtaddr_find(&sp, mid)->size == PG(3) && virtaddr_check(&sp) == 0,
	      "merged: [1, 4) free");
	virtaddr_destroy(&sp);
}

/*
 * virtaddr_reserve(nodes) covers blocks and index nodes: after it, a burst
 * that makes up to `nodes` new blocks takes no frame (control: the same
 * burst without the reserve does take frames).
 */
static void test_reserve_covers_index(void)
{
	enum { BURST = 3000 };
	for (int reserve = 1; reserve >= 0; reserve--) {
		setup(4 * BURST);
		if (reserve)
			REQUIRE_OK(virtaddr_reserve(&sp, BURST), "reserve");
		uint64_t frames = sp.node_frames;
		for (uint64_t i = 0; i < BURST / 2; i++)   /* each take: 2 new blocks */
			REQUIRE_OK(virtaddr_take(&sp, SP_BASE + PG(2 * i + 1), PG(1), NULL), "take");
		if (reserve)
			CHECK(sp.node_frames == frames, "frames grew by %llu after the reserve",
			      (unsigned long long)(sp.node_frames - frames));
		else
			CHECK(sp.node_frames > frames, "control: no frame taken without a reserve");
		CHECK(virtaddr_check(&sp) == 0, "invariants");
		virtaddr_destroy(&sp);
	}
}

int main(void)
{
	RUN(test_init_one_free_block);
	RUN(test_alloc_lowest_fit);
	RUN(test_alloc_aligned);
	RUN(test_alloc_full);
	RUN(test_take_exact);
	RUN(test_take_taken);
	RUN(test_free_merges);
	RUN(test_bad_free);
	RUN(test_node_oom);
	RUN(test_random_against_model);
	RUN(test_owner_tags);
	RUN(test_index_deep);
	RUN(test_index_check_controls);
	RUN(test_leaf_check_refusals);
	RUN(test_reserve_covers_index);
	return harness_done("vaddr");
}
