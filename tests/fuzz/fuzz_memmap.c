/*
 * tests/fuzz/fuzz_memmap.c - libFuzzer harness for the memory-map sanitiser
 * (mm/memmap.c: memmap_sanitize, memmap_usable_bytes), checked against a
 * reference written here from the rules alone (memmap.h's contract and the
 * theory statement in memmap.c), by another method:
 *
 *   elementary intervals: cut the address space at every range start and
 *   end (and at 4 KiB, rule 5), give each piece the type of highest rank
 *   among the ranges covering it (per-rank coverage counters, updated at the
 *   cuts), page 0's usable part -> reserved, merge touching pieces of equal
 *   type, trim usable regions inward to 4 KiB and drop the empty ones.
 *
 * Ends are computed in 128 bits, so "dropped because the end passes 2^64"
 * is a plain comparison, not the sanitiser's overflow helpers.
 *
 * Input (all integers little-endian):
 *   header, 12 bytes:
 *     [0]     desc_size mode (low 2 bits): 0 -> 40, 1 -> 48,
 *             2 -> 40 + 8 * [1] (valid, up to 2080), 3 -> the u32 at [8]
 *             (anything: < 40, not a multiple of 8, huge)
 *     [1]     desc_size parameter of mode 2
 *     [2..3]  cap (u16), clamped to REF_MAX_REGIONS
 *     [4]     used-range count (mod MAX_USED + 1)
 *     [5]     raw_size tweak (int8): raw_size = records * desc_size + tweak
 *     [6]     bits 0-6: unit shift u (mod 49) of compact records, 1 unit =
 *             2^u bytes; bit 7: compact addresses count down from 2^64
 *     [7]     page-count shift of compact descriptors (mod 53)
 *     [8..11] desc_size of mode 3
 *   then the used ranges, then descriptors to the end of the input.  Each
 *   record starts with a form byte f:
 *     f & 0x80: raw record: descriptor = type u32, phys_start u64,
 *               num_pages u64, attribute u64 (28 bytes); used range =
 *               pa u64, size u64, type u32 (20 bytes)
 *     else compact, at offset (f & 0x7f) / 128 of a unit: descriptor =
 *               type u8 (see compact_efi_type), start u16 in units,
 *               pages u8 << page shift, attributes u8 (see compact_attr);
 *               used range = type u8 (mod 8), pa u16 in units,
 *               size u16 in 1/16 units.
 *   tests/fuzz/memmap_seed.py writes this format from a memory-map sample.
 *
 * Checks: the status (MM_EINVAL exactly when memmap.h's argument rules say
 * so, and then *count = 0 and out untouched; MM_EOVERFLOW exactly when the
 * reference has more than cap regions, and then *count = cap), the output
 * region by region against the reference (its first cap regions on
 * overflow), the invariants on their own (sorted, disjoint, no touching
 * regions of one type, usable regions page-aligned and non-empty, page 0 not
 * usable), one "dropped" warning per dropped entry, and memmap_usable_bytes.
 * A failure prints the decoded call, both maps and aborts.
 *
 * EFI attributes: REF_HONOURS_ATTRIBUTES (default 1) selects the attribute
 * rules (ref_attr_type); REF_HAS_SOFT_RESERVED (default 1) says the tree
 * under test defines MR_SOFT_RESERVED.  Against the sanitiser before it
 * honoured attributes (commit 1c284cf) this harness failed within a second;
 * built with -DREF_HONOURS_ATTRIBUTES=0 it fails as fast on today's.
 * ref_rank[] must match the sanitiser's rank table.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "mm/memmap.h"
#include "mm/status.h"

/* 1: the reference applies the EFI attribute rules (WB, SP; see
 * ref_attr_type).  0: attributes change nothing (today's sanitiser). */
#ifndef REF_HONOURS_ATTRIBUTES
#define REF_HONOURS_ATTRIBUTES 1
#endif

/* 1: mm/memmap.h defines MR_SOFT_RESERVED.  0: it does not, and the
 * reference uses MR_NTYPES as a stand-in value no tree region type has. */
#ifndef REF_HAS_SOFT_RESERVED
#define REF_HAS_SOFT_RESERVED 1
#endif

#if REF_HAS_SOFT_RESERVED
#define REF_SOFT_RESERVED MR_SOFT_RESERVED
#define REF_NTYPES        MR_NTYPES
#else
#define REF_SOFT_RESERVED MR_NTYPES
#define REF_NTYPES        (MR_NTYPES + 1)
#endif

/*
 * ===== THE RANK TABLE OF THE REFERENCE: higher rank wins an overlap. =====
 * Same order as the theory statement (rule 2): usable < reclaimable
 * (loader, ACPI data) < kept forever (ACPI NVS, runtime) < not plain RAM
 * (persistent, mmio) < bad / reserved < what the loader put there (ramdisk,
 * bootinfo, kernel).  Spaced by 10 so a type can be slotted in between.
 * MR_SOFT_RESERVED's place is NOT SETTLED: it sits with the "not plain RAM"
 * types here; move it to wherever the sanitiser's table puts it.
 */
static const int ref_rank[REF_NTYPES] = {
	[MR_USABLE]     = 0,
	[MR_LOADER]     = 10,
	[MR_ACPI_DATA]  = 20,
	[MR_ACPI_NVS]   = 30,
	[MR_RUNTIME]    = 40,
	[MR_PERSISTENT] = 50,
	[REF_SOFT_RESERVED] = 55,   /* not settled */
	[MR_MMIO]       = 60,
	[MR_UNUSABLE]   = 70,
	[MR_RESERVED]   = 80,
	[MR_RAMDISK]    = 90,
	[MR_BOOTINFO]   = 100,
	[MR_TRAMPOLINE] = 105,
	[MR_KERNEL]     = 110,
};

#define PG              4096ull
#define MAX_DESCS       320     /* board-312 sample fits; keeps a run fast */
#define MAX_USED        16      /* twice BOOTINFO_MAX_USED */
#define MAX_RANGES      (MAX_DESCS + MAX_USED + 8) /* + tweak-made descriptors */
/* Every range adds at most two cuts, rule 5 one more: at most that many
 * pieces plus one, so the result never has more regions. */
#define REF_MAX_REGIONS (2 * MAX_RANGES + 2)
#define HUGE_STRIDE     65536u  /* above this the raw map is a sparse mmap */
#define MAX_HUGE_DESCS  4       /* ...of at most this many descriptors */
#define MMAP_ABOVE      (256u << 10) /* raw maps bigger than this are mmap'ed */

/* EFI attribute bits (UEFI 2.10, 7.2 EFI_MEMORY_DESCRIPTOR.Attribute). */
#define A_UC      0x1ull
#define A_WC      0x2ull
#define A_WT      0x4ull
#define A_WB      0x8ull
#define A_MR      0x10000ull    /* EFI_MEMORY_MORE_RELIABLE */
#define A_RO      0x20000ull
#define A_SP      0x40000ull    /* EFI_MEMORY_SP, specific purpose */
#define A_RUNTIME (1ull << 63)

typedef unsigned __int128 u128;

/* A kept range of the reference: [base, end), region type. */
struct ref_range {
	uint64_t base, end;
	uint32_t type;
};

/* What one input decodes to. */
struct call {
	uint32_t desc_size;
	uint64_t raw_size;
	size_t cap;
	uint8_t *raw;            /* raw map, raw_size bytes (see place_raw) */
	void *map;               /* mmap'ed block holding raw, or NULL */
	size_t map_len;
	struct bootinfo_range *used;
	uint32_t used_count;
};

static unsigned warnings;   /* "dropped" lines printed by the sanitiser */

/* Formats every message (so each argument is used as the format says) and
 * counts the "memmap: dropped" warnings. */
void mm_printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (strncmp(buf, "memmap: dropped", 15) == 0)
		warnings++;
}

/* A panic in the code under test is a finding: print it and abort. */
_Noreturn void mm_panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* ---------------------------------------------------------------- input */

/* A cursor over the fuzz input. */
struct in {
	const uint8_t *p;
	size_t left;
};

/* Reads n <= 8 little-endian bytes into *v; returns 0 (reading nothing) if
 * fewer than n are left. */
static int take(struct in *in, unsigned n, uint64_t *v)
{
	if (in->left < n)
		return 0;
	*v = 0;
	for (unsigned i = 0; i < n; i++)
		*v |= (uint64_t)in->p[i] << (8 * i);
	in->p += n;
	in->left -= n;
	return 1;
}

/* Returns the EFI type compact type byte x stands for: mostly the named
 * types 0..15 and a few unknown small values, then OEM (0x7000000x), OS
 * (0x8000000x) and all-ones. */
static uint32_t compact_efi_type(uint8_t x)
{
	if (x < 0xf0)
		return x % 20;
	if (x < 0xf8)
		return 0x70000000u + (x & 7);
	if (x < 0xff)
		return 0x80000000u + (x & 7);
	return 0xffffffffu;
}

/* Returns the attributes compact attribute byte x stands for: bits 0-3 are
 * UC, WC, WT, WB as in the EFI field, then MR, SP, RO, RUNTIME. */
static uint64_t compact_attr(uint8_t x)
{
	return (x & 0xfu) | (x & 0x10 ? A_MR : 0) | (x & 0x20 ? A_SP : 0) |
	       (x & 0x40 ? A_RO : 0) | (x & 0x80 ? A_RUNTIME : 0);
}

/* How compact records are scaled (header bytes 6 and 7). */
struct scale {
	unsigned ushift;   /* 1 unit = 2^ushift bytes */
	unsigned pshift;   /* page counts are shifted left by this */
	int from_top;      /* addresses are 2^64 - x: the top of the space */
};

/* Returns the byte address of a compact start: units of 2^ushift plus the
 * form byte's 1/128ths of a unit, from 0 up or from 2^64 down. */
static uint64_t compact_addr(uint64_t units, uint8_t form, const struct scale *sc)
{
	uint64_t x = (units << sc->ushift) + (((uint64_t)(form & 0x7f) << sc->ushift) >> 7);
	return sc->from_top ? 0 - x : x;
}

/* Decodes one descriptor record into *d; returns 0 at the end of input. */
static int take_desc(struct in *in, const struct scale *sc, struct bootinfo_efi_desc *d)
{
	uint64_t f, t, s, n, a;

	memset(d, 0, sizeof(*d));
	if (!take(in, 1, &f))
		return 0;
	if (f & 0x80) {
		if (!take(in, 4, &t) || !take(in, 8, &s) || !take(in, 8, &n) || !take(in, 8, &a))
			return 0;
		*d = (struct bootinfo_efi_desc){ .type = (uint32_t)t, .phys_start = s,
						 .num_pages = n, .attribute = a };
		return 1;
	}
	if (!take(in, 1, &t) || !take(in, 2, &s) || !take(in, 1, &n) || !take(in, 1, &a))
		return 0;
	*d = (struct bootinfo_efi_desc){
		.type = compact_efi_type((uint8_t)t),
		.phys_start = compact_addr(s, (uint8_t)f, sc),
		.num_pages = n << sc->pshift,
		.attribute = compact_attr((uint8_t)a),
		.virt_start = 0xdeadbeefcafe0000ull,
	};
	return 1;
}

/* Decodes one used-range record into *u; returns 0 at the end of input. */
static int take_used(struct in *in, const struct scale *sc, struct bootinfo_range *u)
{
	uint64_t f, t, pa, size;

	if (!take(in, 1, &f))
		return 0;
	if (f & 0x80) {
		if (!take(in, 8, &pa) || !take(in, 8, &size) || !take(in, 4, &t))
			return 0;
	} else {
		if (!take(in, 1, &t) || !take(in, 2, &pa) || !take(in, 2, &size))
			return 0;
		t %= 8;
		pa = compact_addr(pa, (uint8_t)f, sc);
		size = (size << sc->ushift) >> 4;
	}
	*u = (struct bootinfo_range){ .pa = pa, .size = size, .type = (uint32_t)t };
	return 1;
}

/* Returns desc_size as header h chooses it. */
static uint32_t header_desc_size(const uint8_t *h)
{
	switch (h[0] & 3) {
	case 0:
		return 40;
	case 1:
		return 48;
	case 2:
		return 40 + 8u * h[1];
	default:
		return (uint32_t)h[8] | (uint32_t)h[9] << 8 | (uint32_t)h[10] << 16 |
		       (uint32_t)h[11] << 24;
	}
}

/* Allocates c->raw with c->raw_size bytes ending exactly at the end of the
 * allocation (heap for small maps, so ASan sees an over-read; a sparse
 * mmap for big strides, with the map ending at the end of its last page),
 * fills it with 0xa5 junk and writes descs[0..n) at stride desc_size, as
 * far as they fit. */
static void place_raw(struct call *c, const struct bootinfo_efi_desc *descs, size_t n)
{
	if (c->raw_size > MMAP_ABOVE) {
		c->map_len = (size_t)((c->raw_size + PG - 1) & ~(PG - 1));
		c->map = mmap(NULL, c->map_len, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (c->map == MAP_FAILED) {
			perror("fuzz_memmap: mmap");
			abort();
		}
		c->raw = (uint8_t *)c->map + (c->map_len - c->raw_size);
	} else {
		c->map = NULL;
		c->raw = malloc(c->raw_size ? c->raw_size : 1);
		memset(c->raw, 0xa5, c->raw_size);
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t at = (uint64_t)i * c->desc_size;
		if (at >= c->raw_size)
			break;
		uint64_t len = c->raw_size - at < sizeof(descs[i]) ? c->raw_size - at
								  : sizeof(descs[i]);
		memcpy(c->raw + at, &descs[i], len);
	}
}

/* Decodes the whole input into *c; returns 0 if it is too short. */
static int decode(const uint8_t *data, size_t size, struct call *c)
{
	static struct bootinfo_efi_desc descs[MAX_DESCS];
	const uint8_t *h = data;
	size_t n = 0;

	if (size < 12)
		return 0;
	struct in in = { data + 12, size - 12 };
	c->desc_size = header_desc_size(h);
	c->cap = (size_t)(h[2] | h[3] << 8);
	if (c->cap > REF_MAX_REGIONS)
		c->cap = REF_MAX_REGIONS;
	struct scale sc = { (h[6] & 0x7f) % 49, h[7] % 53, h[6] >> 7 };
	uint32_t want_used = h[4] % (MAX_USED + 1);

	c->used = malloc(want_used * sizeof(*c->used) + 1);
	for (c->used_count = 0; c->used_count < want_used; c->used_count++)
		if (!take_used(&in, &sc, &c->used[c->used_count]))
			break;
	size_t max = c->desc_size > HUGE_STRIDE ? MAX_HUGE_DESCS : MAX_DESCS;
	while (n < max && take_desc(&in, &sc, &descs[n]))
		n++;

	int64_t raw = (int64_t)((uint64_t)n * c->desc_size) + (int8_t)h[5];
	c->raw_size = raw < 0 ? 0 : (uint64_t)raw;
	place_raw(c, descs, n);
	return 1;
}

/* Frees what decode allocated. */
static void release(struct call *c)
{
	if (c->map)
		munmap(c->map, c->map_len);
	else
		free(c->raw);
	free(c->used);
}

/* ------------------------------------------------------------ reference */

/* Returns the region type EFI type t becomes (memmap.h's list). */
static uint32_t ref_efi_type(uint32_t t)
{
	static const uint8_t map[16] = {
		[0] = MR_RESERVED,  [1] = MR_LOADER,     [2] = MR_LOADER,
		[3] = MR_USABLE,    [4] = MR_USABLE,     [5] = MR_RUNTIME,
		[6] = MR_RUNTIME,   [7] = MR_USABLE,     [8] = MR_UNUSABLE,
		[9] = MR_ACPI_DATA, [10] = MR_ACPI_NVS,  [11] = MR_MMIO,
		[12] = MR_MMIO,     [13] = MR_RESERVED,  [14] = MR_PERSISTENT,
		[15] = MR_RESERVED,
	};
	return t < 16 ? map[t] : MR_RESERVED;
}

/* Returns the region type of a descriptor of EFI type t with attributes
 * attr.  With REF_HONOURS_ATTRIBUTES, memory that would be RAM (loader
 * code/data, boot-services code/data, conventional) is soft-reserved if
 * it has EFI_MEMORY_SP (SP wins over WB, as in Linux's
 * do_add_efi_memmap), else reserved if it lacks EFI_MEMORY_WB, else
 * runtime if it has EFI_MEMORY_RUNTIME (the firmware keeps using it: UEFI
 * 2.10 7.2, Linux's efi_free_boot_services);
 * EFI_MEMORY_MORE_RELIABLE and every other bit change nothing. */
static uint32_t ref_attr_type(uint32_t t, uint64_t attr)
{
	uint32_t rt = ref_efi_type(t);
#if REF_HONOURS_ATTRIBUTES
	if (t == 1 || t == 2 || t == 3 || t == 4 || t == 7) {
		if (attr & A_SP)
			return REF_SOFT_RESERVED;
		if (!(attr & A_WB))
			return MR_RESERVED;
		if (attr & A_RUNTIME)
			return MR_RUNTIME;
	}
#else
	(void)attr;
#endif
	return rt;
}

/* Returns the region type of used-range type t (memmap.h's list). */
static uint32_t ref_used_type(uint32_t t)
{
	switch (t) {
	case 3: return MR_BOOTINFO;        /* BOOTINFO_USED_BOOTINFO */
	case 5: return MR_RAMDISK;         /* BOOTINFO_USED_RAMDISK */
	case 6: return MR_TRAMPOLINE;      /* BOOTINFO_USED_TRAMPOLINE */
	default: return MR_KERNEL;         /* kernel, page tables, stack, unknown */
	}
}

/* Reference state of one call. */
struct ref {
	struct ref_range ranges[MAX_RANGES];
	size_t nranges;
	unsigned dropped;                  /* entries dropped (warned about) */
	uint64_t cuts[2 * MAX_RANGES + 1];
	size_t ncuts;
	struct mm_region out[REF_MAX_REGIONS];
	size_t count;
};

/* Keeps [base, base + size) of type t in r, or counts it as dropped when
 * empty or ending past 2^64 - 1. */
static void ref_keep(struct ref *r, uint64_t base, u128 size, uint32_t t)
{
	u128 end = (u128)base + size;
	if (size == 0 || end > UINT64_MAX) {
		r->dropped++;
		return;
	}
	if (r->nranges == MAX_RANGES)
		abort();                   /* decode bounds the count */
	r->ranges[r->nranges++] = (struct ref_range){ base, (uint64_t)end, t };
}

/* qsort comparator of uint64_t. */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Returns the index of cut x in r->cuts (which holds it). */
static size_t cut_index(const struct ref *r, uint64_t x)
{
	size_t lo = 0, hi = r->ncuts;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->cuts[mid] <= x)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Appends [base, end) of type t to r->out, joining it to the last region
 * when they touch and share the type. */
static void ref_append(struct ref *r, uint64_t base, uint64_t end, uint32_t t)
{
	struct mm_region *last = r->count ? &r->out[r->count - 1] : NULL;
	if (last && last->type == t && last->base + last->size == base) {
		last->size = end - last->base;
		return;
	}
	r->out[r->count++] = (struct mm_region){ .base = base, .size = end - base, .type = t };
}

/* Trims usable regions of r->out inward to whole pages, dropping those
 * with no page left (in place). */
static void ref_trim(struct ref *r)
{
	size_t k = 0;
	for (size_t i = 0; i < r->count; i++) {
		struct mm_region g = r->out[i];
		if (g.type == MR_USABLE) {
			u128 lo = ((u128)g.base + PG - 1) / PG * PG;
			u128 hi = ((u128)g.base + g.size) / PG * PG;
			if (hi <= lo)
				continue;
			g.base = (uint64_t)lo;
			g.size = (uint64_t)(hi - lo);
		}
		r->out[k++] = g;
	}
	r->count = k;
}

/* Computes the sanitised map of a valid call c into r. */
static void reference(const struct call *c, struct ref *r)
{
	static int delta[2 * MAX_RANGES + 1][REF_NTYPES];
	int active[REF_NTYPES] = { 0 };
	uint64_t n = c->raw_size / c->desc_size;

	memset(r, 0, sizeof(*r));
	for (uint64_t i = 0; i < n; i++) {
		struct bootinfo_efi_desc d;
		memcpy(&d, c->raw + i * c->desc_size, sizeof(d));
		ref_keep(r, d.phys_start, (u128)d.num_pages * PG, ref_attr_type(d.type, d.attribute));
	}
	for (uint32_t i = 0; i < c->used_count; i++)
		ref_keep(r, c->used[i].pa, c->used[i].size, ref_used_type(c->used[i].type));

	/* The cuts: every start and end, and the end of page 0. */
	r->cuts[r->ncuts++] = PG;
	for (size_t i = 0; i < r->nranges; i++) {
		r->cuts[r->ncuts++] = r->ranges[i].base;
		r->cuts[r->ncuts++] = r->ranges[i].end;
	}
	qsort(r->cuts, r->ncuts, sizeof(r->cuts[0]), cmp_u64);
	size_t u = 0;
	for (size_t i = 0; i < r->ncuts; i++)
		if (u == 0 || r->cuts[i] != r->cuts[u - 1])
			r->cuts[u++] = r->cuts[i];
	r->ncuts = u;

	/* Coverage counters per type change only at cuts. */
	memset(delta, 0, sizeof(delta[0]) * r->ncuts);
	for (size_t i = 0; i < r->nranges; i++) {
		delta[cut_index(r, r->ranges[i].base)][r->ranges[i].type]++;
		delta[cut_index(r, r->ranges[i].end)][r->ranges[i].type]--;
	}
	for (size_t i = 0; i + 1 < r->ncuts; i++) {
		int best = -1;
		uint32_t t = 0;
		for (uint32_t k = 0; k < REF_NTYPES; k++) {
			active[k] += delta[i][k];
			if (active[k] > 0 && ref_rank[k] > best) {
				best = ref_rank[k];
				t = k;
			}
		}
		if (best < 0)
			continue;                  /* a hole */
		if (t == MR_USABLE && r->cuts[i] < PG)
			t = MR_RESERVED;           /* rule 5 */
		ref_append(r, r->cuts[i], r->cuts[i + 1], t);
	}
	ref_trim(r);
}

/* --------------------------------------------------------------- checks */

/* Prints the decoded call, both maps and why they disagree, then aborts. */
static _Noreturn void fail(const struct call *c, const struct ref *r, int st,
			   const struct mm_region *out, size_t count, const char *why)
{
	fprintf(stderr, "fuzz_memmap: %s\n", why);
	fprintf(stderr, "call: desc_size %u raw_size %llu cap %zu used %u -> %s count %zu\n",
		c->desc_size, (unsigned long long)c->raw_size, c->cap, c->used_count,
		mm_status_str(st), count);
	if (r) {
		for (size_t i = 0; i < r->nranges; i++)
			fprintf(stderr, "  range [%#llx, %#llx) type %u\n",
				(unsigned long long)r->ranges[i].base,
				(unsigned long long)r->ranges[i].end, r->ranges[i].type);
		for (size_t i = 0; i < r->count; i++)
			fprintf(stderr, "  ref %zu: [%#llx +%#llx) type %u\n", i,
				(unsigned long long)r->out[i].base,
				(unsigned long long)r->out[i].size, r->out[i].type);
	}
	for (size_t i = 0; i < count; i++)
		fprintf(stderr, "  got %zu: [%#llx +%#llx) type %u\n", i,
			(unsigned long long)out[i].base, (unsigned long long)out[i].size,
			out[i].type);
	abort();
}

/* Checks the invariants of out[0..count) on their own (no reference). */
static const char *invariant_broken(const struct mm_region *out, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		const struct mm_region *g = &out[i];
		if (g->size == 0)
			return "empty region";
		if ((u128)g->base + g->size > UINT64_MAX)
			return "region ends past 2^64 - 1";
		if (g->type >= REF_NTYPES)
			return "unknown region type";
		if (g->type == MR_USABLE && (g->base % PG || g->size % PG))
			return "usable region not page-aligned";
		if (g->type == MR_USABLE && g->base < PG)
			return "page 0 usable";
		if (i == 0)
			continue;
		const struct mm_region *p = &out[i - 1];
		if (p->base + p->size > g->base)
			return "regions unsorted or overlapping";
		if (p->base + p->size == g->base && p->type == g->type)
			return "touching regions of one type not merged";
	}
	return NULL;
}

/* Returns 1 if the status rules of memmap.h refuse desc_size / raw_size. */
static int ref_refuses(const struct call *c)
{
	return c->desc_size < 40 || c->desc_size % 8 != 0 || c->raw_size % c->desc_size != 0;
}

/* Runs memmap_sanitize on the call the input decodes to and checks it
 * against the reference; aborts (via fail) on any disagreement. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t canary[REF_MAX_REGIONS * sizeof(struct mm_region)];
	static struct ref r;
	struct call c;
	size_t count = 0xdead;

	if (!decode(data, size, &c))
		return 0;
	if (canary[0] == 0)
		memset(canary, 0x5a, sizeof(canary));
	size_t out_bytes = c.cap * sizeof(struct mm_region);
	struct mm_region *out = malloc(out_bytes);     /* exact size, for ASan */
	memcpy(out, canary, out_bytes);
	warnings = 0;

	/* Scratch of exactly the documented size, for ASan. */
	uint64_t ncp = MEMMAP_SCRATCH_LEN(c.desc_size ? c.raw_size / c.desc_size : 0, c.used_count);
	struct memmap_cp *scratch = malloc(ncp ? ncp * sizeof(*scratch) : 1);
	int st = memmap_sanitize(c.raw, c.raw_size, c.desc_size, c.used, c.used_count,
				 scratch, ncp, out, c.cap, &count);
	free(scratch);

	if (ref_refuses(&c)) {
		if (st != MM_EINVAL || count != 0)
			fail(&c, NULL, st, out, 0, "bad arguments not refused with MM_EINVAL, *count 0");
		if (memcmp(out, canary, out_bytes) != 0)
			fail(&c, NULL, st, out, 0, "refused call wrote to out");
		if (warnings)
			fail(&c, NULL, st, out, 0, "refused call printed warnings");
		goto done;
	}
	reference(&c, &r);
	int want = r.count > c.cap ? MM_EOVERFLOW : MM_OK;
	size_t want_count = r.count > c.cap ? c.cap : r.count;
	if (st != want || count != want_count)
		fail(&c, &r, st, out, count <= c.cap ? count : 0, "status or count differs");
	for (size_t i = 0; i < count; i++)
		if (out[i].base != r.out[i].base || out[i].size != r.out[i].size ||
		    out[i].type != r.out[i].type)
			fail(&c, &r, st, out, count, "region differs from the reference");
	const char *why = invariant_broken(out, count);
	if (why)
		fail(&c, &r, st, out, count, why);
	if (warnings != r.dropped)
		fail(&c, &r, st, out, count, "dropped-entry warnings differ");
	uint64_t usable = 0;
	for (size_t i = 0; i < count; i++)
		usable += r.out[i].type == MR_USABLE ? r.out[i].size : 0;
	if (memmap_usable_bytes(out, count) != usable)
		fail(&c, &r, st, out, count, "memmap_usable_bytes differs");
done:
	free(out);
	release(&c);
	return 0;
}
