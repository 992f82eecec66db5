TEST_SRC_test_numa := kernel/acpi/acpi.c kernel/acpi/numa.c lib/fmt.c
