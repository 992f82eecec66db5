/*
 * kernel/smp/lapic.c - local APIC access (kernel/smp/lapic.h).
 */
#include "kernel/arch/io.h"
#include "kernel/arch/trap.h"
#include "kernel/console/console.h"
#include "kernel/smp/lapic.h"
#include "mm/paging.h"
#include "mm/platform.h"
#include "mm/status.h"

/* 8259 PIC data ports (interrupt mask registers). */
#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1
#define PIC_MASK_ALL 0xff
/* Bound on polling the xAPIC's send-pending bit (~1 ms of PAUSEs). */
#define ICR_SPIN 1000000

static int x2apic;
static uint64_t base_pa;
static volatile uint8_t *regs;   /* xAPIC register page, uncached */

/* Reads APIC register off (xAPIC offset; the MSR in x2APIC mode). */
static uint32_t rd(unsigned off)
{
	if (x2apic)
		return (uint32_t)rdmsr(X2APIC_MSR(off));
	return *(volatile uint32_t *)(regs + off);
}

/* Writes APIC register off (xAPIC offset; the MSR in x2APIC mode). */
static void wr(unsigned off, uint32_t v)
{
	if (x2apic)
		wrmsr(X2APIC_MSR(off), v);
	else
		*(volatile uint32_t *)(regs + off) = v;
}

/* Puts this CPU's APIC in the chosen mode (x2APIC needs EN first, then
 * EN|EXTD) and enables it with the spurious vector. */
static void enable_here(void)
{
	uint64_t b = rdmsr(MSR_IA32_APIC_BASE);
	if (!(b & APIC_BASE_EN))
		wrmsr(MSR_IA32_APIC_BASE, b |= APIC_BASE_EN);
	if (x2apic && !(b & APIC_BASE_EXTD))
		wrmsr(MSR_IA32_APIC_BASE, b | APIC_BASE_EXTD);
	wr(LAPIC_SVR, LAPIC_SVR_ENABLE | T_SPURIOUS);
}

/* See lapic.h. */
int lapic_init_bsp(void)
{
	uint32_t r[4];
	cpuid_regs(1, r);
	x2apic = (r[2] & CPUID_1_ECX_X2APIC) != 0;
	base_pa = rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_ADDR;
	if (!x2apic) {
		uint64_t va;
		int s = mem_map_addr(addrspace_kernel(), base_pa, LAPIC_PAGE,
				     MAPF_WRITE | MAPF_NOEXEC | MAPF_UNCACHED, &va);
		if (s != MM_OK) {
			kprintf("smp: cannot map the local APIC at 0x%lx: %s\n", base_pa,
				mm_status_str(s));
			return -1;
		}
		regs = (volatile uint8_t *)(uintptr_t)va;
	}
	/* Nothing may arrive through the 8259s: they share vectors with the
	 * exceptions until reprogrammed, and nothing here uses them. */
	outb(PIC1_DATA, PIC_MASK_ALL);
	outb(PIC2_DATA, PIC_MASK_ALL);
	enable_here();
	return 0;
}

/* See lapic.h. */
void lapic_init_ap(void)
{
	enable_here();
}

/* See lapic.h. */
int lapic_x2apic(void)
{
	return x2apic;
}

/* See lapic.h. */
uint64_t lapic_base_pa(void)
{
	return base_pa;
}

/* See lapic.h. */
uint32_t lapic_id(void)
{
	uint32_t id = rd(LAPIC_ID);
	return x2apic ? id : id >> 24;
}

/* See lapic.h. */
void lapic_eoi(void)
{
	wr(LAPIC_EOI, 0);
}

/* Writes the ICR value v: one MSR write in x2APIC mode; high then low
 * register in xAPIC mode (the low write sends), then waits for the
 * send-pending bit to clear. */
static void icr_write(uint64_t v)
{
	if (x2apic) {
		wrmsr(X2APIC_MSR(LAPIC_ICR_LO), v);
		return;
	}
	uint64_t irq = mm_irq_save();
	wr(LAPIC_ICR_HI, (uint32_t)(v >> 32));
	wr(LAPIC_ICR_LO, (uint32_t)v);
	for (int i = 0; i < ICR_SPIN && (rd(LAPIC_ICR_LO) & ICR_DELIVS); i++)
		mm_cpu_relax();
	mm_irq_restore(irq);
}

/* See lapic.h. */
void lapic_send(uint32_t dest, uint32_t low)
{
	icr_write(lapic_icr_value(x2apic, dest, low));
}

/* See lapic.h. */
void lapic_send_sipi(uint32_t dest, uint64_t pa)
{
	icr_write(lapic_icr_sipi(x2apic, dest, pa));
}
