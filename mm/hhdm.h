/*
 * mm/hhdm.h - the plan of the direct map (HHDM): which physical ranges it
 * maps and with which page sizes.  The loader applies the plan with pt_map;
 * the kernel uses the same ranges to refuse mm_phys_to_virt of a hole.
 * Portable and freestanding: no EFI, no platform calls (host-tested in
 * tests/host/test_hhdm.c).
 *
 * Theory:
 *
 * 1. The direct map holds RAM only, mapped write-back.  A descriptor of the
 *    raw EFI map is direct-mapped (hhdm_desc_mapped) when it has
 *    EFI_MEMORY_WB, not EFI_MEMORY_SP (specific-purpose memory is the
 *    sanitiser's soft-reserved: never general RAM), and its type is memory the kernel or the firmware keeps
 *    in RAM: loader code/data, boot-services code/data, conventional, ACPI
 *    reclaim, ACPI NVS, runtime code/data.  Never MMIO, MMIO port space,
 *    reserved (may be anything, even device memory), unusable (known bad),
 *    PAL code (Itanium), unaccepted (must be accepted before any touch),
 *    persistent memory (NVDIMM: a poisoned line read speculatively is a
 *    machine check; nothing in memboot uses it - mem_map_addr reaches it if
 *    ever needed), or an OEM/OS-defined type.  A cached mapping of device
 *    memory invites speculative reads of MMIO, a machine-check hazard on
 *    real hardware.
 *
 * 2. hhdm_ranges: an address is mapped iff a direct-mapped descriptor
 *    covers it and no other descriptor does (the most restrictive type
 *    wins, as in the sanitiser).  Mapped descriptors are trimmed inward to
 *    4 KiB, the others widened outward, so a partial page is never mapped.
 *    The result is sorted, disjoint, and adjacent pieces are merged.
 *
 * 3. hhdm_plan: each range is cut greedily from its start: at every address
 *    the largest page size (up to max_page) that is aligned there and fits
 *    in the range.  So a 1 GiB page is used only where the whole GiB is
 *    mapped RAM, a 2 MiB page where the whole 2 MiB is, and 4 KiB pages at
 *    the edges; a range gives at most 5 pieces (4K, 2M, 1G, 2M, 4K runs).
 *
 * 4. hhdm_plan_tables: the exact number of page-table pages below the root
 *    (PML4s under 5-level paging, PDPTs, PDs, PTs; not the root) a mapper that creates tables on demand needs for
 *    the plan: the pieces are sorted, so every level's table index only
 *    grows and each new index is one more table.
 */
#ifndef MM_HHDM_H
#define MM_HHDM_H

#include <stddef.h>
#include <stdint.h>

/* A physical range [pa, pa + size) of the direct map. */
struct hhdm_range {
	uint64_t pa;
	uint64_t size;
};

/* A run of pages of one size: [pa, pa + size), page_size 4 KiB, 2 MiB or
 * 1 GiB, pa and size multiples of it. */
struct hhdm_piece {
	uint64_t pa;
	uint64_t size;
	uint64_t page_size;
};

/* Page counts of a plan by size (hhdm_plan_count). */
struct hhdm_counts {
	uint64_t huge;    /* 1 GiB pages */
	uint64_t large;   /* 2 MiB pages */
	uint64_t small;   /* 4 KiB pages */
	uint64_t bytes;   /* bytes mapped */
	uint64_t top;     /* end of the highest piece: the span from 0 */
};

/* Returns 1 if a descriptor of EFI type efi_type with attributes attr is
 * direct-mapped RAM (rule 1 above). */
int hhdm_desc_mapped(uint32_t efi_type, uint64_t attr);

/*
 * hhdm_ranges - the direct-mapped physical ranges of a raw EFI map (rule 2).
 *   raw, raw_size, desc_size: the map, walked by desc_size (>= 40, a
 *   multiple of 8; raw_size a multiple of it).
 *   out, cap: output; *count gets the number of ranges.
 * O(n^2) for n descriptors, no memory but out.  Returns MM_OK, MM_EINVAL
 * (bad desc_size or raw_size), MM_ERANGE (a direct-mapped descriptor
 * reaches beyond HHDM_MAX_SIZE or wraps; *count = 0) or MM_EOVERFLOW (more
 * than cap ranges; the first cap are in out).
 */
int hhdm_ranges(const void *raw, uint64_t raw_size, uint32_t desc_size,
		struct hhdm_range *out, size_t cap, size_t *count);

/*
 * hhdm_plan - page sizes for ranges r[0..n) (sorted, disjoint, 4 KiB
 * aligned, as hhdm_ranges makes them), pages up to max_page (2 MiB or
 * 1 GiB).  out, cap: output pieces, sorted; at most 5 per range.  Returns
 * MM_OK, MM_EINVAL (max_page neither 2 MiB nor 1 GiB, or a range unaligned,
 * unsorted or overlapping) or MM_EOVERFLOW (more than cap pieces).
 */
int hhdm_plan(const struct hhdm_range *r, size_t n, uint64_t max_page,
	      struct hhdm_piece *out, size_t cap, size_t *count);

/* Returns the page-table pages (below the root, in the running paging
 * mode: mm/pgmode.h) a mapper needs for pieces
 * p[0..n) of a plan at HHDM_BASE + pa (rule 4). */
uint64_t hhdm_plan_tables(const struct hhdm_piece *p, size_t n);

/* Counts the pages of each size in p[0..n). */
struct hhdm_counts hhdm_plan_count(const struct hhdm_piece *p, size_t n);

/* Returns 1 if physical page pa lies in one of the sorted ranges r[0..n)
 * (binary search). */
int hhdm_ranges_contain(const struct hhdm_range *r, size_t n, uint64_t pa);

#endif
