TEST_SRC_test_acpi := kernel/acpi/acpi.c kernel/acpi/numa.c lib/fmt.c
