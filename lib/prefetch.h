/*
 * lib/prefetch.h - a cache-line prefetch that works in the kernel too.
 */
#ifndef LIB_PREFETCH_H
#define LIB_PREFETCH_H

/*
 * Starts loading the cache line holding p into every cache level (a hint:
 * it changes no value and cannot fault, so p may point past an array).
 * An asm statement rather than __builtin_prefetch, which emits nothing in
 * the kernel (built with -mno-sse: to the compiler PREFETCHh belongs to
 * SSE, though it touches no SSE state), and which GCC may drop from a
 * function of prefetches alone.
 */
static inline void prefetch_line(const void *p)
{
#if defined(__x86_64__)
	__asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)p));
#else
	__builtin_prefetch(p);
#endif
}

#endif
