#!/bin/sh
# tools/mkimage.sh OUT.img ESP_DIR [KEY CERT] - make a GPT disk image for a
# real PC (or QEMU as a plain disk): one EFI system partition holding the
# tree ESP_DIR.  With KEY and CERT, \EFI\BOOT\BOOTX64.EFI is signed for
# Secure Boot (a signed copy goes into the image; ESP_DIR is not touched).
#
#   sector 0            protective MBR          (sgdisk)
#   sectors 1-33        primary GPT
#   sector 2048 (1 MiB) EFI system partition, type EF00, FAT32 (mtools)
#   last 33 sectors     backup GPT
#
# No root, no loop mounts: mtools writes the FAT at the partition's byte
# offset inside the image (-i IMG@@OFFSET).
# Environment: KEY_PASS - passphrase of an encrypted KEY (Debian's snakeoil
# key: "snakeoil", per /usr/share/doc/ovmf/README.Debian); ESP_MIB - minimum
# partition size in MiB (default 64).
set -eu
[ $# -eq 2 ] || [ $# -eq 4 ] || { echo "usage: $0 OUT.img ESP_DIR [KEY CERT]" >&2; exit 2; }
out=$1; dir=$2; key=${3-}; cert=${4-}
[ -f "$dir/EFI/BOOT/BOOTX64.EFI" ] || { echo "mkimage: $dir/EFI/BOOT/BOOTX64.EFI missing" >&2; exit 1; }

SECTOR=512
PART_START=2048     # 1 MiB: the alignment every partitioning tool uses
GPT_TAIL=33         # backup GPT: 32 sectors of entries + its header
# FAT32 needs >= 65525 clusters: 64 MiB leaves room at any cluster size
# mformat picks for it, and the image is sparse, so the slack costs nothing.
ESP_MIB=${ESP_MIB:-64}

stage=$(mktemp -d "${TMPDIR:-/tmp}/mkimage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
cp -R "$dir/." "$stage/esp"

# Sign a copy: the staging tree keeps the unsigned loader.
if [ -n "$key" ]; then
	efi="$stage/esp/EFI/BOOT/BOOTX64.EFI"
	plainkey="$stage/key.pem"
	(umask 077
	 if grep -q ENCRYPTED "$key"; then
		openssl pkey -in "$key" -passin "pass:${KEY_PASS-}" -out "$plainkey"
	 else
		cp "$key" "$plainkey"
	 fi)
	sbsign --key "$plainkey" --cert "$cert" --output "$efi.signed" "$efi" 2>"$stage/sbsign.log" ||
		{ cat "$stage/sbsign.log" >&2; exit 1; }
	sbverify --cert "$cert" "$efi.signed" >/dev/null
	mv "$efi.signed" "$efi"
fi

# Partition size: the tree plus 8 MiB, at least ESP_MIB.
tree_mib=$(( $(du -sk "$stage/esp" | cut -f1) / 1024 + 8 ))
[ "$tree_mib" -lt "$ESP_MIB" ] && tree_mib=$ESP_MIB
part_sectors=$(( tree_mib * 1024 * 1024 / SECTOR ))
total=$(( PART_START + part_sectors + GPT_TAIL ))
# Round the disk up to a whole MiB.
total=$(( (total + 2047) / 2048 * 2048 ))

rm -f "$out"
dd if=/dev/zero of="$out" bs=$SECTOR count=0 seek=$total 2>/dev/null
sgdisk --clear \
	--new=1:$PART_START:$(( PART_START + part_sectors - 1 )) \
	--typecode=1:EF00 --change-name=1:"EFI system partition" \
	"$out" >/dev/null

# FAT32 over exactly the partition; -H records the sectors before it.
fat="$out@@$(( PART_START * SECTOR ))"
mformat -i "$fat" -F -T $part_sectors -H $PART_START -h 64 -s 32 -v MEMBOOT ::
for f in "$stage/esp"/*; do
	[ -e "$f" ] || continue
	mcopy -i "$fat" -s -Q "$f" ::/
done
sgdisk --verify "$out" >/dev/null
