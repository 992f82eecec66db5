TEST_SRC_test_ustar := kernel/ramdisk/ustar.c
