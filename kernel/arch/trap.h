/*
 * kernel/arch/trap.h - CPU exceptions: GDT/TSS/IDT set-up, the register dump of
 * an unexpected exception, and trap_catch for tests that provoke faults.
 */
#ifndef KERNEL_ARCH_TRAP_H
#define KERNEL_ARCH_TRAP_H

#ifndef __ASSEMBLER__
#include <stdint.h>
#endif

/* Exception vectors the kernel treats specially (Intel SDM vol. 3, 6.3.1). */
#define T_NMI       2    /* non-maskable interrupt: never caught */
#define T_UD        6    /* invalid opcode (ud2) */
#define T_DF        8    /* double fault */
#define T_GP        13   /* general protection */
#define T_PF        14   /* page fault */
#define T_MC        18   /* machine check: never caught */
#define T_EXCEPTIONS 32  /* vectors 0..31 are exceptions */
#define T_VECTORS    256 /* IDT entries */

/* Interrupt vectors with a stub (kernel/arch/trapentry.S); a handler is
 * installed with trap_set_irq.  High vectors: the highest priority class
 * of the local APIC, above anything a device would get. */
#define T_IPI_SHOOTDOWN 0xf0  /* TLB shootdown request (kernel/smp/shootdown.c) */
#define T_IPI_CALL      0xf1  /* smp_call wake-up (kernel/smp/smp.c) */
#define T_SPURIOUS      0xff  /* local APIC spurious vector: no EOI */

#ifndef __ASSEMBLER__
/* Page-fault error code bits (Intel SDM vol. 3, 4.7). */
#define PF_ERR_P    (1u << 0)   /* 1: protection violation; 0: page not present */
#define PF_ERR_W    (1u << 1)   /* the access was a write */
#define PF_ERR_U    (1u << 2)   /* the access came from user mode */
#define PF_ERR_I    (1u << 4)   /* the access was an instruction fetch */

/* Registers as the common trap stub saves them (kernel/arch/trapentry.S). */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* What trap_catch reports about a caught exception. */
struct trap_caught {
	uint64_t vector;  /* T_PF, T_GP, T_DF ... */
	uint64_t error;   /* the CPU's error code (0 if the vector has none) */
	uint64_t rip;     /* faulting instruction */
	uint64_t cr2;     /* faulting address (page faults) */
};

/* IST slots (1-based in a gate; tss.ist[slot - 1] holds the stack). */
#define IST_DF    1
#define IST_PF    2
#define IST_NMI   3         /* NMI and machine check share it */
#define IST_COUNT 3
/* 16 KiB per IST stack: the handler prints with a 256-byte line buffer and
 * calls nothing deep; four times what it needs. */
#define IST_SIZE  16384

/* A 64-bit TSS (Intel SDM vol. 3, 8.7). */
struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss) == 104, "TSS layout");

/* One CPU's descriptor tables: null, kernel code, kernel data, TSS (two
 * slots).  The IDT is shared by all CPUs. */
#define TRAP_GDT_ENTRIES 5
struct trap_cpu {
	uint64_t gdt[TRAP_GDT_ENTRIES];
	struct tss tss;
};

/* Loads the boot CPU's GDT with a TSS (IST stacks for #DF, #PF, NMI and #MC,
 * so even a kernel-stack overflow is reported) and the IDT with all 32
 * exceptions.  Keeps the GS base (the per-CPU block). */
void trap_init(void);

/* Fills tc for another CPU with IST stacks whose tops are ist_top[0..
 * IST_COUNT) and loads it and the shared IDT on this CPU (an AP at its
 * start).  Keeps the GS base. */
void trap_init_cpu(struct trap_cpu *tc, const uint64_t ist_top[IST_COUNT]);

/* Installs fn as the handler of interrupt vector v (T_IPI_SHOOTDOWN,
 * T_IPI_CALL or T_SPURIOUS: the vectors with a stub); fn runs with
 * interrupts off on the interrupted stack and must send any EOI itself.
 * Panics for another vector. */
void trap_set_irq(unsigned v, void (*fn)(void));

/*
 * trap_catch - run fn(arg) with an expected-fault net.  If fn raises a CPU
 * exception, execution resumes here with the stack, callee-saved
 * registers and RFLAGS (DF, interrupts) as they were at the call; *out
 * describes the exception.
 * Returns 0 if fn returned normally, 1 if an exception was caught.
 * Not nestable; per CPU (the state is in the GS-based per-CPU block,
 * kernel/smp/percpu.h); a fault with no net active is fatal (register
 * dump, halt).
 */
int trap_catch(void (*fn)(void *), void *arg, struct trap_caught *out);

#endif /* __ASSEMBLER__ */

#endif
