TEST_SRC_test_efirt_mat := kernel/efirt/mat.c kernel/efirt/tables.c
