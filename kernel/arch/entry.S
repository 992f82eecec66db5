/*
 * kernel/arch/entry.S - the kernel's first instructions.  The loader jumps here
 * with interrupts off, RSP = KSTACK_TOP (16-byte aligned), RDI = BootInfo in
 * the direct map.  The call keeps the SysV stack alignment for kmain.
 */
	.section .text.entry, "ax"
	.globl _start
_start:
	xor %ebp, %ebp
	call kmain
1:	cli
	hlt
	jmp 1b
