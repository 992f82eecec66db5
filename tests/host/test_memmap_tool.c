/*
 * tests/host/test_memmap_tool.c - runs the memmap host tool on every sample
 * in tests/data/memmaps/ and on small inputs written here, and checks its
 * output against figures this test works out from the input itself (never
 * against output of the code under test):
 *   - every input entry comes out as one MemoryMap line, in input order,
 *     with the same start, inclusive end and page count (and, where this
 *     test can read them, the same type and attributes);
 *   - for the real `memmap -sfo` captures, the MemoryMapSummary line is the
 *     one the EDK II shell wrote;
 *   - `memmap: usable <bytes> bytes in <n> regions` equals the usable
 *     entries (boot code/data, conventional, with WB and without SP)
 *     sorted, merged when adjacent, with page 0 cut off - valid because the
 *     samples have no overlaps, which this test checks first; the
 *     soft-reserved lines add up to the RAM entries with SP; the
 *     more-reliable line gives the usable MR entries' MiB, and is absent
 *     when there are none;
 *   - the `memmap: [mem ...]` lines are sorted and disjoint and their usable
 *     ones add up to the same total;
 *   - the `memmap:` lines are exactly what the reference sanitiser
 *     (tests/host/memmap_ref.c, the O(n^2) algorithm the tool used before
 *     change points) makes of the MemoryMap lines the tool printed, printed
 *     by memmap_print (a differential test of the sanitiser on the samples);
 *   - reading stdin gives the same output as a file argument;
 *   - a line the tool does not fully understand (a NUL, text after the
 *     range, `0x0x`, `Type0x7`, an unknown attribute name...) is refused as
 *     `memmap: line N: ...` with exit status 1, N counted with \n, \r\n and
 *     lone \r line ends; the well-formed twin of each input is accepted;
 *   - samples with one byte changed never crash the tool, and whenever it
 *     accepts one, its MemoryMap lines are the entries of that input.
 * Run from the repository root (as `make test-host` does).  The tool is
 * the memmap next to this program's bin/ directory ($(BUILD)/host/memmap),
 * or $MEMMAP_TOOL.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mm/memmap.h"
#include "mm/status.h"
#include "tests/host/harness.h"
#include "tests/host/memmap_ref.h"

#define DATA    "tests/data/memmaps/"
#define MAXENT  1024
#define PG      4096ULL

extern char **environ;

struct ent {
	uint64_t start, end;   /* [start, end) */
	int usable;            /* boot code/data or conventional, WB, not SP */
	int soft;              /* a RAM type (those and loader) with SP */
	int mirrored;          /* EFI_MEMORY_MORE_RELIABLE */
	int has_attr;          /* attr and type[] are known (not for dmesg [name|...]) */
	uint64_t attr;
	char type[32];         /* the -sfo type name */
};

static struct ent ents[MAXENT];
static int nents;
static char summary[512];      /* the input's MemoryMapSummary line, if any */
static char tmpdir[64];
static char tool[512];         /* the memmap binary under test */
static char *out_text, *err_text;  /* stdout / stderr of the last run_on */

/* The EDK II shell's -sfo names of EFI types 0..15. */
static const char *const shell_names[] = {
	"Reserved", "LoaderCode", "LoaderData", "BootServiceCode", "BootServiceData",
	"RuntimeCode", "RuntimeData", "Available", "UnusableMemory", "ACPIReclaimMemory",
	"ACPIMemoryNVS", "MemoryMappedIO", "MemoryMappedIOPortSpace", "PalCode",
	"Persistent", "Unaccepted",
};

/* Reads a whole file as it is into a malloc'ed, NUL-terminated buffer;
 * *len gets its length.  Returns NULL if it cannot. */
static char *slurp_raw(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b = NULL;
	long n;

	if (f && !fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET) &&
	    (b = malloc((size_t)n + 1)) && fread(b, 1, (size_t)n, f) == (size_t)n) {
		b[n] = '\0';
		*len = (size_t)n;
	} else {
		free(b);
		b = NULL;
	}
	if (f)
		fclose(f);
	return b;
}

/* Reads a whole file like slurp_raw; UTF-16LE (with or without BOM) is
 * narrowed to ASCII, anything not ASCII becoming '?'. */
static char *slurp(const char *path, size_t *len)
{
	size_t n;
	char *b = slurp_raw(path, &n);
	unsigned char *u = (unsigned char *)b;

	if (b && n >= 2 && ((u[0] == 0xff && u[1] == 0xfe) || u[1] == 0)) {
		size_t o = 0;
		for (size_t i = (u[0] == 0xff ? 2 : 0); i + 1 < n; i += 2)
			b[o++] = u[i + 1] || u[i] >= 0x80 ? '?' : (char)u[i];
		b[o] = '\0';
		n = o;
	}
	if (b && len)
		*len = n;
	return b;
}

/* Writes len bytes of data to path; returns 0 on failure. */
static int spew(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return 0;
	int ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok;
}

/* EFI attribute bits this test reads: the sanitiser honours them. */
#define A_WB (1ULL << 3)
#define A_MR (1ULL << 16)
#define A_SP (1ULL << 18)

/* Loader EFI types by the names the three formats use. */
static int loader_name(const char *s)
{
	static const char *const names[] = { "LoaderCode", "LoaderData", "Loader Code", "Loader Data" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strncmp(s, names[i], strlen(names[i])))
			return 1;
	return 0;
}

/* The attribute bits of a dmesg "[Name |col|col|...]" whose text after the
 * '[' is s and whose ']' is at e: the column names WB, MR, SP, or
 * "attr=0x<hex>". */
static uint64_t name_attrs(const char *s, const char *e)
{
	uint64_t a = 0;
	const char *p = memchr(s, '|', (size_t)(e - s));

	while (p && p < e) {
		const char *q = p + 1, *next = memchr(q, '|', (size_t)(e - q));
		const char *end = next ? next : e;
		while (q < end && *q == ' ')
			q++;
		size_t n = (size_t)(end - q);
		while (n && q[n - 1] == ' ')
			n--;
		if (n == 2 && !strncmp(q, "WB", 2))
			a |= A_WB;
		else if (n == 2 && !strncmp(q, "MR", 2))
			a |= A_MR;
		else if (n == 2 && !strncmp(q, "SP", 2))
			a |= A_SP;
		else if (n > 5 && !strncmp(q, "attr=", 5))
			a |= strtoull(q + 5, NULL, 16);
		p = next;
	}
	return a;
}

/* Fills x's usable / soft / mirrored from its EFI type (usable_type: boot
 * code/data or conventional; loader: loader code/data) and attributes. */
static void classify(struct ent *x, int usable_type, int loader, uint64_t attr)
{
	x->usable = usable_type && (attr & A_WB) && !(attr & A_SP);
	x->soft = (usable_type || loader) && (attr & A_SP);
	x->mirrored = (attr & A_MR) != 0;
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

/* Reads one input line as an entry into *x (a second, independent parser,
 * deliberately lenient: it only has to agree on lines the tool accepts);
 * returns 0 if the line is no entry. */
static int parse_entry(char *line, struct ent *x)
{
	unsigned long long s, e, pages, attr;
	char name[32], close;
	unsigned t;
	char *p = line + strspn(line, " \t"), *b;

	memset(x, 0, sizeof(*x));
	if (sscanf(p, "MemoryMap,\"%31[^\"]\",\"%llx\",\"%llx\",\"%llx\",\"%llx\"", name, &s, &e,
		   &pages, &attr) == 5) {
		*x = (struct ent){ .start = s, .end = e + 1, .has_attr = 1, .attr = attr };
		classify(x, usable_name(name), loader_name(name), attr);
		snprintf(x->type, sizeof(x->type), "%s", name);
		return 1;
	}
	/* efi: memNN: (blanks allowed after "efi:" and the colon) */
	if (!(p = strstr(p, "efi:")))
		return 0;
	p += 4 + strspn(p + 4, " \t");
	if (strncmp(p, "mem", 3))
		return 0;
	p += 3 + strspn(p + 3, "0123456789");
	if (*p++ != ':')
		return 0;
	p += strspn(p, " \t");
	if (sscanf(p, "type=%u, attr=%llx, range=[%llx-%llx%c", &t, &attr, &s, &e, &close) == 5) {
		*x = (struct ent){ .start = s, .end = close == ']' ? e + 1 : e, .has_attr = 1,
				   .attr = attr };
		classify(x, t == 3 || t == 4 || t == 7, t == 1 || t == 2, attr);
		if (t < sizeof(shell_names) / sizeof(shell_names[0]))
			snprintf(x->type, sizeof(x->type), "%s", shell_names[t]);
		else
			snprintf(x->type, sizeof(x->type), "Type%X", t);
		return 1;
	}
	if (*p == '[' && (b = strchr(p, ']')) &&
	    sscanf(b + 1, " range=[%llx-%llx%c", &s, &e, &close) == 3) {
		*x = (struct ent){ .start = s, .end = close == ']' ? e + 1 : e };
		classify(x, usable_name(p + 1), loader_name(p + 1), name_attrs(p + 1, b));
		return 1;
	}
	return 0;
}

/* Parses the input file at path into ents[]; returns the number of entries.
 * Lines end at \n, \r\n or \r (empty lines do not matter here). */
static int parse_input(const char *path)
{
	size_t len;
	char *b = slurp(path, &len), *line, *save = NULL;
	nents = 0;
	summary[0] = '\0';
	if (!b)
		return 0;
	for (line = strtok_r(b, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		if (nents == MAXENT)
			break;
		if (parse_entry(line, &ents[nents]))
			nents++;
		else if (!strncmp(line, "MemoryMapSummary,", 17))
			snprintf(summary, sizeof(summary), "%s", line);
	}
	free(b);
	return nents;
}

/* Compares the MemoryMap lines of the tool's output o with ents[]; returns
 * the number of differences and describes the first in why[0..n). */
static int diff_raw_lines(const char *o, char *why, size_t n)
{
	char *copy = strdup(o), *line, *save = NULL;
	int i = 0, bad = 0;

	why[0] = '\0';
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long s, e, pages, attr;
		char name[32];
		if (sscanf(line, "MemoryMap,\"%31[^\"]\",\"%llx\",\"%llx\",\"%llx\",\"%llx\"", name, &s,
			   &e, &pages, &attr) != 5)
			continue;
		const struct ent *x = i < nents ? &ents[i] : NULL;
		if (!x || s != x->start || e + 1 != x->end || pages * PG != x->end - x->start ||
		    (x->has_attr && (attr != x->attr || strcmp(name, x->type) != 0))) {
			if (!bad++)
				snprintf(why, n, "raw line %d: %s", i, line);
		}
		i++;
	}
	if (i != nents && !bad++)
		snprintf(why, n, "%d raw lines for %d entries", i, nents);
	free(copy);
	return bad;
}

/* qsort order of entries: by start address. */
static int cmp_ent(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* What the sanitised map of ents[] must hold, worked out from the input. */
struct expect {
	uint64_t bytes, regions;   /* usable */
	uint64_t reliable;         /* usable and MORE_RELIABLE */
	uint64_t soft;             /* soft-reserved */
};

/* Works out *w from ents[]; 0 if entries overlap.  Usable bytes and
 * regions: usable entries merged when adjacent, page 0 cut off; the
 * reliable ones among them; soft-reserved entries. */
static int expected_figures(struct expect *w)
{
	static struct ent s[MAXENT];
	memcpy(s, ents, sizeof(ents[0]) * (size_t)nents);
	qsort(s, (size_t)nents, sizeof(s[0]), cmp_ent);
	for (int i = 1; i < nents; i++)
		if (s[i].start < s[i - 1].end)
			return 0;
	*w = (struct expect){ 0 };
	for (int i = 0; i < nents; i++) {
		uint64_t a = s[i].start < PG ? PG : s[i].start;
		if (s[i].usable && s[i].mirrored && s[i].end > a)
			w->reliable += s[i].end - a;
		if (s[i].soft)
			w->soft += s[i].end - s[i].start;
	}
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
			w->bytes += e - a;
			w->regions++;
		}
	}
	return 1;
}

/* Starts the tool on the file in (as its argument, or as stdin if
 * on_stdin), stdout to the file out and stderr to err, without a shell;
 * returns its pid, or -1. */
static pid_t spawn_tool(const char *in, int on_stdin, const char *out, const char *err)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = { tool, on_stdin ? NULL : (char *)in, NULL };
	pid_t pid;
	int rc;

	posix_spawn_file_actions_init(&fa);
	if (on_stdin)
		posix_spawn_file_actions_addopen(&fa, 0, in, O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	rc = posix_spawn(&pid, tool, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return rc == 0 ? pid : -1;
}

/* Waits for the tool started as pid; returns its exit status, -1 if a
 * signal ended it, -2 if it could not be started. */
static int wait_tool(pid_t pid)
{
	int st;

	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -2;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs the tool (see spawn_tool) and returns its exit status (wait_tool). */
static int run_tool(const char *in, int on_stdin, const char *out, const char *err)
{
	return wait_tool(spawn_tool(in, on_stdin, out, err));
}

/* Puts the path of <tmpdir>/name into buf[0..n). */
static const char *tmp_path(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", tmpdir, name);
	return buf;
}

/* Writes data[0..len) to <tmpdir>/in and runs the tool on it; its stdout
 * and stderr are left in out_text / err_text.  Returns the exit status. */
static int run_on(const void *data, size_t len)
{
	char in[96], out[96], err[96];

	free(out_text);
	free(err_text);
	out_text = err_text = NULL;
	if (!spew(tmp_path(in, sizeof(in), "in"), data, len))
		return -2;
	int st = run_tool(in, 0, tmp_path(out, sizeof(out), "out"), tmp_path(err, sizeof(err), "err"));
	out_text = slurp(out, NULL);
	err_text = slurp(err, NULL);
	if (!out_text)
		out_text = strdup("");
	if (!err_text)
		err_text = strdup("");
	return st;
}

/* run_on for a string literal, NULs inside included. */
#define RUN_LIT(lit) run_on(lit, sizeof(lit) - 1)

/* Checks that the last run refused its input at line `line`: exit status
 * 1 and stderr starting "memmap: line <line>: " and holding why. */
static void expect_refused(int st, unsigned line, const char *why, const char *what)
{
	char want[48];

	snprintf(want, sizeof(want), "memmap: line %u: ", line);
	CHECK(st == 1, "%s: exit status %d, want 1 (stderr: %s)", what, st, err_text);
	CHECK(!strncmp(err_text, want, strlen(want)) && strstr(err_text, why),
	      "%s: stderr should start \"%s\" and say \"%s\": %s", what, want, why, err_text);
}

/* Checks that the last run accepted its input and printed exactly the raw
 * lines want[0..n), in order, as its MemoryMap lines. */
static void expect_raw(int st, const char *const *want, int n, const char *what)
{
	char *copy = strdup(out_text), *line, *save = NULL;
	int i = 0;

	CHECK(st == 0, "%s: exit status %d, want 0 (stderr: %s)", what, st, err_text);
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "MemoryMap,", 10))
			continue;
		CHECK(i < n && !strcmp(line, want[i]), "%s: raw line %d\n got %s\nwant %s", what, i,
		      line, i < n ? want[i] : "(none)");
		i++;
	}
	CHECK(i == n, "%s: %d raw lines, want %d", what, i, n);
	free(copy);
}

/* Returns the EFI type of the -sfo name s (a shell name or Type<hex>), or
 * UINT32_MAX. */
static uint32_t sfo_type(const char *s)
{
	unsigned t;

	for (uint32_t i = 0; i < sizeof(shell_names) / sizeof(shell_names[0]); i++)
		if (!strcmp(s, shell_names[i]))
			return i;
	return sscanf(s, "Type%x", &t) == 1 ? t : UINT32_MAX;
}

/* Runs the reference sanitiser on the MemoryMap lines of the tool's output
 * o and compares its `memmap:` lines (warnings, regions, summary), printed
 * by memmap_print, with the tool's own (but the more-reliable line, which
 * check_sample checks); returns 0 if they are the same, else describes the
 * first difference in why[0..n). */
static int diff_reference(const char *o, char *why, size_t n)
{
	char *copy = strdup(o), *line, *save = NULL, *mine = calloc(1, strlen(o) + 1);
	struct bootinfo_efi_desc *d = calloc(strlen(o) / 16 + 1, sizeof(*d));
	size_t nd = 0, count = 0, cap;
	int bad = 0;

	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long s, e, pages, attr;
		char name[32];
		if (sscanf(line, "MemoryMap,\"%31[^\"]\",\"%llx\",\"%llx\",\"%llx\",\"%llx\"", name, &s,
			   &e, &pages, &attr) == 5)
			d[nd++] = (struct bootinfo_efi_desc){ .type = sfo_type(name), .phys_start = s,
							      .num_pages = pages, .attribute = attr };
		else if (!strncmp(line, "memmap: ", 8) && !strstr(line, "more-reliable"))
			strcat(strcat(mine, line), "\n");
	}
	cap = 2 * nd + 2;
	struct mm_region *r = calloc(cap, sizeof(*r));
	host_capture_begin();
	int st = memmap_ref_sanitize(d, nd * sizeof(*d), sizeof(*d), NULL, 0, r, cap, &count);
	if (st == MM_OK)
		memmap_print(r, count);
	const char *want = host_capture_end();
	if (st != MM_OK || strcmp(mine, want)) {
		const char *a = mine, *b = want;
		while (*a && *a == *b)
			a++, b++;
		snprintf(why, n, "reference status %d; first difference:\n tool: %.60s\n  ref: %.60s",
			 st, a, b);
		bad = 1;
	}
	free(r);
	free(d);
	free(mine);
	free(copy);
	return bad;
}

/* Checks one good sample. */
static void check_sample(const char *file, int is_sfo)
{
	char path[256], out[96], out2[96], err[96], why[256];
	struct expect w;

	snprintf(path, sizeof(path), DATA "%s", file);
	tmp_path(out, sizeof(out), "out");
	tmp_path(out2, sizeof(out2), "out2");
	tmp_path(err, sizeof(err), "err");
	REQUIRE(parse_input(path) > 0, "%s: no entries parsed by the test", file);
	REQUIRE(expected_figures(&w), "%s: sample has overlaps", file);
	REQUIRE(run_tool(path, 0, out, err) == 0, "%s: tool failed", file);

	char *o = slurp(out, NULL), *line, *save = NULL;
	REQUIRE(o, "read output");
	CHECK(diff_raw_lines(o, why, sizeof(why)) == 0, "%s: %s", file, why);
	CHECK(diff_reference(o, why, sizeof(why)) == 0, "%s: %s", file, why);
	int got_summary = 0, got_reliable = 0;
	uint64_t bytes = 0, regions = 0, prev_end = 0, mem_usable = 0, mem_soft = 0, mib = 0;
	for (line = strtok_r(o, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long a, b;
		char name[64];
		if (!strncmp(line, "MemoryMapSummary,", 17)) {
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
			if (!strcmp(name, "soft-reserved"))
				mem_soft += b + 1 - a;
		} else if (sscanf(line, "memmap: %llu MiB of usable memory is more-reliable (mirrored%c",
				  &a, name) == 2 && name[0] == ')') {
			mib = a;
			got_reliable++;
		} else if (sscanf(line, "memmap: usable %llu bytes in %llu regions", &a, &b) == 2) {
			bytes = a;
			regions = b;
			got_summary = 1;
		}
	}
	free(o);
	CHECK(got_summary && bytes == w.bytes && regions == w.regions,
	      "%s: usable %llu in %llu, want %llu in %llu", file, (unsigned long long)bytes,
	      (unsigned long long)regions, (unsigned long long)w.bytes,
	      (unsigned long long)w.regions);
	CHECK(mem_usable == w.bytes, "%s: usable lines add up to %llu", file,
	      (unsigned long long)mem_usable);
	CHECK(mem_soft == w.soft, "%s: soft-reserved lines add up to %llu, want %llu", file,
	      (unsigned long long)mem_soft, (unsigned long long)w.soft);
	if (w.reliable)
		CHECK(got_reliable == 1 && mib == w.reliable >> 20,
		      "%s: %d more-reliable lines, %llu MiB; want one, %llu MiB", file, got_reliable,
		      (unsigned long long)mib, (unsigned long long)(w.reliable >> 20));
	else
		CHECK(got_reliable == 0, "%s: a more-reliable line, none mirrored", file);

	/* stdin gives the same output */
	REQUIRE(run_tool(path, 1, out2, err) == 0, "%s: tool failed on stdin", file);
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
static void test_ovmf_nowb(void)    { check_sample("ovmf-q35-5G-nowb4g.sfo.txt", 1); }
static void test_server_mr_sp(void) { check_sample("server-mr-sp.dmesg-name.txt", 0); }

/* Returns 1 if the last output of the tool in file out holds the line l. */
static int has_line(const char *out, const char *l)
{
	char *o = slurp(out, NULL), *p = o;
	size_t n = strlen(l);
	int found = 0;

	while (p && !found && (p = strstr(p, l)) != NULL) {
		found = (p == o || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0');
		p += n;
	}
	free(o);
	return found;
}

/*
 * The 5G OVMF capture with WB cleared on its one entry above 4 GiB
 * (Available 100000000-1BFFFFFFF, 3 GiB).  Expect: that range a reserved
 * line, and usable = the 5G capture's usable bytes (worked out from that
 * input) minus 3 GiB, one region less.  Control: the capture itself has
 * the range usable.
 */
static void test_nowb_above_4g(void)
{
	char out[96], err[96];
	struct expect w5;
	const char *line = "memmap: [mem 0x0000000100000000-0x00000001bfffffff] ";
	char want[160];

	tmp_path(out, sizeof(out), "out");
	tmp_path(err, sizeof(err), "err");
	REQUIRE(parse_input(DATA "ovmf-q35-5G.sfo.txt") > 0 && expected_figures(&w5), "5G input");
	REQUIRE(run_tool(DATA "ovmf-q35-5G.sfo.txt", 0, out, err) == 0, "tool on 5G");
	snprintf(want, sizeof(want), "%susable", line);
	CHECK(has_line(out, want), "control: 5G capture without %s", want);
	REQUIRE(run_tool(DATA "ovmf-q35-5G-nowb4g.sfo.txt", 0, out, err) == 0, "tool on nowb");
	snprintf(want, sizeof(want), "%sreserved", line);
	CHECK(has_line(out, want), "no %s", want);
	snprintf(want, sizeof(want), "memmap: usable %llu bytes in %llu regions",
		 (unsigned long long)(w5.bytes - 0xc0000000ULL), (unsigned long long)(w5.regions - 1));
	CHECK(has_line(out, want), "no \"%s\"", want);
}

/*
 * server-mr-sp (gen_samples.py mirrored_sp_server): MR on the RAM below
 * 4 GiB, on 256 MiB of boot data at 16G and on [128G, 192G); SP on
 * [64G, 128G); no WB on [32G, 33G).  Mirrored usable bytes, by hand:
 * 0x57000 + 0x46000 (below 640K; page 0 is reserved) + (0x70000000 -
 * 0x100000) (1M .. 1792M) + 256 MiB + 64 GiB = 67583 MiB + 628 KiB.
 * Expect: "67583 MiB" more-reliable, one soft-reserved line [64G, 128G),
 * a reserved line [32G, 33G).
 */
static void test_mr_sp_lines(void)
{
	char out[96], err[96];

	tmp_path(out, sizeof(out), "out");
	tmp_path(err, sizeof(err), "err");
	REQUIRE(run_tool(DATA "server-mr-sp.dmesg-name.txt", 0, out, err) == 0, "tool");
	CHECK(has_line(out, "memmap: 67583 MiB of usable memory is more-reliable (mirrored)"),
	      "more-reliable line");
	CHECK(has_line(out, "memmap: [mem 0x0000001000000000-0x0000001fffffffff] soft-reserved"),
	      "soft-reserved line");
	CHECK(has_line(out, "memmap: [mem 0x0000000800000000-0x000000083fffffff] reserved"),
	      "reserved line");
	/* Control: has_line finds no line that is not there. */
	CHECK(!has_line(out, "memmap: [mem 0x0000000800000000-0x000000083fffffff] usable"),
	      "has_line control");
}

/* Control of diff_reference: the tool's output on a sample with one
 * region's type changed, or the usable summary changed.  Expect: a
 * difference reported each time, none for the output as it is. */
static void test_reference_control(void)
{
	char out[96], err[96], why[256];
	tmp_path(out, sizeof(out), "out");
	tmp_path(err, sizeof(err), "err");
	REQUIRE(run_tool(DATA "ovmf-q35-5G.sfo.txt", 0, out, err) == 0, "tool failed");
	char *o = slurp(out, NULL), *p;
	REQUIRE(o, "read output");
	CHECK(diff_reference(o, why, sizeof(why)) == 0, "as it is: %s", why);
	REQUIRE((p = strstr(o, "] usable\n")), "no usable line");
	memcpy(p + 2, "USABLE", 6);
	CHECK(diff_reference(o, why, sizeof(why)) != 0, "a changed type went unseen");
	memcpy(p + 2, "usable", 6);
	REQUIRE((p = strstr(o, "memmap: usable ")), "no summary");
	p[15] = p[15] == '9' ? '1' : (char)(p[15] + 1);
	CHECK(diff_reference(o, why, sizeof(why)) != 0, "a changed summary went unseen");
	free(o);
}

/* A malformed third line: the message names line 3, exit status 1. */
static void test_bad_line(void)
{
	char out[96], err[96];
	tmp_path(out, sizeof(out), "out");
	tmp_path(err, sizeof(err), "err");
	int st = run_tool(DATA "bad-line3.txt", 0, out, err);
	char *e = slurp(err, NULL);
	CHECK(st == 1, "exit status %d", st);
	CHECK(e && strstr(e, "line 3"), "stderr: %s", e ? e : "(none)");
	free(e);
	st = run_tool("/dev/null", 1, out, err);
	CHECK(st == 1, "empty input: exit status %d", st);
}

/*
 * The small inputs below: three dmesg type= entries
 *
 *   0x100000     0x200000     0x300000                 0x500000
 *   | conv 1 MiB | boot 1 MiB | conventional 2 MiB      |
 *
 * and the raw lines the tool must print for them (-sfo form: inclusive end,
 * pages, upper-case hex), worked out by hand.
 */
#define T0 "efi: mem00: type=7, attr=0xf, range=[0x0000000000100000-0x0000000000200000) (1MB)"
#define T1 "efi: mem01: type=4, attr=0xf, range=[0x0000000000200000-0x0000000000300000) (1MB)"
#define T2 "efi: mem02: type=7, attr=0xf, range=[0x0000000000300000-0x0000000000500000) (2MB)"
#define R0 "MemoryMap,\"Available\",\"100000\",\"1FFFFF\",\"100\",\"F\""
#define R1 "MemoryMap,\"BootServiceData\",\"200000\",\"2FFFFF\",\"100\",\"F\""
#define R2 "MemoryMap,\"Available\",\"300000\",\"4FFFFF\",\"200\",\"F\""
/* The same in the dmesg [name|attributes] form (inclusive ends); N1 stops
 * before its range, which the tests add. */
#define N0 "efi: mem00: [Conventional|   |  |  |  |  |  |  |  |  |   |WB|WT|WC|UC] " \
	   "range=[0x0000000000100000-0x00000000001fffff] (1MB)"
#define N1 "efi: mem01: [Boot Data   |   |  |  |  |  |  |  |  |  |   |WB|WT|WC|UC]"
#define N2 "efi: mem02: [Conventional|   |  |  |  |  |  |  |  |  |   |WB|WT|WC|UC] " \
	   "range=[0x0000000000300000-0x00000000004fffff] (2MB)"

static const char *const r012[] = { R0, R1, R2 };

/* Encodes n bytes of ASCII s as UTF-16LE with a BOM into u; returns its
 * length (2 + 2n). */
static size_t utf16le(const char *s, size_t n, unsigned char *u)
{
	u[0] = 0xff;
	u[1] = 0xfe;
	for (size_t i = 0; i < n; i++) {
		u[2 + 2 * i] = (unsigned char)s[i];
		u[3 + 2 * i] = 0;
	}
	return 2 + 2 * n;
}

/* A NUL byte (or UTF-16 U+0000) anywhere is an error naming its line; the
 * old tool stopped reading there and exited 0 with the entries before it.
 * Expect: line 3 / line 2 / line 4 refused; without the NULs all entries. */
static void test_nul_byte(void)
{
	static const char start3[] = T0 "\n" T1 "\n" "\0" T2 "\n";
	static const char end2[] = T0 "\n" T1 "\0\n" T2 "\n";
	static const char last4[] = T0 "\n" T1 "\n" T2 "\n" "\0";
	static const char good[] = T0 "\n" T1 "\n" T2 "\n";
	static const char sfo[] = "ShellCommand,\"memmap\"\r\n" R0 "\r\n" "\0" R1 "\r\n";
	static const char sfo_good[] = "ShellCommand,\"memmap\"\r\n" R0 "\r\n" R1 "\r\n";
	unsigned char u[2 + 2 * sizeof(sfo)];

	expect_refused(RUN_LIT(start3), 3, "NUL", "NUL starting line 3");
	expect_refused(RUN_LIT(end2), 2, "NUL", "NUL ending line 2");
	expect_refused(RUN_LIT(last4), 4, "NUL", "NUL after the last line");
	expect_raw(RUN_LIT(good), r012, 3, "no NUL");
	expect_refused(run_on(u, utf16le(sfo, sizeof(sfo) - 1, u)), 3, "NUL", "UTF-16 U+0000");
	expect_raw(run_on(u, utf16le(sfo_good, sizeof(sfo_good) - 1, u)), r012, 2, "UTF-16");
}

/* Lines end at \n, \r\n or a lone \r (old Mac); the old tool read a
 * CR-only file as one line and kept only its first entry.  Expect: all
 * three entries each time; a bad line named by its number, a \r\n counted
 * as one line end, "\r\r" and "\n\n" as two. */
static void test_cr_line_ends(void)
{
	static const char cr[] = T0 "\r" T1 "\r" T2 "\r";
	static const char cr_noend[] = T0 "\r" T1 "\r" T2;
	static const char mixed[] = T0 "\r\n" T1 "\n" T2 "\r";
	static const char cr_bad3[] = T0 "\r" T1 "\r" "efi: mem02: oops\r" T2 "\r";
	static const char crlf_bad3[] = T0 "\r\n" T1 "\r\n" "efi: mem02: oops\r\n" T2 "\r\n";
	static const char blank_bad5[] = T0 "\r\r" T1 "\n\n" "efi: mem02: oops\n" T2 "\n";

	expect_raw(RUN_LIT(cr), r012, 3, "CR line ends");
	expect_raw(RUN_LIT(cr_noend), r012, 3, "CR line ends, none after the last");
	expect_raw(RUN_LIT(mixed), r012, 3, "CR LF, LF and CR line ends");
	expect_refused(RUN_LIT(cr_bad3), 3, "oops", "CR: bad line 3");
	expect_refused(RUN_LIT(crlf_bad3), 3, "oops", "CR LF: bad line 3");
	expect_refused(RUN_LIT(blank_bad5), 5, "oops", "empty lines: bad line 5");
}

/* After range=[...] only Linux's size note "(NNNMB)" - the range's whole
 * MiB, num_pages >> 8 - and blanks may follow; the old tool ignored
 * anything there.  Expect: each junk tail refused at line 2; no note, the
 * note, trailing blanks and a 784383 MiB range (the note truncates) pass. */
static void test_text_after_range(void)
{
	static const char *const junk[] = {
		" (1MB) garbage", " (1MB)x", " garbage", " (1 MB)", " (1MB", " (1KB)",
		" (0x1MB)", " (2MB)", " (0MB)", " (invalid)", " (1MB) (1MB)", " 1MB",
	};
	char in[512];

	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		snprintf(in, sizeof(in), T0 "\nefi: mem01: type=4, attr=0xf, "
			 "range=[0x0000000000200000-0x0000000000300000)%s\n" T2 "\n", junk[i]);
		expect_refused(run_on(in, strlen(in)), 2, "", junk[i]);
		snprintf(in, sizeof(in), N0 "\n" N1 " range=[0x0000000000200000-0x00000000002fffff]%s\n"
			 N2 "\n", junk[i]);
		expect_refused(run_on(in, strlen(in)), 2, "", junk[i]);
	}
	static const char *const fine[] = { "", " (1MB)", "  (1MB) \t ", "\t(1MB)" };
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		snprintf(in, sizeof(in), N0 "\n" N1 " range=[0x0000000000200000-0x00000000002fffff]%s\n"
			 N2 "\n", fine[i]);
		expect_raw(run_on(in, strlen(in)), r012, 3, fine[i]);
	}

	/* 784383 MiB and 255 pages from 4 GiB, in the old [name|...] form. */
	uint64_t start = 1ULL << 32, pages = 784383ULL * 256 + 255;
	uint64_t last = start + pages * PG - 1;
	char want[128];
	const char *w[] = { want };
	snprintf(in, sizeof(in), "efi: mem47: [Conventional Memory|   |  |  |  |   |WB|WT|WC|UC] "
		 "range=[0x%016llx-0x%016llx] (%lluMB)\n", (unsigned long long)start,
		 (unsigned long long)last, (unsigned long long)(pages >> 8));
	snprintf(want, sizeof(want), "MemoryMap,\"Available\",\"%llX\",\"%llX\",\"%llX\",\"F\"",
		 (unsigned long long)start, (unsigned long long)last, (unsigned long long)pages);
	expect_raw(run_on(in, strlen(in)), w, 1, "(784383MB)");
	CHECK(strstr(in, "(784383MB)"), "the test's own line: %s", in);
}

/* A number is an optional single 0x and hex digits in dmesg lines, hex
 * digits alone in -sfo fields; a -sfo type is a name the shell prints or
 * Type<hex digits>.  The old tool read "0x0x200000" as 0x200000 (strtoull
 * takes a second prefix) and "Type0x7" as type 7.  Expect: each refused at
 * line 2; Type10, Type70000000 and dmesg hex without 0x accepted. */
static void test_strict_numbers(void)
{
	static const char *const bad_dmesg[] = {
		"efi: mem01: type=4, attr=0xf, range=[0x0x200000-0x0000000000300000) (1MB)",
		"efi: mem01: type=4, attr=0xf, range=[0x0000000000200000-0x0x300000) (1MB)",
		"efi: mem01: type=4, attr=0x0xf, range=[0x0000000000200000-0x0000000000300000) (1MB)",
		"efi: mem01: type=4, attr=0xf, range=[ 0x200000-0x0000000000300000) (1MB)",
		"efi: mem01: type=4, attr=0xf, range=[+0x200000-0x0000000000300000) (1MB)",
		"efi: mem01: type=4, attr=0xf, range=[0x-200000-0x0000000000300000) (1MB)",
		"efi: mem01: type=4, attr=0xf, range=[0X200000-0x0000000000300000) (1MB)",
		"efi: mem01: type=+4, attr=0xf, range=[0x200000-0x0000000000300000) (1MB)",
		"efi: mem01: type=0x4, attr=0xf, range=[0x200000-0x0000000000300000) (1MB)",
		"efi: mem01: type=4, attr=0x10000000000000000, range=[0x200000-0x300000) (1MB)",
		N1 " range=[0x0x200000-0x00000000002fffff] (1MB)",
	};
	static const char *const bad_sfo[] = {
		"MemoryMap,\"BootServiceData\",\"0x200000\",\"2FFFFF\",\"100\",\"F\"",
		"MemoryMap,\"BootServiceData\",\" 200000\",\"2FFFFF\",\"100\",\"F\"",
		"MemoryMap,\"BootServiceData\",\"+200000\",\"2FFFFF\",\"100\",\"F\"",
		"MemoryMap,\"BootServiceData\",\"200000 \",\"2FFFFF\",\"100\",\"F\"",
		"MemoryMap,\"BootServiceData\",\"200000\",\"2FFFFF\",\"\",\"F\"",
		"MemoryMap,\"BootServiceData\",\"200000\",\"2FFFFF\",\"100\",\"10000000000000000\"",
		"MemoryMap,\"Type0x4\",\"200000\",\"2FFFFF\",\"100\",\"F\"",
		"MemoryMap,\"Type\",\"200000\",\"2FFFFF\",\"100\",\"F\"",
		"MemoryMap,\"Type 4\",\"200000\",\"2FFFFF\",\"100\",\"F\"",
		"MemoryMap,\"Type-4\",\"200000\",\"2FFFFF\",\"100\",\"F\"",
		"MemoryMap,\"TypeG\",\"200000\",\"2FFFFF\",\"100\",\"F\"",
		"MemoryMap,\"Type100000000\",\"200000\",\"2FFFFF\",\"100\",\"F\"",
		"MemoryMap,\"bootServiceData\",\"200000\",\"2FFFFF\",\"100\",\"F\"",
		"MemoryMap,\"BootServiceData \",\"200000\",\"2FFFFF\",\"100\",\"F\"",
	};
	char in[512];

	for (size_t i = 0; i < sizeof(bad_dmesg) / sizeof(bad_dmesg[0]); i++) {
		snprintf(in, sizeof(in), "%s\n%s\n%s\n", strstr(bad_dmesg[i], "type=") ? T0 : N0,
			 bad_dmesg[i], strstr(bad_dmesg[i], "type=") ? T2 : N2);
		expect_refused(run_on(in, strlen(in)), 2, "", bad_dmesg[i]);
	}
	for (size_t i = 0; i < sizeof(bad_sfo) / sizeof(bad_sfo[0]); i++) {
		snprintf(in, sizeof(in), R0 "\n%s\n" R2 "\n", bad_sfo[i]);
		expect_refused(run_on(in, strlen(in)), 2, "", bad_sfo[i]);
	}

	static const char nox[] = N0 "\n" N1 " range=[200000-2fffff] (1MB)\n" N2 "\n";
	expect_raw(RUN_LIT(nox), r012, 3, "dmesg hex without 0x");
	static const char types[] =
		"efi: mem00: type=16, attr=0x1, range=[0x100000-0x101000) (0MB)\n"
		"efi: mem01: type=1879048192, attr=0x8000000000000001, range=[0x101000-0x103000) (0MB)\n";
	static const char *const types_raw[] = {
		"MemoryMap,\"Type10\",\"100000\",\"100FFF\",\"1\",\"1\"",
		"MemoryMap,\"Type70000000\",\"101000\",\"102FFF\",\"2\",\"8000000000000001\"",
	};
	expect_raw(RUN_LIT(types), types_raw, 2, "types the shell does not name");
	/* ... and the tool reads its own Type<hex> lines back. */
	char back[512];
	snprintf(back, sizeof(back), "%s\n%s\n", types_raw[0], types_raw[1]);
	expect_raw(run_on(back, strlen(back)), types_raw, 2, "Type<hex> read back");
}

/* In the dmesg [name|attributes] form every column is blank or a name
 * Linux's efi_md_typeattr_format prints (RUN HP MR CC SP NV XP RP WP RO UCE
 * WB WT WC UC), none twice; Linux prints "|attr=0x<hex>]" for bits it has
 * no name for.  The old tool skipped unknown names.  Expect: each bad one
 * refused at line 2; all fifteen names give 0x80000000001FF01F. */
static void test_attr_names(void)
{
	static const char *const bad[] = {
		"[Boot Data   |   |  |  |  |  |  |  |  |  |   |WB|XY|WC|UC]",
		"[Boot Data   |RT |  |  |  |  |  |  |  |  |   |WB|WT|WC|UC]",
		"[Boot Data   |   |  |  |  |  |  |  |  |  |   |WB|WB|WC|UC]",
		"[Boot Data   |   |  |  |  |  |  |  |  |  |   |wb|WT|WC|UC]",
		"[Boot Data   |   |  |  |  |  |  |  |  |  |   |W B|WT|WC|UC]",
		"[Boot Data   |   |  |  |  |  |  |  |  |  |   |WB\t|WT|WC|UC]",
		"[Boot Data   |attr=0x0x000000000000000f]",
		"[Boot Data   |attr=zz]",
		"[Boot Data   |attr=0x000000000000000f|WB]",
		"[Boot Dat    |   |  |  |  |  |  |  |  |  |   |WB|WT|WC|UC]",
		"[ Boot Data  |   |  |  |  |  |  |  |  |  |   |WB|WT|WC|UC]",
		"[type=4x|   |  |  |  |  |  |  |  |  |   |WB|WT|WC|UC]",
		"[Boot Data   |   |  |  |  |  |  |  |  |  |   |WB|WT|WC|UC",
	};
	char in[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(in, sizeof(in), N0 "\nefi: mem01: %s range=[0x200000-0x2fffff] (1MB)\n" N2 "\n",
			 bad[i]);
		expect_refused(run_on(in, strlen(in)), 2, "", bad[i]);
	}

	static const char all[] = "efi: mem00: [Conventional|RUN|HP|MR|CC|SP|NV|XP|RP|WP|RO|UCE|WB|WT|WC|UC] "
				  "range=[0x0000000000100000-0x00000000001fffff] (1MB)\n";
	static const char *const all_raw[] = {
		"MemoryMap,\"Available\",\"100000\",\"1FFFFF\",\"100\",\"80000000001FF01F\"",
	};
	expect_raw(RUN_LIT(all), all_raw, 1, "all fifteen attribute names");
	static const char hex[] = "efi: mem00: [Conventional|attr=0x0000000000000408] "
				  "range=[0x0000000000100000-0x00000000001fffff] (1MB)\n";
	static const char *const hex_raw[] = {
		"MemoryMap,\"Available\",\"100000\",\"1FFFFF\",\"100\",\"408\"",
	};
	expect_raw(RUN_LIT(hex), hex_raw, 1, "|attr=0x...]");
	static const char old[] =
		"efi: mem00: [Conventional Memory|   |  |  |  |   |WB|WT|WC|UC] range=[0x0000000000100000-0x00000000001fffff] (1MB)\n"
		N1 " range=[0x0000000000200000-0x00000000002fffff] (1MB)\n"
		"efi: mem02: [type=7|   |  |  |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x0000000000300000-0x00000000004fffff] (2MB)\n";
	expect_raw(RUN_LIT(old), r012, 3, "older names, [type=N|...]");
}

/* xorshift64: the fuzz loop's random numbers, from a fixed seed. */
static uint64_t fuzz_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Mutants per sample (a few hundred), and how many run at once. */
#ifndef FUZZ_MUTANTS
#define FUZZ_MUTANTS 200
#endif
#define FUZZ_JOBS    4

/* Judges one run of the tool on a mutant of sample (byte pos set to b),
 * kept in the file mut, with exit status st and output in the files out and
 * err: status 0 or 1 only, no sanitizer report, a "memmap: " message with
 * status 1, and with status 0 exactly the entries this test reads in the
 * mutant as MemoryMap lines.  Returns 1 if accepted, 0 if refused, -1 bad. */
static int check_mutant(const char *sample, size_t pos, unsigned b, int st, const char *mut,
			const char *out, const char *err)
{
	char *o = slurp(out, NULL), *e = slurp(err, NULL), why[256];
	int res;

	if (!o)
		o = strdup("");
	if (!e)
		e = strdup("");
	res = (st == 0 || st == 1) && !strstr(e, "Sanitizer") && !strstr(e, "runtime error") &&
	      (st == 0 || !strncmp(e, "memmap: ", 8)) ? st == 0 : -1;
	CHECK(res >= 0, "%s: byte %zu -> 0x%02x: exit status %d, stderr: %.400s", sample, pos, b,
	      st, e);
	if (res == 1) {
		parse_input(mut);
		if (diff_raw_lines(o, why, sizeof(why)) != 0)
			res = -1;
		CHECK(res == 1, "%s: byte %zu -> 0x%02x accepted, but %s", sample, pos, b, why);
	}
	free(o);
	free(e);
	return res;
}

/*
 * Each real sample with one byte changed, at FUZZ_MUTANTS random positions
 * (fixed seed), to a random byte or one that matters to the parser, run
 * FUZZ_JOBS at a time.  Expect: what check_mutant checks, every time.
 */
static void test_fuzz_samples(void)
{
	static const char *const samples[] = {
		"ovmf-q35-512M.sfo.txt", "ovmf-q35-512M.sfo16.txt", "ovmf-q35-5G.sfo.txt",
		"ovmf-q35-5G.sfo16.txt", "desktop-16g.dmesg-type.txt", "desktop-16g.dmesg-name.txt",
		"board-312.dmesg-name.txt", "server-16t.dmesg-name.txt",
	};
	static const char special[] = { '\0', '\r', '\n', ' ', '\t', '0', '9', 'x', 'X', 'f', 'F',
					'g', '|', '[', ']', '(', ')', '"', ',', '-', '=', '?' };
	char path[256], mut[FUZZ_JOBS][96], out[FUZZ_JOBS][96], err[FUZZ_JOBS][96], name[32];
	int accepted = 0, refused = 0, bad = 0;

	/* Leak checking at exit doubles the cost of a run and has nothing to
	 * find here (the samples run with it above). */
	const char *asan = getenv("ASAN_OPTIONS");
	char *saved = asan ? strdup(asan) : NULL, opts[512];
	snprintf(opts, sizeof(opts), "%s%sdetect_leaks=0", asan ? asan : "", asan && *asan ? ":" : "");
	setenv("ASAN_OPTIONS", opts, 1);
	for (int j = 0; j < FUZZ_JOBS; j++) {
		snprintf(name, sizeof(name), "mutant%d", j);
		tmp_path(mut[j], sizeof(mut[j]), name);
		snprintf(name, sizeof(name), "out%d", j);
		tmp_path(out[j], sizeof(out[j]), name);
		snprintf(name, sizeof(name), "err%d", j);
		tmp_path(err[j], sizeof(err[j]), name);
	}
	for (size_t k = 0; k < sizeof(samples) / sizeof(samples[0]) && bad < 3; k++) {
		size_t n;
		unsigned char *orig, *buf;
		snprintf(path, sizeof(path), DATA "%s", samples[k]);
		orig = (unsigned char *)slurp_raw(path, &n);
		buf = malloc(n + 1);
		CHECK(orig && buf && n > 0, "%s: cannot read", path);
		uint64_t seed = 0x6d656d6d61700000ULL + k;   /* "memmap" + sample */
		for (int m = 0; orig && buf && n > 0 && m < FUZZ_MUTANTS && bad < 3; m += FUZZ_JOBS) {
			pid_t pid[FUZZ_JOBS];
			size_t pos[FUZZ_JOBS];
			unsigned char b[FUZZ_JOBS];
			for (int j = 0; j < FUZZ_JOBS; j++) {
				uint64_t r = fuzz_rand(&seed);
				pos[j] = (size_t)(r % n);
				b[j] = (r >> 32) & 1 ? (unsigned char)special[(r >> 40) % sizeof(special)]
						     : (unsigned char)(r >> 48);
				if (b[j] == orig[pos[j]])
					b[j] ^= 1;
				memcpy(buf, orig, n);
				buf[pos[j]] = b[j];
				pid[j] = spew(mut[j], buf, n) ? spawn_tool(mut[j], 0, out[j], err[j]) : -1;
			}
			for (int j = 0; j < FUZZ_JOBS; j++) {
				int res = check_mutant(samples[k], pos[j], b[j], wait_tool(pid[j]), mut[j],
						       out[j], err[j]);
				accepted += res == 1;
				refused += res == 0;
				bad += res < 0;
			}
		}
		free(orig);
		free(buf);
	}
	if (saved)
		setenv("ASAN_OPTIONS", saved, 1);
	else
		unsetenv("ASAN_OPTIONS");
	free(saved);
	printf("memmap_tool: fuzz: %d mutants accepted, %d refused\n", accepted, refused);
}

/* Sets tool[]: $MEMMAP_TOOL, else the memmap beside the bin/ directory this
 * program is in ($(BUILD)/host/bin/.. -> $(BUILD)/host/memmap). */
static void find_tool(const char *argv0)
{
	const char *env = getenv("MEMMAP_TOOL"), *slash = strrchr(argv0, '/');

	if (env && *env)
		snprintf(tool, sizeof(tool), "%s", env);
	else if (slash)
		snprintf(tool, sizeof(tool), "%.*s/../memmap", (int)(slash - argv0), argv0);
	else
		snprintf(tool, sizeof(tool), "../memmap");
}

int main(int argc, char **argv)
{
	(void)argc;
	find_tool(argv[0]);
	if (access(tool, X_OK) != 0) {
		printf("memmap_tool: %s missing (run from the repo root after make)\n", tool);
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
	RUN(test_ovmf_nowb);
	RUN(test_server_mr_sp);
	RUN(test_nowb_above_4g);
	RUN(test_mr_sp_lines);
	RUN(test_reference_control);
	RUN(test_bad_line);
	RUN(test_nul_byte);
	RUN(test_cr_line_ends);
	RUN(test_text_after_range);
	RUN(test_strict_numbers);
	RUN(test_attr_names);
	RUN(test_fuzz_samples);
	free(out_text);
	free(err_text);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		printf("memmap_tool: could not remove %s\n", tmpdir);
	return harness_done("memmap_tool");
}
