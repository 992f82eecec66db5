/*
 * tests/host/test_host_arena.c - host_arena_init_huge (tools/host_platform.h):
 * the arena benchmarks of memory-bound code use, 2 MiB aligned and advised
 * MADV_HUGEPAGE, so that the host maps it with 2 MiB pages like the
 * kernel's direct map.  The truth for "huge pages" is the host kernel's
 * own account, /proc/self/smaps (AnonHugePages of the arena's mapping);
 * the control is the plain arena (host_arena_init), which must show none
 * when transparent huge pages are in `madvise` mode.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tests/host/harness.h"
#include "mm/platform.h"

#define MiB (1ULL << 20)
#define HUGE_PAGE (2 * MiB)
#define ARENA (8 * MiB)
#define TOUCHED (4 * MiB)   /* two whole 2 MiB pages of the arena */

/* Returns the THP mode the host runs in: "always", "madvise", "never",
 * or "" if the host has no transparent huge pages. */
static const char *thp_mode(void)
{
	static char mode[16];
	char line[128];
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	mode[0] = '\0';
	if (!f)
		return mode;
	if (fgets(line, sizeof(line), f)) {
		char *a = strchr(line, '['), *b = a ? strchr(a, ']') : NULL;
		if (a && b && (size_t)(b - a - 1) < sizeof(mode)) {
			memcpy(mode, a + 1, (size_t)(b - a - 1));
			mode[b - a - 1] = '\0';
		}
	}
	fclose(f);
	return mode;
}

/* Returns the AnonHugePages (kB) of the mapping holding address p, as the
 * host kernel reports it in /proc/self/smaps, or -1 if p is in none. */
static long huge_kb_at(const void *p)
{
	char line[256];
	long kb = -1;
	int inside = 0;
	FILE *f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {   /* a mapping's first line */
			inside = (uintptr_t)p >= lo && (uintptr_t)p < hi;
			continue;
		}
		if (inside && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/* Writes every byte of the first n bytes of the arena (faults them in). */
static void touch(uint64_t n)
{
	memset(mm_phys_to_virt(0), 0xa5, n);
}

/* The huge arena is 2 MiB aligned, reads as zeros, holds what is written
 * at both ends, and a second call gives a fresh (zeroed) arena. */
static void test_huge_arena_is_an_arena(void)
{
	host_arena_init_huge(ARENA);
	uint8_t *a = mm_phys_to_virt(0);
	CHECK((uintptr_t)a % HUGE_PAGE == 0, "arena at %p", (void *)a);
	uint8_t *last = mm_phys_to_virt(ARENA - 1);
	CHECK(last == a + ARENA - 1, "pa %llu maps to %p, arena at %p",
	      (unsigned long long)(ARENA - 1), (void *)last, (void *)a);
	CHECK(a[0] == 0 && a[ARENA / 2] == 0 && *last == 0, "fresh arena not zero");
	a[0] = 1;
	*last = 2;
	CHECK(a[0] == 1 && *last == 2, "arena does not keep what is written");
	host_arena_init_huge(ARENA);
	a = mm_phys_to_virt(0);
	CHECK(a[0] == 0 && a[ARENA - 1] == 0, "re-created arena not zero");
}

/* Touched memory of the huge arena comes in 2 MiB pages (when the host
 * has THP in `madvise` or `always` mode); control: the plain arena gets
 * none in `madvise` mode, so the smaps reading tells the two apart. */
static void test_huge_arena_gets_huge_pages(void)
{
	const char *mode = thp_mode();
	if (strcmp(mode, "madvise") && strcmp(mode, "always")) {
		printf("test_huge_arena_gets_huge_pages: THP mode '%s', nothing to check\n", mode);
		return;
	}
	host_arena_init_huge(ARENA);
	touch(TOUCHED);
	long kb = huge_kb_at(mm_phys_to_virt(0));
	CHECK(kb >= (long)(HUGE_PAGE >> 10), "huge arena: AnonHugePages %ld kB after touching %llu MiB",
	      kb, (unsigned long long)(TOUCHED / MiB));
	if (strcmp(mode, "madvise"))
		return;   /* `always`: the plain arena may get them too, no control */
	host_arena_init(ARENA);
	touch(TOUCHED);
	kb = huge_kb_at(mm_phys_to_virt(0));
	CHECK(kb == 0, "control: plain arena shows AnonHugePages %ld kB", kb);
}

int main(void)
{
	RUN(test_huge_arena_is_an_arena);
	RUN(test_huge_arena_gets_huge_pages);
	return harness_done("host_arena");
}
