/*
 * kernel/smp/lapic.h - the local APIC, in xAPIC (MMIO) or x2APIC (MSR) mode:
 * ID, enable (spurious-interrupt vector register), EOI, inter-processor
 * interrupts through the ICR.  Register facts: Intel SDM vol. 3, chapter 11
 * (xAPIC offsets; x2APIC MSR = 0x800 + offset / 16).
 *
 * Mode: x2APIC when CPUID.1:ECX.x2APIC says the CPU has it (every CPU is
 * switched to it, the BSP first); otherwise xAPIC through an uncached
 * mapping of the register page (mem_map_addr, MAPF_UNCACHED).  QEMU 7.2's
 * TCG offers no x2APIC: there xAPIC is what runs, and the x2APIC encoding
 * is host-tested (tests/host/test_lapic.c through lapic_icr_*).
 */
#ifndef KERNEL_SMP_LAPIC_H
#define KERNEL_SMP_LAPIC_H

#include <stdint.h>

/* xAPIC register offsets in the 4 KiB page. */
#define LAPIC_ID       0x020   /* xAPIC: ID in bits 31:24 */
#define LAPIC_EOI      0x0b0
#define LAPIC_SVR      0x0f0   /* spurious-interrupt vector register */
#define LAPIC_ESR      0x280   /* error status */
#define LAPIC_ICR_LO   0x300
#define LAPIC_ICR_HI   0x310   /* xAPIC: destination in bits 31:24 */
#define LAPIC_PAGE     0x1000

#define LAPIC_SVR_ENABLE    (1u << 8)
#define APIC_BASE_BSP       (1ull << 8)    /* IA32_APIC_BASE: this is the BSP */
#define APIC_BASE_EXTD      (1ull << 10)   /* x2APIC mode */
#define APIC_BASE_EN        (1ull << 11)   /* APIC globally enabled */
#define APIC_BASE_ADDR      0x000ffffffffff000ull
#define CPUID_1_ECX_X2APIC  (1u << 21)
#define X2APIC_MSR(off)     (0x800u + ((off) >> 4))

/* ICR bits (low word). */
#define ICR_FIXED           0x000u
#define ICR_INIT            0x500u
#define ICR_STARTUP         0x600u
#define ICR_DELIVS          (1u << 12)  /* xAPIC: send pending */
#define ICR_ASSERT          (1u << 14)
#define ICR_LEVEL           (1u << 15)
#define XAPIC_MAX_ID        254u        /* 255 is the broadcast ID */

/* The 64-bit ICR value that sends low (vector | delivery mode | level) to
 * APIC dest: x2APIC puts dest in bits 63:32; xAPIC in bits 63:56 (the
 * high register's bits 31:24).  Pure: host-tested. */
uint64_t lapic_icr_value(int x2apic, uint32_t dest, uint32_t low);

/* The ICR value of a startup IPI to dest for a trampoline at page-aligned
 * physical address pa < 1 MiB (vector = pa >> 12). */
uint64_t lapic_icr_sipi(int x2apic, uint32_t dest, uint64_t pa);

/* Sets the BSP's APIC up: x2APIC if the CPU has it, else xAPIC through an
 * uncached mapping of the base IA32_APIC_BASE names; masks both 8259 PICs;
 * enables the APIC with the spurious vector.  Returns 0, or -1 (printed
 * why) if the APIC cannot be used. */
int lapic_init_bsp(void);

/* The same mode, enable and spurious vector on an AP (after lapic_init_bsp). */
void lapic_init_ap(void);

/* 1 if the APICs run in x2APIC mode. */
int lapic_x2apic(void);

/* Physical base of the register page (xAPIC) as IA32_APIC_BASE says. */
uint64_t lapic_base_pa(void);

/* This CPU's APIC ID. */
uint32_t lapic_id(void);

/* Signals the end of an interrupt. */
void lapic_eoi(void);

/* Sends the IPI low (vector | mode | level bits) to APIC dest and waits
 * (bounded) until an xAPIC has taken it from the ICR.  Interrupts are off
 * around the two register writes of xAPIC mode. */
void lapic_send(uint32_t dest, uint32_t low);

/* Sends a startup IPI for the trampoline at pa to dest. */
void lapic_send_sipi(uint32_t dest, uint64_t pa);

#endif
