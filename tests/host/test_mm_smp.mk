# test_mm_smp runs vaddr, paging and kalloc from several threads.  mm_printf
# is wrapped (ld --wrap: every call from mm/ reaches __wrap_mm_printf), so
# the refusal reports printed from threads are counted, not printed.
MM_SMP_WRAP := -Wl,--wrap=mm_printf
$(BUILD)/host/bin/test_mm_smp: private HOSTCFLAGS += $(MM_SMP_WRAP)
$(BUILD)/tsan/bin/test_mm_smp: private TSANCFLAGS += $(MM_SMP_WRAP)
