#!/usr/bin/env python3
"""tests/fuzz/memmap_seed.py OUTDIR - writes seed inputs of fuzz_memmap (run
it from the top of the tree).

The input format is described at the top of tests/fuzz/fuzz_memmap.c.  Two
kinds of seeds:

  sample-*  every map of tests/data/memmaps, as build/host/memmap reads it
            (its `memmap -sfo` echo of the raw map is parsed here, so all
            three text forms work), 48-byte descriptors like OVMF's, with
            loader-used ranges (kernel, page tables, bootinfo, stack,
            ramdisk) inside its first loader-data descriptors, as memboot's
            loader places them;
  edge-*    small hand-made maps at the edges the rules name: page 0, the
            top of the address space, zero-length and wrapping entries,
            refused descriptor sizes, a cut output (small cap), and the
            attributes WB / SP / MORE_RELIABLE.

Needs build/host/memmap (make build/host/memmap).  The kept corpus
tests/fuzz/corpus/fuzz_memmap is these seeds merged (libFuzzer -merge=1)
with what a fuzzing run found.
"""
import glob
import os
import struct
import subprocess
import sys

SHELL_NAMES = ["Reserved", "LoaderCode", "LoaderData", "BootServiceCode",
               "BootServiceData", "RuntimeCode", "RuntimeData", "Available",
               "UnusableMemory", "ACPIReclaimMemory", "ACPIMemoryNVS",
               "MemoryMappedIO", "MemoryMappedIOPortSpace", "PalCode",
               "Persistent", "Unaccepted"]
LOADER_DATA = 2
PG = 4096
WB, MR, SP = 0x8, 0x10000, 0x40000
EFI_CONVENTIONAL, EFI_BS_DATA, EFI_RESERVED = 7, 4, 0


def header(desc_mode=1, desc_param=0, cap=0xffff, nused=0, tweak=0,
           ushift=12, from_top=False, pshift=0, desc_size32=0):
    """The 12-byte header (see fuzz_memmap.c)."""
    return struct.pack("<BBHBbBBI", desc_mode, desc_param, cap, nused, tweak,
                       ushift | (0x80 if from_top else 0), pshift, desc_size32)


def raw_desc(t, start, pages, attr):
    return struct.pack("<BIQQQ", 0x80, t, start, pages, attr)


def raw_used(t, pa, size):
    return struct.pack("<BQQI", 0x80, pa, size, t)


def compact_desc(t, units, pages, attr, offset=0):
    """t: compact type byte (0..15 are the EFI types); attr: compact bits."""
    return struct.pack("<BBHBB", offset, t, units, pages, attr)


def compact_used(t, units, sixteenths, offset=0):
    return struct.pack("<BBHH", offset, t, units, sixteenths)


def sample_descs(path):
    """The descriptors of a sample, from build/host/memmap's -sfo echo."""
    out = subprocess.run(["build/host/memmap", path], capture_output=True,
                         text=True, check=True).stdout
    descs = []
    for line in out.splitlines():
        if not line.startswith("MemoryMap,"):
            continue
        f = [x.strip('"') for x in line.split(",")[1:]]
        t = SHELL_NAMES.index(f[0]) if f[0] in SHELL_NAMES else int(f[0][4:], 16)
        descs.append((t, int(f[1], 16), int(f[3], 16), int(f[4], 16)))
    return descs


def sample_seed(path):
    descs = sample_descs(path)
    used = []
    loader = [d for d in descs if d[0] == LOADER_DATA and d[2] >= 2]
    for t, d in zip([1, 2, 3, 4, 5], loader):
        # the used range covers the descriptor's first half, unaligned end
        used.append(raw_used(t, d[1], d[2] * PG // 2 + 100))
    body = b"".join(used) + b"".join(raw_desc(*d) for d in descs)
    return header(nused=len(used)) + body


def edge_seeds():
    s = {}
    conv, bsd, res = EFI_CONVENTIONAL, EFI_BS_DATA, EFI_RESERVED
    # page 0: usable from 0 and from mid-page, a reserved page after it
    s["page0"] = header(desc_mode=0) + compact_desc(conv, 0, 3, 0xf) + \
        compact_desc(conv, 0, 1, 0xf, offset=64) + compact_desc(res, 3, 1, 0xf)
    # the top of the space: used and usable ranges within the last pages,
    # and one that ends exactly at 2^64 (dropped)
    # (2^64 - 12 KiB: two usable pages; 2^64 - 6 KiB: usable page cut by the
    # kernel range [2^64 - 4.5 KiB, 2^64 - 2.5 KiB), leaving a usable
    # sliver in the last page; 2^64 - 4 KiB: one page, dropped)
    s["top"] = header(desc_mode=0, nused=1, ushift=12, from_top=True) + \
        compact_used(1, 1, 8, offset=16) + compact_desc(conv, 3, 2, 0xf) + \
        compact_desc(conv, 1, 1, 0xf, offset=64) + compact_desc(bsd, 1, 1, 0xf)
    # zero-length and wrapping entries, used ranges too
    s["drop"] = header(desc_mode=0, nused=2) + raw_used(3, 0x5000, 0) + \
        raw_used(5, 0xfffffffffffff000, 0x2000) + \
        raw_desc(conv, 0x100000, 0, 0xf) + raw_desc(conv, 0x200000, 1 << 52, 0xf) + \
        raw_desc(conv, 0xffffffffffffe000, 2, 0xf) + raw_desc(conv, 0x1000, 16, 0xf)
    # refused strides: < 40, not a multiple of 8, raw_size not a multiple
    one = compact_desc(conv, 1, 4, 0xf)
    s["ds36"] = header(desc_mode=3, desc_size32=36) + one
    s["ds44"] = header(desc_mode=3, desc_size32=44) + one
    s["ds-tweak"] = header(desc_mode=1, tweak=-8) + one + one
    # a huge valid stride (a sparse map) and a larger one from the header
    s["ds-huge"] = header(desc_mode=3, desc_size32=0x1000000) + one + \
        compact_desc(res, 2, 1, 0xf)
    s["ds-2080"] = header(desc_mode=2, desc_param=255) + one
    # cap 2 with five regions: MM_EOVERFLOW, two regions out
    s["cap2"] = header(desc_mode=0, cap=2) + b"".join(
        compact_desc(t, 16 * i, 8, 0xf) for i, t in enumerate([conv, res, 9, 10, 11]))
    # attributes: conventional with and without WB, SP, MORE_RELIABLE
    s["attrs"] = header(desc_mode=0) + compact_desc(conv, 16, 4, 0x0) + \
        compact_desc(conv, 20, 4, 0x08 | 0x20) + compact_desc(conv, 24, 4, 0x08 | 0x10) + \
        compact_desc(1, 28, 4, 0x01) + compact_desc(bsd, 32, 4, 0x20) + \
        compact_desc(conv, 36, 4, 0x0f)
    # unknown, OEM and OS types over usable memory
    s["types"] = header(desc_mode=0) + compact_desc(conv, 16, 64, 0xf) + \
        compact_desc(17, 20, 1, 0xf) + compact_desc(0xf3, 30, 1, 0xf) + \
        compact_desc(0xfa, 40, 1, 0xf) + compact_desc(0xff, 50, 1, 0xf)
    return s


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    seeds = edge_seeds()
    for path in sorted(glob.glob("tests/data/memmaps/*.txt")):
        if "bad-" in os.path.basename(path):
            continue
        name = os.path.basename(path)[:-4]
        seeds["sample-" + name] = sample_seed(path)
    for name, data in seeds.items():
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
