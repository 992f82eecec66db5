/*
 * kernel/mem/selftest.c - the in-kernel mm selftest (see kernel/mem/selftest.h).
 * Each check is one expect(); a fault is provoked inside trap_catch and its
 * vector and CR2 compared with what was meant to happen.
 */
#include "kernel/arch/trap.h"
#include "kernel/boot/handover.h"
#include "kernel/console/console.h"
#include "kernel/mem/kmem.h"
#include "kernel/mem/selftest.h"
#include "kernel/arch/io.h"
#include "mm/dmcheck.h"
#include "mm/kalloc.h"
#include "lib/range.h"
#include "mm/layout.h"
#include "mm/memmap.h"
#include "mm/platform.h"
#include "mm/ptcheck.h"
#include "mm/status.h"
#include "mm/x86_64.h"

#define X86_RET      0xc3        /* opcode of `ret` */
#define STORM_PAGES  256         /* 1 MiB kallocs first, then single pages */

static int passed, failed;

/* Counts one check; prints it if it failed. */
static void expect(int ok, const char *what)
{
	if (ok) {
		passed++;
	} else {
		failed++;
		kprintf("selftest: FAIL %s\n", what);
	}
}

/* Fault probes: each touches *arg in one way. */
static void probe_read(void *arg)
{
	(void)*(volatile uint64_t *)arg;
}

static void probe_write(void *arg)
{
	*(volatile uint64_t *)arg = 0x5a5a5a5a5a5a5a5aULL;
}

static void probe_exec(void *arg)
{
	((void (*)(void))arg)();
}

/* Moves RSP to arg (the bottom of the kernel stack) and pushes: the push
 * lands in the guard page below, as a real overflow would.  The #PF runs on
 * its IST stack; trap_catch restores RSP. */
static void probe_overflow(void *arg)
{
	__asm__ volatile("mov %0, %%rsp\n\tpushq $0" : : "r"(arg) : "memory");
}

/* Returns 1 if probe(addr) raises a page fault at addr with error bits
 * `want` all set. */
static int faults(void (*probe)(void *), void *addr, uint64_t cr2, unsigned want)
{
	struct trap_caught c = { 0 };
	if (!trap_catch(probe, addr, &c))
		return 0;
	if (c.vector != T_PF || c.cr2 != cr2 || (c.error & want) != want) {
		kprintf("selftest: caught vector %lu error 0x%lx cr2 0x%lx rip 0x%lx, want #PF at 0x%lx\n",
			c.vector, c.error, c.cr2, c.rip, cr2);
		return 0;
	}
	return 1;
}

/* Writes a pattern over n bytes at p and reads it back. */
static int pattern_ok(void *p, uint64_t n)
{
	uint64_t *q = p;
	for (uint64_t i = 0; i < n / 8; i++)
		q[i] = i * 0x9e3779b97f4a7c15ULL;
	for (uint64_t i = 0; i < n / 8; i++)
		if (q[i] != i * 0x9e3779b97f4a7c15ULL)
			return 0;
	return 1;
}

/* kalloc / kfree: a direct-map page, a window range, then use after free. */
static void test_kalloc(void)
{
	void *one = kalloc(100, ALLOC_KERNEL | ALLOC_WRITABLE);
	expect(one && pattern_ok(one, PAGE_SIZE), "kalloc one page: write/read");
	kfree(one, 100);
	uint8_t *p = kalloc(8 * PAGE_SIZE, ALLOC_KERNEL | ALLOC_WRITABLE);
	expect(p && (uint64_t)p >= KWIN_BASE && (uint64_t)p < KWIN_END, "kalloc 8 pages: in the window");
	if (!p)
		return;
	expect(p[0] == 0 && p[8 * PAGE_SIZE - 1] == 0, "kalloc 8 pages: zeroed");
	expect(pattern_ok(p, 8 * PAGE_SIZE), "kalloc 8 pages: write/read");
	kfree(p, 8 * PAGE_SIZE);
	expect(faults(probe_read, p + 3 * PAGE_SIZE, (uint64_t)p + 3 * PAGE_SIZE, 0),
	       "kfree: read after free faults");
	uint8_t *u = kalloc(2 * PAGE_SIZE, ALLOC_USER | ALLOC_WRITABLE);
	expect(u && (uint64_t)u < USER_END && pattern_ok(u, 2 * PAGE_SIZE), "kalloc user: write/read");
	if (u)
		kfree(u, 2 * PAGE_SIZE);
}

/* virtaddr_alloc + mem_map_pages_at / mem_unmap_pages, and map_pages of a
 * frame seen through the direct map too. */
static void test_map_apis(void)
{
	struct addrspace *as = addrspace_kernel();
	uint64_t va, pa;
	int s = virtaddr_alloc(as->kwin, 4 * PAGE_SIZE, 0, &va);
	expect(s == MM_OK, "virtaddr_alloc");
	if (s != MM_OK)
		return;
	s = mem_map_pages_at(as, va, 4, MAPF_WRITE | MAPF_NOEXEC);
	expect(s == MM_OK && pattern_ok((void *)va, 4 * PAGE_SIZE), "mem_map_pages_at: write/read");
	expect(mem_map_pages_at(as, va + PAGE_SIZE, 1, MAPF_WRITE | MAPF_NOEXEC) == MM_EBUSY,
	       "mem_map_pages_at: over a mapping is MM_EBUSY");
	expect(mem_unmap_pages(as, va, 4) == MM_OK, "mem_unmap_pages");
	expect(faults(probe_write, (void *)(va + 2 * PAGE_SIZE), va + 2 * PAGE_SIZE, PF_ERR_W),
	       "mem_unmap_pages: write after unmap faults");

	expect(pmm_alloc(as->pmm, &pa) == MM_OK, "pmm_alloc");
	uint64_t *dm = mm_phys_to_virt(pa);
	expect(map_pages(as, va, pa, 1, MAPF_WRITE | MAPF_NOEXEC) == MM_OK, "map_pages");
	*(volatile uint64_t *)va = 0x1122334455667788ULL;
	expect(dm[0] == 0x1122334455667788ULL, "map_pages: alias of the direct map");
	expect(unmap_pages(as, va, 1) == MM_OK, "unmap_pages");
	expect(faults(probe_read, (void *)va, va, 0), "unmap_pages: read after unmap faults");

	uint64_t ma;
	dm[0x568 / 8] = 0xabcdef;
	s = mem_map_addr(addrspace_kernel(), pa + 0x568, 16, MAPF_NOEXEC, &ma);
	expect(s == MM_OK && (ma & PAGE_MASK) == 0x568 && *(volatile uint64_t *)ma == 0xabcdef,
	       "mem_map_addr: va of pa itself, reads the frame");
	expect(s == MM_OK && faults(probe_write, (void *)ma, ma, PF_ERR_P | PF_ERR_W),
	       "mem_map_addr: read-only mapping refuses a write");
	/* Cross-API frees on the real tables: refused, reported, the mapping
	 * still reads (no panic, nothing changed). */
	expect(s == MM_OK && kfree_in(as, (void *)PAGE_ROUND_DOWN(ma), PAGE_SIZE) == MM_EOWNER &&
	       mem_unmap_pages(as, PAGE_ROUND_DOWN(ma), 1) == MM_EOWNER &&
	       *(volatile uint64_t *)ma == 0xabcdef,
	       "kfree / mem_unmap_pages of a mem_map_addr range: MM_EOWNER, still mapped");
	expect(mem_unmap_addr(addrspace_kernel(), ma, 16) == MM_OK, "mem_unmap_addr");
	expect(faults(probe_read, (void *)ma, ma, 0), "mem_unmap_addr: read after unmap faults");
	pmm_free(as->pmm, pa);
	virtaddr_free(as->kwin, va, 4 * PAGE_SIZE);
}

/* Read-only, NX and NULL. */
static void test_protection(void)
{
	uint8_t *ro = kalloc(PAGE_SIZE, ALLOC_KERNEL);
	expect(ro && ro[10] == 0, "read-only page reads");
	if (ro) {
		expect(faults(probe_write, ro + 64, (uint64_t)ro + 64, PF_ERR_P | PF_ERR_W),
		       "write to a read-only page faults");
		kfree(ro, PAGE_SIZE);
	}
	uint8_t *code = kalloc(2 * PAGE_SIZE, ALLOC_KERNEL | ALLOC_WRITABLE);
	if (code) {
		code[PAGE_SIZE] = X86_RET;
		expect(faults(probe_exec, code + PAGE_SIZE, (uint64_t)code + PAGE_SIZE, PF_ERR_P | PF_ERR_I),
		       "executing from an NX page faults");
		kfree(code, 2 * PAGE_SIZE);
	} else {
		expect(0, "kalloc for the NX test");
	}
	expect(faults(probe_read, (void *)0, 0, 0), "NULL dereference faults");
	expect(faults(probe_write, (void *)8, 8, PF_ERR_W), "write near NULL faults");
}

/* The kernel stack's guard page. */
static void test_stack_guard(void)
{
	const struct bootinfo *bi = bootinfo_get();
	uint64_t bottom = bi->stack_top_va - bi->stack_size;
	uint64_t rsp;
	__asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
	expect(rsp > bottom && rsp <= bi->stack_top_va, "running on the BootInfo kernel stack");
	expect(faults(probe_overflow, (void *)bottom, bottom - 8, PF_ERR_W),
	       "kernel-stack overflow hits the guard page");
}

/* Sets the direction flag, enables interrupts and raises #UD at once (the
 * sti shadow keeps an interrupt from arriving before the ud2): what a
 * firmware that faults with its own flags leaves in RFLAGS. */
static void probe_flags(void *arg)
{
	(void)arg;
	__asm__ volatile("std\n\tsti\n\tud2" : : : "memory");
}

/* trap_catch after a fault returns with RFLAGS as at the call (DF clear,
 * interrupts as they were), not as the faulting code left them: the
 * efirt call path relies on it (a firmware fault; kernel/efirt/call.c).
 * Control: the probe does fault (vector 6). */
static void test_catch_flags(void)
{
	struct trap_caught c = { 0 };
	uint64_t irq = mm_irq_save(), rflags;
	int caught = trap_catch(probe_flags, 0, &c);
	__asm__ volatile("pushfq\n\tpopq %0" : "=r"(rflags));
	__asm__ volatile("cld" : : : "memory");
	mm_irq_restore(irq);
	expect(caught && c.vector == T_UD, "trap_catch: the flags probe raises #UD");
	expect(!(rflags & RFLAGS_DF), "trap_catch: DF clear after a caught fault");
	expect(!(rflags & RFLAGS_IF), "trap_catch: interrupts off after a caught fault, as at the call");
}

/* Allocates until the pmm is empty, then frees it all; returns the number
 * of allocations; *dry gets 1 if the pmm ended empty with a NULL return. */
static uint64_t storm(struct pmm *pmm, int *dry)
{
	void *head = NULL;
	uint64_t n = 0;
	uint64_t sizes[2] = { STORM_PAGES * PAGE_SIZE, PAGE_SIZE };
	for (int k = 0; k < 2; k++) {
		void *p;
		while ((p = kalloc(sizes[k], ALLOC_KERNEL | ALLOC_WRITABLE)) != NULL) {
			*(void **)p = head;               /* chain: size in word 1 */
			((uint64_t *)p)[1] = sizes[k];
			head = p;
			n++;
		}
	}
	*dry = pmm_free_frames(pmm) == 0;
	while (head) {
		void *next = *(void **)head;
		kfree(head, ((uint64_t *)head)[1]);
		head = next;
	}
	return n;
}

/*
 * Frames held aside during the storm, so that it runs through STORM_KEEP
 * frames however big the machine: kalloc zeroes every page it hands out, and
 * emptying 64 GiB or 1 TiB page by page would take minutes under emulation.
 * The frame allocator is still genuinely empty when kalloc fails: the held
 * frames are allocated, in large contiguous runs that touch only the bitmap.
 * The storm's own frames are one contiguous run, set aside first: left-over
 * fragments scattered over RAM would each be the first touch of a host
 * page under QEMU (a host page fault, often a 2 MiB one, per frame).
 */
#define STORM_KEEP   512             /* 2 MiB for the storm: two 1 MiB
					  * kallocs, then single pages */
#define STORM_HOLDS  512             /* runs of held frames we can record */

struct storm_hold {
	uint64_t pa, count;
};

static struct storm_hold holds[STORM_HOLDS];

/* Leaves STORM_KEEP contiguous frames free (or, if no such run exists, at
 * least STORM_KEEP frames) and holds the rest in runs (largest power of two
 * first) until the record is full; returns the number of runs. */
static int storm_hold(struct pmm *pmm, uint64_t *held)
{
	uint64_t keep_pa;
	int n = 0, keep = pmm_alloc_contig(pmm, STORM_KEEP, PAGE_SIZE, &keep_pa) == MM_OK;
	uint64_t margin = keep ? 0 : STORM_KEEP;
	*held = 0;
	for (uint64_t run = 1ULL << 40; run >= 1 && n < STORM_HOLDS; run >>= 1) {
		while (n < STORM_HOLDS && pmm_free_frames(pmm) >= margin + run &&
		       pmm_alloc_contig(pmm, run, PAGE_SIZE, &holds[n].pa) == MM_OK) {
			holds[n].count = run;
			*held += run;
			n++;
		}
	}
	if (keep && pmm_free_contig(pmm, keep_pa, STORM_KEEP) != MM_OK)
		panic("storm_hold: cannot give back the storm's own run at 0x%lx", keep_pa);
	return n;
}

/* Out-of-memory storm.  The first round warms up the window's list nodes
 * (kept for reuse by design); the second must end at the exact baseline,
 * and so must the whole allocator once the held runs are given back. */
static void test_oom_storm(void)
{
	struct pmm *pmm = addrspace_kernel()->pmm;
	uint64_t held;
	int dry, nholds = storm_hold(pmm, &held);

	storm(pmm, &dry);
	paging_purge(addrspace_kernel());   /* lazy kfrees back (mm/paging.h theory 8) */
	uint64_t base = pmm_free_frames(pmm);
	uint64_t n = storm(pmm, &dry);
	paging_purge(addrspace_kernel());
	uint64_t after = pmm_free_frames(pmm);
	expect(dry, "OOM storm: the pmm ran empty and kalloc returned NULL");
	expect(after == base, "OOM storm: free frames back at the baseline");
	int bad = 0;
	for (int i = 0; i < nholds; i++)
		bad |= pmm_free_contig(pmm, holds[i].pa, holds[i].count) != MM_OK;
	expect(!bad && pmm_free_frames(pmm) == base + held, "OOM storm: the frames held aside are given back");
	kprintf("selftest: OOM storm: %lu allocations, %lu free frames before and %lu after (%lu more held aside in %d runs)\n",
		n, base, after, held, nholds);
}

/* In-use vaddr blocks when the selftest started (the kernel's own live
 * mappings, e.g. the framebuffer): the selftest must leave exactly these. */
static uint64_t kwin_used_before, user_used_before;

/* Invariants of the vaddr spaces and the page tables. */
static void test_consistency(void)
{
	struct addrspace *as = addrspace_kernel();
	uint64_t leaves;
	expect(virtaddr_check(as->kwin) == 0 && virtaddr_check(as->user) == 0,
	       "virtaddr_check on the kernel window and the user half");
	expect(as->kwin->nused == kwin_used_before && as->user->nused == user_used_before,
	       "no vaddr block left in use beyond those live before the selftest");
	int v = ptcheck(as, as->pmm, &leaves);
	expect(v == 0, "ptcheck of the kernel address space");
	kprintf("selftest: ptcheck: %lu leaf entries, %d violations\n", leaves, v);
}

/* Direct-map runs the walk can record: a run per RAM range, and real maps
 * have a few dozen; 1024 (16 KiB of .bss) is ample. */
#define DM_RUNS_MAX  1024
/* The control below looks at physical memory under 4 GiB, where the old
 * rule mapped holes on every PC (VGA, the PCI window). */
#define DM_CONTROL_TOP (4ULL << 30)

static struct hhdm_range dm_runs[DM_RUNS_MAX], dm_old[DM_RUNS_MAX];

/* Builds in dm_old what the old loader mapped below `below`: every chunk
 * (1 GiB or 2 MiB) that a write-back descriptor touches; returns the runs. */
static size_t old_rule_runs(const struct bootinfo *bi, const uint8_t *raw, uint64_t below)
{
	uint64_t chunk = (bi->flags & BOOTINFO_F_HUGE_1G) ? HUGE_SIZE : LARGE_SIZE;
	size_t n = 0;
	for (uint64_t c = 0; c < below && n < DM_RUNS_MAX; c += chunk) {
		int touched = 0;
		for (uint64_t off = 0; off < bi->memmap_size && !touched; off += bi->memmap_desc_size) {
			const struct bootinfo_efi_desc *d = (const void *)(raw + off);
			touched = (d->attribute & EFI_MEMORY_WB) && d->num_pages &&
				  ranges_overlap(d->phys_start, d->num_pages << PAGE_SHIFT, c, chunk);
		}
		if (!touched)
			continue;
		if (n && dm_old[n - 1].pa + dm_old[n - 1].size == c)
			dm_old[n - 1].size += chunk;
		else
			dm_old[n++] = (struct hhdm_range){ c, chunk };
	}
	return n;
}

/* The direct map, walked in the live page tables, against the raw firmware
 * map the loader handed over: every mapped page is write-back RAM, every
 * such page is mapped.  Control: the old loader's rule, on the same map,
 * is caught mapping what is not RAM. */
static void test_direct_map(void)
{
	const struct bootinfo *bi = bootinfo_get();
	const uint8_t *raw = mm_phys_to_virt(bi->memmap_pa);
	size_t n;
	uint64_t misplaced, bytes = 0;
	int not_ram;
	int s = dmcheck_walk(read_cr3() & PTE_ADDR, dm_runs, DM_RUNS_MAX, &n, &misplaced);
	expect(s == MM_OK && misplaced == 0, "direct map: walked, every page at HHDM_BASE + pa");
	int bad = dmcheck_compare(dm_runs, n, raw, bi->memmap_size, bi->memmap_desc_size, &not_ram);
	expect(bad == 0, "direct map: exactly the write-back RAM of the raw firmware map");
	for (size_t i = 0; i < n; i++)
		bytes += dm_runs[i].size;
	kprintf("selftest: direct map: %lu runs, %lu MiB mapped, %d ranges not RAM, %d problems\n",
		(uint64_t)n, bytes >> 20, not_ram, bad);

	uint64_t below = bi->hhdm_size < DM_CONTROL_TOP ? bi->hhdm_size : DM_CONTROL_TOP;
	size_t nold = old_rule_runs(bi, raw, below);
	mm_printf("selftest: control, the old loader's direct map below 4 GiB (expect dmcheck lines; RAM above it is outside the control):\n");
	dmcheck_compare(dm_old, nold, raw, bi->memmap_size, bi->memmap_desc_size, &not_ram);
	expect(not_ram > 0, "direct map control: the old rule's map is caught mapping what is not RAM");
}

/* Runs every check; returns the number that failed. */
int selftest_run(void)
{
	passed = failed = 0;
	if (!addrspace_kernel()) {
		kprintf("selftest: kmem_init was not called\n");
		return 1;
	}
	kwin_used_before = addrspace_kernel()->kwin->nused;
	user_used_before = addrspace_kernel()->user->nused;
	test_kalloc();
	test_map_apis();
	test_protection();
	test_stack_guard();
	test_catch_flags();
	test_oom_storm();
	test_consistency();
	test_direct_map();
	kprintf("selftest: %d passed, %d failed\n", passed, failed);
	return failed;
}
