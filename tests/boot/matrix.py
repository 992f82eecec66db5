#!/usr/bin/env python3
"""QEMU boot matrix and framebuffer screendump test of memboot (run by
`make test-boot`).

Matrix: MACHINE {q35, pc} x CPU {qemu64, max} x MEM {128M, 5G, 64G} x
SMP {1, 2, 4, 8} is 96 boots; MATRIX below is a covering subset of 12 (the
least there can be: every MEM with every SMP): every value of every
dimension, every pair of values of any two dimensions (a strength-2
covering array), which includes the risky pairs (pc with RAM above 4 GiB,
qemu64 - 2 MiB direct-map pages - with 64G, on pc, 8 CPUs on both
machines: QEMU's TCG runs each vCPU as a host thread).  Each
boot of build/esp.img (cmdline `qemu-exit`) must:
  - exit through isa-debug-exit with 0 after `memboot: done`, no trap/panic;
  - print `selftest: N passed, 0 failed` with N > 0;
  - pass boottest.check_usable (usable total and pmm against the raw map);
  - report usable RAM within [MEM - MEM/16, MEM] (QEMU's -m is the truth);
  - print the direct-map line with 2 MiB pages for qemu64 (no pdpe1gb) and
    1 GiB pages for max, its size a multiple of the page size and covering
    every usable byte of the raw map;
  - if the kernel prints `acpi: MADT cpus=<n>`, have n == SMP;
  - print `smp: SMP of SMP CPUs online in <ms> ms (xapic|x2apic)` and, with
    more than one CPU, every line of the SMP selftest with all the others
    (boottest.check_smp);
  - bring up the UEFI runtime services (boottest.check_efirt: regions and
    pages against the raw map, the MAT applied, GetTime against the host
    clock, ptcheck clean).

Screendump: a machine with no serial port (-serial none), debugcon to a file,
the HMP monitor on a unix socket, an image whose cmdline is empty (the
kernel halts at the end).  When `memboot: done` is in the debugcon log the
test sends `screendump` and `quit`, then tools/fbdecode.py --log must find
every text row of the screen, in order, in the debugcon log; the decoded
screen must show `memboot: done` and the memory-map picture (`mmpic:`).  As
a control, the same check against the log with one on-screen row altered
must fail.

Largest mode: the loader prints the GOP mode the firmware set and the
largest its QueryMode offers (`memboot: GOP mode 0 of 30: 1280x800; the
largest offered is mode 27, 2048x2048`); screendump-largest-mode boots
once to read that line, then again with QEMU's VGA announcing that size as
its preferred one (EDID xres/yres, which OVMF sets), requires the kernel's
`fbcon:` line to name it and runs the screendump check there.

Boots run in parallel, JOBS at once (default 3, at most 3).  Prints
PASS/FAIL with the reasons and the console tail; the last line is
`matrix: N passed, M failed`; exit status 1 on any failure.  Select tests
with a regex: matrix.py 'pc|screen'.  `matrix.py --png OUT screendump` also
writes the screendump as a PNG (the README screenshot, docs/screen.png).
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402  (boot, check_done, check_usable, parse_sfo, ...)

ROOT = boottest.ROOT
BUILD = boottest.BUILD
FBDECODE = os.path.join(ROOT, "tools", "fbdecode.py")
JOBS = max(1, min(3, int(os.environ.get("JOBS", "3"))))

# name: (MACHINE, CPU, MEM, SMP).  Pairwise coverage is checked by
# check_coverage() at start-up, so an edit that loses a pair fails loudly.
# Listed longest first (64G boots take the longest), so the pool's last
# boots are the short ones.
MATRIX = [
    ("pc", "qemu64", "64G", 1),
    ("q35", "max", "64G", 2),
    ("q35", "qemu64", "64G", 4),
    ("q35", "max", "64G", 8),
    ("q35", "qemu64", "5G", 1),
    ("pc", "max", "5G", 2),
    ("q35", "max", "5G", 4),
    ("pc", "qemu64", "5G", 8),
    ("pc", "max", "128M", 1),
    ("pc", "qemu64", "128M", 2),
    ("pc", "max", "128M", 4),
    ("q35", "max", "128M", 8),
]
TIMEOUT = int(os.environ.get("MATRIX_TIMEOUT", "150"))  # seconds per boot
DIMENSIONS = {"MACHINE": ("q35", "pc"), "CPU": ("qemu64", "max"),
              "MEM": ("128M", "5G", "64G"), "SMP": (1, 2, 4, 8)}
# QEMU's -m in bytes (64G: qemu-run.sh backs it with a sparse file).
MEM_BYTES = {"128M": 128 << 20, "5G": 5 << 30, "64G": 64 << 30}
PAGE = {"qemu64": ("2 MiB", 2 << 20), "max": ("1 GiB", 1 << 30)}

# 4 levels: no matrix entry asks for paging=5 and none has the 64 TiB of RAM
# that would make the loader switch up (efi/la57.c).
DIRECT_RE = re.compile(r"^memboot: direct map 0x([0-9a-f]+) bytes at 0x[0-9a-f]+ "
                       r"\((1 GiB|2 MiB) pages, 4-level paging\)", re.M)
SELFTEST_RE = re.compile(r"^selftest: (\d+) passed, (\d+) failed$", re.M)
MADT_RE = re.compile(r"^acpi: MADT cpus=(\d+)\b", re.M)


def cfg_name(machine, cpu, mem, smp):
    return f"{machine}-{cpu}-{mem}-smp{smp}"


def check_coverage():
    """Every pair of values of any two dimensions occurs in MATRIX."""
    keys = list(DIMENSIONS)
    have = set()
    for row in MATRIX:
        for i in range(len(keys)):
            for j in range(i + 1, len(keys)):
                have.add((i, row[i], j, row[j]))
    missing = []
    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            for a in DIMENSIONS[keys[i]]:
                for b in DIMENSIONS[keys[j]]:
                    if (i, a, j, b) not in have:
                        missing.append(f"{keys[i]}={a} with {keys[j]}={b}")
    return missing


def check_selftest(text, fails):
    m = SELFTEST_RE.findall(text)
    if not m:
        fails.append("no `selftest: N passed, M failed` line")
    elif int(m[-1][1]) != 0 or int(m[-1][0]) == 0:
        fails.append(f"selftest: {m[-1][0]} passed, {m[-1][1]} failed")


def matrix_test(machine, cpu, mem, smp):
    cfg = {"MACHINE": machine, "CPU": cpu, "MEM": mem, "SMP": smp}

    def run():
        fails = []
        status, text = boottest.kernel_boot(cfg, timeout=TIMEOUT)
        if status == 124:
            fails.append(f"timed out after {TIMEOUT} s (MATRIX_TIMEOUT)")
        boottest.check_done(status, text, fails)
        check_selftest(text, fails)
        boottest.check_usable(text, fails)
        boottest.check_efirt(text, fails)
        raw = boottest.parse_sfo(text)
        usable = [(s, e) for t, s, e, pages, attr in raw if boottest.is_usable(t, attr)]

        size = MEM_BYTES[mem]
        m = re.search(r"^memmap: usable (\d+) bytes", text, re.M)
        if m and not size - size // 16 <= int(m.group(1)) <= size:
            fails.append(f"usable {m.group(1)} bytes for -m {mem}: not within "
                         f"[{size - size // 16}, {size}]")

        want, psize = PAGE[cpu]
        d = DIRECT_RE.search(text)
        if not d:
            fails.append("no `memboot: direct map ... pages` line")
        else:
            hhdm = int(d.group(1), 16)
            if d.group(2) != want:
                fails.append(f"direct map uses {d.group(2)} pages, CPU {cpu} wants {want}")
            # The direct map holds RAM only (mm/hhdm.h): its span ends
            # where RAM ends, on a page boundary.
            if hhdm % 4096:
                fails.append(f"direct map size {hhdm:#x} is not a multiple of 4 KiB")
            top = max((e + 1 for s, e in usable), default=0)
            if hhdm < top:
                fails.append(f"direct map size {hhdm:#x} does not cover usable RAM up to {top:#x}")

        cpus = MADT_RE.findall(text)
        if cpus and int(cpus[-1]) != smp:
            fails.append(f"acpi: MADT cpus={cpus[-1]}, QEMU has -smp {smp}")
        boottest.check_smp(text, smp, fails)
        return fails, text
    return run


# --- screendump -------------------------------------------------------------

def monitor_cmd(sock, cmd, timeout):
    """Sends one HMP command and returns its echo/output up to the next
    prompt (HMP finishes a screendump before it prints the prompt)."""
    sock.settimeout(timeout)
    sock.sendall(cmd.encode() + b"\n")
    buf = b""
    while not buf.endswith(b"(qemu) "):
        d = sock.recv(4096)
        if not d:
            break
        buf += d
    return buf


def connect_monitor(path, deadline):
    while True:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            s.settimeout(max(1, deadline - time.time()))
            buf = b""
            while not buf.endswith(b"(qemu) "):
                d = s.recv(4096)
                if not d:
                    raise OSError("monitor closed")
                buf += d
            return s
        except OSError:
            s.close()
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def screen_rows(ppm):
    """The decoded screen (fbdecode.py without --log), one string per row."""
    r = subprocess.run([sys.executable, FBDECODE, ppm], capture_output=True)
    return r.returncode, r.stdout.decode("utf-8", "replace").splitlines()


def screendump_boot(d, cfg, timeout=180, extra=""):
    """Boots build/esp.img's tree with an empty cmdline, no serial port and
    debugcon to d/debugcon.log (extra: more QEMU options); takes
    d/screen.ppm once `memboot: done` is logged.  Returns (fails, log text,
    ppm path or None)."""
    fails = []
    img = os.path.join(d, "halt.img")
    boottest.make_image(boottest.ESP, "", img)
    log = os.path.join(d, "debugcon.log")
    sockp = os.path.join(d, "mon.sock")
    ppm = os.path.join(d, "screen.ppm")
    env = dict(os.environ)
    env.update({k: str(v) for k, v in cfg.items()})
    env.update({"SERIAL": "none", "DEBUGCON": f"file:{log}",
                "QEMU_EXTRA": f"-monitor unix:{sockp},server=on,wait=off {extra}",
                "TIMEOUT": str(timeout), "DISK_WRITE": "0"})
    p = subprocess.Popen([boottest.QEMU_RUN, img], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True)

    def text():
        try:
            with open(log, encoding="latin-1") as f:
                return f.read().replace("\r", "")
        except FileNotFoundError:
            return ""

    deadline = time.time() + timeout
    got = None
    try:
        while time.time() < deadline and p.poll() is None:
            t = text()
            if re.search(r"^memboot: done$", t, re.M):
                got = "done"
                break
            if re.search(r"^(panic|trap):", t, re.M):
                time.sleep(1)   # let the trap dump finish
                got = "trap"
                break
            time.sleep(0.2)
        if p.poll() is not None:
            out = p.stdout.read().decode("utf-8", "replace").strip()
            fails.append(f"QEMU ended (status {p.returncode}) before `memboot: done`"
                         + (f": {out[-300:]}" if out else ""))
            return fails, text(), None
        if got is None:
            fails.append(f"no `memboot: done` in the debugcon log after {timeout} s")
        sock = connect_monitor(sockp, time.time() + 30)
        try:
            if got == "done":
                # The console writes debugcon before it draws, so the last
                # lines may still be going onto the screen (a scroll half
                # done): take dumps until two in a row are identical.
                prev = None
                for _ in range(20):
                    monitor_cmd(sock, f"screendump {ppm}", 60)
                    with open(ppm, "rb") as f:
                        cur = f.read()
                    if cur == prev:
                        break
                    prev = cur
                    time.sleep(0.5)
                else:
                    fails.append("the screen kept changing after `memboot: done`")
            monitor_cmd(sock, "quit", 30)
        except OSError:
            pass        # quit closes the socket
        finally:
            sock.close()
        p.wait(timeout=60)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, 15)
            p.wait()
    t = text()
    if got == "done":
        # The kernel halts (empty cmdline) and QEMU ends by our `quit`, so
        # qemu-run.sh's status says nothing about the kernel: not checked.
        boottest.check_done(0, t, fails)
        check_selftest(t, fails)
    elif got == "trap":
        for l in t.splitlines():
            if l.startswith(("panic:", "trap:")):
                fails.append(f"kernel reported: {l}")
    if got != "done" or not os.path.exists(ppm):
        if got == "done":
            fails.append("QEMU wrote no screendump")
        return fails, t, None
    return fails, t, ppm


GOP_RE = re.compile(r"^memboot: GOP mode \d+ of \d+: (\d+)x(\d+); "
                    r"the largest offered is mode \d+, (\d+)x(\d+)$", re.M)


def largest_mode(fails):
    """Boots once with the default display and returns the largest GOP
    mode the firmware's QueryMode offers, (width, height), as the loader
    reports it; None (and a failure) if it does not."""
    status, text = boottest.kernel_boot({"MACHINE": "q35", "MEM": "512M"})
    m = GOP_RE.search(text)
    if not m:
        fails.append("the loader printed no `memboot: GOP mode` line")
        return None
    return int(m.group(3)), int(m.group(4))


def screendump_test(png=None, largest=False):
    """The screendump check at the firmware's default mode, or (largest)
    at the largest mode it offers: QEMU's VGA then announces that size as
    its preferred one (EDID), which OVMF sets, and the kernel keeps it."""
    def run():
        d = boottest.tmpdir()
        try:
            extra, fails = "", []
            if largest:
                wh = largest_mode(fails)
                if not wh:
                    return fails, ""
                extra = f"-vga none -device VGA,xres={wh[0]},yres={wh[1]}"
            fails, text, ppm = screendump_boot(d, {"MACHINE": "q35", "MEM": "512M"},
                                               extra=extra)
            if largest and not re.search(rf"^fbcon: {wh[0]}x{wh[1]} framebuffer ", text, re.M):
                fails.append(f"the kernel's fbcon line does not name the largest mode "
                             f"{wh[0]}x{wh[1]}")
            if not ppm:
                return fails, text
            log = os.path.join(d, "debugcon.log")
            cmd = [sys.executable, FBDECODE, ppm, "--log", log]
            if png:
                cmd += ["--png", png]
            r = subprocess.run(cmd, capture_output=True)
            out = r.stdout.decode("utf-8", "replace")
            if r.returncode != 0:
                fails.append(f"fbdecode.py --log failed (status {r.returncode}): "
                             + (out.splitlines() or [r.stderr.decode()])[0])
                return fails, text + "\n--- screen ---\n" + out
            rc, rows = screen_rows(ppm)
            if rc != 0:
                fails.append(f"fbdecode.py (decode only) status {rc}")
                return fails, text
            if "memboot: done" not in rows:
                fails.append("`memboot: done` is not on the screen")
            if not any(r.startswith("mmpic:") for r in rows):
                fails.append("no memory-map picture (`mmpic:` row) on the screen")
            # Control: the check must fail when one on-screen row is not in
            # the log.  Alter the last character of the last occurrence in
            # the log of the last text row on screen.
            text_rows = [r for r in rows if r and "\u2592" not in r
                         and not r.startswith("mmpic:")]
            if not text_rows:
                fails.append("no text rows decoded on the screen")
                return fails, text
            row = text_rows[-1]
            i = text.rfind(row)
            if i < 0:
                fails.append(f"screen row {row!r} not found verbatim in the log for the control")
                return fails, text
            pos = i + len(row) - 1
            bad = text[:pos] + ("#" if text[pos] != "#" else "%") + text[pos + 1:]
            badlog = os.path.join(d, "altered.log")
            with open(badlog, "w", encoding="latin-1") as f:
                f.write(bad)
            r = subprocess.run([sys.executable, FBDECODE, ppm, "--log", badlog],
                               capture_output=True)
            if r.returncode != 1:
                fails.append(f"control: fbdecode.py --log with row {row!r} altered in the log "
                             f"exited {r.returncode}, expected 1")
            return fails, text
        finally:
            shutil.rmtree(d, ignore_errors=True)
    return run


def tests(png=None):
    t = {cfg_name(*row): matrix_test(*row) for row in MATRIX}
    t["screendump-q35-512M-serial-none"] = screendump_test(png)
    t["screendump-largest-mode"] = screendump_test(largest=True)
    return t


def main():
    ap = argparse.ArgumentParser(description="memboot boot matrix and screendump test")
    ap.add_argument("select", nargs="?", help="regex selecting tests by name")
    ap.add_argument("--png", help="also write the screendump test's screen as this PNG")
    a = ap.parse_args()

    missing = check_coverage()
    if missing:
        print("matrix: MATRIX misses the pairs: " + ", ".join(missing))
        print("matrix: 0 passed, 1 failed")
        return 1
    all_tests = tests(a.png and os.path.abspath(a.png))
    sel = re.compile(a.select) if a.select else None
    names = [n for n in all_tests if not sel or sel.search(n)]
    # The screendump test is short: start it with the long 64G boots.
    names.sort(key=lambda n: (0 if n.startswith("screendump") or "64G" in n else 1))
    return boottest.run_suite("matrix", all_tests, names, JOBS)

if __name__ == "__main__":
    sys.exit(main())
