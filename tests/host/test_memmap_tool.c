/*
 * tests/host/test_memmap_tool.c - runs build/host/memmap on every sample in
 * tests/data/memmaps/ and checks its output against figures this test works
 * out from the input itself (never against output of the code under test):
 *   - every input entry comes out as one MemoryMap line, in input order,
 *     with the same start, inclusive end and page count;
 *   - for the real `memmap -sfo` captures, the MemoryMapSummary line is the
 *     one the EDK II shell wrote;
 *   - `memmap: usable <bytes> bytes in <n> regions` equals the usable
 *     entries (boot code/data, conventional) sorted, merged when adjacent,
 *     with page 0 cut off - valid because the samples have no overlaps,
 *     which this test checks first;
 *   - the `memmap: [mem ...]` lines are sorted and disjoint and their usable
 *     ones add up to the same total;
 *   - reading stdin gives the same output as a file argument;
 *   - an unparseable line is named and the exit status is not 0.
 * Run from the repository root (as `make test-host` does).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/host/harness.h"

#define TOOL    "build/host/memmap"
#define DATA    "tests/data/memmaps/"
#define MAXENT  1024
#define PG      4096ULL

struct ent {
	uint64_t start, end;   /* [start, end) */
	int usable;
};

static struct ent ents[MAXENT];
static int nents;
static char summary[512];      /* the input's MemoryMapSummary line, if any */
static char tmpdir[64];

/* Reads a whole file into a malloc'ed, NUL-terminated buffer; UTF-16LE
 * (with or without BOM) is narrowed to ASCII. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(b);
		return NULL;
	}
	fclose(f);
	b[n] = '\0';
	unsigned char *u = (unsigned char *)b;
	if (n >= 2 && ((u[0] == 0xff && u[1] == 0xfe) || u[1] == 0)) {
		long o = 0;
		for (long i = (u[0] == 0xff ? 2 : 0); i + 1 < n; i += 2)
			b[o++] = (char)u[i];
		b[o] = '\0';
		n = o;
	}
	if (len)
		*len = (size_t)n;
	return b;
}

/* Usable EFI types by the names the three formats use. */
static int usable_name(const char *s)
{
	static const char *const names[] = {
		"BootServiceCode", "BootServiceData", "Available",
		"Boot Code", "Boot Data", "Conventional",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strncmp(s, names[i], strlen(names[i])))
			return 1;
	return 0;
}

/* Parses the sample at path into ents[] (a second, independent parser). */
static int parse_input(const char *path)
{
	size_t len;
	char *b = slurp(path, &len), *line, *save = NULL;
	nents = 0;
	summary[0] = '\0';
	if (!b)
		return 0;
	for (line = strtok_r(b, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *cr = strchr(line, '\r'), name[64], *p;
		unsigned long long s, e, pages, attr;
		unsigned t;
		if (cr)
			*cr = '\0';
		if (nents == MAXENT)
			break;
		struct ent *x = &ents[nents];
		if (sscanf(line, "MemoryMap,\"%63[^\"]\",\"%llx\",\"%llx\",\"%llx\",\"%llx\"", name,
			   &s, &e, &pages, &attr) == 5) {
			*x = (struct ent){ s, e + 1, usable_name(name) };
			nents++;
		} else if (!strncmp(line, "MemoryMapSummary,", 17)) {
			snprintf(summary, sizeof(summary), "%s", line);
		} else if ((p = strstr(line, "type=")) && strstr(line, "attr=") &&
			   sscanf(p, "type=%u, attr=0x%llx, range=[0x%llx-0x%llx)", &t, &attr, &s, &e) == 4) {
			*x = (struct ent){ s, e, t == 3 || t == 4 || t == 7 };
			nents++;
		} else if ((p = strstr(line, "efi: mem")) && (p = strchr(p, '[')) &&
			   strstr(p, "range=[") &&
			   sscanf(strstr(p, "range=["), "range=[0x%llx-0x%llx]", &s, &e) == 2) {
			*x = (struct ent){ s, e + 1, usable_name(p + 1) };
			nents++;
		}
	}
	free(b);
	return nents;
}

static int cmp_ent(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Works out usable bytes and regions from ents[]; 0 if entries overlap. */
static int expected_usable(uint64_t *bytes, uint64_t *regions)
{
	static struct ent s[MAXENT];
	memcpy(s, ents, sizeof(ents[0]) * (size_t)nents);
	qsort(s, (size_t)nents, sizeof(s[0]), cmp_ent);
	for (int i = 1; i < nents; i++)
		if (s[i].start < s[i - 1].end)
			return 0;
	*bytes = *regions = 0;
	for (int i = 0; i < nents;) {
		if (!s[i].usable) {
			i++;
			continue;
		}
		uint64_t a = s[i].start, e = s[i].end;
		for (i++; i < nents && s[i].usable && s[i].start == e; i++)
			e = s[i].end;
		if (a < PG)
			a = PG;         /* page 0 is never usable */
		if (e > a) {
			*bytes += e - a;
			(*regions)++;
		}
	}
	return 1;
}

/* Runs the tool with redirections; returns its exit status. */
static int run_tool(const char *args, const char *out, const char *err)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "%s %s >%s 2>%s", TOOL, args, out, err);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Checks one good sample. */
static void check_sample(const char *file, int is_sfo)
{
	char path[256], out[128], out2[128], err[128], args[300];
	uint64_t want_bytes, want_regions;

	snprintf(path, sizeof(path), DATA "%s", file);
	snprintf(out, sizeof(out), "%s/out", tmpdir);
	snprintf(out2, sizeof(out2), "%s/out2", tmpdir);
	snprintf(err, sizeof(err), "%s/err", tmpdir);
	REQUIRE(parse_input(path) > 0, "%s: no entries parsed by the test", file);
	REQUIRE(expected_usable(&want_bytes, &want_regions), "%s: sample has overlaps", file);
	REQUIRE(run_tool(path, out, err) == 0, "%s: tool failed", file);

	char *o = slurp(out, NULL), *line, *save = NULL;
	REQUIRE(o, "read output");
	int i = 0, got_summary = 0;
	uint64_t bytes = 0, regions = 0, prev_end = 0, mem_usable = 0;
	for (line = strtok_r(o, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long s, e, pages, attr, a, b;
		char name[64];
		if (sscanf(line, "MemoryMap,\"%63[^\"]\",\"%llx\",\"%llx\",\"%llx\",\"%llx\"", name, &s,
			   &e, &pages, &attr) == 5) {
			CHECK(i < nents && s == ents[i].start && e + 1 == ents[i].end &&
			      pages * PG == ents[i].end - ents[i].start,
			      "%s: raw line %d: %s", file, i, line);
			i++;
		} else if (!strncmp(line, "MemoryMapSummary,", 17)) {
			if (is_sfo)
				CHECK(strcmp(line, summary) == 0, "%s: summary\n got %s\nwant %s", file,
				      line, summary);
		} else if (sscanf(line, "memmap: [mem 0x%llx-0x%llx] %63[^\n]", &a, &b, name) == 3) {
			CHECK(b >= a && ((b & 0xfff) == 0xfff || strcmp(name, "usable") != 0),
			      "%s: usable region not page aligned: %s", file, line);
			CHECK(a >= prev_end, "%s: not sorted / overlapping: %s", file, line);
			prev_end = b + 1;
			if (!strcmp(name, "usable"))
				mem_usable += b + 1 - a;
		} else if (sscanf(line, "memmap: usable %llu bytes in %llu regions", &a, &b) == 2) {
			bytes = a;
			regions = b;
			got_summary = 1;
		}
	}
	free(o);
	CHECK(i == nents, "%s: %d raw lines for %d entries", file, i, nents);
	CHECK(got_summary && bytes == want_bytes && regions == want_regions,
	      "%s: usable %llu in %llu, want %llu in %llu", file, (unsigned long long)bytes,
	      (unsigned long long)regions, (unsigned long long)want_bytes,
	      (unsigned long long)want_regions);
	CHECK(mem_usable == want_bytes, "%s: usable lines add up to %llu", file,
	      (unsigned long long)mem_usable);

	/* stdin gives the same output */
	snprintf(args, sizeof(args), "<%s", path);
	REQUIRE(run_tool(args, out2, err) == 0, "%s: tool failed on stdin", file);
	char *x = slurp(out, NULL), *y = slurp(out2, NULL);
	CHECK(x && y && !strcmp(x, y), "%s: stdin output differs", file);
	free(x);
	free(y);
}

static void test_ovmf_512m(void)    { check_sample("ovmf-q35-512M.sfo.txt", 1); }
static void test_ovmf_512m_16(void) { check_sample("ovmf-q35-512M.sfo16.txt", 1); }
static void test_ovmf_5g(void)      { check_sample("ovmf-q35-5G.sfo.txt", 1); }
static void test_ovmf_5g_16(void)   { check_sample("ovmf-q35-5G.sfo16.txt", 1); }
static void test_desktop_type(void) { check_sample("desktop-16g.dmesg-type.txt", 0); }
static void test_desktop_name(void) { check_sample("desktop-16g.dmesg-name.txt", 0); }
static void test_board_312(void)    { check_sample("board-312.dmesg-name.txt", 0); }
static void test_server_16t(void)   { check_sample("server-16t.dmesg-name.txt", 0); }

/* A malformed third line: the message names line 3, exit status 1. */
static void test_bad_line(void)
{
	char out[128], err[128];
	snprintf(out, sizeof(out), "%s/out", tmpdir);
	snprintf(err, sizeof(err), "%s/err", tmpdir);
	int st = run_tool(DATA "bad-line3.txt", out, err);
	char *e = slurp(err, NULL);
	CHECK(st == 1, "exit status %d", st);
	CHECK(e && strstr(e, "line 3"), "stderr: %s", e ? e : "(none)");
	free(e);
	st = run_tool("</dev/null", out, err);
	CHECK(st == 1, "empty input: exit status %d", st);
}

int main(void)
{
	if (access(TOOL, X_OK) != 0) {
		printf("memmap_tool: %s missing (run from the repo root after make)\n", TOOL);
		return 1;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/memmap_tool.XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	RUN(test_ovmf_512m);
	RUN(test_ovmf_512m_16);
	RUN(test_ovmf_5g);
	RUN(test_ovmf_5g_16);
	RUN(test_desktop_type);
	RUN(test_desktop_name);
	RUN(test_board_312);
	RUN(test_server_16t);
	RUN(test_bad_line);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		printf("memmap_tool: could not remove %s\n", tmpdir);
	return harness_done("memmap_tool");
}
