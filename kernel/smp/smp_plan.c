/*
 * kernel/smp/smp_plan.c - the start plan (kernel/smp/smp_plan.h).
 */
#include "kernel/smp/lapic.h"
#include "kernel/smp/smp_plan.h"

/* Records entry id as skipped for why. */
static void skip(struct smp_plan *p, uint32_t id, uint32_t why)
{
	if (p->skipped < sizeof(p->skip) / sizeof(p->skip[0])) {
		p->skip[p->skipped].apic_id = id;
		p->skip[p->skipped].why = why;
		p->skipped++;
	} else {
		p->skipped_lost++;
	}
}

/* 1 if id is the BSP's or already in p->start. */
static int seen(const struct smp_plan *p, uint32_t id, uint32_t bsp_id)
{
	if (id == bsp_id && p->bsp_listed)
		return 1;
	for (unsigned i = 0; i < p->count; i++)
		if (p->start[i] == id)
			return 1;
	return 0;
}

/* See smp_plan.h. */
unsigned smp_plan_make(const uint32_t *ids, unsigned n, uint32_t bsp_id, int x2apic,
		       unsigned max_cpus, struct smp_plan *p)
{
	p->count = p->skipped = p->skipped_lost = 0;
	p->bsp_listed = 0;
	if (max_cpus > MM_MAX_CPUS)
		max_cpus = MM_MAX_CPUS;
	if (max_cpus == 0)
		max_cpus = 1;
	for (unsigned i = 0; i < n; i++) {
		uint32_t id = ids[i];
		if (seen(p, id, bsp_id))
			skip(p, id, SMP_SKIP_DUPLICATE);
		else if (id == bsp_id)
			p->bsp_listed = 1, skip(p, id, SMP_SKIP_BSP);
		else if (!x2apic && id > XAPIC_MAX_ID)
			skip(p, id, SMP_SKIP_XAPIC_ID);
		else if (1 + p->count >= max_cpus)
			skip(p, id, SMP_SKIP_FULL);
		else
			p->start[p->count++] = id;
	}
	return 1 + p->count;
}

/* See smp_plan.h. */
const char *smp_skip_str(uint32_t why)
{
	switch (why) {
	case SMP_SKIP_BSP:       return "boot CPU";
	case SMP_SKIP_DUPLICATE: return "duplicate APIC ID";
	case SMP_SKIP_XAPIC_ID:  return "APIC ID above 254 in xAPIC mode";
	case SMP_SKIP_FULL:      return "more than the kernel's CPU limit";
	default:                 return "?";
	}
}
