/*
 * kernel/console/mmpic.h - a picture of the physical memory map on the framebuffer
 * console, drawn after the text dump so a person sees at a glance where RAM,
 * holes and firmware regions lie.
 *
 * Scale: one text row per address band, linear within the row.
 *   band 0 is [0, 1 MiB); band k >= 1 is [2^(19+k), 2^(20+k)): 1M-2M, 2M-4M,
 *   4M-8M, ..., so every band is as long as all the bands before it
 *   together; the last band ends at the first power of two >= the end of
 *   the map.
 * Why: a purely linear bar cannot show both a 4 KiB ACPI table and 1 TiB of
 * RAM; a log bar squeezes the big RAM ranges into a sliver.  Doubling bands
 * keep each range linear at a resolution proportional to its address (the
 * first MiB at ~2 KiB per pixel, [512G, 1T) at under 1 GiB per pixel), and
 * a 512 MiB map needs 11 rows below 1 GiB, a 1 TiB map 21.  A region smaller
 * than a pixel is still drawn one pixel wide, on top of its neighbours.
 *
 * Layout, in text cells of the console, from the cursor's line on:
 *   mmpic: <title and scale>
 *   "  <lo> " label (MMPIC_LABEL_COLS cells, band start right-aligned:
 *          0, 1M, 2M, ... 512G, 1T), then the bar over cells
 *          [MMPIC_LABEL_COLS, cols - 1), inset MMPIC_BAR_INSET pixels from
 *          the top and bottom of the row; address lo + (hi - lo) * i / W at
 *          bar pixel i of W.
 *   legend lines: for each type a swatch of 2 cells, a blank, the name.
 * Pixels of the bar not covered by any region have the "hole" colour.
 */
#ifndef KERNEL_MMPIC_H
#define KERNEL_MMPIC_H

#include <stddef.h>
#include "kernel/console/fbcon.h"
#include "mm/memmap.h"

#define MMPIC_LABEL_COLS 6      /* "  512G " fits: 5 characters and a blank */
#define MMPIC_BAR_INSET 2       /* blank pixel lines above and below a bar */
#define MMPIC_MIN_COLS 24       /* narrower consoles get no picture */
#define MMPIC_BAND0_SIZE (1ULL << 20)  /* band 0: the first MiB, legacy area */

/*
 * mmpic_draw - draw the picture of map (n regions, sorted or not, from
 * memmap_sanitize) at the cursor of console c, which scrolls as needed; the
 * cursor ends on the line after the legend.  Draws nothing if c has fewer
 * than MMPIC_MIN_COLS columns.
 */
void mmpic_draw(struct fbcon *c, const struct mm_region *map, size_t n);

#endif
