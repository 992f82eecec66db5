/*
 * mm/kalloc.c - kalloc / kfree on top of vaddr, paging and the pmm
 * (interface and rules in mm/kalloc.h).
 */
#include "mm/kalloc.h"
#include "lib/string.h"
#include "mm/platform.h"
#include "mm/status.h"
#include "mm/x86_64.h"

/* Byte written over a freed direct-map page, so dangling use shows up. */
#define KALLOC_JUNK 0x6b

#define ALLOC_ALL (ALLOC_KERNEL | ALLOC_USER | ALLOC_WRITABLE)

/* Returns the physical address of direct-map pointer p.  The direct map is
 * linear on every platform (HHDM in the kernel, the arena on the host), so
 * its base is the image of physical address 0.  For a pointer outside the
 * direct map the result is some address that is not managed RAM (window and
 * user addresses lie below the direct map or 64 TiB above its base). */
static uint64_t direct_pa(const void *p)
{
	return (uint64_t)((uintptr_t)p - (uintptr_t)mm_phys_to_virt(0));
}

/* Allocates size bytes in as; NULL on any failure (nothing leaked). */
void *kalloc_in(struct addrspace *as, size_t size, int flags)
{
	uint64_t va, pa;

	if (!as || size == 0 || (flags & ~ALLOC_ALL) ||
	    ((flags & ALLOC_KERNEL) && (flags & ALLOC_USER)))
		return NULL;
	if ((uint64_t)size > ~PAGE_MASK)
		return NULL;
	uint64_t npages = PAGE_ROUND_UP(size) >> PAGE_SHIFT;
	int user = (flags & ALLOC_USER) != 0;
	if (!user && npages == 1 && (flags & ALLOC_WRITABLE)) {
		/* Out of frames: pending frees may hold some (paging.h theory 8). */
		if (pmm_alloc(as->pmm, &pa) != MM_OK &&
		    (!paging_purge(as) || pmm_alloc(as->pmm, &pa) != MM_OK))
			return NULL;
		if (pmm_tag(as->pmm, pa) != MM_OK)
			mm_panic("kalloc_in: fresh frame 0x%llx cannot be tagged",
				 (unsigned long long)pa);
		void *p = mm_phys_to_virt(pa);
		memset(p, 0, PAGE_SIZE);
		return p;
	}
	struct virtaddr_space *vs = user ? as->user : as->kwin;
	if (!vs || virtaddr_alloc_owned(vs, npages << PAGE_SHIFT, 0, VIRTADDR_OWNER_KALLOC,
					&va) != MM_OK)
		return NULL;
	unsigned mf = MAPF_NOEXEC | (user ? MAPF_USER : 0) |
		      ((flags & ALLOC_WRITABLE) ? MAPF_WRITE : 0);
	if (mem_map_pages_at(as, va, npages, mf) != MM_OK) {
		if (virtaddr_free_owned(vs, va, npages << PAGE_SHIFT, VIRTADDR_OWNER_KALLOC) != MM_OK)
			mm_panic("kalloc_in: cannot give back its own block 0x%llx",
				 (unsigned long long)va);
		return NULL;
	}
	return (void *)(uintptr_t)va;
}

/* Reports a bad kfree with every argument. */
static int bad_free(const void *ptr, size_t size, const char *why)
{
	mm_printf("kfree: bad free of %p size %llu: %s\n", ptr,
		  (unsigned long long)size, why);
	return MM_ENOENT;
}

/* Frees what kalloc_in(as, size, ...) returned. */
int kfree_in(struct addrspace *as, void *ptr, size_t size)
{
	uint64_t va = (uint64_t)(uintptr_t)ptr;

	if (!as || size == 0 || (va & PAGE_MASK) || (uint64_t)size > ~PAGE_MASK) {
		bad_free(ptr, size, "null space, zero size or unaligned pointer");
		return MM_EINVAL;
	}
	uint64_t npages = PAGE_ROUND_UP(size) >> PAGE_SHIFT;
	uint64_t pa = direct_pa(ptr);
	if (pmm_is_ram(as->pmm, pa)) {
		/* A direct-map page: only single writable kernel pages are, and
		 * only those kalloc tagged.  Everything is checked before the
		 * page is touched. */
		if (npages != 1)
			return bad_free(ptr, size, "direct-map pointer with a size over one page");
		if (pmm_untag(as->pmm, pa) != MM_OK)    /* refused: nothing changed */
			return bad_free(ptr, size, pmm_is_allocated(as->pmm, pa) ?
					"frame allocated, but not by kalloc (stale or foreign pointer)" :
					"frame not allocated");
		memset(ptr, KALLOC_JUNK, PAGE_SIZE);
		if (pmm_free(as->pmm, pa) != MM_OK)
			mm_panic("kfree_in: kalloc's frame 0x%llx refused by pmm_free",
				 (unsigned long long)pa);
		return MM_OK;
	}
	struct virtaddr_space *vs = addrspace_vspace(as, va);
	if (!vs)
		return bad_free(ptr, size, "neither the direct map nor a kalloc window");
	/* Block first (right size, made by kalloc, not already freed), then
	 * every page mapped and owned; only then is anything changed.  The
	 * frames and the range are freed by a later purge round. */
	return paging_unmap_lazy(as, vs, va, npages, 1, VIRTADDR_OWNER_KALLOC, "kfree");
}

/* kalloc_in on the kernel's address space. */
void *kalloc(size_t size, int flags)
{
	return kalloc_in(addrspace_kernel(), size, flags);
}

/* kfree_in on the kernel's address space. */
void kfree(void *ptr, size_t size)
{
	kfree_in(addrspace_kernel(), ptr, size);
}
