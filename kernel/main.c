/*
 * kernel/main.c - kmain: the order in which the kernel comes up.
 *
 *   1. GDT/TSS/IDT (replacing the loader's safety net), the PAT (WC entry), console (COM1 +
 *      debugcon), BootInfo check (nothing is read before it);
 *   2. drop the loader's identity mapping (lower half);
 *   3. print the raw firmware map (`memmap -sfo` lines), sanitise it and
 *      print the result (`memmap:` lines, the more-reliable line if any);
 *   4. frame allocator from the sanitised map (`pmm:` line);
 *   5. virtual memory (kmem), the framebuffer console, the UEFI runtime
 *      services (kernel/efirt: before the other CPUs, efirt.h 2), the one
 *      ACPI parse (kernel/acpi/boot.h: TSC calibration, SMP and the demos
 *      share it), the other CPUs (kernel/smp: bring-up and the shootdown
 *      proof), the NUMA nodes (`numa:` lines, the frame allocator's nodes),
 *      the mm selftest, the ACPI demos and the ramdisk, all through
 *      mem_map_addr;
 *   6. `memboot: done`, then QEMU exit, ResetSystem (cmdline `poweroff` /
 *      `reboot`) or halt.
 */
#include "kernel/acpi/boot.h"
#include "kernel/acpi/demo.h"
#include "kernel/arch/io.h"
#include "kernel/arch/pat.h"
#include "kernel/arch/trap.h"
#include "kernel/boot/handover.h"
#include "kernel/console/console.h"
#include "kernel/console/fbcon.h"
#include "kernel/console/mmpic.h"
#include "kernel/efirt/efirt.h"
#include "kernel/mem/kmem.h"
#include "kernel/mem/numa.h"
#include "kernel/mem/selftest.h"
#include "kernel/ramdisk/ramdisk.h"
#include "kernel/smp/percpu.h"
#include "kernel/smp/smp.h"
#include "kernel/time/boottime.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "mm/memmap.h"
#include "mm/kalloc.h"
#include "mm/paging.h"
#include "mm/pgmode.h"
#include "mm/platform.h"
#include "mm/pmm.h"
#include "mm/status.h"
#include "mm/x86_64.h"

/* Sanitised-map capacity: each of the at most BOOTINFO_MAX_USED overlaid
 * ranges splits one region in three, and real maps have a few hundred
 * entries; 4096 regions (96 KiB of .bss) leaves a wide margin. */
#define KERNEL_MAP_MAX 4096

static struct mm_region kernel_map[KERNEL_MAP_MAX];
static size_t kernel_map_count;

/* Most descriptors a raw map bootinfo_check accepts can hold: its largest
 * size over the smallest stride (6553). */
#define KERNEL_RAW_DESC_MAX (BOOTINFO_MAP_MAX / MEMMAP_EFI_DESC_MIN)

/* memmap_sanitize's scratch, for the largest map bootinfo_check accepts:
 * two 16-byte change points per descriptor and used range (~205 KiB of
 * .bss, so that no map the handover lets through can fail for want of
 * it; the frame allocator does not exist yet when the map is sanitised). */
static struct memmap_cp kernel_map_scratch[MEMMAP_SCRATCH_LEN(KERNEL_RAW_DESC_MAX, BOOTINFO_MAX_USED)];
static struct pmm kernel_pmm;

/* Removes the lower half of the address space (root slots 0..255 of the
 * PML4 or PML5): the
 * loader identity-mapped its own image there for the jump, and nothing in
 * the kernel may use it - page 0 and all user addresses become unmapped. */
static void drop_identity_map(void)
{
	uint64_t *root = mm_phys_to_virt(read_cr3() & PTE_ADDR);
	for (int i = 0; i < PT_ENTRIES / 2; i++)
		root[i] = 0;
	mm_tlb_flush_all();
}

/* 1 if pat_init made MAPF_WRCOMBINE mean WC on the boot CPU. */
static int pat_wc;

/* Puts the console on the GOP framebuffer, if the loader found one: mapped
 * into the kernel window (the framebuffer is not RAM, so the direct map
 * does not cover it) write-combining, or write-through where the CPU has
 * no PAT.  fbcon only ever writes it. */
static void screen_init(const struct bootinfo *bi)
{
	uint64_t va;
	unsigned mode = pat_wc ? MAPF_WRCOMBINE : MAPF_WRTHROUGH;
	if (!(bi->flags & BOOTINFO_F_GOP)) {
		kprintf("fbcon: no GOP framebuffer: serial and debugcon only\n");
		return;
	}
	int s = mem_map_addr(addrspace_kernel(), bi->fb.pa, bi->fb.size, MAPF_WRITE | MAPF_NOEXEC | mode, &va);
	if (s != MM_OK) {
		kprintf("fbcon: cannot map the framebuffer at 0x%lx (+0x%lx): %s\n", bi->fb.pa,
			bi->fb.size, mm_status_str(s));
		return;
	}
	struct fbcon *c = kalloc(sizeof(*c), ALLOC_KERNEL | ALLOC_WRITABLE);
	if (!c) {
		kprintf("fbcon: no memory for the console's cell grids (%lu bytes)\n",
			(uint64_t)sizeof(*c));
		mem_unmap_addr(addrspace_kernel(), va, bi->fb.size);
		return;
	}
	s = fbcon_init(c, (void *)(uintptr_t)va, &bi->fb);
	if (s != FBCON_OK) {
		kprintf("fbcon: %s (%ux%u, format %u, pitch %u)\n", fbcon_status_str(s), bi->fb.width,
			bi->fb.height, bi->fb.format, bi->fb.pitch);
		kfree(c, sizeof(*c));
		mem_unmap_addr(addrspace_kernel(), va, bi->fb.size);
		return;
	}
	fbcon_screen = c;
	console_add_sink(fbcon_screen_write);
	console_set_flush(fbcon_screen_flush);
	kprintf("fbcon: %ux%u framebuffer at phys 0x%lx (%s): %u x %u text cells\n", bi->fb.width,
		bi->fb.height, bi->fb.pa, pat_wc ? "write-combining" : "write-through",
		c->cols, c->rows);
}

/* Sanitises and prints the memory map, then builds the frame allocator. */
static void memory_init(const struct bootinfo *bi)
{
	const void *raw = mm_phys_to_virt(bi->memmap_pa);

	memmap_print_raw(raw, bi->memmap_size, bi->memmap_desc_size);
	int s = memmap_sanitize(raw, bi->memmap_size, bi->memmap_desc_size, bi->used,
				bi->used_count, kernel_map_scratch,
				sizeof(kernel_map_scratch) / sizeof(kernel_map_scratch[0]), kernel_map,
				KERNEL_MAP_MAX, &kernel_map_count);
	if (s == MM_EOVERFLOW) {
		/* The regions kept are the lowest, and right: use them. */
		const struct mm_region *last = &kernel_map[kernel_map_count - 1];
		kprintf("memmap: more than %u regions: the map is cut at 0x%lx, memory above it is not used\n",
			KERNEL_MAP_MAX, last->base + last->size);
	} else if (s != MM_OK) {
		panic("memory_init: memmap_sanitize: %s", mm_status_str(s));
	}
	memmap_print(kernel_map, kernel_map_count);
	uint64_t reliable;
	s = memmap_reliable_bytes(raw, bi->memmap_size, bi->memmap_desc_size, kernel_map,
				  kernel_map_count, kernel_map_scratch,
				  sizeof(kernel_map_scratch) / sizeof(kernel_map_scratch[0]), &reliable);
	if (s != MM_OK)
		panic("memory_init: memmap_reliable_bytes: %s", mm_status_str(s));
	memmap_print_reliable(reliable);

	s = pmm_init(&kernel_pmm, kernel_map, kernel_map_count);
	if (s != MM_OK)
		panic("memory_init: pmm_init: %s", mm_status_str(s));
	pmm_print(&kernel_pmm);
}

/* Ends boot stage s: the screen catches up with what the stage printed
 * (one redraw per stage, not one per line), then the stamp. */
static void stage(enum boot_stage s)
{
	console_flush();
	boottime_mark(s);
}

void kmain(const struct bootinfo *bi);
void kmain(const struct bootinfo *bi)
{
	char err[192];
	/* The command line escaped: up to 4 bytes per byte of it. */
	char cmdline[4 * BOOTINFO_CMDLINE_MAX];

	boottime_mark(BOOT_KERNEL_ENTRY);
	/* This CPU's per-CPU block (GS base): mm_cpu_id, trap_catch and every
	 * lock need it. */
	percpu_init_bsp();
	/* Then: the loader's safety-net IDT (efi/safetynet.c) lives in its
	 * identity mapping, which drop_identity_map removes; trap_init needs
	 * nothing but the kernel image. */
	trap_init();
	pat_wc = pat_init();
	console_init();
	kprintf("memboot: kernel starting\n");
	if (bootinfo_check(bi, err, sizeof(err))) {
		kprintf("memboot: bad BootInfo from the loader: %s\n", err);
		halt_forever();
	}
	/* The levels BootInfo names must be the ones the CPU runs (CR4.LA57):
	 * every walker reads the tables that deep (mm/pgmode.h). */
	if (!!(read_cr4() & CR4_LA57) != (bi->paging_levels == PGMODE_LEVELS_5)) {
		kprintf("memboot: bad BootInfo from the loader: paging levels %u, but CR4.LA57 is %s\n",
			bi->paging_levels, (read_cr4() & CR4_LA57) ? "set" : "clear");
		halt_forever();
	}
	pgmode_set(bi->paging_levels);
	bootinfo_set(bi);
	mm_directmap_init(bi);
	drop_identity_map();
	/* The command line is a file anyone can edit: escaped, so control
	 * bytes never reach the operator's terminal. */
	fmt_escape(cmdline, sizeof(cmdline), bi->cmdline, strlen(bi->cmdline));
	kprintf("memboot: BootInfo v%u: %lu descriptors of %u bytes, ExitBootServices retries %u, cmdline \"%s\"\n",
		bi->version, bi->memmap_size / bi->memmap_desc_size, bi->memmap_desc_size,
		bi->exit_retries, cmdline);
	kprintf("memboot: direct map 0x%lx bytes at 0x%lx (%s pages, %u-level paging), kernel 0x%lx at phys 0x%lx\n",
		bi->hhdm_size, bi->hhdm_offset, (bi->flags & BOOTINFO_F_HUGE_1G) ? "1 GiB" : "2 MiB",
		pgmode_levels(), bi->kernel_va, bi->kernel_pa);

	memory_init(bi);
	kmem_init(&kernel_pmm);
	boottime_mark(BOOT_MEMORY_READY);
	screen_init(bi);
	stage(BOOT_CONSOLE_READY);
	efirt_init(bi);
	stage(BOOT_EFIRT_READY);
	/* The one ACPI parse: TSC calibration, SMP and the demo share it. */
	const struct acpi *acpi = acpi_boot_init(bi, kmem_physmap());
	smp_init(bi, acpi);
	/* NUMA nodes from the same parse, once the CPUs' APIC IDs are known. */
	numa_init(acpi, &kernel_pmm);
	smp_selftest_run();
	smp_stress_run();
	stage(BOOT_SMP_READY);
	selftest_run();
	stage(BOOT_SELFTEST_DONE);
	acpi_demo_run(bi, acpi, kmem_physmap());
	stage(BOOT_ACPI_DONE);
	ramdisk_run(bi, kmem_physmap());
	stage(BOOT_RAMDISK_DONE);

	/* Last, so a person at the screen sees it when the kernel stops. */
	if (fbcon_screen && fbcon_screen->fb)
		mmpic_draw(fbcon_screen, kernel_map, kernel_map_count);

	stage(BOOT_DONE);
	boottime_report(bi, acpi);
	kprintf("memboot: done\n");
	efirt_end_of_boot(bi);
	kernel_exit(0);
}
