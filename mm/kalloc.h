/*
 * mm/kalloc.h - page-granular memory for the kernel and for user space:
 * kalloc(size, flags) / kfree(ptr, size).
 *
 * kalloc rounds size up to whole pages, takes a virtual range from the
 * kernel window (ALLOC_KERNEL) or the user half (ALLOC_USER) of an address
 * space, and maps that many frames into it; the frames need not be
 * contiguous.  A single writable kernel page skips the virtual range: its
 * address in the direct map is returned, so the most common allocation
 * costs one pmm_alloc.  Memory is zeroed and never
 * executable.  kfree must get the same size back.
 *
 * On many CPUs: kalloc has no lock of its own (mm/paging.h theory 6).  Two
 * kfrees of one pointer race to claim its block (or, for a direct-map page,
 * to pmm_untag it): exactly one wins, the other is a reported bad free.
 * kfree of a window range is lazy (mm/paging.h theory 8): the range faults
 * on this CPU at once, its frames and addresses come back at the next purge
 * round (paging_purge forces one); a kalloc that finds no frame or range
 * purges and tries once more.  kalloc / kfree may shoot down TLBs: call them
 * with no mm lock held and interrupts on (or on the only CPU).
 *
 * kalloc / kfree use the kernel's address space (addrspace_kernel());
 * kalloc_in / kfree_in take one explicitly (host tests, user spaces).
 */
#ifndef MM_KALLOC_H
#define MM_KALLOC_H

#include <stddef.h>
#include "mm/paging.h"

#define ALLOC_KERNEL    (1 << 0)   /* kernel window (default) */
#define ALLOC_USER      (1 << 1)   /* user half, user-accessible */
#define ALLOC_WRITABLE  (1 << 2)   /* writable; read-only otherwise */

/* Allocates size bytes (rounded up to pages) as flags say, in the kernel's
 * address space (addrspace_kernel()).  Returns the address, or NULL (size 0, both or bad flags,
 * no space registered, out of frames or addresses: nothing is leaked). */
void *kalloc(size_t size, int flags);

/* Frees what kalloc(size, ...) returned.  A pointer kalloc did not return
 * (or a wrong size) is reported with its arguments and ignored. */
void kfree(void *ptr, size_t size);

/* The same on an explicit address space.  kfree_in returns MM_OK, or
 * MM_ENOENT / MM_EINVAL for a bad free (reported). */
void *kalloc_in(struct addrspace *as, size_t size, int flags);
int kfree_in(struct addrspace *as, void *ptr, size_t size);

#endif
