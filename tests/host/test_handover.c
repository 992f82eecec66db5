/*
 * tests/host/test_handover.c - kernel/boot/handover.c: the kernel's checks of the
 * loader's hand-over, on a good BootInfo and on one damaged field at a time.
 */
#include <string.h>
#include "kernel/boot/handover.h"
#include "mm/layout.h"
#include "tests/host/harness.h"

static struct bootinfo bi;
static char err[256];

/* A plausible BootInfo: 1 GiB direct map, 10 descriptors of 48 bytes. */
static void build_good(void)
{
	memset(&bi, 0, sizeof(bi));
	bi.magic = BOOTINFO_MAGIC;
	bi.version = BOOTINFO_VERSION;
	bi.size = sizeof(bi);
	bi.hhdm_offset = HHDM_BASE;
	bi.hhdm_size = 1ULL << 30;
	bi.memmap_pa = 0x100000;
	bi.memmap_desc_size = 48;
	bi.memmap_size = 480;
	bi.used_count = 2;
	bi.used[0] = (struct bootinfo_range){ 0x200000, 0x5000, BOOTINFO_USED_KERNEL, 0 };
	bi.used[1] = (struct bootinfo_range){ 0x100000, 0x1000, BOOTINFO_USED_BOOTINFO, 0 };
	bi.paging_levels = 4;
	strcpy(bi.cmdline, "qemu-exit");
}

#define EXPECT_FAIL(what) do {							\
	CHECK(bootinfo_check(&bi, err, sizeof(err)) == -1, "accepted, expected: %s", what); \
	CHECK(strstr(err, what) != NULL, "message \"%s\" lacks \"%s\"", err, what); \
} while (0)

/* Expect: the good BootInfo passes. */
static void test_good(void)
{
	build_good();
	CHECK(bootinfo_check(&bi, err, sizeof(err)) == 0, "rejected: %s", err);
	CHECK(BOOTINFO_VERSION == 4 && sizeof(bi) == 688, "v%u, %zu bytes: the ABI moved",
	      BOOTINFO_VERSION, sizeof(bi));
	/* The boot-timeline stamps are data the kernel only prints: any
	 * value, order included, passes. */
	build_good(); bi.tsc_loader_entry = ~0ULL; bi.tsc_exit_boot_services = 1;
	CHECK(bootinfo_check(&bi, err, sizeof(err)) == 0, "stamps rejected: %s", err);
}

/* Expect: magic, version and size are checked before anything else. */
static void test_header(void)
{
	build_good(); bi.magic++;                 EXPECT_FAIL("bad magic");
	build_good(); bi.version = 5;             EXPECT_FAIL("version 5");
	/* A v3 loader (no system table or paging levels, 672 bytes) is
	 * refused by its version, and a v4 header on the v3 size by the size. */
	build_good(); bi.version = 3; bi.size = 672; EXPECT_FAIL("version 3");
	build_good(); bi.size = 672;              EXPECT_FAIL("size 672, expected 688");
	/* A v2 loader (no trampoline, 656 bytes) is refused by its version,
	 * and a v3 header on the v2 size by the size. */
	build_good(); bi.version = 2; bi.size = 656; EXPECT_FAIL("version 2");
	build_good(); bi.size = 656;              EXPECT_FAIL("size 656, expected 688");
	/* A v1 loader (no boot-timeline stamps, 640 bytes) is refused by
	 * its version, and a v2 header on the v1 size by the size. */
	build_good(); bi.version = 1; bi.size = 640; EXPECT_FAIL("version 1");
	build_good(); bi.size = 640;              EXPECT_FAIL("size 640, expected 688");
	build_good(); bi.size = 100;              EXPECT_FAIL("size 100");
	build_good(); bi.magic = 0; bi.size = 0;  EXPECT_FAIL("bad magic");
	CHECK(bootinfo_check(NULL, err, sizeof(err)) == -1, "NULL accepted");
}

/* Expect: direct map and raw-map geometry are checked. */
static void test_map(void)
{
	build_good(); bi.hhdm_offset = 0;            EXPECT_FAIL("direct map at");
	build_good(); bi.hhdm_size = 0;              EXPECT_FAIL("direct map size");
	build_good(); bi.memmap_desc_size = 24;      EXPECT_FAIL("descriptor size 24");
	build_good(); bi.memmap_desc_size = 44;      EXPECT_FAIL("descriptor size 44");
	build_good(); bi.memmap_size = 100;          EXPECT_FAIL("not a multiple");
	build_good(); bi.memmap_size = 0;            EXPECT_FAIL("memory-map size 0");
	build_good(); bi.memmap_size = 48u << 20;    EXPECT_FAIL("above");
	/* Unaligned start (fuzz_bootinfo): every descriptor's 64-bit fields
	 * would be misaligned for the sanitiser's in-place reads. */
	build_good(); bi.memmap_pa = 0x100004;       EXPECT_FAIL("not 8-byte aligned");
	build_good(); bi.memmap_pa = 0x100001;       EXPECT_FAIL("not 8-byte aligned");
	build_good(); bi.memmap_pa = (1ULL << 30) - 48; EXPECT_FAIL("outside the direct map");
	build_good(); bi.memmap_pa = UINT64_MAX - 103;  EXPECT_FAIL("outside the direct map");
}

/* Expect: used ranges, ramdisk and command line are checked. */
static void test_ranges(void)
{
	build_good(); bi.used_count = 9;             EXPECT_FAIL("9 used ranges");
	build_good(); bi.used[1].size = 0;           EXPECT_FAIL("used range 1");
	build_good(); bi.used[0].pa = UINT64_MAX - 0xfff; EXPECT_FAIL("used range 0");
	build_good(); bi.used[0].pa = 0x200800;      EXPECT_FAIL("not page-aligned");
	build_good(); bi.used[1].type = 99;          EXPECT_FAIL("unknown type");
	build_good(); bi.flags |= BOOTINFO_F_RAMDISK; EXPECT_FAIL("ramdisk");
	build_good(); memset(bi.cmdline, 'x', sizeof(bi.cmdline)); EXPECT_FAIL("NUL-terminated");
	/* The raw map must lie in a bootinfo used range (fuzz_bootinfo):
	 * otherwise pmm_init could hand its frames out while it is read. */
	build_good(); bi.used[1].pa = 0x300000;      EXPECT_FAIL("no bootinfo used range holds");
	build_good(); bi.used[1].type = BOOTINFO_USED_KERNEL; EXPECT_FAIL("no bootinfo used range holds");
	build_good(); bi.memmap_pa = 0x1000 - 48 + 0x100000; bi.memmap_size = 96;
	EXPECT_FAIL("no bootinfo used range holds");   /* runs 48 bytes past its end */
	build_good(); bi.memmap_pa = 0x100000 + 0x1000 - 96; bi.memmap_size = 96;
	CHECK(bootinfo_check(&bi, err, sizeof(err)) == 0, "map at the end of its range: %s", err);
}

/* Adds a good trampoline: 5 pages at 0x8000, in a trampoline used range. */
static void add_trampoline(void)
{
	bi.used[bi.used_count++] = (struct bootinfo_range){ 0x8000, 0x5000, BOOTINFO_USED_TRAMPOLINE, 0 };
	bi.trampoline_pa = 0x8000;
	bi.trampoline_size = 0x5000;
}

/* Expect: no trampoline (0, 0) and a good one pass; a trampoline that is
 * empty, unaligned, reaches 1 MiB or lies outside its used range fails;
 * the trampoline used type is known, one past it is not. */
static void test_trampoline(void)
{
	build_good();
	CHECK(bootinfo_check(&bi, err, sizeof(err)) == 0, "no trampoline rejected: %s", err);
	build_good(); add_trampoline();
	CHECK(bootinfo_check(&bi, err, sizeof(err)) == 0, "good trampoline rejected: %s", err);
	/* The highest legal place: its last page is the one below 1 MiB. */
	build_good(); add_trampoline(); bi.used[2].pa = bi.trampoline_pa = 0x100000 - 0x5000;
	CHECK(bootinfo_check(&bi, err, sizeof(err)) == 0, "trampoline up to 1 MiB rejected: %s", err);
	build_good(); add_trampoline(); bi.used[2].pa = bi.trampoline_pa = 0x100000 - 0x4000;
	EXPECT_FAIL("trampoline");                       /* one page past 1 MiB */
	build_good(); add_trampoline(); bi.trampoline_size = 0; EXPECT_FAIL("trampoline");
	build_good(); add_trampoline(); bi.trampoline_pa = 0x8800; EXPECT_FAIL("trampoline");
	build_good(); add_trampoline(); bi.trampoline_size = 0x5800; EXPECT_FAIL("trampoline");
	build_good(); add_trampoline(); bi.trampoline_size = 0x6000; EXPECT_FAIL("trampoline");
	build_good(); add_trampoline(); bi.trampoline_pa = UINT64_MAX - 0xfff; EXPECT_FAIL("trampoline");
	build_good(); add_trampoline(); bi.used[2].type = BOOTINFO_USED_STACK; EXPECT_FAIL("trampoline");
	build_good(); add_trampoline(); bi.used_count = 2; EXPECT_FAIL("trampoline");
	build_good(); bi.trampoline_pa = 0x8000;        EXPECT_FAIL("trampoline");
	build_good(); bi.used[1].type = BOOTINFO_USED_LAST + 1; EXPECT_FAIL("unknown type");
}

/* Expect: 4 levels with the direct map at 0xffff800000000000 pass, and 5
 * levels with it at 0xff00000000000000 (both written out here, Linux's and
 * Limine's addresses); each level with the other's base fails, as do 5
 * levels with a direct map above 4 PiB (4 levels: above 64 TiB); 0, 3, 6
 * and a huge value fail, each named. */
static void test_paging_levels(void)
{
	static const uint32_t bad[] = { 0, 3, 6, UINT32_MAX };

	build_good();
	CHECK(bootinfo_check(&bi, err, sizeof(err)) == 0, "4 levels rejected: %s", err);
	build_good(); bi.paging_levels = 5; bi.hhdm_offset = 0xff00000000000000ULL;
	CHECK(bootinfo_check(&bi, err, sizeof(err)) == 0, "5 levels rejected: %s", err);
	bi.hhdm_size = 1ULL << 52;
	CHECK(bootinfo_check(&bi, err, sizeof(err)) == 0, "5 levels, 4 PiB rejected: %s", err);
	bi.hhdm_size = (1ULL << 52) + 4096;          EXPECT_FAIL("direct map size");
	build_good(); bi.hhdm_size = (64ULL << 40) + 4096; EXPECT_FAIL("direct map size");
	build_good(); bi.paging_levels = 5;           EXPECT_FAIL("direct map at 0xffff800000000000");
	build_good(); bi.hhdm_offset = 0xff00000000000000ULL; EXPECT_FAIL("direct map at 0xff00000000000000");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		build_good(); bi.paging_levels = bad[i]; EXPECT_FAIL("paging levels");
	}
	/* The system table is not the hand-over's to check: any value passes. */
	build_good(); bi.efi_system_table_pa = UINT64_MAX;
	CHECK(bootinfo_check(&bi, err, sizeof(err)) == 0, "system table rejected: %s", err);
}

int main(void)
{
	RUN(test_good);
	RUN(test_header);
	RUN(test_map);
	RUN(test_ranges);
	RUN(test_trampoline);
	RUN(test_paging_levels);
	return harness_done("handover");
}
