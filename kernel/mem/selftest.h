/*
 * kernel/mem/selftest.h - in-kernel memory-manager selftest: every mm API is
 * driven through allocate / map / write / read / unmap, real faults are
 * provoked and caught with trap_catch (use after unmap, write to read-only,
 * execute from NX, NULL, kernel-stack overflow into the guard page), and an
 * out-of-memory storm must leave the free-frame count at its baseline.
 */
#ifndef KERNEL_SELFTEST_H
#define KERNEL_SELFTEST_H

/* Runs every check after kmem_init; prints `selftest: FAIL <what>` for each
 * failure and ends with `selftest: <n> passed, <m> failed`.  Returns m. */
int selftest_run(void);

#endif
