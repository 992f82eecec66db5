#!/usr/bin/env python3
# tests/fuzz/gen_elf_seeds.py OUTDIR - writes the hand-made ELF seeds of
# fuzz_elf (kept in tests/fuzz/corpus/fuzz_elf/ with a stripped kernel.elf):
# small images the loader accepts, one shape each (and one it refuses for
# having more PT_LOAD segments than it takes).
import os
import struct
import sys

BASE = 0xffffffff80000000
def ehdr(entry, phnum, phoff=64):
    ident = b'\x7fELF' + bytes([2, 1, 1]) + bytes(9)
    return ident + struct.pack('<HHIQQQIHHHHHH', 2, 62, 1, entry, phoff, 0, 0, 64, 56, phnum, 64, 0, 0)
def ph(t, fl, off, va, fs, ms):
    return struct.pack('<IIQQQQQQ', t, fl, off, va, va, fs, ms, 0x1000)
def build(entry, segs, data_len, extra=()):
    hdrs = [ph(*s) for s in segs] + [ph(*e) for e in extra]
    f = bytearray(ehdr(entry, len(hdrs)) + b''.join(hdrs))
    if len(f) < data_len: f += bytes(data_len - len(f))
    for i in range(64 + 56 * len(hdrs), len(f)): f[i] = (i * 7) & 0xff
    return bytes(f)
out = sys.argv[1]; os.makedirs(out, exist_ok=True)
R, W, X = 4, 2, 1
seeds = {
 # one RX segment holding the headers too, entry on its last file byte
 'one-rx': build(BASE + 0x7f, [(1, R|X, 0, BASE, 0x80, 0x80)], 0x80),
 # text / rodata / data+bss, offsets not congruent with vaddr (the loader copies)
 'three': build(BASE + 0x100, [(1, R|X, 0x100, BASE + 0x100, 0x40, 0x40),
                               (1, R, 0x140, BASE + 0x1000, 0x20, 0x20),
                               (1, R|W, 0x160, BASE + 0x2010, 0x10, 0x3000)], 0x180),
 # text followed by a zero tail, entry at the start
 'bss-tail': build(BASE + 0x78, [(1, R|X, 0x78, BASE + 0x78, 0x10, 0x2000)], 0x90),
 # extra non-load headers (PT_NOTE, PT_GNU_STACK) around the loads
 'nonload': build(BASE + 0x1000, [(1, R|X, 0x100, BASE + 0x1000, 0x20, 0x20)], 0x120,
                  extra=[(4, R, 0, 0, 0, 0), (0x6474e551, R|W, 0, 0, 0, 0)]),
 # sixteen segments, one page each
 'sixteen': build(BASE, [(1, R|X if i == 0 else R, 0x400 + i, BASE + i * 0x1000, 1, 1) for i in range(16)], 0x420),
 # seventeen segments: one more than the loader takes (refused)
 'seventeen': build(BASE, [(1, R|X if i == 0 else R, 0x400 + i, BASE + i * 0x1000, 1, 1) for i in range(17)], 0x440),
 # last page of the window below 2^64 - 4096
 'top': build(0xffffffffffffe000, [(1, R|X, 0x78, 0xffffffffffffe000, 8, 0x1000)], 0x80),
}
for n, b in seeds.items():
    open(os.path.join(out, n), 'wb').write(b)
