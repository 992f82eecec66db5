/*
 * kernel/console/fbcon.c - text console on a linear framebuffer; see kernel/console/fbcon.h.
 */
#include "kernel/console/fbcon.h"

/* fbcon_cell.flags */
#define CELL_GFX   0x01   /* rectangles were drawn over this cell's glyph */
#define CELL_STALE 0x80   /* shown grid only: the glass is unknown, redraw */
/* shown_line / shown_margin values that name no line / colour. */
#define LINE_NONE  UINT64_MAX           /* no rectangles on the glass */
#define LINE_STALE (UINT64_MAX - 1)     /* rectangles kept, not yet on the glass */
#define LINE_STALE (UINT64_MAX - 1)     /* unknown: redraw the whole row */
#define MARGIN_STALE 0xffffu

struct fbcon *fbcon_screen;

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
 * to single moves.  The only access fbcon makes to video memory. */
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
	uint64_t two = ((uint64_t)v << 32) | v;

	for (uint32_t j = 0; j < h; j++) {
		uint8_t *p = pixel_at(c, x, y + j);
		uint32_t i = 0;
		if (c->bpp == 4) /* two pixels per store: half the stores */
			for (; i + 2 <= w; i += 2, p += 8)
				__builtin_memcpy(p, &two, 8);
		for (; i < w; i++, p += c->bpp)
			put_pixel(c, p, v);
	}
	c->px_written += (uint64_t)w * h;
}

/* Returns the cell of screen row r, column col in the wanted grid. */
static inline struct fbcon_cell *text_cell(struct fbcon *c, uint32_t col, uint32_t r)
{
	uint32_t ring = (c->top + r) % c->rows;

	return &c->text[ring * c->cols + col];
}

static inline uint32_t ring_row(const struct fbcon *c, uint32_t r)
{
	return (c->top + r) % c->rows;
}

static inline int cell_eq(struct fbcon_cell a, struct fbcon_cell b)
{
	return a.ch == b.ch && a.fg == b.fg && a.bg == b.bg && a.flags == b.flags;
}

/* Marks screen rows [lo, hi) for comparison at the next flush. */
static void mark_dirty(struct fbcon *c, uint32_t lo, uint32_t hi)
{
	if (c->dirty_lo >= c->dirty_hi) {
		c->dirty_lo = lo;
		c->dirty_hi = hi;
		return;
	}
	if (lo < c->dirty_lo)
		c->dirty_lo = lo;
	if (hi > c->dirty_hi)
		c->dirty_hi = hi;
}

/* Drops the rectangles of lines that have scrolled off the screen. */
static void rects_compact(struct fbcon *c)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < c->nrects; i++)
		if (c->rects[i].line >= c->top_line)
			c->rects[k++] = c->rects[i];
	c->nrects = k;
}

/* Makes the glass unknown: the next flush redraws every row. */
static void shown_invalidate(struct fbcon *c)
{
	for (uint32_t i = 0; i < c->rows * c->cols; i++)
		c->shown[i].flags = CELL_STALE;
	for (uint32_t r = 0; r < c->rows; r++) {
		c->shown_margin[r] = MARGIN_STALE;
		c->shown_line[r] = LINE_STALE;
	}
	mark_dirty(c, 0, c->rows);
}

/* Returns the new index of palette entry i during a collection: the
 * entry is moved to the front of pal (n entries so far). */
static uint8_t pal_keep(uint16_t map[FBCON_PALETTE], uint32_t pal[FBCON_PALETTE],
			uint32_t *n, const uint32_t *old, uint8_t i)
{
	if (map[i] == 0xffff) {
		map[i] = (uint16_t)*n;
		pal[(*n)++] = old[i];
	}
	return (uint8_t)map[i];
}

/* Drops the palette entries nothing in the RAM grid, the rectangles kept
 * or the current colours uses; the glass is then redrawn once. */
static void pal_collect(struct fbcon *c)
{
	uint16_t map[FBCON_PALETTE];
	uint32_t pal[FBCON_PALETTE], n = 0;

	for (uint32_t i = 0; i < FBCON_PALETTE; i++)
		map[i] = 0xffff;
	rects_compact(c);
	c->fg = pal_keep(map, pal, &n, c->palette, c->fg);
	c->bg = pal_keep(map, pal, &n, c->palette, c->bg);
	for (uint32_t i = 0; i < c->rows * c->cols; i++) {
		c->text[i].fg = pal_keep(map, pal, &n, c->palette, c->text[i].fg);
		c->text[i].bg = pal_keep(map, pal, &n, c->palette, c->text[i].bg);
	}
	for (uint32_t r = 0; r < c->rows; r++)
		c->row_bg[r] = pal_keep(map, pal, &n, c->palette, c->row_bg[r]);
	for (uint32_t i = 0; i < c->nrects; i++)
		c->rects[i].color = pal_keep(map, pal, &n, c->palette, c->rects[i].color);
	for (uint32_t i = 0; i < n; i++)
		c->palette[i] = pal[i];
	c->npal = n;
	shown_invalidate(c);
}

/* Returns the palette index of native colour v, adding it if new. */
static uint8_t pal_index(struct fbcon *c, uint32_t v)
{
	for (uint32_t i = 0; i < c->npal; i++)
		if (c->palette[i] == v)
			return (uint8_t)i;
	if (c->npal == FBCON_PALETTE)
		pal_collect(c);
	if (c->npal == FBCON_PALETTE)
		c->npal--;      /* every entry on screen: the last one is reused */
	c->palette[c->npal] = v;
	return (uint8_t)c->npal++;
}

/* Fills ring row ring with blanks in the current colours. */
static void clear_ring_row(struct fbcon *c, uint32_t ring)
{
	struct fbcon_cell blank = {' ', c->fg, c->bg, 0};

	for (uint32_t i = 0; i < c->cols; i++)
		c->text[ring * c->cols + i] = blank;
	c->row_bg[ring] = c->bg;
	c->row_gfx[ring] = 0;
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
	if (c->cols > FBCON_MAX_COLS)
		c->cols = FBCON_MAX_COLS;
	if (c->rows > FBCON_MAX_ROWS)
		c->rows = FBCON_MAX_ROWS;
	c->col = c->row = 0;
	c->npal = 0;
	c->nrects = 0;
	c->rects_lost = 0;
	c->px_written = 0;
	c->top = 0;
	c->top_line = 0;
	c->dirty_lo = c->dirty_hi = 0;
	fbcon_set_colors(c, FBCON_FG_DEFAULT, FBCON_BG_DEFAULT);
	for (uint32_t r = 0; r < c->rows; r++)
		clear_ring_row(c, r);
	/* What the firmware left on the glass is unknown: the first flush
	 * draws every cell and margin (one write per pixel; a clear first
	 * would be a second).  Only the strip below the last text row, which
	 * no cell covers, is cleared now. */
	shown_invalidate(c);
	if (c->rows * FONT_H < c->height)
		fill_native(c, 0, c->rows * FONT_H, c->width, c->height - c->rows * FONT_H,
			    c->palette[c->bg]);
	return FBCON_OK;
}

void fbcon_set_colors(struct fbcon *c, uint32_t fg_rgb, uint32_t bg_rgb)
{
	/* One at a time: a collection in the second call renumbers c->fg. */
	c->fg = pal_index(c, fbcon_pixel(c, fg_rgb));
	c->bg = pal_index(c, fbcon_pixel(c, bg_rgb));
}

/* Draws cell k in cell (col, r) of the glass and records it as shown. */
static void draw_cell(struct fbcon *c, uint32_t col, uint32_t r, struct fbcon_cell k)
{
	const uint8_t *g = font8x16_glyph(k.ch);
	uint32_t fg = c->palette[k.fg], bg = c->palette[k.bg];

	if (c->bpp == 4) {
		/* Pixel pairs, indexed by two glyph bits (the left pixel is the
		 * higher bit): 4 eight-byte stores per glyph row, not 8. */
		uint64_t pair[4] = {
			((uint64_t)bg << 32) | bg, ((uint64_t)fg << 32) | bg,
			((uint64_t)bg << 32) | fg, ((uint64_t)fg << 32) | fg,
		};
		for (uint32_t y = 0; y < FONT_H; y++) {
			uint8_t *p = pixel_at(c, col * FONT_W, r * FONT_H + y);
			for (uint32_t x = 0; x < FONT_W; x += 2, p += 8)
				__builtin_memcpy(p, &pair[(g[y] >> (FONT_W - 2 - x)) & 3], 8);
		}
	} else {
		for (uint32_t y = 0; y < FONT_H; y++) {
			uint8_t *p = pixel_at(c, col * FONT_W, r * FONT_H + y);
			for (uint32_t x = 0; x < FONT_W; x++, p += c->bpp)
				put_pixel(c, p, (g[y] & (0x80 >> x)) ? fg : bg);
		}
	}
	c->px_written += FONT_W * FONT_H;
	c->shown[r * c->cols + col] = k;
}

/* Fills the pixels right of the last cell on screen row r with palette
 * colour idx and records it as shown. */
static void draw_margin(struct fbcon *c, uint32_t r, uint8_t idx)
{
	uint32_t x = c->cols * FONT_W;

	if (x < c->width)
		fill_native(c, x, r * FONT_H, c->width - x, FONT_H, c->palette[idx]);
	c->shown_margin[r] = idx;
}

/* Redraws screen row r completely: cells, margin, the rectangles of its
 * line in the order they were drawn, then the cells written after them. */
static void redraw_row(struct fbcon *c, uint32_t r)
{
	uint64_t line = c->top_line + r;
	uint32_t ring = ring_row(c, r);

	for (uint32_t col = 0; col < c->cols; col++)
		draw_cell(c, col, r, c->text[ring * c->cols + col]);
	draw_margin(c, r, c->row_bg[ring]);
	c->shown_line[r] = LINE_NONE;
	if (!c->row_gfx[ring])
		return;
	for (uint32_t i = 0; i < c->nrects; i++) {
		const struct fbcon_rect *q = &c->rects[i];
		if (q->line == line)
			fill_native(c, q->x, r * FONT_H + q->y, q->w, q->h, c->palette[q->color]);
	}
	for (uint32_t i = 0; i < c->nrects; i++) {
		const struct fbcon_rect *q = &c->rects[i];
		if (q->line != line)
			continue;
		for (uint32_t col = q->x / FONT_W; col < c->cols && col * FONT_W < q->x + q->w; col++) {
			struct fbcon_cell k = c->text[ring * c->cols + col];
			if (!(k.flags & CELL_GFX))
				draw_cell(c, col, r, k);
		}
	}
	c->shown_line[r] = line;
}

void fbcon_flush(struct fbcon *c)
{
	for (uint32_t r = c->dirty_lo; r < c->dirty_hi; r++) {
		uint32_t ring = ring_row(c, r);
		uint64_t want = c->row_gfx[ring] ? c->top_line + r : LINE_NONE;

		if (c->shown_line[r] != want) {
			redraw_row(c, r);
			continue;
		}
		/* Same rectangles on the glass (or none): a glyph covers its
		 * whole cell, so the cells that differ are all there is to do. */
		for (uint32_t col = 0; col < c->cols; col++) {
			struct fbcon_cell k = c->text[ring * c->cols + col];
			if (!cell_eq(k, c->shown[r * c->cols + col]))
				draw_cell(c, col, r, k);
		}
		if (c->shown_margin[r] != c->row_bg[ring])
			draw_margin(c, r, c->row_bg[ring]);
	}
	c->dirty_lo = c->dirty_hi = 0;
}

/* Moves the cursor to the start of the next line, scrolling the text area
 * up one row (in RAM: the ring's top moves) on the last row. */
static void newline(struct fbcon *c)
{
	c->col = 0;
	if (c->row + 1 < c->rows) {
		c->row++;
		return;
	}
	c->top = (c->top + 1) % c->rows;
	c->top_line++;
	clear_ring_row(c, ring_row(c, c->rows - 1));
	mark_dirty(c, 0, c->rows);
}

/* Records the part of a fill on screen row r, pixels [x, x+w) x [y, y+h)
 * of the row, colour idx, and marks the cells under it; returns 0, or -1
 * if the rectangle table is full (the fill is then not kept). */
static int rect_keep(struct fbcon *c, uint32_t r, uint32_t x, uint32_t w,
		     uint32_t y, uint32_t h, uint8_t idx)
{
	uint32_t ring = ring_row(c, r);

	if (c->nrects == FBCON_MAX_RECTS)
		rects_compact(c);
	if (c->nrects == FBCON_MAX_RECTS) {
		c->rects_lost++;
		return -1;
	}
	c->rects[c->nrects++] = (struct fbcon_rect){c->top_line + r, x, w, (uint8_t)y,
						    (uint8_t)h, idx};
	c->row_gfx[ring] = 1;
	c->shown_line[r] = c->top_line + r;
	for (uint32_t col = x / FONT_W; col < c->cols && col * FONT_W < x + w; col++) {
		c->text[ring * c->cols + col].flags |= CELL_GFX;
		c->shown[r * c->cols + col].flags |= CELL_GFX;
	}
	return 0;
}

void fbcon_fill_rect(struct fbcon *c, uint32_t x, uint32_t y, uint32_t w,
		     uint32_t h, uint32_t rgb)
{
	uint32_t text_h;
	uint8_t idx;

	if (x >= c->width || y >= c->height)
		return;
	if (w > c->width - x)
		w = c->width - x;
	if (h > c->height - y)
		h = c->height - y;
	if (w == 0 || h == 0)
		return;
	idx = pal_index(c, fbcon_pixel(c, rgb));
	text_h = c->rows * FONT_H;
	for (uint32_t yy = y; yy < y + h;) {
		uint32_t r = yy / FONT_H, off = yy % FONT_H;
		uint32_t hh = FONT_H - off;
		if (hh > y + h - yy)
			hh = y + h - yy;
		if (yy < text_h && rect_keep(c, r, x, w, off, hh, idx) == 0) {
			/* Kept: the next flush redraws the row from RAM with
			 * it (one redraw per row, however many bars). */
			c->shown_line[r] = LINE_STALE;
			mark_dirty(c, r, r + 1);
		} else {
			/* Below the text rows nothing scrolls (and a rectangle
			 * the table cannot keep is lost on the next scroll):
			 * drawn now, not kept. */
			fill_native(c, x, yy, w, hh, c->palette[idx]);
		}
		yy += hh;
	}
}

void fbcon_put(struct fbcon *c, const char *s, size_t n)
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
		*text_cell(c, c->col, c->row) = (struct fbcon_cell){ch, c->fg, c->bg, 0};
		mark_dirty(c, c->row, c->row + 1);
		c->col++;
	}
}

/* See fbcon.h. */
void fbcon_write(struct fbcon *c, const char *s, size_t n)
{
	fbcon_put(c, s, n);
	fbcon_flush(c);
}

/* Console sink: puts s into the screen console's grid; the pixels follow
 * on fbcon_screen_flush (console_flush). */
void fbcon_screen_write(const char *s, size_t n)
{
	if (fbcon_screen && fbcon_screen->fb)
		fbcon_put(fbcon_screen, s, n);
}

/* Console flush hook: draws what changed on the screen console. */
void fbcon_screen_flush(void)
{
	if (fbcon_screen && fbcon_screen->fb)
		fbcon_flush(fbcon_screen);
}
