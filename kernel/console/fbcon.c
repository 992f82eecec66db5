/*
 * kernel/console/fbcon.c - text console on a linear framebuffer; see kernel/console/fbcon.h.
 */
#include "kernel/console/fbcon.h"

struct fbcon fbcon_screen;

/* Returns a static string naming status s. */
const char *fbcon_status_str(int s)
{
	switch (s) {
	case FBCON_OK:      return "FBCON_OK";
	case FBCON_EFORMAT: return "FBCON_EFORMAT";
	case FBCON_ESIZE:   return "FBCON_ESIZE";
	}
	return "FBCON_?";
}

/* Describes the contiguous bit mask m as a channel in *ch; returns 0, or -1
 * if m is zero or has a gap (no such pixel format exists). */
static int chan_from_mask(uint32_t m, struct fbcon_chan *ch)
{
	if (m == 0)
		return -1;
	ch->shift = (uint8_t)__builtin_ctz(m);
	ch->bits = (uint8_t)__builtin_popcount(m);
	if (ch->bits < 32 && (m >> ch->shift) != (1u << ch->bits) - 1)
		return -1;
	return 0;
}

/* Fills in c's pixel layout from fb's format; returns FBCON_OK or
 * FBCON_EFORMAT. */
static int setup_format(struct fbcon *c, const struct bootinfo_fb *fb)
{
	uint32_t all;

	switch (fb->format) {
	case BOOTINFO_FB_RGBX:   /* little-endian pixel: red is the low byte */
		c->red = (struct fbcon_chan){0, 8};
		c->green = (struct fbcon_chan){8, 8};
		c->blue = (struct fbcon_chan){16, 8};
		c->bpp = 4;
		return FBCON_OK;
	case BOOTINFO_FB_BGRX:
		c->blue = (struct fbcon_chan){0, 8};
		c->green = (struct fbcon_chan){8, 8};
		c->red = (struct fbcon_chan){16, 8};
		c->bpp = 4;
		return FBCON_OK;
	case BOOTINFO_FB_BITMASK:
		if (chan_from_mask(fb->red_mask, &c->red) ||
		    chan_from_mask(fb->green_mask, &c->green) ||
		    chan_from_mask(fb->blue_mask, &c->blue))
			return FBCON_EFORMAT;
		/* The pixel is as wide as its highest used bit needs. */
		all = fb->red_mask | fb->green_mask | fb->blue_mask | fb->reserved_mask;
		c->bpp = (32 - (uint32_t)__builtin_clz(all) + 7) / 8;
		return FBCON_OK;
	}
	return FBCON_EFORMAT;
}

/* Returns the address of pixel (x, y); assumes it is on the screen. */
static inline uint8_t *pixel_at(const struct fbcon *c, uint32_t x, uint32_t y)
{
	return c->fb + (size_t)y * c->pitch + (size_t)x * c->bpp;
}

/* Stores native pixel value v at p, c->bpp bytes, little-endian (x86).
 * p need not be aligned (a pitch may be odd); the fixed-size copies compile
 * to single moves. */
static inline void put_pixel(const struct fbcon *c, uint8_t *p, uint32_t v)
{
	uint16_t v16 = (uint16_t)v;

	switch (c->bpp) {
	case 4: __builtin_memcpy(p, &v, 4); break;
	case 2: __builtin_memcpy(p, &v16, 2); break;
	default:
		for (uint32_t i = 0; i < c->bpp; i++)
			p[i] = (uint8_t)(v >> (8 * i));
	}
}

/* Returns the 8-bit component v scaled to the width of channel ch and
 * shifted to its place in a native pixel. */
static uint32_t chan_value(struct fbcon_chan ch, uint32_t v)
{
	if (ch.bits == 0)
		return 0;
	if (ch.bits <= 8)
		v >>= 8 - ch.bits;
	else
		v <<= ch.bits - 8;
	return v << ch.shift;
}

uint32_t fbcon_pixel(const struct fbcon *c, uint32_t rgb)
{
	return chan_value(c->red, (rgb >> 16) & 0xff) |
	       chan_value(c->green, (rgb >> 8) & 0xff) |
	       chan_value(c->blue, rgb & 0xff);
}

/* Fills pixel rectangle [x, x+w) x [y, y+h) with native value v; the
 * rectangle must be on the screen. */
static void fill_native(struct fbcon *c, uint32_t x, uint32_t y, uint32_t w,
			uint32_t h, uint32_t v)
{
	for (uint32_t j = 0; j < h; j++) {
		uint8_t *p = pixel_at(c, x, y + j);
		for (uint32_t i = 0; i < w; i++, p += c->bpp)
			put_pixel(c, p, v);
	}
}

void fbcon_fill_rect(struct fbcon *c, uint32_t x, uint32_t y, uint32_t w,
		     uint32_t h, uint32_t rgb)
{
	if (x >= c->width || y >= c->height)
		return;
	if (w > c->width - x)
		w = c->width - x;
	if (h > c->height - y)
		h = c->height - y;
	fill_native(c, x, y, w, h, fbcon_pixel(c, rgb));
}

int fbcon_init(struct fbcon *c, void *fb_va, const struct bootinfo_fb *fb)
{
	int s = setup_format(c, fb);

	if (s != FBCON_OK)
		return s;
	if (fb->width < FONT_W || fb->height < FONT_H ||
	    fb->pitch < (uint64_t)fb->width * c->bpp ||
	    fb->size < (uint64_t)fb->pitch * fb->height)
		return FBCON_ESIZE;
	c->fb = fb_va;
	c->width = fb->width;
	c->height = fb->height;
	c->pitch = fb->pitch;
	c->cols = fb->width / FONT_W;
	c->rows = fb->height / FONT_H;
	c->col = c->row = 0;
	fbcon_set_colors(c, FBCON_FG_DEFAULT, FBCON_BG_DEFAULT);
	fill_native(c, 0, 0, c->width, c->height, c->bg);
	return FBCON_OK;
}

void fbcon_set_colors(struct fbcon *c, uint32_t fg_rgb, uint32_t bg_rgb)
{
	c->fg = fbcon_pixel(c, fg_rgb);
	c->bg = fbcon_pixel(c, bg_rgb);
}

/* Draws byte ch in cell (col, row), which must be on the screen. */
static void draw_glyph(struct fbcon *c, uint32_t col, uint32_t row, unsigned char ch)
{
	const uint8_t *g = font8x16_glyph(ch);

	for (uint32_t y = 0; y < FONT_H; y++) {
		uint8_t *p = pixel_at(c, col * FONT_W, row * FONT_H + y);
		for (uint32_t x = 0; x < FONT_W; x++, p += c->bpp)
			put_pixel(c, p, (g[y] & (0x80 >> x)) ? c->fg : c->bg);
	}
}

/* Moves the cursor to the start of the next line, scrolling the text area
 * up one row when the cursor is on the last row. */
static void newline(struct fbcon *c)
{
	size_t row_bytes = (size_t)FONT_H * c->pitch;

	c->col = 0;
	if (c->row + 1 < c->rows) {
		c->row++;
		return;
	}
	__builtin_memmove(c->fb, c->fb + row_bytes, (c->rows - 1) * row_bytes);
	fill_native(c, 0, (c->rows - 1) * FONT_H, c->width, FONT_H, c->bg);
}

void fbcon_write(struct fbcon *c, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		switch (ch) {
		case '\n':
			newline(c);
			continue;
		case '\r':
			c->col = 0;
			continue;
		case '\b':
			if (c->col > 0)
				c->col--;
			continue;
		case '\t':
			c->col = (c->col / FBCON_TAB + 1) * FBCON_TAB;
			if (c->col > c->cols)
				c->col = c->cols;
			continue;
		}
		if (c->col >= c->cols)
			newline(c);
		draw_glyph(c, c->col, c->row, ch);
		c->col++;
	}
}

/* Console sink: draws s on the screen console. */
void fbcon_screen_write(const char *s, size_t n)
{
	if (fbcon_screen.fb)
		fbcon_write(&fbcon_screen, s, n);
}
