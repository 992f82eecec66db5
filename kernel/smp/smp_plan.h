/*
 * kernel/smp/smp_plan.h - which of the MADT's CPUs to start (theory 1 in
 * kernel/smp/smp.h).  Portable, pure: host-tested (tests/host/test_smp_plan.c).
 */
#ifndef KERNEL_SMP_SMP_PLAN_H
#define KERNEL_SMP_SMP_PLAN_H

#include <stdint.h>
#include "mm/platform.h"

/* Why an entry is not started. */
enum smp_skip {
	SMP_SKIP_BSP = 1,      /* the boot CPU itself */
	SMP_SKIP_DUPLICATE,    /* an APIC ID listed before */
	SMP_SKIP_XAPIC_ID,     /* ID > 254: not addressable in xAPIC mode */
	SMP_SKIP_FULL,         /* beyond max_cpus */
};

struct smp_plan {
	unsigned count;                       /* CPUs to start, in start[] */
	uint32_t start[MM_MAX_CPUS];          /* their APIC IDs, MADT order */
	unsigned skipped;                     /* entries in skip[] */
	struct { uint32_t apic_id; uint32_t why; } skip[MM_MAX_CPUS + 1];
	unsigned skipped_lost;                /* skips beyond skip[]'s room */
	int bsp_listed;                       /* the BSP's ID was in the list */
};

/* Plans the start of the n enabled MADT entries ids[]: everything but the
 * BSP (bsp_id), each ID once, in xAPIC mode (x2apic 0) only IDs <= 254,
 * and at most max_cpus CPUs in all (the BSP counts; max_cpus <=
 * MM_MAX_CPUS).  Fills *p.  Returns the number of CPUs that will be
 * online if all start: 1 + p->count. */
unsigned smp_plan_make(const uint32_t *ids, unsigned n, uint32_t bsp_id, int x2apic,
		       unsigned max_cpus, struct smp_plan *p);

/* "boot CPU", "duplicate APIC ID", "APIC ID above 254 in xAPIC mode",
 * "more than the kernel's CPU limit", "?" */
const char *smp_skip_str(uint32_t why);

#endif
