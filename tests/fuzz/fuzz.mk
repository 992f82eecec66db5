# Code under test of each libFuzzer harness (built by the Makefile).
FUZZ_SRC_fuzz_acpi := kernel/acpi/acpi.c
FUZZ_SRC_fuzz_ustar := kernel/ramdisk/ustar.c
FUZZ_SRC_fuzz_memmap := mm/memmap.c mm/status.c
# fuzz_memmap's reference loops are not what is under test: comparison
# tracing there would only halve the executions per second.
$(BUILD)/fuzz/tests/fuzz/fuzz_memmap.c.o: FUZZCFLAGS += -fno-sanitize-coverage=trace-cmp
