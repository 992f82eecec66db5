#!/bin/sh
# tools/run-fuzz.sh SECONDS - run each libFuzzer harness of tests/fuzz/ for
# SECONDS (the Makefile builds them into build/fuzz/bin first).
#
# Seeds come from tests/data: QEMU's captured ACPI tables and the iasl
# tables (each alone, and q35's FACP..DSDT as one run), USTAR archives
# packed from initrd/ by tools/mkinitrd.sh, and the kernel.elf of this
# build (stripped, if llvm-strip is there; the kept corpus has one too).
# New inputs are kept in build/fuzz/corpus-<harness>/ so later runs start
# from them; a crash
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

eseed=$out/seed-elf
rm -rf "$eseed" && mkdir -p "$eseed"
if [ -f "${BUILD:-build}/kernel.elf" ] && command -v llvm-strip > /dev/null; then
	llvm-strip -o "$eseed/kernel.elf" "${BUILD:-build}/kernel.elf"
fi

run() { # run HARNESS MAX_LEN SEED_DIR...
	h=$1 len=$2
	shift 2
	mkdir -p "$out/corpus-$h"
	echo "fuzz: $h for ${secs}s"
	# shellcheck disable=SC2046 # the extra flags are plain words
	if ! "$bin/$h" -max_total_time="$secs" -max_len="$len" -timeout=10 $(flags "$h") \
		-artifact_prefix="$out/$h-" "$out/corpus-$h" "$@" > "$out/$h.log" 2>&1; then
		tail -n 40 "$out/$h.log"
		echo "fuzz: $h FAILED (log: $out/$h.log)"
		return 1
	fi
	echo "fuzz: $h ok: $(grep -E '^#[0-9]+' "$out/$h.log" | tail -n 1 | cut -c1-100)"
}

# Per-harness input limit; harnesses not named here take 65536.
max_len() {
	case $1 in
	fuzz_acpi|fuzz_ustar) echo 16384 ;;
	fuzz_memmap) echo 10240 ;; # 16 raw used ranges + 320 raw descriptors
	fuzz_allocops) echo 1600 ;; # 400 steps of 4 bytes
	fuzz_elf) echo 131072 ;;   # a stripped kernel.elf is ~75 KB
	fuzz_bootinfo) echo 8192 ;; # 641 bytes of BootInfo, ~190 descriptors
	*) echo 65536 ;;
	esac
}

# Extra libFuzzer flags of a harness.  fuzz_bootinfo: value profiling
# steers the fuzzer by how close a compared value is, which it needs to
# reach the narrow geometry limits (a width below 8 in an otherwise good
# BootInfo took 106 s with it, more than 300 s without).
flags() {
	case $1 in
	fuzz_bootinfo) echo -use_value_profile=1 ;;
	fuzz_allocops) echo -len_control=0 ;; # long call sequences from the start
	esac
	return 0
}

# Seeds of a harness: its kept corpus in the repo (tests/fuzz/corpus/<name>,
# minimised inputs worth keeping) plus the generated seeds above.
seeds() {
	case $1 in
	fuzz_acpi) echo "$seed" ;;
	fuzz_ustar) echo "$useed" ;;
	fuzz_elf) echo "$eseed" ;;
	esac
	[ -d "tests/fuzz/corpus/$1" ] && echo "tests/fuzz/corpus/$1"
	return 0
}

status=0
for b in "$bin"/fuzz_*; do
	h=$(basename "$b")
	# shellcheck disable=SC2046 # seed directories are plain paths
	run "$h" "$(max_len "$h")" $(seeds "$h") || status=1
done
exit $status
