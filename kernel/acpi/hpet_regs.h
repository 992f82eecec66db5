/*
 * kernel/acpi/hpet_regs.h - the HPET's register block (IA-PC HPET spec
 * 1.0a, 2.3), for the ACPI demo and the TSC calibration.
 */
#ifndef KERNEL_ACPI_HPET_REGS_H
#define KERNEL_ACPI_HPET_REGS_H

#define HPET_MMIO_SIZE       0x400   /* the register block is 1 KiB */
#define HPET_CAP             0x000
#define HPET_CONFIG          0x010
#define HPET_COUNTER         0x0f0
#define HPET_CAP_REV(c)      ((unsigned)((c) & 0xff))
#define HPET_CAP_TIMERS(c)   ((unsigned)(((c) >> 8) & 0x1f) + 1)
#define HPET_CAP_64BIT       (1ull << 13)
#define HPET_CAP_VENDOR(c)   ((unsigned)(((c) >> 16) & 0xffff))
#define HPET_CAP_PERIOD(c)   ((uint32_t)((c) >> 32))   /* femtoseconds per tick */
#define HPET_CFG_ENABLE      (1ull << 0)
/* The spec's bound on the tick: 100 ns; a larger period is a broken table. */
#define HPET_MAX_PERIOD_FS   100000000u

#endif
