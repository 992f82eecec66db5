/*
 * lib/string.c - lib/string.h for the loader and the kernel.  Byte loops
 * (memset with rep stosq when it can): both are built without SSE; memset
 * clears the frame allocator's metadata (96 MiB at 1 TiB).
 */
#include <stdint.h>
#include "lib/string.h"

/* Fills n bytes at d with c; returns d. */
void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;
	if (((uintptr_t)p & 7) == 0 && (n & 7) == 0) {
		/* rep stosq: the CPU's string engine (fast-string microcode on
		 * hardware; under QEMU TCG 1.6x the speed of a word loop, which
		 * matters for the frame allocator's metadata at 1 TiB). */
		uint64_t v = 0x0101010101010101ULL * (unsigned char)c, words = n / 8;
		__asm__ volatile("rep stosq" : "+D"(p), "+c"(words) : "a"(v) : "memory");
		return d;
	}
	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

/* Copies n bytes from s to d (must not overlap); returns d. */
void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;
	while (n--)
		*dp++ = *sp++;
	return d;
}

/* Copies n bytes from s to d, overlap allowed; returns d. */
void *memmove(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;
	if (dp < sp) {
		while (n--)
			*dp++ = *sp++;
	} else {
		while (n--)
			dp[n] = sp[n];
	}
	return d;
}

/* Compares n bytes; returns <0, 0 or >0 like the C library. */
int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] - y[i];
	return 0;
}

/* Returns the length of the NUL-terminated string s. */
size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}
