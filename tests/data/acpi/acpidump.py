#!/usr/bin/env python3
"""acpidump.py OUTDIR RSDP_PA LOG... - turn UEFI shell `dmem` hex dumps into
raw memory blobs and per-table files (see capture.sh).

A dump line is `  ADDR: XX XX XX XX XX XX XX XX-XX XX ... *ascii*`; the hex
field is the 49 characters after `ADDR: `.  Tables are found by walking
RSDP -> XSDT (or RSDT) -> tables, and FADT -> DSDT, in the captured memory.
"""
import os
import re
import struct
import sys

LINE = re.compile(r'^\s*([0-9A-Fa-f]{8,16}): (.{1,49})')


def read_dumps(path):
    """Returns [(base, bytes)], one per run of consecutive dump lines."""
    runs = []
    with open(path, encoding='ascii', errors='replace') as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            addr = int(m.group(1), 16)
            data = bytes(int(h, 16) for h in m.group(2).replace('-', ' ').split())
            if runs and addr == runs[-1][0] + len(runs[-1][1]):
                runs[-1][1].extend(data)
            else:
                runs.append((addr, bytearray(data)))
    return [(b, bytes(d)) for b, d in runs if len(d) > 256]


def main():
    out, rsdp_pa, dumps = sys.argv[1], int(sys.argv[2], 16), sys.argv[3:]
    mem = [r for p in dumps for r in read_dumps(p)]

    def get(pa, n):
        for base, data in mem:
            if base <= pa and pa + n <= base + len(data):
                return data[pa - base:pa - base + n]
        return None

    for base, data in mem:
        with open(os.path.join(out, f'mem-{base:016x}.bin'), 'wb') as f:
            f.write(data)
    with open(os.path.join(out, 'rsdp'), 'w') as f:
        f.write(f'{rsdp_pa:016x}\n')

    rsdp = get(rsdp_pa, 36) or get(rsdp_pa, 20)
    rev = rsdp[15]
    if rev >= 2:
        root, esize = struct.unpack_from('<Q', rsdp, 24)[0], 8
    else:
        root, esize = struct.unpack_from('<I', rsdp, 16)[0], 4
    todo, seen = [root], {}
    while todo:
        pa = todo.pop(0)
        hdr = get(pa, 36)
        if hdr is None:
            print(f'table at {pa:#x} not captured')
            continue
        sig, length = hdr[:4].decode('ascii', 'replace'), struct.unpack_from('<I', hdr, 4)[0]
        tab = get(pa, length)
        n = seen.get(sig, 0)
        seen[sig] = n + 1
        name = sig if n == 0 else f'{sig}{n}'
        with open(os.path.join(out, f'{name}.bin'), 'wb') as f:
            f.write(tab)
        print(f'{name} pa={pa:#x} len={length}')
        if pa == root:
            for i in range((length - 36) // esize):
                todo.append(struct.unpack_from('<Q' if esize == 8 else '<I', tab, 36 + i * esize)[0])
        elif sig == 'FACP':
            dsdt = struct.unpack_from('<I', tab, 40)[0]
            if length >= 148 and struct.unpack_from('<Q', tab, 140)[0]:
                dsdt = struct.unpack_from('<Q', tab, 140)[0]
            todo.append(dsdt)


main()
