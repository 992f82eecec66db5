/*
 * kernel/smp/lapic_icr.c - the ICR encodings of kernel/smp/lapic.h, apart
 * from the register access so the host tests link them alone.
 */
#include "kernel/smp/lapic.h"

#define XAPIC_DEST_SHIFT  56   /* ICR high register bits 31:24 */
#define X2APIC_DEST_SHIFT 32
#define SIPI_PAGE_SHIFT   12

/* See lapic.h. */
uint64_t lapic_icr_value(int x2apic, uint32_t dest, uint32_t low)
{
	if (x2apic)
		return (uint64_t)dest << X2APIC_DEST_SHIFT | low;
	return (uint64_t)(dest & 0xff) << XAPIC_DEST_SHIFT | low;
}

/* See lapic.h. */
uint64_t lapic_icr_sipi(int x2apic, uint32_t dest, uint64_t pa)
{
	return lapic_icr_value(x2apic, dest, ICR_STARTUP | (uint32_t)((pa >> SIPI_PAGE_SHIFT) & 0xff));
}
