#!/bin/bash
# tests/boot/secureboot.sh [ESP_DIR] - tests of tools/mkimage.sh and of
# Secure Boot under QEMU + OVMF.  Exit 0 = all passed; every failure says why.
#
# Without ESP_DIR, with a tiny EFI payload (tests/boot/sbhello.c):
#   image      the GPT disk has one EF00 partition with a FAT32 ESP, and the
#              signed image holds a BOOTX64.EFI that sbverify accepts
#   plain      the unsigned image boots under the normal OVMF as a plain disk
#   sb-signed  the signed image boots under OVMF's Secure Boot firmware with
#              Debian's snakeoil keys enrolled
#   sb-unsigned the unsigned image is refused there ("Access Denied")
# With ESP_DIR (the staged ESP tree, e.g. esp/ after `make all`), also:
#   sb-loader  the signed memboot loader boots to "memboot: done"
#   sb-tamper  the same with one byte of kernel.elf changed: the loader
#              refuses it (a message naming SHA-256), "memboot: done" never
#              appears
#
# QEMU runs in parallel (SB_JOBS at a time, default 3); each run stops as
# soon as its outcome is on the serial port, or after SB_TIMEOUT seconds.
set -u
cd "$(dirname "$0")/../.." || exit 2
esp_dir=${1-}
SB_JOBS=${SB_JOBS:-3}
SB_TIMEOUT=${SB_TIMEOUT:-150}
KEY=${KEY:-/usr/share/ovmf/PkKek-1-snakeoil.key}
CERT=${CERT:-/usr/share/ovmf/PkKek-1-snakeoil.pem}
export KEY_PASS=${KEY_PASS-snakeoil}   # /usr/share/doc/ovmf/README.Debian
SB_CODE=/usr/share/OVMF/OVMF_CODE_4M.snakeoil.fd
SB_VARS=/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd
ESP_TYPE_GUID=C12A7328-F81F-11D2-BA4B-00A0C93EC93B   # EFI system partition
PAYLOAD_MARK="sbhello: payload running"

work=$(mktemp -d "${TMPDIR:-/tmp}/secureboot.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT

pass=0; fail=0
ok()  { echo "secureboot: PASS $1"; pass=$((pass + 1)); }
bad() { echo "secureboot: FAIL $1: $2"; fail=$((fail + 1)); }

# ---------------------------------------------------------------- build
# The payload, built like the loader (see EFI_CFLAGS in the Makefile).
clang --target=x86_64-unknown-windows -std=c11 -ffreestanding -fshort-wchar \
	-mno-red-zone -mno-mmx -mno-sse -fno-stack-protector -O2 -Wall \
	-I/usr/include/efi -I/usr/include/efi/x86_64 \
	-c tests/boot/sbhello.c -o "$work/sbhello.o" &&
lld-link -subsystem:efi_application -entry:efi_main -nodefaultlib \
	-out:"$work/sbhello.efi" "$work/sbhello.o" >/dev/null ||
	{ echo "secureboot: cannot build the payload"; exit 1; }
mkdir -p "$work/hello/EFI/BOOT"
cp "$work/sbhello.efi" "$work/hello/EFI/BOOT/BOOTX64.EFI"

mk() { tools/mkimage.sh "$@" 2>"$work/mkimage.err" || { cat "$work/mkimage.err"; return 1; }; }
mk "$work/hello.img" "$work/hello" || { echo "secureboot: mkimage failed"; exit 1; }
mk "$work/hello-signed.img" "$work/hello" "$KEY" "$CERT" || { echo "secureboot: mkimage (signed) failed"; exit 1; }

if [ -n "$esp_dir" ]; then
	# The real ESP with \boot\cmdline asking the kernel to exit QEMU.
	cp -R "$esp_dir/." "$work/real"
	printf 'qemu-exit\n' > "$work/real/boot/cmdline"
	mk "$work/loader-signed.img" "$work/real" "$KEY" "$CERT" || exit 1
	cp -R "$work/real/." "$work/tamper"
	k="$work/tamper/boot/kernel.elf"
	size=$(stat -c %s "$k")
	last=$(od -An -tu1 -j $((size - 1)) -N1 "$k" | tr -d ' ')
	printf "\\$(printf '%03o' $(( last ^ 1 )))" |
		dd of="$k" bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null
	mk "$work/tamper-signed.img" "$work/tamper" "$KEY" "$CERT" || exit 1
fi

# ---------------------------------------------------------------- image checks
part=$(sgdisk -i 1 "$work/hello-signed.img" 2>/dev/null)
if ! grep -q "$ESP_TYPE_GUID" <<<"$part"; then
	bad image "partition 1 is not an EFI system partition: $part"
elif ! minfo -i "$work/hello-signed.img@@1048576" :: 2>/dev/null | grep -q 'FAT32'; then
	bad image "no FAT32 file system at 1 MiB"
elif ! mcopy -i "$work/hello-signed.img@@1048576" ::/EFI/BOOT/BOOTX64.EFI "$work/got.efi" ||
     ! sbverify --cert "$CERT" "$work/got.efi" >/dev/null 2>&1; then
	bad image "BOOTX64.EFI in the signed image does not verify against $CERT"
elif sbverify --cert "$CERT" "$work/hello/EFI/BOOT/BOOTX64.EFI" >/dev/null 2>&1; then
	bad image "mkimage signed the staging tree instead of a copy"
else
	ok image
fi

# ---------------------------------------------------------------- QEMU runs
# A case: name, image, firmware (plain|sb), regex that decides pass, regex
# that decides failure (checked first).
cases=(
	"plain|hello.img|plain|$PAYLOAD_MARK|Access Denied|Security Violation"
	"sb-signed|hello-signed.img|sb|$PAYLOAD_MARK|Access Denied|Security Violation"
	"sb-unsigned|hello.img|sb|HARDDISK.*Access Denied|$PAYLOAD_MARK"
)
if [ -n "$esp_dir" ]; then
	cases+=("sb-loader|loader-signed.img|sb|memboot: done|Access Denied|panic")
	cases+=("sb-tamper|tamper-signed.img|sb|[Ss][Hh][Aa]-?256|memboot: done")
fi

# Starts case $1 in its own process group; records its pid.
start() {
	local name img fw
	IFS='|' read -r name img fw _ <<<"$1"
	local env=(SERIAL="file:$work/$name.log" TIMEOUT="$SB_TIMEOUT" MEM=256M SMP=1 CPU=max)
	if [ "$fw" = sb ]; then
		env+=(MACHINE=q35,smm=on OVMF_CODE="$SB_CODE" OVMF_VARS="$SB_VARS"
		      QEMU_EXTRA="-global driver=cfi.pflash01,property=secure,value=on")
	else
		env+=(MACHINE=q35)
	fi
	: > "$work/$name.log"
	setsid env "${env[@]}" tools/qemu-run.sh "$work/$img" >"$work/$name.out" 2>&1 </dev/null &
	pids[$2]=$!
}

# Judges case $1 (index $2) from its log; prints nothing and returns 1
# while it is undecided.
judge() {
	local name pass_re fail_re log
	IFS='|' read -r name _ _ pass_re fail_re <<<"$1"
	# The pass regex is field 4; the failure regex is all fields after it.
	fail_re=${1#*|*|*|"$pass_re"|}
	log="$work/$name.log"
	if grep -aqE "$fail_re" "$log"; then
		bad "$name" "saw /$fail_re/: $(grep -aoE "$fail_re" "$log" | head -1)"
	elif grep -aqE "$pass_re" "$log"; then
		ok "$name"
	elif ! kill -0 "${pids[$2]}" 2>/dev/null; then
		bad "$name" "QEMU ended ($(tail -1 "$work/$name.out")) without /$pass_re/; serial tail: $(tr -d '\033' <"$log" | tail -c 300)"
	else
		return 1
	fi
	return 0
}

declare -A done_=()
next=0; running=0; n=${#cases[@]}
while [ ${#done_[@]} -lt "$n" ]; do
	while [ "$running" -lt "$SB_JOBS" ] && [ "$next" -lt "$n" ]; do
		start "${cases[$next]}" "$next"
		next=$((next + 1)); running=$((running + 1))
	done
	sleep 1
	for ((i = 0; i < next; i++)); do
		[ -n "${done_[$i]-}" ] && continue
		if judge "${cases[$i]}" "$i"; then
			done_[$i]=1
			running=$((running - 1))
			kill -- "-${pids[$i]}" 2>/dev/null
		fi
	done
done

echo "secureboot: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
