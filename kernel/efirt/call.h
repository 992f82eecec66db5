/*
 * kernel/efirt/call.h - one runtime-service call: serialised, FPU state
 * saved, on the runtime call stack, a fault inside the firmware caught
 * (efirt.h theory 4).
 */
#ifndef KERNEL_EFIRT_CALL_H
#define KERNEL_EFIRT_CALL_H

#include <stdint.h>

/* What efirt_call returns (the firmware's own EFI_STATUS goes to *ret). */
enum {
	EFIRT_CALL_OK = 0,    /* the firmware returned; *ret is its status */
	EFIRT_CALL_OFF,       /* runtime services are off: nothing called */
	EFIRT_CALL_FAULT,     /* the firmware faulted: reported, services now off */
};

/* Lets calls through (after SetVirtualAddressMap, or for it).  Before
 * this, and after a fault or efirt_call_disable, every call is refused. */
void efirt_call_enable(void);

/* Refuses every later call. */
void efirt_call_disable(void);

/* Returns 1 if calls are let through. */
int efirt_call_enabled(void);

/* Calls the firmware function at fn (an address the current page tables
 * map executable) with up to four arguments, under the call lock
 * (interrupts off), with the FPU state saved and the UEFI one loaded, on
 * the runtime stack, inside trap_catch.  name is the service's name for
 * the report.  A CPU exception inside the call prints
 *   efirt: page fault in <name> at rip 0x... (address 0x..., error 0x...): runtime services off
 * (another exception: `efirt: <what> (vector <v>) in <name> at rip ...`)
 * and turns calls off.  Not from inside another trap_catch. */
int efirt_call(const char *name, uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3,
	       uint64_t a4, uint64_t *ret);

#endif
