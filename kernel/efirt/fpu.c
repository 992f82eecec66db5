/*
 * kernel/efirt/fpu.c - FPU/SSE state around runtime calls (fpu.h).
 */
#include <stdint.h>
#include "kernel/arch/io.h"
#include "kernel/efirt/fpu.h"

#define CR0_EM         (1ULL << 2)
#define CR0_TS         (1ULL << 3)
#define CR4_OSFXSR     (1ULL << 9)
#define CR4_OSXMMEXCPT (1ULL << 10)
#define CR4_OSXSAVE    (1ULL << 18)

/* CPUID leaf 0xD sub-leaf 0: EBX = XSAVE area size for the features XCR0
 * enables now. */
#define CPUID_XSAVE_LEAF 0xd

/* The save area: FXSAVE needs 512 bytes aligned to 16, XSAVE the size
 * CPUID reports (about 2.7 KiB with AVX-512) aligned to 64. */
#define FPU_AREA_SIZE 8192
static uint8_t fpu_area[FPU_AREA_SIZE] __attribute__((aligned(64)));
static int use_xsave;

/* The x87 control word and MXCSR the UEFI calling convention promises the
 * callee (UEFI 2.10 2.3.4.1). */
static const uint16_t efi_fcw = 0x037f;
static const uint32_t efi_mxcsr = 0x1f80;

/* See fpu.h. */
const char *efirt_fpu_check(void)
{
	uint64_t cr0 = read_cr0(), cr4 = read_cr4();
	if (cr0 & CR0_EM)
		return "CR0.EM is set (no x87/SSE for the firmware)";
	if (cr0 & CR0_TS)
		return "CR0.TS is set (the firmware's first SSE instruction would fault)";
	if (!(cr4 & CR4_OSFXSR) || !(cr4 & CR4_OSXMMEXCPT))
		return "CR4.OSFXSR or CR4.OSXMMEXCPT is clear (SSE instructions would fault)";
	use_xsave = 0;
	if (cr4 & CR4_OSXSAVE) {
		uint32_t r[4];
		cpuid_regs(CPUID_XSAVE_LEAF, r);
		if (r[1] > FPU_AREA_SIZE)
			return "the XSAVE area is larger than the save area";
		use_xsave = 1;
	}
	return 0;
}

/* See fpu.h. */
const char *efirt_fpu_method(void)
{
	return use_xsave ? "xsave" : "fxsave";
}

/* See fpu.h. */
void efirt_fpu_enter(void)
{
	if (use_xsave)
		/* EDX:EAX all ones: every component XCR0 enables. */
		__asm__ volatile("xsave64 %0" : "=m"(fpu_area) : "a"(~0u), "d"(~0u) : "memory");
	else
		__asm__ volatile("fxsave64 %0" : "=m"(fpu_area) : : "memory");
	__asm__ volatile("fninit\n\tfldcw %0\n\tldmxcsr %1" : : "m"(efi_fcw), "m"(efi_mxcsr));
}

/* See fpu.h. */
void efirt_fpu_leave(void)
{
	if (use_xsave)
		__asm__ volatile("xrstor64 %0" : : "m"(fpu_area), "a"(~0u), "d"(~0u) : "memory");
	else
		__asm__ volatile("fxrstor64 %0" : : "m"(fpu_area) : "memory");
}
