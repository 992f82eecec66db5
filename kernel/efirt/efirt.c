/*
 * kernel/efirt/efirt.c - bring-up of the UEFI runtime services and the
 * two services the kernel uses, GetTime and ResetSystem (theory in
 * efirt.h).
 */
#include "kernel/boot/handover.h"
#include "kernel/console/console.h"
#include "kernel/efirt/call.h"
#include "kernel/efirt/efirt.h"
#include "kernel/efirt/fpu.h"
#include "kernel/efirt/mat.h"
#include "kernel/efirt/tables.h"
#include "kernel/efirt/window.h"
#include "kernel/mem/kmem.h"
#include "lib/cmdline.h"
#include "lib/string.h"
#include "mm/kalloc.h"
#include "mm/platform.h"
#include "mm/status.h"

/* Runtime regions the kernel handles: OVMF has ~15, PCs a few dozen;
 * 512 x 48 bytes of .bss. */
#define EFIRT_MAX_REGIONS 512

#define CMDLINE_TEST_UNMAP "test-efirt-unmap"
#define CMDLINE_POWEROFF   "poweroff"
#define CMDLINE_REBOOT     "reboot"

/* Set once by efirt_init (boot CPU, before the other CPUs start), read-only
 * afterwards. */
static struct efirt_region regions[EFIRT_MAX_REGIONS];
static size_t nregions;
static uint64_t rt_get_time, rt_reset_system; /* window addresses, checked */

/* The system table, the runtime services table and the MAT's location, as
 * read and checked before SetVirtualAddressMap. */
struct fw_tables {
	struct efi_system_table st;
	struct efi_runtime_services rt;
	uint64_t mat_pa;      /* 0: none */
};

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

/* Reads and validates the MAT at pa against the regions; *m (kalloc'ed,
 * *m_bytes long, NULL if empty) gets the applied entries, *k their count.
 * Prints the MAT lines.  Never fails: an unusable table means defaults. */
static void read_mat(uint64_t pa, struct efirt_mat_entry **m, uint64_t *m_bytes, size_t *k)
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

/* Checks the system table at bi's address and the runtime services table,
 * and finds the MAT.  Returns 0, or -1 after an `efirt: off:` line. */
static int read_tables(const struct bootinfo *bi, struct fw_tables *fw)
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

/* Maps the three tables into the window (theory 1); *rt_va gets the
 * runtime services table's address there.  MM status. */
static int map_tables(struct addrspace *as, const struct bootinfo *bi, const struct fw_tables *fw,
		      uint64_t *next, uint64_t *rt_va)
{
	uint64_t va;
	int s = efirt_window_table(as, regions, nregions, bi->efi_system_table_pa,
				   fw->st.hdr.header_size, next, &va);
	if (s == MM_OK)
		s = efirt_window_table(as, regions, nregions, fw->st.runtime_services,
				       fw->rt.hdr.header_size, next, rt_va);
	if (s == MM_OK && fw->st.number_of_table_entries)
		s = efirt_window_table(as, regions, nregions, fw->st.configuration_table,
				       fw->st.number_of_table_entries * sizeof(struct efi_config_entry),
				       next, &va);
	return s;
}

/* Calls SetVirtualAddressMap at fn with every region's descriptor, its
 * VirtualStart set, with the identity mapping present for the call only.
 * Returns 0, or -1 after a line saying why. */
static int set_virtual_map(struct addrspace *as, const struct bootinfo *bi, uint64_t fn)
{
	uint32_t dsz = bi->memmap_desc_size;
	uint64_t bytes = nregions * dsz;
	uint8_t *vmap = kalloc(bytes, ALLOC_KERNEL | ALLOC_WRITABLE);
	if (!vmap) {
		kprintf("efirt: off: no memory for the virtual map (%lu bytes)\n", bytes);
		return -1;
	}
	const uint8_t *raw = mm_phys_to_virt(bi->memmap_pa);
	for (size_t i = 0; i < nregions; i++) {
		struct efi_memory_desc d;
		memcpy(vmap + i * dsz, raw + (uint64_t)regions[i].index * dsz, dsz);
		memcpy(&d, vmap + i * dsz, sizeof(d));
		d.virt_start = regions[i].va;
		memcpy(vmap + i * dsz, &d, sizeof(d));
	}
	int rc = -1;
	if (efirt_identity_map(as, regions, nregions) == MM_OK) {
		uint64_t status;
		efirt_call_enable();
		int c = efirt_call("SetVirtualAddressMap", fn, bytes, dsz, bi->memmap_desc_version,
				   (uint64_t)(uintptr_t)vmap, &status);
		efirt_identity_unmap(as, regions, nregions);
		if (c == EFIRT_CALL_OK && status != EFI_SUCCESS) {
			kprintf("efirt: off: SetVirtualAddressMap returned 0x%lx\n", status);
			efirt_call_disable();
		} else if (c == EFIRT_CALL_OK) {
			rc = 0;
		}
	} else {
		kprintf("efirt: off: the runtime regions cannot be identity-mapped for SetVirtualAddressMap\n");
	}
	kfree(vmap, bytes);
	return rc;
}

/* After SetVirtualAddressMap: reads GetTime and ResetSystem from the
 * runtime services table at rt_va and keeps them if they point into
 * runtime code in the window.  Returns 0 or -1 (calls turned off). */
static int adopt_pointers(uint64_t rt_va)
{
	const struct efi_runtime_services *rt = (const void *)(uintptr_t)rt_va;
	uint64_t gt = rt->get_time, rs = rt->reset_system;
	if (!efirt_window_is_code(regions, nregions, gt) ||
	    !efirt_window_is_code(regions, nregions, rs)) {
		kprintf("efirt: off: after SetVirtualAddressMap GetTime 0x%lx / ResetSystem 0x%lx "
			"point outside the runtime code\n", gt, rs);
		efirt_call_disable();
		return -1;
	}
	rt_get_time = gt;
	rt_reset_system = rs;
	return 0;
}

/* The test word: unmaps the window range of the region holding GetTime's
 * code, so the next GetTime faults (theory 5). */
static void test_unmap(struct addrspace *as)
{
	for (size_t i = 0; i < nregions; i++) {
		uint64_t bytes = regions[i].pages << EFI_PAGE_SHIFT;
		if (rt_get_time >= regions[i].va && rt_get_time - regions[i].va < bytes) {
			int s = unmap_pages(as, regions[i].va, regions[i].pages);
			kprintf("efirt: test: runtime region %zu (0x%lx, %lu pages, GetTime's code) unmapped: %s\n",
				i, regions[i].va, regions[i].pages, mm_status_str(s));
			return;
		}
	}
}

/* Calls GetTime and prints it. */
static void get_time(void)
{
	struct efi_time t;
	struct efi_time_caps caps;
	uint64_t status;
	memset(&t, 0, sizeof(t));
	if (efirt_call("GetTime", rt_get_time, (uint64_t)(uintptr_t)&t, (uint64_t)(uintptr_t)&caps,
		       0, 0, &status) != EFIRT_CALL_OK)
		return;
	if (status != EFI_SUCCESS) {
		kprintf("efirt: GetTime returned 0x%lx\n", status);
		return;
	}
	kprintf("efirt: GetTime %04u-%02u-%02u %02u:%02u:%02u\n", t.year, t.month, t.day, t.hour,
		t.minute, t.second);
}

/* See efirt.h. */
void efirt_init(const struct bootinfo *bi)
{
	struct addrspace *as = addrspace_kernel();
	struct fw_tables fw;
	const char *why = efirt_fpu_check();
	if (why) {
		kprintf("efirt: off: %s\n", why);
		return;
	}
	int s = efirt_regions_collect(mm_phys_to_virt(bi->memmap_pa), bi->memmap_size,
				      bi->memmap_desc_size, regions, EFIRT_MAX_REGIONS, &nregions);
	if (s != EFIRT_OK) {
		kprintf("efirt: off: raw memory map: %s\n", efirt_status_str(s));
		return;
	}
	if (nregions == 0) {
		kprintf("efirt: off: no runtime regions in the memory map\n");
		return;
	}
	if (read_tables(bi, &fw))
		return;

	struct efirt_mat_entry *m;
	uint64_t m_bytes, next, rt_va;
	size_t k;
	struct efirt_window_stats ws;
	read_mat(fw.mat_pa, &m, &m_bytes, &k);
	s = efirt_window_map(as, regions, nregions, m, k, &ws, &next);
	if (m)
		kfree(m, m_bytes);
	if (s != MM_OK) {
		kprintf("efirt: off: the runtime window could not be mapped\n");
		return;
	}
	s = efirt_window_stack(as);
	if (s == MM_OK)
		s = map_tables(as, bi, &fw, &next, &rt_va);
	if (s != MM_OK) {
		kprintf("efirt: off: call stack or tables not mapped: %s\n", mm_status_str(s));
		return;
	}
	kprintf("efirt: window: %lu pages (%lu RX, %lu R, %lu RW+NX, %lu uncached), stack %lu KiB, %s\n",
		ws.rx + ws.r + ws.rw, ws.rx, ws.r, ws.rw, ws.uncached, (uint64_t)(EFIRT_STACK_SIZE >> 10),
		efirt_fpu_method());

	/* The entry point, physical for this call, must be runtime code. */
	uint64_t svam = fw.rt.set_virtual_address_map;
	size_t i;
	for (i = 0; i < nregions; i++)
		if (regions[i].type == EFI_RUNTIME_SERVICES_CODE && svam >= regions[i].pa &&
		    svam - regions[i].pa < (regions[i].pages << EFI_PAGE_SHIFT))
			break;
	if (i == nregions) {
		kprintf("efirt: off: SetVirtualAddressMap at 0x%lx is in no runtime code region\n", svam);
		return;
	}
	if (set_virtual_map(as, bi, svam))
		return;
	kprintf("efirt: SetVirtualAddressMap ok: %zu runtime regions at 0x%lx\n", nregions,
		regions[0].va);
	if (adopt_pointers(rt_va))
		return;
	if (cmdline_has(bi->cmdline, CMDLINE_TEST_UNMAP))
		test_unmap(as);
	get_time();
}

/* See efirt.h. */
void efirt_end_of_boot(const struct bootinfo *bi)
{
	int off = cmdline_has(bi->cmdline, CMDLINE_POWEROFF);
	int reboot = cmdline_has(bi->cmdline, CMDLINE_REBOOT);
	if ((!off && !reboot) || bootinfo_qemu_exit())
		return;
	const char *what = off ? "EfiResetShutdown" : "EfiResetCold";
	if (!efirt_call_enabled()) {
		kprintf("efirt: runtime services are off: no ResetSystem(%s); halting\n", what);
		return;
	}
	console_flush();
	uint64_t status;
	int c = efirt_call("ResetSystem", rt_reset_system, off ? EFI_RESET_SHUTDOWN : EFI_RESET_COLD,
			   EFI_SUCCESS, 0, 0, &status);
	if (c == EFIRT_CALL_OK)
		kprintf("efirt: ResetSystem(%s) returned; halting\n", what);
}
