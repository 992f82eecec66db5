/*
 * tests/host/screen.h - read a test framebuffer back, independently of
 * kernel/console/fbcon.c: pixels are decoded to RGB from the pixel format as the
 * UEFI spec defines it (RGBX: byte 0 red; BGRX: byte 0 blue; bitmask: the
 * masks), a pixel is ink when it is not black, and each 8x16 cell's ink bitmap
 * is looked up in the font table.  Used by test_fbcon and test_mmpic.
 */
#ifndef TESTS_HOST_SCREEN_H
#define TESTS_HOST_SCREEN_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "shared/bootinfo.h"
#include "kernel/console/font8x16.h"

#define UNKNOWN '\x01'   /* decoded cell that matches no glyph */
#define JUNK 0x5a        /* fills the buffer before fbcon_init */

struct screen {
	struct bootinfo_fb fb;
	uint8_t *mem;
	uint32_t bpp;        /* bytes per pixel, as the test computes it */
};

/* Allocates a junk-filled framebuffer of width x height pixels in format
 * fmt (masks for BITMASK), with pad extra bytes after each line. */
static inline struct screen screen_new(uint32_t width, uint32_t height, uint32_t fmt,
				uint32_t bpp, uint32_t pad, const uint32_t masks[3])
{
	struct screen s = {0};

	s.bpp = bpp;
	s.fb.width = width;
	s.fb.height = height;
	s.fb.pitch = width * bpp + pad;
	s.fb.size = (uint64_t)s.fb.pitch * height;
	s.fb.format = fmt;
	if (masks) {
		s.fb.red_mask = masks[0];
		s.fb.green_mask = masks[1];
		s.fb.blue_mask = masks[2];
	}
	s.mem = malloc(s.fb.size);
	memset(s.mem, JUNK, s.fb.size);
	return s;
}

/* Returns the 8-bit value of the component under mask m in pixel v. */
static inline uint32_t comp8(uint32_t v, uint32_t m)
{
	uint32_t shift = 0, bits = 0;

	while (!((m >> shift) & 1))
		shift++;
	while (shift + bits < 32 && ((m >> (shift + bits)) & 1))
		bits++;
	v = (v & m) >> shift;
	return bits >= 8 ? v >> (bits - 8) : v << (8 - bits);
}

/* Returns pixel (x, y) of s as 0xRRGGBB, decoded per the UEFI pixel formats. */
static inline uint32_t screen_rgb(const struct screen *s, uint32_t x, uint32_t y)
{
	const uint8_t *p = s->mem + (size_t)y * s->fb.pitch + (size_t)x * s->bpp;
	uint32_t v = 0;

	switch (s->fb.format) {
	case BOOTINFO_FB_RGBX: return (uint32_t)p[0] << 16 | p[1] << 8 | p[2];
	case BOOTINFO_FB_BGRX: return (uint32_t)p[2] << 16 | p[1] << 8 | p[0];
	}
	for (uint32_t i = 0; i < s->bpp; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return comp8(v, s->fb.red_mask) << 16 | comp8(v, s->fb.green_mask) << 8 |
	       comp8(v, s->fb.blue_mask);
}

/* Returns 1 if pixel (x, y) is ink: not the black background
 * (FBCON_BG_DEFAULT), the rule tools/fbdecode.py uses on screendumps. */
static inline int ink(const struct screen *s, uint32_t x, uint32_t y)
{
	return screen_rgb(s, x, y) != 0;
}

/* Returns the character in cell (col, row): ' '..'~', 0xff for the
 * fallback glyph, UNKNOWN if no glyph matches. */
static inline int decode_cell(const struct screen *s, uint32_t col, uint32_t row)
{
	uint8_t bits[FONT_H] = {0};

	for (uint32_t y = 0; y < FONT_H; y++)
		for (uint32_t x = 0; x < FONT_W; x++)
			if (ink(s, col * FONT_W + x, row * FONT_H + y))
				bits[y] |= 0x80 >> x;
	for (int g = 0; g < FONT_NGLYPHS; g++)
		if (!memcmp(bits, font8x16[g], FONT_H))
			return g == FONT_FALLBACK ? 0xff : FONT_FIRST + g;
	return UNKNOWN;
}

/* Decodes screen row `row` into out (cols chars + NUL), trailing blanks cut. */
static inline void decode_row(const struct screen *s, uint32_t row, char *out)
{
	uint32_t cols = s->fb.width / FONT_W, n = 0;

	for (uint32_t c = 0; c < cols; c++)
		out[c] = (char)decode_cell(s, c, row);
	for (uint32_t c = 0; c < cols; c++)
		if (out[c] != ' ')
			n = c + 1;
	out[n] = 0;
}

#endif
