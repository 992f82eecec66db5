/*
 * kernel/efirt/mat.h - the runtime regions of the firmware memory map and the
 * EFI Memory Attributes Table (MAT): which runtime pages are mapped with
 * which permissions.  Portable, freestanding C (no kernel header): built
 * into the kernel and into tests/host/test_efirt_mat.c.
 *
 * Rules (Linux drivers/firmware/efi/memattr.c, UEFI 2.10 4.6.4):
 *   - a runtime region is a raw descriptor with EFI_MEMORY_RUNTIME: whole
 *     4 KiB pages, at least one, page-aligned, ending below 2^64, and no
 *     two overlapping (else none is used);
 *   - a MAT is usable when its version is 1 or 2 (2 only renames the
 *     reserved word Flags; 0 is undefined), its descriptor size holds an
 *     EFI_MEMORY_DESCRIPTOR, and header + count x size fits the table;
 *   - an entry is applied when it is runtime code or data, whole pages,
 *     ending below 2^64, inside ONE runtime region (the one holding its start),
 *     of that region's type, with RO or XP (neither would be RWX);
 *     another entry is skipped (counted, the first reason kept), as Linux
 *     skips it;
 *   - permissions: RO+XP read-only, RO read+execute, XP read+write no
 *     execute; where no applied entry covers a page (or there is no MAT),
 *     runtime code is read+execute and everything else read+write no
 *     execute.  Never writable and executable.
 */
#ifndef KERNEL_EFIRT_MAT_H
#define KERNEL_EFIRT_MAT_H

#include <stddef.h>
#include <stdint.h>
#include "kernel/efirt/efi_tables.h"

/* Status of the checks here (and of kernel/efirt/tables.h). */
enum efirt_status {
	EFIRT_OK = 0,
	EFIRT_EDESCSIZE,  /* descriptor size below sizeof(EFI_MEMORY_DESCRIPTOR) */
	EFIRT_EREGION,    /* runtime descriptor: 0 pages, unaligned or wrapping */
	EFIRT_EOVERLAP,   /* two runtime descriptors overlap */
	EFIRT_EFULL,      /* more runtime descriptors / entries than room */
	EFIRT_EVERSION,   /* MAT version not 1 or 2 */
	EFIRT_ECOUNT,     /* header + count x size does not fit the table */
	EFIRT_ETYPE,      /* MAT entry neither runtime code nor data */
	EFIRT_ERANGE,     /* MAT entry: 0 pages, unaligned or wrapping 2^64 */
	EFIRT_ENOREGION,  /* MAT entry starts in no runtime region */
	EFIRT_ESTRADDLE,  /* MAT entry runs past the end of its region */
	EFIRT_EMISMATCH,  /* MAT entry type differs from its region's */
	EFIRT_EPERM,      /* MAT entry has neither RO nor XP */
	EFIRT_ESIGNATURE, /* table signature wrong */
	EFIRT_EREVISION,  /* table revision below 1.0 */
	EFIRT_EHDRSIZE,   /* table header size too small or too large */
	EFIRT_ECRC,       /* table CRC32 wrong */
	EFIRT_ETIME,      /* GetTime: a field out of its range */
	EFIRT_STATUS_COUNT
};

/* Returns a static string describing s ("entry runs past its region"). */
const char *efirt_status_str(int s);

/* Page permissions of a runtime mapping (never writable + executable). */
enum efirt_perm {
	EFIRT_PERM_RX = 1,    /* read + execute */
	EFIRT_PERM_R,         /* read only, no execute */
	EFIRT_PERM_RW,        /* read + write, no execute */
};

/* One runtime region: a raw descriptor with EFI_MEMORY_RUNTIME. */
struct efirt_region {
	uint64_t pa;          /* physical base, page-aligned */
	uint64_t pages;       /* 4 KiB pages, >= 1 */
	uint64_t va;          /* its address in the runtime window (0: not assigned) */
	uint64_t attr;        /* the descriptor's attributes */
	uint32_t type;        /* EFI memory type */
	uint32_t index;       /* position in the raw map */
};

/* Collects the runtime descriptors of the raw map (map_size bytes of
 * desc_size-byte descriptors) into out[0..cap), in map order; *n gets
 * their number.  EFIRT_OK; EFIRT_EDESCSIZE, EFIRT_EREGION, EFIRT_EOVERLAP
 * or EFIRT_EFULL (more than cap) with *n = 0: none is to be used. */
int efirt_regions_collect(const void *map, uint64_t map_size, uint32_t desc_size,
			  struct efirt_region *out, size_t cap, size_t *n);

/* Largest MAT the kernel reads: 4096 entries of 48 bytes and more (OVMF
 * publishes ~100, big servers a few hundred). */
#define EFIRT_MAT_MAX_BYTES (256ULL * 1024)

/* Checks a MAT header: version, descriptor size, and that the whole table
 * (header + count x size) is at most EFIRT_MAT_MAX_BYTES.  EFIRT_OK with
 * *total = its size in bytes, or EFIRT_EVERSION / EFIRT_EDESCSIZE /
 * EFIRT_ECOUNT. */
int efirt_mat_size(const struct efi_mat_header *h, uint64_t *total);

/* An applied MAT entry. */
struct efirt_mat_entry {
	uint64_t pa;          /* page-aligned */
	uint64_t pages;
	uint32_t perm;        /* enum efirt_perm */
	uint32_t region;      /* index into the regions array */
};

/* What efirt_mat_parse found. */
struct efirt_mat_result {
	uint32_t entries;     /* entries in the table */
	uint32_t applied;     /* of them valid, copied to out[] */
	uint32_t first_bad;   /* index of the first skipped entry (if any) */
	int first_bad_status; /* and why (EFIRT_OK: none skipped) */
};

/* Checks one MAT entry e against the n regions: EFIRT_OK and *out filled,
 * or the reason it is skipped. */
int efirt_mat_entry_check(const struct efi_memory_desc *e, const struct efirt_region *r,
			  size_t n, struct efirt_mat_entry *out);

/* Parses the MAT at tbl (len bytes readable): efirt_mat_size, then every
 * entry through efirt_mat_entry_check; the valid ones go to out[0..cap) in
 * table order.  EFIRT_OK with *res filled; EFIRT_EVERSION,
 * EFIRT_EDESCSIZE, EFIRT_ECOUNT (also: len too short) or EFIRT_EFULL
 * (more entries than cap): the whole table is unusable, nothing applied. */
int efirt_mat_parse(const void *tbl, uint64_t len, const struct efirt_region *r, size_t n,
		    struct efirt_mat_entry *out, size_t cap, struct efirt_mat_result *res);

/* Permission of a region's pages where no MAT entry says otherwise. */
unsigned efirt_perm_default(const struct efirt_region *r);

/* Permission of the page at pa of region ri (of the regions the entries
 * m[0..k) were checked against) and *run_end, the end of the run of pages
 * from pa that share it (within the region).  The first entry holding pa
 * wins; pa must lie in the region. */
unsigned efirt_perm_at(const struct efirt_region *r, size_t ri, const struct efirt_mat_entry *m,
		       size_t k, uint64_t pa, uint64_t *run_end);

#endif
