/*
 * efi/loader.h - what the loader's files share: the firmware tables, the
 * loader console and the steps of the boot (see efi/main.c for the order).
 */
#ifndef EFI_LOADER_H
#define EFI_LOADER_H

#include <efi.h>
#include <stdint.h>
#include "shared/bootinfo.h"

extern EFI_SYSTEM_TABLE *efi_st;
extern EFI_BOOT_SERVICES *efi_bs;

/* Prints on the firmware console (screen and, under OVMF, serial). */
void lprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "memboot: loader error: <message>" and returns status, for
 * `return lfail(st, "...")` in the boot steps. */
EFI_STATUS lfail(EFI_STATUS status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Allocates pages of loader data; *pa gets the address.  Zeroes them. */
EFI_STATUS lalloc_pages(uint64_t pages, uint64_t *pa);

/* efi/file.c: opens the root directory of the volume the loader came from. */
EFI_STATUS file_open_root(EFI_HANDLE image, EFI_FILE_HANDLE *root);

/* efi/file.c: reads the whole file path (1 to max bytes) into fresh pages;
 * *pa and *size describe it.  EFI_NOT_FOUND if absent (nothing printed).
 * A file that cannot be used (a directory, empty, over max, unreadable) is
 * reported by name: if optional, as one line, and EFI_NOT_FOUND is returned
 * so the boot goes on without it; otherwise as a loader error (lfail), and
 * its status is returned. */
EFI_STATUS file_read(EFI_FILE_HANDLE root, const CHAR16 *path, const char *name,
		     uint64_t max, int optional, uint64_t *pa, uint64_t *size);

/* efi/paging.c: a pool of zeroed page-table pages and the mapper. */
struct ptpool {
	uint64_t pa;      /* first page of the pool */
	uint64_t pages;   /* capacity */
	uint64_t used;    /* pages handed out */
};

EFI_STATUS pt_pool_init(struct ptpool *pool, uint64_t pages);

/* Maps [va, va + size) to [pa, pa + size) with pages of page_size bytes
 * (4 KiB, 2 MiB or 1 GiB; va, pa and size multiples of it) and the PTE flags
 * given (PTE_P is added).  An entry already present is an error. */
EFI_STATUS pt_map(struct ptpool *pool, uint64_t root, uint64_t va, uint64_t pa,
		  uint64_t size, uint64_t page_size, uint64_t flags);

/* Maps the page_size page at va to pa unless va is already mapped (the
 * direct map covers each large page once, whichever descriptor asks first). */
EFI_STATUS pt_cover(struct ptpool *pool, uint64_t root, uint64_t va, uint64_t pa,
		    uint64_t page_size, uint64_t flags);

/* efi/handoff.c: when set, the first ExitBootServices is made to fail by
 * one page allocated after GetMemoryMap (cmdline test-exit-retry). */
extern int handoff_force_retry;
/* Set by the cmdline word test-no-wb-above-4g: map_test_no_wb is active. */
extern int handoff_no_wb_above_4g;

/* A test of the kernel's attribute rules: when handoff_no_wb_above_4g is
 * set, clears EFI_MEMORY_WB on every descriptor of map at or above 4 GiB
 * except the loader's own code and data (which holds the kernel), as
 * firmware that leaves WB off that RAM would.  Otherwise does nothing. */
void map_test_no_wb(EFI_MEMORY_DESCRIPTOR *map, UINTN size, UINTN dsize);

/* efi/handoff.c: the final memory map, ExitBootServices, the jump. */
EFI_STATUS handoff(EFI_HANDLE image, struct bootinfo *bi, uint64_t map_capacity,
		   uint64_t cr3, uint64_t entry, uint64_t stack_top);

/* efi/la57.c: 1 if CPUID.(EAX=7,ECX=0):ECX[16] reports 5-level paging. */
int la57_cpu_has(void);

/* efi/la57.c: 1 if the CPU runs 5-level paging now (CR4.LA57). */
int la57_active(void);

/* efi/la57.c: copies the switch blob and its PML5 into 2 pages of loader
 * data below 4 GiB (boot services needed).  EFI_SUCCESS or the error,
 * printed. */
EFI_STATUS la57_prepare(void);

/* efi/la57.c: turns 5-level paging on (theory at the top of la57.c): the
 * same translations below 256 TiB, CR4.LA57 set; interrupts off meanwhile,
 * the caller's IF restored.  No firmware call, so it may run after
 * ExitBootServices.  Returns 0 (5 levels now, or already), -1 if
 * la57_prepare has not run or the switch did not take. */
int la57_switch(void);

/* efi/safetynet.c: pages of the safety net's area (GDT, TSS, IDT, its
 * stack): 16 KiB, the handler formats one line and calls nothing deep. */
#define SAFETYNET_PAGES 4

/* efi/safetynet.c: allocates and fills the net area (GDT, TSS, IDT with a
 * gate per exception, on IST 1); *pa, *size give it, to identity-map RW+NX
 * in the kernel's tables.  Before ExitBootServices. */
EFI_STATUS safetynet_prepare(uint64_t *pa, uint64_t *size);

/* efi/safetynet.c: lets the handler paint a red band on fb, which the
 * caller identity-maps in the kernel's tables. */
void safetynet_set_fb(const struct bootinfo_fb *fb);

/* efi/safetynet.c: loads the net's GDT, TSS and IDT.  After
 * ExitBootServices, interrupts off, just before the jump to the kernel. */
void safetynet_install(void);

#endif
