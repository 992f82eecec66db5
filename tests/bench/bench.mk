BENCH_SRC_bench_pmm := tests/bench/freelist.c
