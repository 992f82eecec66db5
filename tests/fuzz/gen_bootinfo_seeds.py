#!/usr/bin/env python3
# tests/fuzz/gen_bootinfo_seeds.py OUTDIR - writes the hand-made seeds of
# fuzz_bootinfo (kept in tests/fuzz/corpus/fuzz_bootinfo/): BootInfos the
# kernel accepts, each followed by its raw map.  Input layout and mode bits:
# the top of tests/fuzz/fuzz_bootinfo.c.
import os
import struct
import sys

MAGIC = 0x544f4f42424d454d
HHDM_BY_LEVELS = {4: 0xffff800000000000, 5: 0xff00000000000000}
ARENA, MAP_PA = 16 << 20, 0x80000
NAMES = ["Reserved", "LoaderCode", "LoaderData", "BootServiceCode", "BootServiceData",
         "RuntimeCode", "RuntimeData", "Available", "UnusableMemory", "ACPIReclaimMemory",
         "ACPIMemoryNVS", "MemoryMappedIO", "MemoryMappedIOPortSpace", "PalCode",
         "Persistent", "Unaccepted"]


def desc(t, start, pages, ds=48, attr=0xf):
    d = struct.pack('<IIQQQQ', t, 0, start, 0, pages, attr)
    return d + bytes(ds - len(d))


def bootinfo(mapbytes, ds, used, fb=None, flags=0, cmdline=b'qemu-exit', hhdm=ARENA,
             map_pa=MAP_PA, tramp=(0, 0), levels=4):
    b = struct.pack('<QIIQQQQQIIII', MAGIC, 4, 688, flags | (2 if fb else 0), HHDM_BY_LEVELS[levels], hhdm,
                    map_pa, len(mapbytes), ds, 1, 0, len(used))
    for pa, size, t in used + [(0, 0, 0)] * (8 - len(used)):
        b += struct.pack('<QQII', pa, size, t, 0)
    fbpa, size, w, h, pitch, fmt, masks = fb or (0, 0, 0, 0, 0, 0, (0, 0, 0, 0))
    b += struct.pack('<QQIIIIIIII', fbpa, size, w, h, pitch, fmt, *masks)
    b += struct.pack('<QII', 0, 0, 0)                      # rsdp
    b += struct.pack('<QQ', 0, 0)                          # ramdisk
    b += struct.pack('<QQQQQ', 0x200000, 0xffffffff80000000, 0x40000, 0xffffffff7fff0000, 0x10000)
    b += cmdline + bytes(256 - len(cmdline))
    b += struct.pack('<QQ', 0, 0)                          # v2: TSC stamps (not measured)
    b += struct.pack('<QQ', *tramp)                        # v3: trampoline pages
    b += struct.pack('<QII', 0, levels, 0)                 # v4: system table, levels
    assert len(b) == 688
    return b


def sfo_map(path, ds):
    out = b''
    for line in open(path):
        if not line.startswith('MemoryMap,'):
            continue
        f = [x.strip('"') for x in line.strip().split(',')]
        out += desc(NAMES.index(f[1]), int(f[2], 16), int(f[4], 16), ds, int(f[5], 16))
    return out


USED = [(0x200000, 0x40000, 1), (0x300000, 0x20000, 2), (MAP_PA, 0x1000, 3),
        (0x400000, 0x10000, 4), (0x500000, 0x3000, 5), (0x8000, 0x5000, 6)]
small = b''.join([desc(3, 0, 1), desc(7, 0x1000, 0x9f), desc(2, MAP_PA, 1),
                  desc(7, 0x100000, 0x700), desc(4, 0x800000, 0x100), desc(9, 0x900000, 0x10),
                  desc(10, 0x910000, 2), desc(7, 0x912000, 0x6ee), desc(11, 0xfeb00000, 0x10),
                  desc(0, 0xffc00000, 0x400)])
two48 = desc(7, 0x1000, 0x9f) + desc(7, 0x100000, 0x300)
two40 = desc(7, 0x1000, 0x9f, 40) + desc(7, 0x100000, 0xf00, 40)
seeds = {
    # mode 0: every field as given; 32-bit BGRX 128x48 screen
    'small-bgrx': bytes([0]) + bootinfo(small, 48, USED, (0x80000000, 512 * 48, 128, 48, 512, 1, (0, 0, 0, 0)),
                                       tramp=(0x8000, 0x5000)) + small,
    # the same under 5-level paging: the direct map at 0xff00000000000000
    'small-5level': bytes([0]) + bootinfo(small, 48, USED, tramp=(0x8000, 0x5000), levels=5) + small,
    # 16-bit 5:6:5 bitmask screen, odd pitch with padding, no cmdline
    'small-565': bytes([0]) + bootinfo(small, 48, USED[:3], (0x80000000, 203 * 40, 100, 40, 203, 2,
                                                           (0xf800, 0x7e0, 0x1f, 0)), cmdline=b'') + small,
    # 24-bit bitmask, RGBX byte order of a 3-byte pixel; 40-byte stride
    'rgb24-stride40': bytes([0]) + bootinfo(two40, 40, USED[:1],
        (0x80000000, 300 * 20, 100, 20, 300, 2, (0xff, 0xff00, 0xff0000, 0))) + two40,
    # OVMF q35 512 MiB map (123 descriptors of 48 bytes), folded into the
    # arena by mode FOLD; no framebuffer
    'ovmf-512M-fold': bytes([0x04]) + bootinfo(sfo_map('tests/data/memmaps/ovmf-q35-512M.sfo.txt', 48), 48,
                                               USED, hhdm=1 << 32) + sfo_map('tests/data/memmaps/ovmf-q35-512M.sfo.txt', 48),
    # the same map as it is: RAM above the arena, so no pmm; control bytes in the cmdline
    'ovmf-512M': bytes([0]) + bootinfo(sfo_map('tests/data/memmaps/ovmf-q35-512M.sfo.txt', 48), 48,
                                       USED, hhdm=1 << 32, cmdline=b'a\x1b[2Jb\t"\\\x7f\xff') +
                 sfo_map('tests/data/memmaps/ovmf-q35-512M.sfo.txt', 48),
    # boundary geometry: the smallest screen fbcon takes (one 8x16 cell),
    # pitch = width * 4 and size = pitch * height exactly
    'fb-min': bytes([0x02]) + bootinfo(b'', 48, USED[:1], (0, 512, 8, 16, 32, 0, (0, 0, 0, 0))) + two48,
    # a tight 16-bit screen (12x17 cells): pitch = width * 2, size = pitch * height
    'fb-tight-565': bytes([0x02]) + bootinfo(b'', 48, USED[:1], (0, 200 * 272, 100, 272, 200, 2,
                                                                  (0xf800, 0x7e0, 0x1f, 0))) + two48,
    # wide enough for the memory picture (mmpic needs 24 columns): 256x96,
    # 10:10:10 bitmask (channels wider than 8 bits); control bytes in the
    # command line for the console's \r \b \t handling
    'mmpic-256x96-1010': bytes([0]) + bootinfo(small, 48, USED, (0x80000000, 1024 * 96, 256, 96, 1024, 2,
                                                                 (0x3ff00000, 0xffc00, 0x3ff, 0)),
                                               cmdline=b'ab\rc\bd\te\tf\n\b\b') + small,
    # all fix-up modes on a map of two descriptors with a 64-byte stride
    'modes-all': bytes([0x0f]) + bootinfo(b'', 64, USED[:2], (0, 4096, 16, 16, 64, 0, (0, 0, 0, 0))) +
                 desc(7, 0x1000, 0x100, 64) + desc(7, 0x200000, 0x200, 64),
}
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for n, b in seeds.items():
    open(os.path.join(out, n), 'wb').write(b)
