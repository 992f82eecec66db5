# Extra sources of the boot-chain host tests (loader and kernel code that is
# portable C).
TEST_SRC_test_elf := efi/elf.c kernel/fmt.c
TEST_SRC_test_bootinfo := kernel/bootinfo.c kernel/fmt.c
TEST_SRC_test_fmt := kernel/fmt.c
