/*
 * tests/host/test_bootalloc.c - bootalloc_init / bootalloc_alloc.
 * Pictures: U usable, R reserved, x handed out, '.' nothing.
 */
#include <string.h>
#include "mm/bootalloc.h"
#include "mm/status.h"
#include "tests/host/harness.h"

#define KiB 0x400ULL
#define MiB 0x100000ULL
#define PG  4096ULL
#define R(t, b_, n_) { .base = (b_), .size = (n_), .type = (t) }
#define N(a) (sizeof(a) / sizeof((a)[0]))

/*
 *   4K     640K 1M         3M
 *   |UUUUUU|    |xxUUUUUUUU|
 * Expect: the first allocation at 1M (below the floor is skipped), the next
 * right after it; both recorded as one range.
 */
static void test_bump_from_floor(void)
{
	struct mm_region map[] = { R(MR_USABLE, PG, 636 * KiB), R(MR_USABLE, MiB, 2 * MiB) };
	struct bootalloc ba;
	uint64_t a, b;

	bootalloc_init(&ba, map, N(map));
	REQUIRE_OK(bootalloc_alloc(&ba, 3 * PG, PG, &a), "alloc a");
	REQUIRE_OK(bootalloc_alloc(&ba, 100, PG, &b), "alloc b");
	CHECK(a == MiB, "a %#llx", (unsigned long long)a);
	CHECK(b == MiB + 3 * PG, "b %#llx (size rounds up to pages)", (unsigned long long)b);
	CHECK(ba.nranges == 1 && ba.ranges[0].pa == MiB && ba.ranges[0].size == 4 * PG,
	      "ranges %zu [%#llx+%#llx)", ba.nranges, (unsigned long long)ba.ranges[0].pa,
	      (unsigned long long)ba.ranges[0].size);
	CHECK(ba.allocated == 4 * PG, "allocated %llu", (unsigned long long)ba.allocated);
}

/*
 *   512K        1M+512K        3M
 *   |UUUUUUUUUUUUUUUUUUUUUUUUUU|
 *               ^floor 1M: first page, then a 1M-aligned one at 2M
 * Expect: a region straddling the floor starts at the floor; the alignment
 * gap is not recorded (two ranges).
 */
static void test_align_gap(void)
{
	struct mm_region map[] = { R(MR_USABLE, 512 * KiB, 2 * MiB + 512 * KiB) };
	struct bootalloc ba;
	uint64_t a, b;

	bootalloc_init(&ba, map, N(map));
	REQUIRE_OK(bootalloc_alloc(&ba, PG, PG, &a), "a");
	REQUIRE_OK(bootalloc_alloc(&ba, PG, MiB, &b), "b");
	CHECK(a == MiB && b == 2 * MiB, "a %#llx b %#llx", (unsigned long long)a,
	      (unsigned long long)b);
	CHECK(ba.nranges == 2 && ba.ranges[1].pa == 2 * MiB, "ranges %zu", ba.nranges);
}

/*
 *   1M   1M+8K   2M   3M        8M
 *   |UUUU|  RRR  |    |UUUUUUUUU|
 * Expect: a 64K request does not fit in the 8K region and comes from 3M;
 * reserved memory is never handed out.
 */
static void test_skips_small_and_reserved(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, 8 * KiB), R(MR_RESERVED, 2 * MiB, MiB),
				   R(MR_USABLE, 3 * MiB, 5 * MiB) };
	struct bootalloc ba;
	uint64_t a;

	bootalloc_init(&ba, map, N(map));
	REQUIRE_OK(bootalloc_alloc(&ba, 64 * KiB, PG, &a), "a");
	CHECK(a == 3 * MiB, "a %#llx", (unsigned long long)a);
}

/*
 *   1M      1M+16K
 *   |UUUUUUU|
 * Expect: 4 pages fit, the fifth is MM_ENOMEM; bad arguments MM_EINVAL.
 */
static void test_exhaustion_and_args(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, 16 * KiB) };
	struct bootalloc ba;
	uint64_t a;

	bootalloc_init(&ba, map, N(map));
	for (int i = 0; i < 4; i++)
		CHECK(bootalloc_alloc(&ba, PG, PG, &a) == MM_OK, "page %d", i);
	CHECK(bootalloc_alloc(&ba, PG, PG, &a) == MM_ENOMEM, "fifth page");
	CHECK(bootalloc_alloc(&ba, 0, PG, &a) == MM_EINVAL, "size 0");
	CHECK(bootalloc_alloc(&ba, PG, 3 * PG, &a) == MM_EINVAL, "align 12K");
	CHECK(bootalloc_alloc(&ba, PG, 512, &a) == MM_EINVAL, "align 512");
}

/*
 *   1M                                        64M
 *   |x.x.x.x.x.x ... (1M-aligned pages, each a new range)
 * Expect: BOOTALLOC_MAX_RANGES allocations succeed, the next is MM_ENOMEM
 * rather than an unrecorded hand-out.
 */
static void test_record_full(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, 63 * MiB) };
	struct bootalloc ba;
	uint64_t a;

	bootalloc_init(&ba, map, N(map));
	for (int i = 0; i < BOOTALLOC_MAX_RANGES; i++)
		CHECK(bootalloc_alloc(&ba, PG, MiB, &a) == MM_OK, "alloc %d", i);
	CHECK(bootalloc_alloc(&ba, PG, MiB, &a) == MM_ENOMEM, "record full");
	CHECK(ba.nranges == BOOTALLOC_MAX_RANGES, "nranges %zu", ba.nranges);
}

/*
 *   4K       640K         (nothing above 1M)
 *   |UUUUUUUU|
 * Expect: MM_ENOMEM: the first MiB is never handed out.
 */
static void test_nothing_above_floor(void)
{
	struct mm_region map[] = { R(MR_USABLE, PG, 636 * KiB) };
	struct bootalloc ba;
	uint64_t a;

	bootalloc_init(&ba, map, N(map));
	CHECK(bootalloc_alloc(&ba, PG, PG, &a) == MM_ENOMEM, "below the floor");
}

/*
 *   1M          3M    4M          8M
 *   |UUUUUUUUUUU|RRRRR|UUUUUUUUUUU|
 *   refused: 16M, 5M (only across the hole), 1 page at 2^63 alignment
 * Expect: a refused request changes nothing, byte for byte: the next one
 * is served at 1M, as if the refused ones never happened.
 */
static void test_refusal_changes_nothing(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, 2 * MiB), R(MR_RESERVED, 3 * MiB, MiB),
				   R(MR_USABLE, 4 * MiB, 4 * MiB) };
	struct bootalloc ba, before;
	uint64_t a = 0;

	bootalloc_init(&ba, map, N(map));
	before = ba;
	CHECK(bootalloc_alloc(&ba, 16 * MiB, PG, &a) == MM_ENOMEM, "too big");
	CHECK(bootalloc_alloc(&ba, PG, 1ULL << 63, &a) == MM_ENOMEM, "huge alignment");
	CHECK(bootalloc_alloc(&ba, 5 * MiB, PG, &a) == MM_ENOMEM, "fits only across the hole");
	CHECK(!memcmp(&ba, &before, sizeof(ba)), "state changed by refused requests");
	REQUIRE_OK(bootalloc_alloc(&ba, PG, PG, &a), "small after refusals");
	CHECK(a == MiB, "a %#llx, want 1M", (unsigned long long)a);
	REQUIRE_OK(bootalloc_alloc(&ba, 3 * MiB, PG, &a), "3M in the second region");
	CHECK(a == 4 * MiB, "a %#llx, want 4M", (unsigned long long)a);
}

int main(void)
{
	RUN(test_bump_from_floor);
	RUN(test_align_gap);
	RUN(test_skips_small_and_reserved);
	RUN(test_exhaustion_and_args);
	RUN(test_record_full);
	RUN(test_nothing_above_floor);
	RUN(test_refusal_changes_nothing);
	return harness_done("bootalloc");
}
