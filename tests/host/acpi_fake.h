/*
 * tests/host/acpi_fake.h - a fake "physical memory" for the ACPI and ramdisk
 * host tests, behind struct physmap.
 *
 * Blobs sit at chosen physical addresses.  map(pa, size) succeeds only if
 * one blob covers [pa, pa + size) entirely; it then returns a fresh malloc'd
 * copy of exactly those bytes, so ASan reports any read past what the code
 * under test mapped.  unmap must name a live mapping with its exact size.
 * Counters let a test check that everything mapped was unmapped, and
 * fail_at injects a map failure at the n-th call (1-based; 0 = never).
 *
 *   struct fake_mem fm; fake_init(&fm);
 *   fake_add(&fm, 0xe0000, rsdp, sizeof(rsdp));
 *   acpi_init(&a, &fm.host, 0xe0000);
 *   CHECK(fake_clean(&fm), ...);   // no live mapping, no bad unmap
 *   fake_free(&fm);
 */
#ifndef TESTS_HOST_ACPI_FAKE_H
#define TESTS_HOST_ACPI_FAKE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/acpi/acpi.h"

#define FAKE_MAX_BLOBS 64
#define FAKE_MAX_LIVE  64

struct fake_mem {
	struct physmap host;
	struct { uint64_t pa, size; uint8_t *data; } blob[FAKE_MAX_BLOBS];
	unsigned nblobs;
	struct { void *va; uint64_t size; } live[FAKE_MAX_LIVE];
	unsigned nlive;
	unsigned maps, failed_maps, unmaps, bad_unmaps;
	unsigned uncached_maps;
	uint64_t max_map;   /* largest size ever asked for */
	unsigned fail_at;   /* the fail_at-th map call returns NULL */
};

static void *fake_map(void *ctx, uint64_t pa, uint64_t size, unsigned flags)
{
	struct fake_mem *fm = ctx;
	fm->maps++;
	if (size > fm->max_map)
		fm->max_map = size;
	if (flags & PHYSMAP_UNCACHED)
		fm->uncached_maps++;
	if (fm->fail_at && fm->maps == fm->fail_at)
		goto fail;
	if (size == 0 || fm->nlive == FAKE_MAX_LIVE)
		goto fail;
	for (unsigned i = 0; i < fm->nblobs; i++) {
		uint64_t b = fm->blob[i].pa, n = fm->blob[i].size;
		if (pa >= b && pa - b <= n && size <= n - (pa - b)) {
			void *va = malloc(size);
			memcpy(va, fm->blob[i].data + (pa - b), size);
			fm->live[fm->nlive].va = va;
			fm->live[fm->nlive].size = size;
			fm->nlive++;
			return va;
		}
	}
fail:
	fm->failed_maps++;
	return NULL;
}

static void fake_unmap(void *ctx, void *va, uint64_t size)
{
	struct fake_mem *fm = ctx;
	fm->unmaps++;
	for (unsigned i = 0; i < fm->nlive; i++) {
		if (fm->live[i].va == va && fm->live[i].size == size) {
			free(va);
			fm->live[i] = fm->live[--fm->nlive];
			return;
		}
	}
	fm->bad_unmaps++;
}

static uint64_t fake_window_used(void *ctx)
{
	return ((struct fake_mem *)ctx)->nlive;
}

static inline void fake_init(struct fake_mem *fm)
{
	memset(fm, 0, sizeof(*fm));
	fm->host.map = fake_map;
	fm->host.unmap = fake_unmap;
	fm->host.window_used = fake_window_used;
	fm->host.ctx = fm;
}

/* Adds a copy of size bytes of data at pa; returns the copy (to mutate). */
static inline uint8_t *fake_add(struct fake_mem *fm, uint64_t pa, const void *data, uint64_t size)
{
	if (fm->nblobs == FAKE_MAX_BLOBS) {
		fprintf(stderr, "fake_add: too many blobs\n");
		exit(2);
	}
	uint8_t *copy = malloc(size ? size : 1);
	if (data)
		memcpy(copy, data, size);
	else
		memset(copy, 0, size);
	fm->blob[fm->nblobs].pa = pa;
	fm->blob[fm->nblobs].size = size;
	fm->blob[fm->nblobs].data = copy;
	fm->nblobs++;
	return copy;
}

/* Returns 1 if nothing is mapped and every unmap matched a map. */
static inline int fake_clean(const struct fake_mem *fm)
{
	return fm->nlive == 0 && fm->bad_unmaps == 0;
}

static inline void fake_free(struct fake_mem *fm)
{
	for (unsigned i = 0; i < fm->nlive; i++)
		free(fm->live[i].va);
	for (unsigned i = 0; i < fm->nblobs; i++)
		free(fm->blob[i].data);
	fm->nlive = fm->nblobs = 0;
}

/* Reads a whole file (relative to the repo root, where tests run); exits
 * with a message if it is missing. */
static inline uint8_t *fake_read_file(const char *path, uint64_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open %s (run tests from the repo root)\n", path);
		exit(2);
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *buf = malloc(n ? (size_t)n : 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "short read on %s\n", path);
		exit(2);
	}
	fclose(f);
	*size = (uint64_t)n;
	return buf;
}

/* Sets byte 9 (the SDT checksum) so the table's length bytes sum to 0. */
static inline void fake_fix_checksum(uint8_t *table, uint32_t len)
{
	uint8_t sum = 0;
	table[9] = 0;
	for (uint32_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + table[i]);
	table[9] = (uint8_t)-sum;
}

#endif
