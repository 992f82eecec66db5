/*
 * kernel/efirt/window.h - the runtime window [EFIRT_BASE, EFIRT_END)
 * (mm/layout.h) and the identity mapping SetVirtualAddressMap needs.
 *
 * Layout of the window, low to high, every piece followed by an unmapped
 * guard page:
 *   EFIRT_BASE            guard page
 *   EFIRT_STACK_BASE      the runtime call stack (EFIRT_STACK_SIZE)
 *   EFIRT_REGIONS_BASE    each runtime region in raw-map order, at its own
 *                         page-aligned address (VirtualStart), then
 *                         the EFI tables that lie in no runtime region
 *                         (read-only, no execute)
 * Runtime regions are mapped with the permissions of kernel/efirt/mat.h
 * (never writable and executable), write-back when the descriptor has
 * EFI_MEMORY_WB, uncached otherwise (MMIO: flash, ...).  Every mapping
 * borrows the firmware's frames (map_pages), so ptcheck never counts them
 * as the pmm's.
 */
#ifndef KERNEL_EFIRT_WINDOW_H
#define KERNEL_EFIRT_WINDOW_H

#include <stddef.h>
#include <stdint.h>
#include "kernel/efirt/mat.h"
#include "mm/layout.h"
#include "mm/paging.h"

/* The runtime call stack: UEFI asks 128 KiB only of the boot-services
 * stack; Linux runs runtime calls on its 16 KiB kernel stack.  64 KiB,
 * the size of the kernel's own stack, with a guard page below and above. */
#define EFIRT_STACK_SIZE   0x10000ULL
#define EFIRT_GUARD        0x1000ULL
#define EFIRT_STACK_BASE   (EFIRT_BASE + EFIRT_GUARD)
#define EFIRT_STACK_TOP    (EFIRT_STACK_BASE + EFIRT_STACK_SIZE)
#define EFIRT_REGIONS_BASE (EFIRT_STACK_TOP + EFIRT_GUARD)

/* Counts of what efirt_window_map mapped, in pages. */
struct efirt_window_stats {
	uint64_t rx, r, rw;   /* read+execute, read-only, read+write no-execute */
	uint64_t uncached;    /* of them without EFI_MEMORY_WB */
};

/* Maps the call stack (fresh zeroed frames, RW+NX).  MM status. */
int efirt_window_stack(struct addrspace *as);

/* Gives each of the n regions its window address (r[i].va), from
 * EFIRT_REGIONS_BASE on with a guard page after each, and maps it with
 * the permissions of the k applied MAT entries m (or the defaults).
 * *next gets the first free window address after them.  MM_OK, or the
 * failing map_pages status (MM_ENOMEM: window full too), reported with
 * an `efirt:` line. */
int efirt_window_map(struct addrspace *as, struct efirt_region *r, size_t n,
		     const struct efirt_mat_entry *m, size_t k, struct efirt_window_stats *st,
		     uint64_t *next);

/* Returns the window address of physical address pa if a region holds
 * [pa, pa + size), else 0. */
uint64_t efirt_window_va(const struct efirt_region *r, size_t n, uint64_t pa, uint64_t size);

/* Returns 1 if [va, va + size) lies in one region's window range and that
 * region is runtime code (a function pointer after SetVirtualAddressMap). */
int efirt_window_is_code(const struct efirt_region *r, size_t n, uint64_t va);

/* Makes [pa, pa + size) readable in the window: its region's address if
 * a region holds it, else its pages mapped read-only NX at *next (which
 * moves on past them and a guard page).  *va gets pa's address.  MM
 * status. */
int efirt_window_table(struct addrspace *as, const struct efirt_region *r, size_t n,
		       uint64_t pa, uint64_t size, uint64_t *next, uint64_t *va);

/* Maps every region at its physical address in the lower half (va = pa),
 * writable, executable for runtime code: the firmware runs
 * SetVirtualAddressMap there and relocates its images in place (it writes
 * into its code).  Before the other CPUs start, so only this CPU ever
 * sees these writable+executable pages (efirt.h theory 2).  MM_OK, or
 * MM_ERANGE / a map_pages status with nothing left mapped. */
int efirt_identity_map(struct addrspace *as, const struct efirt_region *r, size_t n);

/* Removes what efirt_identity_map mapped (unmap_pages: TLB flushed,
 * emptied tables freed).  Panics if that fails (a kernel bug). */
void efirt_identity_unmap(struct addrspace *as, const struct efirt_region *r, size_t n);

#endif
