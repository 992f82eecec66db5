/*
 * kernel/efirt/efirt.h - UEFI runtime services in the kernel: the runtime
 * window, SetVirtualAddressMap, W^X from the Memory Attributes Table,
 * GetTime and ResetSystem.
 *
 * Theory statement.
 *
 *  1. What is mapped.  Every descriptor of the raw firmware map (BootInfo
 *     memmap_*) with EFI_MEMORY_RUNTIME is a runtime region
 *     (kernel/efirt/mat.h: whole pages, ending below 2^64, none
 *     overlapping).  Each gets its own page-aligned address in the runtime
 *     window [EFIRT_BASE, EFIRT_END) (mm/layout.h, a PML4 slot nothing
 *     else uses), in map order with a guard page after each (layout in
 *     kernel/efirt/window.h).  The system table, the runtime services
 *     table and the configuration table are read there too: through their
 *     region if one holds them (OVMF's do), else mapped read-only NX of
 *     their own in the window (the spec does not promise that a runtime
 *     region holds them; Limine maps them the same way).  The mappings
 *     stay for good: the firmware keeps pointers to them.
 *
 *  2. SetVirtualAddressMap, exactly once, in efirt_init, on the boot CPU
 *     BEFORE the other CPUs start (kmain calls it before smp_init): for
 *     the call the regions are also mapped at va = pa in the lower half
 *     (the spec: the firmware runs the call in its physical mapping, and
 *     edk2 relocates its runtime images in place, so runtime code is
 *     writable + executable there), and removed right after (unmap_pages:
 *     TLB flushed, emptied tables freed).  No other CPU ever runs on these
 *     tables while the identity part exists, so no shootdown is needed
 *     and no other CPU can see a writable+executable page; ptcheck (the mm
 *     selftest, after SMP) finds none.  The virtual map handed to the
 *     firmware is every runtime descriptor as the raw map has it, with
 *     VirtualStart set, in the firmware's descriptor size and version.
 *
 *  3. Permissions (mat.h): from the Memory Attributes Table when the
 *     configuration table has one that validates (Linux memattr.c's rules;
 *     bad entries are skipped and counted), else runtime code RX and the
 *     rest RW+NX.  Never W+X.  A firmware without a MAT that writes into
 *     its code regions after SetVirtualAddressMap faults - caught (4) -
 *     instead of running with W+X pages.
 *
 *  4. Calls (kernel/efirt/call.c).  LOCKING: one mm_lock ("efirt")
 *     serialises every call (runtime services are not reentrant) and
 *     protects the call stack, the FPU save area and the on/off state;
 *     interrupts are off for the call (the lock) - UEFI lets the OS call
 *     with interrupts on or off, and GetTime / ResetSystem are short; a
 *     shootdown IPI aimed at the calling CPU waits for the call to end.
 *     The FPU/SSE state is saved (XSAVE when CR4.OSXSAVE, else FXSAVE)
 *     and the UEFI one loaded (kernel/efirt/fpu.h).  The call runs on the
 *     64 KiB runtime stack in the window (guard pages both sides), inside
 *     trap_catch: a CPU exception in the firmware prints one `efirt:`
 *     line and turns runtime services off for good (Linux:
 *     efi_crash_gracefully_on_page_fault) instead of a panic.  The
 *     firmware's pointers are trusted only after a check: the
 *     SetVirtualAddressMap entry must lie in a runtime code region, and
 *     after the call GetTime and ResetSystem must point into a runtime
 *     code region's window range.
 *
 *  5. Test and end-of-boot words (\boot\cmdline): `test-efirt-unmap`
 *     unmaps the window range of the region holding GetTime's code after
 *     SetVirtualAddressMap, so the GetTime call faults (the proof of 4);
 *     `poweroff` / `reboot` call ResetSystem(EfiResetShutdown /
 *     EfiResetCold) after `memboot: done` unless `qemu-exit` is given
 *     (the test path wins); with neither the kernel halts.
 *
 * Lines:
 *   efirt: system table 0x<pa> revision <maj>.<min>, runtime services 0x<pa>, <n> configuration tables
 *   efirt: memory attributes table: <n> entries, <k> applied
 *   efirt: memory attributes table entry <i> skipped: <why>     (first skipped one)
 *   efirt: memory attributes table at 0x<pa> not used: <why>
 *   efirt: no memory attributes table
 *   efirt: window: <p> pages (<rx> RX, <r> R, <rw> RW+NX, <uc> uncached), stack 64 KiB, <xsave|fxsave>
 *   efirt: SetVirtualAddressMap ok: <n> runtime regions at 0x<first VirtualStart>
 *   efirt: GetTime YYYY-MM-DD HH:MM:SS
 *   efirt: GetTime returned an invalid time: year <y> month <m> day <d> HH:MM:SS, nanosecond <ns>, zone <z>
 *   efirt: off: <why>                                            (anything refused)
 *   efirt: page fault in <service> at rip 0x... (address 0x..., error 0x...): runtime services off
 *   efirt: test: runtime region <i> (0x<va>, <n> pages, GetTime's code) unmapped: MM_OK
 *   efirt: runtime services are off: no ResetSystem(<type>); halting  (after `memboot: done`)
 *   efirt: ResetSystem(<type>) returned; halting                       (after `memboot: done`)
 */
#ifndef KERNEL_EFIRT_EFIRT_H
#define KERNEL_EFIRT_EFIRT_H

#include "shared/bootinfo.h"

/* Validates the firmware's tables, maps the runtime window, calls
 * SetVirtualAddressMap and GetTime, printing the lines above.  After
 * kmem_init, before smp_init (theory 2).  Never panics on firmware input:
 * anything wrong leaves runtime services off with an `efirt: off:` line. */
void efirt_init(const struct bootinfo *bi);

/* After `memboot: done`: with cmdline word `poweroff` (`reboot`) and
 * without `qemu-exit`, calls ResetSystem(EfiResetShutdown (Cold)); if
 * that returns or runtime services are off, says so and returns.  Returns
 * at once otherwise. */
void efirt_end_of_boot(const struct bootinfo *bi);

#endif
