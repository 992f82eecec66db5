/*
 * efi/main.c - the memboot loader: a UEFI application that loads the kernel
 * from its own volume and hands over a struct bootinfo.
 *
 * Order of the boot (each step prints a clear error and returns it to the
 * firmware on failure; nothing hangs):
 *   1. open the boot volume; read \boot\cmdline (optional), \boot\kernel.elf
 *      and \boot\initrd (optional); a pinned build (efi/pins.h) refuses
 *      either file unless its SHA-256 is the one built in;
 *   2. validate the ELF (efi/elf.c), copy its segments into fresh pages;
 *   3. note the GOP framebuffer and the ACPI RSDP;
 *   4. probe the memory map; build page tables: the direct map of RAM only
 *      (mm/hhdm.h plans it: 1 GiB pages if the CPU has them and the whole
 *      GiB is RAM, else 2 MiB, 4 KiB at the edges), kernel segments with
 *      their permissions, kernel stack over an unmapped guard page, and,
 *      identity-mapped, the loader's own image for the instant of the CR3
 *      switch and the safety net (efi/safetynet.c) with the framebuffer;
 *   5. allocate BootInfo with room for the final map; ExitBootServices;
 *      safety-net IDT; jump (efi/handoff.c).
 */
#include "lib/cmdline.h"
#include "efi/elf.h"
#include "efi/loader.h"
#include "efi/pins.h"
#include "efi/sha256.h"
#include "mm/hhdm.h"
#include "mm/layout.h"
#include "mm/pgmode.h"
#include "mm/status.h"
#include "lib/range.h"
#include "lib/string.h"
#include "mm/x86_64.h"

EFI_SYSTEM_TABLE *efi_st;
EFI_BOOT_SERVICES *efi_bs;

/* A kernel file larger than this is refused before it is read: 64 MiB is
 * many times this kernel with full debug info. */
#define KERNEL_FILE_MAX   (64ULL << 20)
/* Ramdisks up to 1 GiB; the kernel maps them whole with mem_map_addr. */
#define INITRD_FILE_MAX   (1ULL << 30)
/* Slack for descriptors that appear between the probe and the final
 * GetMemoryMap (our own BootInfo allocation splits at most a few). */
#define MAP_SLACK_DESCS   32
/* \boot\cmdline: only its first line (< BOOTINFO_CMDLINE_MAX) is used; a
 * bigger file is refused as not a command line. */
#define CMDLINE_FILE_MAX  4096
/* The cmdline word asking the kernel to exit QEMU when done. */
#define CMDLINE_QEMU_EXIT "qemu-exit"
/* The cmdline word that makes the loader change the memory map once between
 * GetMemoryMap and ExitBootServices, so the retry path runs (boot tests). */
#define CMDLINE_EXIT_RETRY "test-exit-retry"
/* The cmdline word that makes the loader pose as firmware which leaves
 * EFI_MEMORY_WB off the RAM above 4 GiB (boot tests; handoff.c). */
#define CMDLINE_NO_WB_ABOVE_4G "test-no-wb-above-4g"
/* The cmdline word that makes the loader skip the AP trampoline pages, as
 * if the firmware had none below 1 MiB (boot tests: the kernel then runs
 * on one CPU). */
#define CMDLINE_NO_TRAMPOLINE "test-no-trampoline"

/* The cmdline word asking for 5-level paging even when the RAM fits the
 * 4-level direct map (the CPU must have LA57). */
#define CMDLINE_PAGING5 "paging=5"
/* The cmdline word that makes the loader pose as newer firmware that hands
 * over with 5-level paging on: it switches to 5 levels (efi/la57.c) right
 * after reading the command line, before anything else (boot tests). */
#define CMDLINE_LA57_FIRMWARE "test-la57-firmware"
/* The cmdline word that makes BootInfo name the other paging levels (and
 * their direct-map base) than the tables handed over: the kernel's CR4.LA57
 * check must catch it (boot tests). */
#define CMDLINE_LEVELS_LIE "test-paging-levels-lie"

/* Byte offset of the revision in the RSDP (ACPI 6.5, 5.2.5.3). */
#define RSDP_REVISION_OFFSET 15

/* Page-table pool sizing (pool_pages).  A range that does not start and end
 * on a table boundary can touch one more table at each end. */
#define PT_EDGE_TABLES    2
/* The kernel image, its stack, the loader's image, the safety net and the
 * framebuffer: small mappings that may each need a table of their own at
 * every level between the root and their page tables (a PDPT and a PD; a
 * PML4 too under 5-level paging: pgmode_levels() - 2 tables). */
#define PT_SMALL_MAPPINGS 5
/* Pages on top of the estimate, in case it is wrong: 64 KiB. */
#define PT_POOL_MARGIN    16

/* See loader.h. */
EFI_STATUS lalloc_pages(uint64_t pages, uint64_t *pa)
{
	EFI_PHYSICAL_ADDRESS a = 0;
	EFI_STATUS st = efi_bs->AllocatePages(AllocateAnyPages, EfiLoaderData, pages, &a);
	if (EFI_ERROR(st))
		return st;
	efi_bs->SetMem((void *)(uintptr_t)a, pages * PAGE_SIZE, 0);
	*pa = a;
	return EFI_SUCCESS;
}

/* In a pinned build, checks that the SHA-256 of the size bytes at pa is
 * want; on a mismatch prints why, waits so a person can read it, and
 * returns EFI_SECURITY_VIOLATION. */
static EFI_STATUS check_pin(const char *name, uint64_t pa, uint64_t size, const uint8_t want[32])
{
	uint8_t got[SHA256_DIGEST_SIZE];
	if (!loader_pins.enabled)
		return EFI_SUCCESS;
	sha256((const void *)(uintptr_t)pa, size, got);
	if (sha256_equal(got, want))
		return EFI_SUCCESS;
	lfail(EFI_SECURITY_VIOLATION, "%s: SHA-256 %02x%02x%02x%02x... differs from the %02x%02x%02x%02x... this loader was built with; refusing to boot it",
	      name, got[0], got[1], got[2], got[3], want[0], want[1], want[2], want[3]);
	efi_bs->Stall(5 * 1000 * 1000);
	return EFI_SECURITY_VIOLATION;
}

/* Adds a loader-used range to bi. */
static void note_used(struct bootinfo *bi, uint64_t pa, uint64_t size, uint32_t type)
{
	if (bi->used_count < BOOTINFO_MAX_USED)
		bi->used[bi->used_count++] = (struct bootinfo_range){ pa, size, type, 0 };
}

/* Reserves BOOTINFO_TRAMPOLINE_PAGES pages below 1 MiB for the APs'
 * real-mode start (a startup IPI names a page there): loader data, listed
 * as a trampoline used range.  If the firmware has none left, says so and
 * leaves bi->trampoline_pa/size 0 - the kernel then runs on one CPU. */
static void reserve_trampoline(struct bootinfo *bi)
{
	EFI_PHYSICAL_ADDRESS a = BOOTINFO_TRAMPOLINE_LIMIT - 1;
	uint64_t size = BOOTINFO_TRAMPOLINE_PAGES * PAGE_SIZE;
	EFI_STATUS st = cmdline_has(bi->cmdline, CMDLINE_NO_TRAMPOLINE) ? EFI_OUT_OF_RESOURCES :
		efi_bs->AllocatePages(AllocateMaxAddress, EfiLoaderData,
				      BOOTINFO_TRAMPOLINE_PAGES, &a);
	if (EFI_ERROR(st)) {
		lprintf("memboot: no %llu pages below 1 MiB for the AP trampoline (status 0x%llx): the kernel will use one CPU\n",
			(unsigned long long)BOOTINFO_TRAMPOLINE_PAGES, (unsigned long long)st);
		return;
	}
	efi_bs->SetMem((void *)(uintptr_t)a, size, 0);
	bi->trampoline_pa = a;
	bi->trampoline_size = size;
	note_used(bi, a, size, BOOTINFO_USED_TRAMPOLINE);
	lprintf("memboot: AP trampoline at phys 0x%llx (%llu pages)\n", (unsigned long long)a,
		(unsigned long long)BOOTINFO_TRAMPOLINE_PAGES);
}

/* Reads \boot\cmdline into bi->cmdline (first line, at most 255 bytes) and
 * sets the flags it names ("qemu-exit"). */
static EFI_STATUS read_cmdline(EFI_FILE_HANDLE root, struct bootinfo *bi)
{
	uint64_t pa, size;
	EFI_STATUS st = file_read(root, L"\\boot\\cmdline", "\\boot\\cmdline", CMDLINE_FILE_MAX,
				  1, &pa, &size);
	if (st == EFI_NOT_FOUND)
		return EFI_SUCCESS;
	if (EFI_ERROR(st))
		return st;
	const char *text = (const char *)(uintptr_t)pa;
	uint64_t n = 0;
	while (n < size && n < BOOTINFO_CMDLINE_MAX - 1 && text[n] != '\n' && text[n] != '\r')
		bi->cmdline[n] = text[n], n++;
	bi->cmdline[n] = '\0';
	efi_bs->FreePages(pa, PAGE_ROUND_UP(size) >> PAGE_SHIFT);

	if (cmdline_has(bi->cmdline, CMDLINE_QEMU_EXIT))
		bi->flags |= BOOTINFO_F_QEMU_EXIT;
	handoff_force_retry = cmdline_has(bi->cmdline, CMDLINE_EXIT_RETRY);
	handoff_no_wb_above_4g = cmdline_has(bi->cmdline, CMDLINE_NO_WB_ABOVE_4G);
	return EFI_SUCCESS;
}

/* Reads and validates \boot\kernel.elf, copies its segments into one
 * allocation (bi->kernel_pa); *img describes the segments. */
static EFI_STATUS load_kernel(EFI_FILE_HANDLE root, struct bootinfo *bi, struct elf_image *img)
{
	uint64_t fpa, fsize, kpa;
	char err[160];
	EFI_STATUS st = file_read(root, L"\\boot\\kernel.elf", "\\boot\\kernel.elf",
				  KERNEL_FILE_MAX, 0, &fpa, &fsize);
	if (st == EFI_NOT_FOUND)
		return lfail(st, "\\boot\\kernel.elf not found on the boot volume");
	if (EFI_ERROR(st))
		return st;
	if (EFI_ERROR((st = check_pin("\\boot\\kernel.elf", fpa, fsize, loader_pins.kernel))))
		return st;
	const uint8_t *file = (const uint8_t *)(uintptr_t)fpa;
	if (elf_check(file, fsize, KERNEL_VA_BASE, img, err, sizeof(err)))
		return lfail(EFI_LOAD_ERROR, "\\boot\\kernel.elf: %s", err);

	uint64_t span = img->va_hi - img->va_lo;
	st = lalloc_pages(span >> PAGE_SHIFT, &kpa);
	if (EFI_ERROR(st))
		return lfail(st, "no memory for the kernel image (%llu bytes)", (unsigned long long)span);
	for (uint32_t i = 0; i < img->nseg; i++) {
		const struct elf_segment *s = &img->seg[i];
		/* The pages are zeroed already: that is the .bss part. */
		efi_bs->CopyMem((void *)(uintptr_t)(kpa + (s->vaddr - img->va_lo)),
				(void *)(file + s->offset), s->filesz);
	}
	efi_bs->FreePages(fpa, PAGE_ROUND_UP(fsize) >> PAGE_SHIFT);
	bi->kernel_pa = kpa;
	bi->kernel_va = img->va_lo;
	bi->kernel_size = span;
	note_used(bi, kpa, span, BOOTINFO_USED_KERNEL);
	lprintf("memboot: kernel.elf: %u segments, 0x%llx-0x%llx at phys 0x%llx, entry 0x%llx\n",
		img->nseg, (unsigned long long)img->va_lo, (unsigned long long)img->va_hi,
		(unsigned long long)kpa, (unsigned long long)img->entry);
	return EFI_SUCCESS;
}

/* Reads the optional \boot\initrd into bi. */
static EFI_STATUS load_initrd(EFI_FILE_HANDLE root, struct bootinfo *bi)
{
	uint64_t pa, size;
	EFI_STATUS st = file_read(root, L"\\boot\\initrd", "\\boot\\initrd", INITRD_FILE_MAX,
				  !loader_pins.enabled, &pa, &size);
	if (st == EFI_NOT_FOUND && loader_pins.enabled)
		return lfail(st, "\\boot\\initrd is missing, but this loader was built with its SHA-256 pinned");
	if (st == EFI_NOT_FOUND)
		return EFI_SUCCESS;
	if (EFI_ERROR(st))
		return st;
	if (EFI_ERROR((st = check_pin("\\boot\\initrd", pa, size, loader_pins.initrd))))
		return st;
	bi->ramdisk_pa = pa;
	bi->ramdisk_size = size;
	bi->flags |= BOOTINFO_F_RAMDISK;
	note_used(bi, pa, PAGE_ROUND_UP(size), BOOTINFO_USED_RAMDISK);
	return EFI_SUCCESS;
}

/* Prints the GOP mode the firmware set and the largest it offers (by
 * pixels), from QueryMode: the mode is kept (on a PC the firmware picked
 * the panel's native one); the line says what else there would be. */
static void gop_list_modes(EFI_GRAPHICS_OUTPUT_PROTOCOL *gop)
{
	uint32_t best = gop->Mode->Mode;
	uint64_t best_px = 0, bw = 0, bh = 0;
	for (uint32_t m = 0; m < gop->Mode->MaxMode; m++) {
		EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *mi;
		UINTN size;
		if (EFI_ERROR(gop->QueryMode(gop, m, &size, &mi)))
			continue;
		uint64_t px = (uint64_t)mi->HorizontalResolution * mi->VerticalResolution;
		if (px > best_px) {
			best_px = px;
			best = m;
			bw = mi->HorizontalResolution;
			bh = mi->VerticalResolution;
		}
		efi_bs->FreePool(mi);
	}
	lprintf("memboot: GOP mode %u of %u: %ux%u; the largest offered is mode %u, %lux%lu\n",
		gop->Mode->Mode, gop->Mode->MaxMode, gop->Mode->Info->HorizontalResolution,
		gop->Mode->Info->VerticalResolution, best, bw, bh);
}

/* Records the GOP framebuffer, if the firmware has one with a linear buffer. */
static void find_gop(struct bootinfo *bi)
{
	EFI_GUID gop_guid = EFI_GRAPHICS_OUTPUT_PROTOCOL_GUID;
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop;
	if (EFI_ERROR(efi_bs->LocateProtocol(&gop_guid, NULL, (void **)&gop)) || !gop->Mode)
		return;
	EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info = gop->Mode->Info;
	gop_list_modes(gop);
	if (info->PixelFormat != PixelRedGreenBlueReserved8BitPerColor &&
	    info->PixelFormat != PixelBlueGreenRedReserved8BitPerColor &&
	    info->PixelFormat != PixelBitMask)
		return; /* blit-only: no linear framebuffer to draw in */
	bi->fb.pa = gop->Mode->FrameBufferBase;
	bi->fb.size = gop->Mode->FrameBufferSize;
	bi->fb.width = info->HorizontalResolution;
	bi->fb.height = info->VerticalResolution;
	/* Bytes per pixel: 4 for RGBX/BGRX; for a bitmask format, enough bytes
	 * to hold its highest mask bit. */
	uint32_t masks = info->PixelInformation.RedMask | info->PixelInformation.GreenMask |
			 info->PixelInformation.BlueMask | info->PixelInformation.ReservedMask;
	uint32_t bpp = 4;
	if (info->PixelFormat == PixelBitMask)
		bpp = masks >> 24 ? 4 : masks >> 16 ? 3 : masks >> 8 ? 2 : 1;
	bi->fb.pitch = info->PixelsPerScanLine * bpp;
	bi->fb.format = info->PixelFormat;
	bi->fb.red_mask = info->PixelInformation.RedMask;
	bi->fb.green_mask = info->PixelInformation.GreenMask;
	bi->fb.blue_mask = info->PixelInformation.BlueMask;
	bi->fb.reserved_mask = info->PixelInformation.ReservedMask;
	bi->flags |= BOOTINFO_F_GOP;
}

/* Records the ACPI RSDP: the ACPI 2.0 entry of the configuration table if
 * present, the 1.0 one otherwise. */
static void find_rsdp(struct bootinfo *bi)
{
	EFI_GUID want[2] = { ACPI_20_TABLE_GUID, ACPI_TABLE_GUID };
	for (int w = 0; w < 2; w++) {
		for (UINTN i = 0; i < efi_st->NumberOfTableEntries; i++) {
			EFI_CONFIGURATION_TABLE *t = &efi_st->ConfigurationTable[i];
			if (__builtin_memcmp(&t->VendorGuid, &want[w], sizeof(EFI_GUID)))
				continue;
			bi->rsdp_pa = (uint64_t)(uintptr_t)t->VendorTable;
			bi->rsdp_revision = ((const uint8_t *)t->VendorTable)[RSDP_REVISION_OFFSET];
			bi->flags |= BOOTINFO_F_RSDP;
			return;
		}
	}
}

/* Does this CPU have 1 GiB pages? */
static int cpu_has_1g_pages(void)
{
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(CPUID_EXT_MAX));
	if (a < CPUID_EXT_FEATURES)
		return 0;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(CPUID_EXT_FEATURES));
	return (d & CPUID_EXT_EDX_PAGE1GB) != 0;
}

/* A snapshot of the memory map (allocated from pool memory) to size the
 * direct map and the page-table pool. */
struct mapshot {
	EFI_MEMORY_DESCRIPTOR *map;
	UINTN size, dsize;
};

static EFI_STATUS map_probe(struct mapshot *ms)
{
	UINTN key;
	UINT32 ver;
	EFI_STATUS st;
	ms->size = 0;
	ms->map = NULL;
	st = efi_bs->GetMemoryMap(&ms->size, NULL, &key, &ms->dsize, &ver);
	if (st != EFI_BUFFER_TOO_SMALL)
		return lfail(st, "GetMemoryMap size probe failed");
	ms->size += MAP_SLACK_DESCS * ms->dsize;
	st = efi_bs->AllocatePool(EfiLoaderData, ms->size, (void **)&ms->map);
	if (EFI_ERROR(st))
		return lfail(st, "no memory for a copy of the memory map");
	st = efi_bs->GetMemoryMap(&ms->size, ms->map, &key, &ms->dsize, &ver);
	if (EFI_ERROR(st))
		return lfail(st, "GetMemoryMap failed");
	map_test_no_wb(ms->map, ms->size, ms->dsize);
	return EFI_SUCCESS;
}

#define FOR_EACH_DESC(ms, d) \
	for (EFI_MEMORY_DESCRIPTOR *d = (ms)->map; \
	     (uint8_t *)d + (ms)->dsize <= (uint8_t *)(ms)->map + (ms)->size; \
	     d = (EFI_MEMORY_DESCRIPTOR *)((uint8_t *)d + (ms)->dsize))

/* Returns the end of the highest direct-mapped descriptor of ms (the RAM
 * top the direct map must reach; a wrapping descriptor counts as 2^64). */
static uint64_t ram_top(const struct mapshot *ms)
{
	uint64_t top = 0;
	FOR_EACH_DESC(ms, d) {
		uint64_t end;
		if (!hhdm_desc_mapped(d->Type, d->Attribute) || d->NumberOfPages == 0)
			continue;
		if (d->NumberOfPages > (UINT64_MAX >> PAGE_SHIFT) ||
		    !range_end(d->PhysicalStart, d->NumberOfPages << PAGE_SHIFT, &end))
			end = UINT64_MAX;
		if (end > top)
			top = end;
	}
	return top;
}

/*
 * Chooses the paging levels of the kernel's tables and sets the mode
 * (mm/pgmode.h): 5 if the firmware already runs 5-level paging (the loader
 * cannot leave it without a trip through 32-bit code; it keeps it); else 5
 * if the CPU has LA57 and the RAM top is beyond the 4-level direct map or
 * the command line says paging=5 - the hand-off then switches up
 * (efi/la57.c, prepared here while boot services last); else 4.  Prints
 * the choice.  EFI_SUCCESS or la57_prepare's error.
 */
static EFI_STATUS choose_levels(const struct mapshot *ms, const struct bootinfo *bi)
{
	static const char *const whys[] = {
		[PGMODE_WHY_FITS] = "the RAM fits the 4-level direct map",
		[PGMODE_WHY_FIRMWARE] = "the firmware runs 5-level paging (CR4.LA57 on at entry)",
		[PGMODE_WHY_BIG] = "RAM beyond the 4-level direct map: switching up at the hand-off",
		[PGMODE_WHY_ASKED] = "paging=5: switching up at the hand-off",
		[PGMODE_WHY_NO_LA57] = "the CPU has no LA57 (CPUID 7.0:ECX[16])",
	};
	uint64_t top = ram_top(ms);
	int fw = la57_active();
	enum pgmode_why why;
	unsigned levels = pgmode_choose(fw, la57_cpu_has(), top,
					cmdline_has(bi->cmdline, CMDLINE_PAGING5), &why);
	EFI_STATUS st;

	if (levels == PGMODE_LEVELS_5 && !fw && EFI_ERROR((st = la57_prepare())))
		return st;
	pgmode_set(levels);
	lprintf("memboot: paging: %u levels (%s), RAM top 0x%llx\n", levels, whys[why],
		(unsigned long long)top);
	return EFI_SUCCESS;
}

/* The direct map's plan (mm/hhdm.h), in pool memory: the RAM ranges and
 * the pieces of one page size each. */
struct dmplan {
	struct hhdm_range *ranges;
	size_t nranges;
	struct hhdm_piece *pieces;
	size_t npieces;
};

/* Plans the direct map of the memory map ms with pages up to max_page.
 * Memory beyond the direct map's HHDM_MAX_SIZE is an error. */
static EFI_STATUS plan_hhdm(const struct mapshot *ms, uint64_t max_page, struct dmplan *p)
{
	size_t n = ms->size / ms->dsize;
	EFI_STATUS st;
	if (EFI_ERROR((st = efi_bs->AllocatePool(EfiLoaderData, n * sizeof(*p->ranges), (void **)&p->ranges))) ||
	    EFI_ERROR((st = efi_bs->AllocatePool(EfiLoaderData, 5 * n * sizeof(*p->pieces), (void **)&p->pieces))))
		return lfail(st, "no memory to plan the direct map");
	int s = hhdm_ranges(ms->map, n * ms->dsize, (uint32_t)ms->dsize, p->ranges, n, &p->nranges);
	if (s == MM_ERANGE)
		return lfail(EFI_UNSUPPORTED, "RAM beyond the %llu GiB direct map (or a descriptor that wraps)",
			     (unsigned long long)(HHDM_MAX_SIZE >> 30));
	if (s == MM_OK)
		s = hhdm_plan(p->ranges, p->nranges, max_page, p->pieces, 5 * n, &p->npieces);
	if (s != MM_OK)
		return lfail(EFI_LOAD_ERROR, "cannot plan the direct map: %s", mm_status_str(s));
	if (p->npieces == 0)
		return lfail(EFI_UNSUPPORTED, "the memory map has no write-back RAM");
	return EFI_SUCCESS;
}

/* Builds the direct map from the plan: RW+NX at HHDM_BASE + pa, RAM only
 * (MMIO and firmware-reserved memory are left to mem_map_addr, which can
 * map them uncached). */
static EFI_STATUS map_hhdm(struct ptpool *pool, uint64_t root, const struct dmplan *p,
			   struct bootinfo *bi)
{
	for (size_t i = 0; i < p->npieces; i++) {
		const struct hhdm_piece *c = &p->pieces[i];
		EFI_STATUS st = pt_map(pool, root, HHDM_BASE + c->pa, c->pa, c->size,
				       c->page_size, PTE_W | PTE_NX);
		if (EFI_ERROR(st))
			return st;
	}
	bi->hhdm_offset = HHDM_BASE;
	bi->hhdm_size = hhdm_plan_count(p->pieces, p->npieces).top;
	return EFI_SUCCESS;
}

/* Page tables of a small identity or kernel mapping of size bytes: a PT per
 * 2 MiB and one more at each end. */
static uint64_t small_tables(uint64_t size)
{
	return size / LARGE_SIZE + PT_EDGE_TABLES;
}

/* Page-table pages the whole build needs, with a margin: the root, the
 * direct map's tables exactly (hhdm_plan_tables), a PT per 2 MiB of kernel,
 * stack, loader image, safety net and framebuffer, and their upper tables. */
static uint64_t pool_pages(const struct dmplan *p, const struct elf_image *img,
			   uint64_t loader_size, uint64_t fb_size)
{
	uint64_t n = 1;                                         /* the root */
	n += hhdm_plan_tables(p->pieces, p->npieces);           /* direct map */
	for (uint32_t i = 0; i < img->nseg; i++)                /* kernel PTs */
		n += small_tables(img->seg[i].pages * PAGE_SIZE);
	n += small_tables(KSTACK_SIZE) + small_tables(loader_size) +
	     small_tables(SAFETYNET_PAGES * PAGE_SIZE) + small_tables(fb_size);
	n += PT_SMALL_MAPPINGS * (pgmode_levels() - 2);       /* their upper tables */
	return n + PT_POOL_MARGIN;
}

/* Identity-maps the framebuffer write-through for the safety net, if it
 * can be: below the top of the lower half and clear of the loader's
 * identity mappings.  Returns the bytes mapped (0: none). */
static uint64_t map_fb_identity(struct ptpool *pool, uint64_t root, const struct bootinfo *bi,
				uint64_t ld_lo, uint64_t ld_hi, uint64_t net_pa, uint64_t net_size)
{
	if (!(bi->flags & BOOTINFO_F_GOP))
		return 0;
	uint64_t lo = PAGE_ROUND_DOWN(bi->fb.pa), hi;
	if (!range_end(bi->fb.pa, bi->fb.size, &hi) || bi->fb.size == 0)
		return 0;
	hi = PAGE_ROUND_UP(hi);
	if (hi > USER_END || ranges_overlap(lo, hi - lo, ld_lo, ld_hi - ld_lo) ||
	    ranges_overlap(lo, hi - lo, net_pa, net_size))
		return 0;
	if (EFI_ERROR(pt_map(pool, root, lo, lo, hi - lo, PAGE_SIZE, PTE_W | PTE_NX | PTE_PWT)))
		return 0;
	safetynet_set_fb(&bi->fb);
	return hi - lo;
}

/* Maps the kernel segments with the permissions of their program headers. */
static EFI_STATUS map_kernel(struct ptpool *pool, uint64_t root, const struct elf_image *img,
			     uint64_t kpa)
{
	for (uint32_t i = 0; i < img->nseg; i++) {
		const struct elf_segment *s = &img->seg[i];
		uint64_t flags = ((s->flags & ELF_PF_W) ? PTE_W : 0) |
				 ((s->flags & ELF_PF_X) ? 0 : PTE_NX);
		EFI_STATUS st = pt_map(pool, root, s->va, kpa + (s->va - img->va_lo),
				       s->pages * PAGE_SIZE, PAGE_SIZE, flags);
		if (EFI_ERROR(st))
			return st;
	}
	return EFI_SUCCESS;
}

/* With the cmdline word test-la57-firmware, switches to 5-level paging now,
 * so the rest of the loader runs as under firmware that turned LA57 on.
 * EFI_SUCCESS (also without the word, or without LA57: then it says so),
 * or la57_prepare's error. */
static EFI_STATUS test_la57_firmware(const struct bootinfo *bi)
{
	if (!cmdline_has(bi->cmdline, CMDLINE_LA57_FIRMWARE))
		return EFI_SUCCESS;
	if (!la57_cpu_has()) {
		lprintf("memboot: test-la57-firmware: the CPU has no LA57: staying at 4 levels\n");
		return EFI_SUCCESS;
	}
	EFI_STATUS st = la57_prepare();
	if (EFI_ERROR(st))
		return st;
	int rc = la57_switch();
	lprintf("memboot: test-la57-firmware: %s\n", rc == 0 ?
		"now running 5-level paging, as newer firmware hands over" :
		"the switch to 5-level paging did not take");
	return rc == 0 ? EFI_SUCCESS : EFI_LOAD_ERROR;
}

EFI_STATUS EFIAPI efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	static struct bootinfo info; /* filled here, copied into BootInfo pages */
	struct bootinfo *bi = &info;
	struct elf_image img;
	EFI_FILE_HANDLE root;
	EFI_STATUS st;

	/* Boot timeline: the loader's first stamp (kernel/time/boottime.h). */
	bi->tsc_loader_entry = bootinfo_rdtsc();
	efi_st = systab;
	efi_bs = systab->BootServices;
	lprintf("memboot: loader starting (%s)\n", loader_pins.enabled ?
		"kernel.elf and initrd pinned by SHA-256" : "development build: no hash pinning");

	if (EFI_ERROR((st = file_open_root(image, &root))) ||
	    EFI_ERROR((st = read_cmdline(root, bi))) ||
	    EFI_ERROR((st = test_la57_firmware(bi))) ||
	    EFI_ERROR((st = load_kernel(root, bi, &img))) ||
	    EFI_ERROR((st = load_initrd(root, bi))))
		return st;
	find_gop(bi);
	find_rsdp(bi);

	EFI_GUID li_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
	EFI_LOADED_IMAGE *li;
	if (EFI_ERROR((st = efi_bs->HandleProtocol(image, &li_guid, (void **)&li))))
		return lfail(st, "no Loaded Image protocol");
	uint64_t ld_lo = PAGE_ROUND_DOWN((uint64_t)(uintptr_t)li->ImageBase);
	uint64_t ld_hi = PAGE_ROUND_UP((uint64_t)(uintptr_t)li->ImageBase + li->ImageSize);

	/* Kernel stack. */
	uint64_t stack_pa;
	if (EFI_ERROR((st = lalloc_pages(KSTACK_SIZE / PAGE_SIZE, &stack_pa))))
		return lfail(st, "no memory for the kernel stack");
	note_used(bi, stack_pa, KSTACK_SIZE, BOOTINFO_USED_STACK);
	bi->stack_top_va = KSTACK_TOP;
	bi->stack_size = KSTACK_SIZE;

	/* The APs' trampoline pages below 1 MiB (before the map probe, so the
	 * direct map covers them); without them the kernel runs on one CPU. */
	reserve_trampoline(bi);

	/* The safety net's area (efi/safetynet.c), before the map probe so the
	 * plan sees it as loader data. */
	uint64_t net_pa, net_size;
	if (EFI_ERROR((st = safetynet_prepare(&net_pa, &net_size))))
		return st;

	/* Page tables.  Every allocation after the probe turns free RAM into
	 * loader data, which the plan maps all the same. */
	struct mapshot ms;
	struct dmplan plan;
	if (EFI_ERROR((st = map_probe(&ms))) || EFI_ERROR((st = choose_levels(&ms, bi))))
		return st;
	uint64_t max_page = cpu_has_1g_pages() ? HUGE_SIZE : LARGE_SIZE;
	if (max_page == HUGE_SIZE)
		bi->flags |= BOOTINFO_F_HUGE_1G;
	if (EFI_ERROR((st = plan_hhdm(&ms, max_page, &plan))))
		return st;
	efi_bs->FreePool(ms.map);
	struct ptpool pool;
	uint64_t fb_size = (bi->flags & BOOTINFO_F_GOP) ? PAGE_ROUND_UP(bi->fb.size) + PAGE_SIZE : 0;
	uint64_t npt = pool_pages(&plan, &img, ld_hi - ld_lo, fb_size);
	if (EFI_ERROR((st = pt_pool_init(&pool, npt))))
		return lfail(st, "no memory for %llu page-table pages", (unsigned long long)npt);
	note_used(bi, pool.pa, pool.pages * PAGE_SIZE, BOOTINFO_USED_PAGETABLES);
	uint64_t pt_root = pool.pa + PAGE_SIZE * pool.used++;
	if (EFI_ERROR((st = map_hhdm(&pool, pt_root, &plan, bi))) ||
	    EFI_ERROR((st = map_kernel(&pool, pt_root, &img, bi->kernel_pa))) ||
	    EFI_ERROR((st = pt_map(&pool, pt_root, KSTACK_TOP - KSTACK_SIZE, stack_pa, KSTACK_SIZE,
				  PAGE_SIZE, PTE_W | PTE_NX))) ||
	    EFI_ERROR((st = pt_map(&pool, pt_root, ld_lo, ld_lo, ld_hi - ld_lo, PAGE_SIZE, 0))) ||
	    EFI_ERROR((st = pt_map(&pool, pt_root, net_pa, net_pa, net_size, PAGE_SIZE, PTE_W | PTE_NX))))
		return st;
	uint64_t fb_mapped = map_fb_identity(&pool, pt_root, bi, ld_lo, ld_hi, net_pa, net_size);
	struct hhdm_counts dc = hhdm_plan_count(plan.pieces, plan.npieces);
	lprintf("memboot: page tables: %llu of %llu pages, direct map %llu MiB of RAM in %llu ranges up to 0x%llx: %llu x 1 GiB + %llu x 2 MiB + %llu x 4 KiB pages\n",
		(unsigned long long)pool.used, (unsigned long long)pool.pages,
		(unsigned long long)(dc.bytes >> 20), (unsigned long long)plan.nranges,
		(unsigned long long)dc.top, (unsigned long long)dc.huge,
		(unsigned long long)dc.large, (unsigned long long)dc.small);
	lprintf("memboot: safety-net IDT at 0x%llx, framebuffer %s\n", (unsigned long long)net_pa,
		fb_mapped ? "mapped for it" : "not mapped: serial and debugcon only");
	efi_bs->FreePool(plan.ranges);
	efi_bs->FreePool(plan.pieces);

	/* BootInfo and room for the final map after it. */
	if (EFI_ERROR((st = map_probe(&ms))))
		return st;
	uint64_t capacity = ms.size + MAP_SLACK_DESCS * ms.dsize;
	efi_bs->FreePool(ms.map);
	uint64_t bi_pages = PAGE_ROUND_UP(sizeof(struct bootinfo) + capacity) >> PAGE_SHIFT;
	uint64_t bi_pa;
	if (EFI_ERROR((st = lalloc_pages(bi_pages, &bi_pa))))
		return lfail(st, "no memory for BootInfo");
	note_used(bi, bi_pa, bi_pages * PAGE_SIZE, BOOTINFO_USED_BOOTINFO);
	bi->magic = BOOTINFO_MAGIC;
	bi->version = BOOTINFO_VERSION;
	bi->size = sizeof(struct bootinfo);
	bi->efi_system_table_pa = (uint64_t)(uintptr_t)efi_st;
	bi->paging_levels = pgmode_levels();
	if (cmdline_has(bi->cmdline, CMDLINE_LEVELS_LIE)) {
		bi->paging_levels = PGMODE_LEVELS_4 + PGMODE_LEVELS_5 - pgmode_levels();
		bi->hhdm_offset = bi->paging_levels == PGMODE_LEVELS_5 ? HHDM_BASE_5L : HHDM_BASE_4L;
		lprintf("memboot: test-paging-levels-lie: BootInfo says %u levels\n", bi->paging_levels);
	}
	bi->memmap_pa = bi_pa + sizeof(struct bootinfo);
	struct bootinfo *out = (struct bootinfo *)(uintptr_t)bi_pa;
	*out = *bi;

	lprintf("memboot: exiting boot services, jumping to the kernel\n");
	st = handoff(image, out, capacity, pt_root, img.entry, KSTACK_TOP);
	/* Only reached on failure. */
	return st;
}
