/*
 * mm/lock.c - spinlocks with an owner (see mm/lock.h).
 *
 * Test-and-test-and-set: a waiter spins on plain loads (the line stays
 * shared in its cache) and tries the atomic exchange only when the lock
 * reads free, so a contended lock does not bounce its cache line with every
 * probe.  Acquire on the exchange and release on the store order the
 * critical section's loads and stores inside the lock.  A waiter answers
 * the frame allocator's drain requests while it spins (mm_wait_serve,
 * mm/platform.h), so a CPU spinning here never holds up a CPU that waits
 * for its cached frames.
 */
#include "mm/lock.h"
#include "mm/platform.h"

/* See mm/platform.h. */
void (*mm_wait_hook)(void);

/* See mm/platform.h. */
void mm_wait_serve(void)
{
	void (*hook)(void) = __atomic_load_n(&mm_wait_hook, __ATOMIC_ACQUIRE);
	if (hook)
		hook();
}

/* See mm/lock.h. */
void mm_lock_init(struct mm_lock *l, const char *name)
{
	l->locked = 0;
	l->owner = 0;
	l->saved_irq = 0;
	l->name = name;
}

/* Panics if this CPU (me = id + 1) already holds l. */
static void lock_check_self(const struct mm_lock *l, uint32_t me, const char *who)
{
	if (__atomic_load_n(&l->owner, __ATOMIC_RELAXED) == me)
		mm_panic("%s: lock %s already held by this CPU (%u)", who, l->name, me - 1);
}

/* Records this CPU as l's holder; l was just taken with interrupts off. */
static void lock_own(struct mm_lock *l, uint32_t me, uint64_t irq)
{
	__atomic_store_n(&l->owner, me, __ATOMIC_RELAXED);
	l->saved_irq = irq;
}

/* See mm/lock.h. */
void mm_lock(struct mm_lock *l)
{
	uint64_t irq = mm_irq_save();
	uint32_t me = mm_cpu_id() + 1;
	lock_check_self(l, me, "mm_lock");
	for (;;) {
		if (!__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
			break;
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED)) {
			mm_wait_serve();    /* answer drain requests while we wait */
			mm_cpu_relax();
		}
	}
	lock_own(l, me, irq);
}

/* See mm/lock.h. */
int mm_trylock(struct mm_lock *l)
{
	uint64_t irq = mm_irq_save();
	uint32_t me = mm_cpu_id() + 1;
	lock_check_self(l, me, "mm_trylock");
	if (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE)) {
		mm_irq_restore(irq);
		return 0;
	}
	lock_own(l, me, irq);
	return 1;
}

/* See mm/lock.h. */
void mm_unlock(struct mm_lock *l)
{
	uint32_t me = mm_cpu_id() + 1;
	if (__atomic_load_n(&l->owner, __ATOMIC_RELAXED) != me)
		mm_panic("mm_unlock: lock %s not held by this CPU (%u)", l->name, me - 1);
	uint64_t irq = l->saved_irq;
	__atomic_store_n(&l->owner, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
	mm_irq_restore(irq);
}

/* See mm/lock.h. */
int mm_lock_held(const struct mm_lock *l)
{
	return __atomic_load_n(&l->owner, __ATOMIC_RELAXED) == mm_cpu_id() + 1;
}

/* See mm/lock.h. */
void mm_lock_assert_held(const struct mm_lock *l, const char *who)
{
	if (!mm_lock_held(l))
		mm_panic("%s: lock %s not held", who, l->name);
}
