/*
 * mm/platform.h - what mm/ needs from whoever hosts it.
 *
 * mm/ is portable C: the same files build into the kernel and into host
 * programs (tests, tools/memmap).  Everything environment-specific goes
 * through these functions, implemented twice:
 *   kernel/mem/mm_platform.c  - direct map, kernel console, invlpg
 *   tools/host_platform.c     - an mmap'ed arena as "physical memory", stdio
 *
 * mm_printf formats are those of lib/fmt.h (the kernel's formatter), used
 * only as C's printf also reads them, since the host prints with libc.
 */
#ifndef MM_PLATFORM_H
#define MM_PLATFORM_H

#include <stdint.h>
#include <stddef.h>

/* Returns a pointer through which physical address pa can be accessed. */
void *mm_phys_to_virt(uint64_t pa);

/* Prints a formatted message on the console (kernel) or stdout (host). */
void mm_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reports a broken invariant and stops; fmt should start with the function name. */
_Noreturn void mm_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Drops the TLB entry for va (no-op on the host). */
void mm_tlb_flush_page(uint64_t va);

/* Drops all non-global TLB entries (no-op on the host). */
void mm_tlb_flush_all(void);

#endif
