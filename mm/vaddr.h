/*
 * mm/vaddr.h - virtual address allocator: one instance per range of an
 * address space (the kernel window, the user half).
 *
 * Theory statement (see also mm/paging.h):
 *
 *  1. A space covers [base, end), both page aligned.  It is cut into
 *     blocks, each free or in use, kept on an address-ordered doubly
 *     linked list.  The list is the source of truth: the blocks tile the
 *     space exactly, in order, and no two free blocks are neighbours
 *     (a free is merged at once).  A new space is one free block.
 *
 *  2. Index: a B+ tree over the blocks, keyed by base address, built of
 *     cache-line-aligned nodes of VIRTADDR_FANOUT entries (struct
 *     virtaddr_index: the keys, the free sizes and the pointers each in one
 *     array of their own, so a search reads two lines of a node).  A leaf
 *     entry is one block: its base, its size if it is free (0 in use) and
 *     the block; an inner entry is one child: the lowest base below it, the
 *     largest free size below it, and the child.  Every leaf is at depth
 *     s->height - 1; every node but the root holds VIRTADDR_FANOUT / 2 to
 *     VIRTADDR_FANOUT entries (an inner root at least 2), unused entries
 *     read key UINT64_MAX, free size 0, pointer NULL.  The leaf entries in
 *     order are the list (theory 1).  Finding the block holding an address
 *     and the lowest fit (the first entry whose free size is large enough,
 *     skipping subtrees whose largest free size is too small) both walk
 *     O(log n) nodes, about 5 at 200k blocks against ~35 levels of the
 *     treap this replaced: at 100k live blocks the cost is cache misses,
 *     and a wide node turns a miss per level into a miss per 16-way choice
 *     (the layout of Linux's maple tree).  A split or merge moves entries
 *     between index nodes only; blocks never move, so a block pointer (the
 *     lazy lists of mm/paging.h) stays valid while the block lives.  All
 *     index code is iterative (parent pointers, no recursion).  A free
 *     searches the index once, for the block at its address; its merges
 *     step to the neighbouring leaf entries and follow them through the
 *     rebalancing (no second search).  A leaf entry also copies its
 *     block's owner tag and pending flag (state[]), so a free checks and
 *     merges from the leaf alone in the common case: the block's size is
 *     the next block's base minus its own (the blocks tile the space; that
 *     base is the next entry's key, or past a leaf's last entry the next
 *     subtree's key in an ancestor the search walked through), a
 *     neighbour is free when its free size is not 0, and the list links of
 *     a dropped block are rewritten from the neighbouring entries.  The
 *     blocks are then only written, never waited for (at 100k live blocks
 *     each is a cache miss).
 *
 *  3. Blocks and index nodes live in whole frames taken from the frame
 *     allocator and reached through the direct map; no heap is needed.  A
 *     frame holds one kind: VIRTADDR_BLOCKS_PER_FRAME blocks or
 *     VIRTADDR_INDEX_PER_FRAME index nodes after a header that chains the
 *     frames.  A freed block or index node goes on the space's spare list
 *     of its kind and is reused.  Frames are returned to the frame
 *     allocator only by virtaddr_destroy, so their number follows the peak
 *     number of blocks.
 *
 *  4. Every operation that can fail takes its nodes before it changes
 *     anything, so a failed call (MM_ENOMEM) leaves the space as it was.
 *
 *  5. Locking: each space has one lock, s->lock ("vaddr"), taken by every
 *     public function below except virtaddr_init / virtaddr_destroy (the
 *     space is private then) and virtaddr_find (inspection by single-threaded
 *     tests).  It guards the list, the tree, the spare nodes, the counters
 *     and every block's fields except lazy_next (the lazy list's lock in
 *     mm/paging.h guards that).  Internal helpers assert it held.  Taken
 *     after a paging lock, before the pmm's (order in mm/paging.h theory 6);
 *     held with interrupts off (mm/lock.h), never across a TLB shootdown.
 *     A free that must wait for other CPUs' TLBs works in two steps:
 *     virtaddr_claim_owned marks the block pending (theory 7), and
 *     virtaddr_free_pending frees it once the shootdown has returned.
 *
 *  6. Every block in use carries the tag of the API that made it
 *     (enum virtaddr_owner).  A free names the owner it expects, and a
 *     block made by another API is refused (MM_EOWNER) before anything
 *     changes: kfree cannot free a mem_map_addr range, mem_unmap_addr
 *     cannot free a kalloc range, and virtaddr_free frees only what
 *     virtaddr_alloc / virtaddr_take made.
 *
 *  7. Pending blocks.  A block claimed for a lazy unmap (kfree,
 *     mem_unmap_addr: mm/paging.h theory 8) keeps its owner tag and its
 *     place but is no longer in use for its maker: it counts in npending /
 *     pending_bytes instead of nused / used_bytes, every free, check or
 *     claim of it is refused as already freed (MM_ENOENT), and no
 *     allocation can take its range until virtaddr_free_pending frees it.
 *     When an allocation fails (MM_ENOMEM, or virtaddr_take finds its range
 *     busy) and the space has a reclaim hook (virtaddr_set_reclaim: the
 *     paging layer's purge), the hook runs with no lock held and the
 *     allocation is tried once more, so pending frees never turn into a
 *     false out-of-memory.
 *
 * All addresses and sizes are bytes and must be multiples of PAGE_SIZE.
 */
#ifndef MM_VADDR_H
#define MM_VADDR_H

#include <stdint.h>
#include "mm/lock.h"
#include "mm/pmm.h"

/* One block [base, base + size): a node of the address-ordered list,
 * pointed at by one leaf entry of the index. */
struct virtaddr_block {
	uint64_t base;
	uint64_t size;
	struct virtaddr_block *prev, *next;   /* address-ordered list */
	struct virtaddr_block *lazy_next;     /* pending: next on a lazy list (theory 7) */
	uint16_t owner;     /* VIRTADDR_FREE_BLOCK, or the API that made it */
	uint16_t pending;   /* 1: claimed for a lazy unmap, freed by its purge */
	uint32_t reserved;  /* 0; pads the block to 48 bytes */
};

/* Entries per index node: 16 keys fill two cache lines, so does each of
 * the other two arrays (Linux's maple tree also keeps 16 per node). */
#define VIRTADDR_FANOUT 16

/* One node of the index (theory 2).  A leaf's ptr[i] is a struct
 * virtaddr_block, an inner node's a struct virtaddr_index. */
struct virtaddr_index {
	uint64_t key[VIRTADDR_FANOUT];       /* lowest base below entry i */
	uint64_t max_free[VIRTADDR_FANOUT];  /* largest free size below entry i */
	void *ptr[VIRTADDR_FANOUT];          /* the block or the child */
	struct virtaddr_index *parent;       /* NULL at the root */
	uint32_t n;                          /* entries in use: [0, n) */
	uint16_t leaf;                       /* 1: ptr[] are blocks */
	uint16_t slot;                       /* the parent's entry for this node */
	uint8_t state[VIRTADDR_FANOUT];      /* leaf: entry i's block's owner, | VIRTADDR_STATE_PENDING */
	uint8_t pad[32];                     /* to a multiple of the cache line */
};

/* Bit of virtaddr_index.state: the block is pending (theory 7). */
#define VIRTADDR_STATE_PENDING 0x80

/* Bytes at the start of each node frame: the chain of frames (theory 3). */
#define VIRTADDR_FRAME_HEADER 64
#define VIRTADDR_BLOCKS_PER_FRAME \
	((PAGE_SIZE - VIRTADDR_FRAME_HEADER) / sizeof(struct virtaddr_block))
#define VIRTADDR_INDEX_PER_FRAME \
	((PAGE_SIZE - VIRTADDR_FRAME_HEADER) / sizeof(struct virtaddr_index))

/* Owner tags of blocks (theory 6).  0 is free, so `if (b->owner)` reads
 * "in use". */
enum virtaddr_owner {
	VIRTADDR_FREE_BLOCK = 0,
	VIRTADDR_OWNER_CALLER,    /* virtaddr_alloc / virtaddr_take */
	VIRTADDR_OWNER_KALLOC,    /* kalloc_in: mapped frames it owns */
	VIRTADDR_OWNER_MAP_ADDR,  /* mem_map_addr: someone else's physical range */
	VIRTADDR_OWNERS
};

struct virtaddr_space {
	struct mm_lock lock;            /* guards everything below (theory 5) */
	uint64_t base, end;             /* the space: [base, end) */
	struct pmm *pmm;                /* where node frames come from */
	struct virtaddr_block *head;    /* lowest block (list head) */
	struct virtaddr_index *root;    /* index root (theory 2) */
	uint64_t height;                /* index levels; leaves at height - 1 */
	struct virtaddr_block *spare;   /* recycled blocks, chained by next */
	uint64_t nspare;                /* blocks on the spare list */
	struct virtaddr_index *ix_spare;  /* recycled index nodes, chained by parent */
	uint64_t nix_spare;             /* index nodes on that list */
	uint64_t nix;                   /* index nodes in the tree */
	uint64_t frames_pa;             /* node frames, chained by their headers */
	uint64_t node_frames;           /* frames holding blocks or index nodes */
	uint64_t nblocks;               /* blocks on the list */
	uint64_t nused;                 /* blocks in use (pending ones excluded) */
	uint64_t used_bytes;            /* bytes in use (pending ones excluded) */
	uint64_t npending;              /* pending blocks (theory 7) */
	uint64_t pending_bytes;         /* their bytes */
	void (*reclaim)(void *arg);     /* frees pending blocks (theory 7), or NULL */
	void *reclaim_arg;
};

/* How much of a range virtaddr_take found already taken. */
enum virtaddr_taken {
	VIRTADDR_FREE = 0,    /* nothing: the range was claimed */
	VIRTADDR_PARTLY,      /* some pages in use, some free */
	VIRTADDR_WHOLLY,      /* every page in use */
};

/* Sets up space s over [base, end) with one free block; node frames come
 * from pmm.  MM_OK, MM_EINVAL (unaligned, empty or wrapping range) or
 * MM_ENOMEM (no frame for the first nodes). */
int virtaddr_init(struct virtaddr_space *s, struct pmm *pmm, uint64_t base, uint64_t end);

/* Returns every node frame to the frame allocator; s must not be used
 * again until virtaddr_init.  Blocks still in use are simply forgotten. */
void virtaddr_destroy(struct virtaddr_space *s);

/* Allocates size bytes at the lowest address that is a multiple of align
 * (a power of two >= PAGE_SIZE; 0 means PAGE_SIZE).  *va gets the start.
 * MM_OK, MM_EINVAL or MM_ENOMEM (no fitting gap, or no node frame). */
int virtaddr_alloc(struct virtaddr_space *s, uint64_t size, uint64_t align, uint64_t *va);

/* virtaddr_alloc for an API that owns the block (enum virtaddr_owner, not
 * VIRTADDR_FREE_BLOCK); only virtaddr_free_owned with the same owner frees
 * it.  MM_EINVAL for a bad owner tag, else as virtaddr_alloc. */
int virtaddr_alloc_owned(struct virtaddr_space *s, uint64_t size, uint64_t align,
			 uint32_t owner, uint64_t *va);

/* Claims exactly [va, va + size) (owner VIRTADDR_OWNER_CALLER).  MM_OK; MM_EBUSY if any of it is in use,
 * with *taken (if not NULL) set to VIRTADDR_PARTLY or VIRTADDR_WHOLLY;
 * MM_ERANGE if the range leaves the space; MM_EINVAL; MM_ENOMEM. */
int virtaddr_take(struct virtaddr_space *s, uint64_t va, uint64_t size, int *taken);

/* Frees [va, va + size), which must be exactly one block in use made by
 * virtaddr_alloc / virtaddr_take, and merges it with free neighbours.
 * Anything else is a bad free: it is reported with every argument and
 * returns MM_ENOENT (MM_EINVAL for an unaligned argument, MM_EOWNER for a
 * block another API made); the space is unchanged. */
int virtaddr_free(struct virtaddr_space *s, uint64_t va, uint64_t size);

/* virtaddr_free of a block made by owner. */
int virtaddr_free_owned(struct virtaddr_space *s, uint64_t va, uint64_t size, uint32_t owner);

/* The check of virtaddr_free_owned alone: MM_OK if [va, va + size) is
 * exactly one block made by owner, else the refusal's status, reported as
 * a bad free by `who`.  Changes nothing. */
int virtaddr_check_owned(const struct virtaddr_space *s, uint64_t va, uint64_t size,
			 uint32_t owner, const char *who);

/* Marks [va, va + size), exactly one block in use made by owner, pending
 * (theory 7); *blk gets the block, to be handed to virtaddr_free_pending.
 * Refusals as virtaddr_check_owned (reported as `who`; a pending block is
 * MM_ENOENT, already freed); nothing changes then. */
int virtaddr_claim_owned(struct virtaddr_space *s, uint64_t va, uint64_t size,
			 uint32_t owner, const char *who, struct virtaddr_block **blk);

/* Frees pending block b (from virtaddr_claim_owned) and merges it with free
 * neighbours.  Panics if b is not a pending block of s. */
void virtaddr_free_pending(struct virtaddr_space *s, struct virtaddr_block *b);

/* Returns 1 if a block of s in use or pending overlapping [va, va + len)
 * was made by an API other than virtaddr_alloc/take and owner, copying its
 * base, size and tag to *found; else 0. */
int virtaddr_foreign(struct virtaddr_space *s, uint64_t va, uint64_t len, uint32_t owner,
		     struct virtaddr_block *found);

/* Sets the hook allocations call before they give up (theory 7); fn runs
 * with no lock held and may free pending blocks of s. */
void virtaddr_set_reclaim(struct virtaddr_space *s, void (*fn)(void *arg), void *arg);

/* Returns the name of an owner tag, for reports. */
const char *virtaddr_owner_name(uint32_t owner);

/* Returns the block containing va, or NULL if va is outside the space.
 * Takes no lock: for inspection while no other CPU uses s (tests). */
struct virtaddr_block *virtaddr_find(const struct virtaddr_space *s, uint64_t va);

/* Makes sure nodes spare blocks are in s's pool, and index nodes enough
 * for an index of nblocks + nodes blocks (taking frames from the pmm), so
 * that the next operations need no frame as long as the space holds at
 * most that many blocks: a caller that compares free frames before and
 * after a burst of work reserves for the burst first.  MM_OK or MM_ENOMEM (frames taken so far
 * stay in the pool). */
int virtaddr_reserve(struct virtaddr_space *s, uint64_t nodes);

/* Verifies every invariant of the theory statement (O(n)); prints each
 * broken one and returns their number (0 = consistent). */
int virtaddr_check(const struct virtaddr_space *s);

/* Iterates over the blocks of s in address order. */
#define for_each_virtaddr_block(s, b) \
	for ((b) = (s)->head; (b); (b) = (b)->next)

#endif
