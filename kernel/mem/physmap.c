/*
 * kernel/mem/physmap.c - the kernel's struct physmap (kernel/mem/physmap.h):
 * mem_map_addr into the kernel window of the kernel's address space, never
 * the direct map (firmware memory and MMIO are not in it, or not cached
 * right).
 */
#include "kernel/console/console.h"
#include "kernel/mem/kmem.h"
#include "mm/paging.h"
#include "mm/status.h"

/* Maps [pa, pa + size): tables read-only and cached; uncached requests are
 * device registers (HPET, ECAM), which the demos also write.  NULL if the
 * range cannot be mapped. */
static void *physmap_map(void *ctx, uint64_t pa, uint64_t size, unsigned flags)
{
	uint64_t va;
	unsigned f = MAPF_NOEXEC;
	(void)ctx;
	if (flags & PHYSMAP_UNCACHED)
		f |= MAPF_UNCACHED | MAPF_WRITE;
	return mem_map_addr(addrspace_kernel(), pa, size, f, &va) == MM_OK ?
		(void *)(uintptr_t)va : 0;
}

/* Undoes physmap_map; unmapping what was not mapped is a kernel bug. */
static void physmap_unmap(void *ctx, void *va, uint64_t size)
{
	(void)ctx;
	int s = mem_unmap_addr(addrspace_kernel(), (uint64_t)(uintptr_t)va, size);
	if (s != MM_OK)
		panic("physmap_unmap: %p size 0x%lx: %s", va, size, mm_status_str(s));
}

/* Bytes of the kernel vaddr window in use. */
static uint64_t physmap_window_used(void *ctx)
{
	(void)ctx;
	return addrspace_kernel()->kwin->used_bytes;
}

static const struct physmap kernel_physmap = {
	physmap_map, physmap_unmap, physmap_window_used, 0
};

/* See kmem.h. */
const struct physmap *kmem_physmap(void)
{
	return &kernel_physmap;
}
