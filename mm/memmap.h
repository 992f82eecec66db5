/*
 * mm/memmap.h - the memory-map sanitiser: raw firmware map -> sorted,
 * non-overlapping, typed regions.  Shared by the kernel and tools/memmap.
 *
 * Implementation: mm/memmap.c (sanitiser), mm/memmap_print.c (printing).
 */
#ifndef MM_MEMMAP_H
#define MM_MEMMAP_H

#include <stdint.h>
#include <stddef.h>
#include "shared/bootinfo.h"

/* EFI memory types (UEFI 2.10, 7.2 EFI_MEMORY_TYPE), as raw descriptors
 * carry them.  Values from 0x70000000 (OEM) and 0x80000000 (OS) up are
 * vendor-defined. */
enum efi_memory_type {
	EFI_RESERVED = 0, EFI_LOADER_CODE, EFI_LOADER_DATA, EFI_BS_CODE,
	EFI_BS_DATA, EFI_RT_CODE, EFI_RT_DATA, EFI_CONVENTIONAL, EFI_UNUSABLE,
	EFI_ACPI_RECLAIM, EFI_ACPI_NVS, EFI_MMIO, EFI_MMIO_PORT, EFI_PAL_CODE,
	EFI_PERSISTENT, EFI_UNACCEPTED,
	EFI_NAMED_TYPES      /* types the spec (and the EDK II shell) names */
};

/* Region types of the sanitised map, in no particular order of strictness. */
enum mm_region_type {
	MR_USABLE = 0,
	MR_RESERVED,
	MR_ACPI_DATA,
	MR_ACPI_NVS,
	MR_UNUSABLE,
	MR_PERSISTENT,
	MR_MMIO,
	MR_RUNTIME,    /* EFI runtime services code/data: kept forever */
	MR_LOADER,     /* loader code/data the kernel may reclaim */
	MR_KERNEL,     /* kernel image, live page tables, kernel stack */
	MR_RAMDISK,
	MR_BOOTINFO,
	MR_NTYPES
};

/* One region [base, base + size). */
struct mm_region {
	uint64_t base;
	uint64_t size;
	uint32_t type;      /* enum mm_region_type */
	uint32_t reserved;
};

/* Descriptor stride: UEFI defines 40-byte descriptors; firmware may use a
 * larger stride, always a multiple of 8 so every descriptor's 64-bit fields
 * stay aligned. */
#define MEMMAP_EFI_DESC_MIN   sizeof(struct bootinfo_efi_desc)
#define MEMMAP_EFI_DESC_ALIGN 8u

/* Returns 1 if a raw map may be walked by desc_size bytes: at least
 * MEMMAP_EFI_DESC_MIN and a multiple of MEMMAP_EFI_DESC_ALIGN. */
static inline int memmap_desc_size_ok(uint32_t desc_size)
{
	return desc_size >= MEMMAP_EFI_DESC_MIN && desc_size % MEMMAP_EFI_DESC_ALIGN == 0;
}

/* Returns the printed name of region type t ("usable", "ACPI data", ...). */
const char *memmap_type_name(uint32_t t);

/* Returns the EDK II shell's name for EFI memory type t ("Available",
 * "BootServiceCode", ...), as `memmap -sfo` prints it; NULL for a type the
 * shell does not name (unknown, OS-defined >= 0x70000000). */
const char *memmap_efi_type_name(uint32_t t);

/* Returns the region type EFI memory type efi_type becomes: loader code/data
 * -> MR_LOADER; boot-services code/data and conventional -> MR_USABLE;
 * runtime code/data -> MR_RUNTIME; unusable -> MR_UNUSABLE; ACPI reclaim ->
 * MR_ACPI_DATA; ACPI NVS -> MR_ACPI_NVS; MMIO, MMIO port -> MR_MMIO;
 * persistent -> MR_PERSISTENT; anything else -> MR_RESERVED. */
uint32_t memmap_efi_type_to_region(uint32_t efi_type);

/* Returns the region type a loader-used range of type used_type
 * (BOOTINFO_USED_*) becomes: kernel, page tables, stack -> MR_KERNEL;
 * bootinfo -> MR_BOOTINFO; ramdisk -> MR_RAMDISK; unknown -> MR_KERNEL. */
uint32_t memmap_used_type_to_region(uint32_t used_type);

/* Returns the bytes of MR_USABLE regions in r[0..count). */
uint64_t memmap_usable_bytes(const struct mm_region *r, size_t count);

/*
 * memmap_sanitize - build the sanitised map.
 *   raw, raw_size, desc_size: the firmware map, walked by desc_size.
 *   used, used_count: loader-used ranges (BOOTINFO_USED_*), typed on top.
 *   out, cap: output array; *count gets the number of regions.
 * Warnings (dropped zero-length or wrapping entries) go to mm_printf.
 * Rules and algorithm: the theory statement at the top of mm/memmap.c.
 * Uses no memory but out and O(1) stack; O(n^2) time for n entries.
 * Returns MM_OK, MM_EINVAL (desc_size < 40 or not a multiple of 8, or
 * raw_size not a multiple of it) or MM_EOVERFLOW (the result has more than
 * cap regions; *count = cap, the map is cut).
 */
int memmap_sanitize(const void *raw, uint64_t raw_size, uint32_t desc_size,
		    const struct bootinfo_range *used, uint32_t used_count,
		    struct mm_region *out, size_t cap, size_t *count);

/* Prints the raw map in `memmap -sfo` form: the ShellCommand header, one
 * MemoryMap CSV line per descriptor, the MemoryMapSummary line. */
void memmap_print_raw(const void *raw, uint64_t raw_size, uint32_t desc_size);

/* Prints the sanitised map: `memmap: [mem 0x...-0x...] type` lines and the
 * `memmap: usable <bytes> bytes in <n> regions` summary. */
void memmap_print(const struct mm_region *r, size_t count);

#endif
