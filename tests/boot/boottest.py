#!/usr/bin/env python3
"""QEMU boot tests of memboot (run by `make test-boot`, part of `make test`).

Every test boots build/esp.img (or a variant of it) under QEMU+OVMF through
tools/qemu-run.sh and checks the serial console against an independent truth:
the EDK II shell's own `memmap -sfo` for the same QEMU configuration,
arithmetic on the raw map the kernel printed, QEMU's command line.

Tests run in parallel (JOBS tests at once, default 2; a map test runs two
QEMUs at once).
Each prints PASS/FAIL with the reasons; the last line is
`boot: N passed, M failed`.  Select tests with a regex: boottest.py 'q35'.
"""
import concurrent.futures
import datetime
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
ESP = os.path.join(ROOT, "esp")
QEMU_RUN = os.path.join(ROOT, "tools", "qemu-run.sh")
MKESP = os.path.join(ROOT, "tools", "mkesp.sh")
JOBS = int(os.environ.get("JOBS", "2"))

# EFI memory types whose entries do not change between two boots of the same
# configuration (the shell's boot and ours): compared entry by entry.
STABLE_TYPES = {"Reserved", "RuntimeCode", "RuntimeData", "RT_Code", "RT_Data",
                "ACPIReclaimMemory", "ACPIMemoryNVS", "MemoryMappedIO",
                "MemoryMappedIOPortSpace", "UnusableMemory", "PalCode",
                "Persistent"}
# Types that become usable RAM for the kernel (conventional + boot services)
# when their attributes have WB and neither SP nor RUNTIME (mm/memmap.c rule
# 1; OVMF puts WB on all its RAM).
USABLE_TYPES = {"Available", "BootServiceCode", "BootServiceData"}
EFI_MEMORY_WB = 1 << 3
EFI_MEMORY_SP = 1 << 18


def is_usable(t, attr):
    """1 if a raw entry of -sfo type t with attributes attr is usable RAM."""
    return (t in USABLE_TYPES and attr & EFI_MEMORY_WB and not attr & EFI_MEMORY_SP
            and not attr & EFI_MEMORY_RUNTIME)

SFO_RE = re.compile(r'^MemoryMap,"([^"]*)","([0-9A-F]+)","([0-9A-F]+)","([0-9A-F]+)","([0-9A-F]+)"\s*$')


def tmpdir():
    d = tempfile.mkdtemp(prefix="memboot-test.", dir=os.path.join(BUILD))
    return d


def make_image(tree, cmdline, out):
    """FAT image `out` from directory `tree` (+ \\boot\\cmdline if given)."""
    subprocess.run([MKESP, out, tree, cmdline], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def boot(img, cfg, timeout=120, until=None, write=False, linger=0, until_count=1):
    """Boots img with cfg (MEM, SMP, MACHINE, CPU, QEMU_EXTRA); returns
    (status, console text).  With `until` (a regex), QEMU is stopped as
    soon as the until_count-th console line matches it (status None); with linger > 0, only
    `linger` seconds after that line, and the status is None only if QEMU
    was still running then (it did not exit or reset on its own)."""
    env = dict(os.environ)
    env.update({k: str(v) for k, v in cfg.items()})
    env["SERIAL"] = "stdio"
    env["TIMEOUT"] = str(timeout)
    env["DISK_WRITE"] = "1" if write else "0"
    p = subprocess.Popen([QEMU_RUN, img], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    lines = []
    pat = re.compile(until) if until else None
    matched = False
    fired = threading.Event()

    def stop():
        fired.set()
        os.killpg(p.pid, 15)
    for raw in p.stdout:
        line = raw.decode("utf-8", "replace").replace("\r", "")
        lines.append(line)
        if pat and pat.search(line):
            until_count -= 1
            if until_count > 0:
                continue
            matched = True
            if not linger:
                break
            pat = None
            threading.Timer(linger, stop).start()
    if matched and linger:
        status = p.wait()
        return (None if fired.is_set() else status), "".join(lines)
    if matched:
        os.killpg(p.pid, 15)
        p.wait()
        return None, "".join(lines)
    return p.wait(), "".join(lines)


def parse_sfo(text):
    """(type, start, end, pages, attr) for every `memmap -sfo` line."""
    out = []
    for line in text.splitlines():
        m = SFO_RE.match(line.strip())
        if m:
            out.append((m.group(1), int(m.group(2), 16), int(m.group(3), 16),
                        int(m.group(4), 16), int(m.group(5), 16)))
    return out


def shell_memmap(cfg):
    """Boots the EDK II shell built into OVMF with a startup.nsh that writes
    `memmap -sfo` to the ESP, under the same QEMU configuration; returns the
    parsed entries (the independent truth for the raw map)."""
    d = tmpdir()
    try:
        tree = os.path.join(d, "tree")
        os.makedirs(tree)
        with open(os.path.join(tree, "startup.nsh"), "w") as f:
            f.write("@echo -off\r\nmemmap -sfo >a fs0:\\memmap.txt\r\nreset -s\r\n")
        img = os.path.join(d, "shell.img")
        make_image(tree, "", img)
        boot(img, cfg, timeout=180, write=True)
        r = subprocess.run(["mcopy", "-i", img, "::memmap.txt", "-"],
                           capture_output=True)
        return parse_sfo(r.stdout.decode("utf-8", "replace"))
    finally:
        shutil.rmtree(d, ignore_errors=True)


def kernel_boot(cfg, timeout=180):
    status, text = boot(os.path.join(BUILD, "esp.img"), cfg, timeout=timeout)
    return status, text


def check_done(status, text, fails):
    lines = [l for l in text.splitlines()]
    if status != 0:
        fails.append(f"qemu-run.sh exit status {status} (0 = kernel exited with 0)")
    if "memboot: done" not in lines:
        fails.append("no `memboot: done` line")
    elif lines[-1] != "memboot: done" and [l for l in lines if l.strip()][-1] != "memboot: done":
        fails.append("`memboot: done` is not the last line")
    for l in lines:
        if l.startswith("panic:") or l.startswith("trap:"):
            fails.append(f"kernel reported: {l}")


def check_usable(text, fails):
    """The kernel's usable total against arithmetic on its own raw map:
    conventional + boot-services memory with WB and without SP, page 0
    excluded (EFI pages are 4 KiB and OVMF's map has no overlaps, so no
    other rule applies)."""
    raw = parse_sfo(text)
    if not raw:
        fails.append("no raw map lines printed")
        return
    want = 0
    for t, start, end, pages, attr in raw:
        if is_usable(t, attr):
            n = end + 1 - start
            if start == 0:
                n -= 4096
            want += n
    m = re.search(r"^memmap: usable (\d+) bytes in (\d+) regions$", text, re.M)
    if not m:
        fails.append("no `memmap: usable` line")
        return
    if int(m.group(1)) != want:
        fails.append(f"memmap: usable {m.group(1)} bytes, the raw map says {want}")
    p = re.search(r"^pmm: (\d+) free frames of (\d+) \((\d+) MiB free\)$", text, re.M)
    if not p:
        fails.append("no `pmm:` line")
        return
    free, total, mib = int(p.group(1)), int(p.group(2)), int(p.group(3))
    if total != want // 4096:
        fails.append(f"pmm total {total} frames, usable RAM is {want // 4096} frames")
    # The allocator's metadata is the only memory used before the line is
    # printed: the bitmap and the frame tags, one bit per frame each up to
    # the top of RAM, where[] (16 bits per frame: which cache slot holds
    # it), a summary bit per 64-bit bitmap word (1/64 of the bitmap, and
    # 1/64 of that again), a free-block bit per 2 MiB (1/512 of the
    # bitmap), the per-CPU frame caches (at most 256 of 576 bytes: 36
    # pages) and a few pages of rounding.
    top = max(end + 1 for t, s, end, pages, attr in raw if is_usable(t, attr))
    bitmap_pages = (top // 4096 // 8 + 4095) // 4096
    meta_pages = 18 * bitmap_pages + bitmap_pages // 63 + bitmap_pages // 511 + 36 + 8
    if not (total - meta_pages <= free <= total):
        fails.append(f"pmm free {free} not within [{total - meta_pages}, {total}]")
    if mib != free * 4096 >> 20:
        fails.append(f"pmm MiB {mib} != {free} frames")


def compare_with_shell(text, shell, fails):
    """Every stable entry must be in both maps with the same type, start
    and end."""
    if not shell:
        fails.append("the shell's memmap -sfo produced no entries")
        return
    mine = {(t, s, e) for t, s, e, *_ in parse_sfo(text) if t in STABLE_TYPES}
    theirs = {(t, s, e) for t, s, e, *_ in shell if t in STABLE_TYPES}
    for x in sorted(theirs - mine, key=lambda x: x[1]):
        fails.append(f"shell has {x[0]} {x[1]:X}-{x[2]:X}, the kernel's raw map does not")
    for x in sorted(mine - theirs, key=lambda x: x[1]):
        fails.append(f"kernel's raw map has {x[0]} {x[1]:X}-{x[2]:X}, the shell's does not")
    if not mine:
        fails.append("no stable entries to compare")


# UEFI runtime services (kernel/efirt/efirt.h).  The truth: the runtime
# descriptors of the raw map (the shell's memmap -sfo, or the kernel's own
# raw lines, which the vs-shell tests prove equal), the host's UTC clock
# (QEMU's RTC starts at the host's UTC), mm/layout.h's window.
EFI_MEMORY_RUNTIME = 1 << 63
EFI_MEMORY_WB_BIT = 1 << 3
EFIRT_BASE, EFIRT_END = 0xfffff00000000000, 0xfffff01000000000
# GetTime may differ from the host clock by the boot's own length and the
# RTC's whole seconds; three minutes is "the same time", an hour or a
# wrong day is not.
EFIRT_CLOCK_SLACK = 180
SVAM_RE = re.compile(r"^efirt: SetVirtualAddressMap ok: (\d+) runtime regions at 0x([0-9a-f]+)$", re.M)
MAT_RE = re.compile(r"^efirt: memory attributes table: (\d+) entries, (\d+) applied$", re.M)
WINDOW_RE = re.compile(r"^efirt: window: (\d+) pages \((\d+) RX, (\d+) R, (\d+) RW\+NX, (\d+) uncached\), "
                       r"stack 64 KiB, (xsave|fxsave)$", re.M)
GETTIME_RE = re.compile(r"^efirt: GetTime (\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)$", re.M)
EFIRT_FAULT_RE = re.compile(r"^efirt: page fault in GetTime at rip 0x([0-9a-f]+) "
                            r"\(address 0x([0-9a-f]+), error 0x([0-9a-f]+)\): runtime services off$", re.M)


def runtime_truth(raw):
    """(regions, pages, code pages, uncached pages) of the runtime
    descriptors of a parsed raw map: what the window must hold."""
    rt = [e for e in raw if e[4] & EFI_MEMORY_RUNTIME]
    pages = sum(e[3] for e in rt)
    code = sum(e[3] for e in rt if e[0] in ("RT_Code", "RuntimeCode"))
    uc = sum(e[3] for e in rt if not e[4] & EFI_MEMORY_WB_BIT or e[0] in ("MMIO", "MemoryMappedIO"))
    return len(rt), pages, code, uc


def check_efirt(text, fails, raw=None, now=None):
    """The efirt lines of a normal boot: SetVirtualAddressMap with as many
    regions as the raw map has runtime descriptors, at an address in the
    runtime window; the window's pages equal the descriptors' pages (the
    uncached ones: those without WB, and MMIO), RX no more than runtime
    code; OVMF's memory attributes table applied whole; GetTime within
    EFIRT_CLOCK_SLACK of the host's UTC clock; ptcheck clean with the
    window mapped; no `efirt: off` or fault line."""
    raw = parse_sfo(text) if raw is None else raw
    now = datetime.datetime.now(datetime.timezone.utc) if now is None else now
    n, pages, code, uc = runtime_truth(raw)
    if n == 0:
        fails.append("efirt: the raw map has no runtime descriptor to compare with")
    m = SVAM_RE.findall(text)
    if len(m) != 1:
        fails.append(f"{len(m)} `efirt: SetVirtualAddressMap ok` lines, want 1")
    else:
        if int(m[0][0]) != n:
            fails.append(f"efirt: {m[0][0]} runtime regions, the raw map has {n} runtime descriptors")
        if not EFIRT_BASE <= int(m[0][1], 16) < EFIRT_END:
            fails.append(f"efirt: regions at 0x{m[0][1]}, outside the runtime window")
    w = WINDOW_RE.search(text)
    if not w:
        fails.append("no `efirt: window:` line")
    else:
        total, rx, r, rw, unc = (int(x) for x in w.groups()[:5])
        if total != pages or rx + r + rw != total:
            fails.append(f"efirt window: {total} pages ({rx}+{r}+{rw}), runtime descriptors hold {pages}")
        if rx > code:
            fails.append(f"efirt window: {rx} RX pages, only {code} pages of runtime code")
        if unc != uc:
            fails.append(f"efirt window: {unc} uncached pages, the raw map has {uc} without WB")
    mat = MAT_RE.findall(text)
    if len(mat) != 1:
        fails.append("no `efirt: memory attributes table: N entries, K applied` line (OVMF has one)")
    elif int(mat[0][0]) == 0 or mat[0][0] != mat[0][1]:
        fails.append(f"efirt: memory attributes table: {mat[0][0]} entries, {mat[0][1]} applied; "
                     "OVMF's table is valid, want all applied")
    t = GETTIME_RE.findall(text)
    if len(t) != 1:
        fails.append(f"{len(t)} `efirt: GetTime` lines, want 1")
    else:
        try:
            got = datetime.datetime(*(int(x) for x in t[0]), tzinfo=datetime.timezone.utc)
            if abs((got - now).total_seconds()) > EFIRT_CLOCK_SLACK:
                fails.append(f"efirt: GetTime {got:%Y-%m-%d %H:%M:%S}, host UTC {now:%Y-%m-%d %H:%M:%S}")
        except ValueError as e:
            fails.append(f"efirt: GetTime {t[0]} is no date: {e}")
    for l in text.splitlines():
        if l.startswith("efirt: off") or EFIRT_FAULT_RE.match(l):
            fails.append(f"kernel reported: {l}")
    if not re.search(r"^selftest: ptcheck: \d+ leaf entries, 0 violations$", text, re.M):
        fails.append("no clean `selftest: ptcheck: ... 0 violations` line with the window mapped")


def check_efirt_fault(text, fails):
    """The test-efirt-unmap boot: GetTime's region unmapped after
    SetVirtualAddressMap; the call faults on an instruction fetch at the
    address it jumped to (rip = cr2, error code P=0 I=1), runtime
    services go off with one line, no GetTime line, and the boot goes on
    to `memboot: done`."""
    if not re.search(r"^efirt: test: runtime region \d+ \(0x[0-9a-f]+, \d+ pages, GetTime's code\) "
                     r"unmapped: MM_OK$", text, re.M):
        fails.append("no `efirt: test: runtime region ... unmapped: MM_OK` line")
    m = EFIRT_FAULT_RE.findall(text)
    if len(m) != 1:
        fails.append(f"{len(m)} `efirt: page fault in GetTime ...: runtime services off` lines, want 1")
    else:
        rip, addr, err = (int(x, 16) for x in m[0])
        if rip != addr or not EFIRT_BASE <= rip < EFIRT_END:
            fails.append(f"efirt fault at rip 0x{rip:x} address 0x{addr:x}: want an instruction "
                         "fetch in the runtime window")
        if err & 0x1 or not err & 0x10:
            fails.append(f"efirt fault error 0x{err:x}: want not-present (P=0) and fetch (I=1)")
    if GETTIME_RE.search(text):
        fails.append("a GetTime line although GetTime's code was unmapped")
    if "memboot: done" not in text.splitlines():
        fails.append("the boot did not reach `memboot: done` after the caught fault")


def test_efirt_checks():
    """Controls for check_efirt and check_efirt_fault on fabricated
    consoles: a good one passes; a wrong region count, a window of the
    wrong size, a MAT entry not applied, no MAT, GetTime an hour off or
    no date, an `efirt: off` line, a ptcheck violation are each caught;
    the fault check fails on a normal console and check_efirt on the
    fault console."""
    raw = [("RT_Code", 0x7f000000, 0x7f063fff, 0x64, 0x800000000000000F),
           ("RT_Data", 0x7f064000, 0x7f0fffff, 0x9c, 0x800000000000000F),
           ("MMIO", 0xffc00000, 0xffffffff, 0x400, 0x8000000000000001),
           ("Available", 0x100000, 0x7effffff, 0x7ef00, 0xF)]
    now = datetime.datetime(2026, 11, 21, 18, 3, 30, tzinfo=datetime.timezone.utc)
    good = ["efirt: memory attributes table: 3 entries, 3 applied",
            "efirt: window: 1280 pages (100 RX, 0 R, 1180 RW+NX, 1024 uncached), stack 64 KiB, fxsave",
            "efirt: SetVirtualAddressMap ok: 3 runtime regions at 0xfffff00000012000",
            "efirt: GetTime 2026-11-21 18:03:12",
            "selftest: ptcheck: 4361 leaf entries, 0 violations", "memboot: done"]
    fault = good[:3] + [
        "efirt: test: runtime region 0 (0xfffff00000012000, 100 pages, GetTime's code) unmapped: MM_OK",
        "efirt: page fault in GetTime at rip 0xfffff00000012345 (address 0xfffff00000012345, "
        "error 0x10): runtime services off"] + good[4:]

    def variant(i, line):
        lines = list(good)
        if line is None:
            lines.pop(i)
        else:
            lines[i] = line
        return "\n".join(lines) + "\n"
    controls = {
        "region count": variant(2, good[2].replace(": 3 runtime", ": 4 runtime")),
        "outside the window": variant(2, good[2].replace("0xfffff0", "0xffffc0")),
        "window size": variant(1, good[1].replace("1280 pages (100 RX, 0 R, 1180", "1279 pages (100 RX, 0 R, 1179")),
        "uncached": variant(1, good[1].replace("1024 uncached", "1000 uncached")),
        "too much RX": variant(1, good[1].replace("100 RX, 0 R, 1180", "101 RX, 0 R, 1179")),
        "MAT entry skipped": variant(0, "efirt: memory attributes table: 3 entries, 2 applied"),
        "no MAT": variant(0, "efirt: no memory attributes table"),
        "GetTime an hour off": variant(3, "efirt: GetTime 2026-11-21 19:03:12"),
        "GetTime no date": variant(3, "efirt: GetTime 2026-13-21 18:03:12"),
        "no GetTime": variant(3, None),
        "off line": variant(4, "efirt: off: system table at 0x1000: bad CRC32"),
        "ptcheck": variant(4, "selftest: ptcheck: 4361 leaf entries, 2 violations"),
    }

    def run():
        fails = []
        f = []
        check_efirt("\n".join(good) + "\n", f, raw, now)
        if f:
            fails.append(f"good console: {f}")
        for name, text in controls.items():
            f = []
            check_efirt(text, f, raw, now)
            if not f:
                fails.append(f"control `{name}` not caught by check_efirt")
        f = []
        check_efirt_fault("\n".join(fault) + "\n", f)
        if f:
            fails.append(f"good fault console: {f}")
        f = []
        check_efirt_fault("\n".join(good) + "\n", f)
        if not f:
            fails.append("check_efirt_fault passed a console without the fault")
        f = []
        check_efirt("\n".join(fault) + "\n", f, raw, now)
        if not f:
            fails.append("check_efirt passed the fault console")
        f = []
        check_efirt_fault("\n".join(fault).replace("error 0x10", "error 0x11") + "\n", f)
        if not f:
            fails.append("check_efirt_fault passed a present-page fault")
        return fails, ""
    return run


def reset_outcome(status, text):
    """How an end-of-boot word ended a run: "poweroff" (QEMU exited by
    itself, status 200 from qemu-run.sh, after one `memboot: done` and one
    loader start), "reset" (the firmware came back: a second loader start
    - QEMU runs with -action reboot=reset so a reset is visible), "halt"
    (QEMU still running at the timeout) or "other"."""
    starts = text.count("memboot: loader starting")
    done = text.splitlines().count("memboot: done")
    if status is None and starts == 2 and done == 1:
        return "reset"
    if status == 200 and starts == 1 and done == 1:
        return "poweroff"
    if status == 124 and starts == 1:
        return "halt"
    return f"other (status {status}, {starts} loader starts, {done} done lines)"


def test_efirt_reset():
    """Cmdline `poweroff` and `reboot` (no qemu-exit), booted at once:
    with `poweroff` QEMU must exit by itself (ResetSystem(EfiResetShutdown)
    powers the machine off) and not reset; with `reboot` the firmware must
    start again (EfiResetCold).  QEMU runs with -action reboot=reset (the
    test script's -no-reboot undone), so the two endings differ; a kernel
    that halted would run into the timeout.  Each outcome is the other's
    control: the same classifier must tell them apart."""
    cfg = {"MEM": "256M", "QEMU_EXTRA": "-action reboot=reset"}
    timeout = 60

    def one(word):
        return boot_tree(lambda t: None, cfg, timeout, until=r"^memboot: loader starting",
                         cmdline=word, until_count=2)

    def run():
        fails = []
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            p, r = ex.submit(one, "poweroff"), ex.submit(one, "reboot")
            (ps, ptext), (rs, rtext) = p.result(), r.result()
        po, ro = reset_outcome(ps, ptext), reset_outcome(rs, rtext)
        if po != "poweroff":
            fails.append(f"cmdline poweroff ended in {po}, want poweroff")
        if ro != "reset":
            fails.append(f"cmdline reboot ended in {ro}, want reset")
        if po == ro:
            fails.append("the two words ended alike: the check cannot tell them apart")
        for word, text in (("poweroff", ptext), ("reboot", rtext)):
            first = text.split("memboot: done")[0]
            if not SVAM_RE.search(first) or not GETTIME_RE.search(first):
                fails.append(f"{word}: runtime services not up before `memboot: done`")
        return fails, ptext + "\n[reboot run]\n" + rtext
    return run


def test_map_vs_shell(cfg):
    def run():
        fails = []
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            k = ex.submit(kernel_boot, cfg)
            s = ex.submit(shell_memmap, cfg)
            status, text = k.result()
            shell = s.result()
        check_done(status, text, fails)
        check_usable(text, fails)
        compare_with_shell(text, shell, fails)
        check_efirt(text, fails, raw=shell)
        return fails, text
    return run


def test_huge(mem, low, high):
    """A guest too big for host RAM (sparse backing): boots, and the usable
    total (checked against the raw map) lies within [low, high] bytes."""
    def run():
        fails = []
        status, text = kernel_boot({"MEM": mem}, timeout=300)
        check_done(status, text, fails)
        check_usable(text, fails)
        m = re.search(r"^memmap: usable (\d+) bytes", text, re.M)
        if m and not low <= int(m.group(1)) <= high:
            fails.append(f"usable {m.group(1)} bytes is not within [{low}, {high}]")
        return fails, text
    return run


def check_acpi_common(text, fails):
    """What every boot with ACPI must show: no bad table, the DSDT, the
    demo mappings all undone, the ramdisk as packed from initrd/."""
    for l in text.splitlines():
        if "checksum=BAD" in l or "ignored" in l and l.startswith("acpi:"):
            fails.append(f"bad table: {l}")
    if not re.search(r"^acpi: DSDT phys=0x[0-9a-f]{16} len=\d+ rev=\d+ oem=\"[^\"]*\" checksum=ok$", text, re.M):
        fails.append("no DSDT line with checksum=ok")
    if not re.search(r"^acpi: demo mappings: .* live=0 .*: ok$", text, re.M):
        fails.append("demo mappings not all undone (or no line)")
    # The ramdisk listing must equal the initrd/ folder the image was made from.
    want = {}
    top = os.path.join(ROOT, "initrd")
    for d, _, files in os.walk(top):
        for f in files:
            p = os.path.join(d, f)
            want[os.path.relpath(p, top)] = os.path.getsize(p)
    got = {m.group(1): int(m.group(2)) for m in
           re.finditer(r"^ramdisk: file (\S+) size=(\d+)$", text, re.M)}
    if got != want:
        fails.append(f"ramdisk listing {sorted(got.items())} != initrd/ {sorted(want.items())}")
    if not re.search(r"^ramdisk: hello\.txt: ", text, re.M):
        fails.append("hello.txt not printed")


SMP_ONLINE_RE = re.compile(r"^smp: (\d+) of (\d+) CPUs online in \d+\.\d{3} ms \((xapic|x2apic)\)$", re.M)
# The proof lines of kernel/smp/smp_selftest.c: <hits>/<others> each.
SMP_PROOF = ("call: ", "guard: ", "shootdown control: ", "shootdown: ")


def check_smp(text, smp, fails, tried=None):
    """`smp: <smp> of <tried> CPUs online` (tried defaults to smp) and, with
    other CPUs, every proof line of the SMP selftest with all of them."""
    tried = smp if tried is None else tried
    m = SMP_ONLINE_RE.findall(text)
    if len(m) != 1:
        fails.append(f"{len(m)} `smp: N of M CPUs online` lines, want 1")
    elif (int(m[0][0]), int(m[0][1])) != (smp, tried):
        fails.append(f"smp: {m[0][0]} of {m[0][1]} CPUs online, want {smp} of {tried}")
    if smp > 1:
        for p in SMP_PROOF:
            if not re.search(rf"^smp: {p}{smp - 1}/{smp - 1} CPUs ", text, re.M):
                fails.append(f"no `smp: {p}{smp - 1}/{smp - 1} CPUs ...` line")
        if not re.search(rf"^smp: shootdown storm: {smp} CPUs x \d+ shootdowns at once: done$", text, re.M):
            fails.append("no `smp: shootdown storm` line")
        # The all-CPU stress (kernel/smp/smp_stress.c): every CPU ran it,
        # no error, the free-frame count back at its baseline, ptcheck
        # clean, and its control (a frame claimed twice) caught.
        m = re.search(r"^smp: stress: (\d+) CPUs x \d+ ops: (\d+) errors, "
                      r"free frames (\d+) before, (\d+) after$", text, re.M)
        if not m:
            fails.append("no `smp: stress: N CPUs x M ops` line")
        elif int(m.group(1)) != smp or m.group(2) != "0" or m.group(3) != m.group(4):
            fails.append(f"smp stress: {m.group(0)}")
        if not re.search(r"^smp: stress: \d+ unmaps, \d+ shootdowns \(\d+ per 1,000 unmaps\), "
                         r"ptcheck 0 violations$", text, re.M):
            fails.append("no clean `smp: stress: ... ptcheck 0 violations` line")
        if not re.search(r"^smp: stress: control, one frame claimed twice: caught$", text, re.M):
            fails.append("the smp stress control was not caught")
        check_ask(text, smp, fails)


def check_ask(text, smp, fails):
    """`smp: ask: ...` (kernel/smp/smp_stress.c): after the stress, frames
    sat in the caches of at least one of the smp - 1 other CPUs, the boot
    CPU asked for them (mm/pmm.c theory 10: kick IPIs the idle CPUs answer)
    and none was left cached, with the free count unchanged."""
    m = re.search(r"^smp: ask: (\d+) frames cached on (\d+) other CPUs, (\d+) cached after "
                  r"pmm_drain_all; free frames (\d+) before, (\d+) after$", text, re.M)
    if not m:
        fails.append("no `smp: ask:` line")
        return
    held, cpus, left, a, b = (int(x) for x in m.groups())
    if held == 0 or not 1 <= cpus <= smp - 1 or left != 0 or a != b:
        fails.append(f"smp ask: {m.group(0)}")


def check_cpus(text, smp, fails):
    m = re.search(r"^acpi: MADT cpus=(\d+) ioapics=(\d+)$", text, re.M)
    if not m:
        fails.append("no `acpi: MADT cpus=` line")
    elif int(m.group(1)) != smp:
        fails.append(f"MADT cpus={m.group(1)}, QEMU has -smp {smp}")
    check_smp(text, smp, fails)


def test_smp_ghost():
    """-smp 2,maxcpus=4: the MADT lists 4 CPUs, 2 enabled (hot-plug slots
    are never started), and the cmdline word test-smp-ghost adds APIC ID
    254, which no CPU has: it is reported as not started and the boot
    goes on, bounded by the start timeout.  Folded in, test-efirt-unmap:
    a runtime call that faults is caught (check_efirt_fault)."""
    def run():
        fails = []
        status, text = boot_tree(lambda t: None, {"MEM": "512M", "SMP": "2,maxcpus=4"}, 180,
                                 cmdline="qemu-exit test-smp-ghost test-efirt-unmap")
        check_done(status, text, fails)
        # Folded in (one boot less): the runtime fault caught.
        check_efirt_fault(text, fails)
        m = re.search(r"^acpi: MADT cpus=(\d+) ioapics=\d+$", text, re.M)
        if not m or m.group(1) != "2":
            fails.append(f"MADT cpus={m and m.group(1)}, want the 2 enabled of maxcpus=4")
        if not re.search(r"^acpi: MADT disabled-cpus=2 ", text, re.M):
            fails.append("no `acpi: MADT disabled-cpus=2` line (QEMU's hot-plug slots)")
        if not re.search(r"^smp: CPU apic 254 did not start$", text, re.M):
            fails.append("no `smp: CPU apic 254 did not start` line")
        check_smp(text, 2, fails, tried=3)
        return fails, text
    return run


def test_smp_no_trampoline():
    """The loader's cmdline word test-no-trampoline makes it skip the low
    pages: the kernel says why it uses one CPU and boots on."""
    def run():
        fails = []
        status, text = boot_tree(lambda t: None, {"MEM": "512M", "SMP": 2}, 180,
                                 cmdline="qemu-exit test-no-trampoline")
        check_done(status, text, fails)
        if not re.search(r"^memboot: no 6 pages below 1 MiB for the AP trampoline", text, re.M):
            fails.append("no loader line about the missing trampoline pages")
        if not re.search(r"^smp: one CPU: the loader reserved no trampoline pages below 1 MiB$",
                         text, re.M):
            fails.append("no `smp: one CPU: the loader reserved no trampoline pages` line")
        if SMP_ONLINE_RE.search(text):
            fails.append("an `smp: N of M CPUs online` line without a trampoline")
        return fails, text
    return run


def test_acpi_q35():
    """q35, 4 CPUs, an extra ACPI table (-acpitable) and an extra PCI device:
    all must show up, checked against what this test handed QEMU."""
    def run():
        fails = []
        d = tmpdir()
        try:
            data = os.path.join(d, "memb.dat")
            payload = b"memboot-acpi-test-table!"  # 24 bytes
            with open(data, "wb") as f:
                f.write(payload)
            extra = (f"-acpitable sig=MEMB,rev=1,oem_id=MEMBT,data={data} "
                     "-device pci-testdev")
            status, text = kernel_boot({"MEM": "512M", "SMP": 4, "QEMU_EXTRA": extra})
        finally:
            shutil.rmtree(d, ignore_errors=True)
        check_done(status, text, fails)
        check_cpus(text, 4, fails)
        check_acpi_common(text, fails)
        check_efirt(text, fails)
        # An ACPI table is a 36-byte header followed by the data.
        want_len = 36 + len(payload)
        if not re.search(rf'^acpi: MEMB phys=0x[0-9a-f]{{16}} len={want_len} rev=1 oem="MEMBT" checksum=ok$',
                         text, re.M):
            fails.append(f"no `acpi: MEMB ... len={want_len} rev=1 oem=\"MEMBT\" checksum=ok` line")
        # q35's host bridge and the test device (PCI IDs 8086:29c0, 1b36:0005).
        for dev in ("8086:29c0", "1b36:0005"):
            if not re.search(rf"^pci: [0-9a-f]{{2}}:[0-9a-f]{{2}}\.[0-7] {dev} class=[0-9a-f]{{6}}$", text, re.M):
                fails.append(f"PCI device {dev} not listed")
        if not re.search(r"^hpet: counter .*: advancing$", text, re.M):
            fails.append("HPET counter not shown advancing")
        return fails, text
    return run


def test_pci_bridges():
    """q35 with two PCIe root ports, a PCIe-to-PCI bridge behind the second
    and a test device behind each: one at device 0 of its bus (the root
    port's link) and one at device 3 of the conventional bus behind the
    PCI bridge, which has no device 0 (found only through its bridge).
    The listing must hold exactly the functions this test handed QEMU on
    top of q35's own five, and equal QEMU's own query-pci (over QMP)."""
    def run():
        fails = []
        extra = ("-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x10 "
                 "-device pci-testdev,bus=rp1 "
                 "-device pcie-root-port,id=rp2,bus=pcie.0,chassis=2,addr=0x11 "
                 "-device pcie-pci-bridge,id=pb,bus=rp2 "
                 "-device pci-testdev,bus=pb,addr=0x3")
        status, text, reply, err = qmp_boot({"MEM": "512M"}, extra)
        check_done(status, text, fails)
        if err or reply is None:
            fails.append(f"no query-pci from QEMU: {err}")
        else:
            fails += compare_pci(text, pci_truth(reply))
        fn = re.findall(r"^pci: ([0-9a-f]{2}):([0-9a-f]{2})\.([0-7]) ([0-9a-f]{4}:[0-9a-f]{4}) "
                        r"class=([0-9a-f]{6})$", text, re.M)
        # q35's 5 functions, 2 root ports, the PCI bridge, 2 test devices.
        if len(fn) != 10:
            fails.append(f"{len(fn)} PCI functions listed, want 10")
        m = re.search(r"^pci: segment 0: (\d+) functions$", text, re.M)
        if not m or m.group(1) != str(len(fn)):
            fails.append("the `pci: segment 0: N functions` count differs from the lines")
        tdev = [f for f in fn if f[3] == "1b36:0005"]
        if len(tdev) != 2:
            fails.append(f"{len(tdev)} test devices listed, want 2")
        if not any(f[1] == "03" and f[0] != "00" for f in tdev):
            fails.append("the test device at device 3 behind the PCI bridge is not listed")
        if not any(f[1] == "00" and f[0] != "00" for f in tdev):
            fails.append("the test device at device 0 behind the root port is not listed")
        if sum(1 for f in fn if f[4].startswith("0604")) != 3:
            fails.append("want 3 PCI-to-PCI bridges (class 0604xx) listed")
        return fails, text
    return run


# ---------------------------------------------------------------- PCI against QEMU's view

PCI_LINE_RE = re.compile(r"^pci: ([0-9a-f]{2}):([0-9a-f]{2})\.([0-7]) ([0-9a-f]{4}):([0-9a-f]{4}) "
                         r"class=([0-9a-f]{6})$", re.M)
# QEMU pc's own functions (i440FX host bridge, PIIX3 ISA, IDE, ACPI/PM, std VGA).
PC_FUNCTIONS = ("8086:1237", "8086:7000", "8086:7010", "8086:7113", "1234:1111")


def qmp_command(f, cmd):
    """Sends one QMP command on the file f; returns its "return" value
    (events in between are skipped)."""
    f.write((json.dumps({"execute": cmd}) + "\n").encode())
    f.flush()
    while True:
        line = f.readline()
        if not line:
            raise RuntimeError(f"QMP closed during {cmd}")
        r = json.loads(line)
        if "return" in r:
            return r["return"]
        if "error" in r:
            raise RuntimeError(f"QMP {cmd}: {r['error']}")


def qmp_query_pci(path, timeout=60):
    """QEMU's query-pci through the QMP socket at path (waits for it)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(20)
            s.connect(path)
            break
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    with s, s.makefile("rwb") as f:
        f.readline()                      # the greeting
        qmp_command(f, "qmp_capabilities")
        return qmp_command(f, "query-pci")


def pci_truth(reply):
    """{(bus, dev, fn): ("vvvv:dddd", class << 8 | subclass)} of every
    function in a query-pci reply, bridges' buses included."""
    out = {}

    def walk(devices):
        for d in devices:
            out[(d["bus"], d["slot"], d["function"])] = (
                "%04x:%04x" % (d["id"]["vendor"], d["id"]["device"]), d["class_info"]["class"])
            walk(d.get("pci_bridge", {}).get("devices", []))
    for bus in reply:
        walk(bus["devices"])
    return out


def pci_listing(text):
    """The kernel's `pci:` function lines as {(bus, dev, fn): (id, class16)}
    and the number of lines (a function listed twice counts twice)."""
    got, n = {}, 0
    for m in PCI_LINE_RE.finditer(text):
        n += 1
        got[(int(m.group(1), 16), int(m.group(2), 16), int(m.group(3)))] = (
            f"{m.group(4)}:{m.group(5)}", int(m.group(6), 16) >> 8)
    return got, n


def compare_pci(text, truth):
    """Fails where the kernel's listing differs from QEMU's (truth, from
    pci_truth): a function missing, one too many or listed twice, another
    id or class; and the `pci: segment 0: N functions` count."""
    fails = []
    got, n = pci_listing(text)
    if n != len(got):
        fails.append(f"{n} `pci:` function lines for {len(got)} functions (one listed twice)")
    for k in sorted(set(truth) | set(got)):
        where = "%02x:%02x.%u" % k
        if k not in got:
            fails.append(f"QEMU has {where} {truth[k][0]}, the kernel did not list it")
        elif k not in truth:
            fails.append(f"the kernel listed {where} {got[k][0]}, QEMU has no such function")
        elif got[k] != truth[k]:
            fails.append(f"{where}: kernel {got[k][0]} class {got[k][1]:04x}, "
                         f"QEMU {truth[k][0]} class {truth[k][1]:04x}")
    m = re.findall(r"^pci: segment 0: (\d+) functions$", text, re.M)
    if m != [str(n)]:
        fails.append(f"`pci: segment 0: N functions` lines {m}, want one with {n}")
    return fails


def qmp_boot(cfg, extra, timeout=180):
    """Boots build/esp.img with cfg and QEMU_EXTRA extra plus a QMP socket;
    once the loader prints its first line (the firmware has numbered the
    buses behind bridges by then) asks QEMU for query-pci.  Returns
    (status, text, reply or None, error or None)."""
    d = tmpdir()
    sock = os.path.join(d, "qmp.sock")
    got = {}

    def ask():
        try:
            got["reply"] = qmp_query_pci(sock)
        except Exception as e:  # reported as a failure by the caller
            got["error"] = repr(e)
    env = dict(os.environ)
    env.update({k: str(v) for k, v in cfg.items()})
    env.update({"SERIAL": "stdio", "TIMEOUT": str(timeout), "DISK_WRITE": "0",
                "QEMU_EXTRA": f"{extra} -qmp unix:{sock},server=on,wait=off"})
    try:
        p = subprocess.Popen([QEMU_RUN, os.path.join(BUILD, "esp.img")], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        lines, t = [], None
        for raw in p.stdout:
            line = raw.decode("utf-8", "replace").replace("\r", "")
            lines.append(line)
            if t is None and line.startswith("memboot: loader starting"):
                t = threading.Thread(target=ask)
                t.start()
        status = p.wait()
        if t:
            t.join()
        return status, "".join(lines), got.get("reply"), got.get("error", None if t else "no loader line")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_acpi_pc():
    """pc (no MCFG: PCI through the legacy ports 0xCF8/0xCFC), one CPU, a
    PCI-to-PCI bridge with a test device behind it at device 3: the
    kernel's `pci:` listing must equal QEMU's own query-pci (over QMP),
    which must hold pc's five functions and the two added ones."""
    def run():
        fails = []
        extra = ("-device pci-bridge,id=br1,chassis_nr=1,addr=0x5 "
                 "-device pci-testdev,bus=br1,addr=0x3")
        status, text, reply, err = qmp_boot({"MEM": "512M", "MACHINE": "pc", "SMP": 1}, extra)
        check_done(status, text, fails)
        check_cpus(text, 1, fails)
        check_acpi_common(text, fails)
        check_efirt(text, fails)
        if not re.search(r"^pci: legacy config ports 0xcf8/0xcfc: buses 00-ff$", text, re.M):
            fails.append("no `pci: legacy config ports` line")
        if err or reply is None:
            fails.append(f"no query-pci from QEMU: {err}")
            return fails, text
        truth = pci_truth(reply)
        ids = sorted(v[0] for v in truth.values())
        for want in PC_FUNCTIONS + ("1b36:0001", "1b36:0005"):
            if want not in ids:
                fails.append(f"QEMU's query-pci has no {want}: {ids}")
        if not any(k[0] != 0 and v[0] == "1b36:0005" for k, v in truth.items()):
            fails.append("QEMU shows the test device on bus 0, not behind the bridge")
        fails += compare_pci(text, truth)
        text += f"\n[query-pci: {len(truth)} functions: {ids}]\n"
        return fails, text
    return run


def test_pci_compare():
    """Controls for compare_pci (no QEMU): a fabricated query-pci reply in
    QEMU's shape with a bridge, and a kernel listing equal to it, pass;
    the listing without one function, with one extra, with a function
    twice, with another class, or with a wrong count is caught."""
    reply = [{"bus": 0, "devices": [
        {"bus": 0, "slot": 0, "function": 0, "id": {"vendor": 0x8086, "device": 0x1237},
         "class_info": {"class": 0x0600}},
        {"bus": 0, "slot": 1, "function": 3, "id": {"vendor": 0x8086, "device": 0x7113},
         "class_info": {"class": 0x0680}},
        {"bus": 0, "slot": 5, "function": 0, "id": {"vendor": 0x1b36, "device": 0x0001},
         "class_info": {"class": 0x0604}, "pci_bridge": {"devices": [
             {"bus": 1, "slot": 3, "function": 0, "id": {"vendor": 0x1b36, "device": 0x0005},
              "class_info": {"class": 0x00ff}}]}}]}]
    good = ["pci: 00:00.0 8086:1237 class=060000", "pci: 00:01.3 8086:7113 class=068000",
            "pci: 00:05.0 1b36:0001 class=060400", "pci: 01:03.0 1b36:0005 class=00ff00",
            "pci: segment 0: 4 functions"]

    def text(ls):
        return "\n".join(ls) + "\n"
    controls = {
        "missing": (good[:1] + good[2:4] + ["pci: segment 0: 3 functions"], "did not list"),
        "extra": (good[:4] + ["pci: 00:02.0 1234:1111 class=030000", "pci: segment 0: 5 functions"],
                  "no such function"),
        "twice": (good[:4] + [good[3], "pci: segment 0: 5 functions"], "listed twice"),
        "class": ([good[0].replace("060000", "060100")] + good[1:], "class"),
        "count": (good[:4] + ["pci: segment 0: 5 functions"], "segment 0"),
    }

    def run():
        fails = []
        truth = pci_truth(reply)
        if len(truth) != 4 or truth.get((1, 3, 0)) != ("1b36:0005", 0x00ff):
            fails.append(f"pci_truth: {truth}")
        f = compare_pci(text(good), truth)
        if f:
            fails.append(f"good listing: {f}")
        for name, (ls, want) in controls.items():
            f = compare_pci(text(ls), truth)
            if not any(want in x for x in f):
                fails.append(f"control `{name}` not caught (want {want!r}): {f}")
        return fails, ""
    return run


def test_bad_ramdisk():
    """A ramdisk with one header byte changed: a clear error naming the
    entry, and the kernel carries on to `memboot: done`."""
    def run():
        fails = []

        def damage(data):
            data[0] ^= 0x20  # first byte of the first entry's name
            return data
        status, text = boot_mutated("boot/initrd", damage, {"MEM": "256M"}, 120)
        check_done(status, text, fails)
        if not re.search(r'^ramdisk: error: .*checksum.* at entry ".*"', text, re.M):
            fails.append("no `ramdisk: error: ... checksum ... at entry` line")
        return fails, text
    return run


def boot_tree(change, cfg, timeout, until=None, cmdline="qemu-exit", linger=0, until_count=1):
    """Boots a copy of the ESP tree after change(tree path) edited it, with
    \\boot\\cmdline = cmdline (None: whatever the tree has); returns
    (status, console text)."""
    d = tmpdir()
    try:
        tree = os.path.join(d, "esp")
        shutil.copytree(ESP, tree)
        change(tree)
        img = os.path.join(d, "esp.img")
        make_image(tree, cmdline or "", img)
        return boot(img, cfg, timeout=timeout, until=until, linger=linger,
                    until_count=until_count)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def boot_mutated(relpath, mutate, cfg, timeout, until=None):
    """Boots a copy of the ESP tree whose file relpath went through
    mutate(bytearray) -> bytes; returns (status, console text)."""
    def change(tree):
        path = os.path.join(tree, *relpath.split("/"))
        with open(path, "rb") as f:
            data = bytearray(f.read())
        with open(path, "wb") as f:
            f.write(mutate(data))
    return boot_tree(change, cfg, timeout, until)


def replace_file(relpath, content=None):
    """A boot_tree change: relpath becomes a file holding content (bytes), or
    a directory (with one file inside) when content is None."""
    def change(tree):
        path = os.path.join(tree, *relpath.split("/"))
        if os.path.exists(path):
            os.remove(path)
        if content is None:
            os.makedirs(path)
            with open(os.path.join(path, "x"), "wb") as f:
                f.write(b"x")
        else:
            with open(path, "wb") as f:
                f.write(content)
    return change


def optional_file_test(relpath, content, expect, cmdline="qemu-exit"):
    """An unusable optional file (empty, over-size, a directory): the loader
    prints one line naming it and matching `expect`, and the kernel boots
    to `memboot: done` without it."""
    def run():
        fails = []
        status, text = boot_tree(replace_file(relpath, content), {"MEM": "256M"}, 120,
                                 until=r"memboot: done|panic|loader error", cmdline=cmdline)
        name = "\\" + relpath.replace("/", "\\")
        m = re.search(r"^memboot: (.*); going on without it", text, re.M)
        if not m:
            fails.append("no `memboot: <file>: <why>; going on without it` line")
        elif not m.group(1).startswith(name + ": ") or not re.search(expect, m.group(1)):
            fails.append(f"line {m.group(0)!r} does not name {name} with {expect!r}")
        if "memboot: done" not in text:
            fails.append("the kernel did not reach `memboot: done`")
        if "loader error" in text:
            fails.append("the loader gave up")
        if relpath == "boot/initrd" and "ramdisk: none loaded" not in text:
            fails.append("the kernel saw a ramdisk")
        return fails, text
    return run


def kernel_directory_test():
    """\\boot\\kernel.elf is a directory: the loader says so (not a short read)
    and never starts a kernel."""
    def run():
        fails = []
        status, text = boot_tree(replace_file("boot/kernel.elf"), {"MEM": "256M"}, 90,
                                 until=r"memboot: loader error|memboot: kernel starting")
        if not re.search(r"memboot: loader error: \\boot\\kernel.elf: is a directory", text):
            fails.append("no `loader error: \\boot\\kernel.elf: is a directory` line")
        if "memboot: kernel starting" in text:
            fails.append("the kernel was started")
        return fails, text
    return run


def test_exit_retry():
    """ExitBootServices refused once (the loader allocates a page after
    GetMemoryMap, cmdline word test-exit-retry): the loader fetches the map
    again, retries, and the kernel reports 1 retry; the same boot without
    the word reports 0 (the control)."""
    def run():
        fails = []
        for words, want in (("qemu-exit test-exit-retry", 1), ("qemu-exit", 0)):
            status, text = boot_tree(lambda tree: None, {"MEM": "256M"}, 120, cmdline=words)
            check_done(status, text, fails)
            m = re.search(r"ExitBootServices retries (\d+)", text)
            if not m or int(m.group(1)) != want:
                fails.append(f"cmdline {words!r}: retries {m.group(1) if m else None}, want {want}")
        return fails, text
    return run


def test_no_wb_above_4g():
    """Firmware that leaves EFI_MEMORY_WB off the RAM above 4 GiB (the loader
    poses as one, cmdline word test-no-wb-above-4g) on a 6G q35, whose RAM
    above 4 GiB is [4 GiB, 8 GiB) by QEMU's configuration: that memory is
    printed without WB in the raw map, is not usable (a `reserved` line
    covers 4 GiB), nothing usable lies at or above 4 GiB, the usable total is
    what the raw map's WB RAM adds up to, and the selftest (which checks the
    direct map against the raw map) passes: no panic in mm_phys_to_virt."""
    def run():
        fails = []
        status, text = boot_tree(lambda tree: None, {"MEM": "6G"}, 240,
                                 cmdline="qemu-exit test-no-wb-above-4g")
        check_done(status, text, fails)
        check_usable(text, fails)
        raw = [r for r in parse_sfo(text) if r[1] >= 1 << 32]
        if not any(t in ("Available", "BS_Code", "BS_Data") for t, *_ in raw):
            fails.append("no RAM above 4 GiB in the raw map")
        for t, start, end, pages, attr in raw:
            if t in ("Available", "BS_Code", "BS_Data") and attr & 0x8:
                fails.append(f"RAM at {start:#x} still has WB")
        for m in re.finditer(r"^memmap: \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\] (.*)$", text, re.M):
            lo, hi, kind = int(m.group(1), 16), int(m.group(2), 16), m.group(3)
            if kind == "usable" and hi >= 1 << 32:
                fails.append(f"usable region {m.group(0)!r} at or above 4 GiB")
            if lo <= 1 << 32 <= hi and kind != "reserved":
                fails.append(f"4 GiB is in {kind!r}, not reserved")
        if not re.search(r"^selftest: \d+ passed, 0 failed$", text, re.M):
            fails.append("selftest did not pass")
        return fails, text
    return run


def test_cmdline_escaped():
    """Control bytes in \\boot\\cmdline are printed escaped, never raw."""
    def run():
        fails = []
        raw = b"qemu-exit \x1b[2J\x07bell\"\\"
        status, text = boot_tree(replace_file("boot/cmdline", raw + b"\n"), {"MEM": "256M"},
                                 120, cmdline=None)
        check_done(status, text, fails)
        want = 'cmdline "qemu-exit \\x1b[2J\\x07bell\\"\\\\"'
        if want not in text:
            fails.append(f"no {want!r} in the BootInfo line")
        # The firmware's own console output has escape sequences: look at
        # what the kernel printed only.
        kernel = text[text.find("memboot: kernel starting"):]
        if "\x1b" in kernel or "\x07" in kernel:
            fails.append("a raw control byte from the kernel reached the console")
        return fails, text
    return run


def broken_kernel_test(name, mutate, expect):
    """Boots the loader with a damaged kernel.elf; the loader must print a
    clear error (regex `expect`) and never start the kernel."""
    def run():
        fails = []
        status, text = boot_mutated("boot/kernel.elf", mutate, {"MEM": "256M"}, 90,
                                    until=r"memboot: loader error|memboot: kernel starting")
        if "memboot: kernel starting" in text:
            fails.append("the kernel was started")
        m = re.search(r"memboot: loader error: .*", text)
        if not m:
            fails.append("no `memboot: loader error:` message")
        elif not re.search(expect, m.group(0)):
            fails.append(f"message {m.group(0)!r} does not match {expect!r}")
        return fails, text
    return run


def mut_magic(d):
    d[0:4] = b"\x7fELG"
    return d


def mut_truncate(d):
    # Cut the file in the middle of its last PT_LOAD segment's bytes.
    phoff = int.from_bytes(d[32:40], "little")
    phnum = int.from_bytes(d[56:58], "little")
    ends = []
    for i in range(phnum):
        ph = d[phoff + 56 * i: phoff + 56 * (i + 1)]
        if int.from_bytes(ph[0:4], "little") == 1:
            off = int.from_bytes(ph[8:16], "little")
            filesz = int.from_bytes(ph[32:40], "little")
            ends.append(off + filesz // 2)
    return d[: max(ends)]


def mut_low_segment(d):
    # Move the first program header's vaddr into the lower half.
    phoff = int.from_bytes(d[32:40], "little")
    d[phoff + 16:phoff + 24] = (0x400000).to_bytes(8, "little")
    return d


def tiny_elf(code):
    """A minimal kernel.elf: one R+X PT_LOAD at KERNEL_VA_BASE holding code,
    entry at its first byte."""
    va, off = 0xffffffff80000000, 0x1000
    ehdr = struct.pack("<4sBBBBB7xHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0,
                       2, 62, 1, va, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, off, va, va, len(code), 0x1000, 0x1000)
    return (ehdr + phdr).ljust(off, b"\0") + code


SAFETY_RE = re.compile(r"^memboot: loader safety net: exception (\d+) \(([^)]*)\) "
                       r"at rip 0x([0-9a-f]+) error 0x([0-9a-f]+)(?: cr2 0x([0-9a-f]+))?$", re.M)


def safety_net_test(code, rip_off, vector, name, error, cr2=None):
    """\\boot\\kernel.elf is a tiny ELF whose entry faults at once: the
    loader's safety net must print its line once - vector, name, RIP (the
    ELF header's entry + rip_off, read back from the file), error code,
    CR2 for #PF - and halt: QEMU (-no-reboot) still running 5 s later, no
    reset, no second line.  Control (see README): a loader without the net
    triple-faults, QEMU exits and there is no line."""
    def run():
        fails = []
        elf = tiny_elf(code)
        entry = struct.unpack_from("<Q", elf, 24)[0]
        status, text = boot_tree(replace_file("boot/kernel.elf", elf), {"MEM": "256M"}, 150,
                                 until=r"memboot: loader safety net: halted", linger=5)
        lines = SAFETY_RE.findall(text)
        if status is not None:
            fails.append(f"QEMU was not halted 5 s after the report: status {status} "
                         "(exited, reset or never got there)")
        if len(lines) != 1:
            fails.append(f"{len(lines)} safety-net lines, want exactly 1")
        if lines:
            v, n, rip, err, c2 = lines[0]
            want = (str(vector), name, f"{entry + rip_off:x}", f"{error:x}",
                    f"{cr2:x}" if cr2 is not None else "")
            if (v, n, rip, err, c2) != want:
                fails.append(f"got vector {v} ({n}) rip {rip} error {err} cr2 {c2!r}, want {want}")
        if text.count("memboot: loader starting") != 1:
            fails.append("the loader started more than once (a reset)")
        return fails, text
    return run


# ---------------------------------------------------------------- boot timeline

BOOT_STAGES = ("loader-entry", "exit-boot-services", "kernel-entry", "memory-ready",
               "console-ready", "efirt-ready", "smp-ready", "selftest-done", "acpi-done",
               "ramdisk-done", "done")
BOOT_STAGE_RE = re.compile(r"^boot: ([a-z-]+) (\d+)\.(\d{3}) ms$")
BOOT_TSC_RE = re.compile(r"^boot: tsc (\d+)\.(\d{3}) MHz \((cpuid|hpet|pmtimer)\)$")
# Plausible TSC frequencies: any x86 CPU since the Pentium, with margin.
TSC_MHZ_MIN, TSC_MHZ_MAX = 100, 10000


def parse_timeline(text):
    """Parses the kernel's `boot:` lines (kernel/time/boottime.h).  Returns
    (stages, mhz, source, fails): stages maps each stage to its time in
    microseconds; fails lists every broken rule - the nine stages each
    once, in order, strictly increasing, then the tsc line with a
    plausible frequency, all before `memboot: done`."""
    fails, stages, order = [], {}, []
    mhz = source = None
    lines = text.splitlines()
    done_at = lines.index("memboot: done") if "memboot: done" in lines else len(lines)
    for i, l in enumerate(lines):
        m, t = BOOT_STAGE_RE.match(l), BOOT_TSC_RE.match(l)
        if m and m.group(1) in BOOT_STAGES:
            if i > done_at:
                fails.append(f"`{l}` after `memboot: done`")
            if m.group(1) in stages:
                fails.append(f"stage {m.group(1)} printed twice")
            if mhz is not None:
                fails.append(f"`{l}` after the tsc line")
            stages[m.group(1)] = int(m.group(2)) * 1000 + int(m.group(3))
            order.append(m.group(1))
        elif t:
            if mhz is not None:
                fails.append("two tsc lines")
            mhz = int(t.group(1)) + int(t.group(2)) / 1000
            source = t.group(3)
            if i > done_at:
                fails.append("the tsc line is after `memboot: done`")
        elif l.startswith("boot: ") and not l.startswith("boot: tsc frequency unknown"):
            fails.append(f"malformed timeline line `{l}`")
    if "boot: tsc frequency unknown" in text:
        fails.append("the kernel found no TSC frequency source")
    if [s for s in BOOT_STAGES if s in order] != order or len(order) != len(set(order)):
        fails.append(f"stages in the order {order}, want {list(BOOT_STAGES)}")
    missing = [s for s in BOOT_STAGES if s not in stages]
    if missing:
        fails.append(f"stages missing: {missing}")
    times = [stages[s] for s in BOOT_STAGES if s in stages]
    for a, b, ta, tb in zip(BOOT_STAGES, BOOT_STAGES[1:], times, times[1:]):
        if tb <= ta:
            fails.append(f"{b} at {tb} us is not after {a} at {ta} us")
    if mhz is None:
        fails.append("no `boot: tsc <MHz> MHz (<source>)` line")
    elif not TSC_MHZ_MIN <= mhz <= TSC_MHZ_MAX:
        fails.append(f"TSC at {mhz} MHz is outside {TSC_MHZ_MIN}..{TSC_MHZ_MAX} MHz")
    return stages, mhz, source, fails


def timed_boot(img, cfg, timeout=180):
    """Boots img like boot(); returns (status, text, t_loader, t_done): host
    seconds from QEMU's start to the arrival of the loader's first line and
    of `memboot: done` (None if never seen)."""
    env = dict(os.environ)
    env.update({k: str(v) for k, v in cfg.items()})
    env.update({"SERIAL": "stdio", "TIMEOUT": str(timeout), "DISK_WRITE": "0"})
    t0 = time.monotonic()
    p = subprocess.Popen([QEMU_RUN, img], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    lines, t_loader, t_done = [], None, None
    for raw in p.stdout:
        line = raw.decode("utf-8", "replace").replace("\r", "")
        lines.append(line)
        if t_loader is None and line.startswith("memboot: loader starting"):
            t_loader = time.monotonic() - t0
        if line.rstrip("\n") == "memboot: done":
            t_done = time.monotonic() - t0
    return p.wait(), "".join(lines), t_loader, t_done


def test_timeline(cfg, want_source):
    """Boots with cfg; the TSC frequency must come from want_source (QEMU's
    TCG CPUs have no CPUID leaf 0x15: the HPET, or with the HPET off the
    PM timer).  The boot timeline against the host's clock: done - loader-entry is
    positive and less than the wall-clock time from QEMU's start to
    `memboot: done`, and within 15 % (+ 0.3 s of pipe and scheduling
    slack) of the host-measured time between the loader's first line and
    `memboot: done` - which a wrong TSC frequency would miss."""
    def run():
        fails = []
        status, text, t_loader, t_done = timed_boot(os.path.join(BUILD, "esp.img"), cfg)
        check_done(status, text, fails)
        stages, mhz, source, pf = parse_timeline(text)
        fails += pf
        if source is not None and source != want_source:
            fails.append(f"TSC frequency from {source}, want {want_source}")
        if t_done is None or "done" not in stages or "loader-entry" not in stages:
            return fails, text
        span = (stages["done"] - stages["loader-entry"]) / 1e6
        host = t_done - t_loader
        if not 0 < span < t_done:
            fails.append(f"done - loader-entry = {span:.3f} s, want 0 < it < {t_done:.3f} s "
                         "(QEMU start to `memboot: done`, host clock)")
        if abs(span - host) > 0.15 * host + 0.3:
            fails.append(f"done - loader-entry = {span:.3f} s by the TSC at {mhz} MHz ({source}), "
                         f"{host:.3f} s by the host clock")
        text += (f"\n[timeline: {span:.3f} s by the TSC ({mhz} MHz, {source}), host {host:.3f} s "
                 f"loader->done, {t_done:.3f} s QEMU start->done]\n")
        return fails, text
    return run


def test_timeline_parser():
    """Controls for parse_timeline on fabricated consoles: a good one
    passes; a stage out of order, a time that does not increase, a missing
    stage, a missing or implausible tsc line, a stage after `memboot:
    done` are each caught."""
    good = ["boot: loader-entry 5903.118 ms", "boot: exit-boot-services 5950.000 ms",
            "boot: kernel-entry 5951.500 ms", "boot: memory-ready 6000.001 ms",
            "boot: console-ready 6010.000 ms", "boot: efirt-ready 6020.000 ms",
            "boot: smp-ready 6100.000 ms",
            "boot: selftest-done 6200.000 ms",
            "boot: acpi-done 6300.000 ms", "boot: ramdisk-done 6400.000 ms",
            "boot: done 9000.000 ms", "boot: tsc 2999.998 MHz (hpet)", "memboot: done"]
    TSC = 11   # index of the tsc line

    def variant(f):
        lines = list(good)
        f(lines)
        return "\n".join(lines) + "\n"

    def swap(lines):
        lines[2], lines[3] = lines[3], lines[2]

    def same(lines):
        lines[3] = "boot: memory-ready 5951.500 ms"

    def after_done(lines):
        lines.append(lines.pop(4))

    controls = {
        "out of order": (swap, "order"),
        "not increasing": (same, "is not after"),
        "missing stage": (lambda ls: ls.pop(1), "missing"),
        "no tsc line": (lambda ls: ls.pop(TSC), "no `boot: tsc"),
        "implausible tsc": (lambda ls: ls.__setitem__(TSC, "boot: tsc 12.000 MHz (cpuid)"), "outside"),
        "after done": (after_done, "after `memboot: done`"),
        "malformed": (lambda ls: ls.__setitem__(0, "boot: loader-entry 5903.1 ms"), "malformed"),
    }

    def run():
        fails = []
        stages, mhz, source, pf = parse_timeline(variant(lambda ls: None))
        if pf or stages.get("loader-entry") != 5903118 or mhz != 2999.998 or source != "hpet":
            fails.append(f"good console: {pf}, {stages}, {mhz}, {source}")
        for name, (f, want) in controls.items():
            pf = parse_timeline(variant(f))[3]
            if not any(want in x for x in pf):
                fails.append(f"control `{name}` not caught (want a reason with {want!r}): {pf}")
        return fails, ""
    return run


# ---------------------------------------------------------------- 5-level paging

CR4_LA57 = 1 << 12        # Intel SDM vol. 3, 2.5: CR4 bit 12
HHDM_BASE_BY_LEVELS = {4: 0xffff800000000000, 5: 0xff00000000000000}


def monitor_query(path, cmd, timeout=20):
    """Connects to QEMU's human monitor on the unix socket path, runs cmd and
    returns its reply (the text before the next `(qemu)` prompt)."""
    deadline = time.time() + timeout
    while True:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)
    s.settimeout(timeout)
    buf = b""

    def until_prompt():
        nonlocal buf
        while b"(qemu) " not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        out, _, buf = buf.partition(b"(qemu) ")
        return out.decode("utf-8", "replace")
    try:
        until_prompt()                      # the banner
        s.sendall(cmd.encode() + b"\n")
        return until_prompt()
    finally:
        s.close()


def boot_cr4(img, cfg, at, timeout=180):
    """Boots img with cfg and a monitor socket; when a console line matches
    the regex `at`, asks QEMU for `info registers -a` (in a thread, so the
    console keeps draining).  Returns (status, text, [CR4 of each CPU]) -
    QEMU's own view of the control registers, the independent truth."""
    d = tmpdir()
    sock = os.path.join(d, "mon.sock")
    cfg = dict(cfg)
    cfg["QEMU_EXTRA"] = (cfg.get("QEMU_EXTRA", "") + f" -monitor unix:{sock},server,nowait").strip()
    env = dict(os.environ)
    env.update({k: str(v) for k, v in cfg.items()})
    env.update({"SERIAL": "stdio", "TIMEOUT": str(timeout), "DISK_WRITE": "0"})
    reply = []
    try:
        p = subprocess.Popen([QEMU_RUN, img], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True)
        lines, pat, th = [], re.compile(at), None

        def ask():
            try:
                reply.append(monitor_query(sock, "info registers -a"))
            except OSError as e:
                reply.append(f"monitor error: {e!r}")
        for raw in p.stdout:
            line = raw.decode("utf-8", "replace").replace("\r", "")
            lines.append(line)
            if th is None and pat.search(line):
                th = threading.Thread(target=ask)
                th.start()
        status = p.wait()
        if th:
            th.join()
        cr4 = [int(v, 16) for v in re.findall(r"\bCR4=([0-9a-fA-F]+)", "".join(reply))]
        return status, "".join(lines), cr4
    finally:
        shutil.rmtree(d, ignore_errors=True)


def check_levels(text, cr4, smp, want, fails):
    """The loader's and the kernel's level lines say `want` levels, the
    direct map sits where those levels put it, and QEMU's CR4 of all smp
    CPUs has LA57 exactly when want is 5."""
    m = re.search(r"^memboot: paging: (\d) levels \(", text, re.M)
    if not m or int(m.group(1)) != want:
        fails.append(f"loader paging line says {m and m.group(1)} levels, want {want}")
    m = re.search(r"^memboot: direct map 0x[0-9a-f]+ bytes at (0x[0-9a-f]+) "
                  r"\((?:1 GiB|2 MiB) pages, (\d)-level paging\)", text, re.M)
    if not m:
        fails.append("no `memboot: direct map ... (... pages, N-level paging)` line")
    else:
        if int(m.group(2)) != want:
            fails.append(f"kernel says {m.group(2)}-level paging, want {want}")
        if int(m.group(1), 16) != HHDM_BASE_BY_LEVELS[want]:
            fails.append(f"direct map at {m.group(1)}, want {HHDM_BASE_BY_LEVELS[want]:#x}")
    if len(cr4) != smp:
        fails.append(f"QEMU's monitor gave {len(cr4)} CR4 values, want {smp}")
    for i, v in enumerate(cr4):
        if bool(v & CR4_LA57) != (want == 5):
            fails.append(f"QEMU: CPU {i} CR4={v:#x}: LA57 {'clear' if want == 5 else 'set'}")


def check_mm_clean(text, fails):
    """The selftest passed whole and ptcheck found nothing."""
    if not re.search(r"^selftest: \d+ passed, 0 failed$", text, re.M):
        fails.append("no `selftest: N passed, 0 failed` line")
    if not re.search(r"^selftest: ptcheck: \d+ leaf entries, 0 violations$", text, re.M):
        fails.append("no clean `selftest: ptcheck` line")


def test_la57_paging5():
    """-cpu max,la57=on with paging=5 at 512M and 2 CPUs: the loader switches
    up at the hand-off, the kernel (and both CPUs, says QEMU's CR4) runs
    5-level paging with the direct map at 0xff00000000000000, the selftest,
    ptcheck, the SMP selftest and the UEFI runtime services (check_efirt)
    pass.  Control: the same cmdline on a CPU
    without LA57 (la57=off) stays at 4 levels, CR4.LA57 clear."""
    def run():
        fails = []
        for cpu, want in (("max,la57=on", 5), ("max,la57=off", 4)):
            d = tmpdir()
            try:
                img = os.path.join(d, "esp.img")
                make_image(ESP, "qemu-exit paging=5", img)
                status, text, cr4 = boot_cr4(img, {"MEM": "512M", "SMP": 2, "CPU": cpu},
                                             r"^smp: 2 of 2 CPUs online")
            finally:
                shutil.rmtree(d, ignore_errors=True)
            f = []
            check_done(status, text, f)
            check_levels(text, cr4, 2, want, f)
            check_mm_clean(text, f)
            check_smp(text, 2, f)
            check_efirt(text, f)   # runtime services work in both modes
            if want == 4 and not re.search(r"^memboot: paging: 4 levels \(the CPU has no LA57", text, re.M):
                f.append("no loader line saying the CPU has no LA57")
            fails += [f"{cpu}: {x}" for x in f]
        return fails, text
    return run


def test_la57_firmware():
    """The loader started with LA57 already on (cmdline word
    test-la57-firmware: it switches first, posing as newer OVMF): it sees
    CR4.LA57, builds 5-level tables without a switch and the kernel reaches
    `memboot: done`; QEMU's CR4 says LA57.  One CPU: OVMF's own APs, parked
    at ExitBootServices with the BSP's CR3 but never given LA57, cannot
    follow a PML5 (QEMU logs CPU 1 resetting); real LA57 firmware starts
    its APs in 5-level mode.  Control: the word is what makes the
    difference - without it the same boot is 4-level."""
    def run():
        fails = []
        for words, want in (("qemu-exit test-la57-firmware", 5), ("qemu-exit", 4)):
            d = tmpdir()
            try:
                img = os.path.join(d, "esp.img")
                make_image(ESP, words, img)
                status, text, cr4 = boot_cr4(img, {"MEM": "512M", "SMP": 1, "CPU": "max,la57=on"},
                                             r"^memboot: direct map ")
            finally:
                shutil.rmtree(d, ignore_errors=True)
            f = []
            check_done(status, text, f)
            check_levels(text, cr4, 1, want, f)
            check_mm_clean(text, f)
            if want == 5 and not re.search(r"^memboot: paging: 5 levels \(the firmware runs 5-level", text, re.M):
                f.append("the loader did not see LA57 on at entry")
            fails += [f"{words!r}: {x}" for x in f]
        return fails, text
    return run


def test_la57_levels_lie():
    """The loader's word test-paging-levels-lie makes BootInfo claim 5
    levels (and the 5-level direct-map base) over 4-level tables: the
    kernel must compare with CR4.LA57 and stop with `memboot: bad BootInfo
    from the loader: paging levels 5, but CR4.LA57 is clear` (it halts:
    the boot is cut at that line)."""
    def run():
        fails = []
        status, text = boot_tree(lambda t: None, {"MEM": "256M", "CPU": "max,la57=on"}, 90,
                                 until=r"^memboot: bad BootInfo|^memboot: done",
                                 cmdline="qemu-exit test-paging-levels-lie")
        if not re.search(r"^memboot: test-paging-levels-lie: BootInfo says 5 levels$", text, re.M):
            fails.append("no loader line for the lie")
        if not re.search(r"^memboot: bad BootInfo from the loader: paging levels 5, but CR4.LA57 "
                         r"is clear$", text, re.M):
            fails.append("the kernel did not catch the levels/CR4.LA57 mismatch")
        if "memboot: done" in text:
            fails.append("the kernel booted on mismatched levels")
        return fails, text
    return run


def test_la57_levels_lie_down():
    """The other direction of test_la57_levels_lie: 5-level tables
    (paging=5) with BootInfo claiming 4 levels.  The loader must still
    switch up (its tables are 5-level whatever the field says), so the
    kernel runs and stops with `paging levels 4, but CR4.LA57 is set`; a
    loader that switched on the lied field entered the kernel with a PML5
    in CR3 under 4-level paging and faulted before that line (control: the
    loader of main before this test's commit)."""
    def run():
        fails = []
        status, text = boot_tree(lambda t: None, {"MEM": "256M", "CPU": "max,la57=on"}, 90,
                                 until=r"^memboot: bad BootInfo|^memboot: done",
                                 cmdline="qemu-exit paging=5 test-paging-levels-lie")
        if not re.search(r"^memboot: test-paging-levels-lie: BootInfo says 4 levels$", text, re.M):
            fails.append("no loader line for the lie")
        if not re.search(r"^memboot: bad BootInfo from the loader: paging levels 4, but CR4.LA57 "
                         r"is set$", text, re.M):
            fails.append("the kernel did not catch the levels/CR4.LA57 mismatch")
        if "memboot: done" in text:
            fails.append("the kernel booted on mismatched levels")
        return fails, text
    return run


def test_la57_parser():
    """check_levels against made-up consoles (no QEMU): a consistent 5-level
    text passes; a kernel claiming 5 levels while QEMU's CR4 says 4, a
    4-level direct-map base under 5 levels, a missing CPU and a loader
    line with the wrong level are each caught."""
    def run():
        good = ("memboot: paging: 5 levels (paging=5: switching up at the hand-off), RAM top 0x1\n"
                "memboot: direct map 0x20000000 bytes at 0xff00000000000000 (1 GiB pages, "
                "5-level paging), kernel 0xffffffff80000000 at phys 0x1\n")
        fails = []
        f = []
        check_levels(good, [0x1668 | CR4_LA57] * 2, 2, 5, f)
        if f:
            fails.append(f"good text refused: {f}")
        bad = {
            "CR4 without LA57": (good, [0x668, 0x1668], 2),
            "4-level base": (good.replace("0xff00000000000000", "0xffff800000000000"), [0x1668] * 2, 2),
            "a CPU missing": (good, [0x1668], 2),
            "loader says 4": (good.replace("paging: 5 levels", "paging: 4 levels"), [0x1668] * 2, 2),
        }
        for name, (t, cr4, smp) in bad.items():
            f = []
            check_levels(t, cr4, smp, 5, f)
            if not f:
                fails.append(f"control {name!r} not caught")
        return fails, ""
    return run


def test_ask_parser():
    """check_ask against made-up lines (no QEMU): a good line passes; no
    frames held, more CPUs than exist, frames left after asking, a free
    count that moved and a missing line are each caught."""
    def run():
        line = ("smp: ask: {} frames cached on {} other CPUs, {} cached after pmm_drain_all; "
                "free frames {} before, {} after\n")
        fails, f = [], []
        check_ask(line.format(57, 3, 0, 1000, 1000), 4, f)
        if f:
            fails.append(f"good line refused: {f}")
        bad = {
            "nothing held": line.format(0, 0, 0, 1000, 1000),
            "a CPU too many": line.format(57, 4, 0, 1000, 1000),
            "frames left": line.format(57, 3, 5, 1000, 1000),
            "count moved": line.format(57, 3, 0, 1000, 999),
            "no line": "smp: 4 of 4 CPUs online\n",
        }
        for name, t in bad.items():
            f = []
            check_ask(t, 4, f)
            if not f:
                fails.append(f"control {name!r} not caught")
        return fails, ""
    return run


# ---------------------------------------------------------------- NUMA
KiB, MiB, GiB, TiB = 1 << 10, 1 << 20, 1 << 30, 1 << 40


def qemu_numa_ranges(sizes, machine="q35", amd=True):
    """Each node's SRAT ranges as QEMU 7.2 lays them out (hw/i386/acpi-build.c
    build_srat): node i holds guest RAM offsets [sum(sizes[:i]), +sizes[i]);
    the legacy hole [640 KiB, 1 MiB) is cut out, and RAM beyond the low-memory
    size (q35: 2 GiB if RAM >= 2.75 GiB, else all of it; pc: 3 GiB if RAM >=
    3.5 GiB) continues at 4 GiB - or at 1 TiB on an AMD CPU (TCG's `max`
    and `qemu64` are) when the 64-bit PCI hole above that RAM (32 GiB on
    q35, 2 GiB on pc, from the next GiB) would reach AMD's HyperTransport
    range at 1 TiB - 12 GiB (pc_memory_init, QEMU >= 7.1).  Returns {node:
    [(first, last), ...]}."""
    total = sum(sizes)
    if machine == "q35":
        lowmem = 0x80000000 if total >= 0xb0000000 else total
        hole64 = 32 * GiB
    else:
        lowmem = 0xc0000000 if total >= 0xe0000000 else total
        hole64 = 2 * GiB
    above = total - lowmem
    above_start = 4 * GiB
    if amd and -(-(above_start + above) // GiB) * GiB + hole64 - 1 >= 0xfd00000000:
        above_start = 1 * TiB
    out, base = {}, 0
    for node, size in enumerate(sizes):
        a, b = base, base + size
        pieces = []
        for lo, hi, shift in ((0, 640 * KiB, 0), (1 * MiB, lowmem, 0),
                              (lowmem, 1 << 64, above_start - lowmem)):
            x, y = max(a, lo), min(b, hi)
            if x < y:
                pieces.append((x + shift, y + shift - 1))
        out[node] = pieces
        base = b
    return out


def cpu_set(spec):
    """'0-1,4' -> {0, 1, 4}; 'none' -> set()."""
    out = set()
    if spec == "none":
        return out
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


NUMA_NODE_RE = re.compile(r"^numa: node (\d+) cpus (\S+)((?: \[mem 0x[0-9a-f]{16}-0x[0-9a-f]{16}\])*)$", re.M)
NUMA_DIST_RE = re.compile(r"^numa: distance (\d+):((?: \d+)+)$", re.M)


def check_numa(text, want_cpus, want_ranges, want_dist):
    """The numa: lines against what the QEMU command line says: node ->
    set of CPU indexes (= APIC IDs under -smp N), node -> ranges, and the
    distance matrix.  Returns the failures."""
    fails = []
    got_cpus, got_ranges = {}, {}
    for m in NUMA_NODE_RE.finditer(text):
        n = int(m.group(1))
        got_cpus[n] = cpu_set(m.group(2))
        got_ranges[n] = [(int(a, 16), int(b, 16)) for a, b in
                         re.findall(r"\[mem 0x([0-9a-f]{16})-0x([0-9a-f]{16})\]", m.group(3))]
    if got_cpus != want_cpus:
        fails.append(f"numa cpus {got_cpus}, QEMU has {want_cpus}")
    if got_ranges != want_ranges:
        fails.append(f"numa ranges { {k: [(hex(a), hex(b)) for a, b in v] for k, v in got_ranges.items()} }, "
                     f"QEMU has { {k: [(hex(a), hex(b)) for a, b in v] for k, v in want_ranges.items()} }")
    got_dist = [[int(x) for x in m.group(2).split()] for m in NUMA_DIST_RE.finditer(text)]
    if got_dist != want_dist:
        fails.append(f"numa distances {got_dist}, QEMU has {want_dist}")
    # The frame allocator got the nodes: one pmm line per node, and its
    # usable frames within the node's ranges.
    for n, ranges in want_ranges.items():
        m = re.search(rf"^pmm: node {n}: (\d+) free frames of (\d+)$", text, re.M)
        span = sum(b - a + 1 for a, b in ranges) // 4096
        if not m:
            fails.append(f"no `pmm: node {n}:` line")
        elif not 0 < int(m.group(2)) <= span or int(m.group(1)) > int(m.group(2)):
            fails.append(f"pmm node {n}: {m.group(0)}, node has {span} frames")
    return fails


NUMA_FRAME_RE = re.compile(r"^numa: cpu (\d+) apic (\d+) node (-?\d+): frame 0x([0-9a-f]{16}) in node (-?\d+)$", re.M)


def check_numa_frames(text, want_cpus, want_ranges):
    """The kernel's probe (kernel/mem/numa.c): after the caches were emptied,
    each CPU's first frame must lie in a range of the node the command line
    put that CPU (APIC ID = CPU index) on; one line per CPU."""
    fails = []
    node_of = {c: n for n, cs in want_cpus.items() for c in cs}
    seen = set()
    for m in NUMA_FRAME_RE.finditer(text):
        apic, pa = int(m.group(2)), int(m.group(4), 16)
        seen.add(apic)
        n = node_of.get(apic)
        if n is None or not any(a <= pa <= b for a, b in want_ranges.get(n, [])):
            fails.append(f"CPU apic {apic} (node {n} by the command line) got frame {pa:#x}: {m.group(0)}")
    if seen != set(node_of):
        fails.append(f"probe lines for APIC IDs {sorted(seen)}, the command line has {sorted(node_of)}")
    return fails


def numa_cfg(sizes_mib, cpus, dist, smp):
    """QEMU options for len(sizes_mib) nodes of memory-backend-ram, node i
    with CPU indexes cpus[i] ('' for none) and -numa dist for every pair in
    dist (i, j, d)."""
    opts = []
    for i, size in enumerate(sizes_mib):
        opts += [f"-object memory-backend-ram,id=numa{i},size={size}M",
                 f"-numa node,nodeid={i},memdev=numa{i}" + (f",cpus={cpus[i]}" if cpus[i] else "")]
    for i, j, d in dist:
        opts.append(f"-numa dist,src={i},dst={j},val={d}")
    return {"MEM": f"{sum(sizes_mib)}M", "SMP": str(smp), "QEMU_EXTRA": " ".join(opts)}


def test_numa(sizes_mib, cpus, dist, smp):
    """NUMA nodes from QEMU's SRAT and SLIT: every node's CPUs and ranges
    and the distance matrix as the command line this test built says (ranges
    by QEMU's layout, qemu_numa_ranges), and a `pmm: node` line per node;
    controls: the same output against expectations tampered three ways (a
    CPU moved, a range shifted by a page, a distance changed) must fail."""
    def run():
        cfg = numa_cfg(sizes_mib, cpus, dist, smp)
        status, text = kernel_boot(cfg, timeout=240)
        fails = []
        check_done(status, text, fails)
        n = len(sizes_mib)
        want_cpus = {i: cpu_set(cpus[i] or "none") for i in range(n)}
        want_ranges = qemu_numa_ranges([s * MiB for s in sizes_mib])
        want_dist = [[10 if i == j else 20 for j in range(n)] for i in range(n)]
        for i, j, d in dist:
            want_dist[i][j] = want_dist[j][i] = d
        fails += check_numa(text, want_cpus, want_ranges, want_dist)
        fails += check_numa_frames(text, want_cpus, want_ranges)
        # Controls.
        moved = {k: set(v) for k, v in want_cpus.items()}
        cpu = min(moved[0])
        moved[0].discard(cpu)
        moved[n - 1].add(cpu)
        shifted = {k: list(v) for k, v in want_ranges.items()}
        a, b = shifted[n - 1][-1]
        shifted[n - 1][-1] = (a + 4096, b)
        far = [row[:] for row in want_dist]
        far[0][n - 1] += 1
        for what, args in (("a CPU moved", (moved, want_ranges, want_dist)),
                           ("a range shifted", (want_cpus, shifted, want_dist)),
                           ("a distance changed", (want_cpus, want_ranges, far))):
            if not check_numa(text, *args):
                fails.append(f"control not caught: {what}")
        if not check_numa_frames(text, moved, want_ranges):
            fails.append("control not caught: a CPU's frame checked against another node")
        return fails, text
    return run


TESTS = {
    "q35-512M-vs-shell": test_map_vs_shell({"MEM": "512M", "MACHINE": "q35"}),
    "q35-5G-vs-shell": test_map_vs_shell({"MEM": "5G", "MACHINE": "q35"}),
    "pc-512M-vs-shell": test_map_vs_shell({"MEM": "512M", "MACHINE": "pc"}),
    "q35-1T": test_huge("1T", (1 << 40) - (1 << 32), 1 << 40),
    "acpi-q35-smp4": test_acpi_q35(),
    "pci-bridges": test_pci_bridges(),
    "acpi-pc-smp1": test_acpi_pc(),
    "pci-compare-controls": test_pci_compare(),
    "smp-ghost-hotplug-slots": test_smp_ghost(),
    "smp-no-trampoline": test_smp_no_trampoline(),
    "ramdisk-bad-checksum": test_bad_ramdisk(),
    "elf-bad-magic": broken_kernel_test("magic", mut_magic, r"bad ELF magic"),
    "elf-truncated": broken_kernel_test("truncated", mut_truncate, r"truncated"),
    "elf-low-segment": broken_kernel_test("low", mut_low_segment, r"outside the higher-half"),
    "kernel-directory": kernel_directory_test(),
    "initrd-empty": optional_file_test("boot/initrd", b"", r"is 0 bytes"),
    "initrd-directory": optional_file_test("boot/initrd", None, r"is a directory"),
    "cmdline-oversize": optional_file_test("boot/cmdline", b"x" * 5000, r"is 5000 bytes",
                                           cmdline=None),
    "cmdline-escaped": test_cmdline_escaped(),
    "exit-boot-services-retry": test_exit_retry(),
    "no-wb-above-4g": test_no_wb_above_4g(),
    "boot-timeline-parser": test_timeline_parser(),
    "efirt-checks": test_efirt_checks(),
    "efirt-poweroff-reboot": test_efirt_reset(),
    # Two nodes, two CPUs each, SLIT 21.
    "numa-2-nodes": test_numa([512, 512], ["0-1", "2-3"], [(0, 1, 21)], 4),
    # Four nodes of unequal sizes, CPUs 1 / 2 / 1 / none, a full SLIT.
    "numa-4-nodes": test_numa([256, 512, 256, 1024], ["0", "1-2", "3", ""],
                              [(0, 1, 15), (0, 2, 20), (0, 3, 30), (1, 2, 25), (1, 3, 40),
                               (2, 3, 12)], 4),
    "boot-timeline": test_timeline({"MEM": "512M"}, "hpet"),
    "boot-timeline-pmtimer": test_timeline({"MEM": "512M", "QEMU_EXTRA": "-machine hpet=off"},
                                           "pmtimer"),
    # ud2 at the entry point.
    "safety-net-ud2": safety_net_test(b"\x0f\x0b", 0, 6, "invalid opcode", 0),
    # mov rax, [0xffffa00000000000]: a read of an unmapped kernel address.
    "safety-net-pf": safety_net_test(b"\x48\xa1" + struct.pack("<Q", 0xffffa00000000000),
                                     0, 14, "page fault", 0, 0xffffa00000000000),
    # xor esp, esp; push 0: a #PF with no usable stack (the net has its own).
    "safety-net-bad-rsp": safety_net_test(b"\x31\xe4\x6a\x00", 2, 14, "page fault", 2,
                                          0xfffffffffffffff8),
    "la57-parser": test_la57_parser(),
    "ask-parser": test_ask_parser(),
    "la57-paging5-512M": test_la57_paging5(),
    "la57-firmware-on": test_la57_firmware(),
    "la57-levels-lie": test_la57_levels_lie(),
    "la57-levels-lie-down": test_la57_levels_lie_down(),
}


def run_script_nodes(mem_mib, smp, node_max_mib=8 * 1024 * 1024):
    """The nodes tools/qemu-run.sh makes of mem_mib MiB above 8 TiB: equal
    backing files of at most node_max_mib, CPU indexes in contiguous blocks
    (node i: [i*k, (i+1)*k), k = ceil(smp / nodes)).  Returns (sizes in
    bytes, cpu specs)."""
    nodes = -(-mem_mib // node_max_mib)
    per = -(-smp // nodes)
    sizes, cpus, left = [], [], mem_mib
    for i in range(nodes):
        size = left // (nodes - i)
        left -= size
        sizes.append(size * MiB)
        lo, hi = i * per, min((i + 1) * per, smp) - 1
        cpus.append(f"{lo}-{hi}" if lo <= hi else "")
    return sizes, cpus


def test_big(mem_tib, smp=1, timeout=1800, levels=4):
    """A guest of mem_tib TiB, split by qemu-run.sh into 8 TiB NUMA nodes:
    boots to `memboot: done` with the selftest, each node's CPUs and ranges
    as the split and QEMU's SRAT layout say, no SLIT (default distances),
    a `pmm: node` line per node, and the usable total within the RAM size
    minus 4 GiB (holes and firmware) and the RAM size.  levels=5 boots
    `-cpu max,la57=on` with cmdline `paging=5`: the loader and the kernel
    must say 5 levels and put the direct map at 0xff00000000000000
    (levels=4: 4 levels, as no guest of this QEMU reaches 64 TiB)."""
    def run():
        mib = mem_tib * 1024 * 1024
        cfg = {"MEM": f"{mem_tib}T", "SMP": str(smp)}
        d = tmpdir()
        try:
            img = os.path.join(BUILD, "esp.img")
            if levels == 5:
                img = os.path.join(d, "esp.img")
                make_image(ESP, "qemu-exit paging=5", img)
                cfg["CPU"] = "max,la57=on"
            status, text = boot(img, cfg, timeout=timeout)
        finally:
            shutil.rmtree(d, ignore_errors=True)
        # Kept for the figures (the boot: timeline): build/boot-big-<N>T.log.
        with open(os.path.join(BUILD, f"boot-big-{mem_tib}T-{levels}level.log"), "w") as f:
            f.write(text)
        fails = []
        check_done(status, text, fails)
        m = re.search(r"^memboot: direct map 0x[0-9a-f]+ bytes at (0x[0-9a-f]+) "
                      r"\((?:1 GiB|2 MiB) pages, (\d)-level paging\)", text, re.M)
        if not m or int(m.group(2)) != levels or int(m.group(1), 16) != HHDM_BASE_BY_LEVELS[levels]:
            fails.append(f"direct-map line {m and m.group(0)!r}: want {levels} levels at "
                         f"{HHDM_BASE_BY_LEVELS[levels]:#x}")
        sizes, cpus = run_script_nodes(mib, smp)
        n = len(sizes)
        want_cpus = {i: cpu_set(cpus[i] or "none") for i in range(n)}
        want_dist = [[10 if i == j else 20 for j in range(n)] for i in range(n)]
        fails += check_numa(text, want_cpus, qemu_numa_ranges(sizes), want_dist)
        fails += check_numa_frames(text, want_cpus, qemu_numa_ranges(sizes))
        m = re.search(r"^memmap: usable (\d+) bytes", text, re.M)
        if not m or not mib * MiB - (4 << 30) <= int(m.group(1)) <= mib * MiB:
            fails.append(f"usable {m and m.group(1)} bytes, guest has {mem_tib} TiB")
        return fails, text
    return run


# Long boots, `make test-big` (boottest.py --big [regex]).
BIG_TESTS = {
    "big-16T-2-nodes": test_big(16, smp=2),
    "big-48T-6-nodes": test_big(48),
    "big-48T-6-nodes-paging5": test_big(48, levels=5),
}


def run_suite(label, tests, names, jobs):
    """Runs tests[name]() for every name, `jobs` at a time; prints PASS or
    FAIL (reasons and the console tail) as each ends, then the line
    `<label>: N passed, M failed`.  Returns the exit status (1 on failure)."""
    passed = failed = 0
    t0 = time.time()

    def one(name):
        t = time.time()
        try:
            fails, text = tests[name]()
        except Exception as e:  # a harness error is a failure, with its reason
            fails, text = [f"harness error: {e!r}"], ""
        return name, fails, text, time.time() - t

    with concurrent.futures.ThreadPoolExecutor(max(1, jobs)) as ex:
        futs = [ex.submit(one, n) for n in names]
        for fut in concurrent.futures.as_completed(futs):
            name, fails, text, secs = fut.result()
            if fails:
                failed += 1
                print(f"FAIL {name} ({secs:.0f} s)")
                for f in fails[:20]:
                    print(f"  - {f}")
                tail = text.strip().splitlines()[-15:]
                print("  console tail:\n    " + "\n    ".join(tail))
            else:
                passed += 1
                print(f"PASS {name} ({secs:.0f} s)")
            sys.stdout.flush()
    print(f"{label}: {passed} passed, {failed} failed ({time.time() - t0:.0f} s)")
    return 1 if failed else 0


def main():
    args = sys.argv[1:]
    tests, label = TESTS, "boot"
    if args and args[0] == "--big":
        # One at a time: each takes several GiB of host page cache.
        tests, label, args = BIG_TESTS, "boot-big", args[1:]
    sel = re.compile(args[0]) if args else None
    names = [n for n in tests if not sel or sel.search(n)]
    return run_suite(label, tests, names, 1 if tests is BIG_TESTS else JOBS)


if __name__ == "__main__":
    sys.exit(main())
