/*
 * kernel/efirt/call_stub.S - the switch from the kernel's SysV ABI to the
 * UEFI (Microsoft x64) calling convention on the runtime call stack.
 *
 * uint64_t efirt_call4(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3,
 *                      uint64_t a4, uint64_t stack_top)
 * Calls fn(a1, a2, a3, a4) with the arguments in RCX, RDX, R8, R9, on the
 * stack ending at stack_top (rounded down to 16 bytes), with the 32-byte
 * home area the convention wants below the return address and RSP 16-byte
 * aligned at the call; DF clear.  Returns fn's RAX (an EFI_STATUS).
 * The callee keeps RBX, RBP, RDI, RSI, RSP, R12-R15 (a superset of what
 * SysV asks of us); RBP holds the kernel stack pointer across the call.
 * A fault inside fn is resumed by trap_catch on the kernel stack, so this
 * function then never returns and nothing is left on the kernel stack.
 */
	.text
	.globl efirt_call4
efirt_call4:
	pushq %rbp
	movq %rsp, %rbp
	movq %rdi, %rax         /* fn */
	movq %rcx, %r10         /* a3, before RCX takes a1 */
	movq %rsi, %rcx         /* a1 */
				/* a2 is in RDX already */
	movq %r9, %r11          /* stack top, before R9 takes a4 */
	movq %r8, %r9           /* a4 */
	movq %r10, %r8          /* a3 */
	andq $-16, %r11
	leaq -32(%r11), %rsp    /* home area for the four register arguments */
	cld
	call *%rax
	movq %rbp, %rsp
	popq %rbp
	ret
