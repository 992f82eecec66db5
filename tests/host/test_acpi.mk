TEST_SRC_test_acpi := kernel/acpi/acpi.c
