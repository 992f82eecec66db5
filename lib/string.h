/*
 * lib/string.h - the C library string functions freestanding code uses
 * (the compiler itself emits calls to memset and memcpy).  The loader and
 * the kernel link lib/string.c; host programs get the same functions from
 * libc, so the prototypes here are exactly the standard ones.
 */
#ifndef LIB_STRING_H
#define LIB_STRING_H

#include <stddef.h>

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif
