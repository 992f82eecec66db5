/*
 * mm/pmm.h - physical frame allocator: a bitmap of 4 KiB frames with a
 * summary level, bootstrapped by a bump boot allocator over the sanitised map.
 *
 * Implementation: mm/bootalloc.c, mm/pmm.c.  One instance per "machine";
 * the kernel has one (kernel_pmm), host tests make as many as they like.
 */
#ifndef MM_PMM_H
#define MM_PMM_H

#include <stdint.h>
#include <stddef.h>
#include "mm/memmap.h"

struct bootalloc;

struct pmm {
	uint64_t *bitmap;     /* 1 bit per frame, 1 = used; via mm_phys_to_virt */
	uint64_t *summary;    /* 1 bit per bitmap word, 1 = word has a free frame */
	uint64_t *tags;       /* 1 bit per frame, 1 = allocated and tagged by its
				 owner (kalloc's direct-map pages) */
	uint64_t nframes;     /* frames covered: up to the highest usable frame */
	uint64_t nwords;      /* bitmap words */
	uint64_t total;       /* usable frames (RAM the allocator manages) */
	uint64_t free;        /* frames free now */
	uint64_t hint;        /* next-fit: bitmap word to start searching at */
	const struct mm_region *map; /* the sanitised map it was built from */
	size_t map_count;
	uint64_t meta_pa;     /* physical range holding bitmap + summary */
	uint64_t meta_size;
	/* Second summary level and lookup hints (mm/pmm.c theory 3, 4, 6): */
	uint64_t *summary2;   /* 1 bit per summary word, 1 = that word is non-zero */
	uint64_t nsum;        /* summary words */
	uint64_t nsum2;       /* summary2 words */
	uint64_t chint;       /* next-fit for contiguous requests: a frame number */
	size_t ram_hint;      /* map index of the last region pmm_free looked up */
};

/* Builds the allocator over the usable regions of map[0..count).  The
 * bitmap's storage comes from a boot allocator over the same regions; those
 * frames stay marked used.  The map must stay valid while pmm is used.
 * Returns MM_OK, MM_ENOMEM if no usable region can hold the bitmap, or
 * MM_EINVAL if the map is not sanitised (unsorted, overlapping, a usable
 * region not page aligned or holding page 0). */
int pmm_init(struct pmm *pmm, const struct mm_region *map, size_t count);

/* Like pmm_init, but takes over the boot allocator ba, which was started on
 * the same map and may already have handed out memory (early page tables...):
 * everything ba handed out stays allocated, the bitmap's own frames come
 * from ba too.  ba must not be used afterwards. */
int pmm_init_boot(struct pmm *pmm, const struct mm_region *map, size_t count,
		  struct bootalloc *ba);

/* Allocates one frame; *pa gets its physical address.  MM_OK or MM_ENOMEM. */
int pmm_alloc(struct pmm *pmm, uint64_t *pa);

/* Allocates count contiguous frames whose first address is a multiple of
 * align (bytes, a power of two >= 4096).  MM_OK, MM_ENOMEM or MM_EINVAL. */
int pmm_alloc_contig(struct pmm *pmm, uint64_t count, uint64_t align, uint64_t *pa);

/* Frees the frame at pa.  A frame that is not allocated (MM_ENOENT), not RAM
 * or one of the allocator's own bitmap frames (MM_ERANGE), or tagged
 * (MM_EBUSY: its owner frees it, see pmm_tag) is reported with its address
 * via mm_printf and nothing changes; MM_EINVAL if pa is not page aligned. */
int pmm_free(struct pmm *pmm, uint64_t pa);

/* Frees count frames from pa; all-or-nothing: checks every frame first. */
int pmm_free_contig(struct pmm *pmm, uint64_t pa, uint64_t count);

/* Frame tags: one bit per frame with which an owner marks the frames it
 * handed out itself (kalloc: single pages it returns as direct-map
 * pointers), so a free can tell "allocated" from "allocated by me": a stale
 * or foreign kfree, or a pmm_free of a tagged frame, is refused.
 * pmm_tag tags an allocated, untagged frame (MM_OK; MM_ENOENT if it is not
 * allocated RAM, MM_EBUSY if already tagged); pmm_untag clears the tag of a
 * tagged frame (MM_OK, or MM_ENOENT if it is not tagged).  Neither prints. */
int pmm_tag(struct pmm *pmm, uint64_t pa);
int pmm_untag(struct pmm *pmm, uint64_t pa);

/* Returns 1 if the frame at pa is managed RAM, allocated and tagged. */
int pmm_is_tagged(const struct pmm *pmm, uint64_t pa);

/* Returns 1 if the frame at pa is managed RAM and currently allocated. */
int pmm_is_allocated(const struct pmm *pmm, uint64_t pa);

/* Returns 1 if the frame at pa is usable RAM managed by this allocator. */
int pmm_is_ram(const struct pmm *pmm, uint64_t pa);

/* Totals in frames: usable RAM managed, free now, used now (= total - free,
 * the allocator's own bitmap included).  Any pointer may be NULL. */
void pmm_totals(const struct pmm *pmm, uint64_t *total, uint64_t *free, uint64_t *used);

/* Prints `pmm: <free> free frames of <total> (<MiB> MiB free)`. */
void pmm_print(const struct pmm *pmm);

/* Checks every invariant (summary levels match the bitmap, free count, holes
 * and padding marked used); O(frames).  Prints the first violation and
 * returns MM_EINVAL, or returns MM_OK.  For tests and debugging. */
int pmm_check(const struct pmm *pmm);

#endif
