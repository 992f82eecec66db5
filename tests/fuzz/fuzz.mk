# Code under test of each libFuzzer harness (built by the Makefile).
FUZZ_SRC_fuzz_acpi := kernel/acpi/acpi.c
FUZZ_SRC_fuzz_ustar := kernel/ramdisk/ustar.c
FUZZ_SRC_fuzz_elf := efi/elf.c lib/fmt.c
FUZZ_SRC_fuzz_bootinfo := kernel/boot/handover.c lib/fmt.c mm/memmap.c mm/memmap_print.c \
	mm/pmm.c mm/bootalloc.c mm/status.c tools/host_platform.c \
	kernel/console/fbcon.c kernel/console/font8x16.c kernel/console/mmpic.c
