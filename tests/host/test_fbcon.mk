TEST_SRC_test_fbcon := kernel/console/fbcon.c kernel/console/font8x16.c
