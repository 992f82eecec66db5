/*
 * kernel/smp/shootdown.c - TLB shootdown across CPUs (theory 5 in
 * kernel/smp/smp.h).
 */
#include "kernel/arch/io.h"
#include "kernel/arch/trap.h"
#include "kernel/smp/lapic.h"
#include "kernel/smp/percpu.h"
#include "kernel/smp/smp.h"
#include "mm/paging.h"
#include "mm/x86_64.h"

#define BITS_PER_WORD 64
#define CACHE_LINE    64

/* One initiator's request: what to flush, and how many targets have not
 * acknowledged yet.  Written only by its initiator while acks is 0. */
struct sd_request {
	uint64_t va;
	uint64_t npages;
	uint32_t acks;
} __attribute__((aligned(CACHE_LINE)));

static struct sd_request requests[MM_MAX_CPUS];
static struct smp_shootdown_stats stats;   /* atomic adds */

/* Flushes [va, va + npages pages) on this CPU: invlpg up to the ceiling,
 * a CR3 reload above (every non-global entry; the kernel maps nothing
 * global). */
static void flush_local(uint64_t va, uint64_t npages)
{
	if (npages > PAGING_FLUSH_ALL_PAGES) {
		write_cr3(read_cr3());
		return;
	}
	for (uint64_t i = 0; i < npages; i++)
		invlpg(va + i * PAGE_SIZE);
}

/* See smp.h. */
void smp_shootdown_serve(void)
{
	struct percpu *pc = this_cpu();
	for (unsigned w = 0; w < PERCPU_MASK_WORDS; w++) {
		if (!__atomic_load_n(&pc->sd_pending[w], __ATOMIC_RELAXED))
			continue;
		uint64_t bits = __atomic_exchange_n(&pc->sd_pending[w], 0, __ATOMIC_ACQUIRE);
		while (bits) {
			unsigned b = (unsigned)__builtin_ctzll(bits);
			bits &= bits - 1;
			struct sd_request *r = &requests[w * BITS_PER_WORD + b];
			flush_local(r->va, r->npages);
			__atomic_sub_fetch(&r->acks, 1, __ATOMIC_RELEASE);
		}
	}
	mm_wait_serve();        /* and the frame allocator's drain requests */
}

/* The T_IPI_SHOOTDOWN handler. */
static void shootdown_irq(void)
{
	smp_shootdown_serve();
	lapic_eoi();
}

/* See smp.h. */
void smp_shootdown_init(void)
{
	trap_set_irq(T_IPI_SHOOTDOWN, shootdown_irq);
}

/* See smp.h. */
void smp_shootdown(uint64_t va, uint64_t npages)
{
	flush_local(va, npages);
	if (smp_cpus_online() <= 1)
		return;
	unsigned self = this_cpu()->cpu, targets = 0;
	struct sd_request *r = &requests[self];
	r->va = va;
	r->npages = npages;
	for (unsigned c = 0; c < MM_MAX_CPUS; c++)
		targets += c != self && smp_cpu_online(c);
	if (!targets)
		return;
	__atomic_store_n(&r->acks, targets, __ATOMIC_RELEASE);
	uint64_t bit = 1ull << (self % BITS_PER_WORD);
	unsigned sent = 0;
	for (unsigned c = 0; c < MM_MAX_CPUS && sent < targets; c++) {
		if (c == self || !smp_cpu_online(c))
			continue;
		__atomic_fetch_or(&percpu_blocks[c].sd_pending[self / BITS_PER_WORD], bit,
				  __ATOMIC_RELEASE);
		lapic_send(percpu_blocks[c].apic_id, ICR_FIXED | T_IPI_SHOOTDOWN);
		sent++;
	}
	/* Serving our own mask while we wait: two CPUs shooting down at
	 * each other both progress, interrupts on or off. */
	while (__atomic_load_n(&r->acks, __ATOMIC_ACQUIRE)) {
		smp_shootdown_serve();
		mm_cpu_relax();
	}
	__atomic_add_fetch(&stats.requests, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&stats.ipis, sent, __ATOMIC_RELAXED);
	__atomic_add_fetch(&stats.pages, npages, __ATOMIC_RELAXED);
	if (npages > PAGING_FLUSH_ALL_PAGES)
		__atomic_add_fetch(&stats.full_flushes, 1, __ATOMIC_RELAXED);
}

/* See smp.h. */
void smp_shootdown_stats(struct smp_shootdown_stats *out)
{
	out->requests = __atomic_load_n(&stats.requests, __ATOMIC_RELAXED);
	out->ipis = __atomic_load_n(&stats.ipis, __ATOMIC_RELAXED);
	out->pages = __atomic_load_n(&stats.pages, __ATOMIC_RELAXED);
	out->full_flushes = __atomic_load_n(&stats.full_flushes, __ATOMIC_RELAXED);
}
