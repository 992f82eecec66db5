/*
 * kernel/arch/trap.h - CPU exceptions: GDT/TSS/IDT set-up, the register dump of
 * an unexpected exception, and trap_catch for tests that provoke faults.
 */
#ifndef KERNEL_ARCH_TRAP_H
#define KERNEL_ARCH_TRAP_H

#include <stdint.h>

/* Exception vectors the kernel treats specially (Intel SDM vol. 3, 6.3.1). */
#define T_NMI       2    /* non-maskable interrupt: never caught */
#define T_DF        8    /* double fault */
#define T_GP        13   /* general protection */
#define T_PF        14   /* page fault */
#define T_MC        18   /* machine check: never caught */
#define T_EXCEPTIONS 32  /* vectors 0..31 are exceptions */

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

/* Loads the GDT with a TSS (IST stacks for #DF, #PF, NMI and #MC, so even a
 * kernel-stack overflow is reported) and the IDT with all 32 exceptions. */
void trap_init(void);

/*
 * trap_catch - run fn(arg) with an expected-fault net.  If fn raises a CPU
 * exception, execution resumes here with the stack and callee-saved
 * registers as they were at the call; *out describes the exception.
 * Returns 0 if fn returned normally, 1 if an exception was caught.
 * Not nestable; a fault with no net active is fatal (register dump, halt).
 */
int trap_catch(void (*fn)(void *), void *arg, struct trap_caught *out);

#endif
