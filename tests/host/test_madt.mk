TEST_SRC_test_madt := kernel/acpi/acpi.c
