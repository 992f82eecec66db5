/*
 * mm/x86_64.h - x86_64 paging facts: page sizes, PTE bits, index macros.
 * Header-only, no code; usable from the loader, the kernel and the host.
 */
#ifndef MM_X86_64_H
#define MM_X86_64_H

#include <stdint.h>

#define PAGE_SHIFT   12
#define PAGE_SIZE    (1ULL << PAGE_SHIFT)          /* 4 KiB */
#define PAGE_MASK    (PAGE_SIZE - 1)
#define LARGE_SIZE   (1ULL << 21)                  /* 2 MiB (PD-level page) */
#define HUGE_SIZE    (1ULL << 30)                  /* 1 GiB (PDPT-level page) */
#define PT_ENTRIES   512                           /* entries per table */

/* Page-table entry bits (Intel SDM vol. 3, 4.5). */
#define PTE_P        (1ULL << 0)   /* present */
#define PTE_W        (1ULL << 1)   /* writable */
#define PTE_U        (1ULL << 2)   /* user accessible */
#define PTE_PWT      (1ULL << 3)   /* write-through */
#define PTE_PCD      (1ULL << 4)   /* cache disable */
#define PTE_A        (1ULL << 5)   /* accessed */
#define PTE_D        (1ULL << 6)   /* dirty */
#define PTE_PS       (1ULL << 7)   /* large page (PD / PDPT level) */
#define PTE_PAT      (1ULL << 7)   /* 4 KiB PTE only: PAT index bit 2 */
#define PTE_G        (1ULL << 8)   /* global */
#define PTE_NX       (1ULL << 63)  /* no execute (needs EFER.NXE) */
/*
 * Page attribute table (SDM vol. 3, 12.12): a 4 KiB leaf's memory type is
 * entry PAT*4 + PCD*2 + PWT of the IA32_PAT MSR, one byte per entry.  The
 * power-on value is WB, WT, UC-, UC, WB, WT, UC-, UC.  memboot keeps that
 * and turns entry 7 (PAT|PCD|PWT) into WC: entries 0-3, which loaders and
 * firmware use without knowing of the PAT, keep their meaning, and a CPU
 * whose PAT still holds the power-on value sees entry 7 as UC - slow but
 * correct for a device - never as cached WB (what entry 4 would give).
 */
#define MSR_IA32_PAT     0x277
#define PAT_MT_UC        0x00ULL   /* memory types (SDM table 12-10) */
#define PAT_MT_WC        0x01ULL
#define PAT_MT_WT        0x04ULL
#define PAT_MT_WB        0x06ULL
#define PAT_MT_UCMINUS   0x07ULL
#define PAT_POWER_ON     0x0007040600070406ULL   /* WB WT UC- UC WB WT UC- UC */
#define PAT_WC_INDEX     7
#define PAT_MEMBOOT      ((PAT_POWER_ON & ~(0xffULL << (8 * PAT_WC_INDEX))) | \
			  (PAT_MT_WC << (8 * PAT_WC_INDEX)))
/* Bits 9-11 are ignored by the MMU and free for software (SDM 4.5).
 * memboot marks a 4 KiB leaf whose frame belongs to the mapping itself
 * (mem_map_pages_at, kalloc): only a free that returns frames may remove it. */
#define PTE_OWNED    (1ULL << 9)
#define PTE_ADDR     0x000ffffffffff000ULL         /* frame address bits 51:12 */

/* Index of va in the table at each level: 5 = PML5, 4 = PML4 ... 1 = PT. */
#define PX_SHIFT(level)  (PAGE_SHIFT + 9 * ((level) - 1))
#define PX(level, va)    ((unsigned)(((uint64_t)(va) >> PX_SHIFT(level)) & 0x1ff))

#define PAGE_ROUND_UP(x)   (((uint64_t)(x) + PAGE_MASK) & ~PAGE_MASK)
#define PAGE_ROUND_DOWN(x) ((uint64_t)(x) & ~PAGE_MASK)

/* Sign-extend bit 47: is va canonical under 4-level paging?  (The mode
 * chosen at boot: pgmode_canonical, mm/pgmode.h.) */
#define VA_CANONICAL(va) ((uint64_t)((int64_t)((uint64_t)(va) << 16) >> 16) == (uint64_t)(va))

/* CPUID leaves and feature bits tested (Intel SDM vol. 2A, CPUID). */
#define CPUID_EXT_MAX         0x80000000u   /* eax: highest extended leaf */
#define CPUID_EXT_FEATURES    0x80000001u
#define CPUID_EXT_EDX_PAGE1GB (1u << 26)    /* 1 GiB pages (PDPT-level PS) */

/* CPUID leaf 7 subleaf 0: ECX bit 16 = LA57 (5-level paging). */
#define CPUID_EXT_FEATURES7   0x7u
#define CPUID_7_ECX_LA57      (1u << 16)

/* Control-register and MSR bits the loader and kernel set. */
#define CR0_PG       (1ULL << 31)
#define CR0_WP       (1ULL << 16)
#define CR4_PAE      (1ULL << 5)
#define CR4_PGE      (1ULL << 7)
#define CR4_LA57     (1ULL << 12) /* 5-level paging (only with paging off) */
#define RFLAGS_IF    (1ULL << 9)  /* maskable interrupts enabled */
#define RFLAGS_DF    (1ULL << 10) /* string instructions count down */
#define MSR_EFER     0xc0000080
#define EFER_NXE     (1ULL << 11)

#endif
