/*
 * kernel/smp/smp.c - bringing up the other CPUs, their idle loop and
 * smp_call (theory in kernel/smp/smp.h).
 */
#include "lib/cmdline.h"
#include "kernel/acpi/acpi.h"
#include "kernel/arch/io.h"
#include "kernel/arch/pat.h"
#include "kernel/arch/trap.h"
#include "kernel/console/console.h"
#include "kernel/smp/lapic.h"
#include "kernel/smp/percpu.h"
#include "kernel/smp/smp.h"
#include "kernel/smp/smp_plan.h"
#include "kernel/time/boottime.h"
#include "kernel/time/tsc.h"
#include "lib/string.h"
#include "mm/kalloc.h"
#include "mm/layout.h"
#include "mm/paging.h"
#include "mm/pgmode.h"
#include "mm/status.h"
#include "mm/vaddr.h"
#include "mm/x86_64.h"

/* The trampoline blob and its parameters (trampoline.S). */
extern const char trampoline_start[], trampoline_end[];
extern const char tramp_gdtr[], tramp_pm32_ptr[], tramp_lm64_ptr[];
extern const char tramp_cr3[], tramp_cr4[], tramp_efer[], tramp_cr0[], tramp_entry[];
extern const char smp_ap_entry64[];

/* Read by smp_ap_entry64 (trampoline.S). */
uint64_t smp_boot_cr3;
uint32_t smp_boot_x2apic;
uint32_t smp_boot_count;                 /* entries of the two arrays in use */
uint32_t smp_boot_apic[MM_MAX_CPUS];     /* APIC ID of CPU number i */
uint64_t smp_boot_stack[MM_MAX_CPUS];    /* its stack top (0: none, halt) */

/* Pages of the trampoline area (BOOTINFO_TRAMPOLINE_PAGES): code, then the
 * tables of its identity map, one per level, the root first (four tables,
 * five under 5-level paging). */
#define TRAMP_CODE 0
#define TRAMP_ROOT 1
_Static_assert(TRAMP_ROOT + PGMODE_LEVELS_5 <= BOOTINFO_TRAMPOLINE_PAGES, "trampoline pages");
/* Byte offsets inside the blob of the fields patched. */
#define GDTR_BASE_OFF 2        /* after the 16-bit limit */
#define EFER_LMA      (1ull << 10)   /* read-only: never written */
#define US_PER_SEC    1000000ull
#define MS_PER_SEC    1000ull
/* The APIC ID test-smp-ghost adds: the highest xAPIC ID, no QEMU CPU has it
 * below 255 CPUs. */
#define GHOST_APIC_ID 254u
#define CMDLINE_GHOST "test-smp-ghost"

static uint64_t bsp_cr0, bsp_cr4, bsp_efer, bsp_pat;
static uint64_t tsc_hz;
static unsigned cpus_online = 1;

/* Waits us microseconds on the TSC. */
static void udelay(uint64_t us)
{
	uint64_t end = bootinfo_rdtsc() + us * tsc_hz / US_PER_SEC;
	while (bootinfo_rdtsc() < end)
		mm_cpu_relax();
}

/* See smp.h. */
unsigned smp_cpus_online(void)
{
	return __atomic_load_n(&cpus_online, __ATOMIC_ACQUIRE);
}

/* See smp.h. */
int smp_cpu_online(unsigned cpu)
{
	return cpu < MM_MAX_CPUS &&
	       __atomic_load_n(&percpu_blocks[cpu].state, __ATOMIC_ACQUIRE) == CPU_ONLINE;
}

/* Runs this CPU's posted smp_call, if any (interrupts as the caller has
 * them). */
static void call_serve(void)
{
	struct percpu *pc = this_cpu();
	if (!__atomic_load_n(&pc->call_ready, __ATOMIC_ACQUIRE))
		return;
	void (*fn)(void *) = pc->call_fn;
	void *arg = pc->call_arg;
	__atomic_store_n(&pc->call_ready, 0, __ATOMIC_RELAXED);
	fn(arg);
	__atomic_store_n(&pc->call_done, 1, __ATOMIC_RELEASE);
}

/* See smp.h. */
void smp_wait_flag(const volatile uint32_t *flag)
{
	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
		smp_shootdown_serve();
		call_serve();
		mm_cpu_relax();
	}
}

/* Takes cpu's call slot (waiting, serving, while another caller has it)
 * and posts fn(arg) there; then wakes the CPU. */
static void call_post(unsigned cpu, void (*fn)(void *), void *arg)
{
	struct percpu *pc = &percpu_blocks[cpu];
	uint32_t free = 0;
	while (!__atomic_compare_exchange_n(&pc->call_busy, &free, 1, 0, __ATOMIC_ACQUIRE,
					    __ATOMIC_RELAXED)) {
		free = 0;
		smp_shootdown_serve();
		call_serve();
		mm_cpu_relax();
	}
	pc->call_fn = fn;
	pc->call_arg = arg;
	pc->call_done = 0;
	__atomic_store_n(&pc->call_ready, 1, __ATOMIC_RELEASE);
	lapic_send(pc->apic_id, ICR_FIXED | T_IPI_CALL);
}

/* Waits for cpu's posted call to finish and frees its slot. */
static void call_finish(unsigned cpu)
{
	struct percpu *pc = &percpu_blocks[cpu];
	smp_wait_flag(&pc->call_done);
	__atomic_store_n(&pc->call_busy, 0, __ATOMIC_RELEASE);
}

/* See smp.h. */
int smp_call(unsigned cpu, void (*fn)(void *), void *arg)
{
	if (cpu == mm_cpu_id() || !smp_cpu_online(cpu))
		return -1;
	call_post(cpu, fn, arg);
	call_finish(cpu);
	return 0;
}

/* See smp.h.  Slots are taken in ascending CPU order, so two callers at
 * once cannot each hold a slot the other waits for. */
unsigned smp_call_all(void (*fn)(void *), void *arg)
{
	unsigned self = mm_cpu_id(), n = 0;
	for (unsigned c = 0; c < smp_boot_count; c++)
		if (c != self && smp_cpu_online(c))
			call_post(c, fn, arg), n++;
	for (unsigned c = 0; c < smp_boot_count; c++)
		if (c != self && smp_cpu_online(c))
			call_finish(c);
	return n;
}

/* See smp.h. */
unsigned smp_call_everywhere(void (*fn)(void *), void *arg)
{
	unsigned self = mm_cpu_id(), n = 1;
	for (unsigned c = 0; c < smp_boot_count; c++)
		if (c != self && smp_cpu_online(c))
			call_post(c, fn, arg), n++;
	fn(arg);
	for (unsigned c = 0; c < smp_boot_count; c++)
		if (c != self && smp_cpu_online(c))
			call_finish(c);
	return n;
}

/* The T_IPI_CALL handler: the IPI only wakes the idle loop. */
static void call_irq(void)
{
	lapic_eoi();
}

/* The spurious vector: no EOI (SDM 11.9). */
static void spurious_irq(void)
{
}

/* An AP's life after smp_ap_main: interrupts on, halted until an IPI,
 * running posted calls with interrupts on. */
static _Noreturn void smp_idle(void)
{
	for (;;) {
		__asm__ volatile("cli" ::: "memory");
		if (__atomic_load_n(&this_cpu()->call_ready, __ATOMIC_ACQUIRE)) {
			__asm__ volatile("sti" ::: "memory");
			call_serve();
			continue;
		}
		/* STI's one-instruction shadow: an IPI that came after the
		 * check is taken right at the HLT and ends it. */
		__asm__ volatile("sti; hlt" ::: "memory");
	}
}

/* The AP's C entry (trampoline.S: smp_ap_entry64), on its own stack with
 * the kernel's CR3.  Never returns. */
_Noreturn void smp_ap_main(unsigned cpu);
_Noreturn void smp_ap_main(unsigned cpu)
{
	struct percpu *pc = &percpu_blocks[cpu];
	percpu_enter(cpu);
	write_cr4(bsp_cr4);
	wrmsr(MSR_EFER, bsp_efer & ~EFER_LMA);
	write_cr0(bsp_cr0);
	pat_init();
	trap_init_cpu(pc->tables, pc->ist_top);
	lapic_init_ap();
	uint32_t m = 0;
	if (read_cr0() != bsp_cr0 || !(read_cr0() & CR0_WP))
		m |= SMP_MISMATCH_CR0;
	if (read_cr4() != bsp_cr4)
		m |= SMP_MISMATCH_CR4;
	if (rdmsr(MSR_EFER) != bsp_efer || !(rdmsr(MSR_EFER) & EFER_NXE))
		m |= SMP_MISMATCH_EFER;
	if (rdmsr(MSR_IA32_PAT) != bsp_pat)
		m |= SMP_MISMATCH_PAT;
	pc->mismatch = m;
	uint32_t want = CPU_STARTING;
	if (!__atomic_compare_exchange_n(&pc->state, &want, CPU_ONLINE, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		halt_forever();     /* given up on (CPU_LOST): stay out of the way */
	smp_idle();
}

/* Allocates CPU cpu's kernel stack (KSTACK_SIZE over an unmapped guard
 * page in the kernel window), IST stacks and GDT/TSS.  0, or -1 (printed). */
static int cpu_alloc(unsigned cpu)
{
	struct addrspace *as = addrspace_kernel();
	struct percpu *pc = &percpu_blocks[cpu];
	uint64_t va;
	int s = virtaddr_alloc(as->kwin, KSTACK_SIZE + PAGE_SIZE, 0, &va);
	if (s == MM_OK) {
		s = mem_map_pages_at(as, va + PAGE_SIZE, KSTACK_SIZE / PAGE_SIZE,
				     MAPF_WRITE | MAPF_NOEXEC);
		if (s != MM_OK)
			virtaddr_free(as->kwin, va, KSTACK_SIZE + PAGE_SIZE);
	}
	uint8_t *ist = s == MM_OK ? kalloc(IST_COUNT * IST_SIZE, ALLOC_KERNEL | ALLOC_WRITABLE) : 0;
	struct trap_cpu *tc = ist ? kalloc(sizeof(*tc), ALLOC_KERNEL | ALLOC_WRITABLE) : 0;
	if (!tc) {
		kprintf("smp: no memory for CPU %u's stacks (%s): not started\n", cpu,
			s == MM_OK ? "out of memory" : mm_status_str(s));
		if (ist)
			kfree(ist, IST_COUNT * IST_SIZE);
		if (s == MM_OK) {
			mem_unmap_pages(as, va + PAGE_SIZE, KSTACK_SIZE / PAGE_SIZE);
			virtaddr_free(as->kwin, va, KSTACK_SIZE + PAGE_SIZE);
		}
		return -1;
	}
	pc->stack_top = va + PAGE_SIZE + KSTACK_SIZE;
	for (int i = 0; i < IST_COUNT; i++)
		pc->ist_top[i] = (uint64_t)(uintptr_t)(ist + (i + 1) * IST_SIZE);
	pc->tables = tc;
	return 0;
}

/* Writes the trampoline into the loader's pages at bi->trampoline_pa
 * (mapped at *va for the start; the caller unmaps it): the blob, its
 * patched parameters and the identity map of its code page under a root table
 * that shares the kernel's upper half.  0, or -1 (printed). */
static int tramp_setup(const struct bootinfo *bi, uint64_t *va)
{
	uint64_t t = bi->trampoline_pa, size = (uint64_t)(trampoline_end - trampoline_start);
	unsigned levels = pgmode_levels();
	if (size > PAGE_SIZE) {
		kprintf("smp: one CPU: the trampoline is %lu bytes, more than a page\n", size);
		return -1;
	}
	if (bi->trampoline_size < (TRAMP_ROOT + levels) * PAGE_SIZE) {
		kprintf("smp: one CPU: the trampoline area is %lu bytes, %u-level paging needs %lu\n",
			bi->trampoline_size, levels, (unsigned long)((TRAMP_ROOT + levels) * PAGE_SIZE));
		return -1;
	}
	int s = mem_map_addr(addrspace_kernel(), t, bi->trampoline_size, MAPF_WRITE | MAPF_NOEXEC, va);
	if (s != MM_OK) {
		kprintf("smp: one CPU: cannot map the trampoline pages: %s\n", mm_status_str(s));
		return -1;
	}
	uint8_t *p = (uint8_t *)(uintptr_t)*va;
	memset(p, 0, bi->trampoline_size);
	memcpy(p, trampoline_start, size);
#define AT(sym, type) ((type *)(p + ((sym) - trampoline_start)))
	*(uint32_t *)((uint8_t *)AT(tramp_gdtr, uint8_t) + GDTR_BASE_OFF) += (uint32_t)t;
	*AT(tramp_pm32_ptr, uint32_t) += (uint32_t)t;
	*AT(tramp_lm64_ptr, uint32_t) += (uint32_t)t;
	*AT(tramp_cr3, uint64_t) = t + TRAMP_ROOT * PAGE_SIZE;
	*AT(tramp_cr4, uint64_t) = CR4_PAE | (bsp_cr4 & CR4_LA57);
	*AT(tramp_efer, uint64_t) = bsp_efer & ~EFER_LMA;
	*AT(tramp_cr0, uint64_t) = bsp_cr0;
	*AT(tramp_entry, uint64_t) = (uint64_t)(uintptr_t)smp_ap_entry64;
#undef AT
	/* Table k (0 = root, at level `levels`) sits in page TRAMP_ROOT + k;
	 * the chain ends in the PT's entry for the code page. */
	uint64_t *root = (uint64_t *)(p + TRAMP_ROOT * PAGE_SIZE);
	const uint64_t *kroot = mm_phys_to_virt(read_cr3() & PTE_ADDR);
	for (int i = PT_ENTRIES / 2; i < PT_ENTRIES; i++)
		root[i] = kroot[i];
	for (unsigned k = 0; k + 1 < levels; k++) {
		uint64_t *tbl = (uint64_t *)(p + (TRAMP_ROOT + k) * PAGE_SIZE);
		tbl[PX(levels - k, t)] = (t + (TRAMP_ROOT + k + 1) * PAGE_SIZE) | PTE_P | PTE_W;
	}
	uint64_t *pt = (uint64_t *)(p + (TRAMP_ROOT + levels - 1) * PAGE_SIZE);
	pt[PX(1, t)] = (t + TRAMP_CODE * PAGE_SIZE) | PTE_P;
	return 0;
}

/* Fills ids[] with the MADT's enabled CPUs (at most max); returns how
 * many, or -1 (printed) if there is no MADT. */
static int madt_cpus(const struct acpi *a, uint32_t *ids, unsigned max)
{
	static struct acpi_madt_info m;
	enum acpi_status st = a ? a->status : ACPI_E_NO_RSDP;
	if (st == ACPI_OK)
		st = acpi_get_madt(a, &m);
	if (st != ACPI_OK) {
		kprintf("smp: one CPU: no usable MADT (%s)\n", acpi_status_str(st));
		return -1;
	}
	if (m.cpus > m.cpus_listed)
		kprintf("smp: the MADT lists %u CPUs, the first %u are used\n", m.cpus,
			m.cpus_listed);
	unsigned n = m.cpus_listed < max ? m.cpus_listed : max;
	for (unsigned i = 0; i < n; i++)
		ids[i] = m.cpu[i].apic_id;
	return (int)n;
}

/* Records the boot CPU's control state, which every AP copies and is
 * checked against. */
static void bsp_state(void)
{
	bsp_cr0 = read_cr0();
	bsp_cr4 = read_cr4();
	bsp_efer = rdmsr(MSR_EFER);
	bsp_pat = rdmsr(MSR_IA32_PAT);
}

/* Sends INIT to every CPU of cpus[1..n], then the startup IPIs (theory 2);
 * waits until each has checked in or the timeout passed.  Returns the
 * number online. */
static unsigned start_all(unsigned n, uint64_t tramp_pa)
{
	for (unsigned c = 1; c < n; c++)
		if (percpu_blocks[c].state == CPU_STARTING)
			lapic_send(percpu_blocks[c].apic_id, ICR_INIT | ICR_ASSERT | ICR_LEVEL);
	for (unsigned c = 1; c < n; c++)
		if (percpu_blocks[c].state == CPU_STARTING)
			lapic_send_sipi(percpu_blocks[c].apic_id, tramp_pa);
	udelay(SMP_SIPI_GAP_US);
	for (unsigned c = 1; c < n; c++)
		if (__atomic_load_n(&percpu_blocks[c].state, __ATOMIC_ACQUIRE) == CPU_STARTING)
			lapic_send_sipi(percpu_blocks[c].apic_id, tramp_pa);

	uint64_t deadline = bootinfo_rdtsc() + SMP_START_TIMEOUT_MS * tsc_hz / MS_PER_SEC;
	unsigned waiting;
	do {
		waiting = 0;
		for (unsigned c = 1; c < n; c++)
			waiting += __atomic_load_n(&percpu_blocks[c].state, __ATOMIC_ACQUIRE) ==
				   CPU_STARTING;
		mm_cpu_relax();
	} while (waiting && bootinfo_rdtsc() < deadline);

	unsigned online = 1;
	for (unsigned c = 1; c < n; c++) {
		uint32_t want = CPU_STARTING;
		if (percpu_blocks[c].state == CPU_ABSENT)
			continue;
		if (__atomic_compare_exchange_n(&percpu_blocks[c].state, &want, CPU_LOST, 0,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			kprintf("smp: CPU apic %u did not start\n", percpu_blocks[c].apic_id);
		else
			online++;
	}
	return online;
}

/* Reports what each AP found different from the BSP. */
static void report_mismatch(unsigned n)
{
	for (unsigned c = 1; c < n; c++) {
		uint32_t m = percpu_blocks[c].mismatch;
		if (percpu_blocks[c].state != CPU_ONLINE || !m)
			continue;
		kprintf("smp: CPU %u (apic %u) differs from the boot CPU:%s%s%s%s\n", c,
			percpu_blocks[c].apic_id, (m & SMP_MISMATCH_CR0) ? " CR0" : "",
			(m & SMP_MISMATCH_CR4) ? " CR4" : "", (m & SMP_MISMATCH_EFER) ? " EFER" : "",
			(m & SMP_MISMATCH_PAT) ? " PAT" : "");
	}
}

/* See smp.h. */
void smp_init(const struct bootinfo *bi, const struct acpi *acpi)
{
	static uint32_t ids[MM_MAX_CPUS + 1];
	static struct smp_plan plan;
	struct tsc_freq f;

	percpu_blocks[0].apic_id = 0;
	if (tsc_freq_find(acpi, &f) != 0) {
		kprintf("smp: one CPU: no TSC frequency for the start-up delays\n");
		return;
	}
	tsc_hz = f.hz;
	if (!bi->trampoline_size) {
		kprintf("smp: one CPU: the loader reserved no trampoline pages below 1 MiB\n");
		return;
	}
	int n = madt_cpus(acpi, ids, MM_MAX_CPUS);
	if (n < 0)
		return;
	uint64_t t0 = bootinfo_rdtsc();
	if (lapic_init_bsp() != 0) {
		kprintf("smp: one CPU: no usable local APIC\n");
		return;
	}
	uint32_t bsp_id = lapic_id();
	percpu_blocks[0].apic_id = bsp_id;
	if (cmdline_has(bi->cmdline, CMDLINE_GHOST))
		ids[n++] = GHOST_APIC_ID;
	smp_plan_make(ids, (unsigned)n, bsp_id, lapic_x2apic(), MM_MAX_CPUS, &plan);
	for (unsigned i = 0; i < plan.skipped; i++)
		if (plan.skip[i].why != SMP_SKIP_BSP)
			kprintf("smp: MADT CPU apic %u skipped: %s\n", plan.skip[i].apic_id,
				smp_skip_str(plan.skip[i].why));
	if (plan.skipped_lost)
		kprintf("smp: %u more MADT CPUs skipped\n", plan.skipped_lost);
	if (!plan.bsp_listed)
		kprintf("smp: the boot CPU (apic %u) is not in the MADT\n", bsp_id);

	bsp_state();
	smp_shootdown_init();
	trap_set_irq(T_IPI_CALL, call_irq);
	trap_set_irq(T_SPURIOUS, spurious_irq);
	smp_boot_cr3 = read_cr3();
	smp_boot_x2apic = (uint32_t)lapic_x2apic();
	smp_boot_apic[0] = bsp_id;
	unsigned cpus = 1 + plan.count;
	for (unsigned c = 1; c < cpus; c++) {
		struct percpu *pc = &percpu_blocks[c];
		pc->self = pc;
		pc->cpu = c;
		pc->apic_id = plan.start[c - 1];
		smp_boot_apic[c] = pc->apic_id;
		if (cpu_alloc(c) != 0)
			continue;
		smp_boot_stack[c] = pc->stack_top;
		pc->state = CPU_STARTING;
	}
	smp_boot_count = cpus;

	uint64_t tramp_va;
	unsigned online = 1;
	if (tramp_setup(bi, &tramp_va) == 0) {
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		online = start_all(cpus, bi->trampoline_pa);
		/* A CPU given up on may still run the trampoline later: the
		 * pages stay reserved (and written), only the window goes. */
		mem_unmap_addr(addrspace_kernel(), tramp_va, bi->trampoline_size);
	} else {
		for (unsigned c = 1; c < cpus; c++)
			percpu_blocks[c].state = CPU_ABSENT;
	}
	__atomic_store_n(&cpus_online, online, __ATOMIC_RELEASE);
	report_mismatch(cpus);
	char ms[32];
	boottime_fmt_ms(ms, sizeof(ms), bootinfo_rdtsc() - t0, tsc_hz);
	kprintf("smp: %u of %u CPUs online in %s ms (%s)\n", online, cpus, ms,
		lapic_x2apic() ? "x2apic" : "xapic");
	/* With other CPUs about, the boot CPU takes their IPIs at once
	 * (theory 5); no other interrupt source is unmasked. */
	if (online > 1)
		__asm__ volatile("sti" ::: "memory");
}
