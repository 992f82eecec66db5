#!/bin/sh
# tools/mkesp.sh IMG DIR [CMDLINE] - make a FAT image IMG holding the tree DIR,
# with mtools (no root, no loop mounts).  With CMDLINE, \boot\cmdline holds it.
set -eu
img=$1; dir=$2; cmdline=${3-}
# Size: the tree plus 4 MiB slack, at least 33 MiB so mformat picks FAT32 -
# the FAT type UEFI requires of an ESP.
kib=$(du -sk "$dir" | cut -f1)
mib=$(( kib / 1024 + 4 ))
[ "$mib" -lt 33 ] && mib=33
rm -f "$img"
dd if=/dev/zero of="$img" bs=1M count=0 seek="$mib" 2>/dev/null
mformat -i "$img" -F -v MEMBOOT ::
# Copy every top-level entry of the tree, recursively.
for f in "$dir"/*; do
	[ -e "$f" ] || continue
	mcopy -i "$img" -s -Q "$f" ::/
done
if [ -n "$cmdline" ]; then
	tmp=$(mktemp)
	printf '%s\n' "$cmdline" > "$tmp"
	# mmd asks on a terminal when the folder exists: make it only if absent.
	mdir -i "$img" ::/boot >/dev/null 2>&1 || mmd -i "$img" ::/boot
	mcopy -i "$img" -o "$tmp" ::/boot/cmdline
	rm -f "$tmp"
fi
