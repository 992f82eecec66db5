#!/usr/bin/env python3
"""tools/fbdecode.py SCREEN.ppm [--font FILE] [--bg RRGGBB] [--log LOG [--min-lines N]] [--png OUT]

Reads a screen dump (binary PPM "P6", as QEMU's `screendump` writes it) of
memboot's framebuffer console and decodes the text back from the pixels with
the kernel's own font table (kernel/console/font8x16.c, parsed here).

The console draws 8x16 cells from the top-left corner on a black background
(kernel/console/fbcon.h), so each cell's ink bitmap (pixels that are not the
background colour) is looked up among the glyphs.  A cell that matches no
glyph (a bar or swatch of the memory-map picture) prints as U+2592.

Without --log: prints the decoded screen, one line per text row, trailing
blanks cut.  With --log LOG (what the kernel printed, e.g. a debugcon or
serial capture): checks that every text row of the screen - not blank, no
undecodable cell, not a line of the picture ("mmpic:") - appears, in order,
among the lines of LOG cut to the screen's width the way the console wraps
them, and that there are at least N (default 3) such rows.  Exit status 0
when the check passes, 1 with the reason otherwise, 2 on bad input.
--png OUT also writes the dump as a PNG (for the README screenshot).
"""
import argparse
import os
import re
import struct
import sys
import zlib

FONT_W, FONT_H = 8, 16
FIRST = 0x20
TAB = 8
UNKNOWN = "\u2592"
FALLBACK = "\ufffd"


def read_ppm(path):
    """Returns (width, height, bytes of RGB triples) of a binary PPM."""
    with open(path, "rb") as f:
        data = f.read()
    tokens, pos = [], 0
    while len(tokens) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if pos >= len(data):
            sys.exit("fbdecode: %s: truncated PPM header" % path)
        if data[pos:pos + 1] == b"#":
            nl = data.find(b"\n", pos)
            if nl < 0:
                sys.exit("fbdecode: %s: truncated PPM header" % path)
            pos = nl + 1
            continue
        end = pos
        while end < len(data) and not data[end:end + 1].isspace():
            end += 1
        tokens.append(data[pos:end])
        pos = end
    pos += 1  # the single whitespace byte before the raster
    if tokens[0] != b"P6" or not all(t.isdigit() for t in tokens[1:]) or int(tokens[3]) > 255:
        sys.exit("fbdecode: %s: not an 8-bit binary PPM (P6)" % path)
    w, h = int(tokens[1]), int(tokens[2])
    raster = data[pos:pos + 3 * w * h]
    if len(raster) != 3 * w * h:
        sys.exit("fbdecode: %s: short raster" % path)
    return w, h, raster


def read_font(path):
    """Returns {glyph rows as a 16-byte bytes: character} from font8x16.c."""
    with open(path) as f:
        src = f.read()
    body = src[src.index("font8x16[FONT_NGLYPHS][FONT_H]"):]
    glyphs = re.findall(r"\{((?:\s*0x[0-9a-fA-F]{2}\s*,?){%d})\}" % FONT_H, body)
    table = {}
    for i, g in enumerate(glyphs):
        bits = bytes(int(b, 16) for b in re.findall(r"0x[0-9a-fA-F]{2}", g))
        is_fallback = i == len(glyphs) - 1
        table[bits] = FALLBACK if is_fallback else chr(FIRST + i)
    if len(table) != len(glyphs) or len(glyphs) < 96:
        sys.exit("fbdecode: %s: expected 96 distinct glyphs, found %d" % (path, len(table)))
    return table


def decode(w, h, raster, font, bg):
    """Returns the screen as a list of strings, one per text row."""
    cols, rows = w // FONT_W, h // FONT_H
    stride = 3 * w
    lines = []
    for r in range(rows):
        line = []
        for c in range(cols):
            bits = bytearray(FONT_H)
            for y in range(FONT_H):
                off = (r * FONT_H + y) * stride + c * FONT_W * 3
                row = raster[off:off + FONT_W * 3]
                v = 0
                for x in range(FONT_W):
                    if row[3 * x:3 * x + 3] != bg:
                        v |= 0x80 >> x
                bits[y] = v
            line.append(font.get(bytes(bits), UNKNOWN))
        lines.append("".join(line).rstrip(" "))
    return lines


def write_png(path, w, h, raster):
    """Writes the RGB raster as an 8-bit truecolour PNG (filter 0 per line)."""
    def chunk(kind, body):
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)
    lines = b"".join(b"\x00" + raster[y * 3 * w:(y + 1) * 3 * w] for y in range(h))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(lines, 9)))
        f.write(chunk(b"IEND", b""))


def wrap_log(text, cols):
    """Returns the screen lines the console makes of text: tabs to the next
    multiple of TAB, lines cut at cols (kernel/console/fbcon.h)."""
    out = []
    for logical in text.replace("\r", "").split("\n"):
        cur = ""
        for ch in logical:
            if ch == "\t":
                n = (len(cur) // TAB + 1) * TAB
                cur += " " * (min(n, cols) - len(cur))
                continue
            if len(cur) >= cols:
                out.append(cur)
                cur = ""
            cur += ch if " " <= ch <= "~" else FALLBACK
        out.append(cur)
    return [l.rstrip(" ") for l in out]


def check(screen, log_text, cols, min_lines):
    """Returns None if the screen's text rows are an in-order subsequence
    of the wrapped log, else the reason."""
    rows = [l for l in screen
            if l and UNKNOWN not in l and not l.startswith("mmpic:")]
    if len(rows) < min_lines:
        return "only %d text rows on screen (need %d)" % (len(rows), min_lines)
    log = wrap_log(log_text, cols)
    i = 0
    for r in rows:
        while i < len(log) and log[i] != r:
            i += 1
        if i == len(log):
            return "screen row %r is not in the log (in order)" % r
        i += 1
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("ppm")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--font", default=os.path.join(here, "..", "kernel", "console", "font8x16.c"))
    ap.add_argument("--bg", default="000000", help="background colour RRGGBB")
    ap.add_argument("--log")
    ap.add_argument("--min-lines", type=int, default=3)
    ap.add_argument("--png", help="also write the dump as a PNG here")
    a = ap.parse_args()

    w, h, raster = read_ppm(a.ppm)
    if a.png:
        write_png(a.png, w, h, raster)
    font = read_font(a.font)
    bg = bytes.fromhex(a.bg)
    screen = decode(w, h, raster, font, bg)
    if not a.log:
        sys.stdout.write("\n".join(screen).rstrip("\n") + "\n")
        return 0
    with open(a.log, encoding="latin-1") as f:
        why = check(screen, f.read(), w // FONT_W, a.min_lines)
    if why:
        print("fbdecode: FAIL: %s" % why)
        print("fbdecode: screen was:\n" + "\n".join(screen).rstrip("\n"))
        return 1
    print("fbdecode: screen text matches the log")
    return 0


if __name__ == "__main__":
    sys.exit(main())
