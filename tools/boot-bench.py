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


def timed_boot(img, last, mem):
    """Boots img; returns (ms from QEMU start to the line `last`, console)."""
    env = dict(os.environ, SERIAL="stdio", TIMEOUT="300", MEM=mem)
    t0 = time.monotonic()
    p = subprocess.Popen([QEMU_RUN, img], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    lines, t_last = [], None
    for raw in p.stdout:
        line = raw.decode("utf-8", "replace").replace("\r", "").rstrip("\n")
        lines.append(line)
        if line == last:
            t_last = (time.monotonic() - t0) * 1000
    status = p.wait()
    text = "\n".join(lines)
    if t_last is None or status != 0:
        sys.exit(f"boot-bench: {img}: status {status}, `{last}` "
                 f"{'seen' if t_last else 'never seen'}; console tail:\n" + "\n".join(lines[-10:]))
    return t_last, text


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
    floor, memboot, kernel = [], [], []
    for i in range(runs):
        t, _ = timed_boot(floor_img, "floor: done", mem)
        floor.append(t)
        t, text = timed_boot(memboot_img, "memboot: done", mem)
        memboot.append(t)
        kernel.append(kernel_ms(text))
        print(f"boot-bench: run {i + 1}/{runs}: floor {floor[-1]:.0f} ms, memboot "
              f"{memboot[-1]:.0f} ms, kernel {kernel[-1]:.0f} ms", file=sys.stderr)
    f, m = statistics.median(floor), statistics.median(memboot)
    print(f"bench: boot_floor_{tag} {f:.0f} ms")
    print(f"bench: boot_memboot_{tag} {m:.0f} ms")
    print(f"bench: boot_ratio_{tag} {m / f:.2f} x")
    print(f"bench: boot_kernel_{tag} {statistics.median(kernel):.0f} ms")


if __name__ == "__main__":
    main()
