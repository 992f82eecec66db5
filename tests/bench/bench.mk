BENCH_SRC_bench_pmm := tests/bench/freelist.c
BENCH_SRC_bench_pmm_naive := tests/bench/naive_bitmap.c
