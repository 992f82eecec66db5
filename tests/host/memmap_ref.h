/*
 * tests/host/memmap_ref.h - the O(n^2) reference sanitiser (test only).
 */
#ifndef TESTS_HOST_MEMMAP_REF_H
#define TESTS_HOST_MEMMAP_REF_H

#include "mm/memmap.h"

/* memmap_sanitize's contract without the scratch arguments, by the old
 * algorithm: the same status, *count, out[0..*count) and mm_printf lines
 * are expected of memmap_sanitize for every input. */
int memmap_ref_sanitize(const void *raw, uint64_t raw_size, uint32_t desc_size,
			const struct bootinfo_range *used, uint32_t used_count,
			struct mm_region *out, size_t cap, size_t *count);

#endif
