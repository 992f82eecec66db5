/*
 * kernel/arch/pat.h - the page attribute table: entry PAT_WC_INDEX becomes
 * write-combining (the layout and the reason for the entry: mm/x86_64.h).
 */
#ifndef KERNEL_ARCH_PAT_H
#define KERNEL_ARCH_PAT_H

/* Programs IA32_PAT on this CPU to PAT_MEMBOOT, if the CPU has a PAT
 * (CPUID.1:EDX.PAT); returns 1 if MAPF_WRCOMBINE now means WC, 0 if not
 * (then a MAPF_WRCOMBINE mapping is UC, see mm/x86_64.h).  Call before any
 * mapping uses MAPF_WRCOMBINE, with interrupts off. */
int pat_init(void);

#endif
