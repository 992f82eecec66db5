/*
 * kernel/efirt/window.c - the runtime window and the identity mapping for
 * SetVirtualAddressMap (window.h).
 */
#include "kernel/console/console.h"
#include "kernel/efirt/window.h"
#include "lib/range.h"
#include "mm/status.h"
#include "mm/x86_64.h"

/* Mapping flags of permission perm for region g: MAPF_* from the
 * permission, uncached without EFI_MEMORY_WB or for MMIO. */
static unsigned perm_flags(unsigned perm, const struct efirt_region *g)
{
	unsigned f = perm == EFIRT_PERM_RX ? 0 : perm == EFIRT_PERM_R ? MAPF_NOEXEC :
		     MAPF_WRITE | MAPF_NOEXEC;
	if (!(g->attr & EFI_MEMORY_WB) || g->type == EFI_MEMORY_MAPPED_IO)
		f |= MAPF_UNCACHED;
	return f;
}

/* See window.h. */
int efirt_window_stack(struct addrspace *as)
{
	return mem_map_pages_at(as, EFIRT_STACK_BASE, EFIRT_STACK_SIZE >> PAGE_SHIFT,
				MAPF_WRITE | MAPF_NOEXEC);
}

/* See window.h. */
int efirt_window_map(struct addrspace *as, struct efirt_region *r, size_t n,
		     const struct efirt_mat_entry *m, size_t k, struct efirt_window_stats *st,
		     uint64_t *next)
{
	uint64_t va = EFIRT_REGIONS_BASE;
	*st = (struct efirt_window_stats){ 0 };
	for (size_t i = 0; i < n; i++) {
		uint64_t bytes = r[i].pages << PAGE_SHIFT;
		/* The guard page comes off the window's end, not onto the
		 * region's size: that sum could wrap at 2^64. */
		if (r[i].pages > (EFIRT_END - EFIRT_REGIONS_BASE) >> PAGE_SHIFT ||
		    !range_inside(va, bytes, EFIRT_REGIONS_BASE, EFIRT_END - EFIRT_GUARD)) {
			kprintf("efirt: runtime region %zu (0x%lx, %lu pages) does not fit the window\n",
				i, r[i].pa, r[i].pages);
			return MM_ENOMEM;
		}
		r[i].va = va;
		uint64_t pa = r[i].pa, end = r[i].pa + bytes;
		while (pa < end) {
			uint64_t run_end;
			unsigned perm = efirt_perm_at(r, i, m, k, pa, &run_end);
			uint64_t pages = (run_end - pa) >> PAGE_SHIFT;
			unsigned f = perm_flags(perm, &r[i]);
			int s = map_pages(as, r[i].va + (pa - r[i].pa), pa, pages, f);
			if (s != MM_OK) {
				kprintf("efirt: cannot map runtime region %zu (0x%lx, %lu pages): %s\n", i,
					r[i].pa, r[i].pages, mm_status_str(s));
				return s;
			}
			*(perm == EFIRT_PERM_RX ? &st->rx : perm == EFIRT_PERM_R ? &st->r : &st->rw) += pages;
			if (f & MAPF_UNCACHED)
				st->uncached += pages;
			pa = run_end;
		}
		va += bytes + EFIRT_GUARD;
	}
	*next = va;
	return MM_OK;
}

/* Returns the index of the region whose window range holds [va, va +
 * size), or n. */
static size_t region_of_va(const struct efirt_region *r, size_t n, uint64_t va, uint64_t size)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].va && range_inside(va, size, r[i].va, r[i].va + (r[i].pages << PAGE_SHIFT)))
			return i;
	return n;
}

/* See window.h. */
uint64_t efirt_window_va(const struct efirt_region *r, size_t n, uint64_t pa, uint64_t size)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].va && range_inside(pa, size, r[i].pa, r[i].pa + (r[i].pages << PAGE_SHIFT)))
			return r[i].va + (pa - r[i].pa);
	return 0;
}

/* See window.h. */
int efirt_window_is_code(const struct efirt_region *r, size_t n, uint64_t va)
{
	size_t i = region_of_va(r, n, va, 1);
	return i < n && r[i].type == EFI_RUNTIME_SERVICES_CODE;
}

/* See window.h. */
int efirt_window_table(struct addrspace *as, const struct efirt_region *r, size_t n,
		       uint64_t pa, uint64_t size, uint64_t *next, uint64_t *va)
{
	uint64_t end, first, last;
	*va = efirt_window_va(r, n, pa, size);
	if (*va)
		return MM_OK;
	if (size == 0 || !range_end(pa, size, &end) || !align_up(end, PAGE_SIZE, &last))
		return MM_EINVAL;
	first = pa & ~(uint64_t)PAGE_MASK;
	uint64_t pages = (last - first) >> PAGE_SHIFT;
	if (!range_inside(*next, pages << PAGE_SHIFT, EFIRT_REGIONS_BASE, EFIRT_END - EFIRT_GUARD))
		return MM_ENOMEM;
	int s = map_pages(as, *next, first, pages, MAPF_NOEXEC);
	if (s != MM_OK)
		return s;
	*va = *next + (pa - first);
	*next += (pages << PAGE_SHIFT) + EFIRT_GUARD;
	return MM_OK;
}

/* See window.h. */
int efirt_identity_map(struct addrspace *as, const struct efirt_region *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t bytes = r[i].pages << PAGE_SHIFT;
		/* The lower half holds it, and page 0 stays unmapped. */
		if (r[i].pa < PAGE_SIZE || !range_inside(r[i].pa, bytes, PAGE_SIZE, USER_END)) {
			kprintf("efirt: runtime region %zu (0x%lx, %lu pages) cannot be identity-mapped\n",
				i, r[i].pa, r[i].pages);
			efirt_identity_unmap(as, r, i);
			return MM_ERANGE;
		}
		unsigned f = MAPF_WRITE;
		if (r[i].type != EFI_RUNTIME_SERVICES_CODE)
			f |= MAPF_NOEXEC;
		if (!(r[i].attr & EFI_MEMORY_WB) || r[i].type == EFI_MEMORY_MAPPED_IO)
			f |= MAPF_UNCACHED;
		int s = map_pages(as, r[i].pa, r[i].pa, r[i].pages, f);
		if (s != MM_OK) {
			kprintf("efirt: cannot identity-map runtime region %zu (0x%lx, %lu pages): %s\n",
				i, r[i].pa, r[i].pages, mm_status_str(s));
			efirt_identity_unmap(as, r, i);
			return s;
		}
	}
	return MM_OK;
}

/* See window.h. */
void efirt_identity_unmap(struct addrspace *as, const struct efirt_region *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int s = unmap_pages(as, r[i].pa, r[i].pages);
		if (s != MM_OK)
			panic("efirt_identity_unmap: region %zu at 0x%lx: %s", i, r[i].pa,
			      mm_status_str(s));
	}
}
