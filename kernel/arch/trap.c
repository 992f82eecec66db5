/*
 * kernel/arch/trap.c - GDT, TSS and IDT, and what happens on a CPU exception.
 *
 * The boot CPU runs with interrupts off; the 32 exception vectors and the
 * three interrupt vectors of kernel/smp (two IPIs, the spurious vector)
 * have handlers.  #DF, #PF, NMI and #MC run on their own IST stacks, so a
 * kernel-stack overflow (a #PF on the guard page with no usable stack) is
 * still reported instead of ending in a triple fault.  Every CPU has its
 * own GDT, TSS and IST stacks (struct trap_cpu); the IDT is shared.
 */
#include <stdint.h>
#include "kernel/console/console.h"
#include "kernel/arch/io.h"
#include "kernel/arch/trap.h"
#include "kernel/smp/percpu.h"
#include "mm/x86_64.h"

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_TSS   0x18

/* Descriptors (Intel SDM vol. 3, 3.4.5): flat 4 GiB limit, present, DPL 0;
 * code is long mode (L) and readable, data writable. */
#define GDT_KCODE64  0x00af9a000000ffffULL
#define GDT_KDATA    0x00cf92000000ffffULL
#define GDT_TSS_TYPE 0x89ULL    /* present, 64-bit TSS (available) */
#define IDT_INTGATE  0x8e       /* present, DPL 0, 64-bit interrupt gate */


struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;       /* IDT_INTGATE */
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t reserved;
};
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate layout");

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

_Static_assert(SEL_TSS / 8 + 2 == TRAP_GDT_ENTRIES, "GDT size");

static struct trap_cpu bsp_tables;
static struct idt_gate idt[T_VECTORS];
static uint8_t ist_stacks[IST_COUNT][IST_SIZE] __attribute__((aligned(16)));

extern const uint64_t trap_stub_table[T_EXCEPTIONS];
extern const uint64_t trap_irq_stub_table[3];
extern char trap_catch_resume[];

/* The interrupt vectors with a stub, in trap_irq_stub_table's order. */
static const unsigned irq_vectors[3] = { T_IPI_SHOOTDOWN, T_IPI_CALL, T_SPURIOUS };
/* Their handlers (trap_set_irq); written before the vector can fire. */
static void (*irq_handlers[T_VECTORS])(void);

static const char *const vector_names[T_EXCEPTIONS] = {
	"divide error", "debug", "NMI", "breakpoint", "overflow", "bound range",
	"invalid opcode", "device not available", "double fault",
	"coprocessor segment overrun", "invalid TSS", "segment not present",
	"stack-segment fault", "general protection", "page fault", "reserved",
	"x87 FP error", "alignment check", "machine check", "SIMD FP error",
	"virtualization", "control protection", "reserved", "reserved", "reserved",
	"reserved", "reserved", "reserved", "hypervisor injection",
	"VMM communication", "security", "reserved",
};

/* Fills tc: TSS with the IST stacks at ist_top[], GDT with it. */
static void tables_fill(struct trap_cpu *tc, const uint64_t ist_top[IST_COUNT])
{
	for (int i = 0; i < IST_COUNT; i++)
		tc->tss.ist[i] = ist_top[i];
	tc->tss.iomap_base = sizeof(tc->tss);

	uint64_t base = (uint64_t)(uintptr_t)&tc->tss, limit = sizeof(tc->tss) - 1;
	tc->gdt[0] = 0;
	tc->gdt[SEL_KCODE / 8] = GDT_KCODE64;
	tc->gdt[SEL_KDATA / 8] = GDT_KDATA;
	/* A 64-bit TSS descriptor takes two slots: limit, base 23:0, type,
	 * limit 19:16, base 31:24 in the first; base 63:32 in the second. */
	tc->gdt[SEL_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (GDT_TSS_TYPE << 40) |
			       ((limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
	tc->gdt[SEL_TSS / 8 + 1] = base >> 32;
}

/* Sets IDT gate v to the stub at off, on IST slot ist (0: none). */
static void gate_set(unsigned v, uint64_t off, uint8_t ist)
{
	idt[v] = (struct idt_gate){
		.off_lo = off & 0xffff, .sel = SEL_KCODE, .ist = ist,
		.type = IDT_INTGATE, .off_mid = (off >> 16) & 0xffff, .off_hi = off >> 32,
	};
}

/* Loads tc's GDT and TSS and the shared IDT on this CPU; the GS base (this
 * CPU's per-CPU block) survives the null selector load into GS. */
static void tables_load(struct trap_cpu *tc)
{
	uint64_t gs_base = rdmsr(MSR_GS_BASE);
	struct desc_ptr gp = { sizeof(tc->gdt) - 1, (uint64_t)(uintptr_t)tc->gdt };
	struct desc_ptr ip = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
	__asm__ volatile(
		"lgdt %0\n\t"
		"mov %2, %%ax\n\t"
		"mov %%ax, %%ds\n\t"
		"mov %%ax, %%es\n\t"
		"mov %%ax, %%ss\n\t"
		"xor %%eax, %%eax\n\t"
		"mov %%ax, %%fs\n\t"
		"mov %%ax, %%gs\n\t"
		"pushq %1\n\t"
		"lea 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"ltr %w3\n\t"
		"lidt %4\n\t"
		: : "m"(gp), "i"(SEL_KCODE), "i"(SEL_KDATA), "r"(SEL_TSS), "m"(ip)
		: "rax", "memory");
	wrmsr(MSR_GS_BASE, gs_base);
}

/* See trap.h. */
void trap_init(void)
{
	uint64_t ist_top[IST_COUNT];
	for (int i = 0; i < IST_COUNT; i++)
		ist_top[i] = (uint64_t)(uintptr_t)&ist_stacks[i][IST_SIZE];
	tables_fill(&bsp_tables, ist_top);
	for (unsigned v = 0; v < T_EXCEPTIONS; v++)
		gate_set(v, trap_stub_table[v], v == T_DF ? IST_DF : v == T_PF ? IST_PF :
			 (v == T_NMI || v == T_MC) ? IST_NMI : 0);
	for (unsigned i = 0; i < sizeof(irq_vectors) / sizeof(irq_vectors[0]); i++)
		gate_set(irq_vectors[i], trap_irq_stub_table[i], 0);
	tables_load(&bsp_tables);
}

/* See trap.h. */
void trap_init_cpu(struct trap_cpu *tc, const uint64_t ist_top[IST_COUNT])
{
	tables_fill(tc, ist_top);
	tables_load(tc);
}

/* See trap.h. */
void trap_set_irq(unsigned v, void (*fn)(void))
{
	for (unsigned i = 0; i < sizeof(irq_vectors) / sizeof(irq_vectors[0]); i++)
		if (irq_vectors[i] == v) {
			irq_handlers[v] = fn;
			return;
		}
	panic("trap_set_irq: vector %u has no stub", v);
}

/* Prints everything known about an unexpected exception. */
static void trap_dump(const struct trap_frame *f, uint64_t cr2)
{
	kprintf("trap: vector %lu (%s) error 0x%lx\n", f->vector,
		f->vector < T_EXCEPTIONS ? vector_names[f->vector] : "?", f->error);
	kprintf("trap: rip %016lx cs %04lx rflags %016lx rsp %016lx ss %04lx\n",
		f->rip, f->cs, f->rflags, f->rsp, f->ss);
	kprintf("trap: cr2 %016lx cr3 %016lx cpu %u\n", cr2, read_cr3(), this_cpu()->cpu);
	if (f->vector == T_PF)
		kprintf("trap: page fault: %s, %s, %s%s\n",
			f->error & PF_ERR_P ? "protection violation" : "page not present",
			f->error & PF_ERR_W ? "write" : "read",
			f->error & PF_ERR_U ? "user" : "kernel",
			f->error & PF_ERR_I ? ", instruction fetch" : "");
	kprintf("trap: rax %016lx rbx %016lx rcx %016lx rdx %016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
	kprintf("trap: rsi %016lx rdi %016lx rbp %016lx r8  %016lx\n", f->rsi, f->rdi, f->rbp, f->r8);
	kprintf("trap: r9  %016lx r10 %016lx r11 %016lx r12 %016lx\n", f->r9, f->r10, f->r11, f->r12);
	kprintf("trap: r13 %016lx r14 %016lx r15 %016lx\n", f->r13, f->r14, f->r15);
}

/* Called by trap_common for every exception. */
void trap_handler(struct trap_frame *f);
void trap_handler(struct trap_frame *f)
{
	uint64_t cr2 = read_cr2();
	struct percpu *pc = this_cpu();

	if (f->vector >= T_EXCEPTIONS && irq_handlers[f->vector]) {
		irq_handlers[f->vector]();
		return;
	}
	if (pc->catch_active && f->vector < T_EXCEPTIONS && f->vector != T_NMI &&
	    f->vector != T_MC) {
		pc->catch_active = 0;
		*pc->catch_out = (struct trap_caught){ f->vector, f->error, f->rip, cr2 };
		f->rip = (uint64_t)(uintptr_t)trap_catch_resume;
		f->rflags &= ~RFLAGS_IF;  /* off until trap_catch restores the caller's flags */
		f->rsp = pc->catch_rsp;
		f->cs = SEL_KCODE;
		f->ss = SEL_KDATA;
		return;
	}
	trap_dump(f, cr2);
	panic("unexpected exception %lu (%s) at rip %016lx", f->vector,
	      f->vector < T_EXCEPTIONS ? vector_names[f->vector] : "?", f->rip);
}
