/*
 * kernel/efirt/call.c - the runtime-call path (call.h).
 *
 * Locking: call_lock (an mm_lock: interrupts off while held) protects
 * calls_on, the runtime call stack and the FPU save area (kernel/efirt/
 * fpu.c); every firmware call runs under it, so the firmware is never
 * entered twice at once (UEFI 2.10 8.1: runtime services are not
 * reentrant).  Order: call_lock -> console (the fault report).
 */
#include "kernel/arch/trap.h"
#include "kernel/console/console.h"
#include "kernel/efirt/call.h"
#include "kernel/efirt/fpu.h"
#include "kernel/efirt/window.h"
#include "mm/lock.h"

uint64_t efirt_call4(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		     uint64_t stack_top);

static struct mm_lock call_lock = MM_LOCK_INIT("efirt");
static int calls_on;    /* call_lock */

/* A call in flight: trap_catch passes one pointer. */
struct call {
	uint64_t fn, a[4], ret;
};

/* Runs the call on the runtime stack (trap_catch's fn). */
static void call_on_stack(void *p)
{
	struct call *c = p;
	c->ret = efirt_call4(c->fn, c->a[0], c->a[1], c->a[2], c->a[3], EFIRT_STACK_TOP);
}

/* Returns a static name for exception vector v (the fault report). */
static const char *vector_name(uint64_t v)
{
	switch (v) {
	case T_GP: return "general protection fault";
	case T_DF: return "double fault";
	default: return "CPU exception";
	}
}

/* See call.h. */
void efirt_call_enable(void)
{
	mm_lock(&call_lock);
	calls_on = 1;
	mm_unlock(&call_lock);
}

/* See call.h. */
void efirt_call_disable(void)
{
	mm_lock(&call_lock);
	calls_on = 0;
	mm_unlock(&call_lock);
}

/* See call.h. */
int efirt_call_enabled(void)
{
	return __atomic_load_n(&calls_on, __ATOMIC_RELAXED);
}

/* See call.h. */
int efirt_call(const char *name, uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3,
	       uint64_t a4, uint64_t *ret)
{
	struct call c = { fn, { a1, a2, a3, a4 }, 0 };
	struct trap_caught tc;

	mm_lock(&call_lock);
	if (!calls_on) {
		mm_unlock(&call_lock);
		return EFIRT_CALL_OFF;
	}
	efirt_fpu_enter();
	int faulted = trap_catch(call_on_stack, &c, &tc);
	efirt_fpu_leave();
	if (faulted) {
		calls_on = 0;
		if (tc.vector == T_PF)
			kprintf("efirt: page fault in %s at rip 0x%lx (address 0x%lx, error 0x%lx): "
				"runtime services off\n", name, tc.rip, tc.cr2, tc.error);
		else
			kprintf("efirt: %s (vector %lu) in %s at rip 0x%lx (error 0x%lx): "
				"runtime services off\n", vector_name(tc.vector), tc.vector, name,
				tc.rip, tc.error);
	}
	mm_unlock(&call_lock);
	*ret = c.ret;
	return faulted ? EFIRT_CALL_FAULT : EFIRT_CALL_OK;
}
