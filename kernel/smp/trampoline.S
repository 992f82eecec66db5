/*
 * kernel/smp/trampoline.S - how an application processor gets from the
 * startup IPI to C.
 *
 * trampoline_start..trampoline_end is a blob (in .rodata: never run where
 * it is) that smp.c copies to the first page T of the loader's trampoline
 * pages below 1 MiB, then patches the parameters at the tramp_* labels.
 * A startup IPI with vector T >> 12 starts the AP in real mode at CS:IP =
 * (T >> 4):0.  Several APs may run it at once: it writes nothing.
 *   16-bit: DS = CS; EBX = T; LGDT of the blob's GDT; CR0.PE; far jump.
 *   32-bit: flat segments; CR4 |= tramp_cr4 (PAE, and LA57 when the BSP
 *           runs 5-level paging: LA57 can only change while paging is
 *           off, so it is set here, before CR0.PG); CR3 = the trampoline's
 *           root table (page T + 4 KiB, below 4 GiB: a PML4 or PML5 that
 *           identity-maps page T and shares the kernel's upper-half root
 *           entries); EFER = the BSP's (LME, NXE:
 *           the kernel's tables have NX bits); CR0 = the BSP's (PG, WP; it
 *           also clears the CD/NW that INIT left); far jump to 64-bit code.
 *   64-bit: jump to tramp_entry, smp_ap_entry64 in the kernel image.
 * smp_ap_entry64 (in .text) loads the kernel's CR3, finds this CPU's
 * number by its APIC ID from CPUID (the initial APIC ID: leaf 0xB in
 * x2APIC mode, leaf 1 otherwise; nothing here changes APIC IDs) in
 * smp_boot_apic[], takes smp_boot_stack[number] and calls smp_ap_main
 * (number).  A CPU not in the table, or without a stack, halts for good.
 */
#define TRAMP_SEL_CODE32 0x08
#define TRAMP_SEL_DATA   0x10
#define TRAMP_SEL_CODE64 0x18
#define CR0_PE           0x1
#define MSR_EFER         0xc0000080
#define CPUID_X2APIC_LEAF 0xb
#define OFF(sym)         ((sym) - trampoline_start)

	.section .rodata, "a"
	.balign 16
	.globl trampoline_start, trampoline_end
	.globl tramp_gdtr, tramp_pm32_ptr, tramp_lm64_ptr
	.globl tramp_cr3, tramp_cr4, tramp_efer, tramp_cr0, tramp_entry
	.code16
trampoline_start:
	cli
	cld
	mov %cs, %ax
	mov %ax, %ds
	movzwl %ax, %ebx
	shl $4, %ebx                    /* EBX = T */
	lgdtl OFF(tramp_gdtr)
	mov %cr0, %eax
	or $CR0_PE, %eax
	mov %eax, %cr0
	ljmpl *OFF(tramp_pm32_ptr)

	.code32
tramp_pm32:
	mov $TRAMP_SEL_DATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %ax, %fs
	mov %ax, %gs
	mov %cr4, %eax
	or OFF(tramp_cr4)(%ebx), %eax   /* PAE (| LA57): paging is still off */
	mov %eax, %cr4
	mov OFF(tramp_cr3)(%ebx), %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	mov OFF(tramp_efer)(%ebx), %eax
	mov OFF(tramp_efer) + 4(%ebx), %edx
	wrmsr
	mov OFF(tramp_cr0)(%ebx), %eax
	mov %eax, %cr0                  /* paging on: long mode (compatibility) */
	ljmpl *OFF(tramp_lm64_ptr)(%ebx)

	.code64
tramp_lm64:
	mov %ebx, %ebx                  /* upper half undefined after the switch */
	mov OFF(tramp_entry)(%rbx), %rax
	jmp *%rax

	.balign 16
tramp_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff        /* 0x08: 32-bit code, flat */
	.quad 0x00cf92000000ffff        /* 0x10: data, flat */
	.quad 0x00af9a000000ffff        /* 0x18: 64-bit code */
tramp_gdt_end:
	.balign 8
tramp_gdtr:                             /* base patched: T + OFF(tramp_gdt) */
	.word tramp_gdt_end - tramp_gdt - 1
	.long OFF(tramp_gdt)
	.balign 8
tramp_pm32_ptr:                         /* offset patched: T + OFF(tramp_pm32) */
	.long OFF(tramp_pm32)
	.word TRAMP_SEL_CODE32
	.balign 8
tramp_lm64_ptr:                         /* offset patched: T + OFF(tramp_lm64) */
	.long OFF(tramp_lm64)
	.word TRAMP_SEL_CODE64
	.balign 8
tramp_cr3:   .quad 0                    /* the trampoline root table (< 4 GiB) */
tramp_cr4:   .quad 0                    /* CR4 bits to set: PAE (| LA57) */
tramp_efer:  .quad 0                    /* the BSP's EFER (without LMA) */
tramp_cr0:   .quad 0                    /* the BSP's CR0 */
tramp_entry: .quad 0                    /* smp_ap_entry64 */
trampoline_end:

	.text
	.code64
	.globl smp_ap_entry64
smp_ap_entry64:
	mov smp_boot_cr3(%rip), %rax
	mov %rax, %cr3
	cmpl $0, smp_boot_x2apic(%rip)
	je 1f
	mov $CPUID_X2APIC_LEAF, %eax
	xor %ecx, %ecx
	cpuid
	mov %edx, %esi                  /* x2APIC ID */
	jmp 2f
1:	mov $1, %eax
	xor %ecx, %ecx
	cpuid
	shr $24, %ebx
	mov %ebx, %esi                  /* initial xAPIC ID */
2:	lea smp_boot_apic(%rip), %rdi
	xor %ecx, %ecx
3:	cmp smp_boot_count(%rip), %ecx
	jae 9f
	cmp (%rdi,%rcx,4), %esi
	je 4f
	inc %ecx
	jmp 3b
4:	lea smp_boot_stack(%rip), %rdi
	mov (%rdi,%rcx,8), %rax
	test %rax, %rax
	jz 9f
	mov %rax, %rsp
	xor %ebp, %ebp
	mov %ecx, %edi
	call smp_ap_main
9:	cli
	hlt
	jmp 9b
