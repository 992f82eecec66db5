# Extra sources of the boot-chain host tests (loader and kernel code that is
# portable C).
TEST_SRC_test_elf := efi/elf.c lib/fmt.c
TEST_SRC_test_handover := kernel/boot/handover.c lib/fmt.c
TEST_SRC_test_fmt := lib/fmt.c
