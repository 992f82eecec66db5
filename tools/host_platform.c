/*
 * tools/host_platform.c - mm/platform.h for host programs (see host_platform.h).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>

#include "mm/platform.h"
#include "tools/host_platform.h"

static uint8_t *arena;
static uint64_t arena_size;

static char *cap_buf;
static size_t cap_len, cap_cap;
static int capturing;

/* Bytes of an x86_64 large page: the unit host_arena_init_huge aligns to. */
#define HOST_HUGE_PAGE (2ULL << 20)

/* (Re)creates the arena with size bytes; huge: 2 MiB aligned and advised
 * MADV_HUGEPAGE (see host_arena_init_huge).  A fresh anonymous mapping
 * reads as zeros. */
static void arena_map(uint64_t size, int huge)
{
	host_cpu_leave();               /* a new machine: nothing runs yet */
	if (arena)
		munmap(arena, arena_size);
	uint64_t len = huge ? size + HOST_HUGE_PAGE : size;
	uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED) {
		fprintf(stderr, "host_arena_init: mmap of %llu bytes failed\n",
			(unsigned long long)len);
		exit(2);
	}
	arena = m;
	if (huge) {   /* trim the mapping to a 2 MiB-aligned arena of size bytes */
		uint64_t head = -(uint64_t)(uintptr_t)m & (HOST_HUGE_PAGE - 1);
		arena = m + head;
		if (head)
			munmap(m, head);
		munmap(arena + size, HOST_HUGE_PAGE - head);
		if (madvise(arena, size, MADV_HUGEPAGE))   /* no THP: 4 KiB pages */
			perror("host_arena_init_huge: madvise (the arena keeps 4 KiB pages)");
	}
	arena_size = size;
}

/* The arena of 4 KiB pages the tests use. */
void host_arena_init(uint64_t size)
{
	arena_map(size, 0);
}

/* The arena of 2 MiB pages the benchmarks use (host_platform.h). */
void host_arena_init_huge(uint64_t size)
{
	arena_map(size, 1);
}

/* Maps pa into the arena; an address past it is a broken invariant. */
void *mm_phys_to_virt(uint64_t pa)
{
	if (!arena)
		host_arena_init(HOST_ARENA_DEFAULT);
	if (pa >= arena_size)
		mm_panic("mm_phys_to_virt: pa %#lx outside the host arena (%#lx bytes)",
			 (unsigned long)pa, (unsigned long)arena_size);
	return arena + pa;
}

/* Appends formatted text to the capture buffer. */
static void capture_vprintf(const char *fmt, va_list ap)
{
	va_list aq;
	va_copy(aq, ap);
	int n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return;
	if (cap_len + (size_t)n + 1 > cap_cap) {
		cap_cap = (cap_len + (size_t)n + 1) * 2;
		cap_buf = realloc(cap_buf, cap_cap);
		if (!cap_buf)
			abort();
	}
	vsnprintf(cap_buf + cap_len, (size_t)n + 1, fmt, ap);
	cap_len += (size_t)n;
}

/* Prints to stdout, or into the capture buffer while capturing. */
void mm_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (capturing)
		capture_vprintf(fmt, ap);
	else
		vprintf(fmt, ap);
	va_end(ap);
}

/* Prints the message on stderr and aborts (a core / ASan report follows). */
_Noreturn void mm_panic(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "panic: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

void host_capture_begin(void)
{
	capturing = 1;
	cap_len = 0;
	if (cap_buf)
		cap_buf[0] = '\0';
}

const char *host_capture_end(void)
{
	capturing = 0;
	return cap_buf ? cap_buf : "";
}

/* No TLB on the host. */
void mm_tlb_flush_page(uint64_t va)
{
	(void)va;
}

void mm_tlb_flush_all(void)
{
}

static uint64_t shootdowns;

/* No TLB: counts shootdowns, so tests can see that one happened. */
void mm_tlb_shootdown(uint64_t va, uint64_t npages)
{
	(void)va;
	(void)npages;
	__atomic_add_fetch(&shootdowns, 1, __ATOMIC_RELAXED);
}

uint64_t host_shootdowns(void)
{
	return __atomic_load_n(&shootdowns, __ATOMIC_RELAXED);
}

/* A host "CPU" is a thread: each thread names itself with host_set_cpu;
 * tools/host_platform_inline.h's mm_cpu_id reads it.  running[c] counts
 * the threads that named themselves c and have not named another CPU or
 * exited since (mm_cpu_running); a thread leaves its count at exit through
 * a thread-specific key's destructor. */
_Thread_local unsigned host_cpu;
static _Thread_local int host_counted;  /* 1: this thread is in running[host_cpu] */
static unsigned running[MM_MAX_CPUS];
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

/* Thread exit: the thread no longer runs its CPU. */
static void host_cpu_exit(void *arg)
{
	(void)arg;
	host_cpu_leave();
}

static void exit_key_init(void)
{
	if (pthread_key_create(&exit_key, host_cpu_exit))
		mm_panic("host_set_cpu: pthread_key_create failed");
}

void host_set_cpu(unsigned cpu)
{
	if (cpu >= MM_MAX_CPUS)
		mm_panic("host_set_cpu: cpu %u >= MM_MAX_CPUS (%u)", cpu, MM_MAX_CPUS);
	pthread_once(&exit_once, exit_key_init);
	host_cpu_leave();
	host_cpu = cpu;
	__atomic_add_fetch(&running[cpu], 1, __ATOMIC_ACQ_REL);
	host_counted = 1;
	pthread_setspecific(exit_key, &host_counted);   /* non-NULL: run at exit */
}

void host_cpu_leave(void)
{
	if (host_counted)
		__atomic_sub_fetch(&running[host_cpu], 1, __ATOMIC_RELEASE);
	host_counted = 0;
}

/* See mm/platform.h: a thread named itself cpu and runs. */
int mm_cpu_running(unsigned cpu)
{
	return cpu < MM_MAX_CPUS && __atomic_load_n(&running[cpu], __ATOMIC_ACQUIRE) != 0;
}

/* See mm/platform.h: no interrupts on the host; a running thread answers at
 * its next allocator call or lock wait. */
void mm_cpu_kick(unsigned cpu)
{
	(void)cpu;
}
