/*
 * kernel/efirt/fw_read.h - reading the firmware's tables before
 * SetVirtualAddressMap, through the kernel's physmap (temporary
 * mem_map_addr mappings, all undone): the system table and the runtime
 * services table (checked as kernel/efirt/tables.h says before anything
 * in them is used), the configuration table's Memory Attributes Table
 * entry, and the MAT itself (validated by kernel/efirt/mat.h).
 */
#ifndef KERNEL_EFIRT_FW_READ_H
#define KERNEL_EFIRT_FW_READ_H

#include <stddef.h>
#include <stdint.h>
#include "kernel/efirt/efi_tables.h"
#include "kernel/efirt/mat.h"
#include "shared/bootinfo.h"

/* The system table, the runtime services table and the MAT's location, as
 * read and checked before SetVirtualAddressMap. */
struct efirt_fw {
	struct efi_system_table st;
	struct efi_runtime_services rt;
	uint64_t mat_pa;      /* 0: none */
};

/* Checks the system table at bi's address and the runtime services table
 * (copied to fw), prints the `efirt: system table` line and finds the MAT
 * (fw->mat_pa).  Returns 0, or -1 after an `efirt: off:` line. */
int efirt_read_tables(const struct bootinfo *bi, struct efirt_fw *fw);

/* Reads and validates the MAT at pa (0: none) against the n regions; *m
 * (kalloc'ed, *m_bytes long, NULL if nothing applies) gets the applied
 * entries, *k their count; the caller kfrees it.  Prints the MAT lines
 * (efirt.h).  Never fails: an unusable table means default permissions. */
void efirt_read_mat(uint64_t pa, const struct efirt_region *regions, size_t nregions,
		    struct efirt_mat_entry **m, uint64_t *m_bytes, size_t *k);

#endif
