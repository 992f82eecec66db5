/*
 * tools/host_platform_inline.h - the host's per-CPU primitives of
 * mm/platform.h, inline (the build names this file in MM_PLATFORM_INLINE;
 * only mm/platform.h includes it).  A host "CPU" is a thread.
 */
#ifndef TOOLS_HOST_PLATFORM_INLINE_H
#define TOOLS_HOST_PLATFORM_INLINE_H

#include <stdint.h>

/* The calling thread's CPU number (tools/host_platform.c, host_set_cpu). */
extern _Thread_local unsigned host_cpu;

static inline unsigned mm_cpu_id(void)
{
	return host_cpu;
}

/* No interrupts on the host. */
static inline uint64_t mm_irq_save(void)
{
	return 0;
}

static inline void mm_irq_restore(uint64_t state)
{
	(void)state;
}

static inline void mm_cpu_relax(void)
{
#if defined(__x86_64__)
	__builtin_ia32_pause();
#endif
}

#endif
