/*
 * tests/fuzz/fuzz_elf.c - libFuzzer harness for efi/elf.c, the loader's
 * kernel-image checks.  The input is the kernel.elf file, in an exact-size
 * buffer.
 *
 * Truth is a second reading of the raw bytes written here from elf.h's
 * contract, sharing no code with elf.c (its own little-endian field reads,
 * 128-bit arithmetic instead of lib/range.h).  It lists every rule the file
 * breaks (enum rule).  Then:
 *   - elf_check accepts  <=> the list is empty;
 *   - a refusal names (by its message) a rule that is in the list;
 *   - an accepted image is described exactly (segments, span, entry) as
 *     the reading computes it;
 *   - the copy load_kernel (efi/main.c) does is simulated in a buffer of
 *     exactly the span elf_check reports: file bytes copied, the rest zero,
 *     so ASan sees any segment reaching outside the span or the file; the
 *     copy is compared byte by byte with the file.
 * A mismatch prints the reason and aborts (a libFuzzer crash).  With
 * FUZZ_VERBOSE set in the environment every verdict is printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "efi/elf.h"
#include "mm/layout.h"

typedef unsigned __int128 u128;

#define PG 4096u
#define TWO64 ((u128)1 << 64)

/* Every rule of elf.h's contract, one bit each. */
enum rule {
	R_SHORT     = 1u << 0,  /* shorter than the 64-byte ELF header */
	R_MAGIC     = 1u << 1,  /* not \x7fELF */
	R_CLASS     = 1u << 2,  /* not ELFCLASS64 */
	R_DATA      = 1u << 3,  /* not little endian */
	R_MACHINE   = 1u << 4,  /* not x86_64 */
	R_TYPE      = 1u << 5,  /* not ET_EXEC */
	R_PHENTSIZE = 1u << 6,  /* program header size != 56 */
	R_PHNUM     = 1u << 7,  /* no program headers */
	R_PHDRS     = 1u << 8,  /* program headers past the end of the file */
	R_NLOAD     = 1u << 9,  /* 0 or more than ELF_MAX_LOAD PT_LOAD segments */
	R_MEMSZ0    = 1u << 10, /* a PT_LOAD with memsz 0 */
	R_FILESZ    = 1u << 11, /* filesz > memsz */
	R_WX        = 1u << 12, /* writable and executable */
	R_FILE      = 1u << 13, /* file bytes past the end of the file */
	R_WINDOW    = 1u << 14, /* below lo, or ending in the last page or past 2^64 */
	R_OVERLAP   = 1u << 15, /* two segments share a page */
	R_SPAN      = 1u << 16, /* page span > ELF_MAX_SPAN */
	R_ENTRY_OUT = 1u << 17, /* entry in no segment */
	R_ENTRY_NX  = 1u << 18, /* entry in a non-executable segment */
	R_ENTRY_BSS = 1u << 19, /* entry in the zero-filled tail of its segment */
};

/* elf_check's message -> the rule it claims is broken.  The first key found
 * counts: the entry-point messages come first, as the zero-tail one also
 * says "file bytes". */
static const struct { const char *key; unsigned rule; } msg_rules[] = {
	{ "not inside any PT_LOAD", R_ENTRY_OUT },
	{ "non-executable segment", R_ENTRY_NX },
	{ "zero-filled tail", R_ENTRY_BSS },
	{ "shorter than an ELF64 header", R_SHORT },
	{ "bad ELF magic", R_MAGIC },
	{ "ELF class", R_CLASS },
	{ "data encoding", R_DATA },
	{ "ELF machine", R_MACHINE },
	{ "ELF type", R_TYPE },
	{ "program header size", R_PHENTSIZE },
	{ "no program headers", R_PHNUM },
	{ "program headers [", R_PHDRS },
	{ "PT_LOAD segments", R_NLOAD },
	{ "memsz 0", R_MEMSZ0 },
	{ "filesz", R_FILESZ },
	{ "W^X", R_WX },
	{ "file bytes", R_FILE },
	{ "higher-half kernel window", R_WINDOW },
	{ "segments overlap", R_OVERLAP },
	{ "segments span", R_SPAN },
};

/* One PT_LOAD as the independent reading sees it. */
struct seg {
	uint64_t vaddr, offset, filesz, memsz;
	uint32_t flags;
	u128 pg_lo, pg_hi;      /* page-rounded [vaddr, vaddr + memsz), exact */
};

/* The independent reading of a file: broken rules, and for a good file
 * what elf_check must report. */
struct truth {
	unsigned broken;
	uint64_t entry;
	unsigned nload;
	struct seg seg[ELF_MAX_LOAD + 1];
	u128 lo, hi;
};

#define DIE(...) do { fprintf(stderr, "fuzz_elf: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

static uint64_t rd(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Reads the file's PT_LOAD headers (at most ELF_MAX_LOAD + 1 of them) and
 * checks each against the per-segment rules. */
static void read_loads(const uint8_t *f, uint64_t phoff, unsigned phnum, uint64_t lo,
		       struct truth *t, uint64_t size)
{
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = f + phoff + 56 * (u128)i;
		if (rd(ph, 4) != 1)
			continue;
		if (t->nload == ELF_MAX_LOAD + 1) {
			t->broken |= R_NLOAD;
			return;
		}
		struct seg *s = &t->seg[t->nload++];
		s->flags = (uint32_t)rd(ph + 4, 4);
		s->offset = rd(ph + 8, 8);
		s->vaddr = rd(ph + 16, 8);
		s->filesz = rd(ph + 32, 8);
		s->memsz = rd(ph + 40, 8);
		u128 end = (u128)s->vaddr + s->memsz;
		s->pg_lo = s->vaddr / PG * PG;
		s->pg_hi = (end + PG - 1) / PG * PG;
		if (s->memsz == 0)
			t->broken |= R_MEMSZ0;
		if (s->filesz > s->memsz)
			t->broken |= R_FILESZ;
		if ((s->flags & 2) && (s->flags & 1))
			t->broken |= R_WX;
		if ((u128)s->offset + s->filesz > size)
			t->broken |= R_FILE;
		if (s->vaddr < lo || end > TWO64 - PG)
			t->broken |= R_WINDOW;
	}
	if (t->nload == 0 || t->nload > ELF_MAX_LOAD)
		t->broken |= R_NLOAD;
}

/* Fills t from the file f of size bytes, lo the window's base. */
static void read_truth(const uint8_t *f, uint64_t size, uint64_t lo, struct truth *t)
{
	memset(t, 0, sizeof(*t));
	if (size < 64) {
		t->broken = R_SHORT;
		return;
	}
	if (memcmp(f, "\x7f" "ELF", 4))
		t->broken |= R_MAGIC;
	if (f[4] != 2)
		t->broken |= R_CLASS;
	if (f[5] != 1)
		t->broken |= R_DATA;
	if (rd(f + 16, 2) != 2)
		t->broken |= R_TYPE;
	if (rd(f + 18, 2) != 62)
		t->broken |= R_MACHINE;
	t->entry = rd(f + 24, 8);
	uint64_t phoff = rd(f + 32, 8);
	unsigned phentsize = (unsigned)rd(f + 54, 2), phnum = (unsigned)rd(f + 56, 2);
	if (phentsize != 56)
		t->broken |= R_PHENTSIZE;
	if (phnum == 0)
		t->broken |= R_PHNUM;
	if ((u128)phoff + 56 * (u128)phnum > size)
		t->broken |= R_PHDRS;
	if (t->broken)
		return;     /* the headers cannot be read: nothing more to learn */

	/* Every rule is evaluated on every segment read (exact in 128 bits),
	 * so the list holds whichever rule elf_check meets first. */
	read_loads(f, phoff, phnum, lo, t, size);
	if (t->nload == 0)
		return;
	t->lo = t->seg[0].pg_lo;
	t->hi = t->seg[0].pg_hi;
	for (unsigned i = 0; i < t->nload; i++) {
		const struct seg *s = &t->seg[i];
		for (unsigned j = 0; j < i; j++)
			if (s->pg_lo < t->seg[j].pg_hi && t->seg[j].pg_lo < s->pg_hi)
				t->broken |= R_OVERLAP;
		if (s->pg_lo < t->lo)
			t->lo = s->pg_lo;
		if (s->pg_hi > t->hi)
			t->hi = s->pg_hi;
	}
	if (t->hi - t->lo > ELF_MAX_SPAN)
		t->broken |= R_SPAN;
	int in = 0;
	for (unsigned i = 0; i < t->nload; i++) {
		const struct seg *s = &t->seg[i];
		if (t->entry < s->vaddr || t->entry - s->vaddr >= s->memsz)
			continue;
		in = 1;
		if (!(s->flags & 1))
			t->broken |= R_ENTRY_NX;
		if (t->entry - s->vaddr >= s->filesz)
			t->broken |= R_ENTRY_BSS;
	}
	if (!in)
		t->broken |= R_ENTRY_OUT;
}

/* Checks that an accepted image is the one the reading describes. */
static void check_image(const struct elf_image *img, const struct truth *t)
{
	if (img->nseg != t->nload)
		DIE("nseg %u, the file has %u PT_LOAD", img->nseg, t->nload);
	if (img->entry != t->entry)
		DIE("entry 0x%llx, file says 0x%llx", (unsigned long long)img->entry,
		    (unsigned long long)t->entry);
	if (img->va_lo != (uint64_t)t->lo || img->va_hi != (uint64_t)t->hi)
		DIE("span 0x%llx-0x%llx, expected 0x%llx-0x%llx", (unsigned long long)img->va_lo,
		    (unsigned long long)img->va_hi, (unsigned long long)t->lo,
		    (unsigned long long)t->hi);
	for (unsigned i = 0; i < t->nload; i++) {
		const struct elf_segment *g = &img->seg[i];
		const struct seg *s = &t->seg[i];
		if (g->vaddr != s->vaddr || g->offset != s->offset || g->filesz != s->filesz ||
		    g->memsz != s->memsz || g->flags != s->flags || g->va != (uint64_t)s->pg_lo ||
		    (u128)g->pages * PG != s->pg_hi - s->pg_lo)
			DIE("segment %u described wrongly", i);
	}
}

/* Copies the image as load_kernel does into a buffer of exactly the span
 * and checks every byte: file bytes, then zeroes up to memsz. */
static void simulate_load(const uint8_t *f, const struct elf_image *img)
{
	uint64_t span = img->va_hi - img->va_lo;
	uint8_t *mem = calloc(1, span);   /* the loader's pages are zeroed */
	if (!mem)
		DIE("calloc of %llu bytes", (unsigned long long)span);
	for (uint32_t i = 0; i < img->nseg; i++) {
		const struct elf_segment *s = &img->seg[i];
		memcpy(mem + (s->vaddr - img->va_lo), f + s->offset, s->filesz);
	}
	for (uint32_t i = 0; i < img->nseg; i++) {
		const struct elf_segment *s = &img->seg[i];
		const uint8_t *m = mem + (s->vaddr - img->va_lo);
		if (memcmp(m, f + s->offset, s->filesz))
			DIE("segment %u: copy differs from the file", i);
		/* The zero tail; a huge .bss is sampled at both ends. */
		uint64_t tail = s->memsz - s->filesz, chk = tail < (1u << 20) ? tail : PG;
		for (uint64_t k = 0; k < chk; k++)
			if (m[s->filesz + k] || m[s->memsz - 1 - k])
				DIE("segment %u: byte of .bss not zero", i);
	}
	/* The first instruction comes from the file. */
	for (uint32_t i = 0; i < img->nseg; i++) {
		const struct elf_segment *s = &img->seg[i];
		if (img->entry - s->vaddr < s->memsz &&
		    mem[img->entry - img->va_lo] != f[s->offset + (img->entry - s->vaddr)])
			DIE("entry byte is not the file's");
	}
	free(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *f = malloc(size ? size : 1);
	memcpy(f, data, size);
	static struct elf_image img;
	char err[256];
	struct truth t;
	static int verbose = -1;  /* FUZZ_VERBOSE set: print every verdict */

	err[0] = 0;
	int rc = elf_check(f, size, KERNEL_VA_BASE, &img, err, sizeof(err));
	read_truth(f, size, KERNEL_VA_BASE, &t);
	if (verbose < 0)
		verbose = getenv("FUZZ_VERBOSE") != NULL;
	if (verbose)
		fprintf(stderr, "fuzz_elf: %s (rules broken 0x%x)\n", rc ? err : "accepted", t.broken);
	if (rc == 0) {
		if (t.broken)
			DIE("accepted a file that breaks rules 0x%x", t.broken);
		check_image(&img, &t);
		simulate_load(f, &img);
	} else {
		if (!t.broken)
			DIE("refused a good file: %s", err);
		unsigned named = 0;
		for (size_t i = 0; i < sizeof(msg_rules) / sizeof(msg_rules[0]) && !named; i++)
			if (strstr(err, msg_rules[i].key))
				named = msg_rules[i].rule;
		if (!named)
			DIE("refusal names no known rule: %s", err);
		if (!(named & t.broken))
			DIE("refusal \"%s\" (rule 0x%x) is not one the file breaks (0x%x)", err,
			    named, t.broken);
	}
	free(f);
	return 0;
}
