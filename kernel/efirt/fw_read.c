/*
 * kernel/efirt/fw_read.c - the firmware's tables before SetVirtualAddressMap
 * (fw_read.h).
 */
#include "kernel/console/console.h"
#include "kernel/efirt/fw_read.h"
#include "kernel/efirt/tables.h"
#include "kernel/mem/kmem.h"
#include "lib/string.h"
#include "mm/kalloc.h"


/* Reads the table at pa whose header must carry signature and be at least
 * min_size bytes: header checks, then the CRC over its header_size bytes;
 * copies its first out_size bytes to out.  EFIRT_OK, a check's status, or
 * -1 if it cannot be mapped. */
static int read_table(uint64_t pa, uint64_t signature, uint32_t min_size, void *out,
		      size_t out_size)
{
	const struct physmap *pm = kmem_physmap();
	struct efi_table_header h;
	const void *p = pm->map(pm->ctx, pa, sizeof(h), PHYSMAP_CACHED);
	if (!p)
		return -1;
	memcpy(&h, p, sizeof(h));
	pm->unmap(pm->ctx, (void *)p, sizeof(h));
	int s = efirt_header_check(&h, signature, min_size);
	if (s != EFIRT_OK)
		return s;
	p = pm->map(pm->ctx, pa, h.header_size, PHYSMAP_CACHED);
	if (!p)
		return -1;
	s = efirt_crc_check(p);
	if (s == EFIRT_OK)
		memcpy(out, p, out_size);
	pm->unmap(pm->ctx, (void *)p, h.header_size);
	return s;
}

/* Finds the MAT in the configuration table: *mat_pa or 0.  Returns 0, or -1
 * (with an `efirt: off:` line) if the table cannot be read. */
static int find_mat(const struct efi_system_table *st, uint64_t *mat_pa)
{
	static const struct efi_guid mat_guid = { EFI_MEMORY_ATTRIBUTES_TABLE_GUID_BYTES };
	const struct physmap *pm = kmem_physmap();
	uint64_t n = st->number_of_table_entries;
	*mat_pa = 0;
	if (n == 0)
		return 0;
	if (n > EFIRT_CONFIG_MAX || !st->configuration_table) {
		kprintf("efirt: off: configuration table at 0x%lx with %lu entries (at most %u)\n",
			st->configuration_table, n, EFIRT_CONFIG_MAX);
		return -1;
	}
	uint64_t size = n * sizeof(struct efi_config_entry);
	const struct efi_config_entry *t = pm->map(pm->ctx, st->configuration_table, size,
						   PHYSMAP_CACHED);
	if (!t) {
		kprintf("efirt: off: cannot map the configuration table at 0x%lx\n",
			st->configuration_table);
		return -1;
	}
	efirt_config_find(t, n, &mat_guid, mat_pa);
	pm->unmap(pm->ctx, (void *)t, size);
	return 0;
}

/* See fw_read.h. */
void efirt_read_mat(uint64_t pa, const struct efirt_region *regions, size_t nregions,
		     struct efirt_mat_entry **m, uint64_t *m_bytes, size_t *k)
{
	const struct physmap *pm = kmem_physmap();
	struct efi_mat_header h;
	uint64_t total;
	*m = 0, *m_bytes = 0, *k = 0;
	if (!pa) {
		kprintf("efirt: no memory attributes table\n");
		return;
	}
	const void *p = pm->map(pm->ctx, pa, sizeof(h), PHYSMAP_CACHED);
	if (!p) {
		kprintf("efirt: memory attributes table at 0x%lx not used: cannot map it\n", pa);
		return;
	}
	memcpy(&h, p, sizeof(h));
	pm->unmap(pm->ctx, (void *)p, sizeof(h));
	int s = efirt_mat_size(&h, &total);
	if (s != EFIRT_OK) {
		kprintf("efirt: memory attributes table at 0x%lx not used: %s (version %u, %u entries of %u bytes)\n",
			pa, efirt_status_str(s), h.version, h.number_of_entries, h.descriptor_size);
		return;
	}
	p = pm->map(pm->ctx, pa, total, PHYSMAP_CACHED);
	uint64_t bytes = (uint64_t)h.number_of_entries * sizeof(**m);
	*m = bytes ? kalloc(bytes, ALLOC_KERNEL | ALLOC_WRITABLE) : 0;
	if (!p || (bytes && !*m)) {
		kprintf("efirt: memory attributes table at 0x%lx not used: no memory to read it\n", pa);
		if (p)
			pm->unmap(pm->ctx, (void *)p, total);
		if (*m)
			kfree(*m, bytes);
		*m = 0;
		return;
	}
	*m_bytes = bytes;
	struct efirt_mat_result res;
	s = efirt_mat_parse(p, total, regions, nregions, *m, h.number_of_entries, &res);
	pm->unmap(pm->ctx, (void *)p, total);
	if (s != EFIRT_OK) {
		kprintf("efirt: memory attributes table at 0x%lx not used: %s\n", pa,
			efirt_status_str(s));
		return;
	}
	*k = res.applied;
	kprintf("efirt: memory attributes table: %u entries, %u applied\n", res.entries, res.applied);
	if (res.first_bad_status != EFIRT_OK)
		kprintf("efirt: memory attributes table entry %u skipped: %s\n", res.first_bad,
			efirt_status_str(res.first_bad_status));
}

/* See fw_read.h. */
int efirt_read_tables(const struct bootinfo *bi, struct efirt_fw *fw)
{
	uint64_t st_pa = bi->efi_system_table_pa;
	if (!st_pa) {
		kprintf("efirt: off: the loader passed no EFI system table\n");
		return -1;
	}
	int s = read_table(st_pa, EFI_SYSTEM_TABLE_SIGNATURE, sizeof(fw->st), &fw->st, sizeof(fw->st));
	if (s != EFIRT_OK) {
		kprintf("efirt: off: system table at 0x%lx: %s\n", st_pa,
			s < 0 ? "cannot map it" : efirt_status_str(s));
		return -1;
	}
	uint64_t rt_pa = fw->st.runtime_services;
	s = read_table(rt_pa, EFI_RUNTIME_SERVICES_SIGNATURE, sizeof(fw->rt), &fw->rt, sizeof(fw->rt));
	if (s != EFIRT_OK) {
		kprintf("efirt: off: runtime services table at 0x%lx: %s\n", rt_pa,
			s < 0 ? "cannot map it" : efirt_status_str(s));
		return -1;
	}
	kprintf("efirt: system table 0x%lx revision %u.%u, runtime services 0x%lx, %lu configuration tables\n",
		st_pa, fw->st.hdr.revision >> 16, fw->st.hdr.revision & 0xffff, rt_pa,
		fw->st.number_of_table_entries);
	return find_mat(&fw->st, &fw->mat_pa);
}
