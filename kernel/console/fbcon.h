/*
 * kernel/console/fbcon.h - text console on a linear framebuffer (the GOP's).
 *
 * Portable freestanding C: the same file draws into the real framebuffer in
 * the kernel and into a malloc'ed buffer in tests/host/test_fbcon.c.  It
 * needs nothing but __builtin_memcpy for unaligned pixel stores.
 *
 * Write-only: the console never reads video memory (reads of a framebuffer
 * are uncached, across PCIe on a real PC, and slow under QEMU TCG).  The
 * text lives in RAM as a grid of cells (byte, foreground, background) kept
 * as a ring of rows, so a scroll is a change of the ring's top row in RAM.
 * A second grid records what is on the glass; fbcon_write changes the RAM
 * grid only and, at its end, draws every cell whose wanted content differs
 * from the glass (fbcon_flush).  A burst of lines therefore costs at most
 * one screenful of pixel stores however many lines it scrolls, and a replay
 * of the early boot output draws only its last screenful.
 * Rectangles from fbcon_fill_rect (the memory-map picture) are kept in RAM
 * too, with the text line they lie on, and move with it when it scrolls
 * (at most FBCON_MAX_RECTS live at a time; past that a rectangle is drawn
 * but lost on the next scroll, counted in rects_lost).
 *
 * Geometry: the screen is cols x rows cells of FONT_W x FONT_H pixels from
 * the top-left corner; leftover pixels on the right and at the bottom stay
 * background.  Text behaves like a simple terminal:
 *   '\n' moves to the start of the next line, '\r' to the start of this one,
 *   '\t' to the next multiple of FBCON_TAB columns, '\b' one cell left;
 *   every other byte draws its glyph (non-ASCII: the fallback glyph).
 *   A line wraps when a character is written past the last column (the
 *   wrap is deferred, so a full line followed by '\n' makes one line break).
 *   Writing below the last row scrolls the text area up by one row and
 *   clears the new bottom row (and its pixels right of the last column) to
 *   the current background.  Pixels below the last row are never scrolled.
 *
 * Pixels: 32-bit RGBX or BGRX, or a bitmask format of 1 to 4 bytes per pixel
 * (e.g. 16-bit 5:6:5); pitch may be larger than width * bytes per pixel.
 * Colours are given as 0xRRGGBB and converted to the native pixel once.
 */
#ifndef KERNEL_FBCON_H
#define KERNEL_FBCON_H

#include <stdint.h>
#include <stddef.h>
#include "shared/bootinfo.h"
#include "kernel/console/font8x16.h"

#define FBCON_TAB 8                 /* tab stops every 8 columns, as on a VT */
#define FBCON_FG_DEFAULT 0xaaaaaa   /* VGA light grey: readable, not glaring */
#define FBCON_BG_DEFAULT 0x000000   /* black: tools/fbdecode.py assumes it */

/* The cell grids are static, sized for a generous maximum, a 4K panel
 * (3840 x 2160 / 8 x 16 = 480 x 135 cells): the console needs no allocator
 * and the kernel's copy lives in .bss (2 grids x 64800 cells x 4 bytes,
 * 506 KiB).  A larger screen uses its top-left 480 x 135 cells; the pixels
 * beyond stay background. */
#define FBCON_MAX_COLS 480
#define FBCON_MAX_ROWS 135
#define FBCON_MAX_CELLS (FBCON_MAX_COLS * FBCON_MAX_ROWS)
/* Colours a cell can name (an 8-bit index); when more are asked for, the
 * ones no longer on screen are dropped (and the screen redrawn once). */
#define FBCON_PALETTE 256
/* Rectangles kept for redraw: the memory-map picture of a 4096-region map
 * needs about two per region plus one per band (96 KiB of .bss). */
#define FBCON_MAX_RECTS 4096

enum fbcon_status {
	FBCON_OK = 0,
	FBCON_EFORMAT,   /* unknown pixel format, or a bitmask with no usable bits */
	FBCON_ESIZE,     /* smaller than one cell, pitch < a line, or size < the lines */
};

/* Where one colour component sits in a native pixel. */
struct fbcon_chan {
	uint8_t shift;   /* bit position of the component's lowest bit */
	uint8_t bits;    /* width in bits; 0: the pixel has no such component */
};

/* One text cell: byte and colours (indices into fbcon.palette). */
struct fbcon_cell {
	uint8_t ch;
	uint8_t fg, bg;
	uint8_t flags;              /* FBCON_CELL_* (fbcon.c) */
};

/* A rectangle of fbcon_fill_rect on one text line: pixels [x, x + w) x
 * [y, y + h) of that line's cell row (y, h < FONT_H + 1). */
struct fbcon_rect {
	uint64_t line;              /* logical line number (see top_line) */
	uint32_t x, w;
	uint8_t y, h;
	uint8_t color;              /* palette index */
};

struct fbcon {
	uint8_t *fb;                /* virtual address of pixel (0, 0) */
	uint32_t width, height;     /* pixels */
	uint32_t pitch;             /* bytes per scan line */
	uint32_t bpp;               /* bytes per pixel, 1..4 */
	struct fbcon_chan red, green, blue;
	uint32_t cols, rows;        /* text cells on the screen */
	uint32_t col, row;          /* cursor cell; col == cols: wrap pending */
	uint8_t fg, bg;             /* current colours, palette indices */
	/* Wanted text: ring of rows; screen row r is ring row (top + r) % rows
	 * and shows logical line top_line + r. */
	struct fbcon_cell text[FBCON_MAX_CELLS];
	uint8_t row_bg[FBCON_MAX_ROWS];   /* per ring row: colour right of the cells */
	uint8_t row_gfx[FBCON_MAX_ROWS];  /* per ring row: has rectangles */
	uint32_t top;
	uint64_t top_line;
	/* On the glass, by screen row (not ring row). */
	struct fbcon_cell shown[FBCON_MAX_CELLS];
	uint16_t shown_margin[FBCON_MAX_ROWS];  /* colour right of the cells */
	uint64_t shown_line[FBCON_MAX_ROWS];    /* line whose rectangles are drawn */
	uint32_t dirty_lo, dirty_hi;      /* screen rows [lo, hi) to compare */
	uint32_t palette[FBCON_PALETTE];  /* native pixel values */
	uint32_t npal;
	struct fbcon_rect rects[FBCON_MAX_RECTS];
	uint32_t nrects;
	uint64_t rects_lost;        /* drawn but not kept: gone after a scroll */
	uint64_t px_written;        /* pixel stores since fbcon_init */
};

/* Returns a static string naming status s ("FBCON_OK", ...). */
const char *fbcon_status_str(int s);

/*
 * fbcon_init - set up console c on the framebuffer fb (as the loader found
 * it) mapped at fb_va and put the cursor home; the text grid is blank and
 * the first fbcon_flush paints the whole screen (until then it shows what
 * the firmware left, apart from the strip below the last text row, cleared
 * now).  Colours start as FBCON_FG_DEFAULT on FBCON_BG_DEFAULT.
 * Returns FBCON_OK, FBCON_EFORMAT or FBCON_ESIZE (c is then unusable).
 */
int fbcon_init(struct fbcon *c, void *fb_va, const struct bootinfo_fb *fb);

/* Writes n bytes of text at the cursor (see the top of this file) into
 * the RAM grid, then draws what changed on screen (fbcon_flush). */
void fbcon_write(struct fbcon *c, const char *s, size_t n);

/* fbcon_write without the flush: the RAM grid only; the screen catches up
 * on the next fbcon_flush (a burst of prints then costs one redraw). */
void fbcon_put(struct fbcon *c, const char *s, size_t n);

/* Draws every cell of the RAM grid that differs from the glass; only ever
 * stores pixels. */
void fbcon_flush(struct fbcon *c);

/* Sets the colours of text written from now on; 0xRRGGBB each.  With more
 * than FBCON_PALETTE colours on screen at once the newest replaces the
 * last palette entry (cells that used it change colour). */
void fbcon_set_colors(struct fbcon *c, uint32_t fg_rgb, uint32_t bg_rgb);

/* Returns the native pixel value of colour rgb (0xRRGGBB) on c. */
uint32_t fbcon_pixel(const struct fbcon *c, uint32_t rgb);

/* Fills the pixel rectangle [x, x + w) x [y, y + h) with colour rgb,
 * clipped to the screen; the parts on text rows are remembered with their
 * line and scroll with it, text written later over a cell covers them.
 * Those parts reach the glass on the next fbcon_flush (or fbcon_write),
 * each row redrawn once however many rectangles it got; parts below the
 * text rows are drawn at once. */
void fbcon_fill_rect(struct fbcon *c, uint32_t x, uint32_t y, uint32_t w,
		     uint32_t h, uint32_t rgb);

/*
 * The screen console of the kernel: kmain allocates it (kalloc: the cell
 * grids are ~620 KiB, taken only when there is a framebuffer, not kept in
 * the kernel image), initialises it with fbcon_init and registers
 * fbcon_screen_write with console_add_sink, so every byte the kernel
 * prints is also drawn on screen.  NULL without a screen.
 */
extern struct fbcon *fbcon_screen;
void fbcon_screen_write(const char *s, size_t n);
void fbcon_screen_flush(void);

#endif
