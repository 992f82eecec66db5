/*
 * mm/layout.h - the x86_64 virtual address space of memboot.
 *
 *   0xffffffffffffffff +--------------------------------+
 *                      | kernel image (top 2 GiB)        |  -mcmodel=kernel
 *   0xffffffff80000000 +--------------------------------+  KERNEL_VA_BASE
 *                      | (unmapped gap, 64 KiB)          |
 *   0xffffffff7fff0000 +--------------------------------+  KSTACK_TOP
 *                      | kernel stack (KSTACK_SIZE)      |
 *                      | guard page (never mapped)       |
 *                      +--------------------------------+
 *                      | (unmapped)                      |
 *   0xfffff01000000000 +--------------------------------+  EFIRT_END
 *                      | UEFI runtime window (64 GiB):   |
 *                      | call stack, runtime regions,    |
 *                      | EFI tables (kernel/efirt)       |
 *   0xfffff00000000000 +--------------------------------+  EFIRT_BASE
 *                      | (unmapped)                      |
 *   0xffffe00000000000 +--------------------------------+  KWIN_END
 *                      | kernel vaddr window (32 TiB):   |
 *                      | virtaddr_alloc, kalloc,         |
 *                      | mem_map_addr (ACPI, ramdisk)    |
 *   0xffffc00000000000 +--------------------------------+  KWIN_BASE
 *                      | 4 levels only: direct map       |
 *                      | (HHDM, up to 64 TiB)            |
 *   0xffff800000000000 +--------------------------------+  HHDM_BASE_4L
 *                      | 4 levels: non-canonical hole    |
 *                      | 5 levels: unused                |
 *   0xff10000000000000 +--------------------------------+
 *                      | 5 levels only: direct map       |
 *                      | (HHDM, up to 4 PiB, PML5 slots  |
 *                      | 256..271)                       |
 *   0xff00000000000000 +--------------------------------+  HHDM_BASE_5L
 *                      | non-canonical hole (5 levels);  |
 *                      | part of it under 4 levels       |
 *   0x0100000000000000 +--------------------------------+
 *                      | 5 levels: canonical lower half, |
 *                      | unused (neither user nor kernel)|
 *   0x0000800000000000 +--------------------------------+  USER_END
 *                      | user space                      |
 *   0x0000000000001000 +--------------------------------+  USER_BASE
 *                      | page 0: never mapped (NULL)     |
 *   0x0000000000000000 +--------------------------------+
 *
 * Ranges are half-open: [BASE, END).  The paging mode (mm/pgmode.h) is
 * chosen at boot; only the direct map moves with it (HHDM_BASE and
 * HHDM_MAX_SIZE are the running mode's values, not constants).
 */
#ifndef MM_LAYOUT_H
#define MM_LAYOUT_H

/* Direct map under 4 levels: PML4 slot 256 onwards.  64 TiB is the 46-bit
 * physical space (1 TiB guests use phys-bits=44) with room to spare; 128
 * PML4 slots. */
#define HHDM_BASE_4L      0xffff800000000000ULL
#define HHDM_MAX_SIZE_4L  0x0000400000000000ULL

/* Direct map under 5 levels: PML5 slot 256 onwards (Limine's base), 4 PiB:
 * the whole 52-bit physical address space; 16 PML5 slots. */
#define HHDM_BASE_5L      0xff00000000000000ULL
#define HHDM_MAX_SIZE_5L  0x0010000000000000ULL

/* The running mode's direct map (mm/pgmode.h). */
#include "mm/pgmode.h"
#define HHDM_BASE      (mm_pgmode.hhdm_base)
#define HHDM_MAX_SIZE  (mm_pgmode.hhdm_max)

/* Kernel vaddr window: its own PML4 slots (384..447), apart from the direct
 * map and the kernel image, so a stray pointer into it is recognisable. */
#define KWIN_BASE      0xffffc00000000000ULL
#define KWIN_END       0xffffe00000000000ULL

/* UEFI runtime window (kernel/efirt): the virtual addresses given to the
 * firmware's runtime regions with SetVirtualAddressMap, kept for good.  A
 * PML4 slot of its own (480), outside every allocator, so nothing else is
 * ever mapped there; 64 GiB is far more than any firmware's runtime
 * regions (a few MiB, a flash window of 16 MiB). */
#define EFIRT_BASE     0xfffff00000000000ULL
#define EFIRT_END      0xfffff01000000000ULL

/* Kernel image: the top 2 GiB, where -mcmodel=kernel code can live. */
#define KERNEL_VA_BASE 0xffffffff80000000ULL

/* Kernel stack: 64 KiB is ample for a kernel without recursion; one unmapped
 * guard page below it turns an overflow into a page fault. */
#define KSTACK_TOP     0xffffffff7fff0000ULL
#define KSTACK_SIZE    0x10000ULL
#define KSTACK_GUARD   (KSTACK_TOP - KSTACK_SIZE - 0x1000ULL)

/* User space: lower canonical half, page 0 excluded. */
#define USER_BASE      0x0000000000001000ULL
#define USER_END       0x0000800000000000ULL

#endif
