/*
 * kernel/mem/numa.c - from the SRAT/SLIT parse to the frame allocator's
 * nodes (see numa.h).
 */
#include "kernel/mem/numa.h"
#include "kernel/smp/percpu.h"
#include "kernel/smp/smp.h"
#include "lib/string.h"
#include "mm/platform.h"
#include "mm/status.h"

_Static_assert(ACPI_NUMA_MAX_NODES <= PMM_MAX_NODES, "every parsed node fits the pmm");
_Static_assert(ACPI_NUMA_MAX_RANGES <= PMM_MAX_NODE_RANGES, "every parsed range fits the pmm");

static struct pmm_numa kernel_numa;   /* boot CPU only, once */

/* One CPU's probe: the first frame its emptied cache refills with. */
struct numa_probe {
	struct pmm *pmm;
	int status;
	uint64_t pa;
};

static void probe_frame(void *arg)
{
	struct numa_probe *pr = arg;

	pr->status = pmm_alloc(pr->pmm, &pr->pa);
	if (pr->status == MM_OK)
		pmm_free(pr->pmm, pr->pa);
}

/* Returns the node whose range holds pa, or -1. */
static int node_of(const struct acpi_numa_info *a, uint64_t pa)
{
	for (unsigned i = 0; i < a->nranges; i++)
		if (pa - a->range[i].base < a->range[i].size)
			return (int)a->range[i].node;
	return -1;
}

/* The proof that refills start in the CPU's node: every cache emptied
 * (pmm_drain_all), then each online CPU allocates one frame (and frees
 * it); prints `numa: cpu <n> apic <id> node <k>: frame 0x<16 hex> in node
 * <j>`, which a boot test checks against the QEMU command line. */
static void probe_cpus(const struct acpi_numa_info *a, struct pmm *pmm)
{
	pmm_drain_all(pmm);
	for (unsigned cpu = 0; cpu < MM_MAX_CPUS; cpu++) {
		struct numa_probe pr = { pmm, MM_ENOMEM, 0 };
		if (!smp_cpu_online(cpu))
			continue;
		if (cpu == mm_cpu_id())
			probe_frame(&pr);
		else if (smp_call(cpu, probe_frame, &pr) != 0)
			continue;
		uint32_t apic = percpu_blocks[cpu].apic_id;
		if (pr.status != MM_OK) {
			mm_printf("numa: cpu %u apic %u: no frame (%s)\n", cpu, apic,
				  mm_status_str(pr.status));
			continue;
		}
		mm_printf("numa: cpu %u apic %u node %d: frame 0x%016llx in node %d\n", cpu, apic,
			  acpi_numa_cpu_node(a, apic), (unsigned long long)pr.pa, node_of(a, pr.pa));
	}
}

/* See numa.h. */
void numa_init(const struct acpi *acpi, struct pmm *pmm)
{
	if (!acpi) {
		mm_printf("numa: no ACPI: one node (node 0: every CPU, all memory)\n");
		return;
	}
	const struct acpi_numa_info *a = &acpi->numa;
	acpi_numa_print(a);
	if (a->status != ACPI_OK || a->nodes < 2)
		return;

	struct pmm_numa *n = &kernel_numa;
	memset(n, 0, sizeof(*n));
	n->nodes = a->nodes;
	n->nranges = a->nranges;
	for (unsigned i = 0; i < a->nranges; i++) {
		n->range[i].base = a->range[i].base;
		n->range[i].size = a->range[i].size;
		n->range[i].node = a->range[i].node;
	}
	for (unsigned cpu = 0; cpu < MM_MAX_CPUS; cpu++) {
		int node = smp_cpu_online(cpu) ? acpi_numa_cpu_node(a, percpu_blocks[cpu].apic_id) : -1;
		n->cpu_node[cpu] = (uint8_t)(node < 0 ? 0 : node);
	}
	for (unsigned i = 0; i < a->nodes; i++)
		for (unsigned j = 0; j < a->nodes; j++)
			n->dist[i][j] = a->dist[i][j];
	int st = pmm_set_numa(pmm, n);
	if (st != MM_OK) {
		mm_printf("numa: the frame allocator refused the nodes (%s): one node\n",
			  mm_status_str(st));
		return;
	}
	pmm_print_nodes(pmm);
	probe_cpus(a, pmm);
}
