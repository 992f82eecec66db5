/*
 * tests/host/test_bitops.c - lib/bitops.h at the edges, against plain
 * arithmetic (division and remainder by 64, bit loops) done here.
 */
#include <stdint.h>
#include "lib/bitops.h"
#include "tests/host/harness.h"

/* The model of bit_mask: bits [lo, hi) set one at a time. */
static uint64_t model_mask(unsigned lo, unsigned hi)
{
	uint64_t m = 0;
	for (unsigned i = lo; i < hi && i < 64; i++)
		m |= 1ULL << i;
	return m;
}

/* Expect: word and index of bits 0, 63, 64, 65 and 2^64 - 1 are n / 64 and
 * n % 64; bit_words rounds up without overflowing; bit_number and
 * bit_word_start undo bit_word / bit_index. */
static void test_word_index(void)
{
	static const uint64_t ns[] = { 0, 1, 63, 64, 65, 127, 128, UINT64_MAX - 64, UINT64_MAX };
	for (unsigned i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		uint64_t n = ns[i];
		CHECK(bit_word(n) == n / 64 && bit_index(n) == n % 64, "n=%#lx", n);
		CHECK(bit_words(n) == n / 64 + (n % 64 != 0), "bit_words(%#lx) = %#lx", n,
		      bit_words(n));
		CHECK(bit_number(bit_word(n), bit_index(n)) == n, "bit_number round trip %#lx", n);
		CHECK(bit_word_start(bit_word(n)) == n - n % 64, "bit_word_start %#lx", n);
	}
	CHECK(bit_words(0) == 0 && bit_words(1) == 1 && bit_words(64) == 1 && bit_words(65) == 2,
	      "small counts");
}

/* Expect: every mask [lo, hi) with 0 <= lo <= hi <= 64 equals the loop's;
 * (0,0), (64,64) are empty, (0,64) is all ones, (63,64) the top bit. */
static void test_masks(void)
{
	CHECK(bit_mask(0, 0) == 0 && bit_mask(64, 64) == 0, "empty");
	CHECK(bit_mask(0, 64) == UINT64_MAX && bit_mask(63, 64) == 1ULL << 63, "full, top");
	CHECK(bit_mask(5, 9) == 0x1e0, "5..9");
	CHECK(bit_mask_from(0) == UINT64_MAX && bit_mask_from(64) == 0 &&
	      bit_mask_from(1) == UINT64_MAX - 1, "from");
	for (unsigned lo = 0; lo <= 64; lo++)
		for (unsigned hi = lo; hi <= 64; hi++)
			if (bit_mask(lo, hi) != model_mask(lo, hi)) {
				CHECK(0, "bit_mask(%u, %u) = %#lx", lo, hi, bit_mask(lo, hi));
				return;
			}
}

/* Expect: bit_test reads the bit bit_word/bit_index name across words;
 * bit_lowest and bit_count agree with loops. */
static void test_bits(void)
{
	uint64_t map[3] = { 1ULL << 63, 0, 1 };
	CHECK(bit_test(map, 63) && !bit_test(map, 64) && !bit_test(map, 0) && bit_test(map, 128),
	      "bit_test");
	CHECK(bit_lowest(1) == 0 && bit_lowest(1ULL << 63) == 63 && bit_lowest(0x50) == 4,
	      "bit_lowest");
	CHECK(bit_count(0) == 0 && bit_count(UINT64_MAX) == 64 && bit_count(0x8000000000000001ULL) == 2,
	      "bit_count");
	uint64_t x = 88172645463325252ULL;
	for (int i = 0; i < 100000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		unsigned n = 0, low = 64;
		for (unsigned b = 0; b < 64; b++)
			if (x >> b & 1) {
				n++;
				if (low == 64)
					low = b;
			}
		if (bit_count(x) != n || (x && bit_lowest(x) != low)) {
			CHECK(0, "x=%#lx count %u lowest %u", x, bit_count(x), bit_lowest(x));
			return;
		}
	}
}

int main(void)
{
	RUN(test_word_index);
	RUN(test_masks);
	RUN(test_bits);
	return harness_done("bitops");
}
