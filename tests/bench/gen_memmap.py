#!/usr/bin/env python3
"""tests/bench/gen_memmap.py N [SEED] - writes a made-up `memmap -sfo` map of
exactly N descriptors (N >= 16) on stdout, for timing build/host/memmap:

  tests/bench/gen_memmap.py 100000 > /tmp/map100k.sfo
  time build/host/memmap /tmp/map100k.sfo > /dev/null

Shaped like a real map, only far longer: low memory with page 0 and two
reserved holes, then RAM from 1 MiB up to 2 TiB cut into N - 16 page-aligned
pieces of boot-services code/data, loader code/data, conventional, runtime,
ACPI and reserved memory in address order, then 8 reserved and ACPI NVS
entries laid over random spots of that RAM at the end (out of order and
overlapping, so the sanitiser's overlap and sorting rules are exercised).
"""
import random
import sys

PG = 4096
MiB = 1 << 20
TiB = 1 << 40
RUNTIME = 1 << 63
CACHE = 0xf  # UC | WC | WT | WB
NAMES = ["Reserved", "LoaderCode", "LoaderData", "BootServiceCode",
         "BootServiceData", "RuntimeCode", "RuntimeData", "Available",
         "UnusableMemory", "ACPIReclaimMemory", "ACPIMemoryNVS"]
# Piece types, weighted like the boot-services-heavy maps of real boards.
PIECE_TYPES = [3, 4, 4, 4, 7, 7, 1, 2, 5, 6, 9, 0]


def line(t, start, size, attr):
    return 'MemoryMap,"%s","%X","%X","%X","%X"' % (
        NAMES[t], start, start + size - 1, size // PG, attr)


def main():
    n = int(sys.argv[1])
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    if n < 16:
        sys.exit("gen_memmap.py: N must be at least 16")
    ents = [(3, 0, PG, CACHE), (7, PG, 0x9e000, CACHE), (0, 0x9f000, PG, CACHE),
            (0, 0xa0000, 0x60000, CACHE)]
    npieces = n - 4 - 8 - 4
    start, end = MiB, 2 * TiB
    cuts = sorted(rng.sample(range(1, (end - start) // PG), npieces - 1))
    bounds = [start] + [start + c * PG for c in cuts] + [end]
    for a, b in zip(bounds, bounds[1:]):
        t = rng.choice(PIECE_TYPES)
        ents.append((t, a, b - a, CACHE | (RUNTIME if t in (5, 6) else 0)))
    for i in range(4):  # MMIO above RAM
        ents.append((0, end + i * TiB, 64 * MiB, 1))
    for i in range(8):  # overlays, out of order
        a = start + rng.randrange((end - start) // PG - 1024) * PG
        ents.append((0 if i % 2 else 10, a, rng.randrange(1, 1024) * PG, CACHE))
    assert len(ents) == n, len(ents)
    out = ['ShellCommand,"memmap"'] + [line(*e) for e in ents]
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
