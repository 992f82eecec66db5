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

/* EFI memory attribute bits (UEFI 2.10, 7.2 EFI_MEMORY_DESCRIPTOR
 * Attribute) the sanitiser reads.  (gnu-efi's efidef.h defines the same
 * names; the loader, which includes it, does not include this header.) */
#define EFI_MEMORY_WB            (1ULL << 3)   /* write-back cacheable: RAM */
#define EFI_MEMORY_MORE_RELIABLE (1ULL << 16)  /* mirrored (address range mirroring) */
#define EFI_MEMORY_SP            (1ULL << 18)  /* specific purpose: not general RAM */
#define EFI_MEMORY_RUNTIME (1ULL << 63)  /* the OS must map it for runtime services */

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
	MR_SOFT_RESERVED, /* RAM the firmware marks specific-purpose (EFI_MEMORY_SP) */
	MR_TRAMPOLINE, /* the loader's pages below 1 MiB for the APs' real-mode start */
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
 * persistent -> MR_PERSISTENT; anything else -> MR_RESERVED.  The type
 * alone: the sanitiser uses memmap_efi_desc_to_region, which also reads the
 * attributes. */
uint32_t memmap_efi_type_to_region(uint32_t efi_type);

/* Returns the region type a raw descriptor of EFI type efi_type and
 * attributes attr becomes.  RAM types (loader code/data, boot-services
 * code/data, conventional) look at the attributes first, as Linux's
 * do_add_efi_memmap does: EFI_MEMORY_SP -> MR_SOFT_RESERVED (whether or not
 * EFI_MEMORY_WB is set); else no EFI_MEMORY_WB -> MR_RESERVED (memory that
 * cannot be cached write-back is not RAM to run on); else EFI_MEMORY_RUNTIME
 * -> MR_RUNTIME (the firmware keeps using it after ExitBootServices: Linux's
 * efi_free_boot_services keeps such boot-services memory too); else, and
 * for every other type whatever its attributes, memmap_efi_type_to_region. */
uint32_t memmap_efi_desc_to_region(uint32_t efi_type, uint64_t attr);

/* Returns the region type a loader-used range of type used_type
 * (BOOTINFO_USED_*) becomes: kernel, page tables, stack -> MR_KERNEL;
 * bootinfo -> MR_BOOTINFO; ramdisk -> MR_RAMDISK; trampoline ->
 * MR_TRAMPOLINE; unknown -> MR_KERNEL. */
uint32_t memmap_used_type_to_region(uint32_t used_type);


/*
 * Scratch space of memmap_sanitize: one change point (the start or the end
 * of a range) per element, two per range.  The caller owns the array; its
 * contents are private to mm/memmap.c and meaningless after the call.
 */
struct memmap_cp {
	uint64_t addr;      /* where the range starts or ends */
	uint32_t rank;      /* overlap rank of the range's region type */
	uint32_t is_end;    /* 0: the range starts at addr; 1: it ends there */
};
_Static_assert(sizeof(struct memmap_cp) == 16, "memmap_cp: no padding");

/* Change points per range: its start and its end. */
#define MEMMAP_CP_PER_RANGE 2u

/* Number of struct memmap_cp memmap_sanitize needs for a raw map of ndesc
 * descriptors and used_count used ranges (a compile-time constant when the
 * arguments are: the kernel sizes a static array with it).  ndesc is at
 * most 2^64 / 40 (raw_size / desc_size), so this never overflows. */
#define MEMMAP_SCRATCH_LEN(ndesc, used_count) \
	(MEMMAP_CP_PER_RANGE * ((uint64_t)(ndesc) + (uint64_t)(used_count)))

/*
 * memmap_sanitize - build the sanitised map.
 *   raw, raw_size, desc_size: the firmware map, walked by desc_size.
 *   used, used_count: loader-used ranges (BOOTINFO_USED_*), typed on top.
 *   scratch, scratch_len: at least MEMMAP_SCRATCH_LEN(raw_size / desc_size,
 *     used_count) change points of working space, overwritten.
 *   out, cap: output array; *count gets the number of regions.
 * Warnings (dropped zero-length or wrapping entries) go to mm_printf.
 * Rules and algorithm: the theory statement at the top of mm/memmap.c.
 * Uses no memory but scratch and out, and O(1) stack; O(n log n) time for
 * n entries (a heap sort of the change points, then one sweep).
 * Returns MM_OK, MM_EINVAL (desc_size < 40 or not a multiple of 8, raw_size
 * not a multiple of it, or scratch_len too small - that one reported with
 * a "memmap: memmap_sanitize: scratch ..." line; nothing else is printed or
 * written but *count = 0) or MM_EOVERFLOW (the result has more than cap
 * regions; *count = cap, the map is cut).
 */
int memmap_sanitize(const void *raw, uint64_t raw_size, uint32_t desc_size,
		    const struct bootinfo_range *used, uint32_t used_count,
		    struct memmap_cp *scratch, uint64_t scratch_len,
		    struct mm_region *out, size_t cap, size_t *count);

/* Returns the bytes of MR_USABLE regions in r[0..count). */
uint64_t memmap_usable_bytes(const struct mm_region *r, size_t count);

/*
 * memmap_reliable_bytes - the usable memory that is more-reliable (mirrored).
 *   raw, raw_size, desc_size: the firmware map r was sanitised from.
 *   r, count: the sanitised map (sorted, non-overlapping: memmap_sanitize).
 *   scratch, scratch_len: at least MEMMAP_SCRATCH_LEN(raw_size / desc_size,
 *     0) change points of working space, overwritten.
 * Sets *bytes to the bytes of the MR_USABLE regions of r that lie inside at
 * least one raw descriptor with EFI_MEMORY_MORE_RELIABLE (each byte counted
 * once, however many such descriptors cover it; bytes that page trimming,
 * page 0 or an overlay took out of usable memory do not count).
 * O(n log n) for n descriptors, plus O(count).
 * Returns MM_OK, or MM_EINVAL (the stride rules of memmap_sanitize, or
 * scratch_len too small - reported like memmap_sanitize's; *bytes = 0).
 */
int memmap_reliable_bytes(const void *raw, uint64_t raw_size, uint32_t desc_size,
			  const struct mm_region *r, size_t count,
			  struct memmap_cp *scratch, uint64_t scratch_len, uint64_t *bytes);

/* Prints the raw map in `memmap -sfo` form: the ShellCommand header, one
 * MemoryMap CSV line per descriptor, the MemoryMapSummary line. */
void memmap_print_raw(const void *raw, uint64_t raw_size, uint32_t desc_size);

/* Prints the sanitised map: `memmap: [mem 0x...-0x...] type` lines and the
 * `memmap: usable <bytes> bytes in <n> regions` summary. */
void memmap_print(const struct mm_region *r, size_t count);

/* Prints `memmap: <N> MiB of usable memory is more-reliable (mirrored)`, N
 * = bytes rounded down to whole MiB, if bytes (memmap_reliable_bytes) is
 * not 0; nothing otherwise. */
void memmap_print_reliable(uint64_t bytes);

#endif
