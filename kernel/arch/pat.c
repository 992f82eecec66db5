/*
 * kernel/arch/pat.c - program IA32_PAT; see kernel/arch/pat.h.
 */
#include <stdint.h>
#include "kernel/arch/io.h"
#include "kernel/arch/pat.h"
#include "mm/x86_64.h"

#define CPUID_1_EDX_PAT (1u << 16)   /* SDM vol. 2, CPUID leaf 1 EDX bit 16 */


/* See pat.h.  No mapping uses entry 7 yet (nothing sets the 4 KiB PAT bit
 * before the framebuffer is mapped), so no cached line or TLB entry can
 * hold the old type; the caches are written back and the TLB flushed
 * anyway, as SDM 12.12.4 asks when the PAT changes. */
int pat_init(void)
{
	uint32_t a, b, c, d;

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	if (!(d & CPUID_1_EDX_PAT))
		return 0;
	if (rdmsr(MSR_IA32_PAT) != PAT_MEMBOOT) {
		uint64_t cr3;
		__asm__ volatile("wbinvd" ::: "memory");
		wrmsr(MSR_IA32_PAT, PAT_MEMBOOT);
		__asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory");
		__asm__ volatile("wbinvd" ::: "memory");
	}
	return rdmsr(MSR_IA32_PAT) == PAT_MEMBOOT;
}
