TEST_SRC_test_madt := kernel/acpi/acpi.c kernel/acpi/numa.c lib/fmt.c
