/*
 * tests/host/test_mmpic.c - the memory-map picture, read back as a person
 * would: find a band's row by its label text, find a type's colour by its
 * legend swatch, and check that the bar pixel an address maps to (by the
 * scale documented in kernel/console/mmpic.h, computed here) has that colour.
 */
#include <stdio.h>
#include "tests/host/harness.h"
#include "kernel/console/mmpic.h"
#include "tests/host/screen.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define TiB (1ULL << 40)

struct pic {
	struct screen s;
	struct fbcon c;
	uint32_t cols, rows;
	char text[64][256];       /* decoded rows */
};

/* Draws map on a fresh 1024x768 BGRX console after `before` lines of text;
 * decodes every row into p->text. */
static int pic_draw(struct pic *p, const struct mm_region *map, size_t n, int before)
{
	p->s = screen_new(1024, 768, BOOTINFO_FB_BGRX, 4, 0, NULL);
	if (fbcon_init(&p->c, p->s.mem, &p->s.fb) != FBCON_OK)
		return -1;
	for (int i = 0; i < before; i++) {
		char line[32];
		int l = snprintf(line, sizeof(line), "text line %d\n", i);
		fbcon_write(&p->c, line, (size_t)l);
	}
	mmpic_draw(&p->c, map, n);
	p->cols = 1024 / FONT_W;
	p->rows = 768 / FONT_H;
	for (uint32_t r = 0; r < p->rows; r++)
		decode_row(&p->s, r, p->text[r]);
	return 0;
}

/* Returns the native pixel at (x, y). */
static uint32_t pic_px(const struct pic *p, uint32_t x, uint32_t y)
{
	uint32_t v;
	memcpy(&v, p->s.mem + (size_t)y * p->s.fb.pitch + (size_t)x * 4, 4);
	return v;
}

/* Returns the row whose label (cells 0..MMPIC_LABEL_COLS-1) reads label,
 * or -1. */
static int find_band_row(const struct pic *p, const char *label)
{
	for (uint32_t r = 0; r < p->rows; r++) {
		char l[MMPIC_LABEL_COLS + 1];
		const char *t = p->text[r];
		size_t i = 0, j = 0;
		if (strlen(t) <= MMPIC_LABEL_COLS)
			continue;
		while (i < MMPIC_LABEL_COLS && t[i] == ' ')
			i++;
		while (i < MMPIC_LABEL_COLS && t[i] != ' ')
			l[j++] = t[i++];
		l[j] = 0;
		if (j && !strcmp(l, label) && t[MMPIC_LABEL_COLS] == UNKNOWN)
			return (int)r;
	}
	return -1;
}

/* Returns the colour of the legend swatch before name (a whole word on a
 * line after "mmpic: legend:"), or 0xffffffff if there is none. */
static uint32_t legend_color(const struct pic *p, const char *name)
{
	int in_legend = 0;
	size_t nl = strlen(name);

	for (uint32_t r = 0; r < p->rows; r++) {
		const char *t = p->text[r];
		if (!strncmp(t, "mmpic: legend:", 14)) {
			in_legend = 1;
			continue;
		}
		if (!in_legend)
			continue;
		for (const char *q = strstr(t, name); q; q = strstr(q + 1, name)) {
			size_t k = (size_t)(q - t);
			if (k >= 3 && q[-1] == ' ' && (q[nl] == ' ' || q[nl] == 0))
				return pic_px(p, (uint32_t)(k - 3) * FONT_W + FONT_W / 2,
					      r * FONT_H + FONT_H / 2);
		}
	}
	return 0xffffffff;
}

/* The scale of kernel/console/mmpic.h: band of addr and its label. */
static void band_of(uint64_t addr, uint64_t *lo, uint64_t *len, char *label)
{
	if (addr < MiB) {
		*lo = 0;
		*len = MiB;
		strcpy(label, "0");
		return;
	}
	*lo = MiB;
	while (*lo <= addr / 2)
		*lo *= 2;
	*len = *lo;
	const char *u = "MGTPE";
	uint64_t v = *lo >> 20;
	while (v >= 1024) {
		v >>= 10;
		u++;
	}
	sprintf(label, "%llu%c", (unsigned long long)v, *u);
}

/* Checks that the bar pixel of addr has the legend colour of name. */
static void check_addr(const struct pic *p, uint64_t addr, const char *name)
{
	uint64_t lo, len;
	char label[16];
	band_of(addr, &lo, &len, label);
	int row = find_band_row(p, label);
	CHECK(row >= 0, "no band row labelled %s for %#llx", label, (unsigned long long)addr);
	uint32_t want = legend_color(p, name);
	CHECK(want != 0xffffffff, "no legend entry %s", name);
	if (row < 0 || want == 0xffffffff)
		return;
	uint32_t w = (p->cols - MMPIC_LABEL_COLS - 1) * FONT_W;
	uint32_t x = MMPIC_LABEL_COLS * FONT_W +
		     (uint32_t)((double)(addr - lo) * w / (double)len);
	uint32_t got = pic_px(p, x, (uint32_t)row * FONT_H + FONT_H / 2);
	CHECK(got == want, "%#llx (band %s, x %u): pixel %06x, %s is %06x",
	      (unsigned long long)addr, label, x, got, name, want);
}

/*
 * A 512 MiB q35-like map:
 *   0       640K  1M           8M    9M      ...     496M 500M  512M   2.75G 3G     4G-4M 4G
 *   |usable|hole |usable......|NVS..|kernel..usable..|rt..|usable|..hole..|ECAM|SP|..hole..|flash|
 * plus a 4 KiB ACPI table at 511M and 128 MiB soft-reserved (SP) at 3G.
 * Expect: bands 0 .. 2G (13 rows, none labelled 4G); each address shows its
 * type's legend colour, the 4 KiB table at least one pixel wide.
 */
static const struct mm_region map512[] = {
	{0x0, 0xa0000, MR_USABLE, 0},
	{MiB, 7 * MiB, MR_USABLE, 0},
	{8 * MiB, MiB, MR_ACPI_NVS, 0},
	{9 * MiB, 3 * MiB, MR_KERNEL, 0},
	{12 * MiB, 484 * MiB, MR_USABLE, 0},
	{496 * MiB, 4 * MiB, MR_RUNTIME, 0},
	{500 * MiB, 11 * MiB, MR_USABLE, 0},
	{511 * MiB, 0x1000, MR_ACPI_DATA, 0},
	{511 * MiB + 0x1000, MiB - 0x1000, MR_USABLE, 0},
	{0xb0000000, 256 * MiB, MR_RESERVED, 0},
	{0xc0000000, 128 * MiB, MR_SOFT_RESERVED, 0},
	{0xffc00000, 4 * MiB, MR_MMIO, 0},
};

static void test_512m(void)
{
	static struct pic p;
	int st = pic_draw(&p, map512, sizeof(map512) / sizeof(map512[0]), 0);
	REQUIRE(st == 0, "init");
	CHECK(!strncmp(p.text[0], "mmpic:", 6), "title \"%s\"", p.text[0]);
	CHECK(find_band_row(&p, "2G") >= 0, "no 2G row");
	CHECK(find_band_row(&p, "4G") < 0, "a 4G row for a map ending at 4G");
	check_addr(&p, 0x50000, "usable");
	check_addr(&p, 0xd0000, "hole");
	check_addr(&p, 0x400000, "usable");
	check_addr(&p, 8 * MiB + MiB / 2, "ACPI-NVS");
	check_addr(&p, 10 * MiB + MiB / 2, "kernel");
	check_addr(&p, 100 * MiB, "usable");
	check_addr(&p, 498 * MiB, "runtime");
	check_addr(&p, 511 * MiB, "ACPI");
	check_addr(&p, 700 * MiB, "hole");
	check_addr(&p, 0xb8000000, "reserved");
	check_addr(&p, 0xc4000000, "soft-rsvd");
	check_addr(&p, 0xfff00000, "MMIO");
	check_addr(&p, 0xe0000000, "hole");
	free(p.s.mem);
}

/*
 * A 1 TiB map, drawn after 40 lines of text so the picture scrolls:
 *   0 ... 2G usable, 3G-4G reserved, 4G ... 1T+2G usable,
 *   a 64 KiB loader region at 512K, a 2 MiB ramdisk at 1T, usable to 1T+256G.
 * Expect: rows 0 .. 1T (the map ends above 1T); low and high regions both
 * show their colours; the title scrolled, the legend is on screen.
 */
static const struct mm_region map1t[] = {
	{0x0, 0x80000, MR_USABLE, 0},
	{0x80000, 0x10000, MR_LOADER, 0},
	{0x90000, 0x10000, MR_USABLE, 0},
	{MiB, 2 * GiB - MiB, MR_USABLE, 0},
	{3 * GiB, GiB, MR_RESERVED, 0},
	{4 * GiB, TiB - 4 * GiB, MR_USABLE, 0},
	{TiB, 2 * MiB, MR_RAMDISK, 0},
	{TiB + 2 * MiB, 256 * GiB - 2 * MiB, MR_USABLE, 0},
};

static void test_1t_after_text(void)
{
	static struct pic p;
	int st = pic_draw(&p, map1t, sizeof(map1t) / sizeof(map1t[0]), 40);
	REQUIRE(st == 0, "init");
	CHECK(find_band_row(&p, "1T") >= 0, "no 1T row");
	CHECK(find_band_row(&p, "2T") < 0, "a 2T row");
	check_addr(&p, 0x40000, "usable");
	check_addr(&p, 0x88000, "loader");
	check_addr(&p, GiB, "usable");
	check_addr(&p, 3 * GiB + GiB / 2, "reserved");
	check_addr(&p, 2 * GiB + GiB / 2, "hole");
	check_addr(&p, 700 * GiB, "usable");
	check_addr(&p, TiB, "ramdisk");
	check_addr(&p, TiB + 128 * GiB, "usable");
	free(p.s.mem);
}

/* Every legend entry exists and all colours differ.  Expect: 13 distinct. */
static void test_legend_distinct(void)
{
	static const char *names[] = {"usable", "reserved", "ACPI", "ACPI-NVS", "bad",
		"pmem", "MMIO", "runtime", "loader", "kernel", "ramdisk", "bootinfo", "hole"};
	static struct pic p;
	uint32_t col[13];
	int st = pic_draw(&p, map512, 1, 0);
	REQUIRE(st == 0, "init");
	for (int i = 0; i < 13; i++) {
		col[i] = legend_color(&p, names[i]);
		CHECK(col[i] != 0xffffffff && col[i] != 0, "legend %s missing", names[i]);
		for (int j = 0; j < i; j++)
			CHECK(col[i] != col[j], "%s and %s share %06x", names[i], names[j], col[i]);
	}
	free(p.s.mem);
}

/* A console narrower than MMPIC_MIN_COLS.  Expect: nothing drawn. */
static void test_narrow_console(void)
{
	struct screen s = screen_new(FONT_W * (MMPIC_MIN_COLS - 1), 64, BOOTINFO_FB_RGBX, 4, 0, NULL);
	struct fbcon c;
	int st = fbcon_init(&c, s.mem, &s.fb);
	REQUIRE(st == FBCON_OK, "init");
	mmpic_draw(&c, map512, 3);
	CHECK(c.row == 0 && c.col == 0, "cursor moved to %u,%u", c.col, c.row);
	free(s.mem);
}

int main(void)
{
	RUN(test_512m);
	RUN(test_1t_after_text);
	RUN(test_legend_distinct);
	RUN(test_narrow_console);
	return harness_done("mmpic");
}
