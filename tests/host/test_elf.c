/*
 * tests/host/test_elf.c - efi/elf.c: the loader's kernel-image checks on
 * ELF files built here byte by byte, then damaged one field at a time.
 *
 * The good image (addresses in the top 2 GiB):
 *
 *   file:  [ehdr][3 phdrs] ... [text 0x1000@0x1000][rodata 0x800@0x2000][data 0x100@0x3000]
 *   va:    0xffffffff80000000 text RX | +0x1000 rodata R | +0x2000 data+bss RW (memsz 0x3000)
 */
#include <string.h>
#include "efi/elf.h"
#include "mm/layout.h"
#include "tests/host/harness.h"

#define FILE_SIZE 0x4000

static uint8_t file[FILE_SIZE];
static char err[256];
static struct elf_image img;

static struct elf64_phdr *ph(int i)
{
	return (struct elf64_phdr *)(file + 64 + 56 * i);
}

static struct elf64_ehdr *eh(void)
{
	return (struct elf64_ehdr *)file;
}

/* Builds the good image described above. */
static void build_good(void)
{
	memset(file, 0, sizeof(file));
	struct elf64_ehdr *e = eh();
	memcpy(e->ident, "\x7f" "ELF", 4);
	e->ident[4] = ELF_CLASS64;
	e->ident[5] = ELF_DATA2LSB;
	e->ident[6] = 1;
	e->type = ELF_ET_EXEC;
	e->machine = ELF_EM_X86_64;
	e->version = 1;
	e->entry = KERNEL_VA_BASE + 0x10;
	e->phoff = 64;
	e->ehsize = 64;
	e->phentsize = 56;
	e->phnum = 3;
	*ph(0) = (struct elf64_phdr){ ELF_PT_LOAD, ELF_PF_R | ELF_PF_X, 0x1000, KERNEL_VA_BASE, 0, 0x1000, 0x1000, 0x1000 };
	*ph(1) = (struct elf64_phdr){ ELF_PT_LOAD, ELF_PF_R, 0x2000, KERNEL_VA_BASE + 0x1000, 0, 0x800, 0x800, 0x1000 };
	*ph(2) = (struct elf64_phdr){ ELF_PT_LOAD, ELF_PF_R | ELF_PF_W, 0x3000, KERNEL_VA_BASE + 0x2000, 0, 0x100, 0x3000, 0x1000 };
}

static int check(uint64_t size)
{
	err[0] = 0;
	return elf_check(file, size, KERNEL_VA_BASE, &img, err, sizeof(err));
}

#define EXPECT_FAIL(size, what) do {						\
	CHECK(check(size) == -1, "accepted, expected: %s", what);		\
	CHECK(strstr(err, what) != NULL, "message \"%s\" lacks \"%s\"", err, what); \
} while (0)

/* Expect: the good image passes with 3 segments, span 5 pages, entry kept. */
static void test_good(void)
{
	build_good();
	REQUIRE(check(FILE_SIZE) == 0, "rejected: %s", err);
	CHECK(img.nseg == 3, "nseg %u", img.nseg);
	CHECK(img.va_lo == KERNEL_VA_BASE && img.va_hi == KERNEL_VA_BASE + 0x5000,
	      "span %lx-%lx", (unsigned long)img.va_lo, (unsigned long)img.va_hi);
	CHECK(img.seg[2].pages == 3, "data pages %lu", (unsigned long)img.seg[2].pages);
	CHECK(img.entry == KERNEL_VA_BASE + 0x10, "entry");
}

/* Expect: header-level damage is named. */
static void test_header(void)
{
	build_good(); file[1] = 'X';                 EXPECT_FAIL(FILE_SIZE, "bad ELF magic");
	build_good(); file[4] = 1;                   EXPECT_FAIL(FILE_SIZE, "ELF class 1");
	build_good(); file[5] = 2;                   EXPECT_FAIL(FILE_SIZE, "little endian");
	build_good(); eh()->machine = 3;             EXPECT_FAIL(FILE_SIZE, "machine 3");
	build_good(); eh()->type = 3;                EXPECT_FAIL(FILE_SIZE, "ELF type 3");
	build_good(); eh()->phentsize = 32;          EXPECT_FAIL(FILE_SIZE, "program header size 32");
	build_good(); eh()->phnum = 0;               EXPECT_FAIL(FILE_SIZE, "no program headers");
	build_good();                                EXPECT_FAIL(40, "shorter than an ELF64 header");
	build_good(); eh()->phoff = FILE_SIZE - 8;   EXPECT_FAIL(FILE_SIZE, "run past the end");
	build_good(); eh()->phoff = UINT64_MAX - 8;  EXPECT_FAIL(FILE_SIZE, "run past the end");
}

/* Expect: segment damage is named: truncation, sizes, addresses, overlap. */
static void test_segments(void)
{
	build_good();                                EXPECT_FAIL(0x3080, "truncated");
	build_good(); ph(0)->filesz = 0x2000;        EXPECT_FAIL(FILE_SIZE, "filesz");
	build_good(); ph(1)->offset = UINT64_MAX;    EXPECT_FAIL(FILE_SIZE, "run past the end");
	build_good(); ph(2)->memsz = 0;              EXPECT_FAIL(FILE_SIZE, "memsz 0");
	build_good(); ph(1)->vaddr = 0x400000;       EXPECT_FAIL(FILE_SIZE, "outside the higher-half");
	build_good(); ph(2)->memsz = UINT64_MAX - 0x100; EXPECT_FAIL(FILE_SIZE, "outside the higher-half");
	/* Ending exactly at 2^64 (an end of 0 in 64 bits, which made va_hi
	 * too low and the span too small): refused like any end in the last page. */
	build_good(); ph(2)->memsz = 0 - ph(2)->vaddr; EXPECT_FAIL(FILE_SIZE, "outside the higher-half");
	build_good(); ph(1)->vaddr = KERNEL_VA_BASE + 0x800; EXPECT_FAIL(FILE_SIZE, "overlap");
	build_good(); ph(2)->memsz = ELF_MAX_SPAN;   EXPECT_FAIL(FILE_SIZE, "span");
	build_good(); for (int i = 0; i < 3; i++) ph(i)->type = 6; EXPECT_FAIL(FILE_SIZE, "no PT_LOAD");
}

/* Expect: the entry point must lie in an executable segment. */
static void test_entry(void)
{
	build_good(); eh()->entry = KERNEL_VA_BASE + 0x1010; EXPECT_FAIL(FILE_SIZE, "non-executable");
	build_good(); eh()->entry = KERNEL_VA_BASE + 0x9000; EXPECT_FAIL(FILE_SIZE, "not inside any");
	/* text with a zero-filled tail: the entry in the tail is refused, the
	 * last file byte is fine. */
	build_good(); ph(0)->filesz = 0x800;
	eh()->entry = KERNEL_VA_BASE + 0x800;         EXPECT_FAIL(FILE_SIZE, "zero-filled tail");
	build_good(); ph(0)->filesz = 0x800;
	eh()->entry = KERNEL_VA_BASE + 0x7ff;
	CHECK(check(FILE_SIZE) == 0, "entry on the last file byte rejected: %s", err);
}

/* Expect: a segment both writable and executable is refused (W^X). */
static void test_wx(void)
{
	build_good(); ph(0)->flags |= ELF_PF_W;      EXPECT_FAIL(FILE_SIZE, "writable and executable");
	build_good(); ph(2)->flags |= ELF_PF_X;      EXPECT_FAIL(FILE_SIZE, "W^X");
}

int main(void)
{
	RUN(test_good);
	RUN(test_header);
	RUN(test_segments);
	RUN(test_entry);
	RUN(test_wx);
	return harness_done("elf");
}
