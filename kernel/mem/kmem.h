/*
 * kernel/mem/kmem.h - the kernel's address space: adopts the loader's tables
 * (CR3), sets up the kernel window and user-half allocators and registers
 * the space with addrspace_set_kernel, the one place mem_map_addr's callers
 * and kalloc find it (addrspace_kernel()).
 */
#ifndef KERNEL_MEM_KMEM_H
#define KERNEL_MEM_KMEM_H

#include "kernel/mem/physmap.h"
#include "shared/bootinfo.h"
#include "mm/paging.h"
#include "mm/pmm.h"

/* Adopts CR3 as the kernel address space over pmm, creates the vaddr spaces
 * [KWIN_BASE, KWIN_END) and [USER_BASE, USER_END), preallocates the kernel
 * window's root-table entries, and registers the space (addrspace_set_kernel).
 * Prints one `kmem:` line.  Panics if it cannot. */
void kmem_init(struct pmm *pmm);

/* kernel/mem/mm_platform.c: lists the direct map's RAM ranges from bi's raw
 * map (mm/hhdm.h), so mm_phys_to_virt refuses a pa in a hole below the
 * top.  Right after bootinfo_set; until then only the top is checked. */
void mm_directmap_init(const struct bootinfo *bi);

/* Returns the kernel's physmap (kernel/mem/physmap.h): mem_map_addr into
 * the kernel window; valid after kmem_init. */
const struct physmap *kmem_physmap(void);

#endif
