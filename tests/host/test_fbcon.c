/*
 * tests/host/test_fbcon.c - the framebuffer console against an independent
 * reading of its pixels.
 *
 * Each test renders text into a malloc'ed framebuffer, then reads the text
 * back: every pixel is decoded to RGB from the pixel format as the UEFI
 * spec defines it (not through fbcon's own conversion), a pixel is ink when
 * it is not black, and each 8x16 cell's ink bitmap is looked up in the font
 * table.  The result is compared with a line model of the terminal written
 * here (logical lines cut into chunks of `cols`, the last `rows` shown).
 */
#include <stdlib.h>
#include <string.h>
#include "tests/host/harness.h"
#include "kernel/console/fbcon.h"
#include "tests/host/screen.h"

/*
 * The model: expected screen row `row` (trailing blanks cut) after writing
 * text (printable ASCII and '\n' only) on a cols x rows console.  Every
 * logical line occupies max(1, ceil(len / cols)) screen lines, except that
 * the text after the last '\n' is the cursor line; the screen shows the last
 * `rows` screen lines.
 */
static void model_row(const char *text, uint32_t cols, uint32_t rows,
		      uint32_t row, char *out)
{
	/* Screen lines as (start, len) into text. */
	static size_t start[100000], len[100000];
	size_t n = 0, i = 0, total = strlen(text);

	for (;;) {
		size_t e = i;
		while (e < total && text[e] != '\n')
			e++;
		size_t l = e - i;
		do {
			size_t chunk = l > cols ? cols : l;
			start[n] = i;
			len[n++] = chunk;
			i += chunk;
			l -= chunk;
		} while (l > 0);
		if (e >= total)
			break;
		i = e + 1;
	}
	size_t first = n > rows ? n - rows : 0;
	out[0] = 0;
	if (first + row < n) {
		memcpy(out, text + start[first + row], len[first + row]);
		out[len[first + row]] = 0;
	}
}

/* Checks every row of s against the model of text. */
static void check_text(const struct screen *s, const char *text, const char *what)
{
	uint32_t cols = s->fb.width / FONT_W, rows = s->fb.height / FONT_H;
	char got[1024], want[1024];

	for (uint32_t r = 0; r < rows; r++) {
		decode_row(s, r, got);
		model_row(text, cols, rows, r, want);
		CHECK(!strcmp(got, want), "%s: row %u: got \"%s\", want \"%s\"",
		      what, r, got, want);
	}
}

/* Checks that the pad bytes after every line still hold JUNK. */
static void check_padding(const struct screen *s, const char *what)
{
	uint32_t used = s->fb.width * s->bpp;

	for (uint32_t y = 0; y < s->fb.height; y++)
		for (uint32_t b = used; b < s->fb.pitch; b++)
			if (s->mem[(size_t)y * s->fb.pitch + b] != JUNK) {
				CHECK(0, "%s: pad byte %u of line %u written", what, b, y);
				return;
			}
}

static const char sample[] =
	"memboot: framebuffer console\n"
	"!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\n"
	"\n"
	"memmap: [mem 0x0000000000000000-0x000000000009ffff] usable\n";

struct fmt_case {
	const char *name;
	uint32_t format, bpp;
	uint32_t masks[3];
};

static const struct fmt_case fmt_cases[] = {
	{"RGBX", BOOTINFO_FB_RGBX, 4, {0}},
	{"BGRX", BOOTINFO_FB_BGRX, 4, {0}},
	{"bitmask 5:6:5", BOOTINFO_FB_BITMASK, 2, {0xf800, 0x07e0, 0x001f}},
	{"bitmask 10:10:10", BOOTINFO_FB_BITMASK, 4, {0x3ff00000, 0x000ffc00, 0x000003ff}},
	{"bitmask 24-bit", BOOTINFO_FB_BITMASK, 3, {0x0000ff, 0x00ff00, 0xff0000}},
};

/*
 * Every pixel format, an odd width (203 px: 25 columns and 3 spare pixels)
 * and padded pitches.  Expect: the decoded text equals the model (lines
 * longer than 25 columns wrap), and no pad byte is touched.
 */
static void test_formats_and_pitch(void)
{
	for (size_t i = 0; i < sizeof(fmt_cases) / sizeof(fmt_cases[0]); i++) {
		const struct fmt_case *f = &fmt_cases[i];
		for (uint32_t pad = 0; pad <= 13; pad += 13) {
			const uint32_t *m = f->format == BOOTINFO_FB_BITMASK ? f->masks : NULL;
			struct screen s = screen_new(203, 16 * 12 + 5, f->format, f->bpp, pad, m);
			struct fbcon c;
			int st = fbcon_init(&c, s.mem, &s.fb);
			CHECK(st == FBCON_OK, "%s: init: %s", f->name, fbcon_status_str(st));
			if (st == FBCON_OK) {
				CHECK(c.cols == 25 && c.rows == 12, "%s: %ux%u cells", f->name, c.cols, c.rows);
				fbcon_write(&c, sample, strlen(sample));
				check_text(&s, sample, f->name);
				check_padding(&s, f->name);
			}
			free(s.mem);
		}
	}
}

/*
 * Channel order: pure red text on pure blue background.
 *   RGBX: byte 0 is red;  BGRX: byte 2 is red, byte 0 blue.
 * Expect: a pixel of the '#' glyph and a background pixel have those bytes.
 */
static void test_channel_order(void)
{
	for (int f = BOOTINFO_FB_RGBX; f <= BOOTINFO_FB_BGRX; f++) {
		struct screen s = screen_new(64, 32, (uint32_t)f, 4, 0, NULL);
		struct fbcon c;
		int st = fbcon_init(&c, s.mem, &s.fb);
		REQUIRE(st == FBCON_OK, "init");
		fbcon_set_colors(&c, 0xff0000, 0x0000ff);
		fbcon_write(&c, "#", 1);
		/* '#' row 3 is 0x6c: pixel x=1 is ink, x=0 is not. */
		const uint8_t *fgp = s.mem + 3 * s.fb.pitch + 1 * 4;
		const uint8_t *bgp = s.mem + 3 * s.fb.pitch + 0 * 4;
		int r = f == BOOTINFO_FB_RGBX ? 0 : 2, b = 2 - r;
		CHECK(fgp[r] == 0xff && fgp[1] == 0 && fgp[b] == 0,
		      "fmt %d: fg bytes %02x %02x %02x", f, fgp[0], fgp[1], fgp[2]);
		CHECK(bgp[b] == 0xff && bgp[1] == 0 && bgp[r] == 0,
		      "fmt %d: bg bytes %02x %02x %02x", f, bgp[0], bgp[1], bgp[2]);
		free(s.mem);
	}
}

/*
 * 300 numbered lines on a 10-row screen, written in pieces of odd sizes.
 * Expect: the screen shows lines 292..300 and the empty cursor line.
 */
static void test_scroll_keeps_last_lines(void)
{
	static char text[16384];
	size_t n = 0;
	for (int i = 1; i <= 300; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "line %d of the scroll test\n", i);
	struct screen s = screen_new(320, 16 * 10, BOOTINFO_FB_BGRX, 4, 64, NULL);
	struct fbcon c;
	int st = fbcon_init(&c, s.mem, &s.fb);
	REQUIRE(st == FBCON_OK, "init");
	for (size_t i = 0; i < n; i += 7)
		fbcon_write(&c, text + i, n - i < 7 ? n - i : 7);
	check_text(&s, text, "scroll");
	char got[64];
	decode_row(&s, 0, got);
	CHECK(!strcmp(got, "line 292 of the scroll test"), "row 0 \"%s\"", got);
	check_padding(&s, "scroll");
	free(s.mem);
}

/*
 * fbcon_init leaves the firmware's pixels to the first flush, which paints
 * every pixel of the screen once: cells, the margin right of the last
 * column (203 = 25 cells + 3 pixels) and the strip below the last row
 * (cleared by init itself).
 *   +-------------------------+---+
 *   | cells (junk until flush)|mrg|
 *   +-------------------------+---+
 *   | strip: 5 rows, cleared at init  |
 * Expect: after init, the strip is background and a cell still junk (the
 * control: the check below sees an unpainted pixel); after one empty flush,
 * every pixel on the screen is background.
 */
static void test_first_flush_paints_everything(void)
{
	struct screen s = screen_new(203, 16 * 3 + 5, BOOTINFO_FB_RGBX, 4, 8, NULL);
	struct fbcon c;
	REQUIRE(fbcon_init(&c, s.mem, &s.fb) == FBCON_OK, "init");
	uint32_t junk = JUNK * 0x010101u;
	CHECK(screen_rgb(&s, 0, 16 * 3 + 4) == FBCON_BG_DEFAULT, "strip not cleared at init: %06x",
	      screen_rgb(&s, 0, 16 * 3 + 4));
	CHECK(screen_rgb(&s, 5, 5) == junk, "control: a cell is painted before any flush (%06x)",
	      screen_rgb(&s, 5, 5));
	fbcon_flush(&c);
	uint32_t bad = 0;
	for (uint32_t y = 0; y < s.fb.height; y++)
		for (uint32_t x = 0; x < s.fb.width; x++)
			bad += screen_rgb(&s, x, y) != FBCON_BG_DEFAULT;
	CHECK(bad == 0, "%u pixels not background after the first flush", bad);
	CHECK(c.px_written == (uint64_t)s.fb.width * s.fb.height,
	      "%lu pixel stores for a %u x %u screen: each pixel once", (unsigned long)c.px_written,
	      s.fb.width, s.fb.height);
	free(s.mem);
}

/*
 * Deferred wrap: a line of exactly `cols` characters then '\n' makes one
 * line break, not two; cols + 1 characters spill one onto the next line.
 *   |0123456789|     row 0
 *   |0123456789|     row 1
 *   |X         |     row 2
 * Expect: rows as drawn above; the cursor ends on row 3.
 */
static void test_wrap(void)
{
	struct screen s = screen_new(80, 16 * 6, BOOTINFO_FB_RGBX, 4, 0, NULL);
	struct fbcon c;
	int st = fbcon_init(&c, s.mem, &s.fb);
	REQUIRE(st == FBCON_OK, "init");
	const char *t = "0123456789\n0123456789X\n";
	fbcon_write(&c, t, strlen(t));
	check_text(&s, t, "wrap");
	CHECK(c.row == 3 && c.col == 0, "cursor %u,%u", c.col, c.row);
	free(s.mem);
}

/*
 * Control characters: "a\tb" puts b in column 8; "abc\rX" overwrites a;
 * "ab\bC" overwrites b; a tab past the last column wraps the next character.
 * Expect: rows "a       b", "Xbc", "aC", then "0123456789" / "Z".
 */
static void test_controls(void)
{
	struct screen s = screen_new(80, 16 * 6, BOOTINFO_FB_RGBX, 4, 0, NULL);
	struct fbcon c;
	int st = fbcon_init(&c, s.mem, &s.fb);
	REQUIRE(st == FBCON_OK, "init");
	const char *t = "a\tb\nabc\rX\nab\bC\n012345678\tZ";
	fbcon_write(&c, t, strlen(t));
	const char *want[] = {"a       b", "Xbc", "aC", "012345678", "Z"};
	char got[64];
	for (uint32_t r = 0; r < 5; r++) {
		decode_row(&s, r, got);
		CHECK(!strcmp(got, want[r]), "row %u \"%s\" want \"%s\"", r, got, want[r]);
	}
	free(s.mem);
}

/* Bytes outside printable ASCII (a C0 control, UTF-8, DEL).
 * Expect: each draws the fallback glyph, which decodes to 0xff. */
static void test_fallback(void)
{
	struct screen s = screen_new(80, 32, BOOTINFO_FB_RGBX, 4, 0, NULL);
	struct fbcon c;
	int st = fbcon_init(&c, s.mem, &s.fb);
	REQUIRE(st == FBCON_OK, "init");
	fbcon_write(&c, "A\x01\xc3\xa9\x7f", 5);
	CHECK(decode_cell(&s, 0, 0) == 'A', "cell 0");
	for (uint32_t i = 1; i < 5; i++)
		CHECK(decode_cell(&s, i, 0) == 0xff, "cell %u = %d", i, decode_cell(&s, i, 0));
	free(s.mem);
}

/* Framebuffers fbcon cannot use.  Expect: the status named for each. */
static void test_bad_framebuffers(void)
{
	static const uint32_t gap[3] = {0xf0f0, 0x0f00, 0x000f};
	static const uint32_t none[3] = {0, 0xff00, 0xff};
	struct fbcon c;
	struct screen s = screen_new(64, 32, 3 /* PixelBltOnly */, 4, 0, NULL);
	CHECK(fbcon_init(&c, s.mem, &s.fb) == FBCON_EFORMAT, "BltOnly accepted");
	s.fb.format = BOOTINFO_FB_BITMASK;
	s.fb.red_mask = gap[0]; s.fb.green_mask = gap[1]; s.fb.blue_mask = gap[2];
	CHECK(fbcon_init(&c, s.mem, &s.fb) == FBCON_EFORMAT, "mask with a gap accepted");
	s.fb.red_mask = none[0]; s.fb.green_mask = none[1]; s.fb.blue_mask = none[2];
	CHECK(fbcon_init(&c, s.mem, &s.fb) == FBCON_EFORMAT, "empty mask accepted");
	s.fb.format = BOOTINFO_FB_RGBX;
	s.fb.pitch = 63 * 4;
	CHECK(fbcon_init(&c, s.mem, &s.fb) == FBCON_ESIZE, "short pitch accepted");
	s.fb.pitch = 64 * 4;
	s.fb.size -= 1;
	CHECK(fbcon_init(&c, s.mem, &s.fb) == FBCON_ESIZE, "short size accepted");
	s.fb.size += 1;
	s.fb.width = FONT_W - 1;
	CHECK(fbcon_init(&c, s.mem, &s.fb) == FBCON_ESIZE, "width < one cell accepted");
	free(s.mem);
}

/* fbcon_fill_rect partly and wholly off screen.  Expect: the visible part is
 * filled, nothing outside the buffer is written (ASan watches). */
static void test_fill_rect_clips(void)
{
	struct screen s = screen_new(40, 20, BOOTINFO_FB_RGBX, 4, 0, NULL);
	struct fbcon c;
	int st = fbcon_init(&c, s.mem, &s.fb);
	REQUIRE(st == FBCON_OK, "init");
	fbcon_fill_rect(&c, 30, 15, 100, 100, 0x00ff00);
	fbcon_fill_rect(&c, 40, 0, 5, 5, 0xff0000);
	fbcon_fill_rect(&c, 0, 20, 5, 5, 0xff0000);
	CHECK(screen_rgb(&s, 39, 19) == 0x00ff00, "corner %06x", screen_rgb(&s, 39, 19));
	CHECK(screen_rgb(&s, 29, 19) == 0, "left of rect %06x", screen_rgb(&s, 29, 19));
	free(s.mem);
}

/*
 * Read-back detector.  Every pixel of a 32-bit BGRX screen gets a code of
 * its own behind fbcon's back: CODE_MARK (in the X byte, which no colour
 * fbcon makes ever sets) | its index.  fbcon only stores colours, so later
 * each pixel holds either a colour (X byte 0) or its own code.  A pixel
 * holding another pixel's code was copied from video memory (a memmove
 * scroll, a read-modify-write blit).  Returns the number of such pixels.
 */
#define CODE_MARK 0x80000000u

static void code_pixels(struct screen *s)
{
	for (uint32_t y = 0; y < s->fb.height; y++)
		for (uint32_t x = 0; x < s->fb.width; x++) {
			uint32_t v = CODE_MARK | (y * s->fb.width + x);
			memcpy(s->mem + (size_t)y * s->fb.pitch + (size_t)x * 4, &v, 4);
		}
}

static uint32_t moved_pixels(const struct screen *s)
{
	uint32_t moved = 0;

	for (uint32_t y = 0; y < s->fb.height; y++)
		for (uint32_t x = 0; x < s->fb.width; x++) {
			uint32_t v;
			memcpy(&v, s->mem + (size_t)y * s->fb.pitch + (size_t)x * 4, 4);
			if ((v & CODE_MARK) && v != (CODE_MARK | (y * s->fb.width + x)))
				moved++;
		}
	return moved;
}

/*
 * The console never reads video memory: 300 lines (scrolling), rectangles
 * on text rows (kept and scrolled as the memory-map picture's bars), more
 * lines, on a coded screen.  Expect: no pixel holds another's code.
 * Control: the old scroll (memmove of the text rows up by one cell row) on
 * a coded screen is detected.
 */
static void test_never_reads_framebuffer(void)
{
	static struct fbcon c;
	struct screen s = screen_new(203, 16 * 10 + 5, BOOTINFO_FB_BGRX, 4, 12, NULL);
	char line[64];

	REQUIRE(fbcon_init(&c, s.mem, &s.fb) == FBCON_OK, "init");
	code_pixels(&s);
	for (int i = 0; i < 300; i++) {
		int l = snprintf(line, sizeof(line), "line %d of the read-back test\n", i);
		fbcon_write(&c, line, (size_t)l);
		if (i % 50 == 7)
			fbcon_fill_rect(&c, 20, c.row * FONT_H + 2, 100, FONT_H - 4, 0x3cb44b);
	}
	CHECK(moved_pixels(&s) == 0, "%u pixels copied from video memory", moved_pixels(&s));
	CHECK(c.rects_lost == 0, "%llu rectangles lost", (unsigned long long)c.rects_lost);

	/* Control: one scroll as fbcon did it before it kept the text in RAM. */
	code_pixels(&s);
	size_t row_bytes = (size_t)FONT_H * s.fb.pitch;
	memmove(s.mem, s.mem + row_bytes, (c.rows - 1) * row_bytes);
	CHECK(moved_pixels(&s) == (c.rows - 1) * FONT_H * s.fb.width,
	      "control: memmove scroll shows %u moved pixels", moved_pixels(&s));
	free(s.mem);
}

/*
 * A burst: 200 lines in one fbcon_write (as the early-output replay is) on
 * a 40 x 10 console.  Expect: the screen shows the last lines (model), and
 * at most one screenful of text area was stored (width * rows * FONT_H
 * pixels).  Control: the same lines one call each store far more (every
 * line scrolls and redraws the cells that changed), at least 10 screenfuls,
 * so the counter does count.
 */
static void test_burst_draws_one_screenful(void)
{
	static struct fbcon c;
	static char text[16384];
	size_t n = 0;
	struct screen s = screen_new(320, 16 * 10, BOOTINFO_FB_RGBX, 4, 0, NULL);

	for (int i = 1; i <= 200; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "burst line %d, text %x\n", i, i * 7919);
	REQUIRE(fbcon_init(&c, s.mem, &s.fb) == FBCON_OK, "init");
	uint64_t screenful = (uint64_t)s.fb.width * c.rows * FONT_H;
	uint64_t before = c.px_written;
	fbcon_write(&c, text, n);
	uint64_t burst = c.px_written - before;
	check_text(&s, text, "burst");
	CHECK(burst <= screenful, "burst stored %llu pixels, a screenful is %llu",
	      (unsigned long long)burst, (unsigned long long)screenful);

	REQUIRE(fbcon_init(&c, s.mem, &s.fb) == FBCON_OK, "init 2");
	before = c.px_written;
	for (size_t i = 0; i < n;) {
		size_t e = i;
		while (text[e] != '\n')
			e++;
		fbcon_write(&c, text + i, e + 1 - i);
		i = e + 1;
	}
	uint64_t per_line = c.px_written - before;
	check_text(&s, text, "per line");
	CHECK(per_line >= 10 * screenful, "control: line by line stored only %llu pixels",
	      (unsigned long long)per_line);
	free(s.mem);
}

/*
 * Rectangles scroll with their line and text written later over them wins:
 * a bar on row 1 of 3 under "X" written after it, then 2 more lines scroll it to
 * row 0 (a scroll: redrawn from RAM).  Expect: the bar's colour at its pixel
 * on row 0, and the cell written after the bar decodes as "X".
 */
static void test_rect_scrolls_with_text(void)
{
	static struct fbcon c;
	struct screen s = screen_new(80, 16 * 3, BOOTINFO_FB_RGBX, 4, 0, NULL);

	REQUIRE(fbcon_init(&c, s.mem, &s.fb) == FBCON_OK, "init");
	fbcon_write(&c, "a\nbb", 4);
	fbcon_fill_rect(&c, 16, FONT_H + 2, 40, FONT_H - 4, 0x00ff00);
	fbcon_write(&c, "X", 1);
	fbcon_write(&c, "\nc\n", 3);    /* one scroll: "bbX" is row 0 */
	char got[16];
	decode_row(&s, 1, got);
	CHECK(!strcmp(got, "c"), "row 1 \"%s\"", got);
	CHECK(screen_rgb(&s, 40, 2) == 0x00ff00, "bar pixel %06x", screen_rgb(&s, 40, 2));
	CHECK(screen_rgb(&s, 40, 1) == 0, "above bar %06x", screen_rgb(&s, 40, 1));
	CHECK(decode_cell(&s, 0, 0) == 'b' && decode_cell(&s, 1, 0) == 'b',
	      "cells 0,1: %c%c", decode_cell(&s, 0, 0), decode_cell(&s, 1, 0));
	CHECK(decode_cell(&s, 2, 0) == 'X', "cell 2 (written over the bar) %c", decode_cell(&s, 2, 0));
	free(s.mem);
}

int main(void)
{
	RUN(test_formats_and_pitch);
	RUN(test_channel_order);
	RUN(test_scroll_keeps_last_lines);
	RUN(test_first_flush_paints_everything);
	RUN(test_wrap);
	RUN(test_controls);
	RUN(test_fallback);
	RUN(test_bad_framebuffers);
	RUN(test_fill_rect_clips);
	RUN(test_never_reads_framebuffer);
	RUN(test_burst_draws_one_screenful);
	RUN(test_rect_scrolls_with_text);
	return harness_done("fbcon");
}
