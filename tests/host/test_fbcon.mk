TEST_SRC_test_fbcon := kernel/fbcon.c kernel/font8x16.c
