/*
 * kernel/smp/smp_selftest.c - proof that the other CPUs run and that a TLB
 * shootdown reaches them (smp.h: smp_selftest_run).
 *
 *   call:      smp_call_all runs a probe on every other CPU; each must
 *              report its own CPU number (mm_cpu_id) and APIC ID.
 *   guard:     on every AP a read just below its kernel stack (the guard
 *              page) must page-fault with CR2 there.
 *   control:   page P mapped read-only; every AP reads it (its TLB now
 *              holds P); the BSP clears P's PTE and flushes only its own
 *              TLB; every AP reads P again and must NOT fault and see the
 *              old bytes - the test can see a missing shootdown.  The PTE
 *              is put back.
 *   shootdown: the APs read P; the BSP unmaps it through mm/ (unmap_pages,
 *              which shoots down before it returns: mm/paging.h theory 8);
 *              every AP's next read must fault (trap_catch on the AP) with
 *              CR2 = P.
 *   storm:     every CPU at once does SMP_STORM shootdowns of its own
 *              (each waits for all the others): must end, no deadlock.
 * Lines:
 *   smp: call: <k>/<n> CPUs ran a call on themselves
 *   smp: guard: <k>/<n> CPUs faulted on their stack guard page
 *   smp: shootdown control: <k>/<n> CPUs still read the page after a local-only flush
 *   smp: shootdown: <k>/<n> CPUs faulted on the unmapped page
 *   smp: shootdown storm: <cpus> CPUs x <m> shootdowns at once: done
 *   smp: shootdowns: <r> requests, <i> IPIs, <p> pages, <f> full flushes
 */
#include "kernel/arch/io.h"
#include "kernel/arch/trap.h"
#include "kernel/console/console.h"
#include "kernel/smp/lapic.h"
#include "kernel/smp/percpu.h"
#include "kernel/smp/smp.h"
#include "mm/kalloc.h"
#include "mm/layout.h"
#include "mm/paging.h"
#include "mm/pgmode.h"
#include "mm/platform.h"
#include "mm/status.h"
#include "mm/vaddr.h"
#include "mm/x86_64.h"

#define PROBE_MAGIC 0x736d7070726f6265ull   /* "eborppms" */
#define SMP_STORM   200                     /* shootdowns per CPU in the storm */
#define STORM_PAGES 2                       /* pages per storm shootdown */

/* What one probe round saw, per CPU. */
struct probe {
	uint64_t va;
	uint32_t ran[MM_MAX_CPUS];
	uint32_t faulted[MM_MAX_CPUS];       /* #PF with CR2 == va */
	uint64_t value[MM_MAX_CPUS];
	uint32_t id_ok[MM_MAX_CPUS];
};
static struct probe probe;

struct read_ctx {
	uint64_t va;
	uint64_t value;
};

/* Reads the word at ctx->va (under trap_catch). */
static void read_word(void *arg)
{
	struct read_ctx *c = arg;
	c->value = *(volatile uint64_t *)(uintptr_t)c->va;
}

/* On an AP: reads probe.va under trap_catch and records what happened. */
static void probe_read(void *arg)
{
	struct probe *p = arg;
	unsigned cpu = this_cpu()->cpu;
	struct read_ctx c = { p->va, 0 };
	struct trap_caught t;
	int f = trap_catch(read_word, &c, &t);
	p->faulted[cpu] = f && t.vector == T_PF && t.cr2 == p->va;
	p->value[cpu] = f ? 0 : c.value;
	p->ran[cpu] = 1;
}

/* On an AP: records that it ran, on itself. */
static void probe_id(void *arg)
{
	struct probe *p = arg;
	struct percpu *pc = this_cpu();
	p->id_ok[pc->cpu] = mm_cpu_id() == pc->cpu && lapic_id() == pc->apic_id;
	p->ran[pc->cpu] = 1;
}

/* On an AP: reads the top word of its stack's guard page. */
static void probe_guard(void *arg)
{
	struct probe *p = arg;
	struct percpu *pc = this_cpu();
	struct read_ctx c = { pc->stack_top - KSTACK_SIZE - sizeof(uint64_t), 0 };
	struct trap_caught t;
	int f = trap_catch(read_word, &c, &t);
	p->faulted[pc->cpu] = f && t.vector == T_PF && t.cr2 == c.va;
	p->ran[pc->cpu] = 1;
}

/* Clears probe's per-CPU results. */
static void probe_reset(void)
{
	for (unsigned c = 0; c < MM_MAX_CPUS; c++)
		probe.ran[c] = probe.faulted[c] = probe.id_ok[c] = 0, probe.value[c] = 0;
}

/* Runs fn on every other CPU; returns how many of them ran it and set
 * *hits to how many satisfied want (1: faulted, 0: read PROBE_MAGIC,
 * 2: id_ok). */
static unsigned probe_all(void (*fn)(void *), int want, unsigned *hits)
{
	probe_reset();
	smp_call_all(fn, &probe);
	unsigned ran = 0;
	*hits = 0;
	for (unsigned c = 1; c < MM_MAX_CPUS; c++) {
		if (!probe.ran[c])
			continue;
		ran++;
		*hits += want == 1 ? probe.faulted[c] :
			 want == 2 ? probe.id_ok[c] :
			 (!probe.faulted[c] && probe.value[c] == PROBE_MAGIC);
	}
	return ran;
}

/* Returns the PTE of va in the live tables, or NULL (a large page, or not
 * mapped). */
static uint64_t *pte_of(uint64_t va)
{
	uint64_t *t = mm_phys_to_virt(read_cr3() & PTE_ADDR);
	for (int level = (int)pgmode_levels(); level > 1; level--) {
		uint64_t e = t[PX(level, va)];
		if (!(e & PTE_P) || (e & PTE_PS))
			return 0;
		t = mm_phys_to_virt(e & PTE_ADDR);
	}
	return &t[PX(1, va)];
}

/* Each CPU's storm: SMP_STORM shootdowns of a range nobody uses. */
static void storm(void *arg)
{
	(void)arg;
	for (int i = 0; i < SMP_STORM; i++)
		mm_tlb_shootdown(KWIN_END - STORM_PAGES * PAGE_SIZE, STORM_PAGES);
}

/* The control and shootdown rounds on one mapped page; returns failures. */
static unsigned shootdown_rounds(unsigned others)
{
	struct addrspace *as = addrspace_kernel();
	unsigned fails = 0, ran, hits;
	uint64_t *frame = kalloc(PAGE_SIZE, ALLOC_KERNEL | ALLOC_WRITABLE);
	uint64_t va;
	if (!frame || virtaddr_alloc(as->kwin, PAGE_SIZE, 0, &va) != MM_OK) {
		kprintf("smp: shootdown: no memory for the test page\n");
		if (frame)
			kfree(frame, PAGE_SIZE);
		return 1;
	}
	frame[0] = PROBE_MAGIC;
	uint64_t pa, leaf;
	if (paging_query(as, (uint64_t)(uintptr_t)frame, &pa, &leaf) != MM_OK ||
	    map_pages(as, va, pa, 1, MAPF_NOEXEC) != MM_OK) {
		kprintf("smp: shootdown: cannot map the test page\n");
		virtaddr_free(as->kwin, va, PAGE_SIZE);
		kfree(frame, PAGE_SIZE);
		return 1;
	}
	probe.va = va;

	/* Control: a local-only flush leaves the others' TLBs stale. */
	ran = probe_all(probe_read, 0, &hits);
	fails += ran != others || hits != others;
	uint64_t *pte = pte_of(va), saved = pte ? *pte : 0;
	if (!pte) {
		kprintf("smp: shootdown: the test page has no 4 KiB PTE\n");
		fails++;
	} else {
		__atomic_store_n(pte, 0, __ATOMIC_SEQ_CST);
		invlpg(va);
		ran = probe_all(probe_read, 0, &hits);
		kprintf("smp: shootdown control: %u/%u CPUs still read the page after a local-only flush\n",
			hits, others);
		fails += ran != others || hits != others;
		__atomic_store_n(pte, saved, __ATOMIC_SEQ_CST);
	}

	/* The real thing: unmap through mm/ (it shoots down), every read faults. */
	ran = probe_all(probe_read, 0, &hits);
	fails += ran != others || hits != others;
	if (unmap_pages(as, va, 1) != MM_OK) {
		kprintf("smp: shootdown: unmap_pages refused the test page\n");
		fails++;
	}
	ran = probe_all(probe_read, 1, &hits);
	kprintf("smp: shootdown: %u/%u CPUs faulted on the unmapped page\n", hits, others);
	fails += ran != others || hits != others;
	virtaddr_free(as->kwin, va, PAGE_SIZE);
	kfree(frame, PAGE_SIZE);
	return fails;
}

/* See smp.h. */
unsigned smp_selftest_run(void)
{
	unsigned others = smp_cpus_online() - 1, fails = 0, ran, hits;
	if (!others)
		return 0;
	ran = probe_all(probe_id, 2, &hits);
	kprintf("smp: call: %u/%u CPUs ran a call on themselves\n", hits, others);
	fails += ran != others || hits != others;
	ran = probe_all(probe_guard, 1, &hits);
	kprintf("smp: guard: %u/%u CPUs faulted on their stack guard page\n", hits, others);
	fails += ran != others || hits != others;
	fails += shootdown_rounds(others);

	/* Everyone shoots down at everyone: the boot CPU too, while the
	 * calls run (it serves its requests as it waits). */
	unsigned n = smp_call_everywhere(storm, 0);
	kprintf("smp: shootdown storm: %u CPUs x %u shootdowns at once: done\n", n, SMP_STORM);

	struct smp_shootdown_stats st;
	smp_shootdown_stats(&st);
	kprintf("smp: shootdowns: %lu requests, %lu IPIs, %lu pages, %lu full flushes\n",
		st.requests, st.ipis, st.pages, st.full_flushes);
	if (fails)
		kprintf("smp: selftest: %u checks failed\n", fails);
	return fails;
}
