/*
 * mm/paging.c - x86_64 4-level page tables (theory statement in mm/paging.h).
 *
 * Levels are numbered as in PX(): 4 = PML4, 3 = PDPT, 2 = PD, 1 = PT.
 * The hot loops work one page table (512 pages) at a time: one walk per
 * table, then a run of stores.
 */
#include "lib/range.h"
#include "mm/paging.h"
#include "mm/layout.h"
#include "lib/string.h"
#include "mm/platform.h"
#include "mm/status.h"
#include "mm/x86_64.h"

/* First PML4 slot of the kernel half. */
#define PML4_KERNEL_SLOT 256

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

/* Takes a zeroed frame for a page table.  MM_OK or MM_ENOMEM. */
static int table_alloc(struct addrspace *as, uint64_t *pa)
{
	if (pmm_alloc(as->pmm, pa) != MM_OK)
		return MM_ENOMEM;
	memset(mm_phys_to_virt(*pa), 0, PAGE_SIZE);
	as->table_pages++;
	return MM_OK;
}

/* Gives a page-table frame back. */
static void table_free(struct addrspace *as, uint64_t pa)
{
	if (pmm_free(as->pmm, pa) != MM_OK)
		mm_panic("table_free: table page 0x%llx was not allocated",
			 (unsigned long long)pa);
	as->table_pages--;
}

/* Returns 1 if no entry of table t is in use. */
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
	if (!range_last(va, len, &last) || !VA_CANONICAL(va) || !VA_CANONICAL(last))
		return MM_EINVAL;
	if ((va < USER_END) != (last < USER_END))
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
 * *level the level whose entry stopped the walk.
 */
static uint64_t *walk_pt(struct addrspace *as, uint64_t va, int create,
			 int *err, int *level)
{
	uint64_t *t = table_at(as->root_pa);

	for (int l = 4; l > 1; l--) {
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
		} else if (l < 4 && (*e & PTE_PS)) {
			*err = MM_EBUSY;
			return NULL;
		}
		t = table_at(*e);
	}
	return t;
}

/*
 * Frees the tables on the path to va that are empty, bottom-up.  PDPTs of
 * the kernel half are kept (shared by every space, theory 4).
 */
static void prune_path(struct addrspace *as, uint64_t va)
{
	uint64_t *ent[5];
	uint64_t *t = table_at(as->root_pa);
	int l;

	for (l = 4; l > 1; l--) {
		uint64_t *e = &t[PX(l, va)];
		if (!(*e & PTE_P) || (l < 4 && (*e & PTE_PS)))
			break;
		ent[l] = e;
		t = table_at(*e);
	}
	/* ent[l+1 .. 4] are valid; ent[k] points at the table of level k-1. */
	for (int k = l + 1; k <= 4; k++) {
		if (k == 4 && va >= USER_END)
			break;
		uint64_t *e = ent[k];
		if (!table_empty(table_at(*e)))
			break;
		uint64_t pa = *e & PTE_ADDR;
		*e = 0;
		mm_tlb_flush_page(va);   /* drops paging-structure caches for va */
		table_free(as, pa);
	}
}

/* ------------------------------------------------------------- core loops */

/*
 * Maps count pages from va.  With alloc, each page gets a fresh zeroed frame
 * (pa is ignored); otherwise frames pa, pa + 4 KiB, ...  Stops at the first
 * problem; *done gets the number of pages mapped.  MM_OK or an error.
 */
static int map_core(struct addrspace *as, uint64_t va, uint64_t pa, uint64_t count,
		    uint64_t bits, int alloc, uint64_t *done)
{
	uint64_t i = 0;
	int err = MM_OK, level;

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
			if (*e & PTE_P) {
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
	uint64_t missing;   /* pages not mapped */
	uint64_t large;     /* pages under a 2 MiB / 1 GiB page */
	uint64_t owned;     /* 4 KiB pages with PTE_OWNED (frame is the mapping's) */
	uint64_t borrowed;  /* 4 KiB pages without it (frame is someone else's) */
};

/* Counts what count pages from va hold, changing nothing. */
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

/*
 * Unmaps count pages from va, every one of them a mapped 4 KiB page (the
 * caller made sure: unmap_survey, or pages it just mapped); owned frames
 * go back to the pmm.  Empty tables are freed.
 */
static void unmap_core(struct addrspace *as, uint64_t va, uint64_t count)
{
	int per_page = count <= PAGING_FLUSH_ALL_PAGES;
	uint64_t i = 0;
	int err, level;

	while (i < count) {
		uint64_t v = va + (i << PAGE_SHIFT);
		uint64_t *pt = walk_pt(as, v, 0, &err, &level);
		if (!pt)
			mm_panic("unmap_core: va 0x%llx has no page table (level %d entry: %s)",
				 (unsigned long long)v, level, mm_status_str(err));
		unsigned x = PX(1, v);
		uint64_t n = PT_ENTRIES - x;
		if (n > count - i)
			n = count - i;
		for (uint64_t *e = &pt[x], *stop = e + n; e < stop; e++, v += PAGE_SIZE) {
			uint64_t pte = *e;
			if (!(pte & PTE_P))
				mm_panic("unmap_core: va 0x%llx is not mapped", (unsigned long long)v);
			*e = 0;
			if (per_page)
				mm_tlb_flush_page(v);
			if ((pte & PTE_OWNED) && pmm_free(as->pmm, pte & PTE_ADDR) != MM_OK)
				mm_panic("unmap_core: frame 0x%llx at va 0x%llx was not allocated",
					 (unsigned long long)(pte & PTE_ADDR),
					 (unsigned long long)v);
		}
		prune_path(as, va + (i << PAGE_SHIFT));
		i += n;
	}
	if (!per_page)
		mm_tlb_flush_all();
}

/* ------------------------------------------------------------- public */

/* Adopts a live root table. */
int addrspace_adopt(struct addrspace *as, struct pmm *pmm, uint64_t root_pa,
		    struct virtaddr_space *kwin, struct virtaddr_space *user)
{
	memset(as, 0, sizeof(*as));
	as->root_pa = root_pa & PTE_ADDR;
	as->pmm = pmm;
	as->kwin = kwin;
	as->user = user;
	return MM_OK;
}

/* Creates a space with a fresh root, sharing kernel's upper half if given. */
int addrspace_create(struct addrspace *as, struct pmm *pmm, const struct addrspace *kernel,
		     struct virtaddr_space *kwin, struct virtaddr_space *user)
{
	memset(as, 0, sizeof(*as));
	as->pmm = pmm;
	as->kwin = kwin;
	as->user = user;
	if (table_alloc(as, &as->root_pa) != MM_OK)
		return MM_ENOMEM;
	as->owns_root = 1;
	as->owns_kernel_half = kernel == NULL;
	if (kernel) {
		uint64_t *dst = table_at(as->root_pa), *src = table_at(kernel->root_pa);
		for (unsigned i = PML4_KERNEL_SLOT; i < PT_ENTRIES; i++)
			dst[i] = src[i];
	}
	return MM_OK;
}

/* Frees every table page of a created space (three nested loops, no
 * recursion); leaf frames and large pages are not touched. */
void addrspace_destroy(struct addrspace *as)
{
	if (!as->owns_root)
		return;
	uint64_t *pml4 = table_at(as->root_pa);
	unsigned top = as->owns_kernel_half ? PT_ENTRIES : PML4_KERNEL_SLOT;
	for (unsigned i4 = 0; i4 < top; i4++) {
		if (!(pml4[i4] & PTE_P))
			continue;
		uint64_t *pdpt = table_at(pml4[i4]);
		for (unsigned i3 = 0; i3 < PT_ENTRIES; i3++) {
			if (!(pdpt[i3] & PTE_P) || (pdpt[i3] & PTE_PS))
				continue;
			uint64_t *pd = table_at(pdpt[i3]);
			for (unsigned i2 = 0; i2 < PT_ENTRIES; i2++)
				if ((pd[i2] & PTE_P) && !(pd[i2] & PTE_PS))
					table_free(as, pd[i2] & PTE_ADDR);
			table_free(as, pdpt[i3] & PTE_ADDR);
		}
		table_free(as, pml4[i4] & PTE_ADDR);
		pml4[i4] = 0;
	}
	table_free(as, as->root_pa);
	as->root_pa = 0;
	as->owns_root = 0;
	as->owns_kernel_half = 0;
}

/* Makes the PML4 entries covering [va, va + size) exist. */
int paging_prepopulate(struct addrspace *as, uint64_t va, uint64_t size)
{
	uint64_t span = level_span(4), last;
	if ((va & PAGE_MASK) || (size & PAGE_MASK) || !range_last(va, size, &last))
		return MM_EINVAL;
	if (ranges_overlap(va, size, HHDM_BASE, HHDM_MAX_SIZE))
		return MM_EINVAL;
	uint64_t *pml4 = table_at(as->root_pa);
	uint64_t first = va & ~(span - 1);
	last &= ~(span - 1);
	for (uint64_t v = first;; v += span) {
		uint64_t *e = &pml4[PX(4, v)], pa;
		if (!(*e & PTE_P)) {
			if (table_alloc(as, &pa) != MM_OK)
				return MM_ENOMEM;
			*e = pa | PTE_P | PTE_W | (v < USER_END ? PTE_U : 0);
		}
		if (v == last)
			break;
	}
	return MM_OK;
}

/* Maps count pages va -> pa; all or nothing. */
int map_pages(struct addrspace *as, uint64_t va, uint64_t pa, uint64_t count,
	      unsigned flags)
{
	uint64_t done;
	int rc = check_range(va, count, flags);

	if (rc != MM_OK)
		return rc;
	uint64_t pa_last;
	if ((pa & PAGE_MASK) || !range_last(pa, count << PAGE_SHIFT, &pa_last) ||
	    pa_last > (PTE_ADDR | PAGE_MASK))
		return MM_EINVAL;
	rc = map_core(as, va, pa, count, paging_pte_bits(flags), 0, &done);
	if (rc != MM_OK) {
		unmap_core(as, va, done);
		prune_path(as, va + (done << PAGE_SHIFT));
	}
	return rc;
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

	for (int k = 0; k < 2; k++) {
		struct virtaddr_space *s = spaces[k];
		if (!s || !ranges_overlap(va, len, s->base, s->end - s->base))
			continue;
		const struct virtaddr_block *b = virtaddr_find(s, va > s->base ? va : s->base);
		for (; b && ranges_overlap(va, len, b->base, b->size); b = b->next) {
			if (!b->owner || b->owner == VIRTADDR_OWNER_CALLER || b->owner == owner)
				continue;
			mm_printf("%s: va 0x%llx count %llu: pages of [0x%llx, +0x%llx), which %s made: "
				  "free it with that (nothing changed)\n", who,
				  (unsigned long long)va, (unsigned long long)count,
				  (unsigned long long)b->base, (unsigned long long)b->size,
				  virtaddr_owner_name(b->owner));
			return MM_EOWNER;
		}
	}
	return MM_OK;
}

/* See paging.h: the all-or-nothing unmap behind every unmapping call. */
int paging_unmap_block(struct addrspace *as, uint64_t va, uint64_t count, int free_frames,
		       uint32_t owner, const char *who)
{
	struct leaf_survey sv = { 0 };
	int rc = check_range(va, count, 0);

	if (rc != MM_OK) {
		mm_printf("%s: va 0x%llx count %llu: not a page range that may be unmapped "
			  "(unaligned, empty, wrapping, non-canonical, page 0 or the direct map)\n",
			  who, (unsigned long long)va, (unsigned long long)count);
		return rc;
	}
	rc = window_check(as, va, count, owner, who);
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
	unmap_core(as, va, count);
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
	uint64_t done;
	int rc = check_range(va, count, flags);

	if (rc != MM_OK)
		return rc;
	rc = map_core(as, va, 0, count, paging_pte_bits(flags), 1, &done);
	if (rc != MM_OK) {
		unmap_core(as, va, done);
		prune_path(as, va + (done << PAGE_SHIFT));
	}
	return rc;
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

/* Undoes mem_map_addr. */
int mem_unmap_addr(struct addrspace *as, uint64_t va, uint64_t size)
{
	uint64_t first, count;

	if (!as || !as->kwin || page_cover(va, size, &first, &count) != MM_OK) {
		mm_printf("mem_unmap_addr: va 0x%llx size 0x%llx: no kernel window, or an empty "
			  "or wrapping range\n", (unsigned long long)va, (unsigned long long)size);
		return MM_EINVAL;
	}
	int rc = virtaddr_check_owned(as->kwin, first, count << PAGE_SHIFT,
				      VIRTADDR_OWNER_MAP_ADDR, "mem_unmap_addr");
	if (rc == MM_OK)
		rc = paging_unmap_block(as, first, count, 0, VIRTADDR_OWNER_MAP_ADDR,
					"mem_unmap_addr");
	if (rc != MM_OK)
		return rc;
	if (virtaddr_free_owned(as->kwin, first, count << PAGE_SHIFT,
				VIRTADDR_OWNER_MAP_ADDR) != MM_OK)
		mm_panic("mem_unmap_addr: block 0x%llx checked but not freed",
			 (unsigned long long)first);
	return MM_OK;
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

	for (int l = 4; l >= 1; l--) {
		uint64_t e = t[PX(l, va)];
		if (!(e & PTE_P))
			return MM_ENOENT;
		if (l == 1 || (l < 4 && (e & PTE_PS))) {
			uint64_t span = level_span(l);
			*pa = ((e & PTE_ADDR) & ~(span - 1)) + (va & (span - 1));
			*pte = e;
			return MM_OK;
		}
		t = table_at(e);
	}
	return MM_ENOENT;
}
