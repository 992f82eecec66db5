TEST_SRC_test_cmdline := lib/cmdline.c
