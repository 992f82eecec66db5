#!/bin/sh
# tests/data/acpi/capture.sh MACHINE OUTDIR - capture QEMU's ACPI tables for
# MACHINE (q35 or pc) with the UEFI shell built into OVMF.  Run once from the
# repo root; the output is committed (tests/data/acpi/<machine>/).
#
# A FAT image holding only startup.nsh has no \EFI\BOOT\BOOTX64.EFI, so OVMF
# falls through to its shell, which runs startup.nsh.  This OVMF's shell has
# no acpiview, so it takes two boots with identical settings (the firmware's
# allocations are deterministic):
#   1. `dmem` prints the system table with the RSDP address ("ACPI 2.0
#      Table"), `memmap` the ACPI reclaim ranges the tables live in;
#   2. `dmem ADDR SIZE` hex-dumps every ACPI reclaim range.
# Output is read from the serial log, not from files the shell writes: on
# the pc machine (IDE) those never reached the disk image.
# acpidump.py turns the dumps into OUTDIR/mem-<pa>.bin (raw memory, 16 hex
# digits of physical address in the name), OUTDIR/rsdp (the RSDP address)
# and one OUTDIR/<SIG>.bin per table found from the RSDP.
set -eu
machine=$1; out=$2
here=$(dirname "$0")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/acpicap.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

boot() { # boot NAME: run $tmp/NAME/startup.nsh; $tmp/NAME.txt gets the log
	tools/mkesp.sh "$tmp/$1.img" "$tmp/$1"
	MEM=512M SMP=1 DEBUGCON=${DEBUGCON:-null} MACHINE=$machine \
		TIMEOUT=${TIMEOUT:-180} SERIAL="file:$tmp/$1.log" \
		tools/qemu-run.sh "$tmp/$1.img" || true
	# Drop ANSI escapes and carriage returns.
	sed -e 's/\x1b\[[0-9;]*[A-Za-z]//g' -e 's/\r//g' "$tmp/$1.log" > "$tmp/$1.txt"
}

mkdir -p "$tmp/p1" "$tmp/p2"
printf 'dmem\r\nmemmap\r\nreset -s\r\n' > "$tmp/p1/startup.nsh"
boot p1
{
	awk 'function hex(s,  i, v) { v = 0; s = toupper(s)
		for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789ABCDEF", substr(s, i, 1)) - 1
		return v }
	     $1 == "ACPI_Recl" && $2 ~ /-/ { split($2, r, "-");
		printf "dmem %s %X\r\n", r[1], hex(r[2]) - hex(r[1]) + 1 }' "$tmp/p1.txt"
	printf 'reset -s\r\n'
} > "$tmp/p2/startup.nsh"
boot p2
rsdp=$(awk '/^ACPI 2.0 Table/ { print $4 }' "$tmp/p1.txt")
[ -n "$rsdp" ] || rsdp=$(awk '/^ACPI Table/ { print $3 }' "$tmp/p1.txt")
python3 "$here/acpidump.py" "$out" "$rsdp" "$tmp/p2.txt"
ls -l "$out"
