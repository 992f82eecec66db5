/*
 * kernel/arch/trap.h - CPU exceptions: GDT/TSS/IDT set-up, the register dump of
 * an unexpected exception, and trap_catch for tests that provoke faults.
 */
#ifndef KERNEL_TRAP_H
#define KERNEL_TRAP_H

#include <stdint.h>

/* Registers as the common trap stub saves them (kernel/arch/trapentry.S). */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* What trap_catch reports about a caught exception. */
struct trap_caught {
	uint64_t vector;  /* 14 = page fault, 13 = GP, 8 = double fault ... */
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
