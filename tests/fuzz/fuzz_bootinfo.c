/*
 * tests/fuzz/fuzz_bootinfo.c - libFuzzer harness for the kernel's side of
 * the hand-over: bootinfo_check (kernel/boot/handover.c), then what kmain
 * (kernel/main.c) does with a BootInfo it accepted, on the host:
 *   memmap_print_raw, memmap_sanitize, pmm_init over a host arena standing
 *   in for RAM (tools/host_platform.c, 16 MiB), fmt_escape of the command
 *   line, and the framebuffer console (fbcon_init, the printed text and
 *   the raw command line, mmpic_draw) on a malloc'ed buffer of exactly
 *   fb.size bytes.
 *
 * Input:  byte 0      mode bits (below): fix-ups that let the fuzzer reach
 *                     the accepting paths often; every field stays fuzzed
 *         1..688      struct bootinfo v4, raw (zero-padded if short)
 *         689..       the raw memory map, copied into the arena at
 *                     memmap_pa (zero-padded to memmap_size)
 *
 * Truth is a second reading of the raw bytes, written here from the
 * contracts (bootinfo.h, handover.h, mm/memmap.c's theory, fbcon.h) and
 * sharing no code with them (own field reads by offset, 128-bit sums):
 *   - bootinfo_check accepts <=> the reading finds no broken rule, and a
 *     refusal names (by its message) a rule the reading found broken;
 *   - the sanitised map is sorted, disjoint, page-trimmed, and frame by
 *     frame of the arena usable exactly where the raw map says RAM (EFI
 *     boot-services or conventional memory, write-back and not
 *     specific-purpose) and nothing else - no other
 *     descriptor, no used range - covers any byte of the frame, page 0 never;
 *   - pmm_init manages exactly those frames, all free but its own
 *     metadata, and pmm_check is clean; it refuses only when there is no
 *     usable frame or no usable region above 1 MiB holds the metadata;
 *   - fbcon_init accepts <=> the pixel format is known (a bitmask format:
 *     contiguous, non-zero red/green/blue masks) and the geometry fits:
 *     width >= 8, height >= 16, pitch >= width * bytes per pixel, size >=
 *     pitch * height, in exact arithmetic; after init the visible pixels
 *     are background (0) and, after all the drawing, no byte outside the
 *     visible rectangle (row padding, the tail after pitch * height) has
 *     changed; ASan catches any write outside the buffer;
 *   - the escaped command line holds no control byte.
 * A mismatch prints the reason and aborts (a libFuzzer crash).  With
 * FUZZ_VERBOSE set in the environment every verdict is printed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/boot/handover.h"
#include "kernel/console/fbcon.h"
#include "kernel/console/mmpic.h"
#include "lib/fmt.h"
#include "mm/layout.h"
#include "mm/memmap.h"
#include "mm/platform.h"
#include "mm/pmm.h"
#include "mm/status.h"
#include "tools/host_platform.h"

typedef unsigned __int128 u128;

#define PG          4096u
#define TWO64       ((u128)1 << 64)
#define ARENA       (16u << 20)          /* the fake RAM: 4096 frames */
#define NFRAMES     (ARENA / PG)
#define MAP_PA      0x80000u             /* where mode PLACE puts the raw map */
#define FB_MAX      (1u << 20)           /* larger framebuffers are not drawn */
#define TEXT_MAX    160u                 /* bytes of printed text drawn: enough
					   to wrap and scroll a small screen */
#define MAP_CAP     4096u                /* kernel/main.c KERNEL_MAP_MAX */
#define BI_SIZE     688u            /* v4: + system table, paging levels */

/* Mode bits (input byte 0). */
#define M_HEADER 0x01  /* magic, version, size, hhdm_offset made right */
#define M_PLACE  0x02  /* map at MAP_PA (+ the fuzzed low 4 bits), sized to
			  the bytes given, direct map = the arena */
#define M_FOLD   0x04  /* descriptors and used ranges folded into the arena */
#define M_FB     0x08  /* framebuffer geometry folded to small numbers */

/* BootInfo field offsets (shared/bootinfo.h, pinned by its asserts). */
enum {
	O_MAGIC = 0, O_VERSION = 8, O_SIZE = 12, O_FLAGS = 16, O_HHDM_OFF = 24,
	O_HHDM_SIZE = 32, O_MAP_PA = 40, O_MAP_SIZE = 48, O_DESC_SIZE = 56,
	O_USED_COUNT = 68, O_USED = 72, O_FB = 264, O_RAMDISK_PA = 328,
	O_RAMDISK_SIZE = 336, O_CMDLINE = 384, O_TSC_LOADER = 640, O_TSC_EBS = 648,
	O_TRAMP_PA = 656, O_TRAMP_SIZE = 664, O_EFI_ST = 672, O_LEVELS = 680,
};
_Static_assert(sizeof(struct bootinfo) == BI_SIZE, "fuzz_bootinfo reads BootInfo v4");

/* Rules of bootinfo_check's contract, one bit each. */
enum rule {
	R_MAGIC = 1u << 0, R_VERSION = 1u << 1, R_SIZE = 1u << 2,
	R_HHDM_OFF = 1u << 3, R_HHDM_SIZE = 1u << 4, R_DESC = 1u << 5,
	R_MAP_SIZE = 1u << 6, R_MAP_WHERE = 1u << 7, R_USED_COUNT = 1u << 8,
	R_USED = 1u << 9, R_RAMDISK = 1u << 10, R_CMDLINE = 1u << 11,
	R_MAP_ALIGN = 1u << 12, R_MAP_KEPT = 1u << 13, R_TRAMP = 1u << 14,
	R_LEVELS = 1u << 15,
};

/* bootinfo_check's message (its start) -> the rule it claims is broken. */
static const struct { const char *prefix; unsigned rule; } msg_rules[] = {
	{ "bad magic", R_MAGIC }, { "version ", R_VERSION }, { "size ", R_SIZE },
	{ "direct map at", R_HHDM_OFF }, { "direct map size", R_HHDM_SIZE },
	{ "memory-map descriptor size", R_DESC }, { "memory-map size", R_MAP_SIZE },
	{ "memory map at", R_MAP_WHERE }, { "used range ", R_USED },
	{ "ramdisk", R_RAMDISK }, { "command line", R_CMDLINE },
	{ "memory map address", R_MAP_ALIGN },
	{ "no bootinfo used range holds the memory map", R_MAP_KEPT },
	{ "trampoline", R_TRAMP }, { "paging levels", R_LEVELS },
};

/* The harness's own per-frame and per-byte loops are not coverage-guided:
 * they would only slow the fuzzer down. */
#define NOCOV __attribute__((no_sanitize("coverage"), noinline))

#define DIE(...) do { fflush(stdout); fprintf(stderr, "fuzz_bootinfo: " __VA_ARGS__); \
		      fputc('\n', stderr); abort(); } while (0)

static int verbose;

static uint64_t rd(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void wr(uint8_t *p, unsigned n, uint64_t v)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* ------------------------------------------------------------ the input */

/* Applies the mode's fix-ups to the BootInfo bytes b and the map bytes m
 * (mlen of them). */
static void apply_mode(unsigned mode, uint8_t *b, uint8_t *m, size_t mlen)
{
	if (mode & M_HEADER) {
		wr(b + O_MAGIC, 8, BOOTINFO_MAGIC);
		wr(b + O_VERSION, 4, BOOTINFO_VERSION);
		wr(b + O_SIZE, 4, BI_SIZE);
		wr(b + O_HHDM_OFF, 8, HHDM_BASE_4L);
		wr(b + O_LEVELS, 4, 4);
	}
	uint32_t ds = (uint32_t)rd(b + O_DESC_SIZE, 4);
	if (mode & M_PLACE) {
		wr(b + O_MAP_PA, 8, MAP_PA | (rd(b + O_MAP_PA, 8) & 0xf));
		if (ds)
			wr(b + O_MAP_SIZE, 8, mlen / ds * ds);
		wr(b + O_HHDM_SIZE, 8, ARENA);
		/* used[0]: the loader's bootinfo range around the map */
		wr(b + O_USED, 8, MAP_PA);
		wr(b + O_USED + 8, 8, (mlen + 0x10 + 0xfff) & ~0xfffull);
		wr(b + O_USED + 16, 4, 3);
		if (rd(b + O_USED_COUNT, 4) == 0)
			wr(b + O_USED_COUNT, 4, 1);
	}
	if (mode & M_FOLD) {
		for (size_t off = 0; ds >= 32 && off + 32 <= mlen; off += ds) {
			uint64_t start = rd(m + off + 8, 8) % ARENA;
			wr(m + off + 8, 8, start);
			wr(m + off + 24, 8, rd(m + off + 24, 8) % (((ARENA - start) >> 12) + 1));
		}
		for (unsigned i = 0; i < BOOTINFO_MAX_USED; i++) {
			uint8_t *u = b + O_USED + 24 * i;
			wr(u, 8, rd(u, 8) % ARENA);
			wr(u + 8, 8, rd(u + 8, 8) % (2 * (uint64_t)ARENA));
		}
	}
	if (mode & M_FB) {
		wr(b + O_FB + 8, 8, rd(b + O_FB + 8, 8) % (FB_MAX + 1));
		wr(b + O_FB + 16, 4, rd(b + O_FB + 16, 4) % 1024);
		wr(b + O_FB + 20, 4, rd(b + O_FB + 20, 4) % 512);
		wr(b + O_FB + 24, 4, rd(b + O_FB + 24, 4) % 8192);
	}
}

/* ------------------------------------------------- truth: bootinfo_check */

/* Returns the rules the BootInfo bytes b break (bootinfo.h, handover.h). */
static unsigned bootinfo_truth(const uint8_t *b)
{
	unsigned broken = 0;
	uint64_t hhdm = rd(b + O_HHDM_SIZE, 8), pa = rd(b + O_MAP_PA, 8);
	uint64_t msize = rd(b + O_MAP_SIZE, 8);
	uint32_t ds = (uint32_t)rd(b + O_DESC_SIZE, 4), n = (uint32_t)rd(b + O_USED_COUNT, 4);

	if (rd(b + O_MAGIC, 8) != 0x544f4f42424d454dULL)   /* "MEMBBOOT" */
		broken |= R_MAGIC;
	if (rd(b + O_VERSION, 4) != 4)
		broken |= R_VERSION;
	if (rd(b + O_SIZE, 4) != BI_SIZE)
		broken |= R_SIZE;
	/* v4: 4 levels put the direct map at 0xffff800000000000 (64 TiB at
	 * most), 5 levels at 0xff00000000000000 (4 PiB). */
	int five = rd(b + O_LEVELS, 4) == 5;
	if (rd(b + O_HHDM_OFF, 8) != (five ? 0xff00000000000000ULL : 0xffff800000000000ULL))
		broken |= R_HHDM_OFF;
	if (hhdm == 0 || hhdm > (five ? 1ULL << 52 : 64ULL << 40))
		broken |= R_HHDM_SIZE;
	if (ds < 40 || ds % 8 || ds > 4096)
		broken |= R_DESC;
	if (msize == 0 || msize > (1u << 18) || (ds && msize % ds) || !ds)
		broken |= R_MAP_SIZE;
	if ((u128)pa + msize > hhdm)
		broken |= R_MAP_WHERE;
	if (pa % 8)
		broken |= R_MAP_ALIGN;
	if (n > BOOTINFO_MAX_USED)
		broken |= R_USED_COUNT;
	for (uint32_t i = 0; i < n && i < BOOTINFO_MAX_USED; i++) {
		const uint8_t *u = b + O_USED + 24 * i;
		uint64_t upa = rd(u, 8), usz = rd(u + 8, 8);
		uint32_t t = (uint32_t)rd(u + 16, 4);
		if (usz == 0 || (u128)upa + usz >= TWO64 || upa % PG || usz % PG || t < 1 || t > 6)
			broken |= R_USED;
	}
	int kept = 0;     /* the map inside a bootinfo (type 3) used range */
	for (uint32_t i = 0; i < n && i < BOOTINFO_MAX_USED; i++) {
		const uint8_t *u = b + O_USED + 24 * i;
		u128 upa = rd(u, 8), uend = upa + rd(u + 8, 8);
		if (rd(u + 16, 4) == 3 && pa >= upa && (u128)pa + msize <= uend)
			kept = 1;
	}
	if (!kept)
		broken |= R_MAP_KEPT;
	uint64_t rsz = rd(b + O_RAMDISK_SIZE, 8);
	if ((rd(b + O_FLAGS, 8) & 8) && (rsz == 0 || (u128)rd(b + O_RAMDISK_PA, 8) + rsz >= TWO64))
		broken |= R_RAMDISK;
	if (!memchr(b + O_CMDLINE, 0, BOOTINFO_CMDLINE_MAX))
		broken |= R_CMDLINE;
	/* The trampoline: none (0, 0), or whole pages ending at or below
	 * 1 MiB inside a trampoline (type 6) used range. */
	u128 tpa = rd(b + O_TRAMP_PA, 8), tsz = rd(b + O_TRAMP_SIZE, 8);
	if (tpa || tsz) {
		int held = 0;
		for (uint32_t i = 0; i < n && i < BOOTINFO_MAX_USED; i++) {
			const uint8_t *u = b + O_USED + 24 * i;
			u128 upa = rd(u, 8), uend = upa + rd(u + 8, 8);
			if (rd(u + 16, 4) == 6 && tpa >= upa && tpa + tsz <= uend)
				held = 1;
		}
		if (tsz == 0 || tpa % PG || tsz % PG || tpa + tsz > 0x100000 || !held)
			broken |= R_TRAMP;
	}
	/* v4: the kernel runs 4- or 5-level tables; the system table is anything. */
	if (rd(b + O_LEVELS, 4) != 4 && rd(b + O_LEVELS, 4) != 5)
		broken |= R_LEVELS;
	return broken;
}

/* Checks bootinfo_check's verdict rc / err against the reading of b. */
static void check_verdict(int rc, const char *err, const uint8_t *b)
{
	unsigned broken = bootinfo_truth(b), named = 0;

	if (verbose)
		fprintf(stderr, "fuzz_bootinfo: %s (rules broken 0x%x)\n", rc ? err : "accepted", broken);
	if (rc == 0) {
		if (broken)
			DIE("accepted a BootInfo that breaks rules 0x%x", broken);
		return;
	}
	if (!broken)
		DIE("refused a good BootInfo: %s", err);
	for (size_t i = 0; i < sizeof(msg_rules) / sizeof(msg_rules[0]); i++)
		if (!strncmp(err, msg_rules[i].prefix, strlen(msg_rules[i].prefix)))
			named = msg_rules[i].rule;
	if (strstr(err, " used ranges, at most"))
		named = R_USED_COUNT;
	if (!named)
		DIE("refusal names no known rule: %s", err);
	if (!(named & broken))
		DIE("refusal \"%s\" (rule 0x%x) is not one the BootInfo breaks (0x%x)", err, named,
		    broken);
}

/* ----------------------------------------------- truth: usable frames */

struct ival { u128 lo, hi; };

static int ival_cmp(const void *a, const void *b)
{
	const struct ival *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sets want[f] for every frame f of the arena that the sanitised map must
 * call usable (see the top of this file), from the raw map (n descriptors
 * of ds bytes at m) and the used ranges in b. */
NOCOV static void usable_truth(const uint8_t *m, uint64_t n, uint32_t ds, const uint8_t *b,
			 uint8_t *want)
{
	static struct ival ram[BOOTINFO_MAP_MAX / 40];
	static uint8_t blocked[NFRAMES];
	size_t nram = 0;

	memset(want, 0, NFRAMES);
	memset(blocked, 0, NFRAMES);
	for (uint64_t i = 0; i < n + BOOTINFO_MAX_USED; i++) {
		u128 lo, hi;
		int is_ram;
		if (i < n) {
			const uint8_t *d = m + i * ds;
			uint32_t t = (uint32_t)rd(d, 4);
			lo = rd(d + 8, 8);
			hi = lo + ((u128)rd(d + 24, 8) << 12);
			uint64_t attr = rd(d + 32, 8);
			/* boot-services code/data, conventional; write-back
			 * (0x8) and not specific-purpose (0x40000) */
			is_ram = (t == 3 || t == 4 || t == 7) && (attr & 0x8) && !(attr & 0x40000);
		} else {
			uint32_t k = (uint32_t)(i - n);
			if (k >= rd(b + O_USED_COUNT, 4))
				break;
			lo = rd(b + O_USED + 24 * k, 8);
			hi = lo + rd(b + O_USED + 24 * k + 8, 8);
			is_ram = 0;
		}
		if (hi == lo || hi >= TWO64)    /* dropped: empty, or end past 2^64 - 1 */
			continue;
		if (is_ram) {
			ram[nram++] = (struct ival){ lo, hi };
		} else if (lo < ARENA) {
			u128 f1 = (hi + PG - 1) / PG;
			for (u128 f = lo / PG; f < f1 && f < NFRAMES; f++)
				blocked[f] = 1;
		}
	}
	/* The union of the RAM ranges, then the frames wholly inside it. */
	qsort(ram, nram, sizeof(ram[0]), ival_cmp);
	for (size_t i = 0; i < nram;) {
		u128 lo = ram[i].lo, hi = ram[i].hi;
		for (i++; i < nram && ram[i].lo <= hi; i++)
			if (ram[i].hi > hi)
				hi = ram[i].hi;
		for (u128 f = (lo + PG - 1) / PG; f < hi / PG && f < NFRAMES; f++)
			want[f] = 1;
	}
	want[0] = 0;        /* page 0 is never usable */
	for (uint32_t f = 0; f < NFRAMES; f++)
		if (blocked[f])
			want[f] = 0;
}

/* Checks the sanitised map r[0..count) against want; returns 1 if all its
 * usable regions lie inside the arena. */
NOCOV static int check_sanitised(const struct mm_region *r, size_t count, const uint8_t *want)
{
	int inside = 1;
	uint32_t f = 0;

	for (size_t i = 0; i < count; i++) {
		u128 end = (u128)r[i].base + r[i].size;
		if (r[i].size == 0 || end > TWO64 || r[i].type >= MR_NTYPES)
			DIE("region %zu [0x%llx, +0x%llx) type %u is empty, wraps or untyped", i,
			    (unsigned long long)r[i].base, (unsigned long long)r[i].size, r[i].type);
		if (i && r[i].base < (u128)r[i - 1].base + r[i - 1].size)
			DIE("region %zu overlaps or precedes region %zu", i, i - 1);
		if (r[i].type != MR_USABLE)
			continue;
		if ((r[i].base | r[i].size) % PG || r[i].base == 0)
			DIE("usable region %zu [0x%llx, +0x%llx) not page-trimmed or holds page 0",
			    i, (unsigned long long)r[i].base, (unsigned long long)r[i].size);
		if (end > ARENA)
			inside = 0;
		/* Frames below this region are not usable, the region's are. */
		for (; f < NFRAMES && (u128)f * PG < r[i].base; f++)
			if (want[f])
				DIE("frame 0x%llx is RAM but not in a usable region",
				    (unsigned long long)f * PG);
		for (; f < NFRAMES && (u128)f * PG < end; f++)
			if (!want[f])
				DIE("frame 0x%llx is in usable region %zu but the raw map says it is not RAM",
				    (unsigned long long)f * PG, i);
	}
	for (; f < NFRAMES; f++)
		if (want[f])
			DIE("frame 0x%llx is RAM but not in a usable region", (unsigned long long)f * PG);
	return inside;
}

/* Checks pmm_init's result st on the sanitised map r[0..count) against
 * want. */
NOCOV static void check_pmm(int st, struct pmm *p, const struct mm_region *r, size_t count,
		      const uint8_t *want)
{
	uint64_t nram = 0, fit = 0;
	for (uint32_t f = 0; f < NFRAMES; f++)
		nram += want[f];
	for (size_t i = 0; i < count; i++) {
		uint64_t lo = r[i].base < 0x100000 ? 0x100000 : r[i].base;
		if (r[i].type == MR_USABLE && r[i].base + r[i].size > lo &&
		    r[i].base + r[i].size - lo >= p->meta_size)
			fit = 1;
	}
	if (st != MM_OK) {
		if (st != MM_ENOMEM || (nram && fit))
			DIE("pmm_init: %s with %llu usable frames", mm_status_str(st),
			    (unsigned long long)nram);
		return;
	}
	if (!nram)
		DIE("pmm_init succeeded without usable frames");
	if (pmm_check(p) != MM_OK)
		DIE("pmm_check failed after pmm_init");
	uint64_t meta = p->meta_size / PG;
	if (p->meta_size % PG || p->meta_size < (u128)2 * p->nframes / 8 ||
	    p->meta_pa < 0x100000 || (u128)p->meta_pa + p->meta_size > ARENA)
		DIE("metadata [0x%llx, +0x%llx) misplaced", (unsigned long long)p->meta_pa,
		    (unsigned long long)p->meta_size);
	uint64_t total, nfree;
	pmm_totals(p, &total, &nfree, NULL);
	if (total != nram || nfree != nram - meta)
		DIE("pmm: %llu free of %llu, expected %llu free of %llu",
		    (unsigned long long)nfree, (unsigned long long)total,
		    (unsigned long long)(nram - meta), (unsigned long long)nram);
	for (uint32_t f = 0; f < NFRAMES; f++) {
		uint64_t pa = (uint64_t)f * PG;
		int is_meta = pa - p->meta_pa < p->meta_size;
		if (pmm_is_ram(p, pa) != want[f] ||
		    (want[f] && pmm_is_allocated(p, pa) != is_meta) || (is_meta && !want[f]))
			DIE("pmm: frame 0x%llx: ram %d allocated %d, expected ram %d metadata %d",
			    (unsigned long long)pa, pmm_is_ram(p, pa), pmm_is_allocated(p, pa),
			    want[f], is_meta);
	}
}

/* ---------------------------------------------------- truth: framebuffer */

/* Returns the bytes per pixel of fb's format, or 0 if it is not one
 * fbcon.h supports. */
static uint32_t fb_bpp(const uint8_t *fb)
{
	uint32_t fmt = (uint32_t)rd(fb + 28, 4), all = 0;
	if (fmt == 0 || fmt == 1)
		return 4;
	if (fmt != 2)
		return 0;
	for (int c = 0; c < 4; c++) {
		uint32_t m = (uint32_t)rd(fb + 32 + 4 * c, 4);
		all |= m;
		if (c == 3)
			break;
		if (m == 0)
			return 0;
		uint32_t low = m & -m, run = m + low;   /* contiguous: m + low clears it */
		if (run & m)
			return 0;
	}
	uint32_t bpp = 1;
	while (bpp < 4 && all >> (8 * bpp))
		bpp++;
	return bpp;
}

/* Runs the console as kmain's screen_init and the end of kmain do, on a
 * buffer of exactly fb.size bytes, with text (len bytes) printed on it. */
NOCOV static void run_fbcon(const uint8_t *b, const struct bootinfo *bi, const struct mm_region *r,
		      size_t count, const char *text, size_t len)
{
	const uint8_t *fbb = b + O_FB;
	uint64_t size = rd(fbb + 8, 8);
	uint32_t w = (uint32_t)rd(fbb + 16, 4), h = (uint32_t)rd(fbb + 20, 4);
	uint32_t pitch = (uint32_t)rd(fbb + 24, 4);
	if (!(rd(b + O_FLAGS, 8) & 2) || size > FB_MAX)
		return;
	uint8_t *buf = malloc(size);
	memset(buf, 0xa5, size);
	static struct fbcon c;   /* ~620 KiB: the cell grids */
	int s = fbcon_init(&c, buf, &bi->fb);

	uint32_t bpp = fb_bpp(fbb);
	int want = !bpp ? FBCON_EFORMAT :
		   w < 8 || h < 16 || pitch < (u128)w * bpp || size < (u128)pitch * h ?
		   FBCON_ESIZE : FBCON_OK;
	if (verbose)
		fprintf(stderr, "fuzz_bootinfo: fbcon %ux%u pitch %u size %llu bpp %u: %s\n", w, h,
			pitch, (unsigned long long)size, bpp, fbcon_status_str(s));
	if (s != want)
		DIE("fbcon_init: %s, expected %s (%ux%u pitch %u size %llu bpp %u)",
		    fbcon_status_str(s), fbcon_status_str(want), w, h, pitch,
		    (unsigned long long)size, bpp);
	if (s == FBCON_OK) {
		if (c.bpp != bpp)
			DIE("fbcon: %u bytes per pixel, expected %u", c.bpp, bpp);
		/* fbcon_init leaves the glass to the first flush, which must
		 * paint every visible pixel. */
		fbcon_flush(&c);
		for (uint64_t y = 0; y < h; y++)
			for (uint64_t x = 0; x < (uint64_t)w * bpp; x++)
				if (buf[y * pitch + x])
					DIE("fbcon_init + first flush left pixel byte (%llu, %llu) not background",
					    (unsigned long long)x, (unsigned long long)y);
		fbcon_write(&c, text, len);
		mmpic_draw(&c, r, count);
	}
	/* Outside the visible rectangle nothing changed (a refused init
	 * writes nothing at all). */
	for (uint64_t i = 0; i < size; i++) {
		int visible = s == FBCON_OK && i / pitch < h && i % pitch < (uint64_t)w * bpp;
		if (!visible && buf[i] != 0xa5)
			DIE("fbcon wrote byte %llu outside the visible %ux%u (pitch %u)",
			    (unsigned long long)i, w, h, pitch);
	}
	free(buf);
}

/* ------------------------------------------------------------- kmain */

/* kmain's use of an accepted BootInfo bi (bytes b), the raw map m (mlen
 * bytes, already at memmap_pa in the arena if it fits there). */
static void run_kernel(const uint8_t *b, const struct bootinfo *bi, const uint8_t *m)
{
	static struct mm_region map[MAP_CAP];
	static struct memmap_cp scratch[MEMMAP_SCRATCH_LEN(BOOTINFO_MAP_MAX / 40, BOOTINFO_MAX_USED)];
	static uint8_t want[NFRAMES];
	static struct pmm pmm;
	char cmdline[4 * BOOTINFO_CMDLINE_MAX];
	size_t count = 0;

	/* The command line, escaped as kmain prints it. */
	fmt_escape(cmdline, sizeof(cmdline), bi->cmdline, strlen(bi->cmdline));
	for (const char *p = cmdline; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			DIE("escaped command line holds byte 0x%02x", (unsigned char)*p);

	/* memory_init: only on a map kmain could reach through the arena. */
	if ((u128)bi->memmap_pa + bi->memmap_size > ARENA)
		return;
	const void *raw = mm_phys_to_virt(bi->memmap_pa);
	host_capture_begin();
	mm_printf("memboot: BootInfo cmdline \"%s\"\n", cmdline);
	memmap_print_raw(raw, bi->memmap_size, bi->memmap_desc_size);
	int s = memmap_sanitize(raw, bi->memmap_size, bi->memmap_desc_size, bi->used,
				bi->used_count, scratch, sizeof(scratch) / sizeof(scratch[0]),
				map, MAP_CAP, &count);
	if (s == MM_EOVERFLOW && count == MAP_CAP) {   /* kmain goes on with the lowest regions */
		host_capture_end();
		return;
	}
	if (s != MM_OK) {
		host_capture_end();
		DIE("memmap_sanitize: %s on an accepted BootInfo (kmain panics)", mm_status_str(s));
	}
	memmap_print(map, count);
	usable_truth(m, bi->memmap_size / bi->memmap_desc_size, bi->memmap_desc_size, b, want);
	if (check_sanitised(map, count, want)) {
		s = pmm_init(&pmm, map, count);
		check_pmm(s, &pmm, map, count, want);
		if (s == MM_OK)
			pmm_print(&pmm);
		if (verbose)
			fprintf(stderr, "fuzz_bootinfo: %zu regions, pmm_init %s, %llu free of %llu\n",
				count, mm_status_str(s), (unsigned long long)pmm_free_frames(&pmm),
				(unsigned long long)pmm.total);
	} else if (verbose) {
		fprintf(stderr, "fuzz_bootinfo: %zu regions, RAM beyond the arena: no pmm\n", count);
	}
	const char *text = host_capture_end();
	size_t len = strlen(text);
	/* Then the raw command line: kmain only prints it escaped, but its
	 * control bytes reach fbcon's \r, \b and \t handling. */
	static char both[TEXT_MAX + BOOTINFO_CMDLINE_MAX];
	len = len < TEXT_MAX ? len : TEXT_MAX;
	memcpy(both, text, len);
	memcpy(both + len, bi->cmdline, strlen(bi->cmdline));
	run_fbcon(b, bi, map, count, both, len + strlen(bi->cmdline));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int inited;
	if (!inited) {
		host_arena_init(ARENA);
		verbose = getenv("FUZZ_VERBOSE") != NULL;
		inited = 1;
	}
	if (size < 1)
		return 0;
	unsigned mode = data[0];
	uint8_t b[BI_SIZE] = { 0 };
	size_t blen = size - 1 < BI_SIZE ? size - 1 : BI_SIZE;
	memcpy(b, data + 1, blen);
	size_t mlen = size - 1 - blen;
	uint8_t *m = malloc(mlen ? mlen : 1);
	memcpy(m, data + 1 + blen, mlen);
	apply_mode(mode, b, m, mlen);

	struct bootinfo *bi = malloc(sizeof(*bi));
	memcpy(bi, b, sizeof(*bi));
	char err[192];
	err[0] = 0;
	int rc = bootinfo_check(bi, err, sizeof(err));
	check_verdict(rc, err, b);
	if (rc == 0) {
		/* The raw map as the kernel finds it: the bytes given, then zeroes. */
		uint8_t *full = calloc(1, bi->memmap_size);
		memcpy(full, m, mlen < bi->memmap_size ? mlen : bi->memmap_size);
		if ((u128)bi->memmap_pa + bi->memmap_size <= ARENA)
			memcpy(mm_phys_to_virt(bi->memmap_pa), full, bi->memmap_size);
		run_kernel(b, bi, full);
		free(full);
	}
	free(bi);
	free(m);
	return 0;
}
