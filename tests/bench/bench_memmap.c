/*
 * tests/bench/bench_memmap.c - memory-map sanitiser figures (`make bench`;
 * not a pass/fail test).  Prints `bench: <name> <value> <unit>` lines:
 *   memmap_sanitize_<N>   ms for memmap_sanitize of a made-up map of N
 *                         descriptors (N = 1k, 10k, 30k, 100k): RAM from 1 MiB
 *                         to 2 TiB cut into page-aligned pieces of random
 *                         types in address order, then 8 reserved / ACPI
 *                         NVS entries laid over random spots, and 8 used
 *                         ranges (tests/bench/gen_memmap.py makes the same
 *                         shape as text for the host tool)
 *   qsort_descs_<N>       the baseline, in the same run: ms for libc qsort
 *                         of 2N 16-byte keys (a start and an end per
 *                         descriptor, as many keys as the sanitiser sorts)
 *                         by their 64-bit address
 * Each figure is the best of REPEAT runs (thread CPU time).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mm/memmap.h"
#include "mm/status.h"
#include "tools/host_platform.h"

#define PG     4096ULL
#define MiB    0x100000ULL
#define TiB    0x10000000000ULL
#define REPEAT 5
#define NMAX   100000

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

/* xorshift64*. */
static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

/* CPU time of this thread, in ns (the machine is shared). */
static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static struct bootinfo_efi_desc map[NMAX];
static struct bootinfo_range used[BOOTINFO_MAX_USED];
static struct memmap_cp scratch[MEMMAP_SCRATCH_LEN(NMAX, BOOTINFO_MAX_USED)];
static struct mm_region out[2 * (NMAX + BOOTINFO_MAX_USED) + 2];

/* The baseline's keys: 16 bytes, sorted by addr. */
struct key {
	uint64_t addr;
	uint64_t tag;
};
static struct key keys[2 * NMAX], keys_orig[2 * NMAX];

/* Fills map[0..n) as the header says: n - 8 pieces of 1 .. 2 * step - 1
 * pages back to back from 1 MiB, the last one up to 2 TiB, then the 8
 * overlays; and the baseline's keys (each piece's start and end). */
static void make_map(uint32_t n)
{
	static const uint32_t types[] = { EFI_BS_CODE, EFI_BS_DATA, EFI_BS_DATA, EFI_CONVENTIONAL,
					  EFI_LOADER_DATA, EFI_RT_DATA, EFI_ACPI_RECLAIM, EFI_RESERVED };
	uint32_t pieces = n - 8;
	uint64_t span = (2 * TiB - MiB) / PG, step = span / pieces, a = MiB;

	for (uint32_t i = 0; i < pieces; i++) {
		uint64_t pages = i + 1 < pieces ? 1 + rnd() % (2 * step - 1) : 0;
		if (i + 1 == pieces || a + pages * PG > 2 * TiB - (pieces - i - 1) * PG)
			pages = (2 * TiB - a) / PG - (pieces - i - 1);
		map[i] = (struct bootinfo_efi_desc){ .type = types[rnd() % 8], .phys_start = a,
						     .num_pages = pages, .attribute = 0xf };
		a += pages * PG;
	}
	for (uint32_t i = pieces; i < n; i++)
		map[i] = (struct bootinfo_efi_desc){
			.type = i % 2 ? EFI_RESERVED : EFI_ACPI_NVS,
			.phys_start = MiB + rnd() % (span - 1024) * PG,
			.num_pages = 1 + rnd() % 1024, .attribute = 0xf };
	for (uint32_t i = 0; i < BOOTINFO_MAX_USED; i++)
		used[i] = (struct bootinfo_range){ .pa = MiB + rnd() % (span - 64) * PG,
						   .size = 64 * PG, .type = i % 5 };
	for (uint32_t i = 0; i < n; i++) {
		keys_orig[2 * i] = (struct key){ map[i].phys_start, 2 * i };
		keys_orig[2 * i + 1] = (struct key){ map[i].phys_start + map[i].num_pages * PG, 2 * i + 1 };
	}
}

/* qsort order of the baseline's keys. */
static int cmp_key(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Returns the best memmap_sanitize time in ms for map[0..n). */
static double time_sanitize(uint32_t n)
{
	double best = 1e30;
	size_t count;

	for (int r = 0; r < REPEAT; r++) {
		double t0 = now_ns();
		int st = memmap_sanitize(map, n * sizeof(map[0]), sizeof(map[0]), used,
					 BOOTINFO_MAX_USED, scratch, sizeof(scratch) / sizeof(scratch[0]),
					 out, sizeof(out) / sizeof(out[0]), &count);
		double t = now_ns() - t0;
		if (st != MM_OK) {
			fprintf(stderr, "bench_memmap: memmap_sanitize: %s\n", mm_status_str(st));
			exit(1);
		}
		if (t < best)
			best = t;
	}
	return best / 1e6;
}

/* Returns the best time in ms of qsort on the 2n keys of map[0..n). */
static double time_qsort(uint32_t n)
{
	double best = 1e30;

	for (int r = 0; r < REPEAT; r++) {
		memcpy(keys, keys_orig, 2 * n * sizeof(keys[0]));
		double t0 = now_ns();
		qsort(keys, 2 * (size_t)n, sizeof(keys[0]), cmp_key);
		double t = now_ns() - t0;
		if (t < best)
			best = t;
	}
	return best / 1e6;
}

int main(void)
{
	static const struct { uint32_t n; const char *name; } sizes[] = {
		{ 1000, "1k" }, { 10000, "10k" }, { 30000, "30k" }, { 100000, "100k" },
	};
	double first = 0, ms = 0;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		make_map(sizes[i].n);
		/* memmap_print's output would swamp the figures: only time. */
		host_capture_begin();
		ms = time_sanitize(sizes[i].n);
		host_capture_end();
		if (i == 0)
			first = ms;
		printf("bench: memmap_sanitize_%s %.2f ms\n", sizes[i].name, ms);
		printf("bench: qsort_descs_%s %.2f ms\n", sizes[i].name, time_qsort(sizes[i].n));
	}
	/* The goal: 100k <= 100 ms and <= 200 x the 1k figure. */
	printf("bench: memmap_sanitize_ratio_100k_1k %.1f x\n", ms / first);
	return 0;
}
