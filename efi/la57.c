/*
 * efi/la57.c - turning 5-level paging (CR4.LA57) on in a loader that the
 * firmware started under 4-level paging.
 *
 * CR4.LA57 can change only while paging is off, and paging can be turned
 * off only outside 64-bit mode (Intel SDM vol. 3, 4.1.1 and 9.8.5.4;
 * Linux's arch/x86/boot/compressed/head_64.S trampoline_32bit_src does the
 * same dance).  So la57_switch runs a small blob from a page below 4 GiB
 * that the firmware identity-maps:
 *   64-bit:  LGDT of the blob's GDT; far jump to its 32-bit code segment
 *            (compatibility mode, still paging);
 *   32-bit:  CR0.PG off (IA-32e mode ends; EFER.LME stays set); CR4.LA57
 *            on; CR3 = the blob's PML5 (below 4 GiB: a 32-bit MOV); CR0.PG
 *            on (IA-32e mode again, now 5-level); far jump to its 64-bit
 *            code segment;
 *   64-bit:  the caller's GDT back, CS by a far return on the caller's
 *            stack, SS/DS/ES back; return.
 * The blob's PML5 has one entry: slot 0 -> the firmware's PML4 (CR3 at
 * the call).  Everything below 256 TiB - all the firmware identity-maps,
 * the loader's code and stack, the firmware's data - translates exactly as
 * before, so the caller returns to C as if nothing happened, only with
 * CR4.LA57 set.  The stack is not touched while paging is off.
 *
 * Used twice: by the hand-off, after ExitBootServices, when the loader
 * built 5-level tables under 4-level firmware (then the kernel's CR3 is
 * loaded next), and by the test word test-la57-firmware right at the start
 * of the loader, to pose as newer firmware that hands over with LA57 on.
 * Interrupts must be off during the switch: la57_switch disables them and
 * restores the caller's IF.
 */
#include "efi/loader.h"
#include "lib/string.h"
#include "mm/x86_64.h"

/* Blob layout: the code at the start of page 0, its parameters at fixed
 * offsets from la57_blob (the labels below); page 1 is the PML5. */
#define LA57_PAGES      2
#define LA57_ROOT_PAGE  1
#define LA57_SEL_CODE32 0x08
#define LA57_SEL_DATA   0x10
#define LA57_SEL_CODE64 0x18
/* Descriptors (SDM vol. 3, 3.4.5): flat 32-bit code, flat data, 64-bit
 * code; accessed bits set so the CPU never writes them. */
#define LA57_GDT_CODE32 0x00cf9b000000ffffULL
#define LA57_GDT_DATA   0x00cf93000000ffffULL
#define LA57_GDT_CODE64 0x00af9b000000ffffULL
#define CR4_PCIDE       (1ULL << 17)  /* must be 0 to turn paging off */
/* The same control-register bits as mm/x86_64.h's, spelled for the
 * assembler (no ULL suffix): CR0.PG, its complement, CR4.LA57. */
#define ASM_CR0_PG      0x80000000
#define ASM_CR0_NOT_PG  0x7fffffff
#define ASM_CR4_LA57    0x1000
_Static_assert(ASM_CR0_PG == CR0_PG && ASM_CR0_NOT_PG == (~CR0_PG & 0xffffffffULL) &&
	       ASM_CR4_LA57 == CR4_LA57, "assembler spellings of CR0.PG / CR4.LA57");
#define XSTR(x) STR(x)
#define STR(x)  #x

/*
 * The blob.  Entered by CALL with RSI = its own address (below 4 GiB);
 * uses RAX, RCX, RDX; preserves RSI, RSP and the callee-saved registers
 * (saved around the 32-bit code); RDI and R8-R11 come back undefined.  Every address inside it is RSI plus
 * an offset, so it runs wherever it is copied.
 */
__asm__(
	".section .rdata, \"dr\"\n"
	".balign 16\n"
	".globl la57_blob, la57_blob_end, la57_gdtr, la57_pm32_ptr, la57_lm64_ptr\n"
	".globl la57_root32, la57_saved_gdtr, la57_saved_ss, la57_saved_cs, la57_gdt\n"
	"la57_blob:\n"
	/* The architecture keeps no 64-bit register whole across 32-bit code
	 * (SDM vol. 1, 3.4.1.1; Linux's trampoline_32bit_src saves the same):
	 * the callee-saved ones go on the stack, RSP into the blob. */
	"	push %rbx\n"
	"	push %rbp\n"
	"	push %r12\n"
	"	push %r13\n"
	"	push %r14\n"
	"	push %r15\n"
	"	mov %rsp, (la57_saved_rsp - la57_blob)(%rsi)\n"
	"	sgdt (la57_saved_gdtr - la57_blob)(%rsi)\n"
	"	mov %cs, %ax\n"
	"	mov %ax, (la57_saved_cs - la57_blob)(%rsi)\n"
	"	mov %ss, %ax\n"
	"	mov %ax, (la57_saved_ss - la57_blob)(%rsi)\n"
	"	lgdt (la57_gdtr - la57_blob)(%rsi)\n"
	"	ljmpl *(la57_pm32_ptr - la57_blob)(%rsi)\n"
	".code32\n"
	"la57_pm32:\n"
	"	mov $" XSTR(LA57_SEL_DATA) ", %eax\n"
	"	mov %eax, %ds\n"
	"	mov %eax, %es\n"
	"	mov %eax, %ss\n"
	"	mov %cr0, %eax\n"
	"	and $" XSTR(ASM_CR0_NOT_PG) ", %eax\n"  /* CR0.PG off: IA-32e mode ends */
	"	mov %eax, %cr0\n"
	"	mov %cr4, %eax\n"
	"	or $" XSTR(ASM_CR4_LA57) ", %eax\n"     /* CR4.LA57 */
	"	mov %eax, %cr4\n"
	"	mov (la57_root32 - la57_blob)(%esi), %eax\n"
	"	mov %eax, %cr3\n"
	"	mov %cr0, %eax\n"
	"	or $" XSTR(ASM_CR0_PG) ", %eax\n"       /* CR0.PG on: IA-32e, 5 levels */
	"	mov %eax, %cr0\n"
	"	ljmpl *(la57_lm64_ptr - la57_blob)(%esi)\n"
	".code64\n"
	"la57_lm64:\n"
	"	mov %esi, %esi\n"                 /* upper half undefined */
	"	mov (la57_saved_rsp - la57_blob)(%rsi), %rsp\n"
	"	lgdt (la57_saved_gdtr - la57_blob)(%rsi)\n"
	"	movzwl (la57_saved_ss - la57_blob)(%rsi), %eax\n"
	"	mov %eax, %ss\n"
	"	mov %eax, %ds\n"
	"	mov %eax, %es\n"
	"	movzwl (la57_saved_cs - la57_blob)(%rsi), %eax\n"
	"	push %rax\n"
	"	lea (la57_back - la57_blob)(%rsi), %rax\n"
	"	push %rax\n"
	"	lretq\n"
	"la57_back:\n"
	"	pop %r15\n"
	"	pop %r14\n"
	"	pop %r13\n"
	"	pop %r12\n"
	"	pop %rbp\n"
	"	pop %rbx\n"
	"	ret\n"
	".balign 8\n"
	"la57_gdt:\n"
	"	.quad 0, 0, 0, 0\n"               /* patched: null, code32, data, code64 */
	"la57_gdtr:\n"
	"	.word 31\n"
	"	.quad 0\n"                        /* patched: the copy's la57_gdt */
	".balign 8\n"
	"la57_pm32_ptr:\n"
	"	.long 0\n"                        /* patched: the copy's la57_pm32 */
	"	.word " XSTR(LA57_SEL_CODE32) "\n"
	".balign 8\n"
	"la57_lm64_ptr:\n"
	"	.long 0\n"                        /* patched: the copy's la57_lm64 */
	"	.word " XSTR(LA57_SEL_CODE64) "\n"
	".balign 8\n"
	"la57_root32:\n"
	"	.long 0, 0\n"                     /* patched: the PML5, below 4 GiB */
	"la57_saved_rsp:\n"
	"	.quad 0\n"
	"la57_saved_gdtr:\n"
	"	.word 0\n"
	"	.quad 0\n"
	"la57_saved_cs:\n"
	"	.word 0\n"
	"la57_saved_ss:\n"
	"	.word 0\n"
	"la57_blob_end:\n"
	".globl la57_pm32_off, la57_lm64_off\n"
	".balign 4\n"
	"la57_pm32_off: .long la57_pm32 - la57_blob\n"
	"la57_lm64_off: .long la57_lm64 - la57_blob\n"
	".text\n");

extern const char la57_blob[], la57_blob_end[], la57_gdt[], la57_gdtr[];
extern const char la57_pm32_ptr[], la57_lm64_ptr[], la57_root32[];
extern const uint32_t la57_pm32_off, la57_lm64_off;

/* The prepared copy (la57_prepare): its address, 0 before. */
static uint64_t la57_copy;

/* See loader.h. */
int la57_cpu_has(void)
{
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0));
	if (a < CPUID_EXT_FEATURES7)
		return 0;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
			 : "a"(CPUID_EXT_FEATURES7), "c"(0));
	return (c & CPUID_7_ECX_LA57) != 0;
}

/* See loader.h. */
int la57_active(void)
{
	uint64_t cr4;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	return (cr4 & CR4_LA57) != 0;
}

/* Returns the blob copy's address of the blob symbol sym. */
static uint8_t *at(uint64_t base, const char *sym)
{
	return (uint8_t *)(uintptr_t)(base + (uint64_t)(sym - la57_blob));
}

/* See loader.h. */
EFI_STATUS la57_prepare(void)
{
	EFI_PHYSICAL_ADDRESS a = 0xffffffffULL;   /* below 4 GiB: CR3 from 32-bit code */
	uint64_t size = (uint64_t)(la57_blob_end - la57_blob);
	if (la57_copy)
		return EFI_SUCCESS;
	if (size > PAGE_SIZE)
		return lfail(EFI_LOAD_ERROR, "la57: the switch blob is %llu bytes, more than a page",
			     (unsigned long long)size);
	/* Loader code, not data: the blob runs on the firmware's page tables,
	 * and firmware with an NX policy for data types (edk2's
	 * PcdDxeNxMemoryProtectionPolicy) maps EfiLoaderData no-execute. */
	EFI_STATUS st = efi_bs->AllocatePages(AllocateMaxAddress, EfiLoaderCode, LA57_PAGES, &a);
	if (EFI_ERROR(st))
		return lfail(st, "la57: no 2 pages below 4 GiB for the 5-level switch");
	efi_bs->SetMem((void *)(uintptr_t)a, LA57_PAGES * PAGE_SIZE, 0);
	memcpy((void *)(uintptr_t)a, la57_blob, size);
	uint64_t *gdt = (uint64_t *)at(a, la57_gdt);
	gdt[LA57_SEL_CODE32 / 8] = LA57_GDT_CODE32;
	gdt[LA57_SEL_DATA / 8] = LA57_GDT_DATA;
	gdt[LA57_SEL_CODE64 / 8] = LA57_GDT_CODE64;
	uint64_t gdt_pa = (uint64_t)(uintptr_t)gdt;
	memcpy(at(a, la57_gdtr) + 2, &gdt_pa, sizeof(gdt_pa));
	uint32_t pm32 = (uint32_t)a + la57_pm32_off, lm64 = (uint32_t)a + la57_lm64_off;
	memcpy(at(a, la57_pm32_ptr), &pm32, sizeof(pm32));
	memcpy(at(a, la57_lm64_ptr), &lm64, sizeof(lm64));
	uint32_t root = (uint32_t)(a + LA57_ROOT_PAGE * PAGE_SIZE);
	memcpy(at(a, la57_root32), &root, sizeof(root));
	la57_copy = a;
	return EFI_SUCCESS;
}

/* See loader.h. */
int la57_switch(void)
{
	uint64_t cr3, cr4, flags;
	if (la57_active())
		return 0;
	if (!la57_copy)
		return -1;
	__asm__ volatile("pushfq; pop %0; cli" : "=r"(flags) : : "memory");
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	if (cr4 & CR4_PCIDE)   /* CR0.PG cannot be cleared with PCIDE set */
		__asm__ volatile("mov %0, %%cr4" : : "r"(cr4 & ~CR4_PCIDE) : "memory");
	/* The PML5: slot 0 is the firmware's PML4 (the whole of what it
	 * maps), with the permissions the firmware gave below it. */
	uint64_t *pml5 = (uint64_t *)(uintptr_t)(la57_copy + LA57_ROOT_PAGE * PAGE_SIZE);
	pml5[0] = (cr3 & PTE_ADDR) | PTE_P | PTE_W;
	__asm__ volatile("call *%0"
			 : : "r"(la57_copy), "S"(la57_copy)
			 : "rax", "rcx", "rdx", "rdi", "r8", "r9", "r10", "r11", "memory", "cc");
	if (flags & RFLAGS_IF)
		__asm__ volatile("sti");
	return la57_active() ? 0 : -1;
}
