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

/* Makes every CPU that may hold a translation of the kernel's address
 * space drop its TLB entries for the npages pages from va - this CPU and
 * all others online - and returns once all have done so.  Pages whose
 * entries were cleared may be reused only after it returns.  The caller
 * holds no lock (other CPUs must be free to answer) and has interrupts on
 * or is the only CPU.  Host: counts the call (host_shootdowns). */
void mm_tlb_shootdown(uint64_t va, uint64_t npages);

/* Cooperative draining of the frame allocator's per-CPU caches (mm/pmm.c
 * theory 10).  Only a cache's owner CPU touches it, so a CPU that needs the
 * frames another CPU holds asks that CPU to give them back, and the owner
 * answers between its own allocator calls and whenever it waits:
 *
 *   int mm_cpu_running(unsigned cpu);
 *       1 if CPU cpu runs (and so may be inside the allocator at any
 *       moment): its cache may only be drained by itself.  0 if nothing
 *       runs as that CPU (kernel: not online; host: no thread has named
 *       itself cpu with host_set_cpu): then any CPU may drain its cache
 *       under the allocator lock.
 *   void mm_cpu_kick(unsigned cpu);
 *       Makes CPU cpu call mm_wait_serve soon (kernel: an IPI whose
 *       handler does; host: nothing - a running thread answers at its
 *       next allocator call or wait).
 *
 * mm_wait_hook is what a waiting CPU calls: the allocator sets it (to
 * pmm_serve_pending); mm_lock's spin, the kernel's shootdown wait and its
 * kick handler call it through mm_wait_serve, so a CPU that spins on any
 * lock, interrupts on or off, still answers a drain request. */
int mm_cpu_running(unsigned cpu);
void mm_cpu_kick(unsigned cpu);
extern void (*mm_wait_hook)(void);

/* Runs mm_wait_hook if one is set (mm/lock.c). */
void mm_wait_serve(void);

/* Most CPUs mm/ keeps per-CPU state for: every xAPIC ID fits (0..254),
 * and per-CPU arrays indexed by mm_cpu_id() are sized by it. */
#define MM_MAX_CPUS 256

/*
 * The four per-CPU primitives below run on every lock and allocator fast
 * path, so a host gives them as static inline functions in a header of
 * its own, which the build names with MM_PLATFORM_INLINE (as uACPI's arch
 * helpers): -DMM_PLATFORM_INLINE='"kernel/mem/mm_platform_inline.h"' (a
 * %gs load, pushf/cli) or '"tools/host_platform_inline.h"' (a thread-local
 * variable, no interrupts).  Without it they are ordinary functions the
 * host must define.
 *
 *   unsigned mm_cpu_id(void);
 *       This CPU's number, 0 .. MM_MAX_CPUS-1 (0 is the boot CPU; on the
 *       host, the number the calling thread gave itself with host_set_cpu).
 *   uint64_t mm_irq_save(void);
 *       Disables interrupts on this CPU and returns the state to restore
 *       (0 if they were off).  The host has no interrupts: returns 0.
 *   void mm_irq_restore(uint64_t state);
 *       Re-enables interrupts if state (from mm_irq_save) says they were on.
 *   void mm_cpu_relax(void);
 *       Tells the CPU it is spinning (PAUSE on x86).
 */
#ifdef MM_PLATFORM_INLINE
#include MM_PLATFORM_INLINE
#else
unsigned mm_cpu_id(void);
uint64_t mm_irq_save(void);
void mm_irq_restore(uint64_t state);
void mm_cpu_relax(void);
#endif

#endif
