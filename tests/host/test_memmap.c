/*
 * tests/host/test_memmap.c - memmap_sanitize, memmap_print, memmap_print_raw.
 *
 * Each test builds a raw EFI map, sanitises it and compares the regions with
 * the expected ones written out by hand (or, for the big generated maps,
 * computed from how the input was generated).  Pictures: U usable, R
 * reserved, A ACPI data, N ACPI NVS, K kernel, '.' nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "mm/memmap.h"
#include "mm/status.h"
#include "tests/host/harness.h"

#define KiB 0x400ULL
#define MiB 0x100000ULL
#define GiB 0x40000000ULL
#define TiB 0x10000000000ULL
#define PG  4096ULL

/* A descriptor with attributes a_; D: write-back, as firmware marks RAM
 * (and most other memory), so attributes change nothing unless a test
 * says so with DA. */
#define DA(t, b_, n_, a_) { .type = (t), .phys_start = (b_), .num_pages = (n_) / PG, .attribute = (a_) }
#define D(t, b_, n_) DA(t, b_, n_, EFI_MEMORY_WB)
#define R(t, b_, n_) { .base = (b_), .size = (n_), .type = (t) }
#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct mm_region out[4096];
static size_t nout;
static struct memmap_cp scratch[MEMMAP_SCRATCH_LEN(4096, BOOTINFO_MAX_USED)];

/* The scratch arguments of memmap_sanitize: all of scratch[]. */
#define SCRATCH scratch, N(scratch)

/* Sanitises d[0..n) (40-byte descriptors) with used[0..nu); returns status. */
static int sanitize(const struct bootinfo_efi_desc *d, size_t n,
		    const struct bootinfo_range *used, uint32_t nu)
{
	return memmap_sanitize(d, n * sizeof(*d), sizeof(*d), used, nu, SCRATCH, out, N(out), &nout);
}

/* CHECKs that the output equals want[0..n). */
static void expect_regions(const struct mm_region *want, size_t n)
{
	CHECK(nout == n, "got %zu regions, want %zu", nout, n);
	for (size_t i = 0; i < n && i < nout; i++)
		CHECK(out[i].base == want[i].base && out[i].size == want[i].size &&
		      out[i].type == want[i].type,
		      "region %zu: got [%#llx+%#llx) %s, want [%#llx+%#llx) %s", i,
		      (unsigned long long)out[i].base, (unsigned long long)out[i].size,
		      memmap_type_name(out[i].type), (unsigned long long)want[i].base,
		      (unsigned long long)want[i].size, memmap_type_name(want[i].type));
}

/*
 *   1M     2M     3M     4M
 *   |UUUUUU|      |RRRRRR|
 * Expect: two regions, unchanged.
 */
static void test_disjoint(void)
{
	struct bootinfo_efi_desc d[] = { D(EFI_CONVENTIONAL, 1 * MiB, MiB), D(EFI_RESERVED, 3 * MiB, MiB) };
	struct mm_region want[] = { R(MR_USABLE, 1 * MiB, MiB), R(MR_RESERVED, 3 * MiB, MiB) };
	REQUIRE_OK(sanitize(d, N(d), NULL, 0), "status");
	expect_regions(want, N(want));
}

/*
 *   1M     2M     3M
 *   |UUUUUU|UUUUUU|     (conventional + boot-services data)
 * Expect: one usable region 1M..3M.
 */
static void test_adjacent_same_type(void)
{
	struct bootinfo_efi_desc d[] = { D(EFI_CONVENTIONAL, 1 * MiB, MiB), D(EFI_BS_DATA, 2 * MiB, MiB) };
	struct mm_region want[] = { R(MR_USABLE, 1 * MiB, 2 * MiB) };
	REQUIRE_OK(sanitize(d, N(d), NULL, 0), "status");
	expect_regions(want, N(want));
}

/*
 *   1M     2M     3M
 *   |UUUUUU|AAAAAA|
 * Expect: two regions touching at 2M, not merged.
 */
static void test_adjacent_different_type(void)
{
	struct bootinfo_efi_desc d[] = { D(EFI_CONVENTIONAL, 1 * MiB, MiB), D(EFI_ACPI_RECLAIM, 2 * MiB, MiB) };
	struct mm_region want[] = { R(MR_USABLE, 1 * MiB, MiB), R(MR_ACPI_DATA, 2 * MiB, MiB) };
	REQUIRE_OK(sanitize(d, N(d), NULL, 0), "status");
	expect_regions(want, N(want));
}

/*
 *   1M                  5M
 *   |UUUUUUUUUUUUUUUUUUU|
 *         |RRRRR|
 *         2M    3M
 * Expect: usable 1M..2M, reserved 2M..3M, usable 3M..5M.
 */
static void test_reserved_inside_usable(void)
{
	struct bootinfo_efi_desc d[] = { D(EFI_CONVENTIONAL, 1 * MiB, 4 * MiB), D(EFI_RESERVED, 2 * MiB, MiB) };
	struct mm_region want[] = {
		R(MR_USABLE, 1 * MiB, MiB), R(MR_RESERVED, 2 * MiB, MiB),
		R(MR_USABLE, 3 * MiB, 2 * MiB),
	};
	REQUIRE_OK(sanitize(d, N(d), NULL, 0), "status");
	expect_regions(want, N(want));
}

/*
 *   1M        3M
 *   |UUUUUUUUU|
 *        |RRRRRRRRR|
 *        2M        4M
 * Expect: usable 1M..2M, reserved 2M..4M (reserved wins the overlap).
 */
static void test_overlap_right(void)
{
	struct bootinfo_efi_desc d[] = { D(EFI_CONVENTIONAL, 1 * MiB, 2 * MiB), D(EFI_RESERVED, 2 * MiB, 2 * MiB) };
	struct mm_region want[] = { R(MR_USABLE, 1 * MiB, MiB), R(MR_RESERVED, 2 * MiB, 2 * MiB) };
	REQUIRE_OK(sanitize(d, N(d), NULL, 0), "status");
	expect_regions(want, N(want));
}

/*
 *        2M        4M
 *        |UUUUUUUUU|
 *   |RRRRRRRRR|
 *   1M        3M
 * Expect: reserved 1M..3M, usable 3M..4M.
 */
static void test_overlap_left(void)
{
	struct bootinfo_efi_desc d[] = { D(EFI_CONVENTIONAL, 2 * MiB, 2 * MiB), D(EFI_RESERVED, 1 * MiB, 2 * MiB) };
	struct mm_region want[] = { R(MR_RESERVED, 1 * MiB, 2 * MiB), R(MR_USABLE, 3 * MiB, MiB) };
	REQUIRE_OK(sanitize(d, N(d), NULL, 0), "status");
	expect_regions(want, N(want));
}

/*
 *   1M        3M
 *   |AAAAAAAAA|
 *        |NNNNNNNNN|
 *        2M        4M
 *           |RR|
 *           2.5M..2.75M
 * Expect: ACPI data 1M..2M, NVS 2M..2.5M, reserved, NVS 2.75M..4M
 * (NVS beats ACPI data, reserved beats both).
 */
static void test_overlap_strictness(void)
{
	struct bootinfo_efi_desc d[] = {
		D(EFI_ACPI_RECLAIM, 1 * MiB, 2 * MiB), D(EFI_ACPI_NVS, 2 * MiB, 2 * MiB), D(EFI_RESERVED, 2 * MiB + 512 * KiB, 256 * KiB),
	};
	struct mm_region want[] = {
		R(MR_ACPI_DATA, 1 * MiB, MiB), R(MR_ACPI_NVS, 2 * MiB, 512 * KiB),
		R(MR_RESERVED, 2 * MiB + 512 * KiB, 256 * KiB),
		R(MR_ACPI_NVS, 2 * MiB + 768 * KiB, MiB + 256 * KiB),
	};
	REQUIRE_OK(sanitize(d, N(d), NULL, 0), "status");
	expect_regions(want, N(want));
}

/*
 *   input order: 4M.., 1M.., 3M.., 2M..
 *   1M   2M   3M   4M   5M
 *   |UUUU|RRRR|UUUU|NNNN|
 * Expect: sorted by address.
 */
static void test_unsorted(void)
{
	struct bootinfo_efi_desc d[] = {
		D(EFI_ACPI_NVS, 4 * MiB, MiB), D(EFI_CONVENTIONAL, 1 * MiB, MiB), D(EFI_CONVENTIONAL, 3 * MiB, MiB), D(EFI_RESERVED, 2 * MiB, MiB),
	};
	struct mm_region want[] = {
		R(MR_USABLE, 1 * MiB, MiB), R(MR_RESERVED, 2 * MiB, MiB),
		R(MR_USABLE, 3 * MiB, MiB), R(MR_ACPI_NVS, 4 * MiB, MiB),
	};
	REQUIRE_OK(sanitize(d, N(d), NULL, 0), "status");
	expect_regions(want, N(want));
}

/*
 *   1M     2M
 *   |UUUUUU|   + a zero-length reserved entry at 1.5M (entry 1)
 * Expect: the usable region untouched, a warning naming entry 1.
 */
static void test_zero_length(void)
{
	struct bootinfo_efi_desc d[] = { D(EFI_CONVENTIONAL, 1 * MiB, MiB), D(EFI_RESERVED, 1 * MiB + 512 * KiB, 0) };
	struct mm_region want[] = { R(MR_USABLE, 1 * MiB, MiB) };
	host_capture_begin();
	int st = sanitize(d, N(d), NULL, 0);
	const char *txt = host_capture_end();
	REQUIRE_OK(st, "status");
	expect_regions(want, N(want));
	CHECK(strstr(txt, "entry 1 ") && strstr(txt, "0x0000000000180000") &&
	      strstr(txt, "zero length"), "warning: %s", txt);
}

/*
 *   1M     2M                       2^64
 *   |UUUUUU|              |RRRRRRRRRRR|RRR -> wraps
 * Expect: the wrapping entry 1 dropped with a warning; a used range whose
 * end wraps is dropped too.
 */
static void test_wrap(void)
{
	struct bootinfo_efi_desc d[] = {
		D(EFI_CONVENTIONAL, 1 * MiB, MiB), D(EFI_RESERVED, 0xfffffffffff00000ULL, 2 * MiB),
	};
	struct bootinfo_range used[] = { { .pa = 0xfffffffffffff000ULL, .size = 2 * PG,
					   .type = BOOTINFO_USED_KERNEL } };
	struct mm_region want[] = { R(MR_USABLE, 1 * MiB, MiB) };
	host_capture_begin();
	int st = sanitize(d, N(d), used, 1);
	const char *txt = host_capture_end();
	REQUIRE_OK(st, "status");
	expect_regions(want, N(want));
	CHECK(strstr(txt, "entry 1 ") && strstr(txt, "0xfffffffffff00000") &&
	      strstr(txt, "wraps"), "warning: %s", txt);
	CHECK(strstr(txt, "used range 0"), "used warning: %s", txt);
	/* num_pages so large that pages * 4096 overflows */
	struct bootinfo_efi_desc d2[] = { { .type = EFI_CONVENTIONAL, .phys_start = 0, .num_pages = 1ULL << 60 } };
	host_capture_begin();
	st = sanitize(d2, 1, NULL, 0);
	txt = host_capture_end();
	CHECK(st == MM_OK && nout == 0, "st %d nout %zu", st, nout);
	CHECK(strstr(txt, "wraps"), "warning: %s", txt);
}

/*
 *   1M+0x800            2M+0x800   (phys_start not page aligned)
 *      |UUUUUUUUUUUUUUUU|RRR|
 *   1M+0x1000      2M   2M+0x800..
 * Expect: usable shrinks inward to [1M+4K, 2M); the reserved keeps its
 * bytes; a usable piece smaller than a page disappears.
 */
static void test_misaligned_usable(void)
{
	struct bootinfo_efi_desc d[] = {
		D(EFI_CONVENTIONAL, 1 * MiB + 0x800, MiB), D(EFI_RESERVED, 2 * MiB + 0x800, MiB),
		D(EFI_CONVENTIONAL, 8 * MiB + 0x800, PG), /* one page that straddles two */
	};
	struct mm_region want[] = {
		R(MR_USABLE, 1 * MiB + PG, MiB - PG), R(MR_RESERVED, 2 * MiB + 0x800, MiB),
	};
	REQUIRE_OK(sanitize(d, N(d), NULL, 0), "status");
	expect_regions(want, N(want));
}

/*
 *   0      4K                640K
 *   |UUUUUU|UUUUUUUUUUUUUUUUU|   (boot-services code at 0, conventional)
 * Expect: page 0 reserved, usable from 4K.
 */
static void test_page_zero(void)
{
	struct bootinfo_efi_desc d[] = { D(EFI_BS_CODE, 0, PG), D(EFI_CONVENTIONAL, PG, 0x9f000) };
	struct mm_region want[] = { R(MR_RESERVED, 0, PG), R(MR_USABLE, PG, 0x9f000) };
	REQUIRE_OK(sanitize(d, N(d), NULL, 0), "status");
	expect_regions(want, N(want));
}

/*
 *   1M   2M   3M   4M   5M
 *   |????|????|????|UUUU|     types 15 (unaccepted), 0x1234 (unknown),
 *                              0x80000001 (OS-defined), conventional
 * Expect: the first three merge into one reserved region 1M..4M.
 */
static void test_unknown_types(void)
{
	struct bootinfo_efi_desc d[] = {
		D(EFI_UNACCEPTED, 1 * MiB, MiB), D(0x1234, 2 * MiB, MiB), D(0x80000001u, 3 * MiB, MiB),
		D(EFI_CONVENTIONAL, 4 * MiB, MiB),
	};
	struct mm_region want[] = { R(MR_RESERVED, 1 * MiB, 3 * MiB), R(MR_USABLE, 4 * MiB, MiB) };
	REQUIRE_OK(sanitize(d, N(d), NULL, 0), "status");
	expect_regions(want, N(want));
}

/* Every EFI type maps as mm/memmap.h says (memmap_efi_type_to_region).
 * Expect: the table below. */
static void test_type_mapping(void)
{
	static const uint32_t want[16] = {
		MR_RESERVED, MR_LOADER, MR_LOADER, MR_USABLE, MR_USABLE, MR_RUNTIME,
		MR_RUNTIME, MR_USABLE, MR_UNUSABLE, MR_ACPI_DATA, MR_ACPI_NVS, MR_MMIO,
		MR_MMIO, MR_RESERVED, MR_PERSISTENT, MR_RESERVED,
	};
	for (uint32_t t = 0; t < 16; t++)
		CHECK(memmap_efi_type_to_region(t) == want[t], "EFI type %u -> %u", t,
		      memmap_efi_type_to_region(t));
	CHECK(memmap_efi_type_to_region(0x70000000u) == MR_RESERVED, "OS-defined");
	CHECK(memmap_used_type_to_region(BOOTINFO_USED_STACK) == MR_KERNEL, "stack");
	CHECK(memmap_used_type_to_region(BOOTINFO_USED_PAGETABLES) == MR_KERNEL, "pt");
	CHECK(memmap_used_type_to_region(BOOTINFO_USED_BOOTINFO) == MR_BOOTINFO, "bi");
	CHECK(memmap_used_type_to_region(BOOTINFO_USED_RAMDISK) == MR_RAMDISK, "rd");
	CHECK(memmap_used_type_to_region(BOOTINFO_USED_TRAMPOLINE) == MR_TRAMPOLINE, "trampoline");
	CHECK(memmap_used_type_to_region(BOOTINFO_USED_LAST + 1) == MR_KERNEL, "unknown");
	CHECK(!strcmp(memmap_type_name(MR_TRAMPOLINE), "trampoline"), "trampoline name");
}

/*
 *   1M    2M                      8M           16M
 *   |UUUUU|LLLLLLLLLLLLLLLLLLLLLLL|UUUUUUUUUUUUU|
 *          |KK|PP|  |BB|  |RRRRR|SS|
 *          2M 2.5M 3M   4M 5M   6M 6.5M..   (S = stack, over usable)
 * Expect: used ranges carved out of loader and usable memory; kernel, page
 * tables and stack are "kernel" and merge when adjacent.
 */
static void test_used_overlay(void)
{
	struct bootinfo_efi_desc d[] = { D(EFI_CONVENTIONAL, 1 * MiB, MiB), D(EFI_LOADER_DATA, 2 * MiB, 6 * MiB),
					 D(EFI_CONVENTIONAL, 8 * MiB, 8 * MiB) };
	struct bootinfo_range used[] = {
		{ .pa = 2 * MiB, .size = 512 * KiB, .type = BOOTINFO_USED_KERNEL },
		{ .pa = 2 * MiB + 512 * KiB, .size = 512 * KiB, .type = BOOTINFO_USED_PAGETABLES },
		{ .pa = 4 * MiB, .size = MiB, .type = BOOTINFO_USED_BOOTINFO },
		{ .pa = 5 * MiB, .size = 2 * MiB, .type = BOOTINFO_USED_RAMDISK },
		{ .pa = 8 * MiB, .size = 64 * KiB, .type = BOOTINFO_USED_STACK },
	};
	struct mm_region want[] = {
		R(MR_USABLE, 1 * MiB, MiB), R(MR_KERNEL, 2 * MiB, MiB), R(MR_LOADER, 3 * MiB, MiB),
		R(MR_BOOTINFO, 4 * MiB, MiB), R(MR_RAMDISK, 5 * MiB, 2 * MiB),
		R(MR_LOADER, 7 * MiB, MiB), R(MR_KERNEL, 8 * MiB, 64 * KiB),
		R(MR_USABLE, 8 * MiB + 64 * KiB, 8 * MiB - 64 * KiB),
	};
	REQUIRE_OK(sanitize(d, N(d), used, N(used)), "status");
	expect_regions(want, N(want));
}

/*
 * The same map stored with a 48-byte descriptor stride (what real firmware
 * uses), the extra 8 bytes filled with junk.
 *   1M   2M   3M
 *   |UUUU|RRRR|
 * Expect: same result as with 40 bytes; 32 bytes or a size that is not a
 * multiple of the stride are MM_EINVAL.
 */
static void test_desc_size_48(void)
{
	uint8_t raw[3 * 48];
	struct bootinfo_efi_desc d[] = { D(EFI_CONVENTIONAL, 1 * MiB, MiB), D(EFI_RESERVED, 2 * MiB, MiB),
					 D(EFI_CONVENTIONAL, 5 * MiB, 3 * MiB) };
	struct mm_region want[] = { R(MR_USABLE, 1 * MiB, MiB), R(MR_RESERVED, 2 * MiB, MiB),
				    R(MR_USABLE, 5 * MiB, 3 * MiB) };
	memset(raw, 0xa5, sizeof(raw));
	for (int i = 0; i < 3; i++)
		memcpy(raw + 48 * i, &d[i], sizeof(d[i]));
	REQUIRE_OK(memmap_sanitize(raw, sizeof(raw), 48, NULL, 0, SCRATCH, out, N(out), &nout), "st");
	expect_regions(want, N(want));
	CHECK(memmap_sanitize(raw, sizeof(raw), 32, NULL, 0, SCRATCH, out, N(out), &nout) == MM_EINVAL, "32");
	CHECK(memmap_sanitize(raw, sizeof(raw) - 8, 48, NULL, 0, SCRATCH, out, N(out), &nout) == MM_EINVAL,
	      "not a multiple");
	/* 44 bytes would put every other descriptor's 64-bit fields off their
	 * alignment (undefined behaviour to read): refused. */
	CHECK(memmap_sanitize(raw, 3 * 44, 44, NULL, 0, SCRATCH, out, N(out), &nout) == MM_EINVAL,
	      "44: not a multiple of 8");
}

/*
 *   1M   2M   3M        8M+2K 8M+6K
 *   |RRRR|UUUU|   ...   |u-u|          u-u: usable, no whole page inside
 * Expect: with room for exactly 2 regions the result fits: the fragment
 * trims away before it would need a third slot (not MM_EOVERFLOW).
 */
static void test_fits_after_trim(void)
{
	struct bootinfo_efi_desc d[] = { D(EFI_RESERVED, 1 * MiB, MiB), D(EFI_CONVENTIONAL, 2 * MiB, MiB),
					 D(EFI_CONVENTIONAL, 8 * MiB + 2 * KiB, PG) };
	struct mm_region want[] = { R(MR_RESERVED, 1 * MiB, MiB), R(MR_USABLE, 2 * MiB, MiB) };
	REQUIRE_OK(memmap_sanitize(d, sizeof(d), sizeof(d[0]), NULL, 0, SCRATCH, out, 2, &nout),
		   "two regions fit in two slots");
	expect_regions(want, N(want));
	CHECK(memmap_sanitize(d, sizeof(d), sizeof(d[0]), NULL, 0, SCRATCH, out, 1, &nout) == MM_EOVERFLOW &&
	      nout == 1, "one slot: overflow, nout %zu", nout);
}

/*
 *   1M   2M   3M
 *   |UUUU|RRRR|     + one used range (kernel) at 1M: 3 ranges, 6 change points
 * Expect: scratch for 5 change points is refused (MM_EINVAL, a line naming
 * both figures, out[] and the scratch untouched, *count 0); 6 are enough.
 */
static void test_scratch_too_small(void)
{
	struct bootinfo_efi_desc d[] = { D(EFI_CONVENTIONAL, 1 * MiB, MiB), D(EFI_RESERVED, 2 * MiB, MiB) };
	struct bootinfo_range used[] = { { .pa = 1 * MiB, .size = 64 * KiB, .type = BOOTINFO_USED_KERNEL } };
	struct mm_region want[] = { R(MR_KERNEL, 1 * MiB, 64 * KiB), R(MR_USABLE, 1 * MiB + 64 * KiB, MiB - 64 * KiB),
				    R(MR_RESERVED, 2 * MiB, MiB) };
	static struct memmap_cp small[6];
	static const struct mm_region junk = { .base = 0x1234, .size = 0x5678, .type = 99 };

	CHECK(MEMMAP_SCRATCH_LEN(N(d), N(used)) == 6, "6 change points for 3 ranges");
	for (size_t i = 0; i < N(out); i++)
		out[i] = junk;
	memset(small, 0xa5, sizeof(small));
	nout = 77;
	host_capture_begin();
	int st = memmap_sanitize(d, sizeof(d), sizeof(d[0]), used, N(used), small, 5, out, N(out), &nout);
	const char *txt = host_capture_end();
	CHECK(st == MM_EINVAL && nout == 0, "st %d nout %zu", st, nout);
	CHECK(strstr(txt, "memmap: memmap_sanitize: scratch of 5 change points, 6 needed"),
	      "report: %s", txt);
	CHECK(!memcmp(&out[0], &junk, sizeof(junk)), "out[0] written");
	for (size_t i = 0; i < sizeof(small); i++)
		if (((const uint8_t *)small)[i] != 0xa5) {
			CHECK(0, "scratch byte %zu written", i);
			break;
		}
	REQUIRE_OK(memmap_sanitize(d, sizeof(d), sizeof(d[0]), used, N(used), small, 6, out, N(out), &nout),
		   "exactly enough scratch");
	expect_regions(want, N(want));
}

/*
 * 312 entries of 64 KiB from 1M up, in a scrambled order, types cycling
 * conventional, boot-services data, reserved, ACPI NVS (the first two merge).
 *   |UU|RN|UU|RN|...     (U U = two entries)
 * Expect: 78 * 3 = 234 regions: usable 128K, reserved 64K, NVS 64K, ...
 */
static void test_312_entries(void)
{
	enum { NE = 312 };
	static const uint32_t cycle[4] = { EFI_CONVENTIONAL, EFI_BS_DATA, EFI_RESERVED, EFI_ACPI_NVS };
	static const uint32_t rcycle[3] = { MR_USABLE, MR_RESERVED, MR_ACPI_NVS };
	static struct bootinfo_efi_desc d[NE];
	static struct mm_region want[NE];
	size_t nw = 0;

	for (size_t i = 0; i < NE; i++) {
		size_t j = (i * 97) % NE;         /* 97 is coprime to 312: a permutation */
		d[i] = (struct bootinfo_efi_desc)D(cycle[j % 4], MiB + j * 64 * KiB, 64 * KiB);
	}
	for (size_t g = 0; g < NE / 4; g++) {
		uint64_t b = MiB + g * 256 * KiB;
		want[nw++] = (struct mm_region)R(rcycle[0], b, 128 * KiB);
		want[nw++] = (struct mm_region)R(rcycle[1], b + 128 * KiB, 64 * KiB);
		want[nw++] = (struct mm_region)R(rcycle[2], b + 192 * KiB, 64 * KiB);
	}
	REQUIRE_OK(sanitize(d, NE, NULL, 0), "status");
	expect_regions(want, nw);
	CHECK(memmap_usable_bytes(out, nout) == (NE / 4) * 128 * KiB, "usable bytes");
	/* Too small an output array is reported, not overrun. */
	CHECK(memmap_sanitize(d, sizeof(d), sizeof(d[0]), NULL, 0, SCRATCH, out, 10, &nout) == MM_EOVERFLOW &&
	      nout == 10, "overflow: nout %zu", nout);
}

/*
 *   0  640K   1M        2G   4G                    16T
 *   |UU|  RR  |UUUUUUUUU|MMMM|UUUUUUUUUUUUUUUUUUUUUU|
 * Expect: usable total = 636K + (2G - 1M) + (16T - 4G), addresses kept to
 * the last byte (0x00000fffffffffff).
 */
static void test_16_tib(void)
{
	struct bootinfo_efi_desc d[] = {
		D(EFI_CONVENTIONAL, 0, 640 * KiB), D(EFI_RESERVED, 640 * KiB, 384 * KiB), D(EFI_CONVENTIONAL, MiB, 2 * GiB - MiB),
		D(EFI_MMIO, 2 * GiB, 2 * GiB), D(EFI_CONVENTIONAL, 4 * GiB, 16 * TiB - 4 * GiB),
	};
	struct mm_region want[] = {
		R(MR_RESERVED, 0, PG), R(MR_USABLE, PG, 636 * KiB), R(MR_RESERVED, 640 * KiB, 384 * KiB),
		R(MR_USABLE, MiB, 2 * GiB - MiB), R(MR_MMIO, 2 * GiB, 2 * GiB),
		R(MR_USABLE, 4 * GiB, 16 * TiB - 4 * GiB),
	};
	REQUIRE_OK(sanitize(d, N(d), NULL, 0), "status");
	expect_regions(want, N(want));
	CHECK(memmap_usable_bytes(out, nout) == 636 * KiB + 2 * GiB - MiB + 16 * TiB - 4 * GiB,
	      "usable");
}

/* Attribute sets of the tests below: UC|WC|WT (no WB), what firmware puts
 * on RAM (UC|WC|WT|WB), and those with SP or MORE_RELIABLE. */
#define NOWB 0x7ULL
#define RAM  0xfULL
#define SP   EFI_MEMORY_SP
#define MR   EFI_MEMORY_MORE_RELIABLE

/*
 * RAM types without EFI_MEMORY_WB are not RAM.
 *   1M   2M   3M   4M   5M   6M   7M   8M
 *   |UUUU|uuuu|bbbb|llll|LLLL|cccc|mmmm|
 *   U conventional WB, u conventional UC|WC|WT, b boot-services data no WB,
 *   l loader data no WB, L loader data WB, c boot-services code with no
 *   attributes at all, m MMIO without WB (as firmware marks MMIO)
 * Expect: usable 1M..2M, reserved 2M..5M (three entries merged), loader
 * 5M..6M, reserved 6M..7M, mmio 7M..8M; usable bytes 1 MiB.  Control: the
 * same map with WB on every RAM entry is usable 1M..4M (merged), loader
 * 4M..6M, usable 6M..7M, mmio.
 */
static void test_no_wb_not_ram(void)
{
	struct bootinfo_efi_desc d[] = {
		DA(EFI_CONVENTIONAL, 1 * MiB, MiB, RAM), DA(EFI_CONVENTIONAL, 2 * MiB, MiB, NOWB),
		DA(EFI_BS_DATA, 3 * MiB, MiB, NOWB), DA(EFI_LOADER_DATA, 4 * MiB, MiB, NOWB),
		DA(EFI_LOADER_DATA, 5 * MiB, MiB, RAM), DA(EFI_BS_CODE, 6 * MiB, MiB, 0),
		DA(EFI_MMIO, 7 * MiB, MiB, 1),
	};
	struct mm_region want[] = {
		R(MR_USABLE, 1 * MiB, MiB), R(MR_RESERVED, 2 * MiB, 3 * MiB), R(MR_LOADER, 5 * MiB, MiB),
		R(MR_RESERVED, 6 * MiB, MiB), R(MR_MMIO, 7 * MiB, MiB),
	};
	struct mm_region want_wb[] = {
		R(MR_USABLE, 1 * MiB, 3 * MiB), R(MR_LOADER, 4 * MiB, 2 * MiB),
		R(MR_USABLE, 6 * MiB, MiB), R(MR_MMIO, 7 * MiB, MiB),
	};
	REQUIRE_OK(sanitize(d, N(d), NULL, 0), "status");
	expect_regions(want, N(want));
	CHECK(memmap_usable_bytes(out, nout) == MiB, "usable %llu",
	      (unsigned long long)memmap_usable_bytes(out, nout));
	for (size_t i = 0; i < N(d); i++)
		d[i].attribute |= EFI_MEMORY_WB;
	REQUIRE_OK(sanitize(d, N(d), NULL, 0), "status with WB");
	expect_regions(want_wb, N(want_wb));
	CHECK(memmap_efi_desc_to_region(EFI_CONVENTIONAL, 0) == MR_RESERVED, "no attributes");
	CHECK(memmap_efi_desc_to_region(EFI_ACPI_RECLAIM, 0) == MR_ACPI_DATA, "ACPI: type only");
	CHECK(memmap_efi_desc_to_region(EFI_RT_DATA, 0) == MR_RUNTIME, "runtime: type only");
}

/*
 * RAM types marked EFI_MEMORY_RUNTIME: the firmware keeps using them after
 * ExitBootServices (kernel/efirt maps every runtime-attributed descriptor
 * for it), so they are runtime memory, never usable - Linux's
 * efi_free_boot_services keeps them for the same reason.
 *   1M   2M   3M   4M   5M
 *   |UUUUUUUUUUUUUUU|        U conventional WB over 1M..4M
 *        |bbbb|              b boot-services data WB|RUNTIME over 2M..3M
 *                  |cccc|    c conventional WB|RUNTIME 4M..5M
 * Expect: usable 1M..2M, runtime 2M..3M, usable 3M..4M, runtime 4M..5M;
 * usable bytes 2 MiB.  Control: the same map without RUNTIME is usable
 * 1M..5M (merged), 4 MiB.
 */
static void test_runtime_attr_not_usable(void)
{
	const uint64_t RT = EFI_MEMORY_WB | EFI_MEMORY_RUNTIME;
	struct bootinfo_efi_desc d[] = {
		D(EFI_CONVENTIONAL, 1 * MiB, 3 * MiB), DA(EFI_BS_DATA, 2 * MiB, MiB, RT),
		DA(EFI_CONVENTIONAL, 4 * MiB, MiB, RT),
	};
	struct mm_region want[] = {
		R(MR_USABLE, 1 * MiB, MiB), R(MR_RUNTIME, 2 * MiB, MiB), R(MR_USABLE, 3 * MiB, MiB),
		R(MR_RUNTIME, 4 * MiB, MiB),
	};
	struct mm_region want_plain[] = { R(MR_USABLE, 1 * MiB, 4 * MiB) };
	REQUIRE_OK(sanitize(d, N(d), NULL, 0), "status");
	expect_regions(want, N(want));
	CHECK(memmap_usable_bytes(out, nout) == 2 * MiB, "usable %llu",
	      (unsigned long long)memmap_usable_bytes(out, nout));
	for (uint32_t t = EFI_LOADER_CODE; t <= EFI_CONVENTIONAL; t++)
		if (t != EFI_RT_CODE && t != EFI_RT_DATA && memmap_efi_type_to_region(t) != MR_RESERVED)
			CHECK(memmap_efi_desc_to_region(t, RT) == MR_RUNTIME, "EFI type %u with RUNTIME", t);
	/* Control: without the attribute the same descriptors are RAM. */
	for (size_t i = 0; i < N(d); i++)
		d[i].attribute &= ~EFI_MEMORY_RUNTIME;
	REQUIRE_OK(sanitize(d, N(d), NULL, 0), "status without RUNTIME");
	expect_regions(want_plain, N(want_plain));
	CHECK(memmap_efi_desc_to_region(EFI_BS_DATA, EFI_MEMORY_WB) == MR_USABLE, "control");
}

/*
 * EFI_MEMORY_SP on RAM types: soft-reserved, whatever WB says (Linux's
 * order); on other types it changes nothing.
 *   1M   2M   3M   4M   5M   6M   7M   8M
 *   |ssss|SSSS|UUUU|pppp|          s conventional WB|SP, S boot data SP only,
 *                  |NNNNNNNNN|     U conventional WB, p loader code WB|SP,
 *                  3M   4.5M       N ACPI NVS over 3M..4.5M
 *                            |aaaa|rrrr|   a ACPI reclaim with SP: ACPI data
 *                               |RR|       R reserved over 6.25M..6.5M
 *   and an SP conventional 6M..7M laid over a and under R.
 * Expect: soft-reserved 1M..3M (merged), ACPI NVS 3M..4M (NVS beats usable),
 * soft-reserved 4M..5M (soft-reserved beats NVS: rank 6 > 3), a hole,
 * soft-reserved 6M..6.25M (beats ACPI data), reserved 6.25M..6.5M (reserved
 * beats soft-reserved), soft-reserved 6.5M..7M, ACPI data 7M..8M; nothing
 * usable; printed "soft-reserved".
 */
static void test_soft_reserved(void)
{
	struct bootinfo_efi_desc d[] = {
		DA(EFI_CONVENTIONAL, 1 * MiB, MiB, RAM | SP), DA(EFI_BS_DATA, 2 * MiB, MiB, SP),
		DA(EFI_CONVENTIONAL, 3 * MiB, MiB, RAM), DA(EFI_LOADER_CODE, 4 * MiB, MiB, RAM | SP),
		DA(EFI_ACPI_NVS, 3 * MiB, MiB + 512 * KiB, RAM),
		DA(EFI_ACPI_RECLAIM, 6 * MiB, 2 * MiB, RAM | SP),
		DA(EFI_RESERVED, 6 * MiB + 256 * KiB, 256 * KiB, RAM),
		DA(EFI_CONVENTIONAL, 6 * MiB, MiB, RAM | SP),
	};
	struct mm_region want[] = {
		R(MR_SOFT_RESERVED, 1 * MiB, 2 * MiB), R(MR_ACPI_NVS, 3 * MiB, MiB),
		R(MR_SOFT_RESERVED, 4 * MiB, MiB), R(MR_SOFT_RESERVED, 6 * MiB, 256 * KiB),
		R(MR_RESERVED, 6 * MiB + 256 * KiB, 256 * KiB),
		R(MR_SOFT_RESERVED, 6 * MiB + 512 * KiB, 512 * KiB), R(MR_ACPI_DATA, 7 * MiB, MiB),
	};
	REQUIRE_OK(sanitize(d, N(d), NULL, 0), "status");
	expect_regions(want, N(want));
	CHECK(memmap_usable_bytes(out, nout) == 0, "usable");
	CHECK(!strcmp(memmap_type_name(MR_SOFT_RESERVED), "soft-reserved"), "name %s",
	      memmap_type_name(MR_SOFT_RESERVED));
	CHECK(!strcmp(memmap_type_name(MR_NTYPES), "?"), "past the last type");
	/* Control: without SP the first entries are usable RAM again. */
	d[0].attribute = RAM;
	REQUIRE_OK(sanitize(d, 1, NULL, 0), "status, no SP");
	CHECK(nout == 1 && out[0].type == MR_USABLE, "no SP: %s", memmap_type_name(out[0].type));
}

/*
 * A used range over soft-reserved or non-WB memory (rule 6: the overlay
 * wins; the loader never allocates there, so only broken firmware does it).
 *   1M        2M   2M+64K    3M   4M        5M        6M
 *   |sssssssss|KKKK|sssssssss|    |uuuuuuuuu|DDDDDDDDD|
 *   s conventional SP, K kernel used range, u conventional without WB,
 *   D ramdisk used range over 5M..6M of it
 * Expect: soft-reserved, kernel, soft-reserved, reserved 4M..5M, ramdisk.
 */
static void test_used_over_soft_reserved(void)
{
	struct bootinfo_efi_desc d[] = {
		DA(EFI_CONVENTIONAL, 1 * MiB, 2 * MiB, RAM | SP), DA(EFI_CONVENTIONAL, 4 * MiB, 2 * MiB, NOWB),
	};
	struct bootinfo_range used[] = {
		{ .pa = 2 * MiB, .size = 64 * KiB, .type = BOOTINFO_USED_KERNEL },
		{ .pa = 5 * MiB, .size = MiB, .type = BOOTINFO_USED_RAMDISK },
	};
	struct mm_region want[] = {
		R(MR_SOFT_RESERVED, 1 * MiB, MiB), R(MR_KERNEL, 2 * MiB, 64 * KiB),
		R(MR_SOFT_RESERVED, 2 * MiB + 64 * KiB, MiB - 64 * KiB),
		R(MR_RESERVED, 4 * MiB, MiB), R(MR_RAMDISK, 5 * MiB, MiB),
	};
	REQUIRE_OK(sanitize(d, N(d), used, N(used)), "status");
	expect_regions(want, N(want));
}

/* Sets *b to memmap_reliable_bytes of d[0..n) and the current out[]. */
static int reliable(const struct bootinfo_efi_desc *d, size_t n, uint64_t *b)
{
	return memmap_reliable_bytes(d, n * sizeof(*d), sizeof(*d), out, nout, SCRATCH, b);
}

/*
 * EFI_MEMORY_MORE_RELIABLE: counted where usable, once.
 *   0    64K       1M    1.5M 1.75M 2M        4M   4.5M      8M  9M  10M
 *   |mmmm|         |mmmmm|RRRR|mmmm|uuuuuuuuuu|bbbb|         |xxx|sss|
 *   m conventional WB|MR (page 0 cut off), R reserved WB|MR over 1.5M..1.75M,
 *   u conventional WB, b boot data WB|MR 4M..4.5M with a kernel used range
 *   over its first 64K, x conventional MR without WB (reserved), s
 *   conventional MR|SP (soft-reserved)
 *   16M+2K ... 17M+2K: conventional WB|MR, not page aligned (trimmed)
 *   20M..22M and 21M..23M: conventional WB|MR, overlapping (count once)
 * Expect: (64K - 4K) + (1M - 256K) + (512K - 64K) + (1M - 4K) + 3M bytes;
 * the line "memmap: 5 MiB of usable memory is more-reliable (mirrored)"
 * (5.24 MiB rounded down).  Control: without MR anywhere 0 bytes and no
 * line; too little scratch is MM_EINVAL with a report line.
 */
static void test_more_reliable(void)
{
	struct bootinfo_efi_desc d[] = {
		DA(EFI_CONVENTIONAL, 0, 64 * KiB, RAM | MR), DA(EFI_CONVENTIONAL, 1 * MiB, MiB, RAM | MR),
		DA(EFI_RESERVED, 1 * MiB + 512 * KiB, 256 * KiB, RAM | MR),
		DA(EFI_CONVENTIONAL, 2 * MiB, 2 * MiB, RAM), DA(EFI_BS_DATA, 4 * MiB, 512 * KiB, RAM | MR),
		DA(EFI_CONVENTIONAL, 8 * MiB, MiB, NOWB | MR), DA(EFI_CONVENTIONAL, 9 * MiB, MiB, RAM | MR | SP),
		DA(EFI_CONVENTIONAL, 16 * MiB + 2 * KiB, MiB, RAM | MR),
		DA(EFI_CONVENTIONAL, 20 * MiB, 2 * MiB, RAM | MR), DA(EFI_CONVENTIONAL, 21 * MiB, 2 * MiB, RAM | MR),
	};
	struct bootinfo_range used[] = { { .pa = 4 * MiB, .size = 64 * KiB, .type = BOOTINFO_USED_KERNEL } };
	const uint64_t want = (64 * KiB - PG) + (MiB - 256 * KiB) + (512 * KiB - 64 * KiB) + (MiB - PG) +
			      3 * MiB;
	uint64_t b = 1;

	REQUIRE_OK(sanitize(d, N(d), used, N(used)), "status");
	REQUIRE_OK(reliable(d, N(d), &b), "reliable");
	CHECK(b == want, "reliable %llu, want %llu", (unsigned long long)b, (unsigned long long)want);
	host_capture_begin();
	memmap_print_reliable(b);
	const char *txt = host_capture_end();
	CHECK(!strcmp(txt, "memmap: 5 MiB of usable memory is more-reliable (mirrored)\n"), "%s", txt);

	/* Control: no MR bit anywhere. */
	for (size_t i = 0; i < N(d); i++)
		d[i].attribute &= ~MR;
	REQUIRE_OK(sanitize(d, N(d), used, N(used)), "status, no MR");
	REQUIRE_OK(reliable(d, N(d), &b), "reliable, no MR");
	CHECK(b == 0, "no MR: %llu", (unsigned long long)b);
	host_capture_begin();
	memmap_print_reliable(b);
	txt = host_capture_end();
	CHECK(!strcmp(txt, ""), "printed for 0: %s", txt);

	b = 7;
	host_capture_begin();
	int st = memmap_reliable_bytes(d, sizeof(d), sizeof(d[0]), out, nout, scratch, 2 * N(d) - 1, &b);
	txt = host_capture_end();
	CHECK(st == MM_EINVAL && b == 0, "short scratch: %d, %llu", st, (unsigned long long)b);
	CHECK(strstr(txt, "memmap: memmap_reliable_bytes: scratch of 19 change points, 20 needed"),
	      "report: %s", txt);
	CHECK(memmap_reliable_bytes(d, sizeof(d), 44, out, nout, SCRATCH, &b) == MM_EINVAL, "stride 44");
}

/*
 *   0    4K      640K
 *   |RRRR|UUUUUUU|  printed
 * Expect: the exact Linux-style lines and the summary line.
 */
static void test_print(void)
{
	struct mm_region r[] = { R(MR_RESERVED, 0, PG), R(MR_USABLE, PG, 0x9f000),
				 R(MR_ACPI_DATA, MiB, MiB), R(MR_USABLE, 4 * GiB, 4 * GiB) };
	host_capture_begin();
	memmap_print(r, N(r));
	const char *txt = host_capture_end();
	const char *want =
		"memmap: [mem 0x0000000000000000-0x0000000000000fff] reserved\n"
		"memmap: [mem 0x0000000000001000-0x000000000009ffff] usable\n"
		"memmap: [mem 0x0000000000100000-0x00000000001fffff] ACPI data\n"
		"memmap: [mem 0x0000000100000000-0x00000001ffffffff] usable\n"
		"memmap: usable 4295618560 bytes in 2 regions\n";
	CHECK(strcmp(txt, want) == 0, "got:\n%s", txt);
}

/*
 *   raw: BS code page 0, conventional, an OS-defined type
 * Expect: the shell's -sfo lines; the OS-defined type named "Type<hex>";
 * the summary's total leaves out reserved and MMIO.
 */
static void test_print_raw(void)
{
	struct bootinfo_efi_desc d[] = { D(EFI_BS_CODE, 0, PG), D(EFI_CONVENTIONAL, PG, 0x9f000),
					 D(EFI_MMIO, 0xffc00000, 4 * MiB), DA(0x80000001u, 8 * MiB, PG, 0) };
	d[2].attribute = 0x8000000000000001ULL;
	d[0].attribute = d[1].attribute = 0xf;
	host_capture_begin();
	memmap_print_raw(d, sizeof(d), sizeof(d[0]));
	const char *txt = host_capture_end();
	const char *want =
		"ShellCommand,\"memmap\"\n"
		"MemoryMap,\"BootServiceCode\",\"0\",\"FFF\",\"1\",\"F\"\n"
		"MemoryMap,\"Available\",\"1000\",\"9FFFF\",\"9F\",\"F\"\n"
		"MemoryMap,\"MemoryMappedIO\",\"FFC00000\",\"FFFFFFFF\",\"400\",\"8000000000000001\"\n"
		"MemoryMap,\"Type80000001\",\"800000\",\"800FFF\",\"1\",\"0\"\n"
		"MemoryMapSummary,\"659456\",\"0\",\"4096\",\"0\",\"0\",\"0\",\"0\",\"0\","
		"\"651264\",\"4194304\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\", \"0\"\n";
	CHECK(strcmp(txt, want) == 0, "got:\n%s", txt);
}

int main(void)
{
	RUN(test_disjoint);
	RUN(test_adjacent_same_type);
	RUN(test_adjacent_different_type);
	RUN(test_reserved_inside_usable);
	RUN(test_overlap_right);
	RUN(test_overlap_left);
	RUN(test_overlap_strictness);
	RUN(test_unsorted);
	RUN(test_zero_length);
	RUN(test_wrap);
	RUN(test_misaligned_usable);
	RUN(test_page_zero);
	RUN(test_unknown_types);
	RUN(test_type_mapping);
	RUN(test_used_overlay);
	RUN(test_desc_size_48);
	RUN(test_fits_after_trim);
	RUN(test_scratch_too_small);
	RUN(test_312_entries);
	RUN(test_16_tib);
	RUN(test_no_wb_not_ram);
	RUN(test_runtime_attr_not_usable);
	RUN(test_soft_reserved);
	RUN(test_used_over_soft_reserved);
	RUN(test_more_reliable);
	RUN(test_print);
	RUN(test_print_raw);
	return harness_done("memmap");
}
