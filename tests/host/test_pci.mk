TEST_SRC_test_pci := kernel/pci/walk.c kernel/pci/legacy.c
