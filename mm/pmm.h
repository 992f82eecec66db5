/*
 * mm/pmm.h - physical frame allocator: a bitmap of 4 KiB frames with a
 * summary level, bootstrapped by a bump boot allocator over the sanitised
 * map, with a per-CPU cache of single frames in front of it.
 *
 * Implementation: mm/bootalloc.c, mm/pmm.c (theory statement, locking).
 * One instance per "machine"; the kernel has one (kernel_pmm), host tests
 * make as many as they like.  Every function may be called from any CPU
 * at any time (the allocator locks itself); pmm_check and the fields of
 * struct pmm are for tests, read while no other CPU uses the allocator.
 */
#ifndef MM_PMM_H
#define MM_PMM_H

#include <stdint.h>
#include <stddef.h>
#include "mm/lock.h"
#include "mm/memmap.h"
#include "mm/platform.h"

struct bootalloc;

/*
 * Per-CPU frame caches (mm/pmm.c theory 9).  A CPU refills its empty cache
 * with PMM_PCP_BATCH frames, and drains PMM_PCP_BATCH when PMM_PCP_HIGH are
 * cached, each time under the allocator lock.  Batch 32: the lock and the
 * bitmap walk are paid once per 32 frames (Linux's pcp batch is 63 on big
 * zones; the walk at 99.9% full is the cost that matters, and 32 keeps the
 * lock hold under a few microseconds even there).  High = 2 x batch, the
 * two-magazine rule (Bonwick): after a refill or a drain the cache holds
 * exactly one batch, so at least a batch of allocations or of frees runs
 * without the lock whatever the pattern - alternating alloc/free never
 * thrashes.  The slots are 64-bit frame numbers: 64 + 8 x 64 = 576 bytes a
 * CPU.
 */
#define PMM_PCP_BATCH 32
#define PMM_PCP_HIGH  (2 * PMM_PCP_BATCH)

/* RAM per cache: a machine gets one CPU cache per 16 x PMM_PCP_HIGH frames
 * (4 MiB) of RAM, between PMM_PCP_MIN_CPUS and MM_MAX_CPUS caches, so what
 * the caches can hold is at most 1/16 of RAM on any machine big enough to
 * matter (and 256 caches, 144 KiB of metadata, from 1 GiB up).  CPUs with
 * a higher number take frames from the bitmap under the lock. */
#define PMM_PCP_RAM_FRAMES (16 * PMM_PCP_HIGH)

/* Caches even on the smallest machine: host tests and the 4 MiB fuzzing
 * machine exercise stealing between several caches (4 x 576 bytes). */
#define PMM_PCP_MIN_CPUS 4

struct pmm_pcp;     /* one CPU's cache, in the metadata (mm/pmm.c) */

/* NUMA nodes (mm/pmm.c theory 16).  32 nodes: 8 sockets of 4 sub-NUMA
 * clusters, the most an x86 machine has (kernel/acpi/numa.h reads up to as
 * many).  128 ranges: a few per node. */
#define PMM_MAX_NODES  32
#define PMM_MAX_NODE_RANGES 128

/* What pmm_set_numa is told: each node's physical ranges (bytes, sorted,
 * disjoint; RAM outside them belongs to no node), each CPU's node, and
 * the node distances (SLIT units: 10 = local). */
struct pmm_numa {
	uint32_t nodes;                 /* 1 .. PMM_MAX_NODES */
	uint32_t nranges;
	struct { uint64_t base, size; uint32_t node; } range[PMM_MAX_NODE_RANGES];
	uint8_t cpu_node[MM_MAX_CPUS];  /* by mm_cpu_id */
	uint8_t dist[PMM_MAX_NODES][PMM_MAX_NODES];
};

/* The allocator's own copy (theory 16): ranges in frames, each node's
 * fallback order, nearest first, and usable frames per node. */
struct pmm_nodes {
	uint32_t nodes;                 /* 0: no NUMA, refills as before */
	uint32_t nranges;
	struct { uint64_t lo, hi; uint32_t node; } range[PMM_MAX_NODE_RANGES]; /* frames */
	uint8_t cpu_node[MM_MAX_CPUS];
	uint8_t order[PMM_MAX_NODES][PMM_MAX_NODES];
	uint64_t total[PMM_MAX_NODES];  /* usable frames in the node */
	uint8_t empty[PMM_MAX_NODES];   /* 1: a refill found the node without a
					   free frame and none of its frames went
					   back to the bitmap since (theory 16) */
};

/* Frames in one block of the free-block map (mm/pmm.c theory 13): 512
 * frames, 2 MiB, the large-page size - 8 bitmap words, one cache line. */
#define PMM_BLOCK_FRAMES 512

struct pmm {
	uint64_t *bitmap;     /* 1 bit per frame, 1 = used; via mm_phys_to_virt */
	uint64_t *summary;    /* 1 bit per bitmap word, 1 = word has a free frame */
	uint64_t *tags;       /* 1 bit per frame, 1 = allocated and tagged by its
				 owner (kalloc's direct-map pages) */
	uint64_t nframes;     /* frames covered: up to the highest usable frame */
	uint64_t nwords;      /* bitmap words */
	uint64_t total;       /* usable frames (RAM the allocator manages) */
	uint64_t bitmap_free; /* frames free in the bitmap (cached ones are not:
				 pmm_free_frames counts both) */
	uint64_t hint;        /* next-fit: bitmap word to start searching at (CPUs
				 without a cache; a cache has its own) */
	const struct mm_region *map; /* the sanitised map it was built from */
	size_t map_count;
	uint64_t meta_pa;     /* physical range holding bitmap + summary */
	uint64_t meta_size;
	/* Second summary level and lookup hints (mm/pmm.c theory 3, 4, 6): */
	uint64_t *summary2;   /* 1 bit per summary word, 1 = that word is non-zero */
	uint64_t nsum;        /* summary words */
	uint64_t nsum2;       /* summary2 words */
	uint64_t chint;       /* next-fit for contiguous requests: a frame number */
	size_t ram_hint;      /* map index of the last region a CPU without a
				 cache freed into (the lock's) */
	/* Free-block map (mm/pmm.c theory 13): */
	uint64_t *blocks;     /* 1 bit per PMM_BLOCK_FRAMES-frame block, 1 = all
				 its frames free in the bitmap */
	uint64_t nblocks;     /* whole blocks in the bitmap: nwords / 8 */
	uint64_t nblockw;     /* words of blocks */
	/* Per-CPU caches and the lock (mm/pmm.c theory 9-12): */
	struct mm_lock lock;  /* the bitmap, summaries, hints, bitmap_free */
	uint16_t *where;      /* 1 entry per frame, never initialised: which
				 cache slot holds it, if any (theory 10) */
	struct pmm_pcp *pcp;  /* ncpus caches, in the metadata */
	uint32_t ncpus;       /* CPUs 0 .. ncpus-1 have a cache */
	uint32_t cpus_seen;   /* 1 + highest CPU whose cache was ever used */
	uint32_t moves;       /* odd while a drain or refill moves frames between
				 a cache and the bitmap (under the lock): lock-
				 free readers retry around it (mm/pmm.c theory 10) */
	struct pmm_nodes numa; /* NUMA nodes (theory 16), under the lock */
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

/* Allocates one frame; *pa gets its physical address.  MM_OK or MM_ENOMEM.
 * Served from this CPU's cache (refilled from the bitmap; when that is
 * empty, the other CPUs are asked to give their cached frames back):
 * MM_ENOMEM means no frame was free anywhere, unless a running CPU failed
 * to answer (reported; mm/platform.h mm_cpu_running). */
int pmm_alloc(struct pmm *pmm, uint64_t *pa);

/* Allocates count contiguous frames whose first address is a multiple of
 * align (bytes, a power of two >= 4096).  MM_OK, MM_ENOMEM or MM_EINVAL. */
int pmm_alloc_contig(struct pmm *pmm, uint64_t count, uint64_t align, uint64_t *pa);

/* Frees the frame at pa (into this CPU's cache; any CPU may free any
 * frame).  A frame that is not allocated (MM_ENOENT: free, or already in a
 * CPU cache), not RAM or one of the allocator's own metadata frames
 * (MM_ERANGE), or tagged (MM_EBUSY: its owner frees it, see pmm_tag) is
 * reported with its address via mm_printf and nothing changes; MM_EINVAL
 * if pa is not page aligned. */
int pmm_free(struct pmm *pmm, uint64_t pa);

/* Frees count frames from pa; all-or-nothing: checks every frame first. */
int pmm_free_contig(struct pmm *pmm, uint64_t pa, uint64_t count);

/* Bulk single frames, straight from and to the bitmap under one lock
 * acquisition (no per-CPU cache): for a caller that takes or gives back
 * many frames at once (a teardown, a big buffer that need not be
 * contiguous).  pmm_alloc_bulk puts n frames' addresses into pa[0..n), in
 * the order the next-fit walk finds them: MM_OK, MM_ENOMEM if fewer than n
 * frames are free (cached frames count: they are reclaimed first) - then
 * nothing is allocated - or MM_EINVAL if n is 0 or pa is NULL.
 * pmm_free_bulk frees the n frames at pa[0..n), in any order; all or
 * nothing: an entry pmm_free would refuse, or a frame listed twice, is
 * reported (`pmm_free_bulk(<pa>, 1): ...` as pmm_free reports it) and the
 * call returns that status with nothing freed (the entries before it,
 * already given back, are taken back under the same lock).  MM_EINVAL,
 * reported, if n is 0 or pa is NULL.  A refused bulk free may let a
 * lock-free reader (pmm_is_allocated, pmm_tag) see its frames free for a
 * moment. */
int pmm_alloc_bulk(struct pmm *pmm, uint64_t n, uint64_t *pa);
int pmm_free_bulk(struct pmm *pmm, uint64_t n, const uint64_t *pa);

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

/* Returns 1 if the frame at pa is managed RAM and currently allocated (a
 * frame in a CPU cache is free, not allocated). */
int pmm_is_allocated(const struct pmm *pmm, uint64_t pa);

/* Returns 1 if the frame at pa is usable RAM managed by this allocator. */
int pmm_is_ram(const struct pmm *pmm, uint64_t pa);

/* Frames free now: free in the bitmap plus cached on any CPU (a cached
 * frame is free: any CPU gets it before MM_ENOMEM).  Exact when no other
 * CPU is inside the allocator; a snapshot otherwise. */
uint64_t pmm_free_frames(const struct pmm *pmm);

/* Totals in frames: usable RAM managed, free now (pmm_free_frames), used
 * now (= total - free, the allocator's own metadata included).  Any
 * pointer may be NULL. */
void pmm_totals(const struct pmm *pmm, uint64_t *total, uint64_t *free, uint64_t *used);

/* Prints `pmm: <free> free frames of <total> (<MiB> MiB free)`, free as
 * pmm_free_frames counts it. */
void pmm_print(const struct pmm *pmm);

/* Tells the allocator the NUMA nodes (mm/pmm.c theory 16): from now on a
 * CPU's single-frame refills take frames from its own node, then from the
 * others nearest first (by dist), then from RAM outside every node.  May
 * be called at any time, from any CPU (takes the lock).  MM_OK, or
 * MM_EINVAL (reported, nothing changed) if nodes is 0 or above
 * PMM_MAX_NODES, nranges above PMM_MAX_NODE_RANGES, a range is unsorted,
 * overlaps the previous one, wraps or names a node >= nodes, or a CPU's
 * node is >= nodes.  Ranges need not be page aligned: a frame belongs to
 * the node whose range holds its first byte. */
int pmm_set_numa(struct pmm *pmm, const struct pmm_numa *n);

/* Frames of node `node` free now (in the bitmap or cached) and usable in
 * all; node == nodes asks for RAM outside every node.  A walk of the
 * node's free-block map, and of the bitmap only where a block is partly
 * used.  Exact while no other CPU uses the allocator.  MM_OK or
 * MM_EINVAL (no NUMA, or node > nodes). */
int pmm_node_frames(const struct pmm *pmm, uint32_t node, uint64_t *free, uint64_t *total);

/* Prints `pmm: node <n>: <free> free frames of <total>` per node, and
 * `pmm: no node: ...` for usable RAM outside every node if there is any;
 * nothing without NUMA. */
void pmm_print_nodes(const struct pmm *pmm);

/* Answers this CPU's pending drain requests (mm/pmm.c theory 10): gives
 * its cache's frames back to the bitmap if an allocator asked for them.
 * pmm_init makes it mm_wait_hook (mm/platform.h); it never blocks (a
 * trylock) and does nothing if this CPU holds the allocator lock. */
void pmm_serve_pending(void);

/* Frames in CPU caches now (part of pmm_free_frames). */
uint64_t pmm_cached_frames(const struct pmm *pmm);

/* Frames in CPU cpu's cache now (0 for a CPU without one). */
uint64_t pmm_cpu_cached(const struct pmm *pmm, unsigned cpu);

/* Gives every frame in every CPU cache back to the bitmap (what a failed
 * contiguous request does before it gives up); returns how many. */
uint64_t pmm_drain_all(struct pmm *pmm);

/* Checks every invariant (summary levels and the free-block map match the
 * bitmap, free count, holes and padding marked used, cached frames and the
 * caches agree); O(frames).
 * Prints the first violation and returns MM_EINVAL, or returns MM_OK.  For
 * tests and debugging, while no other CPU uses the allocator. */
int pmm_check(const struct pmm *pmm);

#endif
