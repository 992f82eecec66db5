/*
 * tests/host/test_smp_plan.c - kernel/smp/smp_plan.c (which MADT CPUs are
 * started) and kernel/smp/lapic_icr.c (ICR values, the x2APIC encoding
 * included: QEMU 7.2's TCG offers no x2APIC, so only here does it run).
 */
#include <stdlib.h>
#include <string.h>
#include "kernel/smp/lapic.h"
#include "kernel/smp/smp_plan.h"
#include "tests/host/harness.h"

static struct smp_plan plan;

/* Expect: QEMU's list (0..3, BSP 0) starts 1, 2, 3 in order, the BSP's
 * own entry is skipped as such; with BSP 2 (control) 0, 1, 3. */
static void test_qemu_list(void)
{
	uint32_t ids[] = { 0, 1, 2, 3 };
	CHECK(smp_plan_make(ids, 4, 0, 0, MM_MAX_CPUS, &plan) == 4, "4 online");
	CHECK(plan.count == 3 && plan.start[0] == 1 && plan.start[1] == 2 && plan.start[2] == 3,
	      "start %u: %u %u %u", plan.count, plan.start[0], plan.start[1], plan.start[2]);
	CHECK(plan.bsp_listed && plan.skipped == 1 && plan.skip[0].apic_id == 0 &&
	      plan.skip[0].why == SMP_SKIP_BSP, "bsp skip");
	smp_plan_make(ids, 4, 2, 0, MM_MAX_CPUS, &plan);
	CHECK(plan.count == 3 && plan.start[0] == 0 && plan.start[1] == 1 && plan.start[2] == 3,
	      "BSP 2: %u %u %u", plan.start[0], plan.start[1], plan.start[2]);
}

/* Expect: no MADT entries, or only the BSP: one CPU; a BSP missing from
 * the list is said so, everything else still starts. */
static void test_small(void)
{
	CHECK(smp_plan_make(NULL, 0, 5, 0, MM_MAX_CPUS, &plan) == 1 && !plan.bsp_listed, "empty");
	uint32_t bsp[] = { 5 };
	CHECK(smp_plan_make(bsp, 1, 5, 0, MM_MAX_CPUS, &plan) == 1 && plan.bsp_listed, "bsp only");
	uint32_t others[] = { 1, 2 };
	CHECK(smp_plan_make(others, 2, 5, 0, MM_MAX_CPUS, &plan) == 3 && !plan.bsp_listed,
	      "bsp not listed");
}

/* Expect: a duplicate APIC ID (also of the BSP) is skipped, the first
 * entry wins. */
static void test_duplicates(void)
{
	uint32_t ids[] = { 0, 1, 1, 0, 2, 1 };
	smp_plan_make(ids, 6, 0, 0, MM_MAX_CPUS, &plan);
	CHECK(plan.count == 2 && plan.start[0] == 1 && plan.start[1] == 2, "count %u", plan.count);
	unsigned dup = 0;
	for (unsigned i = 0; i < plan.skipped; i++)
		dup += plan.skip[i].why == SMP_SKIP_DUPLICATE;
	CHECK(dup == 3, "%u duplicates", dup);
}

/* Expect: in xAPIC mode IDs above 254 (255 = broadcast) are skipped, in
 * x2APIC mode they start. */
static void test_xapic_ids(void)
{
	uint32_t ids[] = { 0, 254, 255, 256, 70000 };
	smp_plan_make(ids, 5, 0, 0, MM_MAX_CPUS, &plan);
	CHECK(plan.count == 1 && plan.start[0] == 254, "xapic count %u", plan.count);
	CHECK(plan.skipped == 4 && plan.skip[1].why == SMP_SKIP_XAPIC_ID &&
	      plan.skip[3].why == SMP_SKIP_XAPIC_ID, "xapic skips");
	smp_plan_make(ids, 5, 0, 1, MM_MAX_CPUS, &plan);
	CHECK(plan.count == 4 && plan.start[3] == 70000, "x2apic count %u", plan.count);
}

/* Expect: at most max_cpus online in all (the BSP counts), the rest
 * skipped as over the limit; max 0 and > MM_MAX_CPUS are clamped. */
static void test_limit(void)
{
	static uint32_t ids[400];
	for (unsigned i = 0; i < 400; i++)
		ids[i] = i;
	CHECK(smp_plan_make(ids, 400, 0, 1, MM_MAX_CPUS, &plan) == MM_MAX_CPUS, "256 online");
	CHECK(plan.skipped == 1 + 400 - MM_MAX_CPUS && plan.skip[1].why == SMP_SKIP_FULL &&
	      plan.skip[1].apic_id == MM_MAX_CPUS, "skips %u", plan.skipped);
	CHECK(smp_plan_make(ids, 400, 0, 1, 4, &plan) == 4 && plan.start[2] == 3, "max 4");
	CHECK(smp_plan_make(ids, 400, 0, 1, 0, &plan) == 1, "max 0 = the BSP alone");
	CHECK(smp_plan_make(ids, 400, 0, 1, 100000, &plan) == MM_MAX_CPUS, "max clamped");
}

/* Expect: on random lists the plan equals an independent model: the
 * distinct IDs in first-seen order, without the BSP, the unaddressable and
 * those past the limit; every input entry is started or skipped once. */
static void test_random(void)
{
	static uint32_t ids[600], want[600];
	unsigned seed = 12345;
	for (int round = 0; round < 2000; round++) {
		unsigned n = (unsigned)(rand_r(&seed) % 600), range = 1 + (unsigned)(rand_r(&seed) % 700);
		int x2 = rand_r(&seed) & 1;
		unsigned max = (unsigned)(rand_r(&seed) % 300);
		uint32_t bsp = (uint32_t)(rand_r(&seed) % range);
		for (unsigned i = 0; i < n; i++)
			ids[i] = (uint32_t)(rand_r(&seed) % range);
		unsigned lim = max == 0 ? 1 : max > MM_MAX_CPUS ? MM_MAX_CPUS : max, nw = 0;
		for (unsigned i = 0; i < n; i++) {
			int first = 1;
			for (unsigned j = 0; j < i; j++)
				first &= ids[j] != ids[i];
			if (first && ids[i] != bsp && (x2 || ids[i] <= 254) && 1 + nw < lim)
				want[nw++] = ids[i];
		}
		smp_plan_make(ids, n, bsp, x2, max, &plan);
		REQUIRE(plan.count == nw, "round %d: %u started, model %u", round, plan.count, nw);
		REQUIRE(!memcmp(plan.start, want, nw * sizeof(want[0])), "round %d: order", round);
		REQUIRE(plan.count + plan.skipped + plan.skipped_lost == n, "round %d: accounted", round);
	}
}

/* Expect: ICR values by the SDM's layout: x2APIC destination in bits
 * 63:32 (any 32-bit ID), xAPIC in 63:56; a SIPI's vector is the page
 * number.  Control: an ID above 255 does not survive the xAPIC encoding -
 * why the plan skips such IDs in xAPIC mode. */
static void test_icr(void)
{
	CHECK(lapic_icr_value(1, 0x12345, ICR_INIT | ICR_ASSERT | ICR_LEVEL) ==
	      0x000123450000c500ull, "x2apic init %llx",
	      (unsigned long long)lapic_icr_value(1, 0x12345, ICR_INIT | ICR_ASSERT | ICR_LEVEL));
	CHECK(lapic_icr_value(0, 3, ICR_FIXED | 0xf0) == 0x03000000000000f0ull, "xapic fixed");
	CHECK(lapic_icr_sipi(0, 1, 0x9b000) == 0x010000000000069bull, "xapic sipi");
	CHECK(lapic_icr_sipi(1, 300, 0x8000) == 0x0000012c00000608ull, "x2apic sipi");
	CHECK((lapic_icr_value(0, 0x1ff, 0) >> 56) != 0x1ff, "control: 0x1ff fits no xAPIC ICR");
	CHECK((lapic_icr_value(1, 0x1ff, 0) >> 32) == 0x1ff, "x2apic keeps 0x1ff");
	CHECK(X2APIC_MSR(LAPIC_ICR_LO) == 0x830 && X2APIC_MSR(LAPIC_EOI) == 0x80b &&
	      X2APIC_MSR(LAPIC_SVR) == 0x80f && X2APIC_MSR(LAPIC_ID) == 0x802, "x2apic MSRs");
}

int main(void)
{
	RUN(test_qemu_list);
	RUN(test_small);
	RUN(test_duplicates);
	RUN(test_xapic_ids);
	RUN(test_limit);
	RUN(test_random);
	RUN(test_icr);
	return harness_done("smp_plan");
}
