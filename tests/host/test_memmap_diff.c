/*
 * tests/host/test_memmap_diff.c - memmap_sanitize (change points, heap
 * sort, one sweep) against the reference sanitiser of memmap_ref.c (the
 * O(n^2) sweep it replaced), on many random maps built to hit the corner
 * cases: overlaps and adjacency on a coarse grid, unaligned starts, page 0,
 * zero-length and wrapping entries, every EFI type and unknown ones, used
 * ranges, strides of 40..64 bytes with junk in the padding, and output
 * arrays too small for the result.  Expect: the same status, count,
 * regions, untouched output beyond the count and the same warning lines,
 * every time.  (The sample maps are compared in test_memmap_tool.c.)
 * memmap_reliable_bytes is checked against brute force on random maps.
 */
#include <stdlib.h>
#include <string.h>

#include "mm/memmap.h"
#include "mm/status.h"
#include "tests/host/harness.h"
#include "tests/host/memmap_ref.h"

#define PG      4096ULL
#define MAXD    512                  /* descriptors per random map */
#define MAXOUT  (2 * (MAXD + BOOTINFO_MAX_USED) + 2)
#define MAPS    20000                /* random maps */

/* One sanitiser run: status, count, output and what it printed. */
struct run {
	int st;
	size_t count;
	struct mm_region out[MAXOUT];
	char text[1 << 16];
};

static struct run got, ref;
static uint8_t raw[MAXD * 64];
static struct bootinfo_range used[BOOTINFO_MAX_USED];
static struct memmap_cp scratch[MEMMAP_SCRATCH_LEN(MAXD, BOOTINFO_MAX_USED)];
static uint64_t rng = 0x6d656d6d61702121ULL;

/* xorshift64*, fixed seed: the same maps every run. */
static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

/* Returns a random number in [0, n). */
static uint64_t below(uint64_t n)
{
	return rnd() % n;
}

/* A random start: mostly on a grid of 16 KiB steps (many overlaps and
 * touching ranges), sometimes unaligned, in page 0, near 2^64, or anywhere. */
static uint64_t rnd_addr(void)
{
	switch (below(10)) {
	case 0:
		return below(3 * PG);
	case 1:
		return 0 - (below(8) + 1) * PG - below(2) * 0x800;
	case 2:
		return rnd();
	case 3:
		return below(64) * 4 * PG + below(PG);
	default:
		return below(64) * 4 * PG;
	}
}

/* A random length in pages: mostly a few, sometimes 0 or wrapping. */
static uint64_t rnd_pages(void)
{
	switch (below(20)) {
	case 0:
		return 0;
	case 1:
		return (1ULL << 52) + below(4);    /* wraps past 2^64 from anywhere above 0 */
	case 2:
		return below(1ULL << 40);
	default:
		return 1 + below(12);
	}
}

/* A random EFI type: the named ones, an unknown one, an OS-defined one. */
static uint32_t rnd_type(void)
{
	static const uint32_t odd[] = { 16, 0x1234, 0x70000000u, 0x80000001u };
	uint64_t r = below(24);
	if (r < 16)
		return (uint32_t)r;
	if (r < 20)
		return odd[r - 16];
	return r % 2 ? EFI_CONVENTIONAL : EFI_BS_DATA;   /* more RAM */
}

/* Fills raw[] with n descriptors of stride ds (junk in the padding) and
 * used[0..nu); EFI attributes random too. */
static void rnd_map(uint64_t n, uint32_t ds, uint32_t nu)
{
	memset(raw, 0x5a ^ (int)below(256), sizeof(raw));
	for (uint64_t i = 0; i < n; i++) {
		struct bootinfo_efi_desc d = {
			.type = rnd_type(), .phys_start = rnd_addr(), .num_pages = rnd_pages(),
			.virt_start = rnd(), .attribute = below(2) ? 0xf : rnd(),
		};
		memcpy(raw + i * ds, &d, sizeof(d));
	}
	for (uint32_t i = 0; i < nu; i++)
		used[i] = (struct bootinfo_range){
			.pa = rnd_addr(),
			.size = below(10) ? below(8 * PG) : (below(2) ? 0 : rnd()),
			.type = (uint32_t)below(8),
		};
}

/* Runs the sanitiser under test (ref_too 0) or the reference into *r, with
 * the output array prefilled with a pattern. */
static void run_one(struct run *r, int is_ref, uint64_t raw_size, uint32_t ds, uint32_t nu,
		    size_t cap)
{
	memset(r->out, 0xc3, sizeof(r->out));
	r->count = 12345;
	host_capture_begin();
	if (is_ref)
		r->st = memmap_ref_sanitize(raw, raw_size, ds, used, nu, r->out, cap, &r->count);
	else
		r->st = memmap_sanitize(raw, raw_size, ds, used, nu, scratch,
					sizeof(scratch) / sizeof(scratch[0]), r->out, cap, &r->count);
	snprintf(r->text, sizeof(r->text), "%s", host_capture_end());
}

/* Describes the first difference of a and b into why[0..n); returns 0 if
 * they are the same (all of out[], beyond the count included). */
static int differ(const struct run *a, const struct run *b, char *why, size_t n)
{
	if (a->st != b->st || a->count != b->count) {
		snprintf(why, n, "status %d count %zu, reference %d %zu", a->st, a->count, b->st,
			 b->count);
		return 1;
	}
	for (size_t i = 0; i < MAXOUT; i++)
		if (memcmp(&a->out[i], &b->out[i], sizeof(a->out[i]))) {
			snprintf(why, n, "region %zu: [%#llx+%#llx) type %u, reference [%#llx+%#llx) %u",
				 i, (unsigned long long)a->out[i].base,
				 (unsigned long long)a->out[i].size, a->out[i].type,
				 (unsigned long long)b->out[i].base,
				 (unsigned long long)b->out[i].size, b->out[i].type);
			return 1;
		}
	if (strcmp(a->text, b->text)) {
		snprintf(why, n, "printed\n%s\nreference printed\n%s", a->text, b->text);
		return 1;
	}
	return 0;
}

/*
 * MAPS random maps (1 in 40 with up to MAXD entries, else up to 48), each
 * with 0..8 used ranges, a random stride, and one time in four an output
 * array of random size up to what the reference needed.
 * Expect: no difference; some maps overflow, warn, and trim.
 */
static void test_random_maps(void)
{
	static const uint32_t strides[] = { 40, 48, 56, 64 };
	int overflows = 0, warned = 0, bad = 0;
	char why[1024];

	for (int m = 0; m < MAPS && bad < 3; m++) {
		uint64_t n = below(40) ? below(49) : below(MAXD + 1);
		uint32_t ds = strides[below(4)], nu = (uint32_t)below(BOOTINFO_MAX_USED + 1);
		size_t cap = MAXOUT;
		rnd_map(n, ds, nu);
		run_one(&ref, 1, n * ds, ds, nu, cap);
		if (!below(4)) {
			cap = (size_t)below(ref.count + 1);
			run_one(&ref, 1, n * ds, ds, nu, cap);
		}
		run_one(&got, 0, n * ds, ds, nu, cap);
		overflows += ref.st == MM_EOVERFLOW;
		warned += ref.text[0] != '\0';
		if (differ(&got, &ref, why, sizeof(why))) {
			bad++;
			CHECK(0, "map %d (%llu entries, stride %u, %u used, cap %zu): %s", m,
			      (unsigned long long)n, ds, nu, cap, why);
		}
	}
	CHECK(overflows > 100 && warned > 100, "corner cases hit: %d overflows, %d warned",
	      overflows, warned);
	printf("memmap_diff: %d random maps, %d overflowed, %d with warnings\n", MAPS, overflows,
	       warned);
}

/* qsort order of addresses. */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The more-reliable bytes of r->out[0..r->count) for raw[0..n) of stride
 * ds, by brute force: every boundary of a region or an MR descriptor cuts
 * the line into elementary intervals; one counts if a usable region holds
 * it and some kept MR descriptor covers it. */
static uint64_t brute_reliable(const struct run *r, uint64_t n, uint32_t ds)
{
	static uint64_t cut[2 * (MAXD + MAXOUT)];
	uint64_t nc = 0, sum = 0;

	for (size_t i = 0; i < r->count; i++) {
		cut[nc++] = r->out[i].base;
		cut[nc++] = r->out[i].base + r->out[i].size;
	}
	for (uint64_t i = 0; i < n; i++) {
		const struct bootinfo_efi_desc *d = (const void *)(raw + i * ds);
		if (!(d->attribute & EFI_MEMORY_MORE_RELIABLE) || d->num_pages == 0 ||
		    d->num_pages > (UINT64_MAX >> 12) || d->phys_start > UINT64_MAX - (d->num_pages << 12))
			continue;
		cut[nc++] = d->phys_start;
		cut[nc++] = d->phys_start + (d->num_pages << 12);
	}
	qsort(cut, nc, sizeof(cut[0]), cmp_u64);
	for (uint64_t k = 0; k + 1 < nc; k++) {
		uint64_t a = cut[k], b = cut[k + 1];
		int usable = 0, mr = 0;
		if (a == b)
			continue;
		for (size_t i = 0; i < r->count && !usable; i++)
			usable = r->out[i].type == MR_USABLE && r->out[i].base <= a &&
				 b <= r->out[i].base + r->out[i].size;
		for (uint64_t i = 0; i < n && usable && !mr; i++) {
			const struct bootinfo_efi_desc *d = (const void *)(raw + i * ds);
			mr = (d->attribute & EFI_MEMORY_MORE_RELIABLE) && d->num_pages &&
			     d->num_pages <= (UINT64_MAX >> 12) &&
			     d->phys_start <= UINT64_MAX - (d->num_pages << 12) &&
			     d->phys_start <= a && b <= d->phys_start + (d->num_pages << 12);
		}
		if (usable && mr)
			sum += b - a;
	}
	return sum;
}

/*
 * memmap_reliable_bytes on random maps (every other descriptor with a
 * random attribute word, so MORE_RELIABLE, SP and WB come and go), against
 * brute force over the sanitised map.  Expect: equal every time, and
 * non-zero often.
 */
static void test_random_reliable(void)
{
	int nonzero = 0, bad = 0;

	for (int m = 0; m < MAPS / 4 && bad < 3; m++) {
		uint64_t n = below(40), b;
		uint32_t nu = (uint32_t)below(3);
		rnd_map(n, 48, nu);
		for (uint64_t i = 0; i < n; i++) {   /* MR on a third of them */
			struct bootinfo_efi_desc *d = (void *)(raw + i * 48);
			if (below(3) == 0)
				d->attribute |= EFI_MEMORY_MORE_RELIABLE;
		}
		run_one(&got, 0, n * 48, 48, nu, MAXOUT);
		REQUIRE_OK(got.st, "map %d: sanitize %d", m, got.st);
		REQUIRE_OK(memmap_reliable_bytes(raw, n * 48, 48, got.out, got.count, scratch,
						 sizeof(scratch) / sizeof(scratch[0]), &b), "reliable");
		uint64_t want = brute_reliable(&got, n, 48);
		nonzero += want != 0;
		if (b != want) {
			bad++;
			CHECK(0, "map %d: reliable %llu, brute force %llu", m, (unsigned long long)b,
			      (unsigned long long)want);
		}
	}
	CHECK(nonzero > MAPS / 40, "only %d maps with reliable memory", nonzero);
}

/*
 * Bad strides and sizes: 32, 44, a size not a multiple of the stride.
 * Expect: MM_EINVAL and *count 0 from both.
 */
static void test_refusals(void)
{
	char why[1024];
	static const struct { uint64_t size; uint32_t ds; } bad[] = {
		{ 4 * 32, 32 }, { 3 * 44, 44 }, { 3 * 48 - 8, 48 }, { 0, 0 },
	};
	rnd_map(4, 48, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		run_one(&ref, 1, bad[i].size, bad[i].ds, 0, MAXOUT);
		run_one(&got, 0, bad[i].size, bad[i].ds, 0, MAXOUT);
		CHECK(got.st == MM_EINVAL && got.count == 0, "stride %u: %d", bad[i].ds, got.st);
		CHECK(!differ(&got, &ref, why, sizeof(why)), "stride %u: %s", bad[i].ds, why);
	}
}

/*
 * Control: the comparison sees a difference.  A random map with used
 * ranges run by the reference with and without its last used range, and
 * with one output slot less than it needs.
 * Expect: differ() reports each.
 */
static void test_control(void)
{
	char why[1024];
	struct bootinfo_efi_desc d = { .type = EFI_CONVENTIONAL, .phys_start = 0x100000,
				       .num_pages = 256, .attribute = 0xf };

	memcpy(raw, &d, sizeof(d));
	used[0] = (struct bootinfo_range){ .pa = 0x180000, .size = PG, .type = BOOTINFO_USED_KERNEL };
	run_one(&ref, 1, sizeof(d), sizeof(d), 1, MAXOUT);
	run_one(&got, 0, sizeof(d), sizeof(d), 0, MAXOUT);
	CHECK(differ(&got, &ref, why, sizeof(why)), "a dropped used range went unseen");
	run_one(&got, 0, sizeof(d), sizeof(d), 1, ref.count - 1);
	CHECK(differ(&got, &ref, why, sizeof(why)), "a cut output went unseen");
	run_one(&got, 0, sizeof(d), sizeof(d), 1, MAXOUT);
	CHECK(!differ(&got, &ref, why, sizeof(why)), "same input: %s", why);
	CHECK(ref.st == MM_OK && ref.count == 3, "reference: %d, %zu regions", ref.st, ref.count);
}

int main(void)
{
	RUN(test_control);
	RUN(test_refusals);
	RUN(test_random_maps);
	RUN(test_random_reliable);
	return harness_done("memmap_diff");
}
