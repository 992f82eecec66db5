TEST_SRC_test_sha256 := efi/sha256.c
