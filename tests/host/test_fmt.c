/*
 * tests/host/test_fmt.c - lib/fmt.c against the C library's snprintf,
 * which is the independent truth for every conversion fmt supports.
 */
#include <stdint.h>
#include <string.h>
#include "lib/fmt.h"
#include "tests/host/harness.h"

#define SAME(...) do {								\
	char a[256], b[256];							\
	int na = fmt_snprintf(a, sizeof(a), __VA_ARGS__);			\
	int nb = snprintf(b, sizeof(b), __VA_ARGS__);				\
	CHECK(!strcmp(a, b) && na == nb, "fmt [%s] (%d) vs libc [%s] (%d)", a, na, b, nb); \
} while (0)

/* Expect: every integer conversion and length matches libc, extremes too. */
static void test_integers(void)
{
	SAME("%d %i %u", -5, 42, 7u);
	SAME("%d %d", INT32_MIN, INT32_MAX);
	SAME("%ld %lu %lx %lX", (long)INT64_MIN, (unsigned long)UINT64_MAX, 0xdeadbeefUL, 0xabcUL);
	SAME("%lld %llu %llx", (long long)-1, 18446744073709551615ULL, 0x1ULL);
	SAME("%zu %zx", (size_t)12345, (size_t)0xfff);
	SAME("%x %X %o", 0u, 0xABCDu, 8u);
	SAME("%hx %hu", 0x12345, 65537);
}

/* Expect: widths, '0', '-' and '#' pad exactly like libc. */
static void test_padding(void)
{
	SAME("[%5d|%-5d|%05d|%016lx|%-8s|%8s]", 3, 4, -5, 0x1000UL, "ab", "cd");
	SAME("[%*d|%#lx|%#X|%3c|%-3c]", 6, 9, 0x10UL, 0xffu, 'z', 'y');
	SAME("[%.2s|%.0s|%5.1s]", "abc", "xyz", "hello");
}

/* Expect: %s of NULL prints "(null)" (as glibc does), %% a percent. */
static void test_misc(void)
{
	char a[32];
	const char *volatile null = NULL; /* hidden from -Wformat */
	fmt_snprintf(a, sizeof(a), "%s %%", null);
	CHECK(!strcmp(a, "(null) %"), "gave %s", a);
	fmt_snprintf(a, sizeof(a), "%p", (void *)0x1234);
	CHECK(!strcmp(a, "0x0000000000001234"), "%%p gave %s", a);
}

/* Expect: truncation keeps n-1 bytes and a NUL, and returns the full length. */
static void test_truncation(void)
{
	char a[8];
	int n = fmt_snprintf(a, sizeof(a), "%s", "0123456789");
	CHECK(n == 10 && !strcmp(a, "0123456"), "n=%d a=%s", n, a);
	n = fmt_snprintf(a, 0, "%d", 12345);
	CHECK(n == 5, "n=%d", n);
}

int main(void)
{
	RUN(test_integers);
	RUN(test_padding);
	RUN(test_misc);
	RUN(test_truncation);
	return harness_done("fmt");
}
