/*
 * mm/bootalloc.h - the boot allocator: a bump allocator over the usable
 * regions of the sanitised map that never frees (like Linux memblock in its
 * simplest use, or a BootFrameAllocator).  It exists only until the bitmap
 * allocator (mm/pmm.h) takes over; every range it handed out is recorded so
 * the bitmap can mark it used.
 *
 * Implementation: mm/bootalloc.c.
 */
#ifndef MM_BOOTALLOC_H
#define MM_BOOTALLOC_H

#include <stdint.h>
#include <stddef.h>
#include "mm/memmap.h"

/* Lowest address handed out: the first MiB stays untouched because real-mode
 * trampolines (SMP start-up) and legacy DMA need memory below it and it is
 * tiny, so the bitmap never competes for it. */
#define BOOTALLOC_FLOOR 0x100000ULL

/* Handed-out ranges recorded.  Consecutive allocations merge into one range,
 * so a new range starts only when the bump pointer jumps (alignment gap or
 * next region); 16 is far more than the handful of boot allocations. */
#define BOOTALLOC_MAX_RANGES 16

/* One handed-out range [pa, pa + size), bytes. */
struct bootalloc_range {
	uint64_t pa;
	uint64_t size;
};

struct bootalloc {
	const struct mm_region *map;  /* the sanitised map (sorted) */
	size_t count;
	size_t idx;                   /* region the bump pointer is in */
	uint64_t next;                /* bump pointer: next free byte (pa) */
	uint64_t allocated;           /* bytes handed out */
	struct bootalloc_range ranges[BOOTALLOC_MAX_RANGES];
	size_t nranges;
};

/* Starts a boot allocator over the usable regions of map[0..count) at or
 * above BOOTALLOC_FLOOR.  The map must be sorted (memmap_sanitize output)
 * and stay valid while ba is used. */
void bootalloc_init(struct bootalloc *ba, const struct mm_region *map, size_t count);

/* Hands out size bytes (rounded up to 4 KiB) aligned to align (a power of
 * two, at least 4096), lowest address first; the memory is not cleared.
 * *pa gets the physical address.  Returns MM_OK, MM_EINVAL (size 0, bad
 * align), or MM_ENOMEM (no usable region above the pointer can hold it, or
 * BOOTALLOC_MAX_RANGES ranges are in use).  A refused request changes
 * nothing: the next one is served as if it had never been made. */
int bootalloc_alloc(struct bootalloc *ba, uint64_t size, uint64_t align, uint64_t *pa);

#endif
