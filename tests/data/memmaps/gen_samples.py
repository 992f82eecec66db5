#!/usr/bin/env python3
"""tests/data/memmaps/gen_samples.py - writes the synthetic sample maps.

The maps are made up, but shaped like real firmware maps (low memory hole,
many small boot-services pieces, runtime and ACPI near the top of low RAM,
PCIe ECAM and flash MMIO below 4 GiB, RAM above 4 GiB), in the two Linux
dmesg forms `build/host/memmap` reads:

  old (type=): efi: mem07: type=7, attr=0xf, range=[0x...-0x...) (203MB)
               exclusive end, as Linux 3.x printed it
  new ([name]): efi: mem47: [Conventional|   |...|WB|WT|WC|UC] range=[0x...-0x...] (..MB)
               inclusive end, as current Linux prints it

Run it from anywhere; it rewrites the *.txt files next to itself (not the
ovmf-*.sfo* captures, which came from the real EDK II shell, except
ovmf-q35-5G-nowb4g.sfo.txt: the 5G capture with WB cleared above 4 GiB).
"""
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
PG = 4096
MiB = 1 << 20
GiB = 1 << 30
TiB = 1 << 40

NAMES = ["Reserved", "Loader Code", "Loader Data", "Boot Code", "Boot Data",
         "Runtime Code", "Runtime Data", "Conventional", "Unusable",
         "ACPI Reclaim", "ACPI Mem NVS", "MMIO", "MMIO Port", "PAL Code",
         "Persistent"]
RUNTIME = 1 << 63
CACHE = 0xf  # UC | WC | WT | WB


def attr_text(attr):
    """The |...| attribute column of the new form (flags left to right)."""
    cols = ["RUN" if attr & RUNTIME else "   "]
    for name, bit in [("MR", 16), ("SP", 18), ("CC", 19), ("RO", 17),
                      ("NV", 15), ("XP", 14), ("RP", 13), ("WP", 12)]:
        cols.append(name if attr & (1 << bit) else "  ")
    cols.append("UCE" if attr & 0x10 else "   ")
    for name, bit in [("WB", 3), ("WT", 2), ("WC", 1), ("UC", 0)]:
        cols.append(name if attr & (1 << bit) else "  ")
    return "|".join(cols)


def line_old(i, t, start, size, attr, prefix):
    return "%sefi: mem%02d: type=%d, attr=0x%x, range=[0x%016x-0x%016x) (%dMB)" % (
        prefix, i, t, attr, start, start + size, size >> 20)


def line_new(i, t, start, size, attr, prefix):
    name = NAMES[t] if t < len(NAMES) else None
    head = "[%-12s" % name if name else "[type=%d" % t
    return "%sefi: mem%02d: %s|%s] range=[0x%016x-0x%016x] (%dMB)" % (
        prefix, i, head, attr_text(attr), start, start + size - 1, size >> 20)


def low_memory():
    """Below 1 MiB and the first few MiB, as a desktop board reports them."""
    return [(3, 0, PG, CACHE), (7, PG, 0x57000, CACHE), (0, 0x58000, PG, CACHE),
            (7, 0x59000, 0x46000, CACHE), (0, 0x9f000, PG, CACHE),
            (7, MiB, 0x2300000 - MiB, CACHE)]


def fill_pieces(rng, start, end, npieces):
    """Cuts [start, end) into npieces of boot-services, loader and free
    memory, page aligned, in address order."""
    cuts = sorted(rng.sample(range(1, (end - start) // PG), npieces - 1))
    bounds = [start] + [start + c * PG for c in cuts] + [end]
    out, prev = [], None
    for a, b in zip(bounds, bounds[1:]):
        t = rng.choice([3, 4, 4, 4, 7, 1, 2, 3, 4])
        if t == prev:  # firmware never lists two equal neighbours
            t = 7 if t != 7 else 4
        out.append((t, a, b - a, CACHE))
        prev = t
    return out


def top_of_low_ram(base, end):
    """Runtime, ACPI and reserved pieces at the top of RAM below 4 GiB;
    the last (reserved) piece runs up to end."""
    out, a = [], base
    for t, size, attr in [(6, 0x200000, CACHE | RUNTIME), (5, 0x100000, CACHE | RUNTIME),
                          (0, 0x1c3000, CACHE), (9, 0x33000, CACHE), (10, 0x2bd000, CACHE),
                          (6, 0x40000, CACHE | RUNTIME)]:
        out.append((t, a, size, attr))
        a += size
    out.append((0, a, end - a, CACHE))
    return out


def mmio_below_4g():
    return [(11, 0xe0000000, 0x10000000, 1 | RUNTIME), (11, 0xfe000000, 0x11000, 1 | RUNTIME),
            (11, 0xfec00000, PG, 1 | RUNTIME), (11, 0xfed00000, PG, 1 | RUNTIME),
            (11, 0xfee00000, PG, 1 | RUNTIME), (11, 0xff000000, 0x1000000, 1 | RUNTIME)]


def desktop(rng, npieces):
    ents = low_memory()
    ents += fill_pieces(rng, 0x2300000, 0x7a800000, npieces)
    ents += top_of_low_ram(0x7a800000, 0x80000000)
    ents += mmio_below_4g()
    ents.append((7, 4 * GiB, 14 * GiB + 0x7f000000 - 4 * GiB, CACHE))
    return ents


def huge_16t():
    """A 16-socket machine: 1 TiB per node, a reserved hole under each node
    boundary (firmware tables / memory-mapped config per socket)."""
    ents = low_memory()
    ents.append((7, 0x2300000, 0x70000000 - 0x2300000, CACHE))
    ents += top_of_low_ram(0x70000000, 0x78000000)
    ents += mmio_below_4g()
    node = TiB
    ents.append((7, 4 * GiB, node - 4 * GiB - 64 * MiB, CACHE))
    ents.append((0, node - 64 * MiB, 64 * MiB, CACHE))
    for n in range(1, 16):
        base = n * node
        ents.append((7, base, node - 64 * MiB, CACHE))
        ents.append((0 if n < 15 else 10, base + node - 64 * MiB, 64 * MiB, CACHE))
    return ents


def mirrored_sp_server():
    """A 192 GiB server with address-range mirroring and specific-purpose
    memory: RAM below 4 GiB and [128G, 192G) marked MR (more reliable), a
    boot-data piece at 16 GiB marked MR too, [64G, 128G) conventional marked
    SP (soft-reserved: HBM / CXL memory), [32G, 33G) conventional without
    WB (reserved), the rest plain write-back RAM."""
    MR, SP = 1 << 16, 1 << 18
    ents = [(t, s, z, a | (MR if t in (3, 4, 7) else 0)) for t, s, z, a in low_memory()]
    ents.append((7, 0x2300000, 0x70000000 - 0x2300000, CACHE | MR))
    ents += top_of_low_ram(0x70000000, 0x78000000)
    ents += mmio_below_4g()
    ents.append((7, 4 * GiB, 12 * GiB, CACHE))
    ents.append((4, 16 * GiB, 256 * MiB, CACHE | MR))
    ents.append((7, 16 * GiB + 256 * MiB, 16 * GiB - 256 * MiB, CACHE))
    ents.append((7, 32 * GiB, 1 * GiB, CACHE & ~8))
    ents.append((7, 33 * GiB, 31 * GiB, CACHE))
    ents.append((7, 64 * GiB, 64 * GiB, CACHE | SP))
    ents.append((7, 128 * GiB, 64 * GiB, CACHE | MR))
    return ents


def nowb_above_4g(src, dst):
    """Rewrites the -sfo capture src as dst with EFI_MEMORY_WB cleared on
    every entry at or above 4 GiB (what firmware reports for RAM the OS must
    not use as such); the shell's summary line stays, as it sums types."""
    with open(os.path.join(HERE, src), encoding="utf-8") as f:
        lines = f.read().splitlines()
    out = []
    for l in lines:
        if l.startswith("MemoryMap,"):
            cols = l.split('","')
            if int(cols[1], 16) >= 4 * GiB:
                cols[4] = "%X" % (int(cols[4].rstrip('"'), 16) & ~8) + '"'
            l = '","'.join(cols)
        out.append(l)
    with open(os.path.join(HERE, dst), "w", newline="\r\n") as f:
        f.write("\n".join(out) + "\n")


def write(name, ents, fmt, prefix_fn):
    with open(os.path.join(HERE, name), "w") as f:
        for i, (t, s, z, a) in enumerate(ents):
            f.write((line_old if fmt == "old" else line_new)(i, t, s, z, a, prefix_fn(i)) + "\n")


def main():
    rng = random.Random(20240611)
    ts = lambda i: "[    0.%06d] " % (i * 7)
    syslog = lambda i: "Jun 11 08:15:%02d fileserver kernel: [    0.000000] " % (i % 60)
    write("desktop-16g.dmesg-type.txt", desktop(rng, 36), "old", ts)
    write("desktop-16g.dmesg-name.txt", desktop(rng, 50), "new", syslog)
    big = desktop(rng, 312 - 6 - 7 - 6 - 1)
    assert len(big) == 312, len(big)
    write("board-312.dmesg-name.txt", big, "new", ts)
    write("server-16t.dmesg-name.txt", huge_16t(), "new", lambda i: "")
    write("server-mr-sp.dmesg-name.txt", mirrored_sp_server(), "new", ts)
    nowb_above_4g("ovmf-q35-5G.sfo.txt", "ovmf-q35-5G-nowb4g.sfo.txt")
    with open(os.path.join(HERE, "bad-line3.txt"), "w") as f:
        f.write(line_old(0, 7, MiB, MiB, CACHE, "") + "\n")
        f.write(line_old(1, 4, 2 * MiB, MiB, CACHE, "") + "\n")
        f.write("efi: mem02: type=7, attr=0xf, range=[0x0000000000300000-oops) (1MB)\n")


if __name__ == "__main__":
    main()
