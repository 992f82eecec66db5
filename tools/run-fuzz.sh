#!/bin/sh
# tools/run-fuzz.sh SECONDS - run each libFuzzer harness of tests/fuzz/ for
# SECONDS (the Makefile builds them into build/fuzz/bin first).
#
# Seeds come from tests/data: QEMU's captured ACPI tables and the iasl
# tables (each alone, and q35's FACP..DSDT as one run), and USTAR archives
# packed from initrd/ by tools/mkinitrd.sh.  New inputs are kept in
# build/fuzz/corpus-<harness>/ so later runs start from them; a crash
# leaves build/fuzz/<harness>-crash-* and makes this script fail.
# `make test` runs `tools/run-fuzz.sh 10`, `make fuzz` FUZZ_SECONDS each.
set -eu
secs=${1:-60}
out=${BUILD:-build}/fuzz
bin=$out/bin
mkdir -p "$out"

# Seed corpora, rebuilt every run (cheap): the first byte of an ACPI input
# is the harness's flags byte (see tests/fuzz/fuzz_acpi.c).
seed=$out/seed-acpi
rm -rf "$seed" && mkdir -p "$seed"
for f in tests/data/acpi/*/*.bin tests/data/acpi/iasl/*.aml; do
	case "$f" in */mem-*) continue ;; esac
	name=$(echo "$f" | tr '/' '_')
	{ printf '\001'; cat "$f"; } > "$seed/$name"
	{ printf '\000'; cat "$f"; } > "$seed/raw_$name"
done
q=tests/data/acpi/q35
{ printf '\011'; cat $q/FACP.bin $q/APIC.bin $q/HPET.bin $q/MCFG.bin $q/DSDT.bin; } > "$seed/q35-all"
{ printf '\017'; cat $q/FACP.bin $q/APIC.bin $q/DSDT.bin; } > "$seed/q35-rsdt-extra"

useed=$out/seed-ustar
rm -rf "$useed" && mkdir -p "$useed"
tools/mkinitrd.sh initrd "$useed/initrd.tar"
tools/mkinitrd.sh /nonexistent-dir "$useed/empty.tar"

run() { # run HARNESS SEED MAX_LEN
	mkdir -p "$out/corpus-$1"
	echo "fuzz: $1 for ${secs}s"
	if ! "$bin/$1" -max_total_time="$secs" -max_len="$3" -timeout=10 \
		-artifact_prefix="$out/$1-" "$out/corpus-$1" "$2" > "$out/$1.log" 2>&1; then
		tail -n 40 "$out/$1.log"
		echo "fuzz: $1 FAILED (log: $out/$1.log)"
		return 1
	fi
	echo "fuzz: $1 ok: $(grep -E '^#[0-9]+' "$out/$1.log" | tail -n 1 | cut -c1-100)"
}

status=0
run fuzz_acpi "$seed" 16384 || status=1
run fuzz_ustar "$useed" 16384 || status=1
exit $status
