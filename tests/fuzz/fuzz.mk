# Code under test of each libFuzzer harness (built by the Makefile).
FUZZ_SRC_fuzz_acpi := kernel/acpi/acpi.c kernel/acpi/numa.c lib/fmt.c
FUZZ_SRC_fuzz_ustar := kernel/ramdisk/ustar.c
FUZZ_SRC_fuzz_allocops := $(sort $(wildcard mm/*.c)) tools/host_platform.c
FUZZ_SRC_fuzz_memmap := mm/memmap.c mm/status.c
# fuzz_memmap: no comparison tracing in its reference model (not under
# test): the coverage to chase is the sanitiser's.
$(BUILD)/fuzz/tests/fuzz/fuzz_memmap.c.o: FUZZCFLAGS += -fno-sanitize-coverage=trace-cmp
FUZZ_SRC_fuzz_elf := efi/elf.c lib/fmt.c
FUZZ_SRC_fuzz_bootinfo := kernel/boot/handover.c lib/fmt.c mm/memmap.c mm/memmap_print.c \
	mm/pmm.c mm/bootalloc.c mm/lock.c mm/status.c tools/host_platform.c \
	kernel/console/fbcon.c kernel/console/font8x16.c kernel/console/mmpic.c
