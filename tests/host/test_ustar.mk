TEST_SRC_test_ustar := kernel/ustar.c
