/*
 * kernel/acpi/numa.c - the SRAT and SLIT parsers (theory in numa.h).
 */
#include "kernel/acpi/numa.h"
#include "kernel/acpi/acpi_tables.h"
#include "lib/fmt.h"
#include "lib/range.h"
#include "kernel/acpi/unaligned.h"
#include "lib/string.h"
#include "mm/platform.h"

/* Minimum length of the subtable types read; others need their header. */
static uint8_t srat_min_len(uint8_t type)
{
	switch (type) {
	case ACPI_SRAT_LAPIC:  return sizeof(struct acpi_srat_lapic);
	case ACPI_SRAT_MEMORY: return sizeof(struct acpi_srat_memory);
	case ACPI_SRAT_X2APIC: return sizeof(struct acpi_srat_x2apic);
	default:               return sizeof(struct acpi_madt_sub);
	}
}

/* Returns the slot of domain d in n->domain[] (added if new), or -1 if d
 * is beyond ACPI_NUMA_MAX_DOMAIN or the list is full (theory 1).  Before
 * finish() runs, the slot is the order of first appearance. */
static int domain_slot(struct acpi_numa_info *n, uint32_t d)
{
	if (d >= ACPI_NUMA_MAX_DOMAIN)
		return -1;
	for (unsigned i = 0; i < n->nodes; i++)
		if (n->domain[i] == d)
			return (int)i;
	if (n->nodes == ACPI_NUMA_MAX_NODES)
		return -1;
	n->domain[n->nodes] = d;
	return (int)n->nodes++;
}

static enum acpi_status add_cpu(struct acpi_numa_info *n, uint32_t apic_id, uint32_t domain,
				uint32_t flags)
{
	if (!(flags & ACPI_SRAT_ENABLED)) {
		n->disabled++;
		return ACPI_OK;
	}
	/* Listed twice (say by its xAPIC and x2APIC entry): the first wins,
	 * and the second's domain gets no node of its own. */
	if (acpi_numa_cpu_node(n, apic_id) >= 0)
		return ACPI_OK;
	if (n->ncpus == ACPI_NUMA_MAX_CPUS) {
		n->cpus_dropped++;       /* beyond what the kernel runs (theory 2) */
		return ACPI_OK;
	}
	int slot = domain_slot(n, domain);
	if (slot < 0) {
		n->bad_domain++;
		return ACPI_OK;
	}
	n->cpu[n->ncpus].apic_id = apic_id;
	n->cpu[n->ncpus].node = (uint32_t)slot;
	n->ncpus++;
	return ACPI_OK;
}

static enum acpi_status add_memory(struct acpi_numa_info *n, const struct acpi_srat_memory *m)
{
	uint32_t flags = ld32(&m->flags);
	uint64_t base = ld64(&m->base), size = ld64(&m->length);

	if (!(flags & ACPI_SRAT_ENABLED) || size == 0) {
		n->disabled++;
		return ACPI_OK;
	}
	if (range_wraps(base, size))
		return ACPI_E_BAD_VALUE;
	int slot = domain_slot(n, ld32(&m->domain));
	if (slot < 0) {
		n->bad_domain++;
		return ACPI_OK;
	}
	if (n->nranges == ACPI_NUMA_MAX_RANGES)
		return ACPI_E_FULL;
	/* Insertion sort by base; an overlap is a lie (theory 3). */
	unsigned i = n->nranges;
	while (i > 0 && n->range[i - 1].base > base) {
		n->range[i] = n->range[i - 1];
		i--;
	}
	n->range[i].base = base;
	n->range[i].size = size;
	n->range[i].node = (uint32_t)slot;
	n->range[i].hotplug = (flags & ACPI_SRAT_HOTPLUG) ? 1 : 0;
	n->nranges++;
	if ((i > 0 && ranges_overlap(n->range[i - 1].base, n->range[i - 1].size, base, size)) ||
	    (i + 1 < n->nranges && ranges_overlap(base, size, n->range[i + 1].base,
						  n->range[i + 1].size)))
		return ACPI_E_BAD_VALUE;
	return ACPI_OK;
}

/* Renumbers the nodes by ascending domain (theory 1). */
static void finish(struct acpi_numa_info *n)
{
	uint32_t old_to_new[ACPI_NUMA_MAX_NODES];
	uint32_t sorted[ACPI_NUMA_MAX_NODES];

	for (unsigned i = 0; i < n->nodes; i++) {
		unsigned rank = 0;
		for (unsigned j = 0; j < n->nodes; j++)
			rank += n->domain[j] < n->domain[i];
		old_to_new[i] = rank;
		sorted[rank] = n->domain[i];
	}
	memcpy(n->domain, sorted, n->nodes * sizeof(sorted[0]));
	for (unsigned i = 0; i < n->nranges; i++)
		n->range[i].node = old_to_new[n->range[i].node];
	for (unsigned i = 0; i < n->ncpus; i++)
		n->cpu[i].node = old_to_new[n->cpu[i].node];
}

/* Walks the SRAT's subtables (theory 2, 3). */
static enum acpi_status srat_walk(const uint8_t *b, uint32_t len, struct acpi_numa_info *n)
{
	if (len < sizeof(struct acpi_srat))
		return ACPI_E_TOO_SHORT;
	/* Each step advances by the subtable's own length, at least 2 and
	 * ending inside the table, so the walk ends. */
	for (uint32_t off = sizeof(struct acpi_srat); off < len;) {
		enum acpi_status st = ACPI_OK;
		if (len - off < sizeof(struct acpi_madt_sub)) {
			n->bad_offset = off;
			return ACPI_E_SUBTABLE;
		}
		uint8_t type = b[off], slen = b[off + 1];
		if (slen < srat_min_len(type) || slen > len - off) {
			n->bad_offset = off;
			return ACPI_E_SUBTABLE;
		}
		const void *s = b + off;
		switch (type) {
		case ACPI_SRAT_LAPIC: {
			const struct acpi_srat_lapic *l = s;
			uint32_t d = l->domain_lo | (uint32_t)l->domain_hi[0] << 8 |
				     (uint32_t)l->domain_hi[1] << 16 | (uint32_t)l->domain_hi[2] << 24;
			st = add_cpu(n, l->apic_id, d, ld32(&l->flags));
			break;
		}
		case ACPI_SRAT_X2APIC: {
			const struct acpi_srat_x2apic *x = s;
			st = add_cpu(n, ld32(&x->x2apic_id), ld32(&x->domain), ld32(&x->flags));
			break;
		}
		case ACPI_SRAT_MEMORY:
			st = add_memory(n, s);
			break;
		default:
			n->others++;
			break;
		}
		if (st != ACPI_OK)
			return st;
		off += slen;
	}
	return ACPI_OK;
}

/* Fills n->dist from the SLIT, or the defaults (theory 4). */
static void slit_use(const uint8_t *b, uint32_t len, struct acpi_numa_info *n)
{
	for (unsigned i = 0; i < n->nodes; i++)
		for (unsigned j = 0; j < n->nodes; j++)
			n->dist[i][j] = i == j ? ACPI_SLIT_LOCAL : ACPI_NUMA_REMOTE;
	if (!b) {
		n->slit_status = ACPI_E_NOT_FOUND;
		return;
	}
	if (len < sizeof(struct acpi_slit)) {
		n->slit_status = ACPI_E_TOO_SHORT;
		return;
	}
	uint64_t k = ld64(b + __builtin_offsetof(struct acpi_slit, localities));
	n->slit_localities = k;
	/* k above 2^16 would make k*k wrap no uint64_t but exceeds any table
	 * length (<= 4 GiB), so the comparison below is exact. */
	if (k > (1u << 16) || sizeof(struct acpi_slit) + k * k != len) {
		n->slit_status = ACPI_E_LENGTH;
		return;
	}
	const uint8_t *e = b + sizeof(struct acpi_slit);
	for (unsigned i = 0; i < n->nodes; i++)
		if (n->domain[i] >= k) {
			n->slit_status = ACPI_E_BAD_VALUE;
			return;
		}
	for (uint64_t i = 0; i < k; i++)
		for (uint64_t j = 0; j < k; j++)
			if ((i == j) != (e[i * k + j] == ACPI_SLIT_LOCAL) ||
			    e[i * k + j] < ACPI_SLIT_LOCAL) {
				n->slit_status = ACPI_E_BAD_VALUE;
				return;
			}
	for (unsigned i = 0; i < n->nodes; i++)
		for (unsigned j = 0; j < n->nodes; j++)
			n->dist[i][j] = e[n->domain[i] * k + n->domain[j]];
	n->slit_status = ACPI_OK;
}

/* See numa.h. */
enum acpi_status acpi_numa_parse(const void *srat, uint32_t srat_len, const void *slit,
				 uint32_t slit_len, struct acpi_numa_info *out)
{
	memset(out, 0, sizeof(*out));
	enum acpi_status st = srat ? srat_walk(srat, srat_len, out) : ACPI_E_NOT_FOUND;
	if (st == ACPI_OK && out->nodes == 0)
		st = ACPI_E_NOT_FOUND;   /* nothing enabled: as if absent */
	if (st != ACPI_OK) {
		/* One node: keep the counts and the reason, drop the lists. */
		out->nodes = 1;
		out->domain[0] = 0;
		out->nranges = 0;
		out->ncpus = 0;
	} else {
		finish(out);
	}
	out->status = st;
	slit_use(st == ACPI_OK ? slit : 0, slit_len, out);
	if (st != ACPI_OK && slit)
		out->slit_status = ACPI_E_NOT_FOUND;
	return st;
}

/* See numa.h. */
enum acpi_status acpi_get_numa(const struct acpi *a, struct acpi_numa_info *out)
{
	const struct acpi_table_info *ts = acpi_find(a, "SRAT", 0);
	const struct acpi_table_info *tl = acpi_find(a, "SLIT", 0);
	const void *srat = ts ? acpi_table_map(a, ts) : 0;
	const void *slit = tl ? acpi_table_map(a, tl) : 0;
	enum acpi_status st;

	if ((ts && !srat) || (tl && !slit)) {
		acpi_numa_parse(0, 0, 0, 0, out);
		st = out->status = ACPI_E_MAP;
	} else {
		st = acpi_numa_parse(srat, ts ? ts->length : 0, slit, tl ? tl->length : 0, out);
	}
	if (srat)
		acpi_table_unmap(a, ts, srat);
	if (slit)
		acpi_table_unmap(a, tl, slit);
	return st;
}

/* See numa.h. */
int acpi_numa_cpu_node(const struct acpi_numa_info *n, uint32_t apic_id)
{
	for (unsigned i = 0; i < n->ncpus; i++)
		if (n->cpu[i].apic_id == apic_id)
			return (int)n->cpu[i].node;
	return -1;
}

/* Appends the APIC IDs of node's CPUs to buf as "0-3,8" (ascending;
 * "none" if it has none).  buf holds len bytes. */
static void cpu_list(const struct acpi_numa_info *n, unsigned node, char *buf, unsigned len)
{
	unsigned pos = 0;
	uint64_t last = 0;
	int have = 0;

	buf[0] = 0;
	/* Ascending APIC IDs without sorting: repeatedly take the smallest
	 * ID above the last one (O(cpus^2), at most 64 Ki steps). */
	for (;;) {
		uint64_t best = UINT64_MAX;
		for (unsigned i = 0; i < n->ncpus; i++)
			if (n->cpu[i].node == node && (!have || n->cpu[i].apic_id > last) &&
			    n->cpu[i].apic_id < best)
				best = n->cpu[i].apic_id;
		if (best == UINT64_MAX)
			break;
		uint64_t end = best;      /* extend a run of consecutive IDs */
		for (;;) {
			int found = 0;
			for (unsigned i = 0; i < n->ncpus; i++)
				if (n->cpu[i].node == node && n->cpu[i].apic_id == end + 1)
					found = 1;
			if (!found)
				break;
			end++;
		}
		int w;
		if (end == best)
			w = fmt_snprintf(buf + pos, len - pos, "%s%llu", have ? "," : "",
					(unsigned long long)best);
		else
			w = fmt_snprintf(buf + pos, len - pos, "%s%llu-%llu", have ? "," : "",
					(unsigned long long)best, (unsigned long long)end);
		if (w < 0 || (unsigned)w >= len - pos) {
			buf[pos] = 0;
			fmt_snprintf(buf + pos, len - pos, ",...");
			return;
		}
		pos += (unsigned)w;
		have = 1;
		last = end;
	}
	if (!have)
		fmt_snprintf(buf, len, "none");
}

/* See numa.h. */
void acpi_numa_print(const struct acpi_numa_info *n)
{
	static char cpus[1024];   /* boot CPU only, before the others start */

	if (n->status != ACPI_OK) {
		if (n->status == ACPI_E_NOT_FOUND)
			mm_printf("numa: no SRAT: one node (node 0: every CPU, all memory)\n");
		else if (n->status == ACPI_E_SUBTABLE)
			mm_printf("numa: SRAT %s at offset %u: ignored, one node (node 0: every CPU, all memory)\n",
				  acpi_status_str(n->status), n->bad_offset);
		else
			mm_printf("numa: SRAT %s: ignored, one node (node 0: every CPU, all memory)\n",
				  acpi_status_str(n->status));
		return;
	}
	for (unsigned node = 0; node < n->nodes; node++) {
		cpu_list(n, node, cpus, sizeof(cpus));
		mm_printf("numa: node %u cpus %s", node, cpus);
		for (unsigned i = 0; i < n->nranges; i++)
			if (n->range[i].node == node && !n->range[i].hotplug)
				mm_printf(" [mem 0x%016llx-0x%016llx]",
					  (unsigned long long)n->range[i].base,
					  (unsigned long long)(n->range[i].base + n->range[i].size - 1));
		mm_printf("\n");
		for (unsigned i = 0; i < n->nranges; i++)
			if (n->range[i].node == node && n->range[i].hotplug)
				mm_printf("numa: node %u hotplug [mem 0x%016llx-0x%016llx]\n", node,
					  (unsigned long long)n->range[i].base,
					  (unsigned long long)(n->range[i].base + n->range[i].size - 1));
	}
	if (n->cpus_dropped)
		mm_printf("numa: SRAT %u CPUs beyond the first %u dropped (node 0 if they run)\n",
			  n->cpus_dropped, ACPI_NUMA_MAX_CPUS);
	if (n->disabled || n->bad_domain)
		mm_printf("numa: SRAT %u disabled or empty entries skipped, %u with a domain beyond %u or %u nodes dropped\n",
			  n->disabled, n->bad_domain, ACPI_NUMA_MAX_DOMAIN - 1, ACPI_NUMA_MAX_NODES);
	if (n->slit_status == ACPI_E_NOT_FOUND)
		mm_printf("numa: no SLIT: distances %u local, %u remote\n", ACPI_SLIT_LOCAL,
			  ACPI_NUMA_REMOTE);
	else if (n->slit_status != ACPI_OK)
		mm_printf("numa: SLIT %s (%llu localities): ignored, distances %u local, %u remote\n",
			  acpi_status_str(n->slit_status), (unsigned long long)n->slit_localities,
			  ACPI_SLIT_LOCAL, ACPI_NUMA_REMOTE);
	for (unsigned i = 0; i < n->nodes; i++) {
		mm_printf("numa: distance %u:", i);
		for (unsigned j = 0; j < n->nodes; j++)
			mm_printf(" %u", n->dist[i][j]);
		mm_printf("\n");
	}
}
