/*
 * kernel/smp/smp.h - more than one CPU: bring-up, cross-CPU calls, TLB
 * shootdown.
 *
 * Theory
 *
 * 1. Which CPUs.  The MADT's enabled local APIC and x2APIC entries
 *    (acpi_madt_info.cpu[]).  Entries that are not enabled are hot-plug
 *    slots (QEMU's -smp N,maxcpus=M lists M entries, N enabled); the
 *    online-capable flag (ACPI 6.3) only says such a slot may be filled
 *    later, so, as Linux at boot, they are counted, never started.
 *    smp_plan (smp_plan.c, host-tested) drops the BSP's own entry
 *    (compared with the LAPIC ID register), duplicates, IDs above 254 in
 *    xAPIC mode (255 is the broadcast ID) and CPUs beyond MM_MAX_CPUS, each
 *    reported by a `smp:` line.  No MADT, no trampoline pages in BootInfo,
 *    or an APIC that cannot be mapped: one CPU, one `smp:` line why.
 *
 * 2. Start (parallel, as Linux since 6.5): for every planned CPU the BSP
 *    allocates the kernel stack (KSTACK_SIZE from the pmm, mapped in the
 *    kernel window above an unmapped guard page), IST stacks and GDT/TSS,
 *    then sends INIT to all of them, then SIPI to all, waits
 *    SMP_SIPI_GAP_US, SIPI again to those not yet seen, and only then
 *    waits (TSC, SMP_START_TIMEOUT_MS) for all to check in.  No wait after
 *    INIT: current CPUs need none (Linux's init_udelay = 0).  A CPU that
 *    has not checked in by then is reported (`smp: CPU apic N did not
 *    start`) and marked CPU_LOST with a CAS; if it ever runs, the same CAS
 *    in smp_ap_main fails and it parks with interrupts off, touching
 *    nothing shared.  Never a hang.
 *
 * 3. The AP's path: trampoline.S (real -> protected -> long mode on the
 *    trampoline's own root table (PML4, or PML5 with CR4.LA57) below 4 GiB, then the kernel's CR3 and its own
 *    stack), then smp_ap_main: GS base (per-CPU block), CR4/EFER/CR0 as
 *    the BSP's, PAT (pat_init, the same MSR value), GDT/TSS/IDT, LAPIC;
 *    it compares CR0.WP, CR4, EFER.NXE and the PAT with the BSP's values
 *    and records differences (SMP_MISMATCH_*), which the BSP prints.
 *
 * 4. Idle APs run smp_idle: interrupts on, `sti; hlt` until an IPI.
 *    smp_call(cpu, fn, arg) puts fn in the target's call slot (taken by a
 *    CAS on call_busy, so callers queue), sends T_IPI_CALL and waits for
 *    call_done; the target runs fn in its idle loop with interrupts ON
 *    (so it answers shootdowns while fn runs), not in the handler.
 *
 * 5. TLB shootdown (shootdown.c).  mm_tlb_shootdown(va, n) flushes here
 *    (invlpg up to PAGING_FLUSH_ALL_PAGES pages, a CR3 reload above: Linux's 33),
 *    and, once other CPUs are online, posts (va, n) in this CPU's request
 *    slot, sets this CPU's bit in every online target's sd_pending mask,
 *    sends T_IPI_SHOOTDOWN and waits until every target has acknowledged
 *    (a counter in the slot).  One request per initiator at a time (it
 *    waits), any number of initiators at once.  Deadlock rule: a CPU
 *    waiting for acknowledgements (or for an smp_call) services its own
 *    sd_pending mask in the wait loop, so two CPUs shooting down at each
 *    other both progress even with interrupts off - which is how the boot
 *    CPU runs (the kernel keeps IF=0 there).  The caller holds no lock
 *    (mm/platform.h's contract): a lock holder never waits for a CPU that
 *    spins on its lock.  Counters: requests, IPIs sent, pages, full
 *    flushes (smp_shootdown_stats).
 *
 * 6. Locking.  No lock: per-CPU state is written by its owner, the
 *    cross-CPU words (state, sd_pending, call_busy/done, ack counters)
 *    are atomics with acquire/release order.  The console has its own
 *    lock (kernel/console/console.c).
 *
 * Output:
 *   smp: <n> of <m> CPUs online in <ms>.<3 digits> ms (xapic|x2apic)
 *   smp: CPU apic <id> did not start
 *   smp: one CPU: <why>
 *   smp: shootdown: <k>/<n> CPUs faulted on the unmapped page   (selftest)
 *   smp: stress: <n> CPUs x <ops> ops: <e> errors, free frames <a> before, <b> after
 */
#ifndef KERNEL_SMP_SMP_H
#define KERNEL_SMP_SMP_H

#include <stdint.h>
#include "kernel/acpi/acpi.h"
#include "shared/bootinfo.h"

/* Gap between the two startup IPIs (Intel's MP spec says 200 us; Linux
 * waits 10 us on current CPUs). */
#define SMP_SIPI_GAP_US 10
/* How long every AP together has to check in.  Under TCG 8 vCPUs on 2
 * host cores take a few hundred ms; 2 s is generous and bounded. */
#define SMP_START_TIMEOUT_MS 2000

/* Differences an AP found against the BSP (percpu.mismatch bits). */
#define SMP_MISMATCH_CR0  (1u << 0)
#define SMP_MISMATCH_CR4  (1u << 1)
#define SMP_MISMATCH_EFER (1u << 2)
#define SMP_MISMATCH_PAT  (1u << 3)

/* Brings up the other CPUs (theory 1-3) after kmem_init, the CPUs from
 * the MADT of the kernel's ACPI parse acpi (kernel/acpi/boot.h; NULL or a
 * failed parse: one CPU); prints the smp: lines.  cmdline word
 * test-smp-ghost adds an APIC ID no CPU has (the did-not-start path). */
void smp_init(const struct bootinfo *bi, const struct acpi *acpi);

/* CPUs online (1 before smp_init or without APs). */
unsigned smp_cpus_online(void);

/* 1 if CPU number cpu is online. */
int smp_cpu_online(unsigned cpu);

/* Runs fn(arg) on CPU cpu (another online CPU) and waits until it has
 * returned.  Returns 0, or -1 if cpu is this CPU or not online. */
int smp_call(unsigned cpu, void (*fn)(void *), void *arg);

/* Runs fn(arg) on every other online CPU, all at once, and waits for all.
 * Returns the number of CPUs that ran it. */
unsigned smp_call_all(void (*fn)(void *), void *arg);

/* Runs fn(arg) on every online CPU at once, this one included (it runs
 * its own while the others run theirs), and waits for all.  Returns the
 * number of CPUs that ran it.  For stress tests. */
unsigned smp_call_everywhere(void (*fn)(void *), void *arg);

/* Spins (PAUSE) until *flag != 0, serving this CPU's shootdown requests
 * meanwhile (theory 5).  For waits on other CPUs. */
void smp_wait_flag(const volatile uint32_t *flag);

/* Shootdown (shootdown.c): the flush of mm_tlb_shootdown. */
void smp_shootdown(uint64_t va, uint64_t npages);
/* Serves this CPU's pending shootdown requests, then the frame
 * allocator's drain requests (mm_wait_serve; the IPI handler, the wait
 * loops, mm_cpu_kick's IPI). */
void smp_shootdown_serve(void);
/* Installs the shootdown IPI handler. */
void smp_shootdown_init(void);

struct smp_shootdown_stats {
	uint64_t requests;      /* mm_tlb_shootdown calls that reached other CPUs */
	uint64_t ipis;          /* IPIs sent */
	uint64_t pages;         /* pages asked for */
	uint64_t full_flushes;  /* requests above PAGING_FLUSH_ALL_PAGES */
};
/* A snapshot of the counters. */
void smp_shootdown_stats(struct smp_shootdown_stats *out);

/* The shootdown proof (smp_selftest.c): prints `smp: shootdown:` lines;
 * returns the number of failed checks. */
unsigned smp_selftest_run(void);

/* Operations per CPU in the all-CPU stress (smp_stress.c): under TCG a
 * few hundred ms for 4 vCPUs on 2 host cores, ~500 of each kind. */
#define SMP_STRESS_OPS 2000

/* The memory manager on every CPU at once (smp_stress.c): prints the
 * `smp: stress:` lines; returns the number of errors (0 with one CPU). */
unsigned smp_stress_run(void);

#endif
