/*
 * mm/lock.h - the spinlock every shared structure of mm/ (and the kernel)
 * is guarded by.
 *
 * A lock knows its name and the CPU that holds it, so a function that needs
 * it held says so with MM_LOCK_ASSERT_HELD (vmem's ASSERT(MUTEX_HELD()),
 * Linux's lockdep_assert_held) and taking a lock this CPU already holds
 * panics instead of hanging.  mm_lock disables interrupts on this CPU
 * (mm_irq_save) before it spins and mm_unlock puts them back as they were,
 * so an interrupt handler on this CPU never spins on a lock its own CPU
 * holds.  Locks nest only in the order written in the theory statement of
 * the subsystem that owns them; they are released in the reverse order.
 *
 * The CPU number and the interrupt flag come from mm/platform.h: on the host
 * a CPU is a thread (tools/host_platform.h: host_set_cpu) and interrupts do
 * not exist.  The atomics are the compiler's __atomic builtins, which
 * ThreadSanitizer understands.
 */
#ifndef MM_LOCK_H
#define MM_LOCK_H

#include <stdint.h>

struct mm_lock {
	uint32_t locked;      /* 0 free, 1 held: the only word CPUs race on */
	uint32_t owner;       /* holder's mm_cpu_id() + 1, 0 when free */
	uint64_t saved_irq;   /* holder's interrupt state before mm_lock */
	const char *name;     /* for reports: "pmm", "vaddr kernel", ... */
};

#define MM_LOCK_INIT(lock_name) { 0, 0, 0, (lock_name) }

/* Makes l a free lock called name (a string that outlives l). */
void mm_lock_init(struct mm_lock *l, const char *name);

/* Disables interrupts on this CPU, then spins until l is ours.  Panics
 * naming l if this CPU already holds it (a self-deadlock). */
void mm_lock(struct mm_lock *l);

/* Releases l and restores the interrupt state mm_lock saved.  Panics naming
 * l if this CPU does not hold it. */
void mm_unlock(struct mm_lock *l);

/* Takes l if it is free now: 1 with l held (interrupts off), else 0 and
 * nothing changed.  Panics like mm_lock on a self-deadlock. */
int mm_trylock(struct mm_lock *l);

/* 1 if this CPU holds l.  Another CPU's hold reads as 0. */
int mm_lock_held(const struct mm_lock *l);

/* Panics "who: lock <name> not held" unless this CPU holds l. */
void mm_lock_assert_held(const struct mm_lock *l, const char *who);

#define MM_LOCK_ASSERT_HELD(l) mm_lock_assert_held((l), __func__)

#endif
