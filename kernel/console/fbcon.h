/*
 * kernel/console/fbcon.h - text console on a linear framebuffer (the GOP's).
 *
 * Portable freestanding C: the same file draws into the real framebuffer in
 * the kernel and into a malloc'ed buffer in tests/host/test_fbcon.c.  It
 * needs nothing but memset/memmove (through __builtin_*).
 *
 * Geometry: the screen is cols x rows cells of FONT_W x FONT_H pixels from
 * the top-left corner; leftover pixels on the right and at the bottom stay
 * background.  Text behaves like a simple terminal:
 *   '\n' moves to the start of the next line, '\r' to the start of this one,
 *   '\t' to the next multiple of FBCON_TAB columns, '\b' one cell left;
 *   every other byte draws its glyph (non-ASCII: the fallback glyph).
 *   A line wraps when a character is written past the last column (the
 *   wrap is deferred, so a full line followed by '\n' makes one line break).
 *   Writing below the last row scrolls the text area up by one row: a
 *   memmove of the pixel rows, then the new bottom row is cleared.
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

struct fbcon {
	uint8_t *fb;                /* virtual address of pixel (0, 0) */
	uint32_t width, height;     /* pixels */
	uint32_t pitch;             /* bytes per scan line */
	uint32_t bpp;               /* bytes per pixel, 1..4 */
	struct fbcon_chan red, green, blue;
	uint32_t cols, rows;        /* text cells on the screen */
	uint32_t col, row;          /* cursor cell; col == cols: wrap pending */
	uint32_t fg, bg;            /* current colours, native pixel values */
};

/* Returns a static string naming status s ("FBCON_OK", ...). */
const char *fbcon_status_str(int s);

/*
 * fbcon_init - set up console c on the framebuffer fb (as the loader found
 * it) mapped at fb_va, clear it to the background and put the cursor home.
 * Colours start as FBCON_FG_DEFAULT on FBCON_BG_DEFAULT.
 * Returns FBCON_OK, FBCON_EFORMAT or FBCON_ESIZE (c is then unusable).
 */
int fbcon_init(struct fbcon *c, void *fb_va, const struct bootinfo_fb *fb);

/* Writes n bytes of text at the cursor (see the top of this file). */
void fbcon_write(struct fbcon *c, const char *s, size_t n);

/* Sets the colours of text written from now on; 0xRRGGBB each. */
void fbcon_set_colors(struct fbcon *c, uint32_t fg_rgb, uint32_t bg_rgb);

/* Returns the native pixel value of colour rgb (0xRRGGBB) on c. */
uint32_t fbcon_pixel(const struct fbcon *c, uint32_t rgb);

/* Fills the pixel rectangle [x, x + w) x [y, y + h) with colour rgb,
 * clipped to the screen. */
void fbcon_fill_rect(struct fbcon *c, uint32_t x, uint32_t y, uint32_t w,
		     uint32_t h, uint32_t rgb);

/*
 * The screen console of the kernel: kmain initialises it with fbcon_init
 * and registers fbcon_screen_write with console_add_sink, so every byte the
 * kernel prints is also drawn on screen.
 */
extern struct fbcon fbcon_screen;
void fbcon_screen_write(const char *s, size_t n);

#endif
