/*
 * efi/elf.h - ELF64 facts the loader needs and the kernel-image checker.
 * Portable C with no UEFI types, so host tests run it on crafted files.
 */
#ifndef EFI_ELF_H
#define EFI_ELF_H

#include <stddef.h>
#include <stdint.h>

/* The ELF64 structures (System V ABI, "ELF-64 Object File Format"). */
struct elf64_ehdr {
	uint8_t  ident[16];
	uint16_t type;
	uint16_t machine;
	uint32_t version;
	uint64_t entry;
	uint64_t phoff;
	uint64_t shoff;
	uint32_t flags;
	uint16_t ehsize;
	uint16_t phentsize;
	uint16_t phnum;
	uint16_t shentsize;
	uint16_t shnum;
	uint16_t shstrndx;
};
_Static_assert(sizeof(struct elf64_ehdr) == 64, "ELF64 header layout");

struct elf64_phdr {
	uint32_t type;
	uint32_t flags;
	uint64_t offset;
	uint64_t vaddr;
	uint64_t paddr;
	uint64_t filesz;
	uint64_t memsz;
	uint64_t align;
};
_Static_assert(sizeof(struct elf64_phdr) == 56, "ELF64 program header layout");

#define ELF_CLASS64     2
#define ELF_DATA2LSB    1
#define ELF_ET_EXEC     2
#define ELF_EM_X86_64   62
#define ELF_PT_LOAD     1
#define ELF_PF_X        1
#define ELF_PF_W        2
#define ELF_PF_R        4

/* A kernel image's load segments may not exceed this many; the kernel has
 * text, rodata and data - 16 leaves room without inviting silly files. */
#define ELF_MAX_LOAD    16

/* Largest kernel image span accepted: 256 MiB of the 2 GiB window is far
 * more than this kernel needs and keeps a corrupt memsz from asking the
 * firmware for all of RAM. */
#define ELF_MAX_SPAN    (256ULL << 20)

struct elf_segment {
	uint64_t va;        /* page-aligned start of the segment's pages */
	uint64_t pages;     /* 4 KiB pages covering [vaddr, vaddr + memsz) */
	uint64_t vaddr;     /* exact p_vaddr */
	uint64_t offset;    /* file offset of the first byte */
	uint64_t filesz;
	uint64_t memsz;
	uint32_t flags;     /* ELF_PF_* */
};

struct elf_image {
	uint64_t entry;
	uint64_t va_lo;     /* page-aligned lowest va of any segment */
	uint64_t va_hi;     /* page-aligned end of the highest segment */
	uint32_t nseg;
	struct elf_segment seg[ELF_MAX_LOAD];
};

/*
 * elf_check - validate a kernel image of size bytes at buf: ELF64, little
 * endian, x86_64 executable; program headers inside the file; 1..16 PT_LOAD
 * segments, none writable and executable, with 0 < memsz, filesz <= memsz,
 * file bytes inside the file, addresses in [lo, 2^64 - 4096) (the last page
 * is refused so page rounding never wraps), no two segments sharing a page,
 * a total page span <= ELF_MAX_SPAN; the entry point inside the file-backed
 * part of an executable segment (not its zero-filled tail).  Other program
 * headers are ignored, and vaddr need not be congruent to offset: the
 * loader copies each segment, it does not map the file.
 * On success fills *img and returns 0.  On failure writes a one-line reason
 * into err (errlen bytes) and returns -1.
 */
int elf_check(const void *buf, uint64_t size, uint64_t lo,
	      struct elf_image *img, char *err, size_t errlen);

#endif
