/*
 * kernel/arch/trapentry.S - exception entry stubs, the common save/restore path
 * and trap_catch (kernel/arch/trap.h).
 *
 * Each stub makes the stack look the same for every vector: an error code
 * (the CPU's, or a pushed 0) and the vector number below the CPU's frame;
 * trap_common then pushes the general registers to form struct trap_frame.
 * The interrupt vectors of kernel/smp (trap.h: T_IPI_*, T_SPURIOUS) enter
 * the same way, with error code 0; trap_handler sends them to their
 * handlers.
 */
#include "kernel/smp/percpu.h"
#include "kernel/arch/trap.h"

	.text

.macro TRAP_NOERR vec
	.globl trap_stub_\vec
trap_stub_\vec:
	pushq $0
	pushq $\vec
	jmp trap_common
.endm

.macro TRAP_ERR vec
	.globl trap_stub_\vec
trap_stub_\vec:
	pushq $\vec
	jmp trap_common
.endm

TRAP_NOERR 0
TRAP_NOERR 1
TRAP_NOERR 2
TRAP_NOERR 3
TRAP_NOERR 4
TRAP_NOERR 5
TRAP_NOERR 6
TRAP_NOERR 7
TRAP_ERR   8
TRAP_NOERR 9
TRAP_ERR   10
TRAP_ERR   11
TRAP_ERR   12
TRAP_ERR   13
TRAP_ERR   14
TRAP_NOERR 15
TRAP_NOERR 16
TRAP_ERR   17
TRAP_NOERR 18
TRAP_NOERR 19
TRAP_NOERR 20
TRAP_ERR   21
TRAP_NOERR 22
TRAP_NOERR 23
TRAP_NOERR 24
TRAP_NOERR 25
TRAP_NOERR 26
TRAP_NOERR 27
TRAP_NOERR 28
TRAP_ERR   29
TRAP_ERR   30
TRAP_NOERR 31
.macro TRAP_IRQ name vec
trap_stub_\name:
	pushq $0
	pushq $\vec
	jmp trap_common
.endm

TRAP_IRQ shootdown T_IPI_SHOOTDOWN
TRAP_IRQ call      T_IPI_CALL
TRAP_IRQ spurious  T_SPURIOUS

trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	mov %rsp, %rdi          /* struct trap_frame *; RSP is 16-byte aligned */
	cld                     /* the C ABI's DF = 0 (the interrupted code, e.g.
				   firmware, may have set it; iretq restores it) */
	call trap_handler
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	add $16, %rsp           /* vector and error code */
	iretq

	.data
	.balign 8
	.globl trap_stub_table
trap_stub_table:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad trap_stub_\v
	.endr
	.globl trap_irq_stub_table
trap_irq_stub_table:            /* trap.c: irq_vectors[] order */
	.quad trap_stub_shootdown
	.quad trap_stub_call
	.quad trap_stub_spurious

/*
 * int trap_catch(void (*fn)(void *), void *arg, struct trap_caught *out)
 * Saves the callee-saved registers and RFLAGS on the stack and the stack
 * pointer in this CPU's per-CPU block (catch_rsp), then calls fn(arg).
 * trap_handler resumes a caught fault at trap_catch_resume with RSP =
 * catch_rsp.  Both ways out restore RFLAGS as it was at the call: the
 * faulting code (firmware: kernel/efirt/call.c) may have left DF, AC or IF
 * set, and the caller must get its own interrupt state and DF = 0 back.
 */
	.text
	.globl trap_catch
	.globl trap_catch_resume
trap_catch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushfq                  /* 7 pushes + return address: aligned to 16 */
	mov %rsp, %gs:PERCPU_CATCH_RSP
	mov %rdx, %gs:PERCPU_CATCH_OUT
	movq $1, %gs:PERCPU_CATCH_ACTIVE
	mov %rdi, %rax
	mov %rsi, %rdi
	call *%rax
	movq $0, %gs:PERCPU_CATCH_ACTIVE
	xor %eax, %eax
	jmp 1f
trap_catch_resume:
	mov $1, %eax
1:	popfq
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
