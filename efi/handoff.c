/*
 * efi/handoff.c - the last steps: final memory map, ExitBootServices with the
 * retry the UEFI spec requires, the safety-net IDT, then CR3 and the jump
 * into the kernel.
 */
#include "efi/loader.h"
#include "mm/layout.h"
#include "mm/pgmode.h"
#include "mm/x86_64.h"

/* ExitBootServices may fail with EFI_INVALID_PARAMETER when the map changed
 * since GetMemoryMap (a timer event allocated memory); the spec says: get
 * the map again and retry.  Eight retries is far beyond what firmware needs. */
#define EXIT_MAX_RETRIES 8

int handoff_force_retry;
int handoff_no_wb_above_4g;

/* See loader.h. */
void map_test_no_wb(EFI_MEMORY_DESCRIPTOR *map, UINTN size, UINTN dsize)
{
	if (!handoff_no_wb_above_4g)
		return;
	for (UINTN off = 0; off + dsize <= size; off += dsize) {
		EFI_MEMORY_DESCRIPTOR *d = (EFI_MEMORY_DESCRIPTOR *)((uint8_t *)map + off);
		if (d->PhysicalStart >= (1ULL << 32) && d->Type != EfiLoaderCode &&
		    d->Type != EfiLoaderData)
			d->Attribute &= ~(UINT64)EFI_MEMORY_WB;
	}
}

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* Switches to the new tables and jumps to the kernel: this code runs from
 * the loader's identity mapping, which the new tables keep for that reason. */
__attribute__((noreturn)) static void enter_kernel(uint64_t cr3, uint64_t entry,
						   uint64_t stack_top, uint64_t arg)
{
	__asm__ volatile(
		"mov %0, %%cr3\n\t"
		"mov %2, %%rsp\n\t"
		"xor %%ebp, %%ebp\n\t"
		"jmp *%1\n\t"
		: : "r"(cr3), "r"(entry), "r"(stack_top), "D"(arg) : "memory");
	__builtin_unreachable();
}

/* See loader.h. */
EFI_STATUS handoff(EFI_HANDLE image, struct bootinfo *bi, uint64_t map_capacity,
		   uint64_t cr3, uint64_t entry, uint64_t stack_top)
{
	EFI_MEMORY_DESCRIPTOR *map = (EFI_MEMORY_DESCRIPTOR *)(uintptr_t)bi->memmap_pa;
	UINTN size, key, dsize;
	UINT32 dver;
	EFI_STATUS st;
	uint32_t retries = 0;

	for (;;) {
		size = map_capacity;
		st = efi_bs->GetMemoryMap(&size, map, &key, &dsize, &dver);
		if (EFI_ERROR(st)) {
			/* Only before the first ExitBootServices may we still print. */
			if (retries == 0)
				return lfail(st, "GetMemoryMap into %llu bytes failed (needs %llu)",
					     (unsigned long long)map_capacity,
					     (unsigned long long)size);
			return st;
		}
		if (handoff_force_retry && retries == 0) {
			/* A test: one page allocated now changes the map, so the
			 * key is stale and ExitBootServices must refuse it. */
			EFI_PHYSICAL_ADDRESS page;
			efi_bs->AllocatePages(AllocateAnyPages, EfiLoaderData, 1, &page);
		}
		/* Boot timeline: the last attempt's stamp is the one kept. */
		bi->tsc_exit_boot_services = bootinfo_rdtsc();
		st = efi_bs->ExitBootServices(image, key);
		if (st == EFI_SUCCESS)
			break;
		if (st != EFI_INVALID_PARAMETER || retries == EXIT_MAX_RETRIES)
			return st;
		retries++;
	}

	/* Boot services are gone: no firmware call from here on. */
	map_test_no_wb(map, size, dsize);
	bi->memmap_size = size;
	bi->memmap_desc_size = (uint32_t)dsize;
	bi->memmap_desc_version = dver;
	bi->exit_retries = retries;

	__asm__ volatile("cli");
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	uint64_t cr0;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0 | CR0_WP));
	/* From here a CPU exception is reported and halts (efi/safetynet.c):
	 * the firmware's IDT went with boot services. */
	safetynet_install();
	/* 5-level tables under firmware that ran 4 levels: switch up now
	 * (efi/la57.c; main.c prepared it).  Cannot fail once prepared; if it
	 * did, the net would catch the first fault in the kernel's tables.
	 * The tables' depth decides, not BootInfo's field (a test word lies
	 * in it: the kernel must get the chance to catch the mismatch). */
	if (pgmode_levels() == PGMODE_LEVELS_5)
		la57_switch();
	/* BootInfo's address in the direct map the loader built (HHDM_BASE of
	 * its mode; bi->hhdm_offset says the same unless a test lies). */
	enter_kernel(cr3, entry, stack_top, HHDM_BASE + (uint64_t)(uintptr_t)bi);
	__builtin_unreachable();
}
