/*
 * tests/host/test_pmm_random.c - the frame allocator against a reference
 * model: 1.2M random operations (single, contiguous and aligned allocations,
 * 2 MiB-aligned runs with and without a tail (the free-block map), bulk
 * allocations and frees, single and multi-frame frees, bad frees, bulk
 * frees with one bad entry) on a map with holes.
 *
 * The model is an owner per frame (0 free, HOLE not managed, else the id of
 * the live allocation) and a free count.  After every step: every frame
 * the allocator returned was free in the model (so each frame has exactly
 * one owner), it is now allocated in the allocator, and the allocator's free
 * count equals the model's.  A bad free must fail and change nothing.  Every
 * 100k steps, and at the end, a full scan compares every frame and runs
 * pmm_check.  Phases alternate between filling and draining memory so the
 * allocator runs nearly full, fragmented, and out of memory.  Every step
 * runs on a host CPU picked at random (four with frame caches, one
 * without), so frames go back on other CPUs than they came from, bad frees
 * hit frames cached elsewhere, and running dry means stealing from the
 * other caches: the model counts cached frames as free, and an ENOMEM for
 * a single frame is right only when the model has none free.
 */
#include <stdlib.h>
#include <string.h>

#include "mm/platform.h"
#include "mm/pmm.h"
#include "mm/status.h"
#include "tests/host/harness.h"

#define KiB 0x400ULL
#define MiB 0x100000ULL
#define PG  4096ULL
#define R(t, b_, n_) { .base = (b_), .size = (n_), .type = (t) }

#define STEPS       1200000
#define PHASE       20000    /* steps per fill / drain phase */
#define SCAN_EVERY  100000   /* full comparison interval */
#define HOLE        UINT32_MAX

/*
 *   4K  640K 1M        97M  98M      200M 201M     257M+12K
 *   |UUU|    |UUUUUUUUU|RRRR|UUUUUUUU|AAAA|UUUUUUUU|
 * (the bitmap comes out of the first region above 1M)
 */
static const struct mm_region map[] = {
	R(MR_USABLE, PG, 636 * KiB), R(MR_RESERVED, 640 * KiB, 384 * KiB),
	R(MR_USABLE, MiB, 96 * MiB), R(MR_RESERVED, 97 * MiB, MiB),
	R(MR_USABLE, 98 * MiB, 102 * MiB), R(MR_ACPI_DATA, 200 * MiB, MiB),
	R(MR_USABLE, 201 * MiB, 56 * MiB + 12 * KiB),
};
#define NMAP (sizeof(map) / sizeof(map[0]))

struct live {
	uint64_t frame, count;
	uint32_t id;
};

static uint32_t *owner;       /* per frame */
static struct live *lives;
static size_t nlive;
static uint64_t model_free, nframes;
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

/* xorshift64*: deterministic, so a failure replays. */
static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

/* Returns 1 if the model has count free frames from an align-frame multiple. */
static int model_has_run(uint64_t count, uint64_t align)
{
	for (uint64_t f = 0; f + count <= nframes; f += align) {
		uint64_t i = 0;
		while (i < count && owner[f + i] == 0)
			i++;
		if (i == count)
			return 1;
	}
	return 0;
}

/* Records a successful allocation of [f, f + count). Returns 0 on a
 * violation (already reported). */
static int model_alloc(uint64_t f, uint64_t count, uint64_t align, uint32_t id, int step)
{
	if (f % align || f + count > nframes) {
		CHECK(0, "step %d: frame %#llx count %llu align %llu", step, (unsigned long long)f,
		      (unsigned long long)count, (unsigned long long)align);
		return 0;
	}
	for (uint64_t i = f; i < f + count; i++) {
		if (owner[i] != 0) {
			CHECK(0, "step %d: frame %#llx handed out but owned by %u", step,
			      (unsigned long long)(i * PG), owner[i]);
			return 0;
		}
		owner[i] = id;
	}
	model_free -= count;
	lives[nlive++] = (struct live){ .frame = f, .count = count, .id = id };
	return 1;
}

/* Full comparison of every frame; returns 0 on a violation. */
static int full_scan(const struct pmm *p, int step)
{
	for (uint64_t f = 0; f < nframes; f++) {
		int alloc = pmm_is_allocated(p, f * PG), ram = pmm_is_ram(p, f * PG);
		int meta = f * PG >= p->meta_pa && f * PG < p->meta_pa + p->meta_size;
		int want_alloc = owner[f] != 0 && owner[f] != HOLE;
		if (meta ? !alloc : (alloc != want_alloc || ram != (owner[f] != HOLE))) {
			CHECK(0, "step %d: frame %#llx owner %u allocated %d ram %d", step,
			      (unsigned long long)(f * PG), owner[f], alloc, ram);
			return 0;
		}
	}
	CHECK(pmm_check(p) == MM_OK, "step %d: pmm_check", step);
	return 1;
}

static void test_random(void)
{
	struct pmm p;
	uint32_t next_id = 1;
	uint64_t pa, free0;
	int fill = 1;
	unsigned long n_alloc = 0, n_contig = 0, n_free = 0, n_enomem = 0, n_bad = 0, n_bulk = 0;

	int st0 = pmm_init(&p, map, NMAP);
	REQUIRE(st0 == MM_OK, "init %s", mm_status_str(st0));
	nframes = p.nframes;
	REQUIRE(p.ncpus > 3 && p.ncpus < MM_MAX_CPUS, "caches %u", p.ncpus);
	owner = calloc(nframes, sizeof(*owner));
	lives = calloc(nframes, sizeof(*lives));
	REQUIRE(owner && lives, "calloc");
	for (uint64_t f = 0; f < nframes; f++)
		owner[f] = HOLE;
	for (size_t i = 0; i < NMAP; i++)
		if (map[i].type == MR_USABLE)
			for (uint64_t f = map[i].base / PG; f < (map[i].base + map[i].size) / PG; f++)
				owner[f] = 0;
	for (uint64_t f = p.meta_pa / PG; f < (p.meta_pa + p.meta_size) / PG; f++)
		owner[f] = HOLE;            /* the bitmap: allocated, never freeable */
	model_free = p.total - p.meta_size / PG;
	CHECK(pmm_free_frames(&p) == model_free, "initial free %llu model %llu", (unsigned long long)pmm_free_frames(&p),
	      (unsigned long long)model_free);

	for (int step = 0; step < STEPS; step++) {
		if (step % PHASE == 0)
			fill = !fill;
		static const unsigned cpus[] = { 0, 1, 2, 3, MM_MAX_CPUS - 1 };
		host_set_cpu(cpus[rnd() % 5]);
		unsigned r = (unsigned)(rnd() % 100);
		unsigned alloc_pct = fill ? 70 : 30;

		if (r < 5) {                         /* a bad free */
			uint64_t f = rnd() % (nframes + 64);
			if (f < nframes && owner[f] != 0 && owner[f] != HOLE)
				continue;                /* that would be a good free */
			int meta = f * PG >= p.meta_pa && f * PG < p.meta_pa + p.meta_size;
			int want = f < nframes && owner[f] == 0 ? MM_ENOENT : MM_ERANGE;
			free0 = pmm_free_frames(&p);
			host_capture_begin();
			int st = rnd() & 1 ? pmm_free(&p, f * PG) : pmm_free_contig(&p, f * PG, 1 + rnd() % 4);
			host_capture_end();
			if (meta)
				want = MM_ERANGE;
			/* a multi-frame free may run from a free frame into a hole */
			REQUIRE(st == want || (st != MM_OK && want == MM_ENOENT),
				"step %d: bad free of %#llx gave %s", step,
				(unsigned long long)(f * PG), mm_status_str(st));
			REQUIRE(pmm_free_frames(&p) == free0, "step %d: bad free changed the count", step);
			n_bad++;
		} else if (r < 5 + alloc_pct) {      /* an allocation */
			unsigned kind = (unsigned)(rnd() % 10);
			uint64_t count = 1, align = 1;
			int st;
			if (kind < 6) {
				st = pmm_alloc(&p, &pa);
			} else if (kind < 9) {
				count = 1 + rnd() % 64;
				st = pmm_alloc_contig(&p, count, PG, &pa);
			} else if (kind < 9 || rnd() % 2) {
				static const uint64_t sizes[][2] = { { 8, 8 }, { 64, 64 }, { 512, 512 },
					{ 600, 512 }, { 1024, 1024 }, { 1100, 512 } };
				const uint64_t *sz = sizes[rnd() % 6];
				count = sz[0];
				align = sz[1];
				st = pmm_alloc_contig(&p, count, align * PG, &pa);
			} else {                     /* bulk: n single frames */
				static uint64_t bulk[64];
				uint64_t n = 1 + rnd() % 64;
				st = pmm_alloc_bulk(&p, n, bulk);
				if (st == MM_ENOMEM) {
					n_enomem++;
					REQUIRE(model_free < n, "step %d: bulk ENOMEM for %llu with %llu free",
						step, (unsigned long long)n, (unsigned long long)model_free);
					continue;
				}
				REQUIRE(st == MM_OK, "step %d: bulk gave %s", step, mm_status_str(st));
				for (uint64_t i = 0; i < n; i++)
					if (!model_alloc(bulk[i] / PG, 1, 1, next_id++, step))
						return;
				if (next_id >= HOLE - 64)
					next_id = 1;
				n_bulk += n;
				goto counted;
			}
			if (st == MM_ENOMEM) {
				n_enomem++;
				if (count == 1)
					REQUIRE(model_free == 0, "step %d: ENOMEM with %llu free",
						step, (unsigned long long)model_free);
				else if (n_enomem % 64 == 0)
					REQUIRE(!model_has_run(count, align),
						"step %d: ENOMEM for %llu/%llu but a run exists",
						step, (unsigned long long)count, (unsigned long long)align);
				continue;
			}
			REQUIRE(st == MM_OK, "step %d: alloc gave %s", step, mm_status_str(st));
			if (!model_alloc(pa / PG, count, align, next_id++, step))
				return;
			REQUIRE(pmm_is_allocated(&p, pa) && pmm_is_allocated(&p, pa + (count - 1) * PG),
				"step %d: returned frames not marked", step);
			if (next_id == HOLE)
				next_id = 1;
			count == 1 ? n_alloc++ : n_contig++;
counted:;
		} else if (nlive > 0 && rnd() % 4 == 0) {   /* a bulk free of singles */
			static uint64_t list[17];
			static size_t idx[16];
			size_t n = 0;
			for (int t = 0; t < 32 && n < 16; t++) {
				size_t i = (size_t)(rnd() % nlive);
				int dup = 0;
				for (size_t j = 0; j < n; j++)
					dup |= idx[j] == i;
				if (lives[i].count == 1 && !dup) {
					idx[n] = i;
					list[n++] = lives[i].frame * PG;
				}
			}
			if (n == 0)
				continue;
			if (rnd() % 3 == 0) {        /* one bad entry: all refused */
				uint64_t f = rnd() % nframes;
				list[n] = rnd() % 2 ? list[rnd() % n] : f * PG;
				if (owner[f] != 0 && owner[f] != HOLE && list[n] == f * PG)
					continue;            /* that entry would be good */
				free0 = pmm_free_frames(&p);
				host_capture_begin();
				int st = pmm_free_bulk(&p, n + 1, list);
				const char *txt = host_capture_end();
				REQUIRE(st != MM_OK && strstr(txt, "pmm_free_bulk"),
					"step %d: bad bulk free gave %s", step, mm_status_str(st));
				REQUIRE(pmm_free_frames(&p) == free0, "step %d: refused bulk free changed the count", step);
				for (size_t j = 0; j < n; j++)
					REQUIRE(pmm_is_allocated(&p, list[j]), "step %d: refused bulk free freed %#llx",
						step, (unsigned long long)list[j]);
				n_bad++;
				continue;
			}
			int st = pmm_free_bulk(&p, n, list);
			REQUIRE(st == MM_OK, "step %d: bulk free of %zu gave %s", step, n, mm_status_str(st));
			/* retire the lives, highest index first (swap-remove) */
			for (size_t a = 0; a < n; a++)
				for (size_t b = a + 1; b < n; b++)
					if (idx[b] > idx[a]) {
						size_t t = idx[a];
						idx[a] = idx[b];
						idx[b] = t;
					}
			for (size_t j = 0; j < n; j++) {
				owner[lives[idx[j]].frame] = 0;
				lives[idx[j]] = lives[--nlive];
			}
			model_free += n;
			n_free += n;
		} else if (nlive > 0) {              /* a good free */
			size_t i = (size_t)(rnd() % nlive);
			struct live l = lives[i];
			int st = l.count == 1 ? pmm_free(&p, l.frame * PG)
					      : pmm_free_contig(&p, l.frame * PG, l.count);
			REQUIRE(st == MM_OK, "step %d: free of %#llx+%llu gave %s", step,
				(unsigned long long)(l.frame * PG), (unsigned long long)l.count,
				mm_status_str(st));
			for (uint64_t f = l.frame; f < l.frame + l.count; f++)
				owner[f] = 0;
			model_free += l.count;
			lives[i] = lives[--nlive];
			n_free++;
		}
		REQUIRE(pmm_free_frames(&p) == model_free, "step %d: free %llu model %llu", step,
			(unsigned long long)pmm_free_frames(&p), (unsigned long long)model_free);
		if (step % SCAN_EVERY == SCAN_EVERY - 1 && !full_scan(&p, step))
			return;
	}
	host_set_cpu(0);
	full_scan(&p, STEPS);
	printf("pmm_random: %lu single, %lu contiguous, %lu bulk frames, %lu frees, %lu ENOMEM, %lu bad frees\n",
	       n_alloc, n_contig, n_bulk, n_free, n_enomem, n_bad);
	free(owner);
	free(lives);
}

int main(void)
{
	RUN(test_random);
	return harness_done("pmm_random");
}
