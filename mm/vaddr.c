/*
 * mm/vaddr.c - virtual address allocator: address-ordered block list plus a
 * treap index holding the largest free gap per subtree.  The theory
 * statement is in mm/vaddr.h.
 */
#include "mm/vaddr.h"
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

/* Pushes node n on the spare list of s (lock held). */
static void node_put(struct virtaddr_space *s, struct virtaddr_block *n)
{
	n->next = s->spare;
	s->spare = n;
	s->nspare++;
}

/* Pops a node from the spare list; the caller reserved it before. */
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

/* Makes sure at least k nodes are spare, taking frames from the frame
 * allocator as needed.  MM_OK or MM_ENOMEM (frames taken so far are kept:
 * they are spare nodes, not a leak). */
static int node_reserve(struct virtaddr_space *s, uint64_t k)
{
	MM_LOCK_ASSERT_HELD(&s->lock);
	while (s->nspare < k) {
		uint64_t pa;
		if (pmm_alloc(s->pmm, &pa) != MM_OK)
			return MM_ENOMEM;
		struct virtaddr_block *slot = mm_phys_to_virt(pa);
		slot[0].base = s->frames_pa;   /* slot 0 links the frames */
		s->frames_pa = pa;
		s->node_frames++;
		for (uint64_t i = 1; i <= VIRTADDR_NODES_PER_FRAME; i++)
			node_put(s, &slot[i]);
	}
	return MM_OK;
}

/* Returns the next treap priority (xorshift32). */
static uint32_t next_prio(struct virtaddr_space *s)
{
	uint32_t x = s->rng;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	s->rng = x;
	return x;
}

/* ------------------------------------------------------------- the treap */

/* Recomputes n->max_free from n and its children; returns 1 if it changed. */
static int fix(struct virtaddr_block *n)
{
	uint64_t m = n->owner ? 0 : n->size;
	if (n->left && n->left->max_free > m)
		m = n->left->max_free;
	if (n->right && n->right->max_free > m)
		m = n->right->max_free;
	if (n->max_free == m)
		return 0;
	n->max_free = m;
	return 1;
}

/*
 * Recomputes max_free from n towards the root, stopping at the first node
 * whose value does not change: every node above it was computed from the
 * same inputs.  Valid because each caller's change lies at or below n and
 * every other node is consistent with its children (rotations fix the two
 * nodes they move).
 */
static void fix_up(struct virtaddr_block *n)
{
	for (; n; n = n->parent)
		if (!fix(n))
			return;
}

/* Puts nw where old hangs from its parent (or at the root). */
static void relink(struct virtaddr_space *s, struct virtaddr_block *old,
		   struct virtaddr_block *nw)
{
	struct virtaddr_block *p = old->parent;

	if (!p)
		s->root = nw;
	else if (p->left == old)
		p->left = nw;
	else
		p->right = nw;
	if (nw)
		nw->parent = p;
}

/* Rotates n up over its parent, keeping order and max_free. */
static void rotate_up(struct virtaddr_space *s, struct virtaddr_block *n)
{
	struct virtaddr_block *p = n->parent;

	relink(s, p, n);
	if (p->left == n) {
		p->left = n->right;
		if (n->right)
			n->right->parent = p;
		n->right = p;
	} else {
		p->right = n->left;
		if (n->left)
			n->left->parent = p;
		n->left = p;
	}
	p->parent = n;
	fix(p);
	fix(n);
}

/* Restores the heap order after leaf y was hung in the tree. */
static void tree_settle(struct virtaddr_space *s, struct virtaddr_block *y)
{
	y->prio = next_prio(s);
	fix_up(y);
	while (y->parent && y->parent->prio < y->prio)
		rotate_up(s, y);
}

/* Inserts y, whose address is just after x's, into the tree. */
static void tree_insert_after(struct virtaddr_space *s, struct virtaddr_block *x,
			      struct virtaddr_block *y)
{
	struct virtaddr_block *c = x->right;

	y->left = y->right = NULL;
	if (!c) {
		x->right = y;
		y->parent = x;
	} else {
		while (c->left)
			c = c->left;
		c->left = y;
		y->parent = c;
	}
	tree_settle(s, y);
}

/* Inserts y, whose address is just before x's, into the tree. */
static void tree_insert_before(struct virtaddr_space *s, struct virtaddr_block *x,
			       struct virtaddr_block *y)
{
	struct virtaddr_block *c = x->left;

	y->left = y->right = NULL;
	if (!c) {
		x->left = y;
		y->parent = x;
	} else {
		while (c->right)
			c = c->right;
		c->right = y;
		y->parent = c;
	}
	tree_settle(s, y);
}

/* Removes n from the tree: rotates it down to at most one child, then
 * splices it out. */
static void tree_remove(struct virtaddr_space *s, struct virtaddr_block *n)
{
	while (n->left && n->right)
		rotate_up(s, n->left->prio > n->right->prio ? n->left : n->right);
	struct virtaddr_block *c = n->left ? n->left : n->right;
	struct virtaddr_block *p = n->parent;
	relink(s, n, c);
	/* The rotations above recomputed n with whatever it held, so the
	 * whole path up is suspect: no early stop here. */
	for (; p; p = p->parent)
		fix(p);
}

/* Returns the leftmost node of subtree n whose subtree may hold a gap of
 * size bytes (n itself qualifies). */
static struct virtaddr_block *leftmost_candidate(struct virtaddr_block *n, uint64_t size)
{
	while (n->left && n->left->max_free >= size)
		n = n->left;
	return n;
}

/* Returns the lowest free block with room for size bytes at a multiple of
 * align (*va gets that address), or NULL.  An in-order walk that skips
 * subtrees without a gap of size bytes; with page alignment it never
 * backtracks (O(depth)). */
static struct virtaddr_block *lowest_fit(const struct virtaddr_space *s,
					 uint64_t size, uint64_t align, uint64_t *va)
{
	struct virtaddr_block *n = s->root;

	if (!n || n->max_free < size)
		return NULL;
	n = leftmost_candidate(n, size);
	for (;;) {
		uint64_t a;
		if (!n->owner && n->size >= size && align_up(n->base, align, &a) &&
		    a - n->base <= n->size - size) {
			*va = a;
			return n;
		}
		if (n->right && n->right->max_free >= size) {
			n = leftmost_candidate(n->right, size);
			continue;
		}
		while (n->parent && n == n->parent->right)
			n = n->parent;
		n = n->parent;
		if (!n)
			return NULL;
	}
}

/* ------------------------------------------------------------- the list */

/* Links y into the list right after x. */
static void list_insert_after(struct virtaddr_block *x, struct virtaddr_block *y)
{
	y->prev = x;
	y->next = x->next;
	if (x->next)
		x->next->prev = y;
	x->next = y;
}

/* Links y into the list right before x (x is not the head). */
static void list_insert_before(struct virtaddr_space *s, struct virtaddr_block *x,
			       struct virtaddr_block *y)
{
	y->next = x;
	y->prev = x->prev;
	if (x->prev)
		x->prev->next = y;
	else
		s->head = y;
	x->prev = y;
}

/* Unlinks n from the list. */
static void list_remove(struct virtaddr_space *s, struct virtaddr_block *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else
		s->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
}

/* ------------------------------------------------------------- operations */

/*
 * Marks [va, va + size) in use by owner inside free block n, splitting off
 * the free rest before and after.  VIRTADDR_SPLIT_NODES nodes must be reserved.
 *
 *   before:  |<---------------- n (free) ---------------->|
 *   after:   |<- f (free) ->|<- n (used) ->|<- t (free) ->|
 */
static void carve(struct virtaddr_space *s, struct virtaddr_block *n,
		  uint64_t va, uint64_t size, uint32_t owner)
{
	struct virtaddr_block *f = NULL, *t = NULL;
	uint64_t end = block_end(n);

	if (va > n->base) {
		f = node_get(s);
		f->base = n->base;
		f->size = va - n->base;
	}
	if (va + size < end) {
		t = node_get(s);
		t->base = va + size;
		t->size = end - (va + size);
	}
	n->base = va;
	n->size = size;
	n->owner = owner;
	fix_up(n);
	if (f) {
		list_insert_before(s, n, f);
		tree_insert_before(s, n, f);
		s->nblocks++;
	}
	if (t) {
		list_insert_after(n, t);
		tree_insert_after(s, n, t);
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
	s->rng = 0x9e3779b9u;   /* any non-zero seed; fixed for reproducibility */
	mm_lock(&s->lock);      /* node_reserve asserts it; nobody else sees s yet */
	int rc = node_reserve(s, 1);
	if (rc == MM_OK) {
		struct virtaddr_block *n = node_get(s);
		n->base = base;
		n->size = end - base;
		n->prio = next_prio(s);
		fix(n);
		s->head = s->root = n;
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
		struct virtaddr_block *slot = mm_phys_to_virt(pa);
		uint64_t next = slot[0].base;
		pmm_free(s->pmm, pa);
		pa = next;
	}
	memset(s, 0, sizeof(*s));
}

/* Returns the block containing va, or NULL. */
struct virtaddr_block *virtaddr_find(const struct virtaddr_space *s, uint64_t va)
{
	struct virtaddr_block *n = s->root, *best = NULL;

	while (n) {
		if (n->base <= va) {
			best = n;
			n = n->right;
		} else {
			n = n->left;
		}
	}
	if (best && va - best->base < best->size)
		return best;
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
	if (node_reserve(s, VIRTADDR_SPLIT_NODES) != MM_OK)
		return MM_ENOMEM;
	uint64_t a;
	struct virtaddr_block *n = lowest_fit(s, size, align, &a);
	if (!n)
		return MM_ENOMEM;
	carve(s, n, a, size, owner);
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
	if (node_reserve(s, VIRTADDR_SPLIT_NODES) != MM_OK)
		return MM_ENOMEM;
	struct virtaddr_block *n = virtaddr_find(s, va);
	if (!n)
		mm_panic("virtaddr_take: no block holds 0x%llx in [0x%llx, 0x%llx)",
			 (unsigned long long)va, (unsigned long long)s->base,
			 (unsigned long long)s->end);
	if (!n->owner && va + size <= block_end(n)) {
		carve(s, n, va, size, VIRTADDR_OWNER_CALLER);
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

/* Removes block x from list and tree and recycles its node. */
static void block_drop(struct virtaddr_space *s, struct virtaddr_block *x)
{
	MM_LOCK_ASSERT_HELD(&s->lock);
	list_remove(s, x);
	tree_remove(s, x);
	node_put(s, x);
	s->nblocks--;
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

/* virtaddr_check_owned, also setting *blk to the block at va (one lookup
 * for the check and the free that follows it). */
static int check_owned(const struct virtaddr_space *s, uint64_t va, uint64_t size,
		       uint32_t owner, const char *who, struct virtaddr_block **blk)
{
	int rc;
	MM_LOCK_ASSERT_HELD(&s->lock);
	if (size == 0 || !page_aligned(va) || !page_aligned(size)) {
		report_bad_free(s, who, va, size, "zero or unaligned", owner, NULL);
		return MM_EINVAL;
	}
	struct virtaddr_block *n = virtaddr_find(s, va);
	const char *why = free_refusal(n, va, size, owner, &rc);
	if (why)
		report_bad_free(s, who, va, size, why, owner, n);
	*blk = n;
	return rc;
}

/* Returns MM_OK if [va, va + size) is exactly one block in use by owner;
 * otherwise reports it like a bad free and returns that free's status. */
int virtaddr_check_owned(const struct virtaddr_space *s, uint64_t va, uint64_t size,
			 uint32_t owner, const char *who)
{
	struct virtaddr_space *w = (struct virtaddr_space *)s;   /* the lock only */
	struct virtaddr_block *n;
	mm_lock(&w->lock);
	int rc = check_owned(s, va, size, owner, who, &n);
	mm_unlock(&w->lock);
	return rc;
}

/* Turns block n (in use, its counts already taken off) free and merges it
 * with free neighbours. */
static void release(struct virtaddr_space *s, struct virtaddr_block *n)
{
	MM_LOCK_ASSERT_HELD(&s->lock);
	n->owner = VIRTADDR_FREE_BLOCK;
	n->pending = 0;
	n->lazy_next = NULL;
	struct virtaddr_block *p = n->prev;
	if (p && !p->owner) {
		p->size += n->size;
		block_drop(s, n);
		n = p;
	}
	struct virtaddr_block *x = n->next;
	if (x && !x->owner) {
		n->size += x->size;
		block_drop(s, x);
	}
	fix_up(n);
}

/* Frees exactly one block in use by owner and merges it with free
 * neighbours. */
int virtaddr_free_owned(struct virtaddr_space *s, uint64_t va, uint64_t size, uint32_t owner)
{
	struct virtaddr_block *n;
	mm_lock(&s->lock);
	int rc = check_owned(s, va, size, owner, "virtaddr_free", &n);
	if (rc == MM_OK) {
		s->nused--;
		s->used_bytes -= size;
		release(s, n);
	}
	mm_unlock(&s->lock);
	return rc;
}

/* Marks one block in use by owner pending (theory 7). */
int virtaddr_claim_owned(struct virtaddr_space *s, uint64_t va, uint64_t size,
			 uint32_t owner, const char *who, struct virtaddr_block **blk)
{
	struct virtaddr_block *n;
	mm_lock(&s->lock);
	int rc = check_owned(s, va, size, owner, who, &n);
	if (rc == MM_OK) {
		n->pending = 1;
		n->lazy_next = NULL;
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
	mm_lock(&s->lock);
	if (!b->owner || !b->pending || virtaddr_find(s, b->base) != b)
		mm_panic("virtaddr_free_pending: block [0x%llx, +0x%llx) of space [0x%llx, 0x%llx) "
			 "is not pending", (unsigned long long)b->base, (unsigned long long)b->size,
			 (unsigned long long)s->base, (unsigned long long)s->end);
	s->npending--;
	s->pending_bytes -= b->size;
	release(s, b);
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

/* Returns the in-order successor of n in the tree, or NULL. */
static const struct virtaddr_block *tree_next(const struct virtaddr_block *n)
{
	if (n->right) {
		n = n->right;
		while (n->left)
			n = n->left;
		return n;
	}
	while (n->parent && n == n->parent->right)
		n = n->parent;
	return n->parent;
}

/* virtaddr_check with s->lock held. */
static int check_locked(const struct virtaddr_space *s)
{
	int bad = 0;
	uint64_t at = s->base, nblocks = 0, nused = 0, used_bytes = 0;
	uint64_t npending = 0, pending_bytes = 0;
	const struct virtaddr_block *b, *t = s->root;

	if (!s->head || s->head->prev)
		return check_fail(s, s->head, "bad list head");
	if (s->root && s->root->parent)
		bad += check_fail(s, s->root, "root has a parent");
	while (t && t->left)
		t = t->left;
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
		if (t != b)
			bad += check_fail(s, b, "tree order differs from the list");
		if (t)
			t = tree_next(t);
		uint64_t m = b->owner ? 0 : b->size;
		if (b->left && b->left->max_free > m)
			m = b->left->max_free;
		if (b->right && b->right->max_free > m)
			m = b->right->max_free;
		if (b->max_free != m)
			bad += check_fail(s, b, "stale max_free");
		if ((b->left && (b->left->parent != b || b->left->prio > b->prio)) ||
		    (b->right && (b->right->parent != b || b->right->prio > b->prio)))
			bad += check_fail(s, b, "broken treap link or priority");
		at = block_end(b);
	}
	if (at != s->end)
		bad += check_fail(s, NULL, "blocks end before the space does");
	if (t)
		bad += check_fail(s, t, "tree has more nodes than the list");
	if (nblocks != s->nblocks || nused != s->nused || used_bytes != s->used_bytes ||
	    npending != s->npending || pending_bytes != s->pending_bytes)
		bad += check_fail(s, NULL, "counters disagree with the list");
	return bad;
}

/* See vaddr.h. */
int virtaddr_reserve(struct virtaddr_space *s, uint64_t nodes)
{
	mm_lock(&s->lock);
	int st = node_reserve(s, nodes);
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
