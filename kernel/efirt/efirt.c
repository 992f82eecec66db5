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
#include "kernel/efirt/fw_read.h"
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

/* Maps the three tables into the window (theory 1); *rt_va gets the
 * runtime services table's address there.  MM status. */
static int map_tables(struct addrspace *as, const struct bootinfo *bi, const struct efirt_fw *fw,
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

/* Calls GetTime and prints it, if its fields are in range (a firmware
 * lie is reported and not printed as a date). */
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
	if (efirt_time_check(&t) != EFIRT_OK) {
		kprintf("efirt: GetTime returned an invalid time: year %u month %u day %u %02u:%02u:%02u, "
			"nanosecond %u, zone %d\n", t.year, t.month, t.day, t.hour, t.minute, t.second,
			t.nanosecond, t.time_zone);
		return;
	}
	kprintf("efirt: GetTime %04u-%02u-%02u %02u:%02u:%02u\n", t.year, t.month, t.day, t.hour,
		t.minute, t.second);
}

/* See efirt.h. */
void efirt_init(const struct bootinfo *bi)
{
	struct addrspace *as = addrspace_kernel();
	struct efirt_fw fw;
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
	if (efirt_read_tables(bi, &fw))
		return;

	struct efirt_mat_entry *m;
	uint64_t m_bytes, next, rt_va;
	size_t k;
	struct efirt_window_stats ws;
	efirt_read_mat(fw.mat_pa, regions, nregions, &m, &m_bytes, &k);
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
