# Code under test of each libFuzzer harness (built by the Makefile).
FUZZ_SRC_fuzz_acpi := kernel/acpi/acpi.c
FUZZ_SRC_fuzz_ustar := kernel/ramdisk/ustar.c
FUZZ_SRC_fuzz_elf := efi/elf.c lib/fmt.c
