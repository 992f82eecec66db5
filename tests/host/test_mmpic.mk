TEST_SRC_test_mmpic := kernel/mmpic.c kernel/fbcon.c kernel/font8x16.c
