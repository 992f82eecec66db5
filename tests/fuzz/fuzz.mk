# Code under test of each libFuzzer harness (built by the Makefile).
FUZZ_SRC_fuzz_acpi := kernel/acpi/acpi.c
FUZZ_SRC_fuzz_ustar := kernel/ramdisk/ustar.c
FUZZ_SRC_fuzz_allocops := $(sort $(wildcard mm/*.c)) tools/host_platform.c
FUZZ_SRC_fuzz_memmap := mm/memmap.c mm/status.c
# fuzz_memmap: no comparison tracing in its reference model (not under
# test): the coverage to chase is the sanitiser's.
$(BUILD)/fuzz/tests/fuzz/fuzz_memmap.c.o: FUZZCFLAGS += -fno-sanitize-coverage=trace-cmp
