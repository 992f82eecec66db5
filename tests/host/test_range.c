/*
 * tests/host/test_range.c - lib/range.h at the edges, against arithmetic in
 * unsigned __int128 (which cannot overflow for 64-bit inputs): ranges ending
 * exactly at 2^64 and one byte past it, size 0, align 0, 1, non-powers of
 * two and 2^63; then a randomized comparison biased towards the edges.
 */
#include <stdint.h>
#include "lib/range.h"
#include "tests/host/harness.h"

typedef unsigned __int128 u128;
#define TWO64 ((u128)1 << 64)

/* The model: the exact end of [base, base + size). */
static u128 model_end(uint64_t b, uint64_t s)
{
	return (u128)b + s;
}

/* The model of ranges_overlap: a shared byte, ends taken exactly. */
static int model_overlap(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	if (!as || !bs)
		return 0;
	return (u128)a < model_end(b, bs) && (u128)b < model_end(a, as);
}

/* The old paging.c addrs_overlap, computed in 64 bits: the control. */
static int naive_overlap(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	return a < b + bs && b < a + as;
}

/* Checks every helper on one input against the model; returns 0 on the
 * first disagreement (reported). */
static int agree(uint64_t b, uint64_t s, uint64_t x, uint64_t al, uint64_t b2, uint64_t s2)
{
	uint64_t end = 0x5a5a, last = 0x5a5a, up = 0x5a5a, down = 0x5a5a;
	int e_ok = range_end(b, s, &end), l_ok = range_last(b, s, &last);
	u128 me = model_end(b, s);
	int pow2 = al != 0 && (al & (al - 1)) == 0;
	u128 mup = pow2 ? ((u128)x + al - 1) / al * al : 0;
	int up_ok = align_up(x, al, &up), down_ok = align_down(x, al, &down);

	if (e_ok != (me < TWO64) || (e_ok && end != (uint64_t)me) || (!e_ok && end != 0x5a5a) ||
	    range_wraps(b, s) != !e_ok) {
		CHECK(0, "range_end(%#lx, %#lx) = %d, %#lx", b, s, e_ok, end);
		return 0;
	}
	if (l_ok != (s != 0 && me <= TWO64) || (l_ok && last != (uint64_t)(me - 1))) {
		CHECK(0, "range_last(%#lx, %#lx) = %d, %#lx", b, s, l_ok, last);
		return 0;
	}
	if (ranges_overlap(b, s, b2, s2) != model_overlap(b, s, b2, s2) &&
	    me <= TWO64 && model_end(b2, s2) <= TWO64) {
		CHECK(0, "ranges_overlap(%#lx, %#lx, %#lx, %#lx)", b, s, b2, s2);
		return 0;
	}
	if (range_within(b, s, x) != ((u128)b <= x && me <= x)) {
		CHECK(0, "range_within(%#lx, %#lx, %#lx)", b, s, x);
		return 0;
	}
	uint64_t lo = b2 < x ? b2 : x, hi = b2 < x ? x : b2;
	if (range_inside(b, s, lo, hi) != (b >= lo && me <= hi)) {
		CHECK(0, "range_inside(%#lx, %#lx, %#lx, %#lx)", b, s, lo, hi);
		return 0;
	}
	if (is_pow2(al) != pow2 || up_ok != (pow2 && mup < TWO64) ||
	    (up_ok && up != (uint64_t)mup) || (!up_ok && up != 0x5a5a)) {
		CHECK(0, "align_up(%#lx, %#lx) = %d, %#lx", x, al, up_ok, up);
		return 0;
	}
	if (down_ok != pow2 || (down_ok && down != x / al * al) || (!down_ok && down != 0x5a5a)) {
		CHECK(0, "align_down(%#lx, %#lx) = %d, %#lx", x, al, down_ok, down);
		return 0;
	}
	return 1;
}

/*
 * Expect: a range ending exactly at 2^64 has a last byte but no end; one
 * byte longer has neither; size 0 has an end (base) but no last byte.
 *
 *   [2^64 - 4K ........ 2^64)      end: none, last: 2^64 - 1
 *   [2^64 - 4K ........... 2^64 + 1)   end: none, last: none
 */
static void test_ends(void)
{
	uint64_t e = 7, l = 7;
	CHECK(!range_end(UINT64_MAX - 4095, 4096, &e) && e == 7, "end at 2^64: none");
	CHECK(range_last(UINT64_MAX - 4095, 4096, &l) && l == UINT64_MAX, "last at 2^64");
	CHECK(range_wraps(UINT64_MAX - 4095, 4096), "ending at 2^64 wraps");
	CHECK(!range_last(UINT64_MAX - 4095, 4097, &l), "one byte past 2^64");
	CHECK(range_end(5, 0, &e) && e == 5 && !range_last(5, 0, &l), "size 0");
	CHECK(range_end(0, UINT64_MAX, &e) && e == UINT64_MAX, "[0, 2^64 - 1)");
	CHECK(range_last(0, UINT64_MAX, &l) && l == UINT64_MAX - 1, "last of [0, 2^64 - 1)");
	CHECK(!range_end(UINT64_MAX, 1, &e) && range_last(UINT64_MAX, 1, &l) && l == UINT64_MAX,
	      "the last byte alone");
	CHECK(range_within(0, 0, 0) && range_within(10, 0, 10) && !range_within(11, 0, 10),
	      "within, size 0");
	CHECK(range_within(4, 6, 10) && !range_within(4, 7, 10) && !range_within(1, UINT64_MAX, 10),
	      "within, wrap");
}

/* Expect: range_inside takes the window's ends exactly: a range may touch
 * hi but not pass it nor start below lo; the last page of the address
 * space is not inside a window that ends lower, although its end is 0 in
 * 64 bits (the naive test, the control, says it is).
 *
 *   [lo ............ hi)
 *        [......)              inside
 *   [...........................)      past hi: no
 *                          ... [2^64 - 4K, 2^64)  no
 */
static void test_inside(void)
{
	uint64_t lo = 0x1000, hi = 0x800000000000ULL, top = UINT64_MAX - 4095;
	CHECK(range_inside(lo, hi - lo, lo, hi) && range_inside(hi - 4096, 4096, lo, hi),
	      "touching hi");
	CHECK(!range_inside(hi - 4096, 4097, lo, hi) && !range_inside(lo - 1, 2, lo, hi),
	      "past hi, below lo");
	CHECK(range_inside(hi, 0, lo, hi) && !range_inside(hi + 1, 0, lo, hi) &&
	      range_inside(0, 0, 0, 0), "size 0");
	CHECK(!range_inside(top, 4096, lo, hi) && range_inside(top, 4096, top, UINT64_MAX) == 0 &&
	      range_inside(top, 4095, top, UINT64_MAX), "the last page");
	CHECK(!(top < lo || top + 4096 > hi), "control: the 64-bit test lets the last page in");
}

/*
 * Expect: touching ranges do not overlap, nested ones do, in both orders;
 * a range ending exactly at 2^64 overlaps one below it that reaches into it
 * (the old 64-bit test said no: its control case).
 *
 *   [a....)[b....)          touching: no
 *   [a.....[b..)....)       nested: yes
 *   [HHDM ...)  [.....2^64) far apart: no;  [x ........ 2^64) over HHDM: yes
 */
static void test_overlap(void)
{
	CHECK(!ranges_overlap(0, 10, 10, 10) && !ranges_overlap(10, 10, 0, 10), "touching");
	CHECK(ranges_overlap(0, 100, 10, 10) && ranges_overlap(10, 10, 0, 100), "nested");
	CHECK(ranges_overlap(5, 1, 5, 1) && ranges_overlap(0, UINT64_MAX, 0, UINT64_MAX), "itself");
	CHECK(!ranges_overlap(5, 0, 0, 100) && !ranges_overlap(0, 100, 5, 0), "size 0");
	uint64_t hhdm = 0xffff800000000000ULL, hsize = 0x0000400000000000ULL;
	uint64_t top = UINT64_MAX - 4095;     /* [top, 2^64) */
	CHECK(!ranges_overlap(top, 4096, hhdm, hsize), "the last page is not in the direct map");
	CHECK(ranges_overlap(top, 4096, top, 4096), "the last page overlaps itself");
	CHECK(ranges_overlap(hhdm + 4096, 0 - (hhdm + 4096), hhdm, hsize),
	      "[hhdm + 4K, 2^64) covers the direct map");
	CHECK(ranges_overlap(hhdm, hsize, hhdm + 4096, 0 - (hhdm + 4096)), "same, other order");
	CHECK(naive_overlap(hhdm + 4096, 0 - (hhdm + 4096), hhdm, hsize) !=
	      model_overlap(hhdm + 4096, 0 - (hhdm + 4096), hhdm, hsize),
	      "control: the 64-bit test misses the overlap of a range ending at 2^64");
	CHECK(naive_overlap(top, 4096, top, 4096) != model_overlap(top, 4096, top, 4096),
	      "control: the 64-bit test says the last page misses itself");
	CHECK(ranges_overlap(UINT64_MAX, 1, 0, UINT64_MAX) == 0 &&
	      ranges_overlap(UINT64_MAX - 1, 2, 0, UINT64_MAX) == 1, "at the very top");
}

/* Expect: align 0 and non-powers of two refuse; align 1 is the identity;
 * align 2^63 rounds to 0 or 2^63; rounding past 2^64 refuses; nothing is
 * written on refusal. */
static void test_align(void)
{
	uint64_t r = 9;
	CHECK(!is_pow2(0) && is_pow2(1) && is_pow2(1ULL << 63) && !is_pow2((1ULL << 63) + 1) &&
	      !is_pow2(UINT64_MAX) && !is_pow2(6), "is_pow2");
	CHECK(!align_up(5, 0, &r) && !align_down(5, 0, &r) && r == 9, "align 0");
	CHECK(!align_up(5, 3, &r) && !align_down(5, 6, &r) && !align_up(5, (1ULL << 63) + 1, &r) &&
	      r == 9, "non-powers of two");
	CHECK(align_up(5, 1, &r) && r == 5 && align_down(5, 1, &r) && r == 5, "align 1");
	CHECK(align_up(1, 1ULL << 63, &r) && r == 1ULL << 63, "up to 2^63");
	r = 9;
	CHECK(!align_up((1ULL << 63) + 1, 1ULL << 63, &r) && r == 9, "past 2^64 with align 2^63");
	CHECK(align_down(UINT64_MAX, 1ULL << 63, &r) && r == 1ULL << 63, "down, 2^63");
	CHECK(align_up(UINT64_MAX - 4095, 4096, &r) && r == UINT64_MAX - 4095, "aligned top page");
	r = 9;
	CHECK(!align_up(UINT64_MAX - 4094, 4096, &r) && r == 9, "inside the top page");
	CHECK(align_up(0, 4096, &r) && r == 0 && is_aligned(8192, 4096) && !is_aligned(8193, 4096),
	      "0 and is_aligned");
}

/* Returns a random 64-bit value biased towards the edges: near 0, near
 * 2^64, near a power of two, or anything. */
static uint64_t edgy(uint64_t *x)
{
	*x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
	uint64_t r = *x, small = r >> 58;  /* 0..63 */
	switch (r & 7) {
	case 0: return small;
	case 1: return UINT64_MAX - small;
	case 2: return (1ULL << (small & 63)) - (r >> 60 & 1);
	case 3: return (1ULL << (small & 63)) + (r >> 60 & 1);
	case 4: return 0;
	default: return r >> (r >> 61);
	}
}

/* Expect: 400k random inputs, biased to the edges, agree with the model;
 * among them the naive 64-bit overlap test (the control) gets some inputs
 * wrong, so the comparison is strong enough to catch that bug. */
static void test_random(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL, naive_wrong = 0;
	for (int i = 0; i < 400000; i++) {
		uint64_t b = edgy(&x), s = edgy(&x), v = edgy(&x), al = edgy(&x);
		uint64_t b2 = edgy(&x), s2 = edgy(&x);
		if (!agree(b, s, v, al, b2, s2))
			return;
		if (model_end(b, s) <= TWO64 && model_end(b2, s2) <= TWO64 &&
		    naive_overlap(b, s, b2, s2) != model_overlap(b, s, b2, s2))
			naive_wrong++;
	}
	CHECK(naive_wrong > 0, "control: the naive overlap test agreed on every input");
}

int main(void)
{
	RUN(test_ends);
	RUN(test_inside);
	RUN(test_overlap);
	RUN(test_align);
	RUN(test_random);
	return harness_done("range");
}
