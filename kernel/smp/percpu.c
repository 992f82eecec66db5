/*
 * kernel/smp/percpu.c - the per-CPU blocks (kernel/smp/percpu.h).
 */
#include "kernel/arch/io.h"
#include "kernel/smp/percpu.h"

/* 256 blocks of ~120 bytes: ~30 KiB of .bss, so the boot CPU's exists
 * before any allocator and an AP's index is its block. */
struct percpu percpu_blocks[MM_MAX_CPUS];

/* See percpu.h. */
void percpu_enter(unsigned cpu)
{
	struct percpu *p = &percpu_blocks[cpu];
	p->self = p;
	p->cpu = cpu;
	wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)p);
}

/* See percpu.h. */
void percpu_init_bsp(void)
{
	percpu_enter(0);
	percpu_blocks[0].state = CPU_ONLINE;
}
