/*
 * tests/fuzz/fuzz_ustar.c - libFuzzer harness for kernel/ramdisk/ustar.c: the input
 * is the archive, in an exact-size buffer.  It is walked, listed, searched
 * for hello.txt and every file found is printed as text.  An entry must lie
 * inside the archive, and the walk must end within size / 512 + 1 steps.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/ramdisk/ustar.h"

void mm_printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *ar = malloc(size ? size : 1);
	memcpy(ar, data, size);

	struct ustar u;
	struct ustar_entry e;
	uint64_t steps = 0;
	ustar_open(&u, ar, size);
	while (ustar_next(&u, &e) == USTAR_OK) {
		if (e.data < ar || (uint64_t)(e.data - ar) > size || e.size > size - (uint64_t)(e.data - ar) ||
		    ++steps > size / USTAR_BLOCK + 1)
			abort();
		ustar_print_text(&e, "fuzz");
	}
	ustar_list(ar, size, "fuzz");
	if (ustar_find(ar, size, "hello.txt", &e) == USTAR_OK)
		ustar_print_text(&e, "fuzz");
	free(ar);
	return 0;
}
