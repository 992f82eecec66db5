/*
 * tests/host/test_numa.c - the SRAT and SLIT parsers (kernel/acpi/numa.c)
 * on hand-built tables.  Each test lists the entries it means, builds the
 * table bytes from that list (builder below, following ACPI 6.5 5.2.16/17
 * byte for byte) and checks the parse against the list: nodes numbered by
 * ascending domain, ranges sorted by base - worked out here, not by the
 * parser.  Lying tables (lengths past the end, overlaps, domains past the
 * limit, a SLIT of the wrong size, a bad diagonal) must be refused, each
 * next to a control that differs only in the lie and is accepted.
 */
#include <stdlib.h>
#include <string.h>
#include "tests/host/harness.h"
#include "tests/host/acpi_fake.h"
#include "kernel/acpi/acpi_tables.h"
#include "kernel/acpi/numa.h"

static struct acpi_numa_info NI;   /* ~8 KiB: off the stack */

/* ------------------------------------------------------------- builder */

struct tb { uint8_t b[8192]; uint32_t len; };

static void tb_start(struct tb *t, const char *sig, uint32_t fixed)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->b, sig, 4);
	t->len = fixed;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* Writes the length and checksum into the header; returns an exact-size
 * malloc'd copy (ASan catches reads past it). */
static uint8_t *tb_done(struct tb *t)
{
	put32(t->b + 4, t->len);
	uint8_t sum = 0;
	t->b[9] = 0;
	for (uint32_t i = 0; i < t->len; i++)
		sum = (uint8_t)(sum + t->b[i]);
	t->b[9] = (uint8_t)-sum;
	uint8_t *c = malloc(t->len);
	memcpy(c, t->b, t->len);
	return c;
}

static void srat_lapic(struct tb *t, uint8_t apic, uint32_t dom, uint32_t flags)
{
	uint8_t *s = t->b + t->len;
	s[0] = ACPI_SRAT_LAPIC; s[1] = 16;
	s[2] = (uint8_t)dom; s[3] = apic;
	put32(s + 4, flags);
	s[9] = (uint8_t)(dom >> 8); s[10] = (uint8_t)(dom >> 16); s[11] = (uint8_t)(dom >> 24);
	t->len += 16;
}

static void srat_x2apic(struct tb *t, uint32_t apic, uint32_t dom, uint32_t flags)
{
	uint8_t *s = t->b + t->len;
	s[0] = ACPI_SRAT_X2APIC; s[1] = 24;
	put32(s + 4, dom); put32(s + 8, apic); put32(s + 12, flags);
	t->len += 24;
}

static void srat_mem(struct tb *t, uint64_t base, uint64_t size, uint32_t dom, uint32_t flags)
{
	uint8_t *s = t->b + t->len;
	s[0] = ACPI_SRAT_MEMORY; s[1] = 40;
	put32(s + 2, dom); put64(s + 8, base); put64(s + 16, size); put32(s + 28, flags);
	t->len += 40;
}

#define EN ACPI_SRAT_ENABLED
#define GiB (1ULL << 30)

/* A SLIT of k localities with entries d (row-major, k*k bytes). */
static uint8_t *slit_make(uint64_t k, const uint8_t *d, uint32_t *len)
{
	struct tb t;
	tb_start(&t, "SLIT", sizeof(struct acpi_slit));
	put64(t.b + 36, k);
	memcpy(t.b + t.len, d, k * k);
	t.len += (uint32_t)(k * k);
	*len = t.len;
	return tb_done(&t);
}

/* The four-node machine used by several tests: domains 7, 3, 5, 9 (in
 * table order; nodes are 0:3 1:5 2:7 3:9), two CPUs each, one x2APIC,
 * a disabled CPU and a disabled (zeroed) memory entry. */
static uint8_t *srat_four(uint32_t *len)
{
	struct tb t;
	tb_start(&t, "SRAT", sizeof(struct acpi_srat));
	srat_mem(&t, 8 * GiB, 4 * GiB, 7, EN);
	srat_mem(&t, 0, 2 * GiB, 3, EN);
	srat_mem(&t, 4 * GiB, 4 * GiB, 5, EN | ACPI_SRAT_HOTPLUG);
	srat_mem(&t, 2 * GiB, 2 * GiB, 5, EN);
	srat_mem(&t, 12 * GiB, 4 * GiB, 9, EN);
	srat_mem(&t, 0, 0, 0, 0);                  /* QEMU's hot-plug padding */
	srat_lapic(&t, 0, 3, EN); srat_lapic(&t, 1, 3, EN);
	srat_lapic(&t, 2, 5, EN); srat_lapic(&t, 3, 5, EN);
	srat_lapic(&t, 4, 7, EN); srat_x2apic(&t, 0x105, 7, EN);
	srat_lapic(&t, 6, 9, EN); srat_lapic(&t, 7, 9, EN);
	srat_lapic(&t, 8, 9, 0);                   /* not enabled */
	*len = t.len;
	return tb_done(&t);
}

/* Expect: 4 nodes by ascending domain, ranges sorted, CPUs on their
 * nodes, 2 disabled entries, default distances without a SLIT. */
static void test_four_nodes(void)
{
	uint32_t len;
	uint8_t *s = srat_four(&len);
	REQUIRE(acpi_numa_parse(s, len, NULL, 0, &NI) == ACPI_OK, "parse %s",
		acpi_status_str(NI.status));
	CHECK(NI.nodes == 4, "nodes %u", NI.nodes);
	static const uint32_t dom[4] = { 3, 5, 7, 9 };
	for (unsigned i = 0; i < 4; i++)
		CHECK(NI.domain[i] == dom[i], "domain %u = %u", i, NI.domain[i]);
	static const struct { uint64_t base, size; uint32_t node; uint8_t hp; } r[5] = {
		{ 0, 2 * GiB, 0, 0 }, { 2 * GiB, 2 * GiB, 1, 0 }, { 4 * GiB, 4 * GiB, 1, 1 },
		{ 8 * GiB, 4 * GiB, 2, 0 }, { 12 * GiB, 4 * GiB, 3, 0 },
	};
	REQUIRE(NI.nranges == 5, "ranges %u", NI.nranges);
	for (unsigned i = 0; i < 5; i++)
		CHECK(NI.range[i].base == r[i].base && NI.range[i].size == r[i].size &&
		      NI.range[i].node == r[i].node && NI.range[i].hotplug == r[i].hp,
		      "range %u", i);
	static const uint32_t apic[8] = { 0, 1, 2, 3, 4, 0x105, 6, 7 };
	CHECK(NI.ncpus == 8, "cpus %u", NI.ncpus);
	for (unsigned i = 0; i < 8; i++)
		CHECK(acpi_numa_cpu_node(&NI, apic[i]) == (int)(i / 2), "apic %u", apic[i]);
	CHECK(acpi_numa_cpu_node(&NI, 8) == -1, "disabled cpu has no node");
	CHECK(NI.disabled == 2, "disabled %u", NI.disabled);
	CHECK(NI.slit_status == ACPI_E_NOT_FOUND, "slit");
	for (unsigned i = 0; i < 4; i++)
		for (unsigned j = 0; j < 4; j++)
			CHECK(NI.dist[i][j] == (i == j ? 10 : 20), "dist %u %u", i, j);

	host_capture_begin();
	acpi_numa_print(&NI);
	const char *out = host_capture_end();
	CHECK(strstr(out, "numa: node 0 cpus 0-1 [mem 0x0000000000000000-0x000000007fffffff]\n"),
	      "%s", out);
	CHECK(strstr(out, "numa: node 1 cpus 2-3 [mem 0x0000000080000000-0x00000000ffffffff]\n"),
	      "%s", out);
	CHECK(strstr(out, "numa: node 1 hotplug [mem 0x0000000100000000-0x00000001ffffffff]\n"),
	      "%s", out);
	CHECK(strstr(out, "numa: node 2 cpus 4,261 [mem 0x0000000200000000-0x00000002ffffffff]\n"),
	      "%s", out);
	CHECK(strstr(out, "numa: distance 3: 20 20 20 10\n"), "%s", out);
	CHECK(strstr(out, "numa: no SLIT"), "%s", out);
	free(s);
}

/* A SLIT for the four-node machine, indexed by domain (10 localities:
 * domains 0..9), distance |a-b| + 10 between different domains.  Expect:
 * dist[i][j] = |dom_i - dom_j| + 10 off the diagonal. */
static void test_slit(void)
{
	uint32_t len, slen;
	uint8_t *s = srat_four(&len);
	uint8_t d[100];
	for (int i = 0; i < 10; i++)
		for (int j = 0; j < 10; j++)
			d[i * 10 + j] = (uint8_t)(i == j ? 10 : abs(i - j) + 10);
	uint8_t *sl = slit_make(10, d, &slen);
	REQUIRE(acpi_numa_parse(s, len, sl, slen, &NI) == ACPI_OK, "parse");
	CHECK(NI.slit_status == ACPI_OK, "slit %s", acpi_status_str(NI.slit_status));
	static const int dom[4] = { 3, 5, 7, 9 };
	for (unsigned i = 0; i < 4; i++)
		for (unsigned j = 0; j < 4; j++)
			CHECK(NI.dist[i][j] == (i == j ? 10 : abs(dom[i] - dom[j]) + 10),
			      "dist %u %u = %u", i, j, NI.dist[i][j]);
	host_capture_begin();
	acpi_numa_print(&NI);
	const char *out = host_capture_end();
	CHECK(strstr(out, "numa: distance 0: 10 12 14 16\n"), "%s", out);
	free(sl);

	/* Lies, each refused (default distances), and the parse still OK. */
	struct { const char *what; uint64_t k; uint32_t cut; int bad_i, bad_j, val; } lie[] = {
		{ "count one too big", 11, 0, -1, -1, 0 },
		{ "table one byte short", 10, 1, -1, -1, 0 },
		{ "diagonal 11", 10, 0, 4, 4, 11 },
		{ "off-diagonal 10", 10, 0, 3, 5, 10 },
		{ "off-diagonal 9", 10, 0, 3, 5, 9 },
		{ "count covers domains 0..8 only", 9, 0, -1, -1, 0 },
		{ "count 2^32 (k*k wraps 32 bits)", 1ULL << 32, 0, -1, -1, 0 },
	};
	for (unsigned n = 0; n < sizeof(lie) / sizeof(lie[0]); n++) {
		uint8_t e[121];
		/* The data is 10 x 10 where the count field lies, else k x k. */
		uint64_t k = (lie[n].k == 11 || lie[n].k > 255) ? 10 : lie[n].k;
		for (uint64_t i = 0; i < k; i++)
			for (uint64_t j = 0; j < k; j++)
				e[i * k + j] = (uint8_t)(i == j ? 10 : 20);
		if (lie[n].bad_i >= 0)
			e[lie[n].bad_i * k + lie[n].bad_j] = (uint8_t)lie[n].val;
		sl = slit_make(k, e, &slen);
		if (lie[n].k != k) {           /* the count field lies */
			put64(sl + 36, lie[n].k);
			/* checksum does not matter: parsers get verified bytes */
		}
		REQUIRE(acpi_numa_parse(s, len, sl, slen - lie[n].cut, &NI) == ACPI_OK, "%s",
			lie[n].what);
		CHECK(NI.slit_status != ACPI_OK && NI.slit_status != ACPI_E_NOT_FOUND, "%s: %s",
		      lie[n].what, acpi_status_str(NI.slit_status));
		CHECK(NI.dist[0][1] == 20 && NI.dist[2][2] == 10, "%s: default distances",
		      lie[n].what);
		free(sl);
	}
	/* Control: the same construction without a lie is accepted. */
	uint8_t e[100];
	for (int i = 0; i < 10; i++)
		for (int j = 0; j < 10; j++)
			e[i * 10 + j] = (uint8_t)(i == j ? 10 : 30);
	sl = slit_make(10, e, &slen);
	REQUIRE(acpi_numa_parse(s, len, sl, slen, &NI) == ACPI_OK, "control");
	CHECK(NI.slit_status == ACPI_OK && NI.dist[0][1] == 30, "control slit used");
	free(sl);
	free(s);
}

/* Builds a one-CPU two-range SRAT whose second range is given. */
static uint8_t *srat_two(uint64_t base1, uint64_t size1, uint32_t dom1, uint32_t *len)
{
	struct tb t;
	tb_start(&t, "SRAT", sizeof(struct acpi_srat));
	srat_lapic(&t, 0, 0, EN);
	srat_mem(&t, 0, 4 * GiB, 0, EN);
	srat_mem(&t, base1, size1, dom1, EN);
	*len = t.len;
	return tb_done(&t);
}

/* Overlaps and wrapping ranges void the SRAT; touching ranges do not. */
static void test_srat_ranges(void)
{
	uint32_t len;
	uint8_t *s;

	s = srat_two(4 * GiB - 4096, GiB, 1, &len);          /* overlaps by a page */
	CHECK(acpi_numa_parse(s, len, NULL, 0, &NI) == ACPI_E_BAD_VALUE, "overlap");
	CHECK(NI.nodes == 1 && NI.nranges == 0 && NI.ncpus == 0, "one node after a lie");
	host_capture_begin();
	acpi_numa_print(&NI);
	const char *out = host_capture_end();
	CHECK(strstr(out, "numa: SRAT bad value: ignored, one node"), "%s", out);
	free(s);
	s = srat_two(GiB, GiB, 0, &len);                     /* inside, same node */
	CHECK(acpi_numa_parse(s, len, NULL, 0, &NI) == ACPI_E_BAD_VALUE, "contained");
	free(s);
	s = srat_two(UINT64_MAX - GiB + 1, 2 * GiB, 1, &len); /* wraps past 2^64 */
	CHECK(acpi_numa_parse(s, len, NULL, 0, &NI) == ACPI_E_BAD_VALUE, "wrap");
	free(s);
	s = srat_two(UINT64_MAX - GiB + 1, GiB, 1, &len);     /* ends exactly at 2^64 */
	CHECK(acpi_numa_parse(s, len, NULL, 0, &NI) == ACPI_E_BAD_VALUE, "end at 2^64");
	free(s);
	s = srat_two(UINT64_MAX - 2 * GiB + 1, GiB, 1, &len); /* control: 1 GiB below */
	CHECK(acpi_numa_parse(s, len, NULL, 0, &NI) == ACPI_OK, "control: end below 2^64");
	free(s);
	s = srat_two(4 * GiB, GiB, 1, &len);                 /* control: touching */
	CHECK(acpi_numa_parse(s, len, NULL, 0, &NI) == ACPI_OK && NI.nodes == 2 &&
	      NI.nranges == 2, "control: adjacent ranges");
	free(s);
}

/* Domains: 255 is the largest accepted, 256 is dropped (counted) and a
 * 33rd distinct domain is dropped; the node count never exceeds the limit. */
static void test_srat_domains(void)
{
	struct tb t;
	uint8_t *s;

	tb_start(&t, "SRAT", sizeof(struct acpi_srat));
	srat_mem(&t, 0, GiB, 0, EN);
	srat_x2apic(&t, 1, 255, EN);
	srat_x2apic(&t, 2, 256, EN);
	srat_mem(&t, GiB, GiB, 0xffffffffu, EN);
	s = tb_done(&t);
	REQUIRE(acpi_numa_parse(s, t.len, NULL, 0, &NI) == ACPI_OK, "parse");
	CHECK(NI.nodes == 2 && NI.domain[1] == 255, "nodes %u", NI.nodes);
	CHECK(NI.bad_domain == 2 && acpi_numa_cpu_node(&NI, 2) == -1 && NI.nranges == 1,
	      "bad_domain %u", NI.bad_domain);
	free(s);

	tb_start(&t, "SRAT", sizeof(struct acpi_srat));
	for (uint32_t d = 0; d < ACPI_NUMA_MAX_NODES + 1; d++)
		srat_x2apic(&t, d, ACPI_NUMA_MAX_DOMAIN - 1 - d, EN);
	s = tb_done(&t);
	REQUIRE(acpi_numa_parse(s, t.len, NULL, 0, &NI) == ACPI_OK, "parse");
	CHECK(NI.nodes == ACPI_NUMA_MAX_NODES && NI.bad_domain == 1, "nodes %u bad %u",
	      NI.nodes, NI.bad_domain);
	/* Ascending domains: node 0 is the smallest, the last CPU's. */
	CHECK(NI.domain[0] == ACPI_NUMA_MAX_DOMAIN - ACPI_NUMA_MAX_NODES, "domain[0] %u",
	      NI.domain[0]);
	CHECK(acpi_numa_cpu_node(&NI, 0) == ACPI_NUMA_MAX_NODES - 1, "cpu 0 on the last node");
	free(s);
}

/* A CPU listed twice, by its xAPIC and its x2APIC entry with different
 * domains: the first entry wins and the second adds nothing - no node of
 * its own (a CPU-less, memory-less node), which would also refuse a SLIT
 * covering only the real domains.  Control: the same CPU in a domain of
 * its own once (a third, distinct CPU) makes a third node. */
static void test_srat_cpu_twice(void)
{
	static const uint8_t d2[4] = { 10, 21, 21, 10 };
	uint32_t slen;
	uint8_t *sl = slit_make(2, d2, &slen);
	struct tb t;
	uint8_t *s;

	tb_start(&t, "SRAT", sizeof(struct acpi_srat));
	srat_mem(&t, 0, GiB, 0, EN);
	srat_mem(&t, GiB, GiB, 1, EN);
	srat_lapic(&t, 0, 0, EN);
	srat_lapic(&t, 1, 1, EN);
	srat_x2apic(&t, 1, 2, EN);                 /* the same CPU again */
	s = tb_done(&t);
	REQUIRE(acpi_numa_parse(s, t.len, sl, slen, &NI) == ACPI_OK, "parse");
	CHECK(NI.nodes == 2, "nodes %u (a node for the duplicate's domain)", NI.nodes);
	CHECK(NI.ncpus == 2 && acpi_numa_cpu_node(&NI, 1) == 1, "cpu 1 on node %d",
	      acpi_numa_cpu_node(&NI, 1));
	CHECK(NI.slit_status == ACPI_OK && NI.dist[0][1] == 21, "slit %s",
	      acpi_status_str(NI.slit_status));
	free(s);

	tb_start(&t, "SRAT", sizeof(struct acpi_srat));
	srat_mem(&t, 0, GiB, 0, EN);
	srat_mem(&t, GiB, GiB, 1, EN);
	srat_lapic(&t, 0, 0, EN);
	srat_lapic(&t, 1, 1, EN);
	srat_x2apic(&t, 2, 2, EN);                 /* control: a third CPU */
	s = tb_done(&t);
	REQUIRE(acpi_numa_parse(s, t.len, sl, slen, &NI) == ACPI_OK, "parse");
	CHECK(NI.nodes == 3 && NI.slit_status == ACPI_E_BAD_VALUE, "control: nodes %u slit %s",
	      NI.nodes, acpi_status_str(NI.slit_status));
	free(s);
	free(sl);
}

/* More CPUs than the list holds (QEMU's q35 takes -smp 288; a two-socket
 * server has 384 threads): the kernel runs at most ACPI_NUMA_MAX_CPUS, so
 * the CPUs beyond are counted and dropped, and the nodes and memory ranges
 * stay - a machine this big is exactly the one that needs them.  Built:
 * two nodes of 1 GiB, 300 x2APIC CPUs alternating between them.  Expect
 * ACPI_OK, 2 nodes (the last, dropped CPU's domain 7 makes none), 2
 * ranges, the first 256 CPUs on node id % 2, the last 44 unknown and
 * counted.  Control: exactly 256 CPUs, nothing dropped. */
static void test_srat_many_cpus(void)
{
	const uint32_t many = 300;
	struct tb t;
	uint8_t *s;

	for (int control = 0; control < 2; control++) {
		uint32_t n = control ? ACPI_NUMA_MAX_CPUS : many;
		tb_start(&t, "SRAT", sizeof(struct acpi_srat));
		srat_mem(&t, 0, GiB, 0, EN);
		srat_mem(&t, GiB, GiB, 1, EN);
		for (uint32_t c = 0; c < n; c++)
			srat_x2apic(&t, c, c == many - 1 ? 7 : c % 2, EN); /* 7: no node of its own */
		s = tb_done(&t);
		REQUIRE(acpi_numa_parse(s, t.len, NULL, 0, &NI) == ACPI_OK, "%u cpus: parse %s", n,
			acpi_status_str(NI.status));
		CHECK(NI.nodes == 2 && NI.nranges == 2 && NI.ncpus == ACPI_NUMA_MAX_CPUS,
		      "%u cpus: nodes %u ranges %u cpus %u", n, NI.nodes, NI.nranges, NI.ncpus);
		CHECK(acpi_numa_cpu_node(&NI, 0) == 0 && acpi_numa_cpu_node(&NI, 255) == 1,
		      "%u cpus: first CPUs' nodes", n);
		CHECK(acpi_numa_cpu_node(&NI, many - 1) == -1, "%u cpus: cpu %u listed", n, many - 1);
		CHECK(NI.cpus_dropped == n - ACPI_NUMA_MAX_CPUS, "%u cpus: dropped %u", n,
		      NI.cpus_dropped);
		free(s);
	}
}

/* Subtable lengths: 0, short of the type, past the table's end - each
 * voids the SRAT with its offset; the control (the right length) parses. */
static void test_srat_lengths(void)
{
	uint32_t len;
	uint8_t *s = srat_four(&len);
	const uint32_t first = sizeof(struct acpi_srat);   /* a 40-byte memory entry */
	static const struct { uint8_t len; int cut; } lie[] = {
		{ 0, 0 }, { 1, 0 }, { 39, 0 }, { 40, 1 },
	};
	for (unsigned i = 0; i < sizeof(lie) / sizeof(lie[0]); i++) {
		uint8_t *c = malloc(len);
		memcpy(c, s, len);
		c[first + 1] = lie[i].len;
		uint32_t clen = lie[i].cut ? first + 39 : len;   /* table ends mid-entry */
		CHECK(acpi_numa_parse(c, clen, NULL, 0, &NI) == ACPI_E_SUBTABLE &&
		      NI.bad_offset == first && NI.nodes == 1,
		      "length %u cut %d: %s at %u", lie[i].len, lie[i].cut,
		      acpi_status_str(NI.status), NI.bad_offset);
		free(c);
	}
	/* The last subtable (a 16-byte LAPIC entry) one byte longer than
	 * what is left of the table. */
	uint8_t *c = malloc(len);
	memcpy(c, s, len);
	c[len - 16 + 1] = 17;
	CHECK(acpi_numa_parse(c, len, NULL, 0, &NI) == ACPI_E_SUBTABLE &&
	      NI.bad_offset == len - 16, "last entry past the end: %s", acpi_status_str(NI.status));
	free(c);
	CHECK(acpi_numa_parse(s, len, NULL, 0, &NI) == ACPI_OK, "control");
	CHECK(acpi_numa_parse(s, sizeof(struct acpi_srat) - 1, NULL, 0, &NI) == ACPI_E_TOO_SHORT,
	      "short fixed part");
	CHECK(acpi_numa_parse(s, sizeof(struct acpi_srat), NULL, 0, &NI) == ACPI_E_NOT_FOUND,
	      "no entries: as if absent");
	free(s);
}

/* No SRAT: one node, printed as such; a SLIT alone is not used. */
static void test_no_srat(void)
{
	uint8_t d[4] = { 10, 20, 20, 10 };
	uint32_t slen;
	uint8_t *sl = slit_make(2, d, &slen);
	CHECK(acpi_numa_parse(NULL, 0, sl, slen, &NI) == ACPI_E_NOT_FOUND, "status");
	CHECK(NI.nodes == 1 && NI.dist[0][0] == 10, "one node");
	host_capture_begin();
	acpi_numa_print(&NI);
	const char *out = host_capture_end();
	CHECK(strcmp(out, "numa: no SRAT: one node (node 0: every CPU, all memory)\n") == 0,
	      "%s", out);
	free(sl);
}

/* Through acpi_parse: the SRAT listed in an XSDT lands in a->numa. */
static void test_through_acpi(void)
{
	uint32_t len;
	uint8_t *s = srat_four(&len);
	struct tb x;
	tb_start(&x, "XSDT", sizeof(struct acpi_sdt_header));
	put64(x.b + x.len, 0x100000); x.len += 8;
	uint8_t *xs = tb_done(&x);
	uint8_t rsdp[36] = "RSD PTR ";
	rsdp[15] = 2;
	put32(rsdp + 20, 36);
	put64(rsdp + 24, 0x80000);
	uint8_t sum = 0;
	for (int i = 0; i < 20; i++) sum = (uint8_t)(sum + rsdp[i]);
	rsdp[8] = (uint8_t)-sum;
	sum = 0;
	for (int i = 0; i < 36; i++) sum = (uint8_t)(sum + rsdp[i]);
	rsdp[32] = (uint8_t)-sum;
	struct fake_mem fm;
	fake_init(&fm);
	fake_add(&fm, 0xe0000, rsdp, sizeof(rsdp));
	fake_add(&fm, 0x80000, xs, x.len);
	fake_add(&fm, 0x100000, s, len);
	static struct acpi a;
	REQUIRE(acpi_parse(&a, &fm.host, 0xe0000) == ACPI_OK, "acpi_parse");
	CHECK(a.numa.status == ACPI_OK && a.numa.nodes == 4 && a.numa.nranges == 5,
	      "numa %s nodes %u", acpi_status_str(a.numa.status), a.numa.nodes);
	CHECK(fake_clean(&fm), "everything unmapped");
	fake_free(&fm);
	free(xs);
	free(s);
}

/* tests/data/acpi/numa (see its README): the file's bytes, as QEMU lays
 * out a 2 x 512 MiB machine.  Expect: node 0 cpus 0-1 [0, 640K) [1M, 512M),
 * node 1 cpus 2-3 and x2APIC 0x105, [512M, 1G) and a hot-pluggable [4G,
 * 5G), one disabled entry, SLIT 21. */
static void test_qemu_layout_file(void)
{
	uint64_t sl, ll;
	uint8_t *s = fake_read_file("tests/data/acpi/numa/SRAT.bin", &sl);
	uint8_t *l = fake_read_file("tests/data/acpi/numa/SLIT.bin", &ll);
	REQUIRE(s && l, "data files");
	REQUIRE(acpi_numa_parse(s, (uint32_t)sl, l, (uint32_t)ll, &NI) == ACPI_OK, "parse");
	CHECK(NI.nodes == 2 && NI.nranges == 4 && NI.ncpus == 5 && NI.disabled == 1,
	      "nodes %u ranges %u cpus %u disabled %u", NI.nodes, NI.nranges, NI.ncpus, NI.disabled);
	CHECK(NI.slit_status == ACPI_OK && NI.dist[0][1] == 21 && NI.dist[1][0] == 21, "slit");
	host_capture_begin();
	acpi_numa_print(&NI);
	const char *out = host_capture_end();
	CHECK(strstr(out, "numa: node 0 cpus 0-1 [mem 0x0000000000000000-0x000000000009ffff] "
			  "[mem 0x0000000000100000-0x000000001fffffff]\n"), "%s", out);
	CHECK(strstr(out, "numa: node 1 cpus 2-3,261 [mem 0x0000000020000000-0x000000003fffffff]\n"),
	      "%s", out);
	CHECK(strstr(out, "numa: node 1 hotplug [mem 0x0000000100000000-0x000000013fffffff]\n"),
	      "%s", out);
	CHECK(strstr(out, "numa: distance 1: 21 10\n"), "%s", out);
	free(s);
	free(l);
}

int main(void)
{
	RUN(test_qemu_layout_file);
	RUN(test_four_nodes);
	RUN(test_slit);
	RUN(test_srat_ranges);
	RUN(test_srat_domains);
	RUN(test_srat_cpu_twice);
	RUN(test_srat_many_cpus);
	RUN(test_srat_lengths);
	RUN(test_no_srat);
	RUN(test_through_acpi);
	return harness_done("numa");
}
