/*
 * kernel/mem/mm_platform.c - mm/platform.h for the kernel: physical memory
 * through the loader's direct map, output on the kernel console.
 */
#include <stdarg.h>
#include "kernel/boot/handover.h"
#include "kernel/console/console.h"
#include "kernel/arch/io.h"
#include "kernel/mem/kmem.h"
#include "kernel/arch/trap.h"
#include "kernel/smp/lapic.h"
#include "kernel/smp/percpu.h"
#include "kernel/smp/smp.h"
#include "mm/hhdm.h"
#include "mm/platform.h"
#include "mm/status.h"
#include "mm/x86_64.h"

/* The direct map's RAM ranges, as mm/hhdm.c works them out from the raw
 * map (the loader mapped the same plan); 4096 ranges (64 KiB) is ten
 * times the descriptors of a large real map. */
#define DIRECTMAP_MAX 4096
static struct hhdm_range directmap[DIRECTMAP_MAX];
static size_t directmap_count;
static int directmap_known;

/* See kernel/mem/kmem.h. */
void mm_directmap_init(const struct bootinfo *bi)
{
	const void *raw = (const void *)(uintptr_t)(bi->hhdm_offset + bi->memmap_pa);
	int s = hhdm_ranges(raw, bi->memmap_size, bi->memmap_desc_size, directmap,
			    DIRECTMAP_MAX, &directmap_count);
	directmap_known = s == MM_OK;
	if (!directmap_known)
		kprintf("memboot: cannot list the direct map's RAM ranges (%s): mm_phys_to_virt checks only its top\n",
			mm_status_str(s));
}

/*
 * Returns the direct-map address of pa.  The direct map holds RAM only
 * (mm/hhdm.h): a pa in a hole below its top (MMIO, reserved, the PCI
 * window) is a bug of the caller - such memory goes through mem_map_addr.
 * pa 0 is let through: mm/kalloc.c takes the image of 0 as the base of the
 * linear map for address arithmetic; page 0 is never RAM the pmm hands out.
 */
void *mm_phys_to_virt(uint64_t pa)
{
	const struct bootinfo *bi = bootinfo_get();
	if (!bi || pa >= bi->hhdm_size ||
	    (pa && directmap_known && !hhdm_ranges_contain(directmap, directmap_count, pa)))
		panic("mm_phys_to_virt: pa 0x%lx is not in the direct map (RAM below 0x%lx)",
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

/* See mm/platform.h: online CPUs run. */
int mm_cpu_running(unsigned cpu)
{
	return smp_cpu_online(cpu);
}

/* See mm/platform.h: the shootdown IPI (its handler serves the allocator's
 * requests after its own, kernel/smp/shootdown.c). */
void mm_cpu_kick(unsigned cpu)
{
	if (cpu != mm_cpu_id() && smp_cpu_online(cpu))
		lapic_send(percpu_blocks[cpu].apic_id, ICR_FIXED | T_IPI_SHOOTDOWN);
}

/* See mm/platform.h: this CPU (invlpg up to PAGING_FLUSH_ALL_PAGES pages, a
 * full flush above), then every other online CPU by IPI, waiting for
 * their acknowledgements (kernel/smp/shootdown.c). */
void mm_tlb_shootdown(uint64_t va, uint64_t npages)
{
	smp_shootdown(va, npages);
}

