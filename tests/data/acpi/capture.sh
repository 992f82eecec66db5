#!/bin/sh
# tests/data/acpi/capture.sh MACHINE OUTDIR - capture QEMU's ACPI tables for
# MACHINE (q35 or pc) with the UEFI shell built into OVMF.  Run once from the
# repo root; the output is committed (tests/data/acpi/<machine>/).
#
# A FAT image holding only startup.nsh has no \EFI\BOOT\BOOTX64.EFI, so OVMF
# falls through to its shell, which runs startup.nsh from fs0:.  This OVMF's
# shell has no acpiview, so it takes two boots with identical settings (the
# firmware's allocations are deterministic):
#   1. `dmem` prints the system table with the RSDP address ("ACPI 2.0
#      Table"), `memmap` the ACPI reclaim ranges the tables live in;
#   2. `dmem ADDR SIZE` hex-dumps every ACPI reclaim range.
# acpidump.py turns the dumps into OUTDIR/mem-<pa>.bin (raw memory, 16 hex
# digits of physical address in the name), OUTDIR/rsdp (the RSDP address)
# and one OUTDIR/<SIG>.bin per table found from the RSDP.
set -eu
machine=$1; out=$2
here=$(dirname "$0")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/acpicap.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

boot() { # boot NAME: run $tmp/NAME/startup.nsh, leave its files in $tmp/NAME
	tools/mkesp.sh "$tmp/$1.img" "$tmp/$1"
	MEM=512M SMP=1 DEBUGCON=${DEBUGCON:-null} MACHINE=$machine \
		TIMEOUT=${TIMEOUT:-180} SERIAL="file:$tmp/$1.log" \
		tools/qemu-run.sh "$tmp/$1.img" || true
	for f in $(mdir -i "$tmp/$1.img" -b ::/ | sed 's|^::/||'); do
		case "$f" in *.txt) mcopy -n -i "$tmp/$1.img" "::/$f" "$tmp/$1/" ;; esac
	done
}

mkdir -p "$tmp/p1" "$tmp/p2"
printf 'fs0:\r\ndmem >a st.txt\r\nmemmap >a mm.txt\r\nreset -s\r\n' > "$tmp/p1/startup.nsh"
boot p1
{
	printf 'fs0:\r\n'
	awk 'function hex(s,  i, v) { v = 0; s = toupper(s)
		for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789ABCDEF", substr(s, i, 1)) - 1
		return v }
	     $1 == "ACPI_Recl" { split($2, r, "-");
		printf "dmem %s %X >a r%s.txt\r\n", r[1], hex(r[2]) - hex(r[1]) + 1, r[1] }' \
		"$tmp/p1/mm.txt"
	printf 'reset -s\r\n'
} > "$tmp/p2/startup.nsh"
boot p2
rsdp=$(awk '/^ACPI 2.0 Table/ { print $4 }' "$tmp/p1/st.txt")
[ -n "$rsdp" ] || rsdp=$(awk '/^ACPI Table/ { print $3 }' "$tmp/p1/st.txt")
python3 "$here/acpidump.py" "$out" "$rsdp" "$tmp"/p2/r*.txt
ls -l "$out"
