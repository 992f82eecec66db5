#!/usr/bin/env python3
"""tools/boot-bench.py FLOOR_IMG MEMBOOT_IMG - boot-time benchmark (make boot-bench).

Boots the floor (efi/floor/floor.c: prints `floor: done` and exits QEMU) and
memboot interleaved - floor, memboot, floor, memboot... RUNS times each
(environment, default 5) under tools/qemu-run.sh with MEM (default 512M) -
so that a change in the host's load touches both alike.  Measures, on the
host clock, QEMU's start to the arrival of the last line (`floor: done`,
`memboot: done`), and reads memboot's own kernel-entry -> done from its
`boot:` lines.  Prints the medians:

  bench: boot_floor_512m <ms> ms
  bench: boot_memboot_512m <ms> ms
  bench: boot_ratio_512m <x> x          memboot / floor
  bench: boot_kernel_512m <ms> ms       boot: kernel-entry -> boot: done
  bench: boot_ratio_paired_512m <x> x  median over the memboot runs of its time
                                       over its own firmware time (QEMU start to
                                       `BdsDxe: starting Boot`) plus the floor
                                       app's time after that line: the
                                       firmware's +-0.5 s run-to-run noise
                                       cancels out

Exit status 1 if a boot fails (no last line, or QEMU's status not 0).
"""
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QEMU_RUN = os.path.join(ROOT, "tools", "qemu-run.sh")
STAGE_RE = re.compile(r"^boot: (kernel-entry|done) (\d+)\.(\d{3}) ms$", re.M)


BDS_LINE = "BdsDxe: starting Boot"


def timed_boot(img, last, mem):
    """Boots img; returns (ms from QEMU start to the line `last`, console,
    ms to the firmware's `BdsDxe: starting Boot...` line or None)."""
    env = dict(os.environ, SERIAL="stdio", TIMEOUT="300", MEM=mem)
    t0 = time.monotonic()
    p = subprocess.Popen([QEMU_RUN, img], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    lines, t_last, t_bds = [], None, None
    for raw in p.stdout:
        line = raw.decode("utf-8", "replace").replace("\r", "").rstrip("\n")
        lines.append(line)
        if line == last:
            t_last = (time.monotonic() - t0) * 1000
        if t_bds is None and BDS_LINE in line:
            t_bds = (time.monotonic() - t0) * 1000
    status = p.wait()
    text = "\n".join(lines)
    if t_last is None or status != 0:
        sys.exit(f"boot-bench: {img}: status {status}, `{last}` "
                 f"{'seen' if t_last else 'never seen'}; console tail:\n" + "\n".join(lines[-10:]))
    return t_last, text, t_bds


def kernel_ms(text):
    """boot: done - boot: kernel-entry in ms, from memboot's console."""
    st = {m.group(1): int(m.group(2)) * 1000 + int(m.group(3)) for m in STAGE_RE.finditer(text)}
    if len(st) != 2:
        sys.exit("boot-bench: memboot printed no kernel-entry/done timeline")
    return (st["done"] - st["kernel-entry"]) / 1000


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    floor_img, memboot_img = sys.argv[1:]
    runs = int(os.environ.get("RUNS", "5"))
    mem = os.environ.get("MEM", "512M")
    tag = mem.lower()
    floor, memboot, kernel, paired = [], [], [], []
    for i in range(runs):
        t, _, fb = timed_boot(floor_img, "floor: done", mem)
        floor.append(t)
        t, text, mb = timed_boot(memboot_img, "memboot: done", mem)
        memboot.append(t)
        kernel.append(kernel_ms(text))
        if fb is not None and mb is not None:
            # The firmware's own time to its boot option varies by +-0.5 s
            # from boot to boot; within one boot it is common to both, so
            # memboot's run is compared with the floor's app time added to
            # its own firmware time.
            paired.append(t / (mb + (floor[-1] - fb)))
        print(f"boot-bench: run {i + 1}/{runs}: floor {floor[-1]:.0f} ms, memboot "
              f"{memboot[-1]:.0f} ms, kernel {kernel[-1]:.0f} ms", file=sys.stderr)
    f, m = statistics.median(floor), statistics.median(memboot)
    print(f"bench: boot_floor_{tag} {f:.0f} ms")
    print(f"bench: boot_memboot_{tag} {m:.0f} ms")
    print(f"bench: boot_ratio_{tag} {m / f:.2f} x")
    print(f"bench: boot_kernel_{tag} {statistics.median(kernel):.0f} ms")
    if paired:
        print(f"bench: boot_ratio_paired_{tag} {statistics.median(paired):.3f} x")


if __name__ == "__main__":
    main()
