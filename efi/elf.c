/*
 * efi/elf.c - validation of the kernel ELF image (see elf.h).  Every number
 * read from the file is checked before it is used as an offset or a size,
 * with overflow-safe arithmetic: a corrupt file yields a message, not a
 * wild read.
 */
#include "efi/elf.h"
#include "lib/fmt.h"
#include "lib/range.h"
#include "mm/x86_64.h"

/* Segments must end below the last page of the address space, so that
 * rounding their end up to a page never wraps. */
#define ELF_VA_LIMIT (0 - PAGE_SIZE)

#define FAIL(...) do { fmt_snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

/* Validates one PT_LOAD header ph (index i) and appends it to img. */
static int check_load(const struct elf64_phdr *ph, unsigned i, uint64_t size,
		      uint64_t lo, struct elf_image *img, char *err, size_t errlen)
{
	if (img->nseg == ELF_MAX_LOAD)
		FAIL("more than %d PT_LOAD segments", ELF_MAX_LOAD);
	if (ph->memsz == 0)
		FAIL("segment %u has memsz 0", i);
	if (ph->filesz > ph->memsz)
		FAIL("segment %u: filesz %llu > memsz %llu", i,
		     (unsigned long long)ph->filesz, (unsigned long long)ph->memsz);
	if ((ph->flags & ELF_PF_W) && (ph->flags & ELF_PF_X))
		FAIL("segment %u at 0x%llx is both writable and executable (W^X): relink the kernel with separate text and data segments",
		     i, (unsigned long long)ph->vaddr);
	if (!range_within(ph->offset, ph->filesz, size))
		FAIL("segment %u: file bytes [%llu, +%llu) run past the end of the file (%llu bytes): truncated?",
		     i, (unsigned long long)ph->offset, (unsigned long long)ph->filesz,
		     (unsigned long long)size);
	if (ph->vaddr < lo || !range_within(ph->vaddr, ph->memsz, ELF_VA_LIMIT))
		FAIL("segment %u at 0x%llx (+0x%llx) is outside the higher-half kernel window [0x%llx, 2^64)",
		     i, (unsigned long long)ph->vaddr, (unsigned long long)ph->memsz,
		     (unsigned long long)lo);
	struct elf_segment *s = &img->seg[img->nseg];
	s->va = PAGE_ROUND_DOWN(ph->vaddr);
	s->pages = (PAGE_ROUND_UP(ph->vaddr + ph->memsz) - s->va) >> PAGE_SHIFT;
	s->vaddr = ph->vaddr;
	s->offset = ph->offset;
	s->filesz = ph->filesz;
	s->memsz = ph->memsz;
	s->flags = ph->flags;
	for (uint32_t j = 0; j < img->nseg; j++)
		if (ranges_overlap(s->va, s->pages * PAGE_SIZE, img->seg[j].va,
				   img->seg[j].pages * PAGE_SIZE))
			FAIL("segments overlap: 0x%llx (+%llu pages) and 0x%llx (+%llu pages)",
			     (unsigned long long)s->va, (unsigned long long)s->pages,
			     (unsigned long long)img->seg[j].va,
			     (unsigned long long)img->seg[j].pages);
	img->nseg++;
	return 0;
}

/* See elf.h. */
int elf_check(const void *buf, uint64_t size, uint64_t lo,
	      struct elf_image *img, char *err, size_t errlen)
{
	struct elf64_ehdr eh;
	const unsigned char *p = buf;

	img->nseg = 0;
	if (size < sizeof(eh))
		FAIL("file is %llu bytes, shorter than an ELF64 header: truncated?",
		     (unsigned long long)size);
	__builtin_memcpy(&eh, buf, sizeof(eh)); /* buf need not be aligned */
	if (eh.ident[0] != 0x7f || eh.ident[1] != 'E' || eh.ident[2] != 'L' || eh.ident[3] != 'F')
		FAIL("bad ELF magic %02x %02x %02x %02x (not an ELF file)",
		     eh.ident[0], eh.ident[1], eh.ident[2], eh.ident[3]);
	if (eh.ident[4] != ELF_CLASS64)
		FAIL("ELF class %u, expected 2 (64-bit)", eh.ident[4]);
	if (eh.ident[5] != ELF_DATA2LSB)
		FAIL("ELF data encoding %u, expected 1 (little endian)", eh.ident[5]);
	if (eh.machine != ELF_EM_X86_64)
		FAIL("ELF machine %u, expected 62 (x86_64)", eh.machine);
	if (eh.type != ELF_ET_EXEC)
		FAIL("ELF type %u, expected 2 (executable)", eh.type);
	if (eh.phentsize != sizeof(struct elf64_phdr))
		FAIL("program header size %u, expected %u", eh.phentsize,
		     (unsigned)sizeof(struct elf64_phdr));
	if (eh.phnum == 0)
		FAIL("no program headers");
	if (!range_within(eh.phoff, (uint64_t)eh.phnum * sizeof(struct elf64_phdr), size))
		FAIL("program headers [%llu, +%u x 56) run past the end of the file (%llu bytes): truncated?",
		     (unsigned long long)eh.phoff, eh.phnum, (unsigned long long)size);

	for (unsigned i = 0; i < eh.phnum; i++) {
		struct elf64_phdr ph;
		__builtin_memcpy(&ph, p + eh.phoff + i * sizeof(ph), sizeof(ph));
		if (ph.type == ELF_PT_LOAD && check_load(&ph, i, size, lo, img, err, errlen))
			return -1;
	}
	if (img->nseg == 0)
		FAIL("no PT_LOAD segments");

	img->va_lo = img->seg[0].va;
	img->va_hi = img->seg[0].va + img->seg[0].pages * PAGE_SIZE;
	for (uint32_t j = 1; j < img->nseg; j++) {
		uint64_t end = img->seg[j].va + img->seg[j].pages * PAGE_SIZE;
		if (img->seg[j].va < img->va_lo)
			img->va_lo = img->seg[j].va;
		if (end > img->va_hi)
			img->va_hi = end;
	}
	if (img->va_hi - img->va_lo > ELF_MAX_SPAN)
		FAIL("segments span %llu bytes, more than the %llu allowed",
		     (unsigned long long)(img->va_hi - img->va_lo),
		     (unsigned long long)ELF_MAX_SPAN);

	img->entry = eh.entry;
	for (uint32_t j = 0; j < img->nseg; j++) {
		const struct elf_segment *s = &img->seg[j];
		if (eh.entry >= s->vaddr && eh.entry - s->vaddr < s->memsz) {
			if (!(s->flags & ELF_PF_X))
				FAIL("entry point 0x%llx is in a non-executable segment",
				     (unsigned long long)eh.entry);
			/* Past filesz the loader writes zeroes: jumping there would
			 * run into 00 00 (add %al,(%rax)) and fault. */
			if (eh.entry - s->vaddr >= s->filesz)
				FAIL("entry point 0x%llx is in the zero-filled tail of its segment (file bytes end at 0x%llx)",
				     (unsigned long long)eh.entry,
				     (unsigned long long)(s->vaddr + s->filesz));
			return 0;
		}
	}
	FAIL("entry point 0x%llx is not inside any PT_LOAD segment",
	     (unsigned long long)eh.entry);
}
