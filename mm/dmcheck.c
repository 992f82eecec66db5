/*
 * mm/dmcheck.c - the direct map against the raw firmware map (mm/dmcheck.h).
 * Everything changes only at descriptor and run boundaries, so the checks
 * test one page per "event" interval: O(n^2) for n descriptors and runs.
 */
#include "lib/range.h"
#include "mm/dmcheck.h"
#include "mm/layout.h"
#include "mm/memmap.h"
#include "mm/pgmode.h"
#include "mm/platform.h"
#include "mm/status.h"
#include "mm/x86_64.h"

/* Walk output state. */
struct dmwalk {
	struct hhdm_range *runs;
	size_t cap, n;
	uint64_t misplaced;
	int overflow;
};

/* Adds the leaf of size bytes at va (entry e) to the runs. */
static void walk_leaf(struct dmwalk *w, uint64_t va, uint64_t size, uint64_t e)
{
	uint64_t pa = e & PTE_ADDR & ~(size - 1);
	if (pa != va - HHDM_BASE) {
		w->misplaced++;
		return;
	}
	if (w->n && w->runs[w->n - 1].pa + w->runs[w->n - 1].size == pa)
		w->runs[w->n - 1].size += size;
	else if (w->n == w->cap)
		w->overflow = 1;
	else
		w->runs[w->n++] = (struct hhdm_range){ pa, size };
}

/* Walks the PDPT of the direct map's PML4 entry e4 at virtual va4. */
static void walk_pdpt(struct dmwalk *w, uint64_t va4, uint64_t e4)
{
	const uint64_t *pdpt = mm_phys_to_virt(e4 & PTE_ADDR);
	for (unsigned i3 = 0; i3 < PT_ENTRIES; i3++) {
		uint64_t e3 = pdpt[i3], va3 = va4 + ((uint64_t)i3 << PX_SHIFT(3));
		if (!(e3 & PTE_P))
			continue;
		if (e3 & PTE_PS) {
			walk_leaf(w, va3, HUGE_SIZE, e3);
			continue;
		}
		const uint64_t *pd = mm_phys_to_virt(e3 & PTE_ADDR);
		for (unsigned i2 = 0; i2 < PT_ENTRIES; i2++) {
			uint64_t e2 = pd[i2], va2 = va3 + ((uint64_t)i2 << PX_SHIFT(2));
			if (!(e2 & PTE_P))
				continue;
			if (e2 & PTE_PS) {
				walk_leaf(w, va2, LARGE_SIZE, e2);
				continue;
			}
			const uint64_t *pt = mm_phys_to_virt(e2 & PTE_ADDR);
			for (unsigned i1 = 0; i1 < PT_ENTRIES; i1++)
				if (pt[i1] & PTE_P)
					walk_leaf(w, va2 + ((uint64_t)i1 << PX_SHIFT(1)),
						  PAGE_SIZE, pt[i1]);
		}
	}
}

/* See dmcheck.h.  The direct map's root slots (mm/pgmode.h theory 3): PML4
 * entries under 4 levels, PML5 entries each holding a PML4 under 5. */
int dmcheck_walk(uint64_t root_pa, struct hhdm_range *runs, size_t cap, size_t *n,
		 uint64_t *misplaced)
{
	struct dmwalk w = { runs, cap, 0, 0, 0 };
	const uint64_t *root = mm_phys_to_virt(root_pa);
	int top = (int)pgmode_levels();
	unsigned first = PX(top, HHDM_BASE), slots = (unsigned)(HHDM_MAX_SIZE >> PX_SHIFT(top));

	for (unsigned i = first; i < first + slots; i++) {
		if (!(root[i] & PTE_P))
			continue;
		uint64_t va = HHDM_BASE + ((uint64_t)(i - first) << PX_SHIFT(top));
		if (top == PGMODE_LEVELS_4) {
			walk_pdpt(&w, va, root[i]);
			continue;
		}
		const uint64_t *pml4 = mm_phys_to_virt(root[i] & PTE_ADDR);
		for (unsigned i4 = 0; i4 < PT_ENTRIES; i4++)
			if (pml4[i4] & PTE_P)
				walk_pdpt(&w, va + ((uint64_t)i4 << PX_SHIFT(4)), pml4[i4]);
	}
	*n = w.n;
	*misplaced = w.misplaced;
	return w.overflow ? MM_EOVERFLOW : MM_OK;
}

/* The raw map being compared with. */
struct dmmap {
	const uint8_t *raw;
	uint64_t count;
	uint32_t desc_size;
};

/* Descriptor i as [*lo, *hi), page-rounded outward; returns 1 if it is RAM
 * (the rule of dmcheck.h), 0 if not, -1 if empty or wrapping. */
static int desc_at(const struct dmmap *m, uint64_t i, uint64_t *lo, uint64_t *hi)
{
	const struct bootinfo_efi_desc *d = (const void *)(m->raw + i * m->desc_size);
	uint64_t end;
	if (d->num_pages == 0 || d->num_pages > (UINT64_MAX >> PAGE_SHIFT) ||
	    !range_end(d->phys_start, d->num_pages << PAGE_SHIFT, &end) || end > UINT64_MAX - PAGE_MASK)
		return -1;
	*lo = PAGE_ROUND_DOWN(d->phys_start);
	*hi = PAGE_ROUND_UP(end);
	if (!(d->attribute & EFI_MEMORY_WB) || (d->attribute & EFI_MEMORY_SP))
		return 0;
	switch (d->type) {
	case EFI_LOADER_CODE: case EFI_LOADER_DATA: case EFI_BS_CODE: case EFI_BS_DATA:
	case EFI_RT_CODE: case EFI_RT_DATA: case EFI_CONVENTIONAL: case EFI_ACPI_RECLAIM:
	case EFI_ACPI_NVS:
		return 1;
	default:
		return 0;
	}
}

/* What the raw map says of page pa: 1 RAM, 0 not RAM (no RAM descriptor,
 * or touched by another one). */
static int page_is_ram(const struct dmmap *m, uint64_t pa)
{
	int ram = 0;
	uint64_t lo, hi;
	for (uint64_t i = 0; i < m->count; i++) {
		int k = desc_at(m, i, &lo, &hi);
		if (k < 0 || pa < lo || pa >= hi)
			continue;
		if (k == 0)
			return 0;
		ram = 1;
	}
	return ram;
}

/* Returns 1 if page pa is inside one of runs[0..n). */
static int page_is_mapped(const struct hhdm_range *runs, size_t n, uint64_t pa)
{
	return hhdm_ranges_contain(runs, n, pa);
}

/* The next address above pos where the answer of page_is_ram or
 * page_is_mapped can change, at most limit. */
static uint64_t next_event(const struct dmmap *m, const struct hhdm_range *runs, size_t n,
			   uint64_t pos, uint64_t limit)
{
	uint64_t next = limit, lo, hi;
	for (uint64_t i = 0; i < m->count; i++) {
		if (desc_at(m, i, &lo, &hi) < 0)
			continue;
		if (lo > pos && lo < next)
			next = lo;
		if (hi > pos && hi < next)
			next = hi;
	}
	for (size_t r = 0; r < n; r++) {
		uint64_t end = runs[r].pa + runs[r].size;
		if (runs[r].pa > pos && runs[r].pa < next)
			next = runs[r].pa;
		if (end > pos && end < next)
			next = end;
	}
	return next;
}

/* Counts (and prints up to DMCHECK_PRINT_MAX) one problem. */
static void problem(int *bad, const char *what, uint64_t lo, uint64_t hi)
{
	if (*bad < DMCHECK_PRINT_MAX)
		mm_printf("dmcheck: [0x%llx, 0x%llx) %s\n", (unsigned long long)lo,
			  (unsigned long long)hi, what);
	(*bad)++;
}

/* See dmcheck.h. */
int dmcheck_compare(const struct hhdm_range *runs, size_t n, const void *raw,
		    uint64_t raw_size, uint32_t desc_size, int *not_ram)
{
	struct dmmap m = { raw, raw_size / desc_size, desc_size };
	int bad = 0;
	uint64_t lo, hi;

	/* Every mapped page is RAM. */
	for (size_t r = 0; r < n; r++) {
		uint64_t end = runs[r].pa + runs[r].size;
		for (uint64_t pos = runs[r].pa; pos < end;) {
			uint64_t next = next_event(&m, runs, n, pos, end);
			if (!page_is_ram(&m, pos))
				problem(&bad, "is mapped but is not write-back RAM in the raw map", pos, next);
			pos = next;
		}
	}
	if (not_ram)
		*not_ram = bad;
	/* Every RAM page is mapped. */
	for (uint64_t i = 0; i < m.count; i++) {
		if (desc_at(&m, i, &lo, &hi) != 1)
			continue;
		for (uint64_t pos = lo; pos < hi;) {
			uint64_t next = next_event(&m, runs, n, pos, hi);
			if (page_is_ram(&m, pos) && !page_is_mapped(runs, n, pos))
				problem(&bad, "is write-back RAM in the raw map but not mapped", pos, next);
			pos = next;
		}
	}
	if (bad > DMCHECK_PRINT_MAX)
		mm_printf("dmcheck: %d more problems not printed\n", bad - DMCHECK_PRINT_MAX);
	return bad;
}
