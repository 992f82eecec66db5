/*
 * kernel/efirt/fpu.h - the floating-point state around a runtime call.
 *
 * The kernel itself is built without x87/SSE (-mno-sse -mno-80387) and
 * never changes CR0 or CR4: it keeps what the firmware handed over, which
 * UEFI 2.10 2.3.4 makes CR0.EM = 0, CR0.TS = 0, CR4.OSFXSR = 1 and
 * CR4.OSXMMEXCPT = 1 (the APs copy the boot CPU's CR0/CR4).  Firmware code
 * may use SSE, so a call saves the x87/SSE (and, with CR4.OSXSAVE, every
 * XCR0 component) state first, loads the state the spec promises the
 * callee (x87 control word 0x037F, MXCSR 0x1F80: all exceptions masked,
 * round to nearest) and restores the saved state afterwards, whether the
 * call returned or faulted.  One save area: calls are serialised
 * (kernel/efirt/efirt.h theory 4), so efirt_fpu_* run under the call lock.
 */
#ifndef KERNEL_EFIRT_FPU_H
#define KERNEL_EFIRT_FPU_H

/* Returns NULL if this CPU's CR0/CR4 let firmware use x87/SSE and the
 * save area is large enough, else a static string saying what is wrong
 * (runtime services are then not used). */
const char *efirt_fpu_check(void);

/* Saves the FPU state into the save area and loads the UEFI call state. */
void efirt_fpu_enter(void);

/* Restores the state efirt_fpu_enter saved. */
void efirt_fpu_leave(void);

/* Returns "xsave" or "fxsave": how the state is saved on this CPU. */
const char *efirt_fpu_method(void);

#endif
