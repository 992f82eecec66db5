# The SMP start plan and the ICR encodings (kernel/smp: portable parts).
TEST_SRC_test_smp_plan := kernel/smp/smp_plan.c kernel/smp/lapic_icr.c
