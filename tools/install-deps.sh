#!/bin/sh
# tools/install-deps.sh - make sure every tool memboot's build and tests use is
# installed; apt-installs (Debian 12) whatever is missing.  Safe to re-run.
set -eu

# tool-or-file -> Debian package
need() {
	case "$1" in
	/*) [ -e "$1" ] ;;
	*) command -v "$1" >/dev/null 2>&1 ;;
	esac || missing="$missing $2"
}

missing=""
need clang clang
need ld.lld lld
need lld-link lld
need /usr/include/efi/efi.h gnu-efi
need /usr/share/OVMF/OVMF_CODE_4M.fd ovmf
need qemu-system-x86_64 qemu-system-x86
need mcopy mtools
need mformat mtools
need sgdisk gdisk
need iasl acpica-tools
need sbsign sbsigntool
need python3 python3
need tar tar
need cc gcc
need make make
need gdb gdb
need xxd xxd
need /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a libclang-rt-14-dev

[ -z "$missing" ] && exit 0

# Unique package names.
pkgs=$(printf '%s\n' $missing | sort -u | tr '\n' ' ')
echo "install-deps: installing:$missing" | tr -s ' '
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $pkgs
