/*
 * mm/vaddr.c - virtual address allocator: address-ordered block list plus a
 * B+ tree index holding the largest free gap per subtree.  The theory
 * statement is in mm/vaddr.h.
 */
#include "mm/vaddr.h"
#include "lib/prefetch.h"
#include "lib/string.h"
#include "mm/platform.h"
#include "lib/range.h"
#include "mm/status.h"
#include "mm/x86_64.h"

/* Nodes an operation may need: a split can leave a free block on each side. */
#define VIRTADDR_SPLIT_NODES 2

/* ------------------------------------------------------------ range helpers */

/* Returns 1 if x is a multiple of PAGE_SIZE. */
static int page_aligned(uint64_t x)
{
	return is_aligned(x, PAGE_SIZE);
}

/* Returns the end of block b (exclusive). */
static uint64_t block_end(const struct virtaddr_block *b)
{
	return b->base + b->size;
}

/* ------------------------------------------------------------- node pool */

_Static_assert(sizeof(struct virtaddr_block) == 48, "virtaddr_block: 48 bytes");
_Static_assert(sizeof(struct virtaddr_index) % 64 == 0, "virtaddr_index: whole cache lines");
_Static_assert(VIRTADDR_OWNERS <= VIRTADDR_STATE_PENDING, "virtaddr_index.state: owner tags below the pending bit");

/* A place in the index: entry i of node x. */
struct ix_cursor {
	struct virtaddr_index *x;
	unsigned i;
};

/* Index nodes an insertion may need: a split of every level and a new root. */
#define IX_INSERT_NODES(s) ((s)->height + 1)
/* Fewest entries of an index node other than the root (theory 2). */
#define IX_MIN (VIRTADDR_FANOUT / 2)
/* Bytes per cache line (x86_64), the unit ix_prefetch loads. */
#define IX_LINE 64
/* Key of an unused entry: above every base, so a search never picks it. */
#define IX_NOKEY UINT64_MAX

/* Pushes block n on the spare list of s (lock held). */
static void node_put(struct virtaddr_space *s, struct virtaddr_block *n)
{
	n->next = s->spare;
	s->spare = n;
	s->nspare++;
}

/* Pops a block from the spare list; the caller reserved it before. */
static struct virtaddr_block *node_get(struct virtaddr_space *s)
{
	struct virtaddr_block *n = s->spare;

	if (!n)
		mm_panic("node_get: spare list empty (caller did not reserve)");
	s->spare = n->next;
	s->nspare--;
	memset(n, 0, sizeof(*n));
	return n;
}

/* Pushes index node x on the spare list of s. */
static void ix_put(struct virtaddr_space *s, struct virtaddr_index *x)
{
	x->parent = s->ix_spare;
	s->ix_spare = x;
	s->nix_spare++;
}

/* Pops an index node (the caller reserved it) and makes it an empty leaf
 * or inner node. */
static struct virtaddr_index *ix_get(struct virtaddr_space *s, uint32_t leaf)
{
	struct virtaddr_index *x = s->ix_spare;

	if (!x)
		mm_panic("ix_get: spare index nodes used up (caller did not reserve)");
	s->ix_spare = x->parent;
	s->nix_spare--;
	s->nix++;
	memset(x, 0, sizeof(*x));
	for (unsigned i = 0; i < VIRTADDR_FANOUT; i++)
		x->key[i] = IX_NOKEY;
	x->leaf = leaf;
	return x;
}

/* Takes one frame for nodes and chains it; returns its first node byte,
 * or NULL if the frame allocator has none. */
static uint8_t *frame_take(struct virtaddr_space *s)
{
	uint64_t pa;
	if (pmm_alloc(s->pmm, &pa) != MM_OK)
		return NULL;
	uint8_t *f = mm_phys_to_virt(pa);
	*(uint64_t *)f = s->frames_pa;   /* the header links the frames */
	s->frames_pa = pa;
	s->node_frames++;
	return f + VIRTADDR_FRAME_HEADER;
}

/* Makes sure at least blocks spare blocks and ixn spare index nodes are
 * there, taking frames from the frame allocator as needed.  MM_OK or
 * MM_ENOMEM (frames taken so far are kept: they are spare nodes, not a
 * leak). */
static int node_reserve(struct virtaddr_space *s, uint64_t blocks, uint64_t ixn)
{
	MM_LOCK_ASSERT_HELD(&s->lock);
	while (s->nspare < blocks) {
		struct virtaddr_block *slot = (struct virtaddr_block *)frame_take(s);
		if (!slot)
			return MM_ENOMEM;
		for (uint64_t i = 0; i < VIRTADDR_BLOCKS_PER_FRAME; i++)
			node_put(s, &slot[i]);
	}
	while (s->nix_spare < ixn) {
		struct virtaddr_index *slot = (struct virtaddr_index *)frame_take(s);
		if (!slot)
			return MM_ENOMEM;
		for (uint64_t i = 0; i < VIRTADDR_INDEX_PER_FRAME; i++)
			ix_put(s, &slot[i]);
	}
	return MM_OK;
}

/* Reserves what one carve needs: two blocks and the index nodes of two
 * insertions. */
static int op_reserve(struct virtaddr_space *s)
{
	return node_reserve(s, VIRTADDR_SPLIT_NODES, VIRTADDR_SPLIT_NODES * IX_INSERT_NODES(s));
}

/* ------------------------------------------------------------- the index */

/* Returns the free size of b as the index records it: 0 if in use. */
static uint64_t block_free(const struct virtaddr_block *b)
{
	return b->owner ? 0 : b->size;
}

/* Returns the largest free size below x.  Reads all VIRTADDR_FANOUT
 * entries (unused ones are 0), unrolled into two independent chains of
 * conditional moves: no loop and no branch to mispredict. */
static uint64_t ix_max(const struct virtaddr_index *x)
{
	uint64_t a = 0, b = 0;
#pragma GCC unroll 8
	for (unsigned i = 0; i < VIRTADDR_FANOUT; i += 2) {
		a = x->max_free[i] > a ? x->max_free[i] : a;
		b = x->max_free[i + 1] > b ? x->max_free[i + 1] : b;
	}
	return a > b ? a : b;
}

/* Returns the last entry of x whose key is <= key (0 if key is below them
 * all): the entry a search for key takes.  A binary search over the whole
 * array (unused keys are IX_NOKEY, never <= a key of the space). */
static inline unsigned ix_pick(const struct virtaddr_index *x, uint64_t key)
{
	unsigned i = 0;
	_Static_assert(VIRTADDR_FANOUT == 16, "ix_pick: steps for 16 entries");
	i += x->key[i + 8] <= key ? 8 : 0;
	i += x->key[i + 4] <= key ? 4 : 0;
	i += x->key[i + 2] <= key ? 2 : 0;
	i += x->key[i + 1] <= key ? 1 : 0;
	return i;
}

/* Returns the entry of x's parent that points at x. */
static unsigned ix_slot(const struct virtaddr_index *x)
{
	return x->slot;
}

/*
 * Refreshes the entries that point at x and its ancestors (lowest key,
 * largest free size) after x's entries changed, stopping at the first
 * that does not change: everything above it was computed from the same
 * values.  Valid because every other node is consistent with its children.
 */
static void ix_fix_up(struct virtaddr_index *x)
{
	for (; x->parent; x = x->parent) {
		struct virtaddr_index *p = x->parent;
		unsigned i = ix_slot(x);
		uint64_t m = ix_max(x);
		if (p->max_free[i] == m && p->key[i] == x->key[0])
			return;
		p->max_free[i] = m;
		p->key[i] = x->key[0];
	}
}

/*
 * Carries up a change of x that left its lowest key alone: one entry's
 * free size went from old to m (an entry put in: old 0; taken out: m 0).
 * Each level's largest size follows from that entry alone unless it held
 * the largest and shrank (then the node is scanned); the walk stops where
 * a parent's entry does not change.
 */
static void ix_carry(struct virtaddr_index *x, uint64_t old, uint64_t m)
{
	while (x->parent) {
		struct virtaddr_index *p = x->parent;
		unsigned j = ix_slot(x);
		uint64_t was = p->max_free[j], now;
		if (m >= was)
			now = m;
		else if (old < was)
			return;          /* not the largest before or after */
		else
			now = ix_max(x);
		if (now == was)
			return;
		p->max_free[j] = now;
		old = was;
		m = now;
		x = p;
	}
}

/* Sets the free size of entry c to m and carries the change up. */
static void ix_update(struct ix_cursor c, uint64_t m)
{
	uint64_t old = c.x->max_free[c.i];
	c.x->max_free[c.i] = m;
	ix_carry(c.x, old, m);
}

/* Tells the children of inner node x from entry pos on where they hang. */
static void ix_adopt(struct virtaddr_index *x, unsigned pos)
{
	if (x->leaf)
		return;
	for (unsigned i = pos; i < x->n; i++) {
		struct virtaddr_index *c = x->ptr[i];
		c->parent = x;
		c->slot = (uint16_t)i;
	}
}

/* Returns the state a leaf entry keeps of block b (theory 2): its owner
 * tag, with VIRTADDR_STATE_PENDING if it is pending. */
static uint8_t block_state(const struct virtaddr_block *b)
{
	return (uint8_t)(b->owner | (b->pending ? VIRTADDR_STATE_PENDING : 0));
}

/* Writes entry (key, m, ptr, state st) at pos of x, which has room,
 * shifting the entries from pos right.  A child learns its new place
 * (ix_adopt). */
static void ix_put_st(struct virtaddr_index *x, unsigned pos, uint64_t key, uint64_t m,
		      void *ptr, uint8_t st)
{
	for (unsigned i = x->n; i > pos; i--) {
		x->key[i] = x->key[i - 1];
		x->max_free[i] = x->max_free[i - 1];
		x->ptr[i] = x->ptr[i - 1];
		x->state[i] = x->state[i - 1];
	}
	x->key[pos] = key;
	x->max_free[pos] = m;
	x->ptr[pos] = ptr;
	x->state[pos] = st;
	x->n++;
	ix_adopt(x, pos);
}

/* ix_put_st of a new entry: a leaf's state is read from its block (one
 * the caller has just written), an inner entry's is 0. */
static void ix_put_entry(struct virtaddr_index *x, unsigned pos, uint64_t key, uint64_t m,
			 void *ptr)
{
	ix_put_st(x, pos, key, m, ptr, x->leaf ? block_state(ptr) : 0);
}

/* Removes entry pos of x, shifting the entries after it left. */
static void ix_take_entry(struct virtaddr_index *x, unsigned pos)
{
	for (unsigned i = pos; i + 1 < x->n; i++) {
		x->key[i] = x->key[i + 1];
		x->max_free[i] = x->max_free[i + 1];
		x->ptr[i] = x->ptr[i + 1];
		x->state[i] = x->state[i + 1];
	}
	x->n--;
	x->key[x->n] = IX_NOKEY;
	x->max_free[x->n] = 0;
	x->ptr[x->n] = NULL;
	x->state[x->n] = 0;
	ix_adopt(x, pos);
}

/* Moves the entries of src from `from` on to the end of dst (which has
 * room for them), in order. */
static void ix_move_tail(struct virtaddr_index *dst, struct virtaddr_index *src, unsigned from)
{
	for (unsigned k = from; k < src->n; k++) {
		ix_put_st(dst, dst->n, src->key[k], src->max_free[k], src->ptr[k],
			  src->state[k]);   /* adopts */
		src->key[k] = IX_NOKEY;
		src->max_free[k] = 0;
		src->ptr[k] = NULL;
		src->state[k] = 0;
	}
	src->n = from;
}

/* Points parent entry i of x's parent at x's current lowest key and
 * largest free size (no further up). */
static void ix_refresh(struct virtaddr_index *x, unsigned i)
{
	x->parent->key[i] = x->key[0];
	x->parent->max_free[i] = ix_max(x);
}

/*
 * Inserts entry (key, m, ptr) at pos of x (the entries from pos move one
 * right), splitting full nodes up the tree; IX_INSERT_NODES(s) index nodes
 * must be reserved.  A split moves the upper half of a full node into a
 * new right sibling, which is then inserted into the parent the same way.
 * *at (if not NULL) gets the place the entry landed.
 */
static void ix_insert(struct virtaddr_space *s, struct virtaddr_index *x, unsigned pos,
		      uint64_t key, uint64_t m, void *ptr, struct ix_cursor *at)
{
	for (int first = 1;; first = 0) {
		if (x->n < VIRTADDR_FANOUT) {
			ix_put_entry(x, pos, key, m, ptr);
			if (at)
				*at = (struct ix_cursor){ x, pos };
			if (pos && first)   /* only this entry changed */
				ix_carry(x, 0, m);
			else
				ix_fix_up(x);
			return;
		}
		struct virtaddr_index *y = ix_get(s, x->leaf);
		ix_move_tail(y, x, IX_MIN);
		struct ix_cursor c = { x, pos };
		if (pos > IX_MIN)
			c = (struct ix_cursor){ y, pos - IX_MIN };
		ix_put_entry(c.x, c.i, key, m, ptr);
		if (at)
			*at = c;
		at = NULL;   /* the levels above insert y and refresh x's entry */
		if (!x->parent) {
			struct virtaddr_index *r = ix_get(s, 0);
			ix_put_entry(r, 0, x->key[0], ix_max(x), x);
			ix_put_entry(r, 1, y->key[0], ix_max(y), y);
			s->root = r;
			s->height++;
			return;
		}
		unsigned i = ix_slot(x);
		ix_refresh(x, i);
		key = y->key[0];
		m = ix_max(y);
		ptr = y;
		pos = i + 1;
		x = x->parent;
	}
}

/*
 * Keeps cursor *k on its entry while the leaf step of ix_remove moves
 * entries between leaves l and r (neighbours, l first): a merge moves all
 * of r to the end of l (merge 1; l_n: l's entries before), a loan from l
 * moves l's last entry to the front of r (merge 0).  A loan from r (its
 * first entry to the end of l) moves nothing *k can be on: *k is before
 * the removed entry (ix_remove), so it is not in r when l lost one.
 */
static void ix_keep(struct ix_cursor *k, struct virtaddr_index *l, struct virtaddr_index *r,
		    unsigned l_n, int merge)
{
	if (!k)
		return;
	if (merge && k->x == r)
		*k = (struct ix_cursor){ l, l_n + k->i };
	else if (!merge && k->x == r)
		k->i++;
	else if (!merge && k->x == l && k->i == l_n - 1)
		*k = (struct ix_cursor){ r, 0 };
}

/*
 * Removes entry pos of leaf x.  A node left with fewer than IX_MIN entries
 * takes one from a sibling that can spare it, or else merges with that
 * sibling (the right one of the pair is recycled and its entry removed
 * from the parent the same way); an inner root left with one child gives
 * way to it.  keep (if not NULL) is a cursor on a leaf entry before the
 * removed one (in address order); it follows that entry to its new place (only the first, leaf, step moves
 * leaf entries: the steps above move whole nodes, which keep their
 * entries), so the caller needs no new search.
 */
static void ix_remove(struct virtaddr_space *s, struct virtaddr_index *x, unsigned pos,
		      struct ix_cursor *keep)
{
	for (int plain = 1;; plain = 0, keep = NULL) {
		uint64_t old = x->max_free[pos];
		ix_take_entry(x, pos);   /* keep, before pos, stays */
		if (!x->parent) {
			if (!x->leaf && x->n == 1) {
				s->root = x->ptr[0];
				s->root->parent = NULL;
				s->height--;
				s->nix--;
				ix_put(s, x);
			}
			return;
		}
		if (x->n >= IX_MIN) {
			if (pos && plain)   /* only this entry changed */
				ix_carry(x, old, 0);
			else
				ix_fix_up(x);
			return;
		}
		struct virtaddr_index *p = x->parent, *l, *r;
		unsigned i = ix_slot(x), ri = i ? i : 1;   /* r is entry ri of p */
		l = p->ptr[ri - 1];
		r = p->ptr[ri];
		if (l->n + r->n <= VIRTADDR_FANOUT) {
			ix_keep(keep, l, r, l->n, 1);
			ix_move_tail(l, r, 0);
			s->nix--;
			ix_put(s, r);
			ix_refresh(l, ri - 1);
			x = p;
			pos = ri;
			continue;
		}
		if (l == x) {
			ix_put_st(l, l->n, r->key[0], r->max_free[0], r->ptr[0], r->state[0]);
			ix_take_entry(r, 0);
		} else {
			ix_keep(keep, l, r, l->n, 0);
			unsigned k = l->n - 1;
			ix_put_st(r, 0, l->key[k], l->max_free[k], l->ptr[k], l->state[k]);
			ix_take_entry(l, k);
		}
		ix_refresh(l, ri - 1);
		ix_refresh(r, ri);
		ix_fix_up(p);
		return;
	}
}

/*
 * Starts loading every cache line of index node x at once.  A walk down
 * the index reads two or three of a node's lines one after the other
 * (keys or sizes, then pointers), and the update that follows reads the
 * rest; asked for together, their misses overlap, so a level costs about
 * one memory latency instead of several.  A hint: it changes no value.
 */
static void ix_prefetch(const struct virtaddr_index *x)
{
	const char *p = (const char *)x;
#pragma GCC unroll 8
	for (unsigned off = 0; off < sizeof(*x); off += IX_LINE)
		prefetch_line(p + off);
}

/* Returns the leaf whose range holds va; *slot gets the entry a search
 * for va takes there (the last block starting at or below va).  Reads
 * only keys and pointers on the way down (the depth says where the
 * leaves are). */
static struct virtaddr_index *ix_leaf_of(const struct virtaddr_space *s, uint64_t va,
					 unsigned *slot)
{
	struct virtaddr_index *x = s->root;

	for (uint64_t d = 1; d < s->height; d++) {
		x = x->ptr[ix_pick(x, va)];
		ix_prefetch(x);
	}
	*slot = ix_pick(x, va);
	return x;
}

/* Returns where the block after leaf entry i of x starts: the next
 * entry's key, or past a leaf's last entry the key of the next subtree up
 * the parent links (nodes a search just walked through), or the end of
 * the space after the last block.  Reads no block. */
static uint64_t ix_next_key(const struct virtaddr_space *s, const struct virtaddr_index *x,
			    unsigned i)
{
	if (i + 1 < x->n)
		return x->key[i + 1];
	while (x->parent && x->slot + 1u == x->parent->n)
		x = x->parent;
	return x->parent ? x->parent->key[x->slot + 1] : s->end;
}

/* Returns the leaf entry after c (step 1) or before it (step -1) in
 * address order, across leaves: up the parent links while c's node is the
 * last (first) child, over to the sibling and down its first (last)
 * entries.  The caller knows that entry exists (a list neighbour). */
static struct ix_cursor ix_step(struct ix_cursor c, int step)
{
	struct virtaddr_index *x = c.x;

	if (step > 0 ? c.i + 1 < x->n : c.i > 0)
		return (struct ix_cursor){ x, c.i + step };
	while (x->parent && (step > 0 ? x->slot + 1u == x->parent->n : x->slot == 0))
		x = x->parent;
	if (!x->parent)
		mm_panic("ix_step: no leaf entry %s the last one", step > 0 ? "after" : "before");
	x = x->parent->ptr[x->slot + step];
	while (!x->leaf)
		x = x->ptr[step > 0 ? 0 : x->n - 1];
	return (struct ix_cursor){ x, step > 0 ? 0 : x->n - 1 };
}

/*
 * lowest_fit for page alignment, where any free block of size bytes or
 * more fits: returns the lowest such block (*at its entry), or NULL.  Only
 * the root's scan needs the entry count; below it the parent's entry
 * promised a free size of at least size (theory 2), so the scan stops
 * inside the node's entries (bounded by the array alone, a constant the
 * compiler folds), checked once per level.
 */
static struct virtaddr_block *lowest_fit_page(const struct virtaddr_space *s, uint64_t size,
					      struct ix_cursor *at)
{
	struct virtaddr_index *x = s->root;
	unsigned i = 0;

	while (i < x->n && x->max_free[i] < size)
		i++;
	if (i == x->n)
		return NULL;
	while (!x->leaf) {
		x = x->ptr[i];
		ix_prefetch(x);
		i = 0;
		while (i < VIRTADDR_FANOUT && x->max_free[i] < size)
			i++;
		if (i >= x->n)
			mm_panic("lowest_fit_page: index node promised 0x%llx free bytes it lacks",
				 (unsigned long long)size);
	}
	*at = (struct ix_cursor){ x, i };
	return x->ptr[i];
}

/* Returns the lowest free block with room for size bytes at a multiple of
 * align (*va gets that address, *at its entry), or NULL.  An in-order walk of the index
 * that skips entries whose largest free size is below size; with page
 * alignment the first leaf entry it reaches fits (O(height)), larger
 * alignments may move on to the next entries. */
static struct virtaddr_block *lowest_fit(const struct virtaddr_space *s, uint64_t size,
					 uint64_t align, uint64_t *va, struct ix_cursor *at)
{
	struct virtaddr_index *x = s->root;
	unsigned i = 0;

	if (align == PAGE_SIZE) {
		struct virtaddr_block *n = lowest_fit_page(s, size, at);
		if (n)
			*va = n->base;
		return n;
	}
	for (;;) {
		while (i < x->n && x->max_free[i] < size)
			i++;
		if (i == x->n) {                /* nothing here: next entry up */
			if (!x->parent)
				return NULL;
			i = ix_slot(x) + 1;
			x = x->parent;
			continue;
		}
		if (!x->leaf) {
			x = x->ptr[i];
			ix_prefetch(x);
			i = 0;
			continue;
		}
		struct virtaddr_block *n = x->ptr[i];
		uint64_t a;
		if (align_up(n->base, align, &a) && a - n->base <= n->size - size) {
			*va = a;
			*at = (struct ix_cursor){ x, i };
			return n;
		}
		i++;
	}
}

/* ------------------------------------------------------------- the list */

/* Returns the block after (step 1) or before (step -1) leaf entry c in
 * address order, NULL at the end of the list: the leaf's neighbouring
 * entry when the leaf holds it, so the common case reads no block (a
 * block at 100k live ones is a cache miss); else c's block's list link. */
static struct virtaddr_block *leaf_neighbour(struct ix_cursor c, int step)
{
	const struct virtaddr_block *b = c.x->ptr[c.i];

	if (step > 0)
		return c.i + 1 < c.x->n ? c.x->ptr[c.i + 1] : b->next;
	return c.i ? c.x->ptr[c.i - 1] : b->prev;
}

/* Links y into the list between prev and next (neighbours, or NULL at
 * either end of the list), writing but not reading them. */
static void list_link(struct virtaddr_space *s, struct virtaddr_block *prev,
		      struct virtaddr_block *y, struct virtaddr_block *next)
{
	y->prev = prev;
	y->next = next;
	if (prev)
		prev->next = y;
	else
		s->head = y;
	if (next)
		next->prev = y;
}

/* ------------------------------------------------------------- operations */

/*
 * Marks [va, va + size) in use by owner inside free block n, splitting off
 * the free rest before and after; c is n's entry in the index.  op_reserve
 * must have run.
 *
 *   before:  |<---------------- n (free) ---------------->|
 *   after:   |<- f (free) ->|<- n (used) ->|<- t (free) ->|
 */
static void carve(struct virtaddr_space *s, struct ix_cursor c,
		  uint64_t va, uint64_t size, uint32_t owner)
{
	struct virtaddr_block *n = c.x->ptr[c.i];
	uint64_t end = block_end(n);

	if (va > n->base) {
		/* f takes n's entry (same key); n moves in right after it. */
		struct virtaddr_block *f = node_get(s);
		f->base = n->base;
		f->size = va - n->base;
		list_link(s, leaf_neighbour(c, -1), f, n);
		c.x->ptr[c.i] = f;
		ix_update(c, f->size);
		n->base = va;
		n->size = size;
		n->owner = owner;
		ix_insert(s, c.x, c.i + 1, va, 0, n, &c);
		s->nblocks++;
	} else if (va + size < end && c.x->n < VIRTADDR_FANOUT) {
		/* The common case: n keeps its entry, the free tail t takes a
		 * new one beside it in the same leaf.  To the levels above that
		 * is one entry whose free size went from n's to t's: one carry. */
		uint64_t old = c.x->max_free[c.i];
		struct virtaddr_block *t = node_get(s);
		n->size = size;
		n->owner = owner;
		c.x->state[c.i] = (uint8_t)owner;
		t->base = va + size;
		t->size = end - t->base;
		list_link(s, n, t, leaf_neighbour(c, 1));
		c.x->max_free[c.i] = 0;
		ix_put_entry(c.x, c.i + 1, t->base, t->size, t);
		ix_carry(c.x, old, t->size);
		s->nblocks++;
		s->nused++;
		s->used_bytes += size;
		return;
	} else {
		n->size = size;
		n->owner = owner;
		c.x->state[c.i] = (uint8_t)owner;
		ix_update(c, 0);
	}
	if (va + size < end) {
		struct virtaddr_block *t = node_get(s);
		t->base = va + size;
		t->size = end - (va + size);
		list_link(s, n, t, leaf_neighbour(c, 1));
		ix_insert(s, c.x, c.i + 1, t->base, t->size, t, NULL);
		s->nblocks++;
	}
	s->nused++;
	s->used_bytes += size;
}

/* Sets up space s over [base, end) with one free block. */
int virtaddr_init(struct virtaddr_space *s, struct pmm *pmm, uint64_t base, uint64_t end)
{
	memset(s, 0, sizeof(*s));
	mm_lock_init(&s->lock, "vaddr");
	if (!page_aligned(base) || !page_aligned(end) || end <= base)
		return MM_EINVAL;
	s->base = base;
	s->end = end;
	s->pmm = pmm;
	mm_lock(&s->lock);      /* node_reserve asserts it; nobody else sees s yet */
	int rc = node_reserve(s, 1, 1);
	if (rc == MM_OK) {
		struct virtaddr_block *n = node_get(s);
		n->base = base;
		n->size = end - base;
		s->head = n;
		s->root = ix_get(s, 1);
		s->height = 1;
		ix_put_entry(s->root, 0, n->base, n->size, n);
		s->nblocks = 1;
	}
	mm_unlock(&s->lock);
	return rc;
}

/* Sets the reclaim hook of s. */
void virtaddr_set_reclaim(struct virtaddr_space *s, void (*fn)(void *arg), void *arg)
{
	mm_lock(&s->lock);
	s->reclaim = fn;
	s->reclaim_arg = arg;
	mm_unlock(&s->lock);
}

/* Runs the reclaim hook of s if it has one and something is pending;
 * returns 1 if it ran (the caller retries once).  No lock held. */
static int reclaim(struct virtaddr_space *s, int nomem)
{
	mm_lock(&s->lock);
	void (*fn)(void *) = s->reclaim;
	void *arg = s->reclaim_arg;
	/* Out of nodes (nomem) may be frames held by any pending free; a busy
	 * or full space only by pending blocks of s itself. */
	int any = nomem || s->npending;
	mm_unlock(&s->lock);
	if (!fn || !any)
		return 0;
	fn(arg);
	return 1;
}

/* Returns every node frame to the frame allocator. */
void virtaddr_destroy(struct virtaddr_space *s)
{
	uint64_t pa = s->frames_pa;

	while (pa) {
		uint64_t next = *(uint64_t *)mm_phys_to_virt(pa);   /* the frame header */
		pmm_free(s->pmm, pa);
		pa = next;
	}
	memset(s, 0, sizeof(*s));
}

/* Returns the block containing va, or NULL. */
struct virtaddr_block *virtaddr_find(const struct virtaddr_space *s, uint64_t va)
{
	unsigned i;
	const struct virtaddr_index *x = ix_leaf_of(s, va, &i);
	struct virtaddr_block *b = x->ptr[i];

	if (va - b->base < b->size)   /* below the space: wraps, so no */
		return b;
	return NULL;
}

/* Returns 1 if owner is a tag a block in use may carry. */
static int owner_ok(uint32_t owner)
{
	return owner > VIRTADDR_FREE_BLOCK && owner < VIRTADDR_OWNERS;
}

/* Returns the name of owner tag owner ("virtaddr_alloc", "kalloc", ...). */
const char *virtaddr_owner_name(uint32_t owner)
{
	static const char *const names[VIRTADDR_OWNERS] = {
		[VIRTADDR_FREE_BLOCK] = "nobody (free)",
		[VIRTADDR_OWNER_CALLER] = "virtaddr_alloc/virtaddr_take",
		[VIRTADDR_OWNER_KALLOC] = "kalloc",
		[VIRTADDR_OWNER_MAP_ADDR] = "mem_map_addr",
	};
	return owner < VIRTADDR_OWNERS ? names[owner] : "?";
}

/* Allocates the lowest aligned fit of size bytes for the caller. */
int virtaddr_alloc(struct virtaddr_space *s, uint64_t size, uint64_t align, uint64_t *va)
{
	return virtaddr_alloc_owned(s, size, align, VIRTADDR_OWNER_CALLER, va);
}

/* virtaddr_alloc_owned with s->lock held: one try. */
static int alloc_locked(struct virtaddr_space *s, uint64_t size, uint64_t align,
			uint32_t owner, uint64_t *va)
{
	MM_LOCK_ASSERT_HELD(&s->lock);
	if (op_reserve(s) != MM_OK)
		return MM_ENOMEM;
	uint64_t a;
	struct ix_cursor c;
	if (!lowest_fit(s, size, align, &a, &c))
		return MM_ENOMEM;
	carve(s, c, a, size, owner);
	*va = a;
	return MM_OK;
}

/* Allocates the lowest aligned fit of size bytes, tagged with owner; on
 * MM_ENOMEM reclaims pending frees and tries once more (theory 7). */
int virtaddr_alloc_owned(struct virtaddr_space *s, uint64_t size, uint64_t align,
			 uint32_t owner, uint64_t *va)
{
	if (align == 0)
		align = PAGE_SIZE;
	if (size == 0 || !page_aligned(size) || align < PAGE_SIZE || !is_pow2(align) ||
	    !owner_ok(owner))
		return MM_EINVAL;
	if (size > s->end - s->base)
		return MM_ENOMEM;
	for (int attempt = 0;; attempt++) {
		mm_lock(&s->lock);
		int rc = alloc_locked(s, size, align, owner, va);
		mm_unlock(&s->lock);
		if (rc != MM_ENOMEM || attempt || !reclaim(s, 1))
			return rc;
	}
}

/* virtaddr_take with s->lock held: one try. */
static int take_locked(struct virtaddr_space *s, uint64_t va, uint64_t size, int *taken)
{
	MM_LOCK_ASSERT_HELD(&s->lock);
	if (op_reserve(s) != MM_OK)
		return MM_ENOMEM;
	struct ix_cursor c;
	c.x = ix_leaf_of(s, va, &c.i);
	struct virtaddr_block *n = c.x->ptr[c.i];
	if (va - n->base >= n->size)
		mm_panic("virtaddr_take: no block holds 0x%llx in [0x%llx, 0x%llx)",
			 (unsigned long long)va, (unsigned long long)s->base,
			 (unsigned long long)s->end);
	if (!n->owner && va + size <= block_end(n)) {
		carve(s, c, va, size, VIRTADDR_OWNER_CALLER);
		return MM_OK;
	}
	int any_free = 0;
	for (struct virtaddr_block *b = n; b && b->base < va + size; b = b->next)
		if (!b->owner)
			any_free = 1;
	if (taken)
		*taken = any_free ? VIRTADDR_PARTLY : VIRTADDR_WHOLLY;
	return MM_EBUSY;
}

/* Claims exactly [va, va + size) or reports how much of it is taken; a
 * range held by pending frees is reclaimed and tried once more. */
int virtaddr_take(struct virtaddr_space *s, uint64_t va, uint64_t size, int *taken)
{
	if (taken)
		*taken = VIRTADDR_FREE;
	if (size == 0 || !page_aligned(va) || !page_aligned(size))
		return MM_EINVAL;
	if (!range_inside(va, size, s->base, s->end))
		return MM_ERANGE;
	for (int attempt = 0;; attempt++) {
		mm_lock(&s->lock);
		int rc = take_locked(s, va, size, taken);
		mm_unlock(&s->lock);
		if ((rc != MM_ENOMEM && rc != MM_EBUSY) || attempt ||
		    !reclaim(s, rc == MM_ENOMEM))
			return rc;
		if (taken)
			*taken = VIRTADDR_FREE;
	}
}

/* Reports a bad free by `who` for owner with every argument, the reason
 * and the block found at va (n, or NULL). */
static void report_bad_free(const struct virtaddr_space *s, const char *who, uint64_t va,
			    uint64_t size, const char *why, uint32_t owner,
			    const struct virtaddr_block *n)
{
	mm_printf("%s: bad free of [0x%llx, 0x%llx) (va 0x%llx size 0x%llx) "
		  "in space [0x%llx, 0x%llx): %s; expected a block made by %s", who,
		  (unsigned long long)va, (unsigned long long)(va + size),
		  (unsigned long long)va, (unsigned long long)size,
		  (unsigned long long)s->base, (unsigned long long)s->end, why,
		  virtaddr_owner_name(owner));
	if (n && n->owner)
		mm_printf(", found [0x%llx, +0x%llx) made by %s",
			  (unsigned long long)n->base, (unsigned long long)n->size,
			  virtaddr_owner_name(n->owner));
	mm_printf("\n");
}

/* Frees exactly one block the caller made and merges it with free
 * neighbours. */
int virtaddr_free(struct virtaddr_space *s, uint64_t va, uint64_t size)
{
	return virtaddr_free_owned(s, va, size, VIRTADDR_OWNER_CALLER);
}

/* Returns why [va, va + size) is not one block in use by owner, or NULL
 * if it is (n: the block holding va, or NULL).  *rc gets the status of the
 * refusal: MM_EOWNER when only the owner differs, else MM_ENOENT. */
static const char *free_refusal(const struct virtaddr_block *n, uint64_t va, uint64_t size,
				uint32_t owner, int *rc)
{
	*rc = MM_ENOENT;
	if (!n)
		return "outside the space";
	if (!n->owner)
		return "not allocated";
	if (n->pending && n->base == va)
		return "already freed (its unmap is pending)";
	if (n->base != va)
		return "not the start of a block";
	if (n->size != size)
		return "size differs from the allocation";
	if (n->pending)
		return "already freed (its unmap is pending)";
	if (n->owner != owner) {
		*rc = MM_EOWNER;
		return "made by another allocator";
	}
	*rc = MM_OK;
	return NULL;
}

/* virtaddr_check_owned, also setting *at to the entry of the block at va
 * (one lookup for the check and the free that follows it). */
static int check_owned(const struct virtaddr_space *s, uint64_t va, uint64_t size,
		       uint32_t owner, const char *who, struct ix_cursor *at)
{
	int rc;
	MM_LOCK_ASSERT_HELD(&s->lock);
	if (size == 0 || !page_aligned(va) || !page_aligned(size)) {
		report_bad_free(s, who, va, size, "zero or unaligned", owner, NULL);
		return MM_EINVAL;
	}
	at->x = ix_leaf_of(s, va, &at->i);
	const struct virtaddr_index *x = at->x;
	unsigned i = at->i;
	/* The leaf alone (theory 2): the block starts at va, is in use by
	 * owner and not pending, and the next block starts at va + size. */
	if (owner_ok(owner) && x->key[i] == va && x->state[i] == owner &&
	    ix_next_key(s, x, i) - va == size)
		return MM_OK;
	struct virtaddr_block *n = x->ptr[i];
	if (va - n->base >= n->size)
		n = NULL;     /* va is below the space */
	const char *why = free_refusal(n, va, size, owner, &rc);
	if (why)
		report_bad_free(s, who, va, size, why, owner, n);
	return rc;
}

/* Returns MM_OK if [va, va + size) is exactly one block in use by owner;
 * otherwise reports it like a bad free and returns that free's status. */
int virtaddr_check_owned(const struct virtaddr_space *s, uint64_t va, uint64_t size,
			 uint32_t owner, const char *who)
{
	struct virtaddr_space *w = (struct virtaddr_space *)s;   /* the lock only */
	struct ix_cursor c;
	mm_lock(&w->lock);
	int rc = check_owned(s, va, size, owner, who, &c);
	mm_unlock(&w->lock);
	return rc;
}

/* Removes block b, entry c of the index, from list and index and recycles
 * it; keep follows another leaf entry (ix_remove).  The list links are
 * rewritten from the leaf's neighbouring entries (leaf_neighbour): b and
 * its neighbours are written, not read, in the common case. */
static void block_drop(struct virtaddr_space *s, struct ix_cursor c, struct ix_cursor *keep)
{
	struct virtaddr_block *b = c.x->ptr[c.i];
	struct virtaddr_block *prev = leaf_neighbour(c, -1), *next = leaf_neighbour(c, 1);

	if (prev)
		prev->next = next;
	else
		s->head = next;
	if (next)
		next->prev = prev;
	ix_remove(s, c.x, c.i, keep);
	node_put(s, b);
	s->nblocks--;
}

/* Returns 1 if block [base, base + size) at leaf entry c has a free
 * neighbour after it (step 1) or before it (step -1), setting *nb to that
 * neighbour's entry.  Whether the neighbour exists follows from the range
 * (the blocks tile the space), whether it is free from its entry's free
 * size (theory 2): no block is read. */
static int free_neighbour(const struct virtaddr_space *s, struct ix_cursor c, uint64_t base,
			  uint64_t size, int step, struct ix_cursor *nb)
{
	if (step > 0 ? base + size == s->end : base == s->base)
		return 0;
	if (step > 0 ? c.i + 1 < c.x->n : c.i > 0)   /* in the leaf: no call */
		*nb = (struct ix_cursor){ c.x, c.i + step };
	else
		*nb = ix_step(c, step);
	return nb->x->max_free[nb->i] != 0;
}

/* Turns block n = [base, base + size) at entry c (in use, its counts
 * already taken off) free and merges it with free neighbours.  The sizes
 * come from the arguments and the leaf entries, so the blocks involved
 * are only written (see leaf_neighbour). */
static void release(struct virtaddr_space *s, struct ix_cursor c, uint64_t base, uint64_t size)
{
	struct virtaddr_block *n = c.x->ptr[c.i];
	struct ix_cursor nb;
	MM_LOCK_ASSERT_HELD(&s->lock);
	n->owner = VIRTADDR_FREE_BLOCK;
	n->pending = 0;
	n->lazy_next = NULL;
	c.x->state[c.i] = VIRTADDR_FREE_BLOCK;
	uint64_t merged = size;
	if (free_neighbour(s, c, base, size, 1, &nb)) {
		merged += nb.x->max_free[nb.i];
		block_drop(s, nb, &c);
	}
	if (free_neighbour(s, c, base, size, -1, &nb)) {
		merged += nb.x->max_free[nb.i];
		block_drop(s, c, &nb);
		c = nb;
		n = c.x->ptr[c.i];
	}
	n->size = merged;
	ix_update(c, merged);
}

/* Frees exactly one block in use by owner and merges it with free
 * neighbours. */
int virtaddr_free_owned(struct virtaddr_space *s, uint64_t va, uint64_t size, uint32_t owner)
{
	struct ix_cursor c;
	mm_lock(&s->lock);
	int rc = check_owned(s, va, size, owner, "virtaddr_free", &c);
	if (rc == MM_OK) {
		s->nused--;
		s->used_bytes -= size;
		release(s, c, va, size);
	}
	mm_unlock(&s->lock);
	return rc;
}

/* Marks one block in use by owner pending (theory 7). */
int virtaddr_claim_owned(struct virtaddr_space *s, uint64_t va, uint64_t size,
			 uint32_t owner, const char *who, struct virtaddr_block **blk)
{
	struct ix_cursor c;
	mm_lock(&s->lock);
	int rc = check_owned(s, va, size, owner, who, &c);
	if (rc == MM_OK) {
		struct virtaddr_block *n = c.x->ptr[c.i];
		n->pending = 1;
		n->lazy_next = NULL;
		c.x->state[c.i] |= VIRTADDR_STATE_PENDING;
		s->nused--;
		s->used_bytes -= size;
		s->npending++;
		s->pending_bytes += size;
		*blk = n;
	}
	mm_unlock(&s->lock);
	return rc;
}

/* Frees a pending block once its unmap is complete. */
void virtaddr_free_pending(struct virtaddr_space *s, struct virtaddr_block *b)
{
	struct ix_cursor c;
	mm_lock(&s->lock);
	c.x = ix_leaf_of(s, b->base, &c.i);
	if (!b->owner || !b->pending || c.x->ptr[c.i] != b)
		mm_panic("virtaddr_free_pending: block [0x%llx, +0x%llx) of space [0x%llx, 0x%llx) "
			 "is not pending", (unsigned long long)b->base, (unsigned long long)b->size,
			 (unsigned long long)s->base, (unsigned long long)s->end);
	s->npending--;
	s->pending_bytes -= b->size;
	release(s, c, b->base, b->size);
	mm_unlock(&s->lock);
}

/* Looks for a block overlapping [va, va + len) made by another API. */
int virtaddr_foreign(struct virtaddr_space *s, uint64_t va, uint64_t len, uint32_t owner,
		     struct virtaddr_block *found)
{
	int hit = 0;
	mm_lock(&s->lock);
	const struct virtaddr_block *b = virtaddr_find(s, va > s->base ? va : s->base);
	for (; b && ranges_overlap(va, len, b->base, b->size); b = b->next) {
		if (!b->owner || b->owner == VIRTADDR_OWNER_CALLER || b->owner == owner)
			continue;
		*found = *b;
		hit = 1;
		break;
	}
	mm_unlock(&s->lock);
	return hit;
}

/* ------------------------------------------------------------- checking */

/* Prints one broken invariant of s and counts it. */
static int check_fail(const struct virtaddr_space *s, const struct virtaddr_block *b,
		      const char *what)
{
	mm_printf("virtaddr_check: space [0x%llx, 0x%llx) block [0x%llx, +0x%llx): %s\n",
		  (unsigned long long)s->base, (unsigned long long)s->end,
		  b ? (unsigned long long)b->base : 0ULL,
		  b ? (unsigned long long)b->size : 0ULL, what);
	return 1;
}

/* Deepest index the checker walks: 16-way nodes at least half full reach
 * 2^64 entries in 22 levels. */
#define IX_CHECK_DEPTH 32

/* Checks the entries of index node x at depth d against its children (or
 * blocks) and the node-local rules of theory 2; returns the number broken. */
static int check_ix_node(const struct virtaddr_space *s, const struct virtaddr_index *x,
			 uint64_t d)
{
	int bad = 0;
	uint32_t least = x == s->root ? (x->leaf ? 1 : 2) : IX_MIN;

	if (x->n < least || x->n > VIRTADDR_FANOUT)
		bad += check_fail(s, NULL, "index node with too few or too many entries");
	if (!!x->leaf != (d + 1 == s->height))
		bad += check_fail(s, NULL, "index leaf not at depth height - 1");
	for (unsigned i = 0; i < VIRTADDR_FANOUT; i++) {
		if (i >= x->n) {
			if (x->key[i] != IX_NOKEY || x->max_free[i] || x->ptr[i] || x->state[i])
				bad += check_fail(s, NULL, "unused index entry not cleared");
			continue;
		}
		if (i && x->key[i] <= x->key[i - 1])
			bad += check_fail(s, NULL, "index keys out of order");
		if (x->leaf) {
			const struct virtaddr_block *b = x->ptr[i];
			if (x->key[i] != b->base || x->max_free[i] != block_free(b) ||
			    x->state[i] != block_state(b))
				bad += check_fail(s, b, "stale index entry of a block");
			continue;
		}
		if (x->state[i])
			bad += check_fail(s, NULL, "inner index entry with a state");
		const struct virtaddr_index *c = x->ptr[i];
		if (c->parent != x || c->slot != i)
			bad += check_fail(s, NULL, "broken index parent link");
		if (x->key[i] != c->key[0] || x->max_free[i] != ix_max(c))
			bad += check_fail(s, NULL, "stale index entry of a child");
	}
	return bad;
}

/* Walks the index depth first: every node is checked (check_ix_node), the
 * leaf entries in order must be the list's blocks, and the nodes must
 * number s->nix.  Returns the number of broken invariants. */
static int check_index(const struct virtaddr_space *s)
{
	const struct virtaddr_index *path[IX_CHECK_DEPTH];
	unsigned next[IX_CHECK_DEPTH];
	const struct virtaddr_block *b = s->head;
	uint64_t d = 0, nodes = 1;
	int bad = 0;

	if (!s->root || s->root->parent || s->height == 0 || s->height > IX_CHECK_DEPTH)
		return check_fail(s, NULL, "bad index root or height");
	path[0] = s->root;
	next[0] = 0;
	bad += check_ix_node(s, s->root, 0);
	for (;;) {
		const struct virtaddr_index *x = path[d];
		if (x->leaf) {
			for (unsigned i = 0; i < x->n; i++, b = b ? b->next : NULL)
				if (x->ptr[i] != b)
					bad += check_fail(s, b, "index order differs from the list");
		} else if (next[d] < x->n && d + 1 < s->height) {
			path[d + 1] = x->ptr[next[d]++];
			next[++d] = 0;
			nodes++;
			bad += check_ix_node(s, path[d], d);
			continue;
		}
		if (d == 0)
			break;
		d--;
	}
	if (b)
		bad += check_fail(s, b, "list has more blocks than the index");
	if (nodes != s->nix)
		bad += check_fail(s, NULL, "index node count differs from nix");
	return bad;
}

/* virtaddr_check with s->lock held. */
static int check_locked(const struct virtaddr_space *s)
{
	int bad = 0;
	uint64_t at = s->base, nblocks = 0, nused = 0, used_bytes = 0;
	uint64_t npending = 0, pending_bytes = 0;
	const struct virtaddr_block *b;

	if (!s->head || s->head->prev)
		return check_fail(s, s->head, "bad list head");
	for_each_virtaddr_block(s, b) {
		nblocks++;
		if (b->base != at || b->size == 0)
			bad += check_fail(s, b, "blocks do not tile the space");
		if (b->next && b->next->prev != b)
			bad += check_fail(s, b, "broken prev link");
		if (!b->owner && b->next && !b->next->owner)
			bad += check_fail(s, b, "two free neighbours");
		if (b->owner >= VIRTADDR_OWNERS)
			bad += check_fail(s, b, "unknown owner tag");
		if (b->pending && !b->owner)
			bad += check_fail(s, b, "pending block that is free");
		if (b->owner && b->pending) {
			npending++;
			pending_bytes += b->size;
		} else if (b->owner) {
			nused++;
			used_bytes += b->size;
		}
		at = block_end(b);
	}
	if (at != s->end)
		bad += check_fail(s, NULL, "blocks end before the space does");
	if (nblocks != s->nblocks || nused != s->nused || used_bytes != s->used_bytes ||
	    npending != s->npending || pending_bytes != s->pending_bytes)
		bad += check_fail(s, NULL, "counters disagree with the list");
	return bad + check_index(s);
}

/* Returns an upper bound on the index nodes of a space of nblocks blocks,
 * plus the spare ones an operation reserves (theory 2: every node but the
 * root holds at least IX_MIN entries). */
static uint64_t ix_nodes_for(uint64_t nblocks)
{
	uint64_t total = 0, levels = 0, c = nblocks;

	for (;;) {
		uint64_t nodes = c <= VIRTADDR_FANOUT ? 1 : c / IX_MIN;
		total += nodes;
		levels++;
		if (nodes == 1)
			break;
		c = nodes;
	}
	return total + VIRTADDR_SPLIT_NODES * (levels + 1);
}

/* See vaddr.h. */
int virtaddr_reserve(struct virtaddr_space *s, uint64_t nodes)
{
	mm_lock(&s->lock);
	uint64_t ixn = ix_nodes_for(s->nblocks + nodes);
	int st = node_reserve(s, nodes, ixn > s->nix ? ixn - s->nix : 0);
	mm_unlock(&s->lock);
	return st;
}

/* Verifies the theory statement's invariants; returns the number broken. */
int virtaddr_check(const struct virtaddr_space *s)
{
	struct virtaddr_space *w = (struct virtaddr_space *)s;   /* the lock only */
	mm_lock(&w->lock);
	int bad = check_locked(s);
	mm_unlock(&w->lock);
	return bad;
}
