#!/bin/sh
# tools/mkinitrd.sh DIR OUT - pack the files of DIR into a USTAR archive OUT
# (plain tar, sorted names, fixed owner and time so the output is reproducible).
set -eu
dir=$1; out=$2
if [ ! -d "$dir" ]; then
	# No initrd folder: an empty but well-formed archive (two zero blocks).
	head -c 1024 /dev/zero > "$out"
	exit 0
fi
tar --format=ustar --sort=name --owner=0 --group=0 --numeric-owner \
	--mtime='2026-01-01 00:00:00' -C "$dir" -cf "$out" .
