/*
 * mm/paging.c - x86_64 4- or 5-level page tables (theory statement in
 * mm/paging.h; the mode in mm/pgmode.h).
 *
 * Levels are numbered as in PX(): 5 = PML5, 4 = PML4, 3 = PDPT, 2 = PD,
 * 1 = PT; the root is level pgmode_levels().
 * The hot loops work one page table (512 pages) at a time: one walk per
 * table, then a run of stores.
 */
#include "lib/range.h"
#include "mm/paging.h"
#include "mm/pgmode.h"
#include "mm/layout.h"
#include "lib/string.h"
#include "mm/platform.h"
#include "mm/status.h"
#include "mm/x86_64.h"

/* First root-table slot of the kernel half (PML4 or PML5 alike). */
#define ROOT_KERNEL_SLOT 256

/* Highest possible depth: walkers size their arrays with it. */
#define LEVELS_MAX PGMODE_LEVELS_5

/* The kernel's address space (addrspace_set_kernel): the one registry. */
static struct addrspace *kernel_space;

/* ------------------------------------------------------------- helpers */

/* Returns the table at physical address pa through the direct map. */
static uint64_t *table_at(uint64_t pa)
{
	return mm_phys_to_virt(pa & PTE_ADDR);
}

/* Bytes covered by one entry of a table at level. */
static uint64_t level_span(int level)
{
	return 1ULL << PX_SHIFT(level);
}

/* Returns the paging lock of the half holding va (theory 6). */
static struct mm_lock *half_lock(const struct addrspace *as, uint64_t va)
{
	return va < USER_END ? (struct mm_lock *)&as->lock : as->klock;
}

/* Adds n to one of as's counters (atomic: theory 6). */
static void count_add(uint64_t *c, int64_t n)
{
	__atomic_add_fetch(c, (uint64_t)n, __ATOMIC_RELAXED);
}

/* Takes a zeroed frame for a page table.  MM_OK or MM_ENOMEM. */
static int table_alloc(struct addrspace *as, uint64_t *pa)
{
	if (pmm_alloc(as->pmm, pa) != MM_OK)
		return MM_ENOMEM;
	memset(mm_phys_to_virt(*pa), 0, PAGE_SIZE);
	count_add(&as->table_pages, 1);
	return MM_OK;
}

/* Gives a page-table frame back. */
static void table_free(struct addrspace *as, uint64_t pa)
{
	if (pmm_free(as->pmm, pa) != MM_OK)
		mm_panic("table_free: table page 0x%llx was not allocated",
			 (unsigned long long)pa);
	count_add(&as->table_pages, -1);
}

/* Returns 1 if no entry of table t is in use (pending entries are). */
static int table_empty(const uint64_t *t)
{
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		if (t[i])
			return 0;
	return 1;
}
/* Returns the PTE bits flags ask for in a leaf entry. */
uint64_t paging_pte_bits(unsigned flags)
{
	uint64_t b = PTE_P;
	if (flags & MAPF_WRITE)
		b |= PTE_W;
	if (flags & MAPF_USER)
		b |= PTE_U;
	if (flags & MAPF_NOEXEC)
		b |= PTE_NX;
	if (flags & MAPF_UNCACHED)
		b |= PTE_PCD | PTE_PWT;
	else if (flags & MAPF_WRCOMBINE)
		b |= PTE_PAT | PTE_PCD | PTE_PWT;
	else if (flags & MAPF_WRTHROUGH)
		b |= PTE_PWT;
	return b;
}

/* Checks a page range for map/unmap: aligned, non-empty, canonical, in one
 * half, clear of page 0 and the direct map.  MM_OK or MM_EINVAL. */
static int check_range(uint64_t va, uint64_t count, unsigned flags)
{
	if (count == 0 || (va & PAGE_MASK) || (flags & ~MAPF_ALL))
		return MM_EINVAL;
	if (count > (~0ULL >> PAGE_SHIFT))
		return MM_EINVAL;
	uint64_t len = count << PAGE_SHIFT, last;
	if (!range_last(va, len, &last) || !pgmode_canonical(va) || !pgmode_canonical(last))
		return MM_EINVAL;
	if ((va < USER_END) != (last < USER_END))
		return MM_EINVAL;
	/* Under 5 levels the lower half above USER_END is canonical, but
	 * neither user nor kernel half (mm/pgmode.h theory 3). */
	if (va >= USER_END && !(va >> 63))
		return MM_EINVAL;
	if (va < PAGE_SIZE)
		return MM_EINVAL;
	if (ranges_overlap(va, len, HHDM_BASE, HHDM_MAX_SIZE))
		return MM_EINVAL;
	if ((flags & MAPF_USER) && va >= USER_END)
		return MM_EINVAL;
	return MM_OK;
}

/*
 * Walks to the page table (level 1) covering va.  With create, missing
 * tables are made.  Returns the table, or NULL with *err (MM_ENOENT: a
 * table is missing; MM_EBUSY: a large page is in the way; MM_ENOMEM) and
 * *level the level whose entry stopped the walk.  Paging lock held.
 */
static uint64_t *walk_pt(struct addrspace *as, uint64_t va, int create,
			 int *err, int *level)
{
	uint64_t *t = table_at(as->root_pa);
	int top = (int)pgmode_levels();

	MM_LOCK_ASSERT_HELD(half_lock(as, va));
	for (int l = top; l > 1; l--) {
		uint64_t *e = &t[PX(l, va)];
		*level = l;
		if (!(*e & PTE_P)) {
			uint64_t pa;
			if (!create) {
				*err = MM_ENOENT;
				return NULL;
			}
			if (table_alloc(as, &pa) != MM_OK) {
				*err = MM_ENOMEM;
				return NULL;
			}
			*e = pa | PTE_P | PTE_W | (va < USER_END ? PTE_U : 0);
		} else if (pgmode_ps_level(l) && (*e & PTE_PS)) {
			*err = MM_EBUSY;
			return NULL;
		}
		t = table_at(*e);
	}
	return t;
}

/* ------------------------------------------------------------- dead tables */

/* Parks the unlinked, empty table page pa, which walks of va used, on the
 * dead list (theory 8).  Paging lock held; takes the lazy lock. */
static void park_table(struct addrspace *as, uint64_t pa, uint64_t va)
{
	uint64_t *t = table_at(pa);
	uint64_t page = PAGE_ROUND_DOWN(va);

	mm_lock(&as->lazy_lock);
	t[0] = as->dead_pa;       /* page aligned: a not-present entry */
	as->dead_pa = pa;
	if (!as->ndead || page < as->dead_lo)
		as->dead_lo = page;
	if (!as->ndead || page + PAGE_SIZE > as->dead_hi)
		as->dead_hi = page + PAGE_SIZE;
	as->ndead++;
	as->lazy_pages++;
	mm_unlock(&as->lazy_lock);
}

/*
 * Unlinks the tables on the path to va that are empty, bottom-up, and parks
 * them.  Tables hanging from the root in the kernel half are kept (shared
 * by every space, theory 4).  Returns the number parked.  Paging lock held.
 */
static uint64_t park_path(struct addrspace *as, uint64_t va)
{
	uint64_t *ent[LEVELS_MAX + 1];
	uint64_t *t = table_at(as->root_pa);
	uint64_t parked = 0;
	int top = (int)pgmode_levels(), l;

	MM_LOCK_ASSERT_HELD(half_lock(as, va));
	for (l = top; l > 1; l--) {
		uint64_t *e = &t[PX(l, va)];
		if (!(*e & PTE_P) || (pgmode_ps_level(l) && (*e & PTE_PS)))
			break;
		ent[l] = e;
		t = table_at(*e);
	}
	/* ent[l+1 .. top] are valid; ent[k] points at the table of level k-1. */
	for (int k = l + 1; k <= top; k++) {
		if (k == top && va >= USER_END)
			break;
		uint64_t *e = ent[k];
		if (!table_empty(table_at(*e)))
			break;
		uint64_t pa = *e & PTE_ADDR;
		*e = 0;
		park_table(as, pa, va);
		parked++;
	}
	return parked;
}

/* Dead tables taken off the list for one shootdown. */
struct dead_batch {
	uint64_t pa, n;     /* chain head and length */
	uint64_t lo, hi;    /* pages to invalidate: [lo, hi) */
};

/* Takes the whole dead list into *d and counts it in flight.  Lazy lock
 * held. */
static void dead_take(struct addrspace *as, struct dead_batch *d)
{
	MM_LOCK_ASSERT_HELD(&as->lazy_lock);
	d->pa = as->dead_pa;
	d->n = as->ndead;
	d->lo = as->dead_lo;
	d->hi = as->dead_hi;
	as->dead_pa = 0;
	as->ndead = 0;
	as->lazy_pages -= d->n;
}

/* Frees the tables of d: a shootdown issued after they were parked has
 * returned.  No lock held. */
static void dead_free(struct addrspace *as, struct dead_batch *d)
{
	uint64_t pa = d->pa;
	for (uint64_t i = 0; i < d->n; i++) {
		uint64_t *t = table_at(pa);
		uint64_t next = t[0];
		t[0] = 0;
		table_free(as, pa);
		pa = next;
	}
}

/* Widens [*lo, *hi) (empty if *lo == *hi) to cover [a, b). */
static void widen(uint64_t *lo, uint64_t *hi, uint64_t a, uint64_t b)
{
	if (*lo == *hi) {
		*lo = a;
		*hi = b;
		return;
	}
	if (a < *lo)
		*lo = a;
	if (b > *hi)
		*hi = b;
}

/* Shoots down [lo, hi) on every CPU and counts it.  No lock held. */
static void shoot(struct addrspace *as, uint64_t lo, uint64_t hi)
{
	mm_tlb_shootdown(lo, (hi - lo) >> PAGE_SHIFT);
	count_add(&as->stats.shootdowns, 1);
}

/* Ends a round: one fewer in flight. */
static void round_done(struct addrspace *as)
{
	mm_lock(&as->lazy_lock);
	as->inflight--;
	mm_unlock(&as->lazy_lock);
}

/* If tables are parked, shoots down once and frees them.  No lock held. */
static void dead_round(struct addrspace *as)
{
	struct dead_batch d;
	mm_lock(&as->lazy_lock);
	dead_take(as, &d);
	if (d.n)
		as->inflight++;
	mm_unlock(&as->lazy_lock);
	if (!d.n)
		return;
	shoot(as, d.lo, d.hi);
	dead_free(as, &d);
	round_done(as);
}

/* ------------------------------------------------------------- core loops */

/*
 * Maps count pages from va.  With alloc, each page gets a fresh zeroed frame
 * (pa is ignored); otherwise frames pa, pa + 4 KiB, ...  Stops at the first
 * problem; *done gets the number of pages mapped.  MM_OK or an error.
 * Paging lock held.
 */
static int map_core(struct addrspace *as, uint64_t va, uint64_t pa, uint64_t count,
		    uint64_t bits, int alloc, uint64_t *done)
{
	uint64_t i = 0;
	int err = MM_OK, level;

	MM_LOCK_ASSERT_HELD(half_lock(as, va));
	while (i < count) {
		uint64_t v = va + (i << PAGE_SHIFT);
		uint64_t *pt = walk_pt(as, v, 1, &err, &level);
		if (!pt)
			break;
		unsigned x = PX(1, v);
		uint64_t n = PT_ENTRIES - x;
		if (n > count - i)
			n = count - i;
		uint64_t *e = &pt[x], *stop = e + n;
		for (; e < stop; e++, i++) {
			uint64_t f;
			if (*e) {     /* mapped, or pending (theory 8) */
				err = MM_EBUSY;
				break;
			}
			if (alloc) {
				if (pmm_alloc(as->pmm, &f) != MM_OK) {
					err = MM_ENOMEM;
					break;
				}
				memset(mm_phys_to_virt(f), 0, PAGE_SIZE);
				f |= PTE_OWNED;
			} else {
				f = pa + (i << PAGE_SHIFT);
			}
			*e = f | bits;
		}
		if (e < stop)
			break;
	}
	*done = i;
	return i == count ? MM_OK : err;
}

/* What the leaves of a page range hold (unmap_survey). */
struct leaf_survey {
	uint64_t missing;   /* pages not mapped (pending ones included) */
	uint64_t large;     /* pages under a 2 MiB / 1 GiB page */
	uint64_t owned;     /* 4 KiB pages with PTE_OWNED (frame is the mapping's) */
	uint64_t borrowed;  /* 4 KiB pages without it (frame is someone else's) */
};

/* Counts what count pages from va hold, changing nothing.  Paging lock
 * held. */
static void unmap_survey(struct addrspace *as, uint64_t va, uint64_t count,
			 struct leaf_survey *sv)
{
	uint64_t i = 0;
	int err, level;

	while (i < count) {
		uint64_t v = va + (i << PAGE_SHIFT);
		uint64_t *pt = walk_pt(as, v, 0, &err, &level);
		uint64_t n;
		if (!pt) {
			/* The stopping entry covers the rest of its span. */
			uint64_t span = level_span(level);
			n = ((v | (span - 1)) - v + 1) >> PAGE_SHIFT;
			if (n > count - i)
				n = count - i;
			*(err == MM_EBUSY ? &sv->large : &sv->missing) += n;
			i += n;
			continue;
		}
		unsigned x = PX(1, v);
		n = PT_ENTRIES - x;
		if (n > count - i)
			n = count - i;
		/* The common case in one branch-free pass: every entry present
		 * and of one kind (AND and OR of the entries agree on both bits). */
		uint64_t all = ~0ULL, any = 0;
		for (const uint64_t *e = &pt[x], *stop = e + n; e < stop; e++) {
			all &= *e;
			any |= *e;
		}
		if ((all & PTE_P) && (all & PTE_OWNED) == (any & PTE_OWNED)) {
			*((all & PTE_OWNED) ? &sv->owned : &sv->borrowed) += n;
		} else {
			for (const uint64_t *e = &pt[x], *stop = e + n; e < stop; e++) {
				if (!(*e & PTE_P))
					sv->missing++;
				else if (*e & PTE_OWNED)
					sv->owned++;
				else
					sv->borrowed++;
			}
		}
		i += n;
	}
}

/* The leaves from v in v's leaf table: returns the first and sets *n to
 * how many of the next left pages that table holds.  The table must
 * exist (the caller mapped or surveyed the range): else a broken
 * invariant, reported as who.  Paging lock held. */
static uint64_t *leaf_run(struct addrspace *as, uint64_t v, uint64_t left, uint64_t *n,
			  const char *who)
{
	int err, level;
	uint64_t *pt = walk_pt(as, v, 0, &err, &level);
	if (!pt)
		mm_panic("%s: va 0x%llx has no page table (level %d entry: %s)", who,
			 (unsigned long long)v, level, mm_status_str(err));
	unsigned x = PX(1, v);
	*n = PT_ENTRIES - x < left ? PT_ENTRIES - x : left;
	return &pt[x];
}

/*
 * Step a of theory 8: turns count mapped 4 KiB leaves from va (the caller
 * made sure: unmap_survey, or pages it just mapped) into pending entries.
 * With local_flush this CPU's TLB entries for them go too.  Paging lock
 * held.
 */
static void mark_pending(struct addrspace *as, uint64_t va, uint64_t count, int local_flush)
{
	int per_page = local_flush && count <= PAGING_FLUSH_ALL_PAGES;
	uint64_t i = 0, n;

	MM_LOCK_ASSERT_HELD(half_lock(as, va));
	while (i < count) {
		uint64_t v = va + (i << PAGE_SHIFT);
		uint64_t *first = leaf_run(as, v, count - i, &n, "mark_pending");
		for (uint64_t *e = first, *stop = e + n; e < stop; e++, v += PAGE_SIZE) {
			uint64_t pte = *e;
			if (!(pte & PTE_P))
				mm_panic("mark_pending: va 0x%llx is not mapped", (unsigned long long)v);
			*e = (pte & (PTE_ADDR | PTE_OWNED)) | PTE_PENDING;
			if (per_page)
				mm_tlb_flush_page(v);
		}
		i += n;
	}
	if (local_flush && !per_page)
		mm_tlb_flush_all();
}

/*
 * Step c of theory 8: count pending leaves from va, whose shootdown has
 * returned, are cleared; owned frames go back to the pmm; tables that
 * become empty are parked.  Returns the number of tables parked.  Paging
 * lock held.
 */
static uint64_t finalize(struct addrspace *as, uint64_t va, uint64_t count)
{
	uint64_t i = 0, parked = 0, n;

	MM_LOCK_ASSERT_HELD(half_lock(as, va));
	while (i < count) {
		uint64_t v = va + (i << PAGE_SHIFT);
		uint64_t *first = leaf_run(as, v, count - i, &n, "finalize");
		for (uint64_t *e = first, *stop = e + n; e < stop; e++, v += PAGE_SIZE) {
			uint64_t pte = *e;
			if ((pte & (PTE_P | PTE_PENDING)) != PTE_PENDING)
				mm_panic("finalize: va 0x%llx entry 0x%llx is not pending",
					 (unsigned long long)v, (unsigned long long)pte);
			*e = 0;
			if ((pte & PTE_OWNED) && pmm_free(as->pmm, pte & PTE_ADDR) != MM_OK)
				mm_panic("finalize: frame 0x%llx at va 0x%llx was not allocated",
					 (unsigned long long)(pte & PTE_ADDR),
					 (unsigned long long)v);
		}
		parked += park_path(as, va + (i << PAGE_SHIFT));
		i += n;
	}
	return parked;
}

/*
 * Steps b and c for count leaves from va that the caller made pending and
 * then dropped the paging lock: one shootdown (which also frees the dead
 * tables parked before it), finalize, and a second shootdown if that
 * parked tables, so frames and tables are back when it returns.
 */
static void unmap_after_mark(struct addrspace *as, uint64_t va, uint64_t count)
{
	struct dead_batch d;
	uint64_t lo = va, hi = va + (count << PAGE_SHIFT);

	mm_lock(&as->lazy_lock);
	dead_take(as, &d);
	as->inflight++;
	mm_unlock(&as->lazy_lock);
	if (d.n)
		widen(&lo, &hi, d.lo, d.hi);
	shoot(as, lo, hi);
	dead_free(as, &d);
	mm_lock(half_lock(as, va));
	uint64_t parked = finalize(as, va, count);
	mm_unlock(half_lock(as, va));
	round_done(as);
	if (parked)
		dead_round(as);
}

/* ------------------------------------------------------------- lazy list */

/* Returns the vaddr space of as holding va, or NULL. */
struct virtaddr_space *addrspace_vspace(struct addrspace *as, uint64_t va)
{
	if (as->kwin && va >= as->kwin->base && va < as->kwin->end)
		return as->kwin;
	if (as->user && va >= as->user->base && va < as->user->end)
		return as->user;
	return NULL;
}

/*
 * One purge round (theory 8): takes the lazy list and the dead list, shoots
 * down their union once, frees the dead tables, finalizes every block and
 * frees its range.  Returns the blocks' pages plus the tables freed (0:
 * nothing was pending).  No lock held.
 */
static uint64_t purge_round(struct addrspace *as)
{
	struct dead_batch d;
	struct virtaddr_block *list;
	uint64_t lo = 0, hi = 0, pages = 0;

	mm_lock(&as->lazy_lock);
	list = as->lazy;
	as->lazy = NULL;
	dead_take(as, &d);
	as->lazy_pages = 0;           /* the blocks' pages left with the list */
	as->lazy_blocks = 0;
	if (list || d.n)
		as->inflight++;
	mm_unlock(&as->lazy_lock);
	if (!list && !d.n)
		return 0;
	/* Pending blocks' base and size never change (mm/vaddr.h theory 7). */
	for (struct virtaddr_block *b = list; b; b = b->lazy_next) {
		widen(&lo, &hi, b->base, b->base + b->size);
		pages += b->size >> PAGE_SHIFT;
	}
	if (d.n)
		widen(&lo, &hi, d.lo, d.hi);
	shoot(as, lo, hi);
	count_add(&as->stats.purges, 1);
	dead_free(as, &d);
	while (list) {
		struct virtaddr_block *b = list;
		list = b->lazy_next;
		struct virtaddr_space *vs = addrspace_vspace(as, b->base);
		if (!vs)
			mm_panic("purge_round: pending block 0x%llx is in no space of this address space",
				 (unsigned long long)b->base);
		mm_lock(half_lock(as, b->base));
		finalize(as, b->base, b->size >> PAGE_SHIFT);
		mm_unlock(half_lock(as, b->base));
		virtaddr_free_pending(vs, b);
	}
	round_done(as);
	return pages + d.n;
}

/* Runs purge rounds until nothing is pending. */
uint64_t paging_purge(struct addrspace *as)
{
	uint64_t total = 0;
	for (;;) {
		uint64_t got = purge_round(as);
		total += got;
		if (got)
			continue;
		mm_lock(&as->lazy_lock);
		int busy = as->inflight || as->lazy || as->ndead;
		mm_unlock(&as->lazy_lock);
		if (!busy)
			return total;
		mm_cpu_relax();   /* another CPU's round: wait for it, lock-free */
	}
}

/* The vaddr spaces' reclaim hook (mm/vaddr.h theory 7). */
static void purge_hook(void *arg)
{
	paging_purge(arg);
}

/* Queues pending block b of count pages; runs a round if the list is full.
 * No lock held. */
static void lazy_queue(struct addrspace *as, struct virtaddr_block *b, uint64_t count)
{
	mm_lock(&as->lazy_lock);
	b->lazy_next = as->lazy;
	as->lazy = b;
	as->lazy_pages += count;
	as->lazy_blocks++;
	int full = as->lazy_pages >= as->lazy_max || as->lazy_blocks >= PAGING_LAZY_MAX_BLOCKS;
	mm_unlock(&as->lazy_lock);
	if (full)
		purge_round(as);
}

/* Copies the counters. */
void paging_stats(const struct addrspace *as, struct paging_stats *st)
{
	st->unmaps = __atomic_load_n(&as->stats.unmaps, __ATOMIC_RELAXED);
	st->lazy_unmaps = __atomic_load_n(&as->stats.lazy_unmaps, __ATOMIC_RELAXED);
	st->shootdowns = __atomic_load_n(&as->stats.shootdowns, __ATOMIC_RELAXED);
	st->purges = __atomic_load_n(&as->stats.purges, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------- public */

/* Sets up the locks and counters of a zeroed as; klock is the kernel
 * half's lock (NULL: as's own). */
static void as_init(struct addrspace *as, struct pmm *pmm, struct mm_lock *klock,
		    struct virtaddr_space *kwin, struct virtaddr_space *user)
{
	memset(as, 0, sizeof(*as));
	mm_lock_init(&as->lock, "paging");
	mm_lock_init(&as->lazy_lock, "paging lazy");
	as->klock = klock ? klock : &as->lock;
	as->lazy_max = pmm->total / PAGING_LAZY_RAM_SHARE;
	if (as->lazy_max > PAGING_LAZY_MAX_PAGES)
		as->lazy_max = PAGING_LAZY_MAX_PAGES;
	if (!as->lazy_max)
		as->lazy_max = 1;
	as->pmm = pmm;
	as->kwin = kwin;
	as->user = user;
}

/* Makes as the reclaimer of its vaddr spaces that have none. */
static void as_hook(struct addrspace *as)
{
	struct virtaddr_space *spaces[2] = { as->kwin, as->user };
	for (int k = 0; k < 2; k++) {
		struct virtaddr_space *s = spaces[k];
		if (!s)
			continue;
		mm_lock(&s->lock);
		if (!s->reclaim) {
			s->reclaim = purge_hook;
			s->reclaim_arg = as;
		}
		mm_unlock(&s->lock);
	}
}

/* Adopts a live root table. */
int addrspace_adopt(struct addrspace *as, struct pmm *pmm, uint64_t root_pa,
		    struct virtaddr_space *kwin, struct virtaddr_space *user)
{
	as_init(as, pmm, NULL, kwin, user);
	as->root_pa = root_pa & PTE_ADDR;
	as_hook(as);
	return MM_OK;
}

/* Creates a space with a fresh root, sharing kernel's upper half if given. */
int addrspace_create(struct addrspace *as, struct pmm *pmm, const struct addrspace *kernel,
		     struct virtaddr_space *kwin, struct virtaddr_space *user)
{
	as_init(as, pmm, kernel ? kernel->klock : NULL, kwin, user);
	if (table_alloc(as, &as->root_pa) != MM_OK)
		return MM_ENOMEM;
	as->owns_root = 1;
	as->owns_kernel_half = kernel == NULL;
	if (kernel) {
		uint64_t *dst = table_at(as->root_pa), *src = table_at(kernel->root_pa);
		mm_lock(as->klock);
		for (unsigned i = ROOT_KERNEL_SLOT; i < PT_ENTRIES; i++)
			dst[i] = src[i];
		mm_unlock(as->klock);
	}
	as_hook(as);
	return MM_OK;
}

/* Frees the PDPT at pdpt_pa and the PDs and PTs under it (two nested
 * loops); leaf frames and large pages are not touched. */
static void free_pdpt_tree(struct addrspace *as, uint64_t pdpt_pa)
{
	uint64_t *pdpt = table_at(pdpt_pa);
	for (unsigned i3 = 0; i3 < PT_ENTRIES; i3++) {
		if (!(pdpt[i3] & PTE_P) || (pdpt[i3] & PTE_PS))
			continue;
		uint64_t *pd = table_at(pdpt[i3]);
		for (unsigned i2 = 0; i2 < PT_ENTRIES; i2++)
			if ((pd[i2] & PTE_P) && !(pd[i2] & PTE_PS))
				table_free(as, pd[i2] & PTE_ADDR);
		table_free(as, pdpt[i3] & PTE_ADDR);
	}
	table_free(as, pdpt_pa);
}

/* Frees the table a root entry e points at and everything below it: a
 * PDPT tree (4 levels), or a PML4 and its PDPT trees (5 levels). */
static void free_root_entry(struct addrspace *as, uint64_t e)
{
	if (pgmode_levels() == PGMODE_LEVELS_4) {
		free_pdpt_tree(as, e & PTE_ADDR);
		return;
	}
	uint64_t *pml4 = table_at(e);
	for (unsigned i4 = 0; i4 < PT_ENTRIES; i4++)
		if (pml4[i4] & PTE_P)
			free_pdpt_tree(as, pml4[i4] & PTE_ADDR);
	table_free(as, e & PTE_ADDR);
}

/* Frees every table page of a created space (nested loops, no
 * recursion); leaf frames and large pages are not touched. */
void addrspace_destroy(struct addrspace *as)
{
	paging_purge(as);
	struct virtaddr_space *spaces[2] = { as->kwin, as->user };
	for (int k = 0; k < 2; k++) {
		struct virtaddr_space *s = spaces[k];
		if (!s)
			continue;
		mm_lock(&s->lock);
		if (s->reclaim_arg == as) {
			s->reclaim = NULL;
			s->reclaim_arg = NULL;
		}
		mm_unlock(&s->lock);
	}
	if (!as->owns_root)
		return;
	uint64_t *root = table_at(as->root_pa);
	unsigned top = as->owns_kernel_half ? PT_ENTRIES : ROOT_KERNEL_SLOT;
	for (unsigned i = 0; i < top; i++) {
		if (!(root[i] & PTE_P))
			continue;
		free_root_entry(as, root[i]);
		root[i] = 0;
	}
	table_free(as, as->root_pa);
	as->root_pa = 0;
	as->owns_root = 0;
	as->owns_kernel_half = 0;
}

/* Makes the root entries covering [va, va + size) exist. */
int paging_prepopulate(struct addrspace *as, uint64_t va, uint64_t size)
{
	int top = (int)pgmode_levels();
	uint64_t span = level_span(top), last;
	/* map_pages' checks: a non-canonical va or the 5-level hole above
	 * USER_END would take a root slot of someone else (the direct map's). */
	if ((size & PAGE_MASK) || check_range(va, size >> PAGE_SHIFT, 0) != MM_OK) {
		mm_printf("paging_prepopulate: [0x%llx, +0x%llx): not a range map_pages would take\n",
			  (unsigned long long)va, (unsigned long long)size);
		return MM_EINVAL;
	}
	range_last(va, size, &last);
	uint64_t *root = table_at(as->root_pa);
	uint64_t first = va & ~(span - 1);
	last &= ~(span - 1);
	for (uint64_t v = first;; v += span) {
		uint64_t *e = &root[PX(top, v)], pa;
		int rc = MM_OK;
		mm_lock(half_lock(as, v));
		if (!(*e & PTE_P)) {
			rc = table_alloc(as, &pa);
			if (rc == MM_OK)
				*e = pa | PTE_P | PTE_W | (v < USER_END ? PTE_U : 0);
		}
		mm_unlock(half_lock(as, v));
		if (rc != MM_OK)
			return MM_ENOMEM;
		if (v == last)
			break;
	}
	return MM_OK;
}

/*
 * Maps count pages from va (checked by check_range) once: all or nothing;
 * on failure the pages mapped so far go through the whole unmap protocol
 * (theory 8) and tables made for nothing are parked and freed.
 */
static int map_once(struct addrspace *as, uint64_t va, uint64_t pa, uint64_t count,
		    uint64_t bits, int alloc)
{
	uint64_t done, parked = 0;
	struct mm_lock *l = half_lock(as, va);

	mm_lock(l);
	int rc = map_core(as, va, pa, count, bits, alloc, &done);
	if (rc != MM_OK) {
		mark_pending(as, va, done, 0);
		parked = park_path(as, va + (done << PAGE_SHIFT));
	}
	mm_unlock(l);
	if (rc != MM_OK && done)
		unmap_after_mark(as, va, done);
	if (parked)
		dead_round(as);
	return rc;
}

/* map_once, and once more after a purge if it ran out of frames. */
static int map_range(struct addrspace *as, uint64_t va, uint64_t pa, uint64_t count,
		     unsigned flags, int alloc)
{
	int rc = check_range(va, count, flags);
	if (rc != MM_OK)
		return rc;
	for (int attempt = 0;; attempt++) {
		rc = map_once(as, va, pa, count, paging_pte_bits(flags), alloc);
		if (rc != MM_ENOMEM || attempt || !paging_purge(as))
			return rc;
	}
}

/* Maps count pages va -> pa; all or nothing. */
int map_pages(struct addrspace *as, uint64_t va, uint64_t pa, uint64_t count,
	      unsigned flags)
{
	int rc = check_range(va, count, flags);

	if (rc != MM_OK)
		return rc;
	uint64_t pa_last;
	if ((pa & PAGE_MASK) || !range_last(pa, count << PAGE_SHIFT, &pa_last) ||
	    pa_last > (PTE_ADDR | PAGE_MASK))
		return MM_EINVAL;
	return map_range(as, va, pa, count, flags, 0);
}

/*
 * Returns MM_OK if no page of [va, va + count pages) lies in a vaddr block
 * of as made by an API other than the caller's (virtaddr_alloc/take) and
 * owner; else reports it for `who` and returns MM_EOWNER.
 */
static int window_check(struct addrspace *as, uint64_t va, uint64_t count, uint32_t owner,
			const char *who)
{
	struct virtaddr_space *spaces[2] = { as->kwin, as->user };
	uint64_t len = count << PAGE_SHIFT;
	struct virtaddr_block b;

	for (int k = 0; k < 2; k++) {
		struct virtaddr_space *s = spaces[k];
		if (!s || !ranges_overlap(va, len, s->base, s->end - s->base))
			continue;
		if (!virtaddr_foreign(s, va, len, owner, &b))
			continue;
		mm_printf("%s: va 0x%llx count %llu: pages of [0x%llx, +0x%llx), which %s made: "
			  "free it with that (nothing changed)\n", who,
			  (unsigned long long)va, (unsigned long long)count,
			  (unsigned long long)b.base, (unsigned long long)b.size,
			  virtaddr_owner_name(b.owner));
		return MM_EOWNER;
	}
	return MM_OK;
}

/* The checks of paging_unmap_block after check_range: the window, then
 * every leaf.  MM_OK or the reported refusal.  Paging lock held. */
static int unmap_checks(struct addrspace *as, uint64_t va, uint64_t count, int free_frames,
			uint32_t owner, const char *who)
{
	struct leaf_survey sv = { 0 };
	int rc = window_check(as, va, count, owner, who);
	if (rc != MM_OK)
		return rc;
	unmap_survey(as, va, count, &sv);
	uint64_t wrong = free_frames ? sv.borrowed : sv.owned;
	if (sv.missing || sv.large || wrong) {
		mm_printf("%s: va 0x%llx count %llu: %llu pages not mapped, %llu under large pages, "
			  "%llu %s (nothing changed)\n", who,
			  (unsigned long long)va, (unsigned long long)count,
			  (unsigned long long)sv.missing, (unsigned long long)sv.large,
			  (unsigned long long)wrong, free_frames ?
			  "map frames the mapping does not own (map_pages: use unmap_pages)" :
			  "own their frames (mem_map_pages_at/kalloc: use mem_unmap_pages/kfree)");
		return sv.large ? MM_EINVAL : sv.missing ? MM_ENOENT : MM_EOWNER;
	}
	return MM_OK;
}

/* Reports a range check_range refused, for `who`. */
static void report_range(const char *who, uint64_t va, uint64_t count)
{
	mm_printf("%s: va 0x%llx count %llu: not a page range that may be unmapped "
		  "(unaligned, empty, wrapping, non-canonical, page 0 or the direct map)\n",
		  who, (unsigned long long)va, (unsigned long long)count);
}

/* See paging.h: the all-or-nothing unmap behind every unmapping call. */
int paging_unmap_block(struct addrspace *as, uint64_t va, uint64_t count, int free_frames,
		       uint32_t owner, const char *who)
{
	int rc = check_range(va, count, 0);

	if (rc != MM_OK) {
		report_range(who, va, count);
		return rc;
	}
	struct mm_lock *l = half_lock(as, va);
	mm_lock(l);
	rc = unmap_checks(as, va, count, free_frames, owner, who);
	if (rc == MM_OK)
		mark_pending(as, va, count, 0);
	mm_unlock(l);
	if (rc != MM_OK)
		return rc;
	unmap_after_mark(as, va, count);
	count_add(&as->stats.unmaps, 1);
	return MM_OK;
}

/* See paging.h: kfree's and mem_unmap_addr's lazy unmap. */
int paging_unmap_lazy(struct addrspace *as, struct virtaddr_space *s, uint64_t va,
		      uint64_t count, int free_frames, uint32_t owner, const char *who)
{
	struct virtaddr_block *b = NULL;
	int rc = check_range(va, count, 0);

	if (rc != MM_OK) {
		report_range(who, va, count);
		return rc;
	}
	struct mm_lock *l = half_lock(as, va);
	mm_lock(l);
	/* Block first (right size, right maker, not pending), then every
	 * page; the claim cannot fail after the check, as every free of a
	 * block of this half holds this lock. */
	rc = virtaddr_check_owned(s, va, count << PAGE_SHIFT, owner, who);
	if (rc == MM_OK)
		rc = unmap_checks(as, va, count, free_frames, owner, who);
	if (rc == MM_OK)
		rc = virtaddr_claim_owned(s, va, count << PAGE_SHIFT, owner, who, &b);
	if (rc == MM_OK)
		mark_pending(as, va, count, 1);
	mm_unlock(l);
	if (rc != MM_OK)
		return rc;
	count_add(&as->stats.unmaps, 1);
	count_add(&as->stats.lazy_unmaps, 1);
	lazy_queue(as, b, count);
	return MM_OK;
}

/* Unmaps count pages at va; frames stay with their owner. */
int unmap_pages(struct addrspace *as, uint64_t va, uint64_t count)
{
	return paging_unmap_block(as, va, count, 0, VIRTADDR_OWNER_CALLER, "unmap_pages");
}

/* Allocates and maps count frames at va; all or nothing. */
int mem_map_pages_at(struct addrspace *as, uint64_t va, uint64_t count, unsigned flags)
{
	return map_range(as, va, 0, count, flags, 1);
}

/* Unmaps count pages at va and frees their frames. */
int mem_unmap_pages(struct addrspace *as, uint64_t va, uint64_t count)
{
	return paging_unmap_block(as, va, count, 1, VIRTADDR_OWNER_CALLER, "mem_unmap_pages");
}

/* Returns the page range [*first, *first + *count pages) covering
 * [addr, addr + size).  MM_OK or MM_EINVAL (empty or wrapping). */
static int page_cover(uint64_t addr, uint64_t size, uint64_t *first, uint64_t *count)
{
	uint64_t end;
	if (size == 0 || !range_end(addr, size, &end) || end > ~PAGE_MASK)
		return MM_EINVAL;
	*first = PAGE_ROUND_DOWN(addr);
	*count = (PAGE_ROUND_UP(end) - *first) >> PAGE_SHIFT;
	return MM_OK;
}

/* Maps [pa, pa + size) into the kernel window; *va = address of pa. */
int mem_map_addr(struct addrspace *as, uint64_t pa, uint64_t size, unsigned flags,
		 uint64_t *va)
{
	uint64_t first, count, base;

	if (!as || !as->kwin || (flags & MAPF_USER))
		return MM_EINVAL;
	if (page_cover(pa, size, &first, &count) != MM_OK)
		return MM_EINVAL;
	int rc = virtaddr_alloc_owned(as->kwin, count << PAGE_SHIFT, 0,
				      VIRTADDR_OWNER_MAP_ADDR, &base);
	if (rc != MM_OK)
		return rc;
	rc = map_pages(as, base, first, count, flags);
	if (rc != MM_OK) {
		if (virtaddr_free_owned(as->kwin, base, count << PAGE_SHIFT,
					VIRTADDR_OWNER_MAP_ADDR) != MM_OK)
			mm_panic("mem_map_addr: cannot give back its own block 0x%llx",
				 (unsigned long long)base);
		return rc;
	}
	*va = base + (pa & PAGE_MASK);
	return MM_OK;
}

/* Undoes mem_map_addr (lazily: theory 8). */
int mem_unmap_addr(struct addrspace *as, uint64_t va, uint64_t size)
{
	uint64_t first, count;

	if (!as || !as->kwin || page_cover(va, size, &first, &count) != MM_OK) {
		mm_printf("mem_unmap_addr: va 0x%llx size 0x%llx: no kernel window, or an empty "
			  "or wrapping range\n", (unsigned long long)va, (unsigned long long)size);
		return MM_EINVAL;
	}
	return paging_unmap_lazy(as, as->kwin, first, count, 0, VIRTADDR_OWNER_MAP_ADDR,
				 "mem_unmap_addr");
}

/* Registers the kernel's address space. */
void addrspace_set_kernel(struct addrspace *as)
{
	kernel_space = as;
}

/* Returns the kernel's address space (NULL before addrspace_set_kernel). */
struct addrspace *addrspace_kernel(void)
{
	return kernel_space;
}

/* Looks up va, coping with 1 GiB and 2 MiB pages. */
int paging_query(const struct addrspace *as, uint64_t va, uint64_t *pa, uint64_t *pte)
{
	const uint64_t *t = table_at(as->root_pa);
	struct mm_lock *l = half_lock(as, va);
	int rc = MM_ENOENT;

	/* Non-canonical: nothing maps it, though its low bits name a path. */
	if (!pgmode_canonical(va))
		return MM_ENOENT;
	mm_lock(l);
	for (int lv = (int)pgmode_levels(); lv >= 1; lv--) {
		uint64_t e = t[PX(lv, va)];
		if (!(e & PTE_P))
			break;
		if (lv == 1 || (pgmode_ps_level(lv) && (e & PTE_PS))) {
			uint64_t span = level_span(lv);
			*pa = ((e & PTE_ADDR) & ~(span - 1)) + (va & (span - 1));
			*pte = e;
			rc = MM_OK;
			break;
		}
		t = table_at(e);
	}
	mm_unlock(l);
	return rc;
}
