/*
 * tests/host/test_pmm_pcp.c - the frame allocator's per-CPU caches and its
 * lock: frees on another CPU than the allocation, double frees across
 * CPUs, bad frees with caches full, out of memory with every free frame in
 * other CPUs' caches (must steal), and a threaded model check: host CPUs
 * (threads) allocate, free, hand frames to each other and run dry at once,
 * and no frame is ever handed out twice or lost.  Built also under
 * ThreadSanitizer (it includes <pthread.h>), where a frame handed to two
 * threads shows as a data race on the frame's contents.
 * Pictures: M metadata, c cached on the CPU named, x allocated.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mm/platform.h"
#include "mm/pmm.h"
#include "mm/status.h"
#include "tests/host/harness.h"

#define MiB 0x100000ULL
#define PG  4096ULL
#define R(t, b_, n_) { .base = (b_), .size = (n_), .type = (t) }
#define N(a) (sizeof(a) / sizeof((a)[0]))
#define NOCACHE (MM_MAX_CPUS - 1)   /* a CPU without a cache on small maps */

/* Frames a test machine of `ram` bytes at 1 MiB has for callers. */
static uint64_t usable(const struct pmm *p)
{
	return p->total - p->meta_size / PG;
}

/*
 *   1M        1M + 16M
 *   |M x......|        x: allocated on CPU 1
 * Expect: a frame allocated on CPU 1 and freed on CPU 2 lands in CPU 2's
 * cache (CPU 2 gets it back first); counts exact throughout; a frame freed
 * on a CPU without a cache goes to the bitmap.
 */
static void test_free_on_other_cpu(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, 16 * MiB) };
	struct pmm p;
	uint64_t a, b, free0;

	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	free0 = pmm_free_frames(&p);
	CHECK(free0 == usable(&p), "free %llu", (unsigned long long)free0);
	host_set_cpu(1);
	REQUIRE_OK(pmm_alloc(&p, &a), "alloc on CPU 1");
	CHECK(pmm_free_frames(&p) == free0 - 1 && pmm_is_allocated(&p, a), "one taken");
	CHECK(pmm_cached_frames(&p) == PMM_PCP_BATCH, "CPU 1 refilled one batch: %llu",
	      (unsigned long long)pmm_cached_frames(&p));
	host_set_cpu(2);
	REQUIRE_OK(pmm_free(&p, a), "free on CPU 2");
	CHECK(!pmm_is_allocated(&p, a) && pmm_free_frames(&p) == free0, "back");
	REQUIRE_OK(pmm_alloc(&p, &b), "alloc on CPU 2");
	CHECK(b == a, "CPU 2's cache hands back %#llx, want %#llx", (unsigned long long)b,
	      (unsigned long long)a);
	host_set_cpu(NOCACHE);
	REQUIRE(p.ncpus <= NOCACHE, "CPU %u has a cache", NOCACHE);
	uint64_t bf = p.bitmap_free;
	REQUIRE_OK(pmm_free(&p, b), "free on a CPU without a cache");
	CHECK(p.bitmap_free == bf + 1 && pmm_free_frames(&p) == free0, "into the bitmap");
	host_set_cpu(0);
	CHECK(pmm_check(&p) == MM_OK, "check");
}

/*
 *   1M
 *   |M c1 ....|     frame a cached on CPU 1
 * Expect: freeing a again - on CPU 2, on CPU 1, on a CPU without a cache,
 * inside a pmm_free_contig - is MM_ENOENT "not allocated" with the
 * metadata byte-identical and the counts unchanged; a cached frame is not
 * allocated, cannot be tagged or untagged.  Control: the same frame, once
 * allocated again, frees fine.
 */
static void test_double_free_across_cpus(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, 16 * MiB) };
	struct pmm p;
	uint64_t a, free0;
	static uint8_t meta[PG * 4];
	static const unsigned cpus[] = { 2, 1, NOCACHE, 0 };

	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	REQUIRE(p.meta_size <= sizeof(meta), "meta %llu", (unsigned long long)p.meta_size);
	host_set_cpu(1);
	REQUIRE_OK(pmm_alloc(&p, &a), "alloc");
	REQUIRE_OK(pmm_free(&p, a), "free");
	free0 = pmm_free_frames(&p);
	memcpy(meta, p.bitmap, p.meta_size);
	for (unsigned i = 0; i < N(cpus); i++) {
		host_set_cpu(cpus[i]);
		host_capture_begin();
		int st = pmm_free(&p, a);
		const char *out = host_capture_end();
		CHECK(st == MM_ENOENT && strstr(out, "not allocated"), "CPU %u: %s, %s", cpus[i],
		      mm_status_str(st), out);
	}
	host_capture_begin();
	int st = pmm_free_contig(&p, a, 1);
	host_capture_end();
	CHECK(st == MM_ENOENT, "free_contig over a cached frame: %s", mm_status_str(st));
	CHECK(!pmm_is_allocated(&p, a) && !pmm_is_tagged(&p, a), "cached reads free");
	CHECK(pmm_tag(&p, a) == MM_ENOENT && pmm_untag(&p, a) == MM_ENOENT, "tag of a cached frame");
	CHECK(!memcmp(meta, p.bitmap, p.meta_size) && pmm_free_frames(&p) == free0,
	      "a refused free changed the metadata or the count");
	host_set_cpu(1);
	uint64_t b;
	REQUIRE_OK(pmm_alloc(&p, &b), "alloc again");
	CHECK(b == a, "got %#llx", (unsigned long long)b);
	host_set_cpu(2);
	CHECK(pmm_free(&p, a) == MM_OK, "control: the reallocated frame frees");
	host_set_cpu(0);
	CHECK(pmm_check(&p) == MM_OK, "check");
}

/*
 *   1M
 *   |M c0 c0 c0 ... (PMM_PCP_HIGH) x|
 * Expect: with CPU 0's cache full, frees of garbage are refused and change
 * nothing: misaligned, page 0, beyond RAM, 2^64 - 4096, the metadata, a
 * free frame; then a good free drains a batch and succeeds.  (The frames
 * come from one contiguous request, which bypasses the cache, so the
 * cache starts empty and holds exactly what is freed.)
 */
static void test_bad_frees_cache_full(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, 16 * MiB) };
	struct pmm p;
	uint64_t pa[PMM_PCP_HIGH + 1], free0, bf0;
	static uint8_t meta[PG * 4];
	static const uint64_t junk[] = { MiB + 3 * PG + 1, 0, 64ULL << 30, ~0ULL << 12,
					 MiB, MiB + 15 * MiB };

	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	REQUIRE_OK(pmm_alloc_contig(&p, PMM_PCP_HIGH + 1, PG, &pa[0]), "alloc");
	for (int i = 1; i <= PMM_PCP_HIGH; i++)
		pa[i] = pa[0] + i * PG;
	for (int i = 0; i < PMM_PCP_HIGH; i++)
		REQUIRE_OK(pmm_free(&p, pa[i]), "free %d", i);
	uint64_t cached = pmm_cached_frames(&p);
	REQUIRE(cached == PMM_PCP_HIGH, "cache holds %llu", (unsigned long long)cached);
	REQUIRE(!pmm_is_allocated(&p, MiB + 15 * MiB), "the last junk frame is free");
	free0 = pmm_free_frames(&p);
	bf0 = p.bitmap_free;
	memcpy(meta, p.bitmap, p.meta_size);
	for (unsigned i = 0; i < N(junk); i++) {
		host_capture_begin();
		int st = pmm_free(&p, junk[i]);
		const char *out = host_capture_end();
		CHECK(st != MM_OK && out[0], "junk %#llx: %s", (unsigned long long)junk[i],
		      mm_status_str(st));
	}
	CHECK(!memcmp(meta, p.bitmap, p.meta_size) && pmm_free_frames(&p) == free0,
	      "refused frees changed something");
	REQUIRE_OK(pmm_free(&p, pa[PMM_PCP_HIGH]), "good free into a full cache");
	CHECK(p.bitmap_free == bf0 + PMM_PCP_BATCH, "a batch drained: %llu -> %llu",
	      (unsigned long long)bf0, (unsigned long long)p.bitmap_free);
	CHECK(pmm_cached_frames(&p) == PMM_PCP_HIGH - PMM_PCP_BATCH + 1, "cached %llu",
	      (unsigned long long)pmm_cached_frames(&p));
	CHECK(pmm_free_frames(&p) == free0 + 1, "count");
	CHECK(pmm_check(&p) == MM_OK, "check");
}

/*
 *   1M        1M + 2M
 *   |M c1 c2 c3 x x x x|   every free frame in CPUs 1-3's caches
 * Expect: CPU 0 (empty cache, empty bitmap) gets every cached frame by
 * stealing, then MM_ENOMEM with exactly zero free; so does a CPU without a
 * cache; giving everything back restores the count exactly.  Contiguous
 * requests drain the caches too.
 */
static void test_oom_steals(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, 2 * MiB) };
	struct pmm p;
	static uint64_t pa[512];
	uint64_t n = 0, got = 0, free0, x;

	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	free0 = pmm_free_frames(&p);
	while (n < N(pa) && pmm_alloc(&p, &pa[n]) == MM_OK)
		n++;
	CHECK(n == free0 && pmm_free_frames(&p) == 0, "took %llu of %llu", (unsigned long long)n,
	      (unsigned long long)free0);
	/* Spread 3 x 40 frames over CPUs 1-3 (below their drain point). */
	for (uint64_t i = 0; i < 120; i++) {
		host_set_cpu(1 + i % 3);
		REQUIRE_OK(pmm_free(&p, pa[n - 1 - i]), "spread %llu", (unsigned long long)i);
	}
	CHECK(p.bitmap_free == 0 && pmm_cached_frames(&p) == 120, "bitmap %llu cached %llu",
	      (unsigned long long)p.bitmap_free, (unsigned long long)pmm_cached_frames(&p));
	host_set_cpu(0);
	while (pmm_alloc(&p, &x) == MM_OK)
		got++;
	CHECK(got == 120 && pmm_free_frames(&p) == 0, "CPU 0 stole %llu", (unsigned long long)got);
	/* Again, for a CPU without a cache. */
	for (uint64_t i = 0; i < 120; i++) {
		host_set_cpu(1 + i % 3);
		REQUIRE_OK(pmm_free(&p, pa[n - 1 - i]), "spread again %llu", (unsigned long long)i);
	}
	host_set_cpu(NOCACHE);
	for (got = 0; pmm_alloc(&p, &x) == MM_OK; got++)
		;
	CHECK(got == 120, "no-cache CPU stole %llu", (unsigned long long)got);
	/* Contiguous: 8 frames cached on CPU 1 in a row are found. */
	CHECK(pmm_free_frames(&p) == 0 && pmm_check(&p) == MM_OK, "dry: %llu",
	      (unsigned long long)pmm_free_frames(&p));
	/* pa[1..8] came from one refill, popped last first: 8 frames in a
	 * row, pa[8] the lowest. */
	host_set_cpu(1);
	for (uint64_t i = 1; i <= 8; i++)
		REQUIRE_OK(pmm_free(&p, pa[i]), "cache %llu", (unsigned long long)i);
	REQUIRE(pa[1] == pa[8] + 7 * PG, "pa[1] %#llx pa[8] %#llx", (unsigned long long)pa[1],
		(unsigned long long)pa[8]);
	x = 0;
	CHECK(pmm_alloc_contig(&p, 8, PG, &x) == MM_OK && x == pa[8], "contig from caches %#llx",
	      (unsigned long long)x);
	CHECK(pmm_alloc_contig(&p, 1ULL << 62, PG, &x) == MM_ENOMEM, "huge count");
	CHECK(pmm_alloc_contig(&p, 0, PG, &x) == MM_EINVAL, "count 0");
	host_capture_begin();
	CHECK(pmm_free_contig(&p, x, 1ULL << 62) == MM_ERANGE, "huge free count");
	CHECK(pmm_free_contig(&p, x, 0) == MM_EINVAL, "free count 0");
	CHECK(pmm_free_contig(&p, x, ~0ULL) == MM_EINVAL, "free count to 2^64");
	host_capture_end();
	REQUIRE_OK(pmm_free_contig(&p, x, 8), "free contig");
	host_set_cpu(0);
	CHECK(pmm_check(&p) == MM_OK, "check");
}

/* ---------------------------------------------------------------- threads */

#define THREADS  4
#define STEPS    20000
#define HOLD     96          /* frames a thread holds at most */
#define MAILBOX  64          /* frames in flight between threads */

/* The model: who holds each frame (0 nobody, else thread + 1), claimed
 * with compare-and-swap, so two holders of one frame are caught whatever
 * the interleaving. */
static uint32_t *holder;
static uint64_t model_frames;

struct mail {
	pthread_mutex_t lock;
	uint64_t pa[MAILBOX];
	unsigned n;
};

struct worker {
	struct pmm *p;
	unsigned id, cpu;
	uint64_t rng;
	uint64_t held[HOLD];
	unsigned nheld;
	unsigned long dup, lost, bad, enomem, steps;
	struct mail *mail;
};

static uint64_t wrnd(struct worker *w)
{
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * 2685821657736338717ULL;
}

/* Thread w now holds frame pa: record it, write its mark into the frame.
 * Returns 0 if another thread holds it (a frame handed out twice). */
static int take(struct worker *w, uint64_t pa)
{
	uint32_t none = 0;
	uint64_t f = pa / PG;

	if (f >= model_frames ||
	    !__atomic_compare_exchange_n(&holder[f], &none, w->id + 1, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED))
		return 0;
	*(uint64_t *)mm_phys_to_virt(pa) = pa ^ w->id;
	return 1;
}

/* Thread w gives frame pa up (checks its mark first). */
static int give(struct worker *w, uint64_t pa)
{
	uint32_t me = w->id + 1;
	int ok = *(uint64_t *)mm_phys_to_virt(pa) == (pa ^ w->id);

	return __atomic_compare_exchange_n(&holder[pa / PG], &me, 0, 0, __ATOMIC_ACQ_REL,
					   __ATOMIC_RELAXED) && ok;
}

/* One host CPU: allocate (single or a small contiguous run, released at
 * once), free, post frames to the mailbox for another thread to free, and
 * free what others posted - all against the model. */
static void *worker_run(void *arg)
{
	struct worker *w = arg;
	uint64_t pa;

	host_set_cpu(w->cpu);
	for (w->steps = 0; w->steps < STEPS; w->steps++) {
		unsigned r = (unsigned)(wrnd(w) % 100);
		if (r < 50 && w->nheld < HOLD) {
			int st = pmm_alloc(w->p, &pa);
			if (st == MM_ENOMEM) {
				w->enomem++;
			} else if (st != MM_OK || !take(w, pa)) {
				w->dup++;
			} else {
				w->held[w->nheld++] = pa;
			}
		} else if (r < 53) {
			uint64_t n = 2 + wrnd(w) % 7;
			if (pmm_alloc_contig(w->p, n, PG, &pa) == MM_OK) {
				for (uint64_t i = 0; i < n; i++)
					if (!take(w, pa + i * PG))
						w->dup++;
				for (uint64_t i = 0; i < n; i++)
					if (!give(w, pa + i * PG))
						w->lost++;
				if (pmm_free_contig(w->p, pa, n) != MM_OK)
					w->bad++;
			}
		} else if (r < 85 && w->nheld) {
			unsigned i = (unsigned)(wrnd(w) % w->nheld);
			pa = w->held[i];
			w->held[i] = w->held[--w->nheld];
			if (!give(w, pa))
				w->lost++;
			if (pmm_free(w->p, pa) != MM_OK)
				w->bad++;
		} else if (r < 93 && w->nheld) {   /* post one for another CPU */
			pthread_mutex_lock(&w->mail->lock);
			if (w->mail->n < MAILBOX) {
				pa = w->held[--w->nheld];
				if (!give(w, pa))
					w->lost++;
				w->mail->pa[w->mail->n++] = pa;
			}
			pthread_mutex_unlock(&w->mail->lock);
		} else {                         /* free one someone posted */
			pthread_mutex_lock(&w->mail->lock);
			int have = w->mail->n > 0;
			if (have)
				pa = w->mail->pa[--w->mail->n];
			pthread_mutex_unlock(&w->mail->lock);
			if (have && pmm_free(w->p, pa) != MM_OK)
				w->bad++;
		}
	}
	return NULL;
}

/* Runs THREADS workers on CPUs cpus[] over a machine of ram bytes, then
 * checks the model's verdicts, gives everything back, and checks the count
 * is back where it began and pmm_check passes. */
static void run_threads(uint64_t ram, const unsigned *cpus, int want_enomem)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, ram) };
	static struct pmm p;
	static struct worker w[THREADS];
	static struct mail mail = { PTHREAD_MUTEX_INITIALIZER, { 0 }, 0 };
	pthread_t t[THREADS];
	unsigned long enomem = 0;

	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	uint64_t free0 = pmm_free_frames(&p);
	model_frames = p.nframes;
	holder = calloc(model_frames, sizeof(*holder));
	REQUIRE(holder, "calloc");
	mail.n = 0;
	for (unsigned i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .p = &p, .id = i, .cpu = cpus[i],
					.rng = 0x9e3779b97f4a7c15ULL * (i + 1), .mail = &mail };
		pthread_create(&t[i], NULL, worker_run, &w[i]);
	}
	for (unsigned i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (unsigned i = 0; i < THREADS; i++) {
		CHECK(!w[i].dup && !w[i].lost && !w[i].bad,
		      "thread %u (CPU %u): %lu handed out twice, %lu lost/overwritten, %lu refused frees",
		      i, w[i].cpu, w[i].dup, w[i].lost, w[i].bad);
		enomem += w[i].enomem;
		for (unsigned j = 0; j < w[i].nheld; j++) {
			give(&w[i], w[i].held[j]);
			CHECK(pmm_free(&p, w[i].held[j]) == MM_OK, "final free");
		}
	}
	for (unsigned i = 0; i < mail.n; i++)
		CHECK(pmm_free(&p, mail.pa[i]) == MM_OK, "final mailbox free");
	CHECK(!want_enomem || enomem > 0, "the machine never ran dry");
	CHECK(pmm_free_frames(&p) == free0, "free %llu, was %llu", (unsigned long long)pmm_free_frames(&p),
	      (unsigned long long)free0);
	CHECK(pmm_check(&p) == MM_OK, "check");
	for (uint64_t f = 0; f < model_frames; f++)
		CHECK(!holder[f] || (f = model_frames, 0), "model: a frame still held");
	free(holder);
}

/* Expect: 4 CPUs with caches on a roomy machine (256 MiB): no frame handed
 * out twice, none lost, no good free refused, count exact at the end. */
static void test_threads_roomy(void)
{
	static const unsigned cpus[THREADS] = { 0, 1, 2, 3 };
	run_threads(256 * MiB, cpus, 0);
}

/* Expect: the same on a machine that runs dry all the time (1 MiB: 255
 * frames for 4 x 96 wanted), with one CPU without a cache: stealing races
 * with the owners' own allocations and frees. */
static void test_threads_dry(void)
{
	static const unsigned cpus[THREADS] = { 0, 1, 2, NOCACHE };
	run_threads(MiB, cpus, 1);
}

/* One CPU's cache as mm/pmm.c lays it out (asserted there): a 64-byte
 * header whose first word is the count, then PMM_PCP_HIGH slots. */
#define PCP_BYTES (64 + 8 * PMM_PCP_HIGH)
static uint32_t *pcp_count(struct pmm *p, unsigned cpu)
{
	return (uint32_t *)((char *)p->pcp + (size_t)cpu * PCP_BYTES);
}
static uint64_t *pcp_slot(struct pmm *p, unsigned cpu, unsigned i)
{
	return (uint64_t *)((char *)p->pcp + (size_t)cpu * PCP_BYTES + 64) + i;
}

/* xorshift64 for the where[] garbage. */
static uint64_t garbage_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 *   1M        1M + 16M
 *   |M ........|      where[]: garbage, half of it naming real slots
 * Expect: where[] is never initialised (mm/pmm.c theory 10), so garbage in
 * it must change nothing: 4 CPUs allocate every free frame, each once;
 * freeing each (on another CPU than its allocation) is accepted and a
 * second free of it refused; counts and pmm_check exact.  Control: a
 * where[] entry that names the live slot holding its frame makes that
 * frame read "cached" (not allocated) - the check the fast paths rely on
 * can fail.
 */
static void test_where_garbage(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, 16 * MiB) };
	static struct pmm p;
	static uint64_t pa[4096];
	static uint8_t seen[(MiB + 16 * MiB) / PG];
	uint64_t n = 0, free0, refused = 0, x = 0x9e3779b97f4a7c15ULL;

	memset(seen, 0, sizeof(seen));
	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	for (uint64_t f = 0; f < p.nframes; f++) {
		uint64_t g = garbage_next(&x);
		/* half: a valid-looking slot of CPUs 0-3; half: anything */
		p.where[f] = (uint16_t)(g & 1 ? (g >> 8) % (4 * PMM_PCP_HIGH) : g >> 16);
	}
	free0 = pmm_free_frames(&p);
	for (unsigned cpu = 0; n < N(pa); cpu = (cpu + 1) % 4) {
		host_set_cpu(cpu);
		if (pmm_alloc(&p, &pa[n]) != MM_OK)
			break;
		uint64_t f = pa[n] / PG;
		REQUIRE(f < N(seen), "frame %#llx beyond the map", (unsigned long long)pa[n]);
		CHECK(!seen[f], "frame %#llx handed out twice", (unsigned long long)pa[n]);
		seen[f] = 1;
		n++;
	}
	CHECK(n == free0 && pmm_free_frames(&p) == 0, "allocated %llu of %llu", (unsigned long long)n,
	      (unsigned long long)free0);
	for (uint64_t i = 0; i < n; i++) {
		host_set_cpu((unsigned)((i + 1) % 4));
		CHECK(pmm_free(&p, pa[i]) == MM_OK, "free %#llx refused", (unsigned long long)pa[i]);
		host_capture_begin();
		refused += pmm_free(&p, pa[i]) == MM_ENOENT;
		host_capture_end();
	}
	CHECK(refused == n, "second frees refused: %llu of %llu", (unsigned long long)refused,
	      (unsigned long long)n);
	host_set_cpu(0);
	CHECK(pmm_free_frames(&p) == free0 && pmm_check(&p) == MM_OK, "count %llu and check",
	      (unsigned long long)pmm_free_frames(&p));
	/* Control. */
	uint64_t y;
	REQUIRE_OK(pmm_alloc(&p, &y), "alloc");
	CHECK(pmm_is_allocated(&p, y), "allocated");
	uint32_t c0 = *pcp_count(&p, 0);
	REQUIRE(c0 > 0, "CPU 0 caches frames");
	uint64_t keep = *pcp_slot(&p, 0, 0);
	uint16_t wkeep = p.where[y / PG];
	*pcp_slot(&p, 0, 0) = y / PG;
	p.where[y / PG] = 0;            /* CPU 0, slot 0 */
	CHECK(!pmm_is_allocated(&p, y), "control: a where[] entry naming its live slot not seen");
	*pcp_slot(&p, 0, 0) = keep;
	p.where[y / PG] = wkeep;
	REQUIRE_OK(pmm_free(&p, y), "free");
	CHECK(pmm_check(&p) == MM_OK, "check");
}

/*
 *   1M        1M + 16M
 *   |M ccc.....|      c: cached on CPU 1
 * Expect: pmm_check accepts consistent caches and refuses each broken
 * one (each undone after): a frame in two slots, a slot whose where[]
 * entry names another slot, a cached frame free in the bitmap, a cached
 * frame tagged, a slot beyond the bitmap, a count above the limit.
 */
static void test_check_caches(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, 16 * MiB) };
	static struct pmm p;
	uint64_t x;

	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	host_set_cpu(1);
	REQUIRE_OK(pmm_alloc(&p, &x), "alloc");
	REQUIRE_OK(pmm_free(&p, x), "free");
	uint32_t n = *pcp_count(&p, 1);
	REQUIRE(n == PMM_PCP_BATCH + 1 && *pcp_slot(&p, 1, n - 1) == x / PG, "cache %u", n);
	REQUIRE(pmm_check(&p) == MM_OK, "consistent");
	uint64_t f0 = *pcp_slot(&p, 1, 0), f1 = *pcp_slot(&p, 1, 1);
	uint16_t w1 = p.where[f1];

	host_capture_begin();
	*pcp_slot(&p, 1, 1) = f0;                       /* f0 twice */
	CHECK(pmm_check(&p) == MM_EINVAL, "control: a frame in two slots");
	*pcp_slot(&p, 1, 1) = f1;
	p.where[f1] = (uint16_t)(1 * PMM_PCP_HIGH + 2);
	CHECK(pmm_check(&p) == MM_EINVAL, "control: where[] names another slot");
	p.where[f1] = w1;
	p.bitmap[f0 / 64] &= ~(1ULL << (f0 % 64));
	CHECK(pmm_check(&p) == MM_EINVAL, "control: a cached frame free in the bitmap");
	p.bitmap[f0 / 64] |= 1ULL << (f0 % 64);
	p.tags[f0 / 64] |= 1ULL << (f0 % 64);
	CHECK(pmm_check(&p) == MM_EINVAL, "control: a cached frame tagged");
	p.tags[f0 / 64] &= ~(1ULL << (f0 % 64));
	*pcp_slot(&p, 1, 0) = p.nframes;
	CHECK(pmm_check(&p) == MM_EINVAL, "control: a slot beyond the bitmap");
	*pcp_slot(&p, 1, 0) = f0;
	*pcp_count(&p, 1) = PMM_PCP_HIGH + 1;
	CHECK(pmm_check(&p) == MM_EINVAL, "control: a count above the limit");
	*pcp_count(&p, 1) = n;
	host_capture_end();
	CHECK(pmm_check(&p) == MM_OK, "controls undone");
	host_set_cpu(0);
}

/*
 *   1M        1M + 16M
 *   |M xxxxcxxxx|      x: 128 frames allocated together, c: one of them
 *                      freed into CPU 1's cache
 * Expect: a free of the whole run (pmm_free_contig, pmm_free_bulk) is
 * refused at the cached frame with nothing changed: a run longer than the
 * caches' live slots is checked by reading the slots, a bulk free through
 * its filter of the cached frames - neither may miss it.  Then the frame
 * back from the cache (allocated again), the same frees succeed.
 */
static void test_long_runs_see_cached(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, 16 * MiB) };
	static struct pmm p;
	static uint8_t meta[64 * 4096];
	static uint64_t list[128];
	uint64_t r, x, free0;
	char want[32];

	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	REQUIRE(p.meta_size <= sizeof(meta), "meta %llu", (unsigned long long)p.meta_size);
	host_set_cpu(1);
	REQUIRE_OK(pmm_alloc_contig(&p, 128, PG, &r), "run");
	REQUIRE_OK(pmm_free(&p, r + 77 * PG), "one frame into the cache");
	REQUIRE(*pcp_count(&p, 1) == 1 && !pmm_is_allocated(&p, r + 77 * PG), "cached");
	free0 = pmm_free_frames(&p);
	memcpy(meta, p.bitmap, p.meta_size);
	snprintf(want, sizeof(want), "0x%llx", (unsigned long long)(r + 77 * PG));
	host_set_cpu(2);
	host_capture_begin();
	int st = pmm_free_contig(&p, r, 128);
	const char *out = host_capture_end();
	CHECK(st == MM_ENOENT && strstr(out, want), "free_contig over a cached frame: %s, %s",
	      mm_status_str(st), out);
	for (int i = 0; i < 128; i++)
		list[i] = r + (uint64_t)((i + 78) % 128) * PG;   /* the cached one last */
	host_capture_begin();
	st = pmm_free_bulk(&p, 128, list);
	out = host_capture_end();
	CHECK(st == MM_ENOENT && strstr(out, want) && strstr(out, "entry 127 of 128"),
	      "free_bulk over a cached frame: %s, %s", mm_status_str(st), out);
	CHECK(!memcmp(meta, p.bitmap, p.meta_size) && pmm_free_frames(&p) == free0,
	      "a refused free changed the metadata or the count");
	host_set_cpu(1);
	REQUIRE_OK(pmm_alloc(&p, &x), "take it back");
	REQUIRE(x == r + 77 * PG, "the cached frame came back: %#llx", (unsigned long long)x);
	REQUIRE_OK(pmm_free_bulk(&p, 64, list), "bulk free of half");
	REQUIRE_OK(pmm_free_contig(&p, list[64], 128 - 64 - 50), "contig free of a part");
	for (int i = 64 + 14; i < 128; i++)
		REQUIRE_OK(pmm_free(&p, list[i]), "the rest %d", i);
	host_set_cpu(0);
	CHECK(pmm_free_frames(&p) == free0 + 127 && pmm_check(&p) == MM_OK,
	      "count %llu want %llu", (unsigned long long)pmm_free_frames(&p),
	      (unsigned long long)(free0 + 127));
}

/* The owner of the cache an asker needs: frees its frames into its cache,
 * then waits for the asker, answering drain requests as a CPU spinning on
 * a lock does (mm_wait_serve). */
struct ask_owner {
	struct pmm *p;
	uint64_t *pa, n;
	int ready, done, freed;
};

static void *ask_owner_run(void *arg)
{
	struct ask_owner *o = arg;

	host_set_cpu(1);
	for (uint64_t i = 0; i < o->n; i++)
		o->freed += pmm_free(o->p, o->pa[i]) == MM_OK;
	__atomic_store_n(&o->ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&o->done, __ATOMIC_ACQUIRE))
		mm_wait_serve();
	return NULL;
}

/*
 *   1M  1M + 1M
 *   |M c1c1..xx|     c1: cached on CPU 1, a running thread
 * Expect: the thread running CPU 1 is asked for its cached frames, not
 * drained behind its back: CPU 2 (the main thread) allocates every free
 * frame, then MM_ENOMEM, with nothing free; the thread's cache is empty
 * afterwards and pmm_check passes.
 */
static void test_ask_running_owner(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, MiB) };
	static struct pmm p;
	static uint64_t pa[256];
	struct ask_owner o = { .p = &p, .pa = pa };
	pthread_t t;
	uint64_t got = 0, x;

	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	uint64_t free0 = pmm_free_frames(&p);
	host_set_cpu(2);
	while (o.n < N(pa) && pmm_alloc(&p, &pa[o.n]) == MM_OK)
		o.n++;
	REQUIRE(o.n == free0, "took %llu of %llu", (unsigned long long)o.n, (unsigned long long)free0);
	REQUIRE(pthread_create(&t, NULL, ask_owner_run, &o) == 0, "thread");
	while (!__atomic_load_n(&o.ready, __ATOMIC_ACQUIRE))
		mm_cpu_relax();
	CHECK(o.freed == (int)o.n, "owner freed %d", o.freed);
	CHECK(*pcp_count(&p, 1) > 0 && mm_cpu_running(1), "CPU 1 runs and caches %u frames",
	      *pcp_count(&p, 1));
	while (pmm_alloc(&p, &x) == MM_OK)
		got++;
	CHECK(got == free0, "CPU 2 got %llu of %llu", (unsigned long long)got, (unsigned long long)free0);
	CHECK(pmm_free_frames(&p) == 0 && *pcp_count(&p, 1) == 0, "free %llu, CPU 1 caches %u",
	      (unsigned long long)pmm_free_frames(&p), *pcp_count(&p, 1));
	__atomic_store_n(&o.done, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	CHECK(!mm_cpu_running(1), "CPU 1 stopped running with its thread");
	CHECK(pmm_check(&p) == MM_OK, "check");
	host_set_cpu(0);
}

/* Control: the model catches a frame handed out twice (the verdict the
 * threaded tests rely on can fail). */
static void test_control_model_sees_duplicates(void)
{
	struct worker a = { .id = 0 }, b = { .id = 1 };

	model_frames = 16;
	holder = calloc(model_frames, sizeof(*holder));
	REQUIRE(holder, "calloc");
	CHECK(take(&a, 3 * PG), "first take");
	CHECK(!take(&b, 3 * PG), "second take of the same frame not caught");
	CHECK(!give(&b, 3 * PG), "give by a non-holder not caught");
	*(uint64_t *)mm_phys_to_virt(3 * PG) ^= 1;
	CHECK(!give(&a, 3 * PG), "an overwritten frame not caught");
	free(holder);
}

int main(void)
{
	RUN(test_free_on_other_cpu);
	RUN(test_double_free_across_cpus);
	RUN(test_bad_frees_cache_full);
	RUN(test_oom_steals);
	RUN(test_where_garbage);
	RUN(test_check_caches);
	RUN(test_long_runs_see_cached);
	RUN(test_ask_running_owner);
	RUN(test_threads_roomy);
	RUN(test_threads_dry);
	RUN(test_control_model_sees_duplicates);
	return harness_done("pmm_pcp");
}
