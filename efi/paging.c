/*
 * efi/paging.c - the loader's page-table builder.  Tables come from one pool
 * allocated up front, so the kernel receives them as a single physical range
 * (BOOTINFO_USED_PAGETABLES).  Before ExitBootServices the firmware
 * identity-maps memory, so a table's physical address is also a pointer.
 */
#include "efi/loader.h"
#include "mm/pgmode.h"
#include "mm/x86_64.h"

/* See loader.h. */
EFI_STATUS pt_pool_init(struct ptpool *pool, uint64_t pages)
{
	pool->pages = pages;
	pool->used = 0;
	return lalloc_pages(pages, &pool->pa);
}

/* Returns a zeroed table from the pool, or 0 when the pool is empty. */
static uint64_t pt_alloc(struct ptpool *pool)
{
	if (pool->used == pool->pages)
		return 0;
	return pool->pa + PAGE_SIZE * pool->used++;
}

/* Returns the table entry for va at level (1 .. the root's, 4 or 5 as
 * pgmode_set chose) below root, creating the intermediate tables; NULL if
 * the pool ran out or a large page is in the way. */
static uint64_t *pt_entry(struct ptpool *pool, uint64_t root, uint64_t va, int level)
{
	uint64_t *table = (uint64_t *)(uintptr_t)root;
	for (int l = (int)pgmode_levels(); l > level; l--) {
		uint64_t *e = &table[PX(l, va)];
		if (!(*e & PTE_P)) {
			uint64_t t = pt_alloc(pool);
			if (!t)
				return 0;
			/* Intermediate entries grant everything; leaves restrict. */
			*e = t | PTE_P | PTE_W;
		} else if (*e & PTE_PS) {
			return 0;
		}
		table = (uint64_t *)(uintptr_t)(*e & PTE_ADDR);
	}
	return &table[PX(level, va)];
}

/* See loader.h. */
EFI_STATUS pt_map(struct ptpool *pool, uint64_t root, uint64_t va, uint64_t pa,
		  uint64_t size, uint64_t page_size, uint64_t flags)
{
	int level = page_size == HUGE_SIZE ? 3 : page_size == LARGE_SIZE ? 2 : 1;
	uint64_t leaf = flags | PTE_P | (level > 1 ? PTE_PS : 0);

	if ((va | pa | size) & (page_size - 1))
		return lfail(EFI_INVALID_PARAMETER, "pt_map: 0x%llx -> 0x%llx (+0x%llx) not aligned to 0x%llx",
			     (unsigned long long)va, (unsigned long long)pa,
			     (unsigned long long)size, (unsigned long long)page_size);
	for (uint64_t off = 0; off < size; off += page_size) {
		uint64_t *e = pt_entry(pool, root, va + off, level);
		if (!e)
			return lfail(EFI_OUT_OF_RESOURCES, "pt_map: page-table pool (%llu pages) exhausted or a large page in the way at 0x%llx",
				     (unsigned long long)pool->pages, (unsigned long long)(va + off));
		if (*e & PTE_P)
			return lfail(EFI_INVALID_PARAMETER, "pt_map: 0x%llx is already mapped",
				     (unsigned long long)(va + off));
		*e = (pa + off) | leaf;
	}
	return EFI_SUCCESS;
}

/* See loader.h. */
EFI_STATUS pt_cover(struct ptpool *pool, uint64_t root, uint64_t va, uint64_t pa,
		    uint64_t page_size, uint64_t flags)
{
	int level = page_size == HUGE_SIZE ? 3 : page_size == LARGE_SIZE ? 2 : 1;
	uint64_t *e = pt_entry(pool, root, va, level);
	if (!e)
		return lfail(EFI_OUT_OF_RESOURCES, "pt_cover: page-table pool (%llu pages) exhausted at 0x%llx",
			     (unsigned long long)pool->pages, (unsigned long long)va);
	if (!(*e & PTE_P))
		*e = pa | flags | PTE_P | (level > 1 ? PTE_PS : 0);
	return EFI_SUCCESS;
}
