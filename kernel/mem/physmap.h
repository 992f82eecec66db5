/*
 * kernel/mem/physmap.h - "map a physical range for me": the one interface
 * through which the ACPI code, PCI enumeration and the ramdisk reach memory
 * that is not theirs (firmware tables, device registers, the loader's
 * ramdisk).  Portable and freestanding: the users are pure C and run in host
 * tests too.  Implementations:
 *
 *   kernel:  kernel/mem/physmap.c, kmem_physmap() - mem_map_addr into the
 *            kernel window (cached, or uncached for device registers),
 *            mem_unmap_addr to undo it;
 *   tests:   tests/host/acpi_fake.h - blobs at fake physical addresses; a
 *            range no blob covers maps to NULL.
 */
#ifndef KERNEL_MEM_PHYSMAP_H
#define KERNEL_MEM_PHYSMAP_H

#include <stdint.h>

#define PHYSMAP_CACHED   0u  /* ordinary RAM: tables, the ramdisk */
#define PHYSMAP_UNCACHED 1u  /* device registers: HPET, ECAM (also writable) */

/* map returns a pointer through which [pa, pa + size) can be read (and, for
 * PHYSMAP_UNCACHED, written), or NULL if it cannot be mapped; unmap undoes
 * one map, with the same va and size.  window_used, if not NULL, returns how
 * much of the mapping window is in use (any unit: callers only compare it
 * before and after their work, to prove every mapping was undone). */
struct physmap {
	void *(*map)(void *ctx, uint64_t pa, uint64_t size, unsigned flags);
	void (*unmap)(void *ctx, void *va, uint64_t size);
	uint64_t (*window_used)(void *ctx);
	void *ctx;
};

#endif
