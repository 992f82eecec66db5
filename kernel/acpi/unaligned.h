/*
 * kernel/acpi/unaligned.h - little-endian loads from unaligned firmware
 * bytes (ACPI tables: fields at any offset), for the table parsers.
 */
#ifndef KERNEL_ACPI_UNALIGNED_H
#define KERNEL_ACPI_UNALIGNED_H

#include <stdint.h>
#include "lib/string.h"

/* The 16/32/64-bit value at p, whatever its alignment (x86: little-endian). */
static inline uint16_t ld16(const void *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t ld32(const void *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t ld64(const void *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

#endif
