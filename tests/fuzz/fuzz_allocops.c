/*
 * tests/fuzz/fuzz_allocops.c - libFuzzer harness for the allocators as a
 * whole: sequences of good and bad calls over pmm + vaddr + paging + kalloc
 * + mem_map_addr on a small machine (tests/host/mm_fixture.h, 4 MiB of RAM
 * so that running dry is common), checked against a model that knows who
 * owns every frame and every block.
 *
 * The model (independent of mm/'s bookkeeping):
 *   - frames[]: which model allocation owns each RAM frame, or nobody (free
 *     or used inside mm/ for tables, nodes, the bitmap - the model cannot
 *     tell those apart and does not need to);
 *   - recs[]: every live allocation, with how it must be freed;
 *   - every frame the model owns carries a pattern in its first and last 8
 *     bytes, written through the direct map when it was handed out.
 *
 * After every call:
 *   - a frame handed out is not owned by anyone in the model (no frame
 *     handed out twice), and every owned frame is still allocated and still
 *     carries its pattern (no frame handed to mm/ internals or junk-filled
 *     behind its owner's back);
 *   - a frame is tagged exactly when it is a kalloc direct-map page.
 * Bad calls (wrong API, wrong size, stale pointer, double free, ranges
 * partly mapped or inside another API's block, foreign and metadata
 * frames) must return an error, print a report, and change nothing: the
 * pmm metadata bytes, both vaddr lists, the table count and every live
 * leaf entry are compared before and after.  Every few calls and at the
 * end: pmm_check, virtaddr_check, ptcheck.  Teardown frees everything
 * through the right APIs: the free count must be back to where it began.
 *
 * Each step runs on a host CPU chosen by the op byte's high bits (CPUs 0-3
 * have frame caches on this machine, CPU MM_MAX_CPUS - 1 has none), so
 * frames are allocated on one CPU and freed on another, double frees hit
 * frames cached on another CPU, and allocations steal from other caches
 * when the machine runs dry.
 *
 * Single frames also come from pmm_alloc_bulk (a record each) and go
 * back through pmm_free_bulk, several records at once; contiguous
 * requests include 2 MiB-aligned ones (the free-block map), and a bulk
 * free with one bad entry (listed twice, free or cached, a kalloc page,
 * misaligned, or n 0) must be refused whole.
 *
 * Input: a sequence of 4-byte steps [op, a, b, c].
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/bitops.h"
#include "mm/kalloc.h"
#include "mm/layout.h"
#include "mm/paging.h"
#include "mm/platform.h"
#include "mm/ptcheck.h"
#include "tests/host/mm_fixture.h"
#include "tools/host_platform.h"

#define RAM        (4ULL << 20)
#define NFRAMES    ((FIX_RAM_BASE + RAM) >> PAGE_SHIFT)
#define MAXREC     64
#define MAXSTALE   16
#define MAXSTEPS   400
#define MAXPAGES   8

/* ---------------------------------------------------------------- model */

enum rec_kind {
	R_NONE, R_PMM, R_CONTIG, R_KALLOC, R_VBLOCK, R_MAPADDR,
};

/* How a caller's window block is mapped. */
enum vmap { V_NONE, V_OWNED, V_BORROWED };

struct rec {
	int kind;
	uint64_t pa;        /* R_PMM, R_CONTIG; R_VBLOCK borrowed frames; R_MAPADDR */
	uint64_t va;        /* R_KALLOC (pointer), R_VBLOCK, R_MAPADDR (as returned) */
	uint64_t n;         /* frames / pages */
	uint64_t size;      /* R_KALLOC, R_MAPADDR: the size passed */
	int flags;          /* R_KALLOC flags; R_VBLOCK enum vmap */
	int direct;         /* R_KALLOC: a direct-map page */
};

static struct rec recs[MAXREC];
static struct rec stale[MAXSTALE];
static unsigned nstale;
static uint32_t owner_of[NFRAMES];   /* 0 = nobody, else record index + 1 */
static uint64_t gen_of[NFRAMES];     /* pattern generation of an owned frame */
static uint64_t gen;

static struct addrspace as;
static struct virtaddr_space kwin, user;
static struct pmm *pmm;
static uint64_t free0;

/* The model's own loops are not coverage the fuzzer should chase (and the
 * comparison tracing would dominate the run time). */
#define MODEL __attribute__((no_sanitize("coverage")))

/* Reports a finding and stops: libFuzzer records the input. */
#define FAIL(...) do { fprintf(stderr, "fuzz_allocops: " __VA_ARGS__); \
		fprintf(stderr, "\n"); abort(); } while (0)

MODEL static uint64_t pattern(uint64_t pa, uint64_t g)
{
	return (pa * 0x9e3779b97f4a7c15ULL) ^ (g << 1) ^ 0x5a5a;
}

/* Takes frame pa for record r: it must be RAM, allocated and nobody's. */
static void own(uint64_t pa, unsigned r)
{
	uint64_t f = pa >> PAGE_SHIFT;
	if ((pa & PAGE_MASK) || f >= NFRAMES || !pmm_is_ram(pmm, pa))
		FAIL("handed out 0x%llx, not a RAM frame", (unsigned long long)pa);
	if (owner_of[f])
		FAIL("frame 0x%llx handed out twice (record %u owns it)", (unsigned long long)pa,
		     owner_of[f] - 1);
	if (!pmm_is_allocated(pmm, pa))
		FAIL("handed out frame 0x%llx is free in the pmm", (unsigned long long)pa);
	owner_of[f] = r + 1;
	gen_of[f] = ++gen;
	uint64_t *p = mm_phys_to_virt(pa);
	p[0] = p[PAGE_SIZE / 8 - 1] = pattern(pa, gen);
}

/* Gives frame pa of record r back to nobody. */
static void disown(uint64_t pa, unsigned r)
{
	uint64_t f = pa >> PAGE_SHIFT;
	if (owner_of[f] != r + 1)
		FAIL("model: frame 0x%llx is not record %u's", (unsigned long long)pa, r);
	owner_of[f] = 0;
}

/* Returns the frame va maps in as (0 if none). */
static uint64_t frame_at(uint64_t va)
{
	uint64_t pa, pte;
	return paging_query(&as, va, &pa, &pte) == MM_OK ? pa : 0;
}

/* Owns / disowns the frames of mapped pages [va, +n). */
static void own_mapped(uint64_t va, uint64_t n, unsigned r, int take)
{
	for (uint64_t i = 0; i < n; i++) {
		uint64_t pa = frame_at(va + i * PAGE_SIZE);
		if (!pa)
			FAIL("page 0x%llx of record %u is not mapped", (unsigned long long)(va + i * PAGE_SIZE), r);
		if (take)
			own(pa, r);
		else
			disown(pa, r);
	}
}

/* Checks every owned frame: allocated, pattern intact; tags exactly on
 * kalloc direct-map pages. */
MODEL static void check_frames(void)
{
	for (uint64_t f = FIX_RAM_BASE >> PAGE_SHIFT; f < NFRAMES; f++) {
		uint64_t pa = f << PAGE_SHIFT;
		unsigned o = owner_of[f];
		if (!o) {   /* the tag bit itself: cheaper than pmm_is_tagged per frame */
			if (f < pmm->nframes && (pmm->tags[bit_word(f)] >> bit_index(f) & 1))
				FAIL("frame 0x%llx is tagged but no kalloc page", (unsigned long long)pa);
			continue;
		}
		int want_tag = recs[o - 1].kind == R_KALLOC && recs[o - 1].direct;
		if (pmm_is_tagged(pmm, pa) != want_tag)
			FAIL("frame 0x%llx: tagged %d, model says %d", (unsigned long long)pa,
			     pmm_is_tagged(pmm, pa), want_tag);
		const uint64_t *p = mm_phys_to_virt(pa);
		uint64_t want = pattern(pa, gen_of[f]);
		if (!pmm_is_allocated(pmm, pa) || p[0] != want || p[PAGE_SIZE / 8 - 1] != want)
			FAIL("frame 0x%llx of record %u: allocated %d, pattern %llx %llx (want %llx)",
			     (unsigned long long)pa, o - 1, pmm_is_allocated(pmm, pa),
			     (unsigned long long)p[0], (unsigned long long)p[PAGE_SIZE / 8 - 1],
			     (unsigned long long)want);
	}
}

/* The expensive whole-structure checks. */
static void check_all(void)
{
	host_capture_begin();
	int bad = pmm_check(pmm) != MM_OK || virtaddr_check(&kwin) || virtaddr_check(&user) ||
		  ptcheck(&as, pmm, NULL);
	const char *out = host_capture_end();
	if (bad)
		FAIL("structure check failed:\n%s", out);
}

/* ---------------------------------------------------------------- snapshots */

struct snap {
	uint8_t meta[PAGE_SIZE * 2];
	uint64_t free, tables, kwin_h, user_h, pte_h;
};

MODEL static uint64_t mix(uint64_t h, uint64_t v)
{
	return (h ^ v) * 0x100000001b3ULL;
}

MODEL static uint64_t list_hash(const struct virtaddr_space *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const struct virtaddr_block *b;
	for_each_virtaddr_block(s, b)
		h = mix(mix(mix(h, b->base), b->size), b->owner);
	return mix(mix(h, s->nused), s->used_bytes);
}

/* Hash of the leaf entries of every live mapping and of [va, +n). */
MODEL static uint64_t pte_hash(uint64_t va, uint64_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL, pa, pte;
	for (unsigned r = 0; r < MAXREC; r++) {
		const struct rec *x = &recs[r];
		if (!x->va || (x->kind == R_KALLOC && x->direct))
			continue;
		uint64_t base = PAGE_ROUND_DOWN(x->va);
		for (uint64_t i = 0; i < x->n; i++)
			h = mix(h, paging_query(&as, base + i * PAGE_SIZE, &pa, &pte) == MM_OK ? pte : 1);
	}
	for (uint64_t i = 0; i < n && i < 64; i++)
		h = mix(h, paging_query(&as, va + i * PAGE_SIZE, &pa, &pte) == MM_OK ? pte : 1);
	return h;
}

MODEL static void take_snap(struct snap *s, uint64_t va, uint64_t n)
{
	if (pmm->meta_size > sizeof(s->meta))
		FAIL("metadata larger than the snapshot buffer");
	memcpy(s->meta, mm_phys_to_virt(pmm->meta_pa), pmm->meta_size);
	s->free = pmm_free_frames(pmm);
	s->tables = as.table_pages;
	s->kwin_h = list_hash(&kwin);
	s->user_h = list_hash(&user);
	s->pte_h = pte_hash(va, n);
}

/* A bad call: rc must be an error with a report, and nothing changed. */
static void expect_refused(const char *what, int rc, const char *out, const struct snap *before,
			   uint64_t va, uint64_t n)
{
	struct snap after;
	take_snap(&after, va, n);
	if (rc == MM_OK)
		FAIL("%s: accepted a bad call", what);
	if (!out[0])
		FAIL("%s: refused (%s) without a report", what, mm_status_str(rc));
	if (memcmp(before->meta, after.meta, pmm->meta_size))
		FAIL("%s: refused, but the pmm metadata changed", what);
	if (before->free != after.free || before->tables != after.tables ||
	    before->kwin_h != after.kwin_h || before->user_h != after.user_h ||
	    before->pte_h != after.pte_h)
		FAIL("%s: refused, but free %llu->%llu tables %llu->%llu lists/leaves %d%d%d changed",
		     what, (unsigned long long)before->free, (unsigned long long)after.free,
		     (unsigned long long)before->tables, (unsigned long long)after.tables,
		     before->kwin_h != after.kwin_h, before->user_h != after.user_h,
		     before->pte_h != after.pte_h);
}

/* Runs bad call `call` (an int expression) on [va, +n) under a snapshot. */
#define BAD(what, va, n, call) do { struct snap b_; take_snap(&b_, (va), (n)); \
		host_capture_begin(); int rc_ = (call); const char *o_ = host_capture_end(); \
		expect_refused((what), rc_, o_, &b_, (va), (n)); } while (0)

/* ---------------------------------------------------------------- records */

static int free_slot(void)
{
	for (int i = 0; i < MAXREC; i++)
		if (recs[i].kind == R_NONE)
			return i;
	return -1;
}

/* Returns the index of the k-th live record of kind (any kind if 0), or -1. */
MODEL static int pick(int kind, unsigned k)
{
	int live[MAXREC], n = 0;
	for (int i = 0; i < MAXREC; i++)
		if (recs[i].kind != R_NONE && (!kind || recs[i].kind == kind))
			live[n++] = i;
	return n ? live[k % n] : -1;
}

static void retire(int r)
{
	stale[nstale++ % MAXSTALE] = recs[r];
	recs[r].kind = R_NONE;
}

static void free_right(int r);

/* Frees the mem_map_addr records that map frames [pa, +n): a mapping of
 * RAM must not outlive the frame's owner (ptcheck would rightly flag it). */
static void unmap_borrowers(uint64_t pa, uint64_t n)
{
	for (int i = 0; i < MAXREC; i++) {
		const struct rec *y = &recs[i];
		if (y->kind == R_MAPADDR &&
		    PAGE_ROUND_DOWN(y->pa) < pa + n * PAGE_SIZE && y->pa + y->size > pa)
			free_right(i);
	}
}

/* Frees record r through the API that made it; must succeed. */
static void free_right(int r)
{
	struct rec *x = &recs[r];
	int rc = MM_OK;
	if (x->kind == R_PMM || x->kind == R_CONTIG || (x->kind == R_VBLOCK && x->pa))
		unmap_borrowers(x->pa, x->n);
	switch (x->kind) {
	case R_PMM:
		disown(x->pa, r);
		rc = pmm_free(pmm, x->pa);
		break;
	case R_CONTIG:
		for (uint64_t i = 0; i < x->n; i++)
			disown(x->pa + i * PAGE_SIZE, r);
		rc = pmm_free_contig(pmm, x->pa, x->n);
		break;
	case R_KALLOC:
		if (x->direct)
			disown(x->va - (uint64_t)(uintptr_t)mm_phys_to_virt(0), r);
		else
			own_mapped(x->va, x->n, r, 0);
		rc = kfree_in(&as, (void *)(uintptr_t)x->va, x->size);
		break;
	case R_VBLOCK:
		if (x->flags == V_OWNED) {
			own_mapped(x->va, x->n, r, 0);
			rc = mem_unmap_pages(&as, x->va, x->n);
		} else if (x->flags == V_BORROWED) {
			rc = unmap_pages(&as, x->va, x->n);
			for (uint64_t i = 0; i < x->n && rc == MM_OK; i++)
				disown(x->pa + i * PAGE_SIZE, r);
			if (rc == MM_OK)
				rc = pmm_free_contig(pmm, x->pa, x->n);
		}
		if (rc == MM_OK)
			rc = virtaddr_free(&kwin, x->va, x->n * PAGE_SIZE);
		break;
	case R_MAPADDR:
		rc = mem_unmap_addr(&as, x->va, x->size);
		break;
	}
	if (rc != MM_OK)
		FAIL("right free of record %d (kind %d) failed: %s", r, x->kind, mm_status_str(rc));
	retire(r);
}

/* ---------------------------------------------------------------- good calls */

static void op_pmm_alloc(uint8_t a, uint8_t b)
{
	int r = free_slot();
	uint64_t pa;
	if (r < 0)
		return;
	if ((a & 3) == 2) {          /* pmm_alloc_bulk: one record per frame */
		uint64_t n = 1 + b % 8, pa[8];
		int slots[8], k = 0;
		for (int i = 0; i < MAXREC && k < (int)n; i++)
			if (recs[i].kind == R_NONE)
				slots[k++] = i;
		if (k < (int)n || pmm_alloc_bulk(pmm, n, pa) != MM_OK)
			return;
		for (uint64_t i = 0; i < n; i++) {
			recs[slots[i]] = (struct rec){ .kind = R_PMM, .pa = pa[i], .n = 1 };
			own(pa[i], slots[i]);
		}
		return;
	}
	if (a & 1) {
		uint64_t n = 1 + b % 16, align = PAGE_SIZE << (a >> 1) % 6;
		if ((a >> 4) == 15) {    /* 2 MiB aligned: the free-block map */
			n = 512 + b % 3 * 100;
			align = 512 * PAGE_SIZE;
		}
		if (pmm_alloc_contig(pmm, n, align, &pa) != MM_OK)
			return;
		if (pa % align)
			FAIL("pmm_alloc_contig: 0x%llx not aligned to 0x%llx", (unsigned long long)pa,
			     (unsigned long long)align);
		recs[r] = (struct rec){ .kind = R_CONTIG, .pa = pa, .n = n };
		for (uint64_t i = 0; i < n; i++)
			own(pa + i * PAGE_SIZE, r);
	} else {
		if (pmm_alloc(pmm, &pa) != MM_OK)
			return;
		recs[r] = (struct rec){ .kind = R_PMM, .pa = pa, .n = 1 };
		own(pa, r);
	}
}

static void op_kalloc(uint8_t a, uint8_t b)
{
	int r = free_slot();
	if (r < 0)
		return;
	size_t size = 1 + (size_t)b * 131 + (size_t)(a >> 3) * PAGE_SIZE;   /* up to ~9 pages */
	int flags = a & 7;          /* any mix of KERNEL/USER/WRITABLE, bad ones too */
	void *p = kalloc_in(&as, size, flags);
	int bad = (flags & ALLOC_KERNEL) && (flags & ALLOC_USER);
	if (bad && p)
		FAIL("kalloc_in accepted flags %d", flags);
	if (!p)
		return;
	uint64_t va = (uint64_t)(uintptr_t)p, n = PAGE_ROUND_UP(size) >> PAGE_SHIFT;
	int direct = !(flags & ALLOC_USER) && n == 1 && (flags & ALLOC_WRITABLE);
	recs[r] = (struct rec){ .kind = R_KALLOC, .va = va, .n = n, .size = size,
				.flags = flags, .direct = direct };
	if (direct) {
		uint64_t pa = va - (uint64_t)(uintptr_t)mm_phys_to_virt(0);
		if (!pmm_is_tagged(pmm, pa))
			FAIL("kalloc page 0x%llx is not tagged", (unsigned long long)pa);
		own(pa, r);
	} else {
		struct virtaddr_space *s = (flags & ALLOC_USER) ? &user : &kwin;
		if (va < s->base || va + n * PAGE_SIZE > s->end)
			FAIL("kalloc range 0x%llx outside its space", (unsigned long long)va);
		own_mapped(va, n, r, 1);
	}
}

static void op_vblock(uint8_t a, uint8_t b)
{
	int r = free_slot();
	uint64_t va, pa = 0, n = 1 + b % MAXPAGES;
	if (r < 0 || virtaddr_alloc(&kwin, n * PAGE_SIZE, 0, &va) != MM_OK)
		return;
	int how = a % 3;
	int rc = MM_OK;
	if (how == V_OWNED) {
		rc = mem_map_pages_at(&as, va, n, MAPF_WRITE | MAPF_NOEXEC);
	} else if (how == V_BORROWED) {
		rc = pmm_alloc_contig(pmm, n, PAGE_SIZE, &pa);
		if (rc == MM_OK && (rc = map_pages(&as, va, pa, n, MAPF_NOEXEC)) != MM_OK)
			pmm_free_contig(pmm, pa, n);
	}
	if (rc != MM_OK) {   /* out of frames: all or nothing, so just give the block back */
		if (frame_at(va))
			FAIL("failed map left page 0x%llx mapped", (unsigned long long)va);
		if (virtaddr_free(&kwin, va, n * PAGE_SIZE) != MM_OK)
			FAIL("virtaddr_free of a fresh block failed");
		return;
	}
	recs[r] = (struct rec){ .kind = R_VBLOCK, .va = va, .pa = pa, .n = n, .flags = how };
	if (how == V_OWNED) {
		own_mapped(va, n, r, 1);
	} else if (how == V_BORROWED) {
		for (uint64_t i = 0; i < n; i++) {
			own(pa + i * PAGE_SIZE, r);
			if (frame_at(va + i * PAGE_SIZE) != pa + i * PAGE_SIZE)
				FAIL("map_pages: page %llu maps the wrong frame", (unsigned long long)i);
		}
	}
}

static void op_mapaddr(uint8_t a, uint8_t b)
{
	int r = free_slot();
	if (r < 0)
		return;
	/* MMIO, or RAM frames some record owns (never beyond them) */
	int o = pick(0, b);
	int ram = !(a & 1) && o >= 0 && recs[o].pa && recs[o].kind != R_MAPADDR;
	uint64_t pa = FIX_MMIO_BASE + (uint64_t)b * 0x1010, size = 1 + (uint64_t)(a >> 1) * 97, va;
	if (ram) {
		uint64_t off = (uint64_t)b * 7, span = recs[o].n * PAGE_SIZE - off;
		pa = recs[o].pa + off;
		size = 1 + (size - 1) % span;
	}
	if (mem_map_addr(&as, pa, size, MAPF_NOEXEC | ((a & 2) ? MAPF_UNCACHED : 0), &va) != MM_OK)
		return;
	if (frame_at(va) != pa)
		FAIL("mem_map_addr: va 0x%llx does not map pa 0x%llx", (unsigned long long)va,
		     (unsigned long long)pa);
	uint64_t n = (PAGE_ROUND_UP(pa + size) - PAGE_ROUND_DOWN(pa)) >> PAGE_SHIFT;
	recs[r] = (struct rec){ .kind = R_MAPADDR, .va = va, .pa = pa, .n = n, .size = size };
}

/* ---------------------------------------------------------------- bad calls */

/* Returns 1 if some live record frees exactly like x would (the stale
 * pointer has been handed out again: the call is legitimate). */
MODEL static int reused(const struct rec *x)
{
	for (int i = 0; i < MAXREC; i++) {
		const struct rec *y = &recs[i];
		if (y->kind == R_NONE)
			continue;
		if (x->va && y->va && PAGE_ROUND_DOWN(y->va) == PAGE_ROUND_DOWN(x->va))
			return 1;
		if (x->pa && y->pa && y->pa == x->pa)
			return 1;
	}
	return 0;
}

static void *ptr(uint64_t va)
{
	return (void *)(uintptr_t)va;
}

static void op_bad(uint8_t a, uint8_t b, uint8_t c)
{
	int r = pick(0, b);
	const struct rec *x = r >= 0 ? &recs[r] : NULL;
	uint64_t dm = (uint64_t)(uintptr_t)mm_phys_to_virt(0);

	switch (a % 13) {
	case 0: {   /* kfree of a direct-map page that is not a kalloc page */
		uint64_t pa = ((uint64_t)b << 8 | c) % NFRAMES << PAGE_SHIFT;
		unsigned o = owner_of[pa >> PAGE_SHIFT];
		if (o && recs[o - 1].kind == R_KALLOC)
			return;
		if (c & 1)   /* the allocator's own metadata */
			pa = pmm->meta_pa + (c >> 1) % (pmm->meta_size / PAGE_SIZE) * PAGE_SIZE;
		BAD("kfree of a direct-map page", 0, 0, kfree_in(&as, ptr(dm + pa), PAGE_SIZE));
		break;
	}
	case 1:     /* kfree of another API's window range */
		if (!x || (x->kind != R_VBLOCK && x->kind != R_MAPADDR))
			return;
		BAD("kfree of a vblock/mem_map_addr range", x->va, x->n,
		    kfree_in(&as, ptr(PAGE_ROUND_DOWN(x->va)), x->n * PAGE_SIZE));
		break;
	case 2: {   /* kfree of a kalloc range with the wrong size or pointer */
		if ((r = pick(R_KALLOC, b)) < 0)
			return;
		x = &recs[r];
		if (x->direct && (c & 1)) {   /* the next frame may be another kalloc page */
			uint64_t f = (x->va - dm + PAGE_SIZE) >> PAGE_SHIFT;
			if (f >= NFRAMES || (owner_of[f] && recs[owner_of[f] - 1].kind == R_KALLOC))
				return;
		}
		uint64_t va = x->va + ((c & 1) ? PAGE_SIZE : 0);
		for (int i = 0; i < MAXREC; i++)   /* the next page may start another kalloc range */
			if (recs[i].kind == R_KALLOC && recs[i].va == va)
				return;
		uint64_t size = (c & 1) ? x->size : x->size + PAGE_SIZE * (1 + c % 3);
		BAD("kfree with the wrong size/pointer", PAGE_ROUND_DOWN(x->va), x->n,
		    kfree_in(&as, ptr(va), size));
		break;
	}
	case 3: {   /* stale kfree / mem_unmap_addr / free of any kind */
		const struct rec *s = &stale[c % MAXSTALE];
		if (!s->kind || reused(s))
			return;
		if (s->kind == R_KALLOC)
			BAD("stale kfree", PAGE_ROUND_DOWN(s->va), s->n, kfree_in(&as, ptr(s->va), s->size));
		else if (s->kind == R_MAPADDR)
			BAD("stale mem_unmap_addr", PAGE_ROUND_DOWN(s->va), s->n,
			    mem_unmap_addr(&as, s->va, s->size));
		else if (s->kind == R_PMM && !pmm_is_allocated(pmm, s->pa))
			BAD("double pmm_free", 0, 0, pmm_free(pmm, s->pa));
		else if (s->kind == R_VBLOCK)
			BAD("stale virtaddr_free", s->va, s->n, virtaddr_free(&kwin, s->va, s->n * PAGE_SIZE));
		break;
	}
	case 4:     /* mem_unmap_addr of a kalloc or caller block */
		if (!x || !x->va || x->kind == R_MAPADDR || (x->kind == R_KALLOC && x->direct))
			return;
		BAD("mem_unmap_addr of another API's block", x->va, x->n,
		    mem_unmap_addr(&as, x->va, x->n * PAGE_SIZE));
		break;
	case 5:     /* virtaddr_free of a kalloc or mem_map_addr block */
		if (!x || (x->kind != R_MAPADDR && !(x->kind == R_KALLOC && !x->direct)))
			return;
		BAD("virtaddr_free of another API's block", x->va, x->n,
		    virtaddr_free(x->kind == R_KALLOC && (x->flags & ALLOC_USER) ? &user : &kwin,
				  PAGE_ROUND_DOWN(x->va), x->n * PAGE_SIZE));
		break;
	case 6: {   /* unmap of the wrong kind, or inside another API's block */
		if (!x || !x->va || (x->kind == R_KALLOC && x->direct))
			return;
		if (x->kind == R_VBLOCK && x->flags == V_NONE)
			return;   /* case 7 */
		uint64_t va = PAGE_ROUND_DOWN(x->va), n = x->n;
		int frees = x->kind == R_VBLOCK ? x->flags == V_BORROWED : (c & 1);
		if (frees)
			BAD("mem_unmap_pages of the wrong pages", va, n, mem_unmap_pages(&as, va, n));
		else
			BAD("unmap_pages of the wrong pages", va, n, unmap_pages(&as, va, n));
		break;
	}
	case 7: {   /* unmap over a range with unmapped pages: all or nothing */
		if ((r = pick(R_VBLOCK, b)) < 0)
			return;
		x = &recs[r];
		uint64_t va = x->va, n = x->n;
		if (x->flags != V_NONE) {
			/* one page more, past the block: unmapped, or another API's */
			uint64_t next = va + n * PAGE_SIZE;
			struct virtaddr_block *nb = virtaddr_find(&kwin, next);
			if (!nb || (nb->owner == VIRTADDR_OWNER_CALLER && frame_at(next)))
				return;
			n++;
		}
		if (c & 1)
			BAD("mem_unmap_pages over unmapped pages", va, n, mem_unmap_pages(&as, va, n));
		else
			BAD("unmap_pages over unmapped pages", va, n, unmap_pages(&as, va, n));
		break;
	}
	case 8: {   /* pmm_free of a kalloc page (tagged) */
		if ((r = pick(R_KALLOC, b)) < 0 || !recs[r].direct)
			return;
		BAD("pmm_free of a kalloc page", 0, 0, pmm_free(pmm, recs[r].va - dm));
		break;
	}
	case 9: {   /* pmm_free / pmm_free_contig of nonsense */
		uint64_t pa = (c & 3) == 0 ? FIX_MMIO_BASE : (c & 3) == 1 ? pmm->meta_pa :
			      (c & 3) == 2 ? (x && x->pa ? x->pa + 8 : 8) : FIX_RAM_BASE + RAM;
		if (b & 1)
			BAD("pmm_free_contig of nonsense", 0, 0, pmm_free_contig(pmm, pa, 1 + b % 4));
		else
			BAD("pmm_free of nonsense", 0, 0, pmm_free(pmm, pa));
		break;
	}
	case 10: {  /* pmm_free_contig over a run holding a kalloc page or a free frame */
		if ((r = pick(R_KALLOC, b)) < 0 || !recs[r].direct)
			return;
		uint64_t pa = recs[r].va - dm, lo = pa > FIX_RAM_BASE + PAGE_SIZE ? pa - PAGE_SIZE : pa;
		BAD("pmm_free_contig over a kalloc page", 0, 0, pmm_free_contig(pmm, lo, 2 + c % 3));
		break;
	}
	case 12: {  /* pmm_free_bulk of good frames and one bad entry */
		uint64_t pa[5], n = 0;
		for (int i = 0; i < MAXREC && n < 4; i++)
			if (recs[(i + b) % MAXREC].kind == R_PMM)
				pa[n++] = recs[(i + b) % MAXREC].pa;
		uint64_t f = ((uint64_t)b << 8 | c) % NFRAMES, bad = f << PAGE_SHIFT;
		switch (c % 4) {
		case 0:     /* a frame listed twice */
			if (n == 0)
				return;
			bad = pa[c / 4 % n];
			break;
		case 1:     /* a frame nobody owns: free, cached, the pmm's
			     * metadata, or no RAM (not a page table: that
			     * free would be good) */
			if (owner_of[f] || (pmm_is_allocated(pmm, bad) &&
					    bad - pmm->meta_pa >= pmm->meta_size))
				return;
			break;
		case 2:     /* a kalloc page */
			if ((r = pick(R_KALLOC, c)) < 0 || !recs[r].direct)
				return;
			bad = recs[r].va - dm;
			break;
		case 3:     /* misaligned, n 0 */
			bad = n ? pa[0] + 8 : 8;
			break;
		}
		pa[n++] = bad;
		BAD("pmm_free_bulk with a bad entry", 0, 0,
		    pmm_free_bulk(pmm, c % 8 == 7 ? 0 : n, pa));
		break;
	}
	case 11:    /* zero sizes, unaligned and wrapping ranges */
		switch (c % 6) {
		case 0: BAD("kfree size 0", 0, 0, kfree_in(&as, ptr(KWIN_BASE), 0)); break;
		case 1: BAD("kfree unaligned", 0, 0, kfree_in(&as, ptr(KWIN_BASE + 8), PAGE_SIZE)); break;
		case 2: BAD("unmap_pages to 2^64", 0, 0, unmap_pages(&as, ~0ULL << 12, 1 + b % 4)); break;
		case 3: BAD("mem_unmap_addr wrapping", 0, 0, mem_unmap_addr(&as, ~0ULL - 5, 100)); break;
		case 4: BAD("virtaddr_free size 0", 0, 0, virtaddr_free(&kwin, KWIN_BASE, 0)); break;
		case 5: BAD("mem_unmap_pages of the direct map", 0, 0,
			    mem_unmap_pages(&as, HHDM_BASE, 1)); break;
		}
		break;
	}
}

/* pmm_free_bulk of up to 1 + b % 8 single-frame records (picked from the
 * k-th on); must succeed. */
static void op_free_bulk(uint8_t k, uint8_t b)
{
	uint64_t pa[8], n = 0, want = 1 + b % 8;
	int rs[8];
	for (int i = 0; i < MAXREC && n < want; i++) {
		int r = (i + k) % MAXREC;
		if (recs[r].kind == R_PMM) {
			rs[n] = r;
			pa[n++] = recs[r].pa;
		}
	}
	if (n == 0)
		return;
	for (uint64_t i = 0; i < n; i++) {
		unmap_borrowers(pa[i], 1);
		disown(pa[i], rs[i]);
	}
	int rc = pmm_free_bulk(pmm, n, pa);
	if (rc != MM_OK)
		FAIL("pmm_free_bulk of %llu good frames: %s", (unsigned long long)n, mm_status_str(rc));
	for (uint64_t i = 0; i < n; i++)
		retire(rs[i]);
}

/* ---------------------------------------------------------------- driver */

/* The CPU a step runs on: op byte bits 3-7 (bits 0-2 pick the op). */
static unsigned step_cpu(uint8_t op)
{
	static const unsigned cpus[] = { 0, 1, 2, 3, MM_MAX_CPUS - 1 };
	return cpus[(op >> 3) % (sizeof(cpus) / sizeof(cpus[0]))];
}

static void setup(void)
{
	host_set_cpu(0);
	host_arena_init(FIX_RAM_BASE + RAM);
	memset(recs, 0, sizeof(recs));
	memset(stale, 0, sizeof(stale));
	memset(owner_of, 0, sizeof(owner_of));
	nstale = 0;
	pmm = fixture_init(RAM);
	if (pmm->ncpus != 4)
		FAIL("setup: %u frame caches, the CPU choice expects 4", pmm->ncpus);
	free0 = pmm_free_frames(pmm);
	if (virtaddr_init(&kwin, pmm, KWIN_BASE, KWIN_END) != MM_OK ||
	    virtaddr_init(&user, pmm, USER_BASE, USER_END) != MM_OK ||
	    addrspace_create(&as, pmm, NULL, &kwin, &user) != MM_OK)
		FAIL("setup failed");
}

static void teardown(void)
{
	for (int i = 0; i < MAXREC; i++)
		if (recs[i].kind != R_NONE)
			free_right(i);
	check_frames();
	check_all();
	addrspace_destroy(&as);
	virtaddr_destroy(&kwin);
	virtaddr_destroy(&user);
	if (pmm_free_frames(pmm) != free0)
		FAIL("teardown: %llu frames free, %llu at the start (lost %lld)",
		     (unsigned long long)pmm_free_frames(pmm), (unsigned long long)free0,
		     (long long)(free0 - pmm_free_frames(pmm)));
	if (pmm_check(pmm) != MM_OK)
		FAIL("teardown: pmm_check");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	size_t steps = size / 4 < MAXSTEPS ? size / 4 : MAXSTEPS;
	for (size_t i = 0; i < steps; i++) {
		const uint8_t *s = data + 4 * i;
		host_set_cpu(step_cpu(s[0]));
		switch (s[0] % 8) {
		case 0: op_pmm_alloc(s[1], s[2]); break;
		case 1: op_kalloc(s[1], s[2]); break;
		case 2: op_vblock(s[1], s[2]); break;
		case 3: op_mapaddr(s[1], s[2]); break;
		case 4: {
			int r = pick(0, s[1]);
			if (r >= 0)
				free_right(r);
			break;
		}
		case 5: op_free_bulk(s[1], s[2]); break;
		default: op_bad(s[1], s[2], s[3]); break;
		}
		check_frames();
		if ((i & 15) == 15)
			check_all();
	}
	teardown();
	return 0;
}
