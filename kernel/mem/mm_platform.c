/*
 * kernel/mem/mm_platform.c - mm/platform.h for the kernel: physical memory
 * through the loader's direct map, output on the kernel console.
 */
#include <stdarg.h>
#include "kernel/boot/handover.h"
#include "kernel/console/console.h"
#include "kernel/arch/io.h"
#include "mm/platform.h"

/* Returns the direct-map address of pa; pa beyond the direct map is a bug
 * of the caller (such memory must go through mem_map_addr). */
void *mm_phys_to_virt(uint64_t pa)
{
	const struct bootinfo *bi = bootinfo_get();
	if (!bi || pa >= bi->hhdm_size)
		panic("mm_phys_to_virt: pa 0x%lx outside the direct map (0x%lx bytes)",
		      pa, bi ? bi->hhdm_size : 0);
	return (void *)(uintptr_t)(bi->hhdm_offset + pa);
}

/* See mm/platform.h. */
void mm_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

/* See mm/platform.h. */
_Noreturn void mm_panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvpanic(fmt, ap);
}

/* See mm/platform.h. */
void mm_tlb_flush_page(uint64_t va)
{
	invlpg(va);
}

/* See mm/platform.h: reloading CR3 drops every non-global entry. */
void mm_tlb_flush_all(void)
{
	write_cr3(read_cr3());
}
