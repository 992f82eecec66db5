#!/bin/bash
# tools/qemu-run.sh IMG [QEMU ARGS...] - boot the disk image IMG under QEMU+OVMF.
#
# Environment (all optional): MEM (512M), SMP (1), MACHINE (q35), CPU (max),
# QEMU_EXTRA (appended verbatim), SERIAL (stdio; none, file:out.log or any
# other QEMU -serial argument), DEBUGCON (none; e.g. file:dbg.log),
# TIMEOUT (seconds; 0 = none),
# DISK_WRITE (0: the guest's disk writes are discarded; 1: kept),
# OVMF_CODE / OVMF_VARS (firmware images; VARS is copied fresh every run).
#
# QEMU options of the user's (QEMU_EXTRA, ARGS) win over SERIAL: with a
# -serial of theirs we add none; with -nographic (QEMU then puts serial and
# monitor on stdio itself), -daemonize or stdio in any of their options we
# add no -serial stdio, which QEMU would refuse ("cannot use stdio by
# multiple character devices").
#
# Exit status: the kernel's own exit status (0 = success, 1 = panic) when it
# exits through isa-debug-exit (it writes 0x10 + status, QEMU exits with
# ((0x10 + status) << 1) | 1); 124 on timeout; otherwise QEMU's own status
# plus 200 (e.g. 201: QEMU could not start, 200: the guest powered off).
set -eu
img=$1; shift
MEM=${MEM:-512M}; SMP=${SMP:-1}; MACHINE=${MACHINE:-q35}; CPU=${CPU:-max}
SERIAL=${SERIAL:-stdio}; DEBUGCON=${DEBUGCON:-none}; TIMEOUT=${TIMEOUT:-0}
OVMF_CODE=${OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.fd}
OVMF_VARS=${OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd}

# The disk is opened copy-on-write (several boots may share one image)
# unless DISK_WRITE=1 asks for guest writes to reach the file.
snapshot=on
[ "${DISK_WRITE:-0}" = 1 ] && snapshot=off

tmp=$(mktemp -d "${TMPDIR:-/tmp}/memboot-qemu.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# A signal ends the script through exit, so the EXIT trap removes $tmp (the
# sparse RAM files of a big guest) however the run is stopped.
trap 'exit 130' INT
trap 'exit 143' TERM
cp "$OVMF_VARS" "$tmp/vars.fd"

# Guest RAM in MiB from MEM (K/M/G/T suffixes, M if none).
mem_mib() {
	local n=${1%[KkMmGgTt]} u=${1##*[0-9]}
	case "$u" in
	K|k) echo $(( n / 1024 )) ;;
	G|g) echo $(( n * 1024 )) ;;
	T|t) echo $(( n * 1024 * 1024 )) ;;
	*) echo "$n" ;;
	esac
}
mib=$(mem_mib "$MEM")

# shellcheck disable=SC2206
extra=(${QEMU_EXTRA:-})

# The serial port: SERIAL, unless the user's options decide (see the top).
their_serial=0 nographic=0 stdio_taken=0
[ "$DEBUGCON" = stdio ] && stdio_taken=1
for a in "${extra[@]}" "$@"; do
	case "$a" in
	-serial|--serial) their_serial=1 ;;
	-nographic|--nographic) nographic=1 stdio_taken=1 ;;
	-daemonize|--daemonize) stdio_taken=1 ;;
	stdio|stdio,*|mon:stdio|mon:stdio,*|*backend=stdio|*backend=stdio,*) stdio_taken=1 ;;
	esac
done
serial=()
if [ "$their_serial" = 0 ] && { [ "$SERIAL" != stdio ] || [ "$stdio_taken" = 0 ]; }; then
	serial=(-serial "$SERIAL")
elif [ "$their_serial" = 0 ] && [ "$nographic" = 0 ]; then
	echo "qemu-run.sh: stdio is taken by QEMU_EXTRA or DEBUGCON: no -serial stdio (set SERIAL)" >&2
fi

# shellcheck disable=SC2054  # the commas are inside QEMU option values
args=(-machine "$MACHINE" -smp "$SMP" -m "${mib}M" -display none -no-reboot -net none
      -drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE"
      -drive "if=pflash,format=raw,unit=1,file=$tmp/vars.fd"
      -drive "format=raw,file=$img,snapshot=$snapshot"
      -device isa-debug-exit,iobase=0xf4,iosize=0x04
      "${serial[@]}")
[ "$DEBUGCON" != none ] && args+=(-debugcon "$DEBUGCON")

# More guest RAM than is sensible to take from the host: back it with a sparse
# file (shared mapping: no commit charge), so only pages the guest touches
# cost host memory or disk.  The files live in $tmp, removed on exit.
# One file holds at most NODE_MAX_MIB (8 TiB; ext4 caps a file at 16 TiB):
# more RAM is split into equal files of at most that, each a NUMA node
# (-numa node,memdev=...), and the CPUs into contiguous blocks, node i
# getting CPU indexes [i*k, (i+1)*k), k = ceil(CPUs / nodes).
NODE_MAX_MIB=$(( 8 * 1024 * 1024 ))
cpus_n=${SMP%%,*}
if [ "$mib" -gt "$NODE_MAX_MIB" ]; then
	nodes=$(( (mib + NODE_MAX_MIB - 1) / NODE_MAX_MIB ))
	per=$(( cpus_n / nodes + (cpus_n % nodes != 0) ))
	left=$mib
	for (( i = 0; i < nodes; i++ )); do
		size=$(( left / (nodes - i) ))
		left=$(( left - size ))
		node="node,nodeid=$i,memdev=ram$i"
		lo=$(( i * per )) hi=$(( (i + 1) * per - 1 ))
		[ "$hi" -ge "$cpus_n" ] && hi=$(( cpus_n - 1 ))
		[ "$lo" -le "$hi" ] && node="$node,cpus=$lo-$hi"
		args+=(-object "memory-backend-file,id=ram$i,size=${size}M,mem-path=$tmp/ram$i,share=on,prealloc=off"
		       -numa "$node")
	done
	# SMBIOS lists RAM in 16 GiB memory devices: beyond ~20 TiB their
	# table outgrows the 64 KiB a 2.1 (32-bit) entry point can describe
	# and QEMU refuses to start; the 3.0 (64-bit) entry point has no limit.
	args+=(-machine smbios-entry-point-type=64)
elif [ "$mib" -gt $(( 16 * 1024 )) ]; then
	args+=(-object "memory-backend-file,id=ram0,size=${mib}M,mem-path=$tmp/ram,share=on,prealloc=off"
	       -machine memory-backend=ram0)
fi
# The default 40 physical address bits (1 TiB) leave no room for the PCI
# hole and 64-bit BARs above a guest this large: from 512 GiB on, 44 bits,
# or one more than the RAM's top needs (2 GiB of it sit above 4 GiB on
# q35): 46 at 16 TiB, 47 at 48 TiB.
cpu=$CPU
if [ "$mib" -ge $(( 512 * 1024 )) ]; then
	top=$(( mib + 4096 )) bits=20
	while [ $(( 1 << (bits - 20) )) -lt "$top" ]; do bits=$(( bits + 1 )); done
	bits=$(( bits + 1 ))
	[ "$bits" -lt 44 ] && bits=44
	cpu="$cpu,phys-bits=$bits"
fi
args+=(-cpu "$cpu")

set +e
if [ "$TIMEOUT" != 0 ]; then
	timeout --foreground -k 5 "$TIMEOUT" qemu-system-x86_64 "${args[@]}" "${extra[@]}" "$@"
else
	qemu-system-x86_64 "${args[@]}" "${extra[@]}" "$@"
fi
rc=$?
set -e
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	exit 124
fi
if [ $(( rc & 1 )) -eq 1 ] && [ "$rc" -ge $(( (0x10 << 1) | 1 )) ] && [ "$rc" -le $(( (0x1f << 1) | 1 )) ]; then
	exit $(( (rc >> 1) - 0x10 ))
fi
exit $(( 200 + (rc > 55 ? 55 : rc) ))
