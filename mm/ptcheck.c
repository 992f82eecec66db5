/*
 * mm/ptcheck.c - page-table checker (what it checks: mm/ptcheck.h).
 * Nested loops over the levels (four, five under 5-level paging): bounded
 * stack, no recursion.
 */
#include "lib/range.h"
#include "mm/ptcheck.h"
#include "mm/layout.h"
#include "mm/pgmode.h"
#include "mm/platform.h"
#include "mm/x86_64.h"

/* Walk state: the counts and what the current path allows. */
struct ptwalk {
	const struct pmm *pmm;
	int bad;
	uint64_t leaves;
};

/* Returns the canonical address of table indices i3..i1 under the PML4
 * entry whose (not sign-extended) address is va4. */
static uint64_t va_of(uint64_t va4, unsigned i3, unsigned i2, unsigned i1)
{
	uint64_t va = va4 | ((uint64_t)i3 << PX_SHIFT(3)) |
		      ((uint64_t)i2 << PX_SHIFT(2)) | ((uint64_t)i1 << PX_SHIFT(1));
	return pgmode_sign_extend(va);
}

/* Records one violation, printing it while under PTCHECK_PRINT_MAX. */
static void violation(struct ptwalk *w, uint64_t va, uint64_t e, const char *what)
{
	if (w->bad < PTCHECK_PRINT_MAX)
		mm_printf("ptcheck: va 0x%llx entry 0x%llx: %s\n",
			  (unsigned long long)va, (unsigned long long)e, what);
	w->bad++;
}

/* Checks a frame the tables point at: RAM must be allocated. */
static void check_frame(struct ptwalk *w, uint64_t va, uint64_t e, const char *what)
{
	uint64_t pa = e & PTE_ADDR;
	if (pmm_is_ram(w->pmm, pa) && !pmm_is_allocated(w->pmm, pa))
		violation(w, va, e, what);
}

/* Checks one leaf of size bytes at va; path = AND of W/U, OR of NX above. */
static void check_leaf(struct ptwalk *w, uint64_t va, uint64_t size, uint64_t e,
		       uint64_t path)
{
	uint64_t wu = e & path & (PTE_W | PTE_U);
	uint64_t nx = (e | path) & PTE_NX;

	w->leaves++;
	if ((wu & PTE_W) && !nx)
		violation(w, va, e, "writable and executable");
	if ((wu & PTE_U) && !range_inside(va, size, USER_BASE, USER_END))
		violation(w, va, e, "user-accessible outside the user half");
	if (va < PAGE_SIZE)
		violation(w, va, e, "page 0 is mapped");
	if (range_inside(va, size, HHDM_BASE, HHDM_BASE + HHDM_MAX_SIZE)) {
		/* The direct map aliases free RAM by design, at 4 KiB too. */
		if ((e & PTE_ADDR) != va - HHDM_BASE)
			violation(w, va, e, "direct-map page not at HHDM_BASE + its frame");
	} else if (size == PAGE_SIZE) {
		check_frame(w, va, e, "frame is free RAM");
	}
	if ((e & PTE_OWNED) && (size != PAGE_SIZE || !pmm_is_ram(w->pmm, e & PTE_ADDR)))
		violation(w, va, e, "owned mapping of a large page or of a frame that is not RAM");
}

/* Checks a pending leaf (mm/paging.h theory 8): its owned frame must stay
 * allocated until the shootdown has returned and finalize frees it. */
static void check_pending(struct ptwalk *w, uint64_t va, uint64_t e)
{
	if (e & PTE_OWNED)
		check_frame(w, va, e, "pending entry's owned frame is free RAM");
}

/* Folds table entry e into the path permissions. */
static uint64_t path_of(uint64_t path, uint64_t e)
{
	return (path & e & (PTE_W | PTE_U)) | ((path | e) & PTE_NX);
}

/* Walks the PML4 entry e4 covering va4 (its address, not sign-extended),
 * three levels down; top: the path's permissions above it. */
static void walk_slot(struct ptwalk *w, uint64_t va4, uint64_t e4, uint64_t top)
{
	uint64_t p4 = path_of(top, e4);
	check_frame(w, va_of(va4, 0, 0, 0), e4, "table page is free RAM");
	const uint64_t *pdpt = mm_phys_to_virt(e4 & PTE_ADDR);
	for (unsigned i3 = 0; i3 < PT_ENTRIES; i3++) {
		uint64_t e3 = pdpt[i3];
		if (!(e3 & PTE_P))
			continue;
		if (e3 & PTE_PS) {
			check_leaf(w, va_of(va4, i3, 0, 0), HUGE_SIZE, e3, p4);
			continue;
		}
		uint64_t p3 = path_of(p4, e3);
		check_frame(w, va_of(va4, i3, 0, 0), e3, "table page is free RAM");
		const uint64_t *pd = mm_phys_to_virt(e3 & PTE_ADDR);
		for (unsigned i2 = 0; i2 < PT_ENTRIES; i2++) {
			uint64_t e2 = pd[i2];
			if (!(e2 & PTE_P))
				continue;
			if (e2 & PTE_PS) {
				check_leaf(w, va_of(va4, i3, i2, 0), LARGE_SIZE, e2, p3);
				continue;
			}
			uint64_t p2 = path_of(p3, e2);
			check_frame(w, va_of(va4, i3, i2, 0), e2, "table page is free RAM");
			const uint64_t *pt = mm_phys_to_virt(e2 & PTE_ADDR);
			for (unsigned i1 = 0; i1 < PT_ENTRIES; i1++) {
				if (pt[i1] & PTE_P)
					check_leaf(w, va_of(va4, i3, i2, i1), PAGE_SIZE, pt[i1], p2);
				else if (pt[i1] & PTE_PENDING)
					check_pending(w, va_of(va4, i3, i2, i1), pt[i1]);
			}
		}
	}
}

/* Walks the PML5 entry e5 covering va5 (not sign-extended): its PML4. */
static void walk_pml4(struct ptwalk *w, uint64_t va5, uint64_t e5, uint64_t top)
{
	uint64_t p5 = path_of(top, e5);
	check_frame(w, va_of(va5, 0, 0, 0), e5, "table page is free RAM");
	const uint64_t *pml4 = mm_phys_to_virt(e5 & PTE_ADDR);
	for (unsigned i4 = 0; i4 < PT_ENTRIES; i4++)
		if (pml4[i4] & PTE_P)
			walk_slot(w, va5 | ((uint64_t)i4 << PX_SHIFT(4)), pml4[i4], p5);
}

/* Walks every level of as, each root slot under the paging lock of its
 * half (mm/paging.h theory 6). */
int ptcheck(const struct addrspace *as, const struct pmm *pmm, uint64_t *leaves)
{
	struct ptwalk w = { .pmm = pmm };
	const uint64_t *root = mm_phys_to_virt(as->root_pa);
	const uint64_t top = PTE_W | PTE_U;   /* nothing restricted yet */
	int levels = (int)pgmode_levels();

	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		uint64_t va = (uint64_t)i << PX_SHIFT(levels);
		struct mm_lock *l = pgmode_sign_extend(va) < USER_END ?
				    (struct mm_lock *)&as->lock : as->klock;
		mm_lock(l);
		uint64_t e = root[i];
		if ((e & PTE_P) && levels == PGMODE_LEVELS_5)
			walk_pml4(&w, va, e, top);
		else if (e & PTE_P)
			walk_slot(&w, va, e, top);
		mm_unlock(l);
	}
	if (w.bad > PTCHECK_PRINT_MAX)
		mm_printf("ptcheck: %d more violations not printed\n", w.bad - PTCHECK_PRINT_MAX);
	if (leaves)
		*leaves = w.leaves;
	return w.bad;
}
