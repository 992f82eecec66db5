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
 *  2. Index: every block is also a node of a treap keyed by base address
 *     (a binary search tree that is a heap on random priorities, so its
 *     expected depth is O(log n)).  Each node carries max_free, the size of
 *     the largest free block in its subtree.  The lowest fit is found by
 *     walking down the tree, skipping subtrees whose max_free is too small:
 *     O(log n) for page alignment.  This is the pair Linux's vmalloc keeps
 *     (list + augmented rbtree); a treap gives the same bounds with less
 *     code.  All tree code is iterative (parent pointers, no recursion).
 *
 *  3. Block nodes live in whole frames taken from the frame allocator and
 *     reached through the direct map; no heap is needed.  A freed node goes
 *     on the space's spare list and is reused.  Node frames are returned to
 *     the frame allocator only by virtaddr_destroy, so the number of node
 *     frames is the peak number of blocks / VIRTADDR_NODES_PER_FRAME.
 *
 *  4. Every operation that can fail takes its nodes before it changes
 *     anything, so a failed call (MM_ENOMEM) leaves the space as it was.
 *
 *  5. Locking: none inside; the caller serialises calls on one space.
 *     (memboot runs on one CPU with interrupts off during mm work.)
 *
 *  6. Every block in use carries the tag of the API that made it
 *     (enum virtaddr_owner).  A free names the owner it expects, and a
 *     block made by another API is refused (MM_EOWNER) before anything
 *     changes: kfree cannot free a mem_map_addr range, mem_unmap_addr
 *     cannot free a kalloc range, and virtaddr_free frees only what
 *     virtaddr_alloc / virtaddr_take made.
 *
 * All addresses and sizes are bytes and must be multiples of PAGE_SIZE.
 */
#ifndef MM_VADDR_H
#define MM_VADDR_H

#include <stdint.h>
#include "mm/pmm.h"

/* One block [base, base + size): a list node and a treap node at once. */
struct virtaddr_block {
	uint64_t base;
	uint64_t size;
	struct virtaddr_block *prev, *next;           /* address-ordered list */
	struct virtaddr_block *left, *right, *parent; /* treap */
	uint64_t max_free;  /* largest free block size in this subtree */
	uint32_t prio;      /* treap priority: parent's is >= child's */
	uint32_t owner;     /* VIRTADDR_FREE_BLOCK, or the API that made it */
};

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
	uint64_t base, end;             /* the space: [base, end) */
	struct pmm *pmm;                /* where node frames come from */
	struct virtaddr_block *head;    /* lowest block (list head) */
	struct virtaddr_block *root;    /* treap root */
	struct virtaddr_block *spare;   /* recycled nodes, chained by next */
	uint64_t nspare;                /* nodes on the spare list */
	uint64_t frames_pa;             /* node frames, chained through slot 0 */
	uint64_t node_frames;           /* frames holding nodes */
	uint64_t nblocks;               /* blocks on the list */
	uint64_t nused;                 /* blocks in use */
	uint64_t used_bytes;            /* bytes in use */
	uint32_t rng;                   /* xorshift32 state for priorities */
};

/* Nodes per frame; slot 0 of each frame is the frame-chain link. */
#define VIRTADDR_NODES_PER_FRAME (PAGE_SIZE / sizeof(struct virtaddr_block) - 1)

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

/* Returns the name of an owner tag, for reports. */
const char *virtaddr_owner_name(uint32_t owner);

/* Returns the block containing va, or NULL if va is outside the space. */
struct virtaddr_block *virtaddr_find(const struct virtaddr_space *s, uint64_t va);

/* Verifies every invariant of the theory statement (O(n)); prints each
 * broken one and returns their number (0 = consistent). */
int virtaddr_check(const struct virtaddr_space *s);

/* Iterates over the blocks of s in address order. */
#define for_each_virtaddr_block(s, b) \
	for ((b) = (s)->head; (b); (b) = (b)->next)

#endif
