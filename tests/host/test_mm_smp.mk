# test_mm_smp runs vaddr, paging and kalloc from several threads.  mm/pmm.c
# is made thread-safe on another branch (h-pcp); until that is merged, the
# test's pmm calls go through wrappers in the test that hold one mutex
# (ld --wrap: every call from mm/ to these pmm functions reaches
# __wrap_<name>).  mm_printf is wrapped too, so the refusal reports printed
# from threads are counted, not printed.  Harmless once pmm locks itself.
MM_SMP_WRAP := -Wl,--wrap=pmm_alloc,--wrap=pmm_free,--wrap=pmm_tag,--wrap=pmm_untag,--wrap=pmm_is_allocated,--wrap=pmm_is_ram,--wrap=mm_printf
$(BUILD)/host/bin/test_mm_smp: private HOSTCFLAGS += $(MM_SMP_WRAP)
$(BUILD)/tsan/bin/test_mm_smp: private TSANCFLAGS += $(MM_SMP_WRAP)
