/*
 * shared/bootinfo.h - the loader -> kernel hand-over (memboot boot protocol).
 *
 * The loader (efi/, a PE32+ built for the Windows ABI) and the kernel (kernel/,
 * an ELF built for the SysV ABI) both include this header, so it follows the
 * habits of limine.h and multiboot2.h:
 *   - magic, version and total size come first; new fields go only at the end
 *     and bump BOOTINFO_VERSION;
 *   - only fixed-width integer types; every address is a uint64_t, never a
 *     pointer; padding is written out; _Static_assert pins the layout;
 *   - the unit of every field is in its comment.
 *
 * The kernel checks magic, version and size before it reads anything else
 * (kernel/boot/handover.c: bootinfo_check).
 *
 * Memory: the loader puts the struct bootinfo, then the raw firmware memory
 * map, in one allocation.  Its physical range is listed in used[] with type
 * BOOTINFO_USED_BOOTINFO.  The kernel gets the struct's address in the direct
 * map (HHDM) in RDI.
 */
#ifndef MEMBOOT_SHARED_BOOTINFO_H
#define MEMBOOT_SHARED_BOOTINFO_H

#include <stdint.h>

#define BOOTINFO_MAGIC   0x544f4f42424d454dULL /* "MEMBBOOT" little-endian */
#define BOOTINFO_VERSION 4 /* 2: tsc_loader_entry, tsc_exit_boot_services; 3: trampoline;
			     4: efi_system_table_pa, paging_levels */

/* Flags (bootinfo.flags). */
#define BOOTINFO_F_QEMU_EXIT  (1ULL << 0) /* exit through isa-debug-exit when done */
#define BOOTINFO_F_GOP        (1ULL << 1) /* fb is valid */
#define BOOTINFO_F_RSDP       (1ULL << 2) /* rsdp_pa is valid */
#define BOOTINFO_F_RAMDISK    (1ULL << 3) /* ramdisk_pa/ramdisk_size are valid */
#define BOOTINFO_F_HUGE_1G    (1ULL << 4) /* direct map was built with 1 GiB pages */

/* What a loader-used physical range holds (bootinfo_range.type). */
#define BOOTINFO_USED_KERNEL     1 /* kernel image: all PT_LOAD segments */
#define BOOTINFO_USED_PAGETABLES 2 /* page-table pool (live: CR3 points here) */
#define BOOTINFO_USED_BOOTINFO   3 /* this struct and the raw map after it */
#define BOOTINFO_USED_STACK      4 /* kernel stack, guard page not included */
#define BOOTINFO_USED_RAMDISK    5 /* \boot\initrd as read from the ESP */
#define BOOTINFO_USED_TRAMPOLINE 6 /* pages below 1 MiB for the APs' real-mode start */
#define BOOTINFO_USED_LAST       BOOTINFO_USED_TRAMPOLINE

#define BOOTINFO_MAX_USED    8
#define BOOTINFO_CMDLINE_MAX 256

/* Pixel formats (bootinfo_fb.format), same values as EFI_GRAPHICS_PIXEL_FORMAT. */
#define BOOTINFO_FB_RGBX     0 /* byte 0 red, 1 green, 2 blue, 3 reserved */
#define BOOTINFO_FB_BGRX     1 /* byte 0 blue, 1 green, 2 red, 3 reserved */
#define BOOTINFO_FB_BITMASK  2 /* see red/green/blue_mask */

/* A physical range [pa, pa + size) the loader used; size in bytes. */
struct bootinfo_range {
	uint64_t pa;
	uint64_t size;
	uint32_t type;        /* BOOTINFO_USED_* */
	uint32_t reserved;
};
_Static_assert(sizeof(struct bootinfo_range) == 24, "bootinfo_range layout");

/* The GOP framebuffer as the loader found it. */
struct bootinfo_fb {
	uint64_t pa;          /* physical base of the framebuffer */
	uint64_t size;        /* bytes */
	uint32_t width;       /* pixels */
	uint32_t height;      /* pixels */
	uint32_t pitch;       /* bytes per scan line */
	uint32_t format;      /* BOOTINFO_FB_* */
	uint32_t red_mask;    /* BITMASK format only: bits of a 32-bit pixel */
	uint32_t green_mask;
	uint32_t blue_mask;
	uint32_t reserved_mask;
};
_Static_assert(sizeof(struct bootinfo_fb) == 48, "bootinfo_fb layout");

struct bootinfo {
	uint64_t magic;             /* BOOTINFO_MAGIC */
	uint32_t version;           /* BOOTINFO_VERSION */
	uint32_t size;              /* bytes of struct bootinfo (not the map after it) */
	uint64_t flags;             /* BOOTINFO_F_* */
	uint64_t hhdm_offset;       /* virtual = physical + hhdm_offset in the direct map */
	uint64_t hhdm_size;         /* bytes of physical memory the direct map covers, from 0 */

	/* Raw firmware memory map, exactly as the last GetMemoryMap returned it. */
	uint64_t memmap_pa;         /* physical address of the first descriptor */
	uint64_t memmap_size;       /* bytes of descriptors */
	uint32_t memmap_desc_size;  /* bytes per descriptor: walk by this, never by sizeof */
	uint32_t memmap_desc_version;
	uint32_t exit_retries;      /* ExitBootServices calls that failed before success */
	uint32_t used_count;        /* valid entries in used[] */

	struct bootinfo_range used[BOOTINFO_MAX_USED];

	struct bootinfo_fb fb;      /* valid if BOOTINFO_F_GOP */

	uint64_t rsdp_pa;           /* physical address of the ACPI RSDP */
	uint32_t rsdp_revision;     /* 0: ACPI 1.0 RSDP, >=2: XSDT-capable */
	uint32_t reserved0;

	uint64_t ramdisk_pa;        /* physical base of the initrd (USTAR) */
	uint64_t ramdisk_size;      /* bytes */

	uint64_t kernel_pa;         /* physical base of the kernel image */
	uint64_t kernel_va;         /* virtual address kernel_pa is mapped at */
	uint64_t kernel_size;       /* bytes, page-rounded */
	uint64_t stack_top_va;      /* initial RSP; the page below the stack is a guard */
	uint64_t stack_size;        /* bytes, guard page not included */

	char cmdline[BOOTINFO_CMDLINE_MAX]; /* \boot\cmdline, NUL-terminated ASCII */

	/* Version 2: boot timeline, raw TSC values (RDTSC; the kernel finds
	 * the frequency, kernel/time/tsc.h).  0 = not measured. */
	uint64_t tsc_loader_entry;       /* first thing in efi_main */
	uint64_t tsc_exit_boot_services; /* just before the ExitBootServices that succeeded */

	/* Version 3: pages the loader reserved below 1 MiB (AllocatePages,
	 * AllocateMaxAddress) for the application processors' real-mode
	 * start (kernel/smp/trampoline.S): a startup IPI names a 4 KiB page
	 * below 1 MiB.  Also listed in used[] as BOOTINFO_USED_TRAMPOLINE.
	 * 0 / 0 = the loader could not get them: the kernel runs on one CPU. */
	uint64_t trampoline_pa;          /* physical base, page-aligned, < 1 MiB */
	uint64_t trampoline_size;        /* bytes, whole pages, end <= 1 MiB */

	/* Version 4.  The EFI system table the firmware passed to the loader
	 * (physical address; after ExitBootServices only its header, the
	 * runtime services and the configuration table stay valid): the
	 * kernel's way to the runtime services and to configuration tables
	 * such as the memory attributes table.  0 = none.  Not validated
	 * here: whoever uses it checks it (its signature, its CRC). */
	uint64_t efi_system_table_pa;
	/* Levels of the page tables the loader handed over (CR3's tree):
	 * 4, or 5 when CR4.LA57 is set (5-level paging). */
	uint32_t paging_levels;
	uint32_t reserved1;              /* 0 */
};
_Static_assert(sizeof(struct bootinfo) == 688, "bootinfo layout");
_Static_assert(__builtin_offsetof(struct bootinfo, memmap_pa) == 40, "memmap_pa offset");
_Static_assert(__builtin_offsetof(struct bootinfo, used) == 72, "used offset");
_Static_assert(__builtin_offsetof(struct bootinfo, fb) == 264, "fb offset");
_Static_assert(__builtin_offsetof(struct bootinfo, cmdline) == 384, "cmdline offset");
_Static_assert(__builtin_offsetof(struct bootinfo, tsc_loader_entry) == 640, "tsc offset");
_Static_assert(__builtin_offsetof(struct bootinfo, trampoline_pa) == 656, "trampoline offset");
_Static_assert(__builtin_offsetof(struct bootinfo, efi_system_table_pa) == 672, "system table offset");

/* The trampoline area: BOOTINFO_TRAMPOLINE_PAGES pages, all below
 * BOOTINFO_TRAMPOLINE_LIMIT (a SIPI vector is a page number < 256): the
 * code page and one table per paging level (5 under 5-level paging). */
#define BOOTINFO_TRAMPOLINE_PAGES 6
#define BOOTINFO_TRAMPOLINE_LIMIT 0x100000ULL

/* Reads the time-stamp counter (cycles since CPU reset on real hardware;
 * QEMU TCG counts from the host's).  Loader and kernel both stamp with it. */
static inline uint64_t bootinfo_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* The raw descriptor as UEFI defines it (EFI_MEMORY_DESCRIPTOR); the firmware's
 * descriptor may be larger (memmap_desc_size), never smaller. */
struct bootinfo_efi_desc {
	uint32_t type;
	uint32_t pad;
	uint64_t phys_start;
	uint64_t virt_start;
	uint64_t num_pages;   /* 4 KiB pages */
	uint64_t attribute;
};
_Static_assert(sizeof(struct bootinfo_efi_desc) == 40, "EFI descriptor layout");

#endif
