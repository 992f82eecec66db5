/*
 * kernel/smp/percpu.h - the per-CPU data block, reached through GS.
 *
 * Every CPU's IA32_GS_BASE holds the address of its own struct percpu, whose
 * first word points at itself: `mov %gs:0, %rax` gives the block, `movl
 * %gs:PERCPU_CPU, %eax` the CPU's small number (mm_cpu_id) in one load.
 * The boot CPU's block is set up by percpu_init_bsp, the kmain's first
 * statement after the boot stamp (before trap_init and before any mm_lock),
 * so mm_cpu_id is valid from then on.  An AP's is set by smp_ap_main before
 * it touches anything shared.
 *
 * The first fields are read by assembly (kernel/arch/trapentry.S:
 * trap_catch state) at the fixed offsets below, pinned by _Static_assert.
 * The rest belongs to kernel/smp (the theory is in kernel/smp/smp.h).
 */
#ifndef KERNEL_SMP_PERCPU_H
#define KERNEL_SMP_PERCPU_H

/* Offsets used from assembly (and PERCPU_CPU by mm_cpu_id, in
 * kernel/mem/mm_platform_inline.h: defined before the includes below,
 * which reach that file through mm/platform.h). */
#define PERCPU_SELF          0
#define PERCPU_CPU           8
#define PERCPU_CATCH_ACTIVE  16
#define PERCPU_CATCH_RSP     24
#define PERCPU_CATCH_OUT     32

#ifndef __ASSEMBLER__
#include <stdint.h>
#include "kernel/arch/trap.h"
#include "mm/platform.h"
#endif

#ifndef __ASSEMBLER__
/* Words of a bitmap with one bit per possible CPU. */
#define PERCPU_MASK_WORDS (MM_MAX_CPUS / 64)

/* CPU states (percpu.state), moved only with atomics. */
enum cpu_state {
	CPU_ABSENT = 0,      /* no CPU here */
	CPU_STARTING,        /* INIT/SIPI sent, not checked in yet */
	CPU_ONLINE,          /* running: idle loop or work */
	CPU_LOST,            /* did not check in within the timeout: given up;
			        if it checks in later it parks itself forever */
};

struct percpu {
	struct percpu *self;          /* PERCPU_SELF */
	uint32_t cpu;                 /* PERCPU_CPU: 0 = boot CPU */
	uint32_t apic_id;             /* local APIC ID (x2APIC ID in x2APIC mode) */
	uint64_t catch_active;        /* PERCPU_CATCH_ACTIVE: trap_catch net up */
	uint64_t catch_rsp;           /* PERCPU_CATCH_RSP: stack to resume on */
	struct trap_caught *catch_out;/* PERCPU_CATCH_OUT */

	uint32_t state;               /* enum cpu_state (atomic) */
	uint32_t mismatch;            /* SMP_MISMATCH_* bits the AP found */
	uint64_t stack_top;           /* kernel stack (guard page below it) */
	struct trap_cpu *tables;      /* GDT + TSS (kalloc'ed for APs) */
	uint64_t ist_top[IST_COUNT];  /* its IST stacks' tops */

	/* Shootdown: bit i set = CPU i has a request for this CPU
	 * (kernel/smp/shootdown.c).  Set by the sender, cleared here. */
	uint64_t sd_pending[PERCPU_MASK_WORDS];

	/* smp_call: the one call this CPU runs next (kernel/smp/smp.c).
	 * call_busy is taken by the caller with a CAS; call_ready says fn/arg
	 * are posted (cleared here when taken), call_done that fn returned. */
	uint32_t call_busy;
	uint32_t call_ready;
	uint32_t call_done;
	void (*call_fn)(void *);
	void *call_arg;
};
_Static_assert(__builtin_offsetof(struct percpu, self) == PERCPU_SELF, "percpu self");
_Static_assert(__builtin_offsetof(struct percpu, cpu) == PERCPU_CPU, "percpu cpu");
_Static_assert(__builtin_offsetof(struct percpu, catch_active) == PERCPU_CATCH_ACTIVE, "catch");
_Static_assert(__builtin_offsetof(struct percpu, catch_rsp) == PERCPU_CATCH_RSP, "catch rsp");
_Static_assert(__builtin_offsetof(struct percpu, catch_out) == PERCPU_CATCH_OUT, "catch out");

/* All blocks, indexed by CPU number (0 = boot CPU). */
extern struct percpu percpu_blocks[MM_MAX_CPUS];

/* Makes block 0 the boot CPU's (GS base, cpu 0).  First thing in kmain. */
void percpu_init_bsp(void);

/* Points this CPU's GS base at block cpu (an AP, at its start). */
void percpu_enter(unsigned cpu);

/* Returns this CPU's block (one GS-relative load). */
static inline struct percpu *this_cpu(void)
{
	struct percpu *p;
	__asm__ volatile("mov %%gs:0, %0" : "=r"(p));
	return p;
}

#endif /* __ASSEMBLER__ */

#endif
