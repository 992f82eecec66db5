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

/* Returns 1 if every byte of s is printable ASCII (what a terminal shows
 * as text, never a control function). */
static int all_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* Undoes fmt_escape's encoding (written here from its contract); returns
 * the decoded length, or -1 on a malformed escape. */
static int unescape(const char *s, char *out)
{
	int n = 0;
	while (*s) {
		if (*s != '\\') {
			out[n++] = *s++;
			continue;
		}
		if (s[1] == '\\' || s[1] == '"') {
			out[n++] = s[1];
			s += 2;
		} else if (s[1] == 'x' && s[2] && s[3]) {
			unsigned v;
			if (sscanf(s + 2, "%2x", &v) != 1)
				return -1;
			out[n++] = (char)v;
			s += 4;
		} else {
			return -1;
		}
	}
	return n;
}

/* Expect: control bytes, escape sequences, quotes, backslashes and bytes
 * >= 0x80 come out as \xNN / \\ / \"; the output is printable only and
 * decodes back to the input; a short buffer cuts between escapes.
 * Control: the raw text with ESC is not printable-only. */
static void test_escape(void)
{
	char out[64], back[64];
	const char evil[] = "a\x1b[2J\"q\\\r\n\x7f\xff";
	size_t used = fmt_escape(out, sizeof(out), evil, sizeof(evil) - 1);
	CHECK(used == sizeof(evil) - 1, "consumed %zu", used);
	CHECK(!strcmp(out, "a\\x1b[2J\\\"q\\\\\\x0d\\x0a\\x7f\\xff"), "got %s", out);
	CHECK(!all_printable(evil), "control: the raw text is not printable-only");
	used = fmt_escape(out, 6, "ab\x01", 3);
	CHECK(used == 2 && !strcmp(out, "ab"), "cut before an escape: %zu [%s]", used, out);
	CHECK(fmt_escape(out, 0, "x", 1) == 0, "n == 0");
	uint32_t x = 12345;
	for (int iter = 0; iter < 20000; iter++) {
		char in[16];
		size_t len = 1 + iter % 15;
		for (size_t i = 0; i < len; i++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			in[i] = (char)(x & 0xff);
		}
		size_t cap = 1 + x % sizeof(out);
		used = fmt_escape(out, cap, in, len);
		int n = unescape(out, back);
		if (!all_printable(out) || n != (int)used || memcmp(back, in, used) != 0 ||
		    strlen(out) >= cap || (used < len && strlen(out) + 4 < cap)) {
			CHECK(0, "iteration %d: cap %zu used %zu decoded %d [%s]", iter, cap, used, n, out);
			break;
		}
	}
}

int main(void)
{
	RUN(test_integers);
	RUN(test_padding);
	RUN(test_misc);
	RUN(test_truncation);
	RUN(test_escape);
	return harness_done("fmt");
}
