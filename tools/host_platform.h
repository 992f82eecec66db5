/*
 * tools/host_platform.h - the host side of mm/platform.h, for tests, tools
 * and benchmarks: "physical memory" is one big mmap'ed arena (reserved with
 * MAP_NORESERVE, so only touched pages cost memory); pa is an offset in it.
 */
#ifndef TOOLS_HOST_PLATFORM_H
#define TOOLS_HOST_PLATFORM_H

#include <stdint.h>
#include <stddef.h>

/* Default arena: 64 GiB of address space, enough for any test map whose
 * usable RAM the allocators touch; bigger maps call host_arena_init. */
#define HOST_ARENA_DEFAULT (64ULL << 30)

/* (Re)creates the arena with size bytes, all zero.  Exits on failure. */
void host_arena_init(uint64_t size);

/* host_arena_init, with the arena 2 MiB aligned and advised MADV_HUGEPAGE:
 * touched memory comes in 2 MiB pages where the host has them, like the
 * kernel's direct map (1 GiB / 2 MiB pages).  For benchmarks of memory-
 * bound code; not for sparse tests (each first touch costs 2 MiB).  A host
 * without transparent huge pages gets a warning and 4 KiB pages. */
void host_arena_init_huge(uint64_t size);

/* Makes the calling thread CPU number cpu (< MM_MAX_CPUS) for mm_cpu_id,
 * and counts it as running cpu (mm_cpu_running) until it names another
 * CPU or exits; a thread that never calls it is CPU 0 but not counted as
 * running.  Contract (mm/pmm.c theory 10): while a thread runs a CPU, no
 * other thread uses that CPU number, and a thread runs CPU c, or stops
 * running it, only while no other thread is inside the allocator or CPU
 * c's frame cache is empty. */
void host_set_cpu(unsigned cpu);

/* The calling thread stops running its CPU (mm_cpu_running; its number
 * stays what mm_cpu_id returns).  host_arena_init does it: a new machine
 * starts with no CPU running; a thread that waits for others (a
 * pthread_join) while they use the allocator must not be counted. */
void host_cpu_leave(void);

/* mm_tlb_shootdown calls so far (all threads). */
uint64_t host_shootdowns(void);

/* Starts collecting mm_printf output in a buffer instead of printing it. */
void host_capture_begin(void);

/* Stops collecting; returns the text collected (valid until the next begin). */
const char *host_capture_end(void);

#endif
