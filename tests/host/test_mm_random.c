/*
 * tests/host/test_mm_random.c - 1M random kalloc / kfree / mem_map_addr /
 * mem_unmap_addr / virtaddr_take operations on one address space, checked
 * against a reference model after every step:
 *   - no two live ranges overlap (a page-by-page map of each window),
 *   - every mapped data frame belongs to exactly one live allocation and is
 *     allocated in the pmm (a frame-owner table),
 *   - a failed call (the pmm runs dry now and then) changes nothing,
 * with virtaddr_check and ptcheck every CHECK_EVERY steps, and at the end,
 * after everything is freed, the pmm's free count is back where it began.
 */
#include <stdlib.h>
#include <string.h>
#include "mm/kalloc.h"
#include "mm/layout.h"
#include "mm/platform.h"
#include "mm/ptcheck.h"
#include "tests/host/harness.h"
#include "tests/host/mm_fixture.h"

#define STEPS       1000000
#define CHECK_EVERY 100000
#define RAM         (12ULL << 20)     /* small, so the pmm runs dry at times */
#define WIN_PAGES   (1u << 16)        /* each window: 256 MiB */
#define MAX_LIVE    4096
#define MAX_PAGES   4

enum kind { K_KERNEL, K_USER, K_PHYS, K_TAKE };

struct live {
	void *p;          /* what the call returned */
	uint64_t size;    /* bytes asked for */
	enum kind kind;
};

static struct addrspace as;
static struct virtaddr_space kwin, user;
static struct pmm *pmm;
static struct live live[MAX_LIVE];
static int nlive;
static uint8_t kmodel[WIN_PAGES], umodel[WIN_PAGES];
static int32_t *owner;          /* frame number -> live index + 1, 0 = none */
static uint64_t nframes;
static uint64_t rng = 88172645463325252ULL;
static uint64_t oom_count;      /* kalloc calls that found the pmm dry */

static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

/* Returns the model byte of window page va, or NULL if va is in no window. */
static uint8_t *model_of(uint64_t va)
{
	if (va >= KWIN_BASE && va < KWIN_BASE + (uint64_t)WIN_PAGES * PAGE_SIZE)
		return &kmodel[(va - KWIN_BASE) >> PAGE_SHIFT];
	if (va >= USER_BASE && va < USER_BASE + (uint64_t)WIN_PAGES * PAGE_SIZE)
		return &umodel[(va - USER_BASE) >> PAGE_SHIFT];
	return NULL;
}

/* Free frames plus spare list-node frames: a failed call leaves it as it
 * was (a node frame taken on the way stays as spare nodes, by design). */
static uint64_t held_frames(void)
{
	return pmm_free_frames(pmm) + kwin.node_frames + user.node_frames;
}

/* Direct-map pointer -> pa. */
static uint64_t dm_pa(const void *p)
{
	return (uint64_t)((uintptr_t)p - (uintptr_t)mm_phys_to_virt(0));
}

/* Records (set) or drops (clear) live[i] in the models; checks them. */
static int model_update(int i, int set)
{
	struct live *l = &live[i];
	uint64_t va = (uint64_t)(uintptr_t)l->p, first = PAGE_ROUND_DOWN(va);
	uint64_t n = (PAGE_ROUND_UP(va + l->size) - first) >> PAGE_SHIFT;
	uint8_t *m = model_of(first);
	if (!m) {   /* a direct-map page */
		uint64_t f = dm_pa(l->p) >> PAGE_SHIFT;
		if (set && (owner[f] || !pmm_is_allocated(pmm, f << PAGE_SHIFT)))
			return 0;
		owner[f] = set ? i + 1 : 0;
		return 1;
	}
	for (uint64_t k = 0; k < n; k++) {
		if (m[k] == set)
			return 0;   /* overlap on set, hole on clear */
		m[k] = (uint8_t)set;
		if (l->kind == K_PHYS || l->kind == K_TAKE)
			continue;
		uint64_t pa, pte;
		if (set) {
			if (paging_query(&as, first + (k << PAGE_SHIFT), &pa, &pte) != MM_OK)
				return 0;
			uint64_t f = pa >> PAGE_SHIFT;
			if (f >= nframes || owner[f] || !pmm_is_allocated(pmm, pa))
				return 0;
			owner[f] = i + 1;
		} else if (paging_query(&as, first + (k << PAGE_SHIFT), &pa, &pte) == MM_OK) {
			owner[pa >> PAGE_SHIFT] = 0;
		}
	}
	return 1;
}

/* Moves live[nlive-1] into slot i, fixing the owner table. */
static void live_remove(int i)
{
	nlive--;
	if (i == nlive)
		return;
	model_update(nlive, 0);
	live[i] = live[nlive];
	model_update(i, 1);
}

/* Frees live[i] through the API that made it; returns the status. */
static int release(int i)
{
	struct live *l = &live[i];
	uint64_t va = (uint64_t)(uintptr_t)l->p;
	if (!model_update(i, 0))
		return -1;
	switch (l->kind) {
	case K_PHYS:
		return mem_unmap_addr(&as, va, l->size);
	case K_TAKE:
		return virtaddr_free(&user, va, l->size);
	default:
		return kfree_in(&as, l->p, l->size);
	}
}

/* One random step; returns 0 if the model disagrees.  Frees are lazy
 * (mm/paging.h theory 8) and a failing allocation purges them first, so a
 * failed call changes nothing exactly only after an explicit purge; half
 * the allocations get one, the others may only gain frames. */
static int step(void)
{
	int purged = (int)rnd(2);
	if (purged)
		paging_purge(&as);
	uint64_t before = held_frames();
	int op = (int)rnd(100);
	if (op < 55 || nlive == 0) {   /* a slight drift up: the pmm runs dry */
		if (nlive == MAX_LIVE) {
			int i = (int)rnd(nlive);
			if (release(i) != MM_OK)
				return 0;
			live_remove(i);
			return 1;
		}
		struct live l = { .size = 1 + rnd(MAX_PAGES * PAGE_SIZE) };
		int r = (int)rnd(4), rc = MM_OK;
		if (r == 0) {
			l.kind = K_USER;
			l.p = kalloc_in(&as, l.size, ALLOC_USER | ALLOC_WRITABLE);
		} else if (r == 1) {
			/* Firmware-table-like (below RAM) or MMIO: never free RAM. */
			uint64_t pa = rnd(2) ? PAGE_SIZE + rnd(FIX_RAM_BASE - PAGE_SIZE - l.size)
					     : FIX_MMIO_BASE + rnd(0x100000);
			uint64_t va = 0;
			l.kind = K_PHYS;
			rc = mem_map_addr(&as, pa, l.size, MAPF_NOEXEC, &va);
			l.p = rc == MM_OK ? (void *)(uintptr_t)va : NULL;
		} else if (r == 2) {
			uint64_t va = USER_BASE + PAGE_SIZE * rnd(WIN_PAGES - MAX_PAGES);
			l.kind = K_TAKE;
			l.size = PAGE_SIZE * (1 + rnd(MAX_PAGES));
			rc = virtaddr_take(&user, va, l.size, NULL);
			uint8_t *m = model_of(va);
			int model_free = 1;
			for (uint64_t k = 0; k < l.size / PAGE_SIZE; k++)
				model_free &= !m[k];
			if ((rc == MM_OK) != model_free && !(rc == MM_ENOMEM && model_free))
				return 0;
			l.p = rc == MM_OK ? (void *)(uintptr_t)va : NULL;
		} else {
			l.kind = K_KERNEL;
			l.p = kalloc_in(&as, l.size, ALLOC_KERNEL | ALLOC_WRITABLE);
		}
		if (!l.p) {
			oom_count += l.kind == K_KERNEL || l.kind == K_USER;
			return purged ? held_frames() == before : held_frames() >= before;
		}
		live[nlive] = l;
		return model_update(nlive++, 1);
	}
	int i = (int)rnd(nlive);
	if (release(i) != MM_OK)
		return 0;
	live_remove(i);
	return 1;
}

/* Expect: 1M steps agree with the model; all checks pass; no leak. */
static void test_random_mixed(void)
{
	pmm = fixture_init(RAM);
	uint64_t free0 = pmm_free_frames(pmm);
	nframes = (FIX_RAM_BASE + RAM) >> PAGE_SHIFT;
	owner = calloc(nframes, sizeof(*owner));
	memset(kmodel, 0, sizeof(kmodel));
	memset(umodel, 0, sizeof(umodel));
	nlive = 0;
	oom_count = 0;                       /* per run: RUN_MODES runs it twice */
	rng = 88172645463325252ULL;          /* the same sequence in both modes */
	REQUIRE(owner, "calloc");
	int rc = virtaddr_init(&kwin, pmm, KWIN_BASE, KWIN_BASE + (uint64_t)WIN_PAGES * PAGE_SIZE);
	REQUIRE(rc == MM_OK, "kwin");
	rc = virtaddr_init(&user, pmm, USER_BASE, USER_BASE + (uint64_t)WIN_PAGES * PAGE_SIZE);
	REQUIRE(rc == MM_OK, "user");
	rc = addrspace_create(&as, pmm, NULL, &kwin, &user);
	REQUIRE(rc == MM_OK, "as");
	for (long s = 1; s <= STEPS; s++) {
		uint64_t live_before = nlive;
		int ok = step();
		if (!ok) {
			CHECK(ok, "step %ld disagrees with the model (live %llu)", s,
			      (unsigned long long)live_before);
			return;
		}
		if (s % CHECK_EVERY == 0) {
			int v = virtaddr_check(&kwin) + virtaddr_check(&user) + ptcheck(&as, pmm, NULL);
			REQUIRE(v == 0, "step %ld: %d violations", s, v);
		}
	}
	while (nlive) {
		rc = release(nlive - 1);
		REQUIRE(rc == MM_OK, "final release %d", rc);
		nlive--;
	}
	CHECK(kwin.nused == 0 && user.nused == 0, "windows not empty");
	CHECK(oom_count > 0, "the out-of-memory path was never taken");
	printf("mm_random: %d-level paging, %d steps, %llu kalloc calls found the pmm dry\n",
	       (int)pgmode_levels(), STEPS, (unsigned long long)oom_count);
	addrspace_destroy(&as);
	virtaddr_destroy(&kwin);
	virtaddr_destroy(&user);
	CHECK(pmm_free_frames(pmm) == free0, "leak: free %llu, was %llu", (unsigned long long)pmm_free_frames(pmm),
	      (unsigned long long)free0);
	free(owner);
}

int main(void)
{
	RUN_MODES(test_random_mixed);
	return harness_done("mm_random");
}
