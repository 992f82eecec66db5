/*
 * kernel/ramdisk/ramdisk.c - the initrd demo (kernel only); the archive walking is
 * kernel/ramdisk/ustar.c, shared with the host tests.
 *
 * Output:
 *   ramdisk: phys=0x<16 hex> size=<bytes>
 *   ramdisk: file <name> size=<bytes>            one per regular file
 *   ramdisk: <n> files, <bytes> bytes, checksums ok
 *     or ramdisk: error: <what> at entry "<name>" (offset <n>)
 *   ramdisk: hello.txt: <line>                   one per line of hello.txt
 */
#include "kernel/console/console.h"
#include "kernel/ramdisk/ramdisk.h"
#include "kernel/ramdisk/ustar.h"

void ramdisk_run(const struct bootinfo *bi, const struct physmap *pm)
{
	if (!(bi->flags & BOOTINFO_F_RAMDISK) || bi->ramdisk_size == 0) {
		kprintf("ramdisk: none loaded\n");
		return;
	}
	const uint8_t *rd = pm->map(pm->ctx, bi->ramdisk_pa, bi->ramdisk_size, PHYSMAP_CACHED);
	if (!rd) {
		kprintf("ramdisk: cannot map 0x%016llx size %llu\n",
			(unsigned long long)bi->ramdisk_pa, (unsigned long long)bi->ramdisk_size);
		return;
	}
	kprintf("ramdisk: phys=0x%016llx size=%llu\n", (unsigned long long)bi->ramdisk_pa,
		(unsigned long long)bi->ramdisk_size);
	ustar_list(rd, bi->ramdisk_size, "ramdisk");

	struct ustar_entry e;
	enum ustar_status st = ustar_find(rd, bi->ramdisk_size, "hello.txt", &e);
	if (st == USTAR_OK)
		ustar_print_text(&e, "ramdisk");
	else if (st == USTAR_END)
		kprintf("ramdisk: no hello.txt\n");
	else
		kprintf("ramdisk: hello.txt not reached: %s\n", ustar_status_str(st));
	pm->unmap(pm->ctx, (void *)rd, bi->ramdisk_size);
}
