/*
 * mm/pgmode.h - the paging mode chosen at boot: 4-level (48-bit virtual
 * addresses) or 5-level (CR4.LA57, 57-bit), and what follows from it.
 *
 * Theory:
 *
 * 1. One mode per machine, chosen once before any address space exists
 *    (the loader from CR4.LA57 / CPUID / RAM / cmdline, the kernel from
 *    BootInfo.paging_levels checked against CR4.LA57, a host test at its
 *    start) and never changed while tables exist.  Until pgmode_set the
 *    mode is 4-level, memboot's historical one.
 *
 * 2. The root table is the PML4 (4 levels) or the PML5 (5 levels); every
 *    walker starts at level pgmode_levels() and steps down to 1.  PS (a
 *    large page) is legal only at levels 3 (1 GiB) and 2 (2 MiB).
 *
 * 3. Root slots 256..511 are the kernel half in both modes.  What moves is
 *    the direct map: HHDM_BASE_4L (root slot 256 of a PML4, 64 TiB) or
 *    HHDM_BASE_5L (root slot 256 of a PML5, Limine's base, 4 PiB = the
 *    whole 52-bit physical space).  The kernel window, stack and image sit
 *    in the top 256 TiB, which under 5 levels is root slot 511's PML4, so
 *    their addresses are the same in both modes.  The user half stays
 *    [USER_BASE, USER_END) (47 bits, as Linux's default without a hint):
 *    under 5 levels the lower canonical half above USER_END is neither
 *    user nor kernel and nothing maps there.
 *
 * 4. Not locked: written once before any other CPU runs; read-only after.
 */
#ifndef MM_PGMODE_H
#define MM_PGMODE_H

#include <stdint.h>

#define PGMODE_LEVELS_4   4
#define PGMODE_LEVELS_5   5
#define PGMODE_VA_BITS_4  48   /* canonical: bits 63..47 equal */
#define PGMODE_VA_BITS_5  57   /* canonical: bits 63..56 equal */

/* The mode (read through the helpers below; written by pgmode_set). */
struct pgmode {
	unsigned levels;     /* 4 or 5 */
	unsigned va_bits;    /* 48 or 57 */
	uint64_t hhdm_base;  /* direct map: virtual = physical + hhdm_base */
	uint64_t hhdm_max;   /* bytes of physical space it may cover */
};

extern struct pgmode mm_pgmode;

/* Chooses the mode (theory 1).  Returns 0 (MM_OK), or MM_EINVAL for levels
 * other than 4 and 5 (the mode is then unchanged). */
int pgmode_set(unsigned levels);

/* Why pgmode_choose chose (the loader prints it). */
enum pgmode_why {
	PGMODE_WHY_FITS,      /* 4: the RAM fits the 4-level direct map */
	PGMODE_WHY_FIRMWARE,  /* 5: the firmware already runs LA57 */
	PGMODE_WHY_BIG,       /* 5: RAM beyond the 4-level direct map */
	PGMODE_WHY_ASKED,     /* 5: the command line asked (paging=5) */
	PGMODE_WHY_NO_LA57,   /* 4: 5 was asked or needed, the CPU has no LA57 */
};

/*
 * pgmode_choose - the loader's rule (theory 1): 5 levels if the firmware
 * runs them (fw_la57: CR4.LA57 at entry; leaving them needs a trip through
 * 32-bit code the loader does not make); else 5 if the CPU has LA57
 * (cpu_la57) and the RAM top (end of the highest direct-mapped byte) lies
 * beyond the 4-level direct map or asked is set; else 4.  *why gets the
 * reason.  Pure: sets no mode.
 */
unsigned pgmode_choose(int fw_la57, int cpu_la57, uint64_t ram_top, int asked,
		       enum pgmode_why *why);

/* The levels of the running mode: 4 or 5. */
static inline unsigned pgmode_levels(void)
{
	return mm_pgmode.levels;
}

/* Returns 1 if va is canonical in the running mode (bits 63..va_bits-1
 * all equal). */
static inline int pgmode_canonical(uint64_t va)
{
	unsigned sh = 64 - mm_pgmode.va_bits;
	return (uint64_t)((int64_t)(va << sh) >> sh) == va;
}

/* Returns the canonical form of va's low va_bits bits (sign-extended). */
static inline uint64_t pgmode_sign_extend(uint64_t va)
{
	unsigned sh = 64 - mm_pgmode.va_bits;
	return (uint64_t)((int64_t)(va << sh) >> sh);
}

/* Returns 1 if a PS bit at this level makes a leaf (theory 2). */
static inline int pgmode_ps_level(int level)
{
	return level == 2 || level == 3;
}

#endif
