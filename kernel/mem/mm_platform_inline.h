/*
 * kernel/mem/mm_platform_inline.h - the kernel's per-CPU primitives of
 * mm/platform.h, inline (the build names this file in MM_PLATFORM_INLINE;
 * only mm/platform.h includes it).
 */
#ifndef KERNEL_MEM_MM_PLATFORM_INLINE_H
#define KERNEL_MEM_MM_PLATFORM_INLINE_H

#include <stdint.h>
#include "kernel/smp/percpu.h"   /* PERCPU_CPU (defined before its includes) */
#include "mm/x86_64.h"

/* See mm/platform.h: one %gs-relative load of the per-CPU block's number
 * (GS base is set from kmain's first statement on the BSP, at start on an
 * AP). */
static inline unsigned mm_cpu_id(void)
{
	unsigned cpu;
	__asm__ volatile("movl %%gs:%c1, %0" : "=r"(cpu) : "i"(PERCPU_CPU));
	return cpu;
}

/* See mm/platform.h: RFLAGS.IF before the cli. */
static inline uint64_t mm_irq_save(void)
{
	uint64_t rflags;
	__asm__ volatile("pushfq; popq %0; cli" : "=r"(rflags) : : "memory");
	return rflags & RFLAGS_IF;
}

/* See mm/platform.h. */
static inline void mm_irq_restore(uint64_t state)
{
	if (state & RFLAGS_IF)
		__asm__ volatile("sti" : : : "memory");
}

/* See mm/platform.h. */
static inline void mm_cpu_relax(void)
{
	__asm__ volatile("pause" : : : "memory");
}

#endif
