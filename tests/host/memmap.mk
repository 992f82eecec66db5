# The memmap tests compare memmap_sanitize with the O(n^2) reference
# sanitiser of tests/host/memmap_ref.c (the algorithm before change points).
TEST_SRC_test_memmap_diff := tests/host/memmap_ref.c
TEST_SRC_test_memmap_tool := tests/host/memmap_ref.c
