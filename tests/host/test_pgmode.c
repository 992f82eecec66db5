/*
 * tests/host/test_pgmode.c - mm/pgmode.c: the paging mode (levels, the
 * direct map's place, canonical addresses) and the loader's choice rule.
 */
#include "mm/layout.h"
#include "mm/pgmode.h"
#include "mm/status.h"
#include "tests/host/harness.h"

/* Expect: 4 and 5 set the values written out here (48/57 bits, direct map
 * at 0xffff800000000000 / 64 TiB or 0xff00000000000000 / 4 PiB); 0, 3, 6
 * are MM_EINVAL and leave the mode as it was. */
static void test_set(void)
{
	CHECK(pgmode_set(5) == MM_OK && pgmode_levels() == 5 && mm_pgmode.va_bits == 57 &&
	      HHDM_BASE == 0xff00000000000000ULL && HHDM_MAX_SIZE == 1ULL << 52, "5 levels");
	static const unsigned bad[] = { 0, 3, 6 };
	for (int i = 0; i < 3; i++)
		CHECK(pgmode_set(bad[i]) == MM_EINVAL && pgmode_levels() == 5 &&
		      HHDM_BASE == 0xff00000000000000ULL, "%u changed the mode", bad[i]);
	CHECK(pgmode_set(4) == MM_OK && pgmode_levels() == 4 && mm_pgmode.va_bits == 48 &&
	      HHDM_BASE == 0xffff800000000000ULL && HHDM_MAX_SIZE == 64ULL << 40, "4 levels");
}

/* Canonical edges by hand: 4 levels: 0x00007fffffffffff yes,
 * 0x0000800000000000 no, 0xffff800000000000 yes, 0xff00000000000000 no;
 * 5 levels: 0x00ffffffffffffff yes, 0x0100000000000000 no,
 * 0xff00000000000000 yes, 0xfeffffffffffffff no; 0 and ~0 in both. */
static void test_canonical(void)
{
	static const struct { uint64_t va; int c4, c5; } t[] = {
		{ 0, 1, 1 }, { ~0ULL, 1, 1 },
		{ 0x00007fffffffffffULL, 1, 1 }, { 0x0000800000000000ULL, 0, 1 },
		{ 0xffff800000000000ULL, 1, 1 }, { 0xffff7fffffffffffULL, 0, 1 },
		{ 0xff00000000000000ULL, 0, 1 }, { 0x00ffffffffffffffULL, 0, 1 },
		{ 0x0100000000000000ULL, 0, 0 }, { 0xfeffffffffffffffULL, 0, 0 },
	};
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		pgmode_set(4);
		CHECK(pgmode_canonical(t[i].va) == t[i].c4, "4 levels %llx", (unsigned long long)t[i].va);
		pgmode_set(5);
		CHECK(pgmode_canonical(t[i].va) == t[i].c5, "5 levels %llx", (unsigned long long)t[i].va);
	}
	pgmode_set(4);
}

/*
 * The loader's rule as a table, expectations by hand (64 TiB = 2^46):
 *   firmware LA57 -> 5 whatever else (even a CPU "without" LA57);
 *   RAM top 2^46 exactly fits -> 4; 2^46 + 4 KiB -> 5 with LA57, else 4
 *   (no LA57); paging=5 -> 5 with LA57, else 4 (no LA57).
 * Control: the boundary case 2^46 + 1 must not be called fitting.
 */
static void test_choose(void)
{
	const uint64_t t64 = 1ULL << 46;
	static const struct { int fw, cpu; uint64_t top; int asked; unsigned lv; enum pgmode_why why; } t[] = {
		{ 1, 0, 1ULL << 29, 0, 5, PGMODE_WHY_FIRMWARE },
		{ 1, 1, 1ULL << 29, 0, 5, PGMODE_WHY_FIRMWARE },
		{ 0, 1, 1ULL << 29, 0, 4, PGMODE_WHY_FITS },
		{ 0, 1, 1ULL << 46, 0, 4, PGMODE_WHY_FITS },
		{ 0, 1, (1ULL << 46) + 4096, 0, 5, PGMODE_WHY_BIG },
		{ 0, 0, (1ULL << 46) + 4096, 0, 4, PGMODE_WHY_NO_LA57 },
		{ 0, 1, 1ULL << 29, 1, 5, PGMODE_WHY_ASKED },
		{ 0, 0, 1ULL << 29, 1, 4, PGMODE_WHY_NO_LA57 },
		{ 0, 1, (1ULL << 46) + 4096, 1, 5, PGMODE_WHY_BIG },
		{ 0, 1, ~0ULL, 0, 5, PGMODE_WHY_BIG },
	};
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum pgmode_why why;
		unsigned lv = pgmode_choose(t[i].fw, t[i].cpu, t[i].top, t[i].asked, &why);
		CHECK(lv == t[i].lv && why == t[i].why, "case %u: %u levels, why %d", i, lv, why);
	}
	enum pgmode_why why;
	CHECK(pgmode_choose(0, 1, t64 + 1, 0, &why) == 5 && why == PGMODE_WHY_BIG,
	      "control: one byte past 64 TiB fits");
	CHECK(pgmode_levels() == 4, "pgmode_choose set the mode");
}

int main(void)
{
	RUN(test_set);
	RUN(test_canonical);
	RUN(test_choose);
	return harness_done("pgmode");
}
