/*
 * tests/host/test_mm_smp.c - vaddr, paging and kalloc on many CPUs (a host
 * CPU is a thread: host_set_cpu), checked against a model that knows the
 * right answer, and the lazy-unmap protocol of mm/paging.h theory 8 on one.
 *
 * The model (independent of mm/'s bookkeeping), shared by all threads and
 * updated with atomic compare-and-swap:
 *   - pages[]: which thread holds each page of the two windows: a range
 *     handed out twice fails its CAS;
 *   - frames[]: which thread holds each RAM frame mapped for it: a frame
 *     handed out twice (or one still mapped elsewhere) fails its CAS;
 *   - each page holds a pattern of (thread, allocation, page) written
 *     through the direct map and checked before the free: a frame shared
 *     behind the model's back shows up as a wrong pattern.
 * At the end (all threads joined, paging_purge): free frames plus vaddr
 * node frames and the table count are back at their baseline, both vaddr
 * spaces are empty and consistent, ptcheck is clean.
 *
 * Under TSan (make test-host builds it there too) every access to mm/
 * state from two threads must be ordered by a lock.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "mm/kalloc.h"
#include "mm/layout.h"
#include "mm/platform.h"
#include "mm/ptcheck.h"
#include "tests/host/harness.h"
#include "tests/host/mm_fixture.h"

#define RAM        (24ULL << 20)
#define NFRAMES    ((FIX_RAM_BASE + RAM) >> PAGE_SHIFT)
#define WIN_SIZE   (1ULL << 30)                    /* each window: one PML4 slot */
#define WIN_PAGES  (WIN_SIZE >> PAGE_SHIFT)
#define THREADS    4
#define ROUNDS     3000
#define MAX_LIVE   24
#define MAX_PAGES  6
#define FW_PA      0x10000ULL                      /* "firmware" bytes below RAM */
#define FW_SIZE    0x8000ULL
#define RACE_ROUNDS 200

/* ------------------------------------------------ printf wrapper */

/* See test_mm_smp.mk. */
/* Reports from mm/ (refusals): counted by kind, the last one kept. */
static pthread_mutex_t print_mx = PTHREAD_MUTEX_INITIALIZER;
static uint64_t reports, reports_pending, reports_unallocated;
static char last_report[512];

void __wrap_mm_printf(const char *fmt, ...);
void __wrap_mm_printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&print_mx);
	if (strstr(buf, "bad free") || strstr(buf, "nothing changed"))
		reports++;
	if (strstr(buf, "already freed (its unmap is pending)"))
		reports_pending++;
	if (strstr(buf, "not allocated"))
		reports_unallocated++;
	if (buf[0] != '\n' && buf[0] != ',')
		memcpy(last_report, buf, sizeof(buf));
	pthread_mutex_unlock(&print_mx);
}

/* Resets the report counters (no thread running). */
static void reports_reset(void)
{
	reports = reports_pending = reports_unallocated = 0;
	last_report[0] = 0;
}

/* ---------------------------------------------------------------- setup */

static struct addrspace as;
static struct virtaddr_space kwin, user;
static struct pmm *pmm;
static uint64_t held0, tables0;

/* Frames free or holding vaddr nodes (nodes are kept for reuse by design). */
static uint64_t held_frames(void)
{
	return pmm_free_frames(pmm) + kwin.node_frames + user.node_frames;
}

/* A 1 GiB kernel window (its PML4 entry made now, so the table count has a
 * baseline) and a 1 GiB user window; fw bytes at FW_PA. */
static int setup(void)
{
	pmm = fixture_init(RAM);
	if (virtaddr_init(&kwin, pmm, KWIN_BASE, KWIN_BASE + WIN_SIZE) != MM_OK ||
	    virtaddr_init(&user, pmm, USER_BASE, USER_BASE + WIN_SIZE) != MM_OK ||
	    addrspace_create(&as, pmm, NULL, &kwin, &user) != MM_OK ||
	    paging_prepopulate(&as, KWIN_BASE, WIN_SIZE) != MM_OK)
		return 0;
	uint8_t *fw = mm_phys_to_virt(FW_PA);
	for (uint64_t i = 0; i < FW_SIZE; i++)
		fw[i] = (uint8_t)(i * 7 + 3);
	reports_reset();
	held0 = held_frames();
	tables0 = as.table_pages;
	return 1;
}

/* Purges, then checks everything is back at the baseline; tears down. */
static void teardown_check(void)
{
	paging_purge(&as);
	uint64_t leaves;
	CHECK(kwin.nused == 0 && user.nused == 0 && kwin.npending == 0 && user.npending == 0,
	      "windows: used %llu+%llu pending %llu+%llu", (unsigned long long)kwin.nused,
	      (unsigned long long)user.nused, (unsigned long long)kwin.npending,
	      (unsigned long long)user.npending);
	CHECK(virtaddr_check(&kwin) == 0 && virtaddr_check(&user) == 0, "virtaddr_check");
	CHECK(ptcheck(&as, pmm, &leaves) == 0 && leaves == 0, "ptcheck, %llu leaves",
	      (unsigned long long)leaves);
	CHECK(held_frames() == held0, "frames %llu, baseline %llu",
	      (unsigned long long)held_frames(), (unsigned long long)held0);
	CHECK(as.table_pages == tables0, "tables %llu, baseline %llu",
	      (unsigned long long)as.table_pages, (unsigned long long)tables0);
	addrspace_destroy(&as);
	virtaddr_destroy(&kwin);
	virtaddr_destroy(&user);
}

/* ---------------------------------------------------------------- model */

static uint8_t kpages[WIN_PAGES], upages[WIN_PAGES];
static uint8_t frames[NFRAMES];

/* Model slot of window page va (NULL outside the windows). */
static uint8_t *page_slot(uint64_t va)
{
	if (va >= KWIN_BASE && va < KWIN_BASE + WIN_SIZE)
		return &kpages[(va - KWIN_BASE) >> PAGE_SHIFT];
	if (va >= USER_BASE && va < USER_BASE + WIN_SIZE)
		return &upages[(va - USER_BASE) >> PAGE_SHIFT];
	return NULL;
}

/* Claims *slot for thread t (0 -> t); 0 if someone holds it. */
static int claim(uint8_t *slot, uint8_t t)
{
	uint8_t want = 0;
	return slot && __atomic_compare_exchange_n(slot, &want, t, 0, __ATOMIC_ACQ_REL,
						   __ATOMIC_ACQUIRE);
}

/* Gives *slot back; 0 if t did not hold it. */
static int unclaim(uint8_t *slot, uint8_t t)
{
	uint8_t want = t;
	return slot && __atomic_compare_exchange_n(slot, &want, 0, 0, __ATOMIC_ACQ_REL,
						   __ATOMIC_ACQUIRE);
}

/* What one thread holds. */
struct item {
	uint64_t va, pages, seq;
	int kind;            /* K_KALLOC, K_DIRECT, K_MAPADDR */
	uint64_t pa[MAX_PAGES];
};
enum { K_KALLOC, K_DIRECT, K_MAPADDR };

struct worker {
	uint8_t t;               /* model id, 1..THREADS */
	uint64_t rng;
	uint64_t seq;
	int errors;
	char why[160];
	struct item live[MAX_LIVE];
	int nlive;
	uint64_t ops;
};

static uint64_t rnd(struct worker *w, uint64_t n)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return w->rng % n;
}

/* Records the first error of w. */
static void fail(struct worker *w, const char *why, uint64_t x)
{
	if (!w->errors++)
		snprintf(w->why, sizeof(w->why), "cpu %u: %s (0x%llx)", w->t, why,
			 (unsigned long long)x);
}

/* The pattern word of page k of allocation seq of thread t. */
static uint64_t pattern(uint8_t t, uint64_t seq, uint64_t k)
{
	return ((uint64_t)t << 56) ^ (seq << 16) ^ k ^ 0x5a5a000000000000ULL;
}

/* Writes (set) or checks the pattern of every page of it. */
static int pattern_do(struct worker *w, const struct item *it, int set)
{
	for (uint64_t k = 0; k < it->pages; k++) {
		uint64_t *p = mm_phys_to_virt(it->pa[k]);
		uint64_t v = pattern(w->t, it->seq, k);
		if (set) {
			p[0] = v;
			p[PAGE_SIZE / 8 - 1] = ~v;
		} else if (p[0] != v || p[PAGE_SIZE / 8 - 1] != ~v) {
			return 0;
		}
	}
	return 1;
}

/* Claims the pages and frames of a fresh item in the model. */
static void model_take(struct worker *w, struct item *it)
{
	for (uint64_t k = 0; k < it->pages; k++) {
		uint64_t va = it->va + k * PAGE_SIZE, pte;
		if (it->kind == K_DIRECT) {
			it->pa[k] = va - (uint64_t)(uintptr_t)mm_phys_to_virt(0);
		} else if (paging_query(&as, va, &it->pa[k], &pte) != MM_OK) {
			fail(w, "fresh page not mapped", va);
			continue;
		} else if (!claim(page_slot(va), w->t)) {
			fail(w, "page handed out twice", va);
		}
		if (it->kind != K_MAPADDR && !claim(&frames[it->pa[k] >> PAGE_SHIFT], w->t))
			fail(w, "frame handed out twice", it->pa[k]);
	}
}

/* Gives the pages and frames of it back in the model. */
static void model_drop(struct worker *w, struct item *it)
{
	for (uint64_t k = 0; k < it->pages; k++) {
		uint64_t va = it->va + k * PAGE_SIZE;
		if (it->kind != K_DIRECT && !unclaim(page_slot(va), w->t))
			fail(w, "model page not ours", va);
		if (it->kind != K_MAPADDR && !unclaim(&frames[it->pa[k] >> PAGE_SHIFT], w->t))
			fail(w, "model frame not ours", it->pa[k]);
	}
}

/* Frees live item i through its API. */
static void release(struct worker *w, int i)
{
	struct item *it = &w->live[i];
	int rc;
	if (it->kind != K_MAPADDR && !pattern_do(w, it, 0))
		fail(w, "pattern overwritten (frame shared)", it->va);
	model_drop(w, it);
	if (it->kind == K_MAPADDR)
		rc = mem_unmap_addr(&as, it->va, it->pages * PAGE_SIZE);
	else
		rc = kfree_in(&as, (void *)(uintptr_t)it->va, it->pages * PAGE_SIZE);
	if (rc != MM_OK)
		fail(w, "free of a live item refused", it->va);
	w->live[i] = w->live[--w->nlive];
}

/* virtaddr_alloc + mem_map_pages_at + pattern + mem_unmap_pages + free,
 * all in one go (the immediate path). */
static void map_cycle(struct worker *w)
{
	struct item it = { .pages = 1 + rnd(w, MAX_PAGES), .kind = K_KALLOC, .seq = ++w->seq };
	if (virtaddr_alloc(&kwin, it.pages * PAGE_SIZE, 0, &it.va) != MM_OK)
		return;
	if (mem_map_pages_at(&as, it.va, it.pages, MAPF_WRITE | MAPF_NOEXEC) == MM_OK) {
		model_take(w, &it);
		pattern_do(w, &it, 1);
		if (!pattern_do(w, &it, 0))
			fail(w, "map_cycle pattern", it.va);
		model_drop(w, &it);
		if (mem_unmap_pages(&as, it.va, it.pages) != MM_OK)
			fail(w, "mem_unmap_pages refused", it.va);
	}
	if (virtaddr_free(&kwin, it.va, it.pages * PAGE_SIZE) != MM_OK)
		fail(w, "virtaddr_free refused", it.va);
}

/* One random operation. */
static void op(struct worker *w)
{
	int r = (int)rnd(w, 10);
	if (r < 2 && w->nlive) {
		release(w, (int)rnd(w, w->nlive));
		return;
	}
	if (r == 2) {
		map_cycle(w);
		return;
	}
	if (w->nlive == MAX_LIVE)
		release(w, 0);
	struct item *it = &w->live[w->nlive];
	memset(it, 0, sizeof(*it));
	it->seq = ++w->seq;
	if (r == 3) {   /* mem_map_addr of firmware bytes at an odd offset */
		uint64_t off = rnd(w, FW_SIZE - 64), va;
		if (mem_map_addr(&as, FW_PA + off, 64, MAPF_NOEXEC, &va) != MM_OK)
			return;
		uint64_t pa, pte;
		if (paging_query(&as, va, &pa, &pte) != MM_OK || pa != FW_PA + off ||
		    *(uint8_t *)mm_phys_to_virt(pa) != (uint8_t)(off * 7 + 3))
			fail(w, "mem_map_addr maps the wrong bytes", va);
		it->kind = K_MAPADDR;
		it->va = PAGE_ROUND_DOWN(va);
		it->pages = (PAGE_ROUND_UP(va + 64) - it->va) >> PAGE_SHIFT;
		model_take(w, it);
		w->nlive++;
		return;
	}
	uint64_t pages = r == 4 ? 1 : 1 + rnd(w, MAX_PAGES);
	int flags = ALLOC_WRITABLE | (r >= 8 ? ALLOC_USER : ALLOC_KERNEL);
	void *p = kalloc_in(&as, pages * PAGE_SIZE, flags);
	if (!p)
		return;
	it->va = (uint64_t)(uintptr_t)p;
	it->pages = pages;
	it->kind = page_slot(it->va) ? K_KALLOC : K_DIRECT;
	model_take(w, it);
	pattern_do(w, it, 1);
	w->nlive++;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	host_set_cpu(w->t);
	for (int i = 0; i < ROUNDS; i++, w->ops++)
		op(w);
	while (w->nlive)
		release(w, w->nlive - 1);
	return NULL;
}

/*
 * Expect: THREADS CPUs, each ROUNDS random kalloc / kfree (window and
 * direct-map pages, kernel and user) / mem_map_addr / mem_unmap_addr /
 * virtaddr_alloc + mem_map_pages_at + mem_unmap_pages + virtaddr_free, all
 * at once: no range or frame is handed out twice, no pattern is
 * overwritten, no live free is refused, and after a purge everything is
 * back at the baseline.  Lazy frees are batched: far fewer shootdowns than
 * lazy unmaps.
 */
static void test_smp_mixed(void)
{
	static struct worker w[THREADS];
	pthread_t th[THREADS];
	REQUIRE(setup(), "setup");
	memset(kpages, 0, sizeof(kpages));
	memset(upages, 0, sizeof(upages));
	memset(frames, 0, sizeof(frames));
	for (unsigned i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].t = (uint8_t)(i + 1);
		w[i].rng = 0x9e3779b97f4a7c15ULL * (i + 1);
		pthread_create(&th[i], NULL, worker_main, &w[i]);
	}
	for (unsigned i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	for (unsigned i = 0; i < THREADS; i++)
		CHECK(w[i].errors == 0, "%d errors, first: %s", w[i].errors, w[i].why);
	CHECK(reports == 0, "%llu refusals, last: %s", (unsigned long long)reports, last_report);
	struct paging_stats st;
	paging_stats(&as, &st);
	CHECK(st.lazy_unmaps > 1000, "lazy unmaps %llu", (unsigned long long)st.lazy_unmaps);
	/* The immediate map cycles cost one shootdown each (two when they park
	 * tables); the lazy ones share a shootdown per PAGING_LAZY_MAX_PAGES. */
	uint64_t immediate = st.unmaps - st.lazy_unmaps;
	CHECK(st.shootdowns <= 2 * immediate + st.purges + 1 &&
	      st.purges * 20 < st.lazy_unmaps, "shootdowns %llu purges %llu for %llu lazy + %llu",
	      (unsigned long long)st.shootdowns, (unsigned long long)st.purges,
	      (unsigned long long)st.lazy_unmaps, (unsigned long long)immediate);
	printf("mm_smp: %u cpus x %u ops: %llu unmaps (%llu lazy), %llu shootdowns, %llu purge rounds\n",
	       THREADS, ROUNDS, (unsigned long long)st.unmaps, (unsigned long long)st.lazy_unmaps,
	       (unsigned long long)st.shootdowns, (unsigned long long)st.purges);
	teardown_check();
}

/* Control: the model itself catches a range or frame handed out twice
 * (the checks above can fail). */
static void test_control_model_catches_double_handout(void)
{
	struct worker a = { .t = 1 }, b = { .t = 2 };
	memset(frames, 0, sizeof(frames));
	CHECK(claim(&frames[300], a.t) && !claim(&frames[300], b.t), "double frame not caught");
	CHECK(!unclaim(&frames[300], b.t) && unclaim(&frames[300], a.t), "foreign unclaim");
	struct item it = { .pages = 1, .seq = 5 };
	uint64_t pa = FIX_RAM_BASE + 64 * PAGE_SIZE;
	it.pa[0] = pa;
	pattern_do(&a, &it, 1);
	*(uint64_t *)mm_phys_to_virt(pa) ^= 1;   /* someone else wrote it */
	CHECK(!pattern_do(&a, &it, 0), "overwritten pattern not caught");
}

/* ------------------------------------------------------- same-pointer races */

struct racer {
	pthread_barrier_t *bar;
	unsigned cpu;
	void *p;          /* kfree this (size bytes)... */
	uint64_t size;
	int mapaddr;      /* ...or mem_unmap_addr it */
	int rc[RACE_ROUNDS];
	void **ptrs;      /* per-round pointer (set by the main thread) */
};

static void *racer_main(void *arg)
{
	struct racer *r = arg;
	host_set_cpu(r->cpu);
	for (int i = 0; i < RACE_ROUNDS; i++) {
		pthread_barrier_wait(r->bar);          /* main has set ptrs[i] */
		void *p = __atomic_load_n(&r->ptrs[i], __ATOMIC_ACQUIRE);
		r->rc[i] = r->mapaddr ? mem_unmap_addr(&as, (uint64_t)(uintptr_t)p, r->size)
				      : kfree_in(&as, p, r->size);
		pthread_barrier_wait(r->bar);
	}
	return NULL;
}

/* Runs two racers on RACE_ROUNDS pointers made by make(); returns the
 * rounds where not exactly one free succeeded. */
static int race(void *(*make)(int i), uint64_t size, int mapaddr)
{
	static void *ptrs[RACE_ROUNDS];
	static struct racer r[2];
	pthread_barrier_t bar;
	pthread_t th[2];
	int bad = 0;
	pthread_barrier_init(&bar, NULL, 3);
	for (int k = 0; k < 2; k++) {
		r[k] = (struct racer){ .bar = &bar, .cpu = 1 + k, .size = size,
				       .mapaddr = mapaddr, .ptrs = ptrs };
		pthread_create(&th[k], NULL, racer_main, &r[k]);
	}
	for (int i = 0; i < RACE_ROUNDS; i++) {
		__atomic_store_n(&ptrs[i], make(i), __ATOMIC_RELEASE);
		pthread_barrier_wait(&bar);
		pthread_barrier_wait(&bar);
		int ok = (r[0].rc[i] == MM_OK) + (r[1].rc[i] == MM_OK);
		int refused = (r[0].rc[i] == MM_ENOENT) + (r[1].rc[i] == MM_ENOENT);
		bad += !(ok == 1 && refused == 1);
	}
	for (int k = 0; k < 2; k++)
		pthread_join(th[k], NULL);
	pthread_barrier_destroy(&bar);
	return bad;
}

static void *make_window(int i)
{
	(void)i;
	return kalloc_in(&as, 3 * PAGE_SIZE, ALLOC_KERNEL | ALLOC_WRITABLE);
}

static void *make_direct(int i)
{
	(void)i;
	return kalloc_in(&as, PAGE_SIZE, ALLOC_KERNEL | ALLOC_WRITABLE);
}

static void *make_mapaddr(int i)
{
	uint64_t va = 0;
	mem_map_addr(&as, FW_PA + 0x100 + (uint64_t)i, 2 * PAGE_SIZE, MAPF_NOEXEC, &va);
	return (void *)(uintptr_t)PAGE_ROUND_DOWN(va);
}

/*
 * Expect: two CPUs kfree the same pointer at the same moment, RACE_ROUNDS
 * times, for a 3-page window block, a direct-map page and a mem_map_addr
 * range (mem_unmap_addr): every time exactly one succeeds and the other
 * gets MM_ENOENT with a report; nothing is corrupt after (baseline).
 */
static void test_double_free_race(void)
{
	REQUIRE(setup(), "setup");
	CHECK(race(make_window, 3 * PAGE_SIZE, 0) == 0, "window kfree race");
	CHECK(race(make_direct, PAGE_SIZE, 0) == 0, "direct-map kfree race");
	CHECK(race(make_mapaddr, 3 * PAGE_SIZE, 1) == 0, "mem_unmap_addr race");
	CHECK(reports == 3 * RACE_ROUNDS, "reports %llu, want %u", (unsigned long long)reports,
	      3 * RACE_ROUNDS);
	teardown_check();
}

/* ------------------------------------------------------- map vs unmap race */

#define MU_PAGES  8
#define MU_ROUNDS 2000
#define MU_VA     (USER_BASE + 0x200000ULL - 4 * PAGE_SIZE)   /* straddles two PTs */

struct mu {
	unsigned cpu;
	uint64_t pa;
	uint64_t maps_ok, unmaps_ok, other;
};

static void *mu_main(void *arg)
{
	struct mu *m = arg;
	host_set_cpu(m->cpu);
	for (int i = 0; i < MU_ROUNDS; i++) {
		int rc = map_pages(&as, MU_VA, m->pa, MU_PAGES, MAPF_WRITE | MAPF_NOEXEC | MAPF_USER);
		if (rc == MM_OK)
			m->maps_ok++;
		else if (rc != MM_EBUSY)
			m->other++;
		rc = unmap_pages(&as, MU_VA, MU_PAGES);
		if (rc == MM_OK)
			m->unmaps_ok++;
		else if (rc != MM_ENOENT)
			m->other++;
	}
	return NULL;
}

/*
 * Expect: two CPUs map (each its own frames) and unmap the same 8 pages,
 * straddling two page tables, 2000 times each: a map is all or nothing
 * (MM_OK or MM_EBUSY), an unmap too (MM_OK or MM_ENOENT); the successful
 * maps and unmaps balance exactly against what is mapped at the end; the
 * tables are back after a purge.
 */
static void test_map_unmap_race(void)
{
	static struct mu m[2];
	pthread_t th[2];
	uint64_t pa[2];
	REQUIRE(setup(), "setup");
	REQUIRE(virtaddr_take(&user, MU_VA, MU_PAGES * PAGE_SIZE, NULL) == MM_OK, "take");
	for (int k = 0; k < 2; k++) {
		REQUIRE(pmm_alloc_contig(pmm, MU_PAGES, PAGE_SIZE, &pa[k]) == MM_OK, "frames");
		m[k] = (struct mu){ .cpu = 1 + k, .pa = pa[k] };
	}
	held0 -= 2 * MU_PAGES;
	reports_reset();
	for (int k = 0; k < 2; k++)
		pthread_create(&th[k], NULL, mu_main, &m[k]);
	for (int k = 0; k < 2; k++)
		pthread_join(th[k], NULL);
	uint64_t maps = m[0].maps_ok + m[1].maps_ok, unmaps = m[0].unmaps_ok + m[1].unmaps_ok;
	uint64_t q, pte;
	int mapped = paging_query(&as, MU_VA, &q, &pte) == MM_OK;
	CHECK(m[0].other + m[1].other == 0, "other statuses %llu",
	      (unsigned long long)(m[0].other + m[1].other));
	CHECK(maps == unmaps + (uint64_t)mapped && maps > 0, "maps %llu unmaps %llu mapped %d",
	      (unsigned long long)maps, (unsigned long long)unmaps, mapped);
	if (mapped)
		CHECK(unmap_pages(&as, MU_VA, MU_PAGES) == MM_OK, "final unmap");
	CHECK(virtaddr_free(&user, MU_VA, MU_PAGES * PAGE_SIZE) == MM_OK, "free");
	for (int k = 0; k < 2; k++)
		pmm_free_contig(pmm, pa[k], MU_PAGES);
	held0 += 2 * MU_PAGES;
	teardown_check();
}

/* ------------------------------------------------------- lazy, on one CPU */

/*
 * Expect: kfree of a window block is lazy: afterwards the range reads as
 * unmapped, its frames are still allocated (no other CPU's stale entry can
 * reach a reused frame), no shootdown has happened, and the block is
 * pending.  Every second free of it is refused as already freed and
 * changes nothing: kfree, virtaddr_free, mem_unmap_addr, mem_unmap_pages;
 * map_pages over it is MM_EBUSY; ptcheck is clean.  paging_purge then
 * shoots down once and gives frames, tables and range back; the second
 * kfree is now "not allocated".
 */
static void test_lazy_pending_refusals(void)
{
	REQUIRE(setup(), "setup");
	uint64_t shots = host_shootdowns();
	uint8_t *p = kalloc_in(&as, 3 * PAGE_SIZE, ALLOC_KERNEL | ALLOC_WRITABLE);
	REQUIRE(p, "kalloc");
	uint64_t va = (uint64_t)(uintptr_t)p, pa[3], pte;
	for (int k = 0; k < 3; k++)
		REQUIRE(paging_query(&as, va + k * PAGE_SIZE, &pa[k], &pte) == MM_OK, "mapped");
	CHECK(kfree_in(&as, p, 3 * PAGE_SIZE) == MM_OK, "kfree");
	uint64_t q;
	CHECK(paging_query(&as, va, &q, &pte) == MM_ENOENT, "still mapped");
	for (int k = 0; k < 3; k++)
		CHECK(pmm_is_allocated(pmm, pa[k]), "frame %d freed before the shootdown", k);
	CHECK(host_shootdowns() == shots, "a shootdown per kfree");
	CHECK(kwin.npending == 1 && kwin.nused == 0 && kwin.pending_bytes == 3 * PAGE_SIZE,
	      "pending %llu used %llu", (unsigned long long)kwin.npending,
	      (unsigned long long)kwin.nused);
	uint64_t free_before = pmm_free_frames(pmm), tables = as.table_pages;
	reports_reset();
	CHECK(kfree_in(&as, p, 3 * PAGE_SIZE) == MM_ENOENT, "second kfree");
	CHECK(reports_pending == 1, "report: %s", last_report);
	CHECK(virtaddr_free(&kwin, va, 3 * PAGE_SIZE) == MM_ENOENT, "virtaddr_free of pending");
	CHECK(mem_unmap_addr(&as, va, 3 * PAGE_SIZE) == MM_ENOENT, "mem_unmap_addr of pending");
	CHECK(mem_unmap_pages(&as, va, 3) != MM_OK, "mem_unmap_pages of pending");
	CHECK(map_pages(&as, va, FW_PA, 3, MAPF_NOEXEC) == MM_EBUSY, "map over pending");
	CHECK(reports_pending == 3 && reports == 4, "reports %llu pending %llu",
	      (unsigned long long)reports, (unsigned long long)reports_pending);
	CHECK(pmm_free_frames(pmm) == free_before && as.table_pages == tables && kwin.npending == 1 &&
	      virtaddr_check(&kwin) == 0, "a refusal changed something");
	CHECK(ptcheck(&as, pmm, NULL) == 0, "ptcheck with a pending block");
	/* Control: the same checks see a pending frame freed behind mm/'s back. */
	pmm_free(pmm, pa[1]);
	CHECK(ptcheck(&as, pmm, NULL) == 1, "ptcheck misses a freed pending frame");
	uint64_t again;
	REQUIRE(pmm_alloc(pmm, &again) == MM_OK && again == pa[1], "frame back");
	uint64_t got = paging_purge(&as);
	CHECK(got >= 3 && host_shootdowns() > shots, "purge %llu", (unsigned long long)got);
	CHECK(pmm_free_frames(pmm) >= free_before + 3 && !pmm_is_allocated(pmm, pa[0]) && kwin.npending == 0,
	      "purge gave back");
	reports_reset();
	CHECK(kfree_in(&as, p, 3 * PAGE_SIZE) == MM_ENOENT && reports_unallocated == 1,
	      "after purge: %s", last_report);
	teardown_check();
}

/*
 * Expect: with 8 pages kalloc'd and every frame but 4 taken, kalloc of 8
 * pages fails; after a kfree of the 8, kalloc of 8 pages succeeds: the allocation purged the pending free first.
 * Control: before that kalloc the pmm really had fewer than 8 free frames.
 * The same for addresses: a 16-page window filled, freed, filled again.
 */
static void test_oom_purges_pending(void)
{
	static uint64_t held[8192];
	REQUIRE(setup(), "setup");
	void *warm = kalloc_in(&as, 8 * PAGE_SIZE, ALLOC_KERNEL | ALLOC_WRITABLE);
	REQUIRE(warm, "warm");            /* the tables exist now */
	uint64_t n = fixture_squeeze(pmm, 4, held, 8192);
	void *p = kalloc_in(&as, 8 * PAGE_SIZE, ALLOC_KERNEL | ALLOC_WRITABLE);
	CHECK(p == NULL, "9th page from nowhere");
	kfree_in(&as, warm, 8 * PAGE_SIZE);
	CHECK(pmm_free_frames(pmm) < 8, "control: frames %llu free while pending",
	      (unsigned long long)pmm_free_frames(pmm));
	p = kalloc_in(&as, 8 * PAGE_SIZE, ALLOC_KERNEL | ALLOC_WRITABLE);
	CHECK(p != NULL, "kalloc did not purge the pending free");
	if (p)
		kfree_in(&as, p, 8 * PAGE_SIZE);
	fixture_release(pmm, held, n);
	teardown_check();

	/* Addresses: a 16-page kernel window. */
	static struct virtaddr_space small;
	pmm = fixture_init(RAM);
	REQUIRE(virtaddr_init(&small, pmm, KWIN_BASE, KWIN_BASE + 16 * PAGE_SIZE) == MM_OK &&
		addrspace_create(&as, pmm, NULL, &small, NULL) == MM_OK, "small");
	void *a = kalloc_in(&as, 16 * PAGE_SIZE, ALLOC_KERNEL);
	REQUIRE(a, "fill");
	CHECK(kfree_in(&as, a, 16 * PAGE_SIZE) == MM_OK, "free");
	CHECK(small.pending_bytes == 16 * PAGE_SIZE, "control: range pending");
	a = kalloc_in(&as, 16 * PAGE_SIZE, ALLOC_KERNEL);
	CHECK(a != NULL, "kalloc did not reclaim the pending range");
	uint64_t va;
	CHECK(virtaddr_alloc(&small, PAGE_SIZE, 0, &va) == MM_ENOMEM, "window really full");
	if (a)
		kfree_in(&as, a, 16 * PAGE_SIZE);
	CHECK(virtaddr_alloc(&small, 16 * PAGE_SIZE, 0, &va) == MM_OK && va == KWIN_BASE,
	      "virtaddr_alloc did not reclaim");
	addrspace_destroy(&as);
	virtaddr_destroy(&small);
}

/*
 * Expect: 10000 kfrees of 2-page blocks cost at most one shootdown per
 * lazy_max pages (batched; lazy_max is 1/16 of this 24 MiB machine's
 * frames), plus one; control: 1000 unmap_pages calls cost at least 1000
 * (one each).
 */
static void test_shootdown_batching(void)
{
	REQUIRE(setup(), "setup");
	uint64_t s0 = host_shootdowns();
	for (int i = 0; i < 10000; i++) {
		void *p = kalloc_in(&as, 2 * PAGE_SIZE, ALLOC_KERNEL | ALLOC_WRITABLE);
		REQUIRE(p, "kalloc %d", i);
		kfree_in(&as, p, 2 * PAGE_SIZE);
	}
	uint64_t lazy = host_shootdowns() - s0;
	CHECK(lazy <= 10000 * 2 / as.lazy_max + 1 && as.lazy_max == pmm->total / 16,
	      "kfree: %llu shootdowns, lazy_max %llu", (unsigned long long)lazy,
	      (unsigned long long)as.lazy_max);
	uint64_t va;
	REQUIRE(virtaddr_alloc(&kwin, 2 * PAGE_SIZE, 0, &va) == MM_OK, "va");
	s0 = host_shootdowns();
	for (int i = 0; i < 1000; i++) {
		REQUIRE(map_pages(&as, va, FW_PA, 2, MAPF_NOEXEC) == MM_OK, "map");
		REQUIRE(unmap_pages(&as, va, 2) == MM_OK, "unmap");
	}
	uint64_t now = host_shootdowns() - s0;
	CHECK(now >= 1000, "control: unmap_pages %llu shootdowns", (unsigned long long)now);
	printf("mm_smp: shootdowns per 1000 unmaps: kfree of 2 pages %.2f, unmap_pages %.0f\n",
	       lazy / 10.0, (double)now);
	virtaddr_free(&kwin, va, 2 * PAGE_SIZE);
	teardown_check();
}

int main(void)
{
	RUN(test_control_model_catches_double_handout);
	RUN(test_lazy_pending_refusals);
	RUN(test_oom_purges_pending);
	RUN(test_shootdown_batching);
	RUN(test_double_free_race);
	RUN_MODES(test_map_unmap_race);
	RUN_MODES(test_smp_mixed);
	return harness_done("mm_smp");
}
