/*
 * kernel/boot/handover.c - the kernel side of the hand-over: validation of
 * the BootInfo the loader passed, and access to it (handover.h).
 */
#include "kernel/boot/handover.h"
#include "lib/fmt.h"
#include "mm/layout.h"
#include "lib/range.h"
#include "mm/memmap.h"
#include "mm/x86_64.h"

static const struct bootinfo *kernel_bi;

#define FAIL(...) do { fmt_snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

/* See bootinfo.h. */
int bootinfo_check(const struct bootinfo *bi, char *err, size_t errlen)
{
	if (!bi)
		FAIL("no BootInfo pointer");
	if (bi->magic != BOOTINFO_MAGIC)
		FAIL("bad magic 0x%llx (expected 0x%llx)", (unsigned long long)bi->magic,
		     (unsigned long long)BOOTINFO_MAGIC);
	if (bi->version != BOOTINFO_VERSION)
		FAIL("version %u, this kernel understands %u", bi->version, BOOTINFO_VERSION);
	if (bi->size != sizeof(struct bootinfo))
		FAIL("size %u, expected %u", bi->size, (unsigned)sizeof(struct bootinfo));
	/* The levels choose where the direct map must be (mm/pgmode.h). */
	if (bi->paging_levels != PGMODE_LEVELS_4 && bi->paging_levels != PGMODE_LEVELS_5)
		FAIL("paging levels %u, this kernel runs 4 or 5", bi->paging_levels);
	int five = bi->paging_levels == PGMODE_LEVELS_5;
	uint64_t dm_base = five ? HHDM_BASE_5L : HHDM_BASE_4L;
	uint64_t dm_max = five ? HHDM_MAX_SIZE_5L : HHDM_MAX_SIZE_4L;
	if (bi->hhdm_offset != dm_base)
		FAIL("direct map at 0x%llx, this kernel puts it at 0x%llx under %u-level paging",
		     (unsigned long long)bi->hhdm_offset, (unsigned long long)dm_base,
		     bi->paging_levels);
	if (bi->hhdm_size == 0 || bi->hhdm_size > dm_max)
		FAIL("direct map size 0x%llx is 0 or above 0x%llx",
		     (unsigned long long)bi->hhdm_size, (unsigned long long)dm_max);
	if (!memmap_desc_size_ok(bi->memmap_desc_size) || bi->memmap_desc_size > BOOTINFO_DESC_MAX)
		FAIL("memory-map descriptor size %u (must be %u..%u, a multiple of %u)",
		     bi->memmap_desc_size, (unsigned)MEMMAP_EFI_DESC_MIN, BOOTINFO_DESC_MAX,
		     MEMMAP_EFI_DESC_ALIGN);
	if (bi->memmap_size == 0 || bi->memmap_size > BOOTINFO_MAP_MAX ||
	    bi->memmap_size % bi->memmap_desc_size)
		FAIL("memory-map size %llu is 0, above %u or not a multiple of %u",
		     (unsigned long long)bi->memmap_size, BOOTINFO_MAP_MAX, bi->memmap_desc_size);
	/* The stride keeps descriptors 8-byte aligned only from an aligned
	 * start: the sanitiser reads their 64-bit fields in place. */
	if (!is_aligned(bi->memmap_pa, MEMMAP_EFI_DESC_ALIGN))
		FAIL("memory map address 0x%llx is not %u-byte aligned",
		     (unsigned long long)bi->memmap_pa, MEMMAP_EFI_DESC_ALIGN);
	if (!range_within(bi->memmap_pa, bi->memmap_size, bi->hhdm_size))
		FAIL("memory map at 0x%llx (+%llu) is outside the direct map",
		     (unsigned long long)bi->memmap_pa, (unsigned long long)bi->memmap_size);
	if (bi->used_count > BOOTINFO_MAX_USED)
		FAIL("%u used ranges, at most %u", bi->used_count, BOOTINFO_MAX_USED);
	for (uint32_t i = 0; i < bi->used_count; i++) {
		const struct bootinfo_range *r = &bi->used[i];
		if (r->size == 0 || range_wraps(r->pa, r->size) || (r->pa | r->size) & PAGE_MASK ||
		    r->type < BOOTINFO_USED_KERNEL || r->type > BOOTINFO_USED_LAST)
			FAIL("used range %u [0x%llx, +0x%llx) type %u is empty, wraps, is not page-aligned or has an unknown type",
			     i, (unsigned long long)r->pa, (unsigned long long)r->size, r->type);
	}
	/* The raw map is still read once the frame allocator exists (the
	 * memory-map picture, the selftest): it must lie in the loader's
	 * bootinfo range, which the sanitiser keeps out of usable memory. */
	int kept = 0;
	for (uint32_t i = 0; i < bi->used_count && !kept; i++)
		kept = bi->used[i].type == BOOTINFO_USED_BOOTINFO &&
		       range_inside(bi->memmap_pa, bi->memmap_size, bi->used[i].pa,
				    bi->used[i].pa + bi->used[i].size);
	if (!kept)
		FAIL("no bootinfo used range holds the memory map at 0x%llx (+%llu): it could be handed out while still read",
		     (unsigned long long)bi->memmap_pa, (unsigned long long)bi->memmap_size);
	if ((bi->flags & BOOTINFO_F_RAMDISK) &&
	    (bi->ramdisk_size == 0 || range_wraps(bi->ramdisk_pa, bi->ramdisk_size)))
		FAIL("ramdisk [0x%llx, +0x%llx) is empty or wraps",
		     (unsigned long long)bi->ramdisk_pa, (unsigned long long)bi->ramdisk_size);
	/* The trampoline (v3): none (0, 0), or whole pages below 1 MiB that a
	 * trampoline used range holds, so the sanitiser keeps them out of the
	 * frame allocator while the APs start from them. */
	if (bi->trampoline_pa || bi->trampoline_size) {
		int held = 0;
		for (uint32_t i = 0; i < bi->used_count && !held; i++)
			held = bi->used[i].type == BOOTINFO_USED_TRAMPOLINE &&
			       range_inside(bi->trampoline_pa, bi->trampoline_size, bi->used[i].pa,
					    bi->used[i].pa + bi->used[i].size);
		if (bi->trampoline_size == 0 || (bi->trampoline_pa | bi->trampoline_size) & PAGE_MASK ||
		    !range_within(bi->trampoline_pa, bi->trampoline_size, BOOTINFO_TRAMPOLINE_LIMIT) ||
		    !held)
			FAIL("trampoline [0x%llx, +0x%llx) is empty, not page-aligned, not below 1 MiB or not in a trampoline used range",
			     (unsigned long long)bi->trampoline_pa, (unsigned long long)bi->trampoline_size);
	}
	int nul = 0;
	for (size_t i = 0; i < sizeof(bi->cmdline) && !nul; i++)
		nul = bi->cmdline[i] == '\0';
	if (!nul)
		FAIL("command line is not NUL-terminated");
	return 0;
}

/* See bootinfo.h. */
void bootinfo_set(const struct bootinfo *bi)
{
	kernel_bi = bi;
}

/* See bootinfo.h. */
const struct bootinfo *bootinfo_get(void)
{
	return kernel_bi;
}

/* See bootinfo.h. */
int bootinfo_qemu_exit(void)
{
	return kernel_bi && (kernel_bi->flags & BOOTINFO_F_QEMU_EXIT);
}
