TEST_SRC_test_mmpic := kernel/console/mmpic.c kernel/console/fbcon.c kernel/console/font8x16.c
