/*
 * kernel/console/mmpic.c - the memory-map picture; scale and layout in kernel/console/mmpic.h.
 */
#include "kernel/console/mmpic.h"

#define HOLE MR_NTYPES          /* legend index of "no region here" */

/* Colour (0xRRGGBB) and short legend name of every region type, then of
 * holes.  Colours are far apart in hue so neighbours stay distinguishable;
 * RAM is green, firmware-owned memory warm, device space blue. */
static const struct {
	uint32_t rgb;
	const char *name;
} legend[MR_NTYPES + 1] = {
	[MR_USABLE]     = {0x3cb44b, "usable"},
	[MR_RESERVED]   = {0x909090, "reserved"},
	[MR_ACPI_DATA]  = {0xffe119, "ACPI"},
	[MR_ACPI_NVS]   = {0xf58231, "ACPI-NVS"},
	[MR_UNUSABLE]   = {0xe6194b, "bad"},
	[MR_PERSISTENT] = {0xf032e6, "pmem"},
	[MR_MMIO]       = {0x4363d8, "MMIO"},
	[MR_RUNTIME]    = {0x911eb4, "runtime"},
	[MR_LOADER]     = {0x42d4f4, "loader"},
	[MR_KERNEL]     = {0xffffff, "kernel"},
	[MR_RAMDISK]    = {0xfabed4, "ramdisk"},
	[MR_BOOTINFO]   = {0xbfef45, "bootinfo"},
	[MR_SOFT_RESERVED] = {0x469990, "soft-rsvd"},
	[MR_TRAMPOLINE] = {0xaaffc3, "trampoline"},
	[HOLE]          = {0x383838, "hole"},
};

/* Bits kept of an offset before it is multiplied by a bar width in pixels
 * (< 2^24, far beyond any screen), so the product fits in 64 bits with no
 * 128-bit division helper in the kernel; the error is < 2^-40 of a band. */
#define SCALE_BITS 40

/* Returns the number of bytes in s (a NUL-terminated string). */
static size_t str_len(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

/* Puts NUL-terminated s into c's grid; mmpic_draw flushes once at the end. */
static void puts_c(struct fbcon *c, const char *s)
{
	fbcon_put(c, s, str_len(s));
}

/* Returns the last address of region r, saturated at 2^64 - 1. */
static uint64_t region_last(const struct mm_region *r)
{
	uint64_t last = r->base + r->size - 1;

	return last < r->base ? UINT64_MAX : last;
}

/* Returns the number of bands needed to cover [0, last]: 1 for the first
 * MiB, plus one per doubling up to the power of two above last. */
static uint32_t band_count(uint64_t last)
{
	uint32_t bits = 64 - (uint32_t)__builtin_clzll(last | 1);  /* last < 2^bits */

	return bits <= 20 ? 1 : bits - 19;
}

/* Returns the start of band k (0 for band 0); its length is band_len(k). */
static uint64_t band_lo(uint32_t k)
{
	return k == 0 ? 0 : MMPIC_BAND0_SIZE << (k - 1);
}

static uint64_t band_len(uint32_t k)
{
	return k == 0 ? MMPIC_BAND0_SIZE : band_lo(k);
}

/* Returns the bar pixel of offset off (0 <= off <= len) into a band of len
 * bytes drawn over w pixels: floor(off * w / len), or its ceiling if up. */
static uint32_t band_px(uint64_t off, uint64_t len, uint32_t w, int up)
{
	uint32_t shift = 0;
	uint64_t v;

	while ((len >> shift) > (1ULL << SCALE_BITS))
		shift++;
	off >>= shift;
	len >>= shift;
	v = off * w;
	return (uint32_t)(v / len + (up && v % len ? 1 : 0));
}

/* Formats the address a (0, or a power of two >= 1 MiB) as "512M", "1T"...
 * into buf (at least 8 bytes); returns buf. */
static char *fmt_addr(uint64_t a, char *buf)
{
	static const char units[] = "KMGTPE";
	uint32_t u = 0;
	char tmp[24];
	size_t n = 0, i = 0;

	while (a && (a & 1023) == 0 && u < sizeof(units) - 1) {
		a >>= 10;
		u++;
	}
	do {
		tmp[n++] = (char)('0' + a % 10);
		a /= 10;
	} while (a);
	while (n)
		buf[i++] = tmp[--n];
	if (u)
		buf[i++] = units[u - 1];
	buf[i] = 0;
	return buf;
}

/* Fills bar pixels [x0, x1) of the current text row of c with legend colour
 * index t; bar pixel 0 is at cell MMPIC_LABEL_COLS. */
static void bar_fill(struct fbcon *c, uint32_t x0, uint32_t x1, uint32_t t)
{
	fbcon_fill_rect(c, MMPIC_LABEL_COLS * FONT_W + x0,
			c->row * FONT_H + MMPIC_BAR_INSET, x1 - x0,
			FONT_H - 2 * MMPIC_BAR_INSET, legend[t].rgb);
}

/* Draws band k of map into the bar of the current row, w pixels wide:
 * holes, then every region clipped to the band; in the second pass regions
 * smaller than a pixel are drawn again, one pixel wide, so none vanishes. */
static void draw_band(struct fbcon *c, uint32_t k, uint32_t w,
		      const struct mm_region *map, size_t n)
{
	uint64_t lo = band_lo(k), len = band_len(k), hi_last = lo + len - 1;

	bar_fill(c, 0, w, HOLE);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			const struct mm_region *r = &map[i];
			uint64_t last = region_last(r);
			int tiny = r->size < len / w;
			if (r->size == 0 || r->base > hi_last || last < lo)
				continue;
			if (pass == 1 && !tiny)
				continue;
			uint64_t b = (r->base > lo ? r->base : lo) - lo;
			uint64_t e = (last < hi_last ? last : hi_last) - lo + 1;
			uint32_t x0 = band_px(b, len, w, 0), x1 = band_px(e, len, w, 1);
			if (x1 <= x0)
				x1 = x0 + 1;
			if (x1 > w)
				x1 = w;
			bar_fill(c, x0, x1, r->type < MR_NTYPES ? r->type : MR_RESERVED);
		}
	}
}

/* Writes the legend: every type's swatch (2 cells) and name, breaking lines
 * so no entry is cut. */
static void draw_legend(struct fbcon *c)
{
	puts_c(c, "mmpic: legend:\n");
	for (uint32_t t = 0; t <= HOLE; t++) {
		uint32_t need = 2 + 1 + (uint32_t)str_len(legend[t].name) + 2;
		if (c->col + need > c->cols)
			puts_c(c, "\n");
		puts_c(c, "   ");
		fbcon_fill_rect(c, (c->col - 3) * FONT_W, c->row * FONT_H + MMPIC_BAR_INSET,
				2 * FONT_W, FONT_H - 2 * MMPIC_BAR_INSET, legend[t].rgb);
		puts_c(c, legend[t].name);
		puts_c(c, "  ");
	}
	puts_c(c, "\n");
}

void mmpic_draw(struct fbcon *c, const struct mm_region *map, size_t n)
{
	uint64_t last = 0;
	uint32_t w, bands;
	char buf[24];

	if (c->cols < MMPIC_MIN_COLS)
		return;
	for (size_t i = 0; i < n; i++)
		if (map[i].size && region_last(&map[i]) > last)
			last = region_last(&map[i]);
	bands = band_count(last);
	w = (c->cols - MMPIC_LABEL_COLS - 1) * FONT_W;

	if (c->col)
		puts_c(c, "\n");
	puts_c(c, "mmpic: memory map, row [A,2A) (top [0,1M)) linear, 1 px = row/");
	puts_c(c, fmt_addr(w, buf));
	puts_c(c, "\n");
	for (uint32_t k = 0; k < bands; k++) {
		size_t l = str_len(fmt_addr(band_lo(k), buf));
		for (size_t i = l; i < MMPIC_LABEL_COLS - 1; i++)
			puts_c(c, " ");
		puts_c(c, buf);
		puts_c(c, " ");
		draw_band(c, k, w, map, n);
		puts_c(c, "\n");
	}
	draw_legend(c);
	fbcon_flush(c);   /* the whole picture reaches the glass in one redraw */
}
