/*
 * kernel/efirt/tables.h - checks on the firmware's tables before anything
 * in them is trusted (the system table, the runtime services table), and
 * the configuration-table lookup.  Portable, freestanding C: built into
 * the kernel and into tests/host/test_efirt_mat.c.
 *
 * A table is used only if its header has the right signature, a revision
 * of at least 1.0, a header size between the structure this kernel reads
 * and EFIRT_TABLE_MAX, and a CRC32 over those bytes (the CRC field counted
 * as 0) equal to the one it carries (UEFI 2.10 4.2).
 */
#ifndef KERNEL_EFIRT_TABLES_H
#define KERNEL_EFIRT_TABLES_H

#include <stddef.h>
#include <stdint.h>
#include "kernel/efirt/efi_tables.h"
#include "kernel/efirt/mat.h"

/* Largest header size accepted: the system and runtime tables are 120 and
 * 136 bytes today; a page leaves room for revisions to come. */
#define EFIRT_TABLE_MAX 4096u

/* Most configuration-table entries looked at (OVMF has ~15, a PC ~30). */
#define EFIRT_CONFIG_MAX 1024u

/* Returns the CRC-32 (IEEE 802.3, reflected 0xEDB88320, initial and final
 * inversion: the one UEFI's CalculateCrc32 computes) of n bytes at p. */
uint32_t efirt_crc32(const void *p, size_t n);

/* Checks a table header: signature, revision >= 1.0, min_size <=
 * header_size <= EFIRT_TABLE_MAX.  EFIRT_OK, EFIRT_ESIGNATURE,
 * EFIRT_EREVISION or EFIRT_EHDRSIZE. */
int efirt_header_check(const struct efi_table_header *h, uint64_t signature, uint32_t min_size);

/* Checks the CRC32 of the table at tbl (h->header_size readable bytes,
 * already through efirt_header_check).  EFIRT_OK or EFIRT_ECRC. */
int efirt_crc_check(const void *tbl);

/* Looks guid up in the count entries at t; returns 1 and sets *table to
 * the first match's table address, or 0. */
int efirt_config_find(const struct efi_config_entry *t, uint64_t count,
		      const struct efi_guid *guid, uint64_t *table);

/* Checks a time GetTime returned against the ranges of UEFI 2.10 8.3:
 * year 1900..9999, month 1..12, day 1..the month's length (Gregorian leap
 * years), hour 0..23, minute and second 0..59, nanosecond below 10^9,
 * time zone -1440..1440 or EFI_UNSPECIFIED_TIMEZONE.  EFIRT_OK or
 * EFIRT_ETIME (a firmware lie: the time is not used). */
int efirt_time_check(const struct efi_time *t);

#endif
