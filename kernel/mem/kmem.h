/*
 * kernel/mem/kmem.h - the kernel's address space: adopts the loader's tables
 * (CR3) and sets up the kernel window and user-half allocators, mem_map_addr's
 * default space and kalloc.
 */
#ifndef KERNEL_KMEM_H
#define KERNEL_KMEM_H

#include "shared/bootinfo.h"
#include "mm/paging.h"
#include "mm/pmm.h"

/* Adopts CR3 as the kernel address space over pmm, creates the vaddr spaces
 * [KWIN_BASE, KWIN_END) and [USER_BASE, USER_END), preallocates the kernel
 * window's PML4 entries, and registers the space with paging_set_kernel and
 * kalloc_init.  Prints one `kmem:` line.  Panics if it cannot. */
void kmem_init(const struct bootinfo *bi, struct pmm *pmm);

/* Returns the kernel address space (NULL before kmem_init). */
struct addrspace *kmem_space(void);

/* Returns the bootinfo kmem_init was given (the selftest needs the stack). */
const struct bootinfo *kmem_bootinfo(void);

#endif
