/*
 * kernel/smp/smp_stress.c - the memory manager on every CPU at once
 * (smp.h: smp_stress_run).
 *
 * Every online CPU runs SMP_STRESS_OPS operations concurrently
 * (smp_call_everywhere), taking the four ways to get memory in turn:
 *   0 pmm       pmm_alloc; write and verify through the direct map; pmm_free
 *   1 kalloc    kalloc of 1-4 pages (one page: the direct map; more: the
 *               kernel window); write, verify; kfree
 *   2 pages_at  virtaddr_alloc of 1-4 pages, mem_map_pages_at; write,
 *               verify; mem_unmap_pages, virtaddr_free
 *   3 map_addr  pmm_alloc; write through the direct map; mem_map_addr of
 *               the frame (read-only), verify through that mapping;
 *               mem_unmap_addr, pmm_free
 * Owner tags: every frame an operation holds is claimed in a bitmap of one
 * bit per frame with an atomic fetch-or when it is handed out, and released
 * with a fetch-and before it goes back: a bit already set at the claim (or
 * already clear at the release) is a frame handed to two owners at once.
 * The pattern written names the CPU and the iteration (one word per 64
 * bytes), so a frame another CPU also writes shows at the verify.
 *
 * Afterwards, on the boot CPU: paging_purge (kfree and mem_unmap_addr are
 * lazy), then the free-frame count must equal its baseline (taken after a
 * purge too), ptcheck and virtaddr_check must be clean and the window must
 * hold exactly the blocks it held before.
 *
 * Lines:
 *   smp: stress: <n> CPUs x <ops> ops: <e> errors, free frames <a> before, <b> after
 *   smp: stress: <u> unmaps, <s> shootdowns (<x> per 1,000 unmaps), ptcheck <v> violations
 *   smp: stress: control, one frame claimed twice: caught
 *   smp: ask: <k> frames cached on <c> other CPUs, 0 cached after pmm_drain_all; free frames <a> before, <a> after
 * (the control runs first: a frame claimed twice must count one error,
 * which is then forgotten.)
 */
#include "kernel/console/console.h"
#include "kernel/mem/kmem.h"
#include "kernel/smp/smp.h"
#include "mm/kalloc.h"
#include "mm/paging.h"
#include "mm/platform.h"
#include "mm/pmm.h"
#include "mm/ptcheck.h"
#include "mm/status.h"
#include "mm/vaddr.h"
#include "mm/x86_64.h"

#define STRESS_MAX_PAGES 4      /* pages per kalloc / mem_map_pages_at */
#define STRESS_STRIDE    8      /* words between pattern words: one per 64 bytes */
#define STRESS_REPORTS   8      /* error lines printed at most (all are counted) */

struct stress {
	uint64_t *claims;           /* 1 bit per frame: held by an operation now */
	uint64_t nframes;
	uint32_t errors;            /* all CPUs (atomic) */
	uint32_t reported;          /* error lines printed (atomic) */
};

static struct stress st;

/* Counts one error; prints the first STRESS_REPORTS. */
static void stress_error(const char *what, uint64_t a, uint64_t b)
{
	__atomic_add_fetch(&st.errors, 1, __ATOMIC_RELAXED);
	if (__atomic_fetch_add(&st.reported, 1, __ATOMIC_RELAXED) < STRESS_REPORTS)
		kprintf("smp: stress: CPU %u: %s (0x%lx, 0x%lx)\n", mm_cpu_id(), what, a, b);
}

/* Claims (own = 1) or releases (own = 0) the frame at pa for this CPU. */
static void stress_claim(uint64_t pa, int own)
{
	uint64_t f = pa >> PAGE_SHIFT, bit = 1ULL << (f % 64);
	if (f >= st.nframes) {
		stress_error("frame beyond the allocator's range", pa, st.nframes);
		return;
	}
	uint64_t old = own ? __atomic_fetch_or(&st.claims[f / 64], bit, __ATOMIC_ACQ_REL)
			   : __atomic_fetch_and(&st.claims[f / 64], ~bit, __ATOMIC_ACQ_REL);
	if (own && (old & bit))
		stress_error("frame handed to two owners at once", pa, 0);
	if (!own && !(old & bit))
		stress_error("frame released but not held", pa, 0);
}

/* Claims or releases every frame behind npages kernel pages at va. */
static void stress_claim_va(uint64_t va, uint64_t npages, int own)
{
	for (uint64_t i = 0; i < npages; i++) {
		uint64_t pa, pte;
		if (paging_query(addrspace_kernel(), va + i * PAGE_SIZE, &pa, &pte) != MM_OK) {
			stress_error("page of a live allocation is not mapped", va + i * PAGE_SIZE, 0);
			continue;
		}
		stress_claim(PAGE_ROUND_DOWN(pa), own);
	}
}

/* The pattern word at index i for (cpu, iteration) tag. */
static inline uint64_t stress_word(uint64_t tag, uint64_t i)
{
	return tag ^ (i * 0x9e3779b97f4a7c15ULL);
}

static void stress_write(uint64_t *p, uint64_t npages, uint64_t tag)
{
	for (uint64_t i = 0; i < npages * PAGE_SIZE / 8; i += STRESS_STRIDE)
		p[i] = stress_word(tag, i);
}

static void stress_verify(const volatile uint64_t *p, uint64_t npages, uint64_t tag)
{
	for (uint64_t i = 0; i < npages * PAGE_SIZE / 8; i += STRESS_STRIDE)
		if (p[i] != stress_word(tag, i)) {
			stress_error("pattern overwritten (a frame shared)", (uint64_t)(uintptr_t)&p[i], p[i]);
			return;
		}
}

/* A frame from the pmm, purging lazy frees once if there is none. */
static int stress_frame(uint64_t *pa)
{
	if (pmm_alloc(addrspace_kernel()->pmm, pa) == MM_OK)
		return 1;
	paging_purge(addrspace_kernel());
	if (pmm_alloc(addrspace_kernel()->pmm, pa) == MM_OK)
		return 1;
	stress_error("out of frames", 0, 0);
	return 0;
}

static void op_pmm(uint64_t tag)
{
	uint64_t pa;
	if (!stress_frame(&pa))
		return;
	stress_claim(pa, 1);
	uint64_t *p = mm_phys_to_virt(pa);
	stress_write(p, 1, tag);
	stress_verify(p, 1, tag);
	stress_claim(pa, 0);
	if (pmm_free(addrspace_kernel()->pmm, pa) != MM_OK)
		stress_error("pmm_free refused a frame it handed out", pa, 0);
}

static void op_kalloc(uint64_t tag, uint64_t npages)
{
	uint64_t *p = kalloc(npages * PAGE_SIZE, ALLOC_KERNEL | ALLOC_WRITABLE);
	if (!p) {
		stress_error("kalloc failed", npages, 0);
		return;
	}
	uint64_t va = (uint64_t)(uintptr_t)p;
	stress_claim_va(va, npages, 1);
	stress_write(p, npages, tag);
	stress_verify(p, npages, tag);
	stress_claim_va(va, npages, 0);
	if (kfree_in(addrspace_kernel(), p, npages * PAGE_SIZE) != MM_OK)
		stress_error("kfree refused its own block", va, npages);
}

static void op_pages_at(uint64_t tag, uint64_t npages)
{
	struct addrspace *as = addrspace_kernel();
	uint64_t va;
	if (virtaddr_alloc(as->kwin, npages * PAGE_SIZE, 0, &va) != MM_OK) {
		stress_error("virtaddr_alloc failed", npages, 0);
		return;
	}
	if (mem_map_pages_at(as, va, npages, MAPF_WRITE | MAPF_NOEXEC) != MM_OK) {
		stress_error("mem_map_pages_at failed", va, npages);
	} else {
		uint64_t *p = (uint64_t *)(uintptr_t)va;
		stress_claim_va(va, npages, 1);
		stress_write(p, npages, tag);
		stress_verify(p, npages, tag);
		stress_claim_va(va, npages, 0);
		if (mem_unmap_pages(as, va, npages) != MM_OK)
			stress_error("mem_unmap_pages refused its own pages", va, npages);
	}
	if (virtaddr_free(as->kwin, va, npages * PAGE_SIZE) != MM_OK)
		stress_error("virtaddr_free refused its own block", va, npages);
}

static void op_map_addr(uint64_t tag)
{
	struct addrspace *as = addrspace_kernel();
	uint64_t pa, va;
	if (!stress_frame(&pa))
		return;
	stress_claim(pa, 1);
	stress_write(mm_phys_to_virt(pa), 1, tag);
	if (mem_map_addr(as, pa, PAGE_SIZE, MAPF_NOEXEC, &va) != MM_OK) {
		stress_error("mem_map_addr failed", pa, 0);
	} else {
		stress_verify((const uint64_t *)(uintptr_t)va, 1, tag);
		if (mem_unmap_addr(as, va, PAGE_SIZE) != MM_OK)
			stress_error("mem_unmap_addr refused its own mapping", va, pa);
	}
	stress_claim(pa, 0);
	if (pmm_free(as->pmm, pa) != MM_OK)
		stress_error("pmm_free refused a frame it handed out", pa, 0);
}

/* One CPU's share: SMP_STRESS_OPS operations, sizes from its own
 * xorshift generator (seeded by the CPU number). */
static void stress_cpu(void *arg)
{
	(void)arg;
	uint64_t cpu = mm_cpu_id(), x = 0x2545f4914f6cdd1dULL ^ (cpu * 0x9e3779b97f4a7c15ULL);
	for (uint64_t i = 0; i < SMP_STRESS_OPS; i++) {
		uint64_t tag = (cpu << 48) | (i << 8) | 0xa5;
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t npages = 1 + x % STRESS_MAX_PAGES;
		switch (i % 4) {
		case 0: op_pmm(tag); break;
		case 1: op_kalloc(tag, npages); break;
		case 2: op_pages_at(tag, npages); break;
		default: op_map_addr(tag); break;
		}
	}
}

/* See smp.h. */
unsigned smp_stress_run(void)
{
	struct addrspace *as = addrspace_kernel();
	unsigned cpus = smp_cpus_online();
	if (cpus < 2)
		return 0;
	st.nframes = as->pmm->nframes;
	uint64_t bytes = PAGE_ROUND_UP((st.nframes + 63) / 64 * 8);
	st.claims = kalloc(bytes, ALLOC_KERNEL | ALLOC_WRITABLE);
	st.errors = st.reported = 0;
	if (!st.claims) {
		kprintf("smp: stress: no memory for the claim bitmap (%lu bytes)\n", bytes);
		return 1;
	}
	/* Control: the claim check must see a frame handed out twice (its
	 * report line is not printed: it is no error of the run). */
	st.reported = STRESS_REPORTS;
	stress_claim(PAGE_SIZE, 1);
	stress_claim(PAGE_SIZE, 1);
	stress_claim(PAGE_SIZE, 0);
	int control = st.errors == 1;
	st.errors = st.reported = 0;
	uint64_t kwin_used = as->kwin->nused, leaves;
	struct paging_stats s0, s1;
	paging_purge(as);
	/* Nodes for the burst, taken before the baseline (a node frame stays
	 * in the window's pool): each CPU holds one block and its neighbour
	 * split off, the lazy list at most PAGING_LAZY_MAX_BLOCKS (twice while
	 * a round is in flight), each with a free block beside it. */
	uint64_t nodes = as->kwin->nblocks + 4 * cpus + 4 * PAGING_LAZY_MAX_BLOCKS;
	if (virtaddr_reserve(as->kwin, nodes) != MM_OK)
		stress_error("no frames to reserve the window's nodes", nodes, 0);
	uint64_t before = pmm_free_frames(as->pmm);
	uint64_t nodes0 = as->kwin->node_frames, tables0 = as->table_pages;
	paging_stats(as, &s0);

	unsigned ran = smp_call_everywhere(stress_cpu, 0);

	paging_purge(as);
	uint64_t after = pmm_free_frames(as->pmm);
	if (as->kwin->node_frames != nodes0 || as->table_pages != tables0)
		stress_error("window node frames / page-table pages grew", as->kwin->node_frames - nodes0,
			     as->table_pages - tables0);
	paging_stats(as, &s1);
	if (ran != cpus)
		stress_error("CPUs that ran the stress", ran, cpus);
	if (after != before)
		stress_error("free frames not back at the baseline", before, after);
	if (as->kwin->nused != kwin_used)
		stress_error("window blocks in use changed", kwin_used, as->kwin->nused);
	if (virtaddr_check(as->kwin) != 0)
		stress_error("virtaddr_check of the kernel window", 0, 0);
	int v = ptcheck(as, as->pmm, &leaves);
	if (v)
		stress_error("ptcheck violations", (uint64_t)v, leaves);
	kprintf("smp: stress: %u CPUs x %u ops: %u errors, free frames %lu before, %lu after\n",
		ran, SMP_STRESS_OPS, st.errors, before, after);
	uint64_t unmaps = s1.unmaps - s0.unmaps, shots = s1.shootdowns - s0.shootdowns;
	kprintf("smp: stress: %lu unmaps, %lu shootdowns (%lu per 1,000 unmaps), ptcheck %d violations\n",
		unmaps, shots, unmaps ? shots * 1000 / unmaps : 0, v);
	kprintf("smp: stress: control, one frame claimed twice: %s\n",
		control ? "caught" : "NOT CAUGHT");
	/* Stealing is asking (mm/pmm.c theory 10): after the stress the other
	 * CPUs' caches hold frames; the boot CPU asks for every one of them
	 * (pmm_drain_all: a kick IPI each, answered in its handler by the
	 * idle CPUs) and the free count must not move. */
	uint64_t held = 0, holding = 0, self = mm_cpu_id();
	for (unsigned c = 0; c < MM_MAX_CPUS; c++) {
		uint64_t k = c != self && smp_cpu_online(c) ? pmm_cpu_cached(as->pmm, c) : 0;
		held += k;
		holding += k > 0;
	}
	uint64_t free_a = pmm_free_frames(as->pmm);
	pmm_drain_all(as->pmm);
	uint64_t left = pmm_cached_frames(as->pmm), free_b = pmm_free_frames(as->pmm);
	kprintf("smp: ask: %lu frames cached on %lu other CPUs, %lu cached after pmm_drain_all; "
		"free frames %lu before, %lu after\n", held, holding, left, free_a, free_b);
	if (left || free_a != free_b)
		stress_error("frames left in the caches after asking", left, free_b);
	kfree(st.claims, bytes);
	return st.errors + !control;
}
