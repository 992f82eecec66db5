/*
 * kernel/acpi/numa.h - the SRAT and SLIT parsers: which memory and which
 * CPUs belong to which NUMA node, and how far the nodes are apart.
 *
 * Portable, pure functions of (bytes, length) like the other parsers in
 * kernel/acpi/acpi.c; acpi_parse runs acpi_get_numa once and keeps the
 * result in struct acpi (field numa), so no user scans the tables again.
 *
 * Theory of operation:
 *   1. Nodes.  Every enabled SRAT entry names a proximity domain (a 32-bit
 *      number the firmware picks).  The distinct domains, in ascending
 *      order, become nodes 0, 1, 2... (dense, as Linux numbers them); on
 *      QEMU domain n is node n.  A domain number >= ACPI_NUMA_MAX_DOMAIN,
 *      or more than ACPI_NUMA_MAX_NODES distinct domains, is a lie: the
 *      entry is dropped and counted (bad_domain).
 *   2. Entries.  Processor Local APIC (type 0) and x2APIC (type 2)
 *      affinity give a CPU's APIC ID its node; Memory Affinity (type 1)
 *      gives a physical range its node, flagged hot-pluggable or not.  An
 *      entry without the enabled flag is skipped and counted (QEMU pads the
 *      table with zeroed, disabled memory entries for hot-plug slots); so is
 *      a memory entry of length 0.  Other types are skipped.  CPUs past
 *      the first ACPI_NUMA_MAX_CPUS (the most the kernel runs) are counted
 *      (cpus_dropped) and dropped: the nodes and ranges stay.
 *   3. Lies that void the whole SRAT (status != ACPI_OK, the machine is one
 *      node, as with no SRAT at all): a subtable shorter than its type or
 *      running past the table's end (ACPI_E_SUBTABLE, bad_offset), a memory
 *      range that ends at or past 2^64 or that overlaps another range
 *      (ACPI_E_BAD_VALUE), more ranges than the list holds
 *      (ACPI_E_FULL), an SRAT shorter than its fixed part
 *      (ACPI_E_TOO_SHORT).  A CPU listed twice keeps its first node; the
 *      second entry's domain does not become a node by it.
 *   4. The SLIT is used only if it is exactly 44 + n*n bytes for its n
 *      localities, n covers every domain in use, every diagonal entry is
 *      10 and every other entry is above 10; else slit_status says why it
 *      was refused and the distances are the default: 10 on the diagonal,
 *      20 elsewhere (what Linux assumes without a SLIT).
 *   5. Memory not in any range and CPUs not in the SRAT belong to no node:
 *      users fall back to "anywhere" (the frame allocator takes such
 *      frames after every node is empty) and to node 0 for CPUs.
 *
 * Output (acpi_numa_print), one line per node and one per distance row:
 *   numa: node <n> cpus <APIC IDs, e.g. 0-3,8> [mem 0x<16 hex>-0x<16 hex>] ...
 *   numa: node <n> hotplug [mem 0x...-0x...]        (hot-pluggable ranges)
 *   numa: SRAT <k> CPUs beyond the first 256 dropped (node 0 if they run)
 *   numa: distance <n>: <d to node 0> <d to node 1> ...
 * cpus lists APIC IDs ("none" for a CPU-less node), [mem] the inclusive
 * range as the memmap: lines print it; or, without a usable SRAT,
 *   numa: no SRAT: one node (node 0: every CPU, all memory)
 *   numa: SRAT <why>: ignored, one node (node 0: every CPU, all memory)
 */
/* acpi.h includes this header where enum acpi_status is complete and
 * struct acpi (which holds a struct acpi_numa_info) is not yet defined;
 * included first, this line brings in acpi.h, which comes back here. */
#include "kernel/acpi/acpi.h"

#ifndef KERNEL_ACPI_NUMA_H
#define KERNEL_ACPI_NUMA_H

#include <stdint.h>

struct acpi;

/* Nodes the kernel tells apart.  The largest x86 servers have 8 sockets,
 * each up to 4 sub-NUMA clusters, plus CXL memory nodes: 32. */
#define ACPI_NUMA_MAX_NODES 32
/* A proximity domain at or above this is taken as garbage: real tables
 * number their domains from 0, and a SLIT covering 256 domains is already
 * 64 KiB. */
#define ACPI_NUMA_MAX_DOMAIN 256
/* Memory ranges: QEMU has 2 per node below 4 GiB plus one above; real
 * tables a few per node. */
#define ACPI_NUMA_MAX_RANGES 128
/* CPUs: as many as the kernel runs (MM_MAX_CPUS) and the MADT lists. */
#define ACPI_NUMA_MAX_CPUS 256
/* SLIT distance assumed between two different nodes without a SLIT. */
#define ACPI_NUMA_REMOTE 20

struct acpi_numa_range {
	uint64_t base, size;      /* bytes, half-open [base, base + size) */
	uint32_t node;
	uint8_t hotplug;          /* ACPI_SRAT_HOTPLUG was set */
};

struct acpi_numa_info {
	enum acpi_status status;  /* ACPI_OK: the SRAT is used; ACPI_E_NOT_FOUND:
				     none; else why it was refused (theory 3) */
	uint32_t bad_offset;      /* on ACPI_E_SUBTABLE: the subtable's offset */
	unsigned nodes;           /* 1 without a usable SRAT */
	uint32_t domain[ACPI_NUMA_MAX_NODES]; /* node n's proximity domain */
	unsigned nranges;         /* ranges, sorted by base, disjoint */
	struct acpi_numa_range range[ACPI_NUMA_MAX_RANGES];
	unsigned ncpus;
	struct { uint32_t apic_id; uint32_t node; } cpu[ACPI_NUMA_MAX_CPUS];
	unsigned disabled;        /* entries without the enabled flag, or empty */
	unsigned bad_domain;      /* entries dropped for their domain (theory 1) */
	unsigned others;          /* subtables of other types */
	unsigned cpus_dropped;    /* CPUs beyond ACPI_NUMA_MAX_CPUS (theory 2) */
	enum acpi_status slit_status; /* ACPI_OK: dist is the SLIT's */
	uint64_t slit_localities; /* the SLIT's count, if there was one */
	uint8_t dist[ACPI_NUMA_MAX_NODES][ACPI_NUMA_MAX_NODES]; /* node x node */
};

/* Parses an SRAT of srat_len verified bytes (srat NULL: there is none) and
 * a SLIT of slit_len bytes (slit NULL: none) into *out (theory 1-5).
 * Returns out->status. */
enum acpi_status acpi_numa_parse(const void *srat, uint32_t srat_len, const void *slit,
				 uint32_t slit_len, struct acpi_numa_info *out);

/* Finds, maps, parses and unmaps the first valid SRAT and SLIT. */
enum acpi_status acpi_get_numa(const struct acpi *a, struct acpi_numa_info *out);

/* Returns the node of the CPU with this APIC ID, or -1 if the SRAT does
 * not list it. */
int acpi_numa_cpu_node(const struct acpi_numa_info *n, uint32_t apic_id);

/* Prints the numa: lines (see the top). */
void acpi_numa_print(const struct acpi_numa_info *n);

#endif
