/*
 * tools/memmap.c - what would memboot make of this memory map?
 *
 *   build/host/memmap [FILE]        (stdin without FILE)
 *   dmesg | grep 'efi: mem' | build/host/memmap
 *
 * Reads a firmware memory map in one of three text forms, detected from the
 * first entry:
 *   dmesg-type  efi: mem07: type=7, attr=0xf, range=[0x...-0x...) (203MB)
 *   dmesg-name  efi: mem47: [Conventional|   |...|UC] range=[0x...-0x...] (..MB)
 *   sfo         the EDK II shell's `memmap -sfo` CSV, UTF-8 or UTF-16
 * (anything before `efi:` - a syslog or timestamp prefix - is ignored; a
 * range closed by ')' has an exclusive end, one closed by ']' an inclusive
 * end, as older and newer kernels print them).  It turns the entries into EFI
 * descriptors and runs the kernel's own mm/ code on them: the raw map is
 * printed in `memmap -sfo` form, then the sanitised map exactly as the kernel
 * prints it.  An unparseable line is reported with its number; exit status 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm/memmap.h"
#include "mm/status.h"
#include "mm/x86_64.h"

enum fmt { FMT_NONE, FMT_DMESG_TYPE, FMT_DMESG_NAME, FMT_SFO };

static const char *const fmt_names[] = {
	[FMT_NONE] = "none", [FMT_DMESG_TYPE] = "dmesg (type=)",
	[FMT_DMESG_NAME] = "dmesg ([name|attr])", [FMT_SFO] = "memmap -sfo",
};

/* The descriptors parsed so far. */
static struct bootinfo_efi_desc *descs;
static size_t ndescs, capdescs;

/* Prints "memmap: line N: why" on stderr and exits 1. */
static _Noreturn void die_line(unsigned long line, const char *why, const char *text)
{
	fprintf(stderr, "memmap: line %lu: %s: \"%.100s\"\n", line, why, text);
	exit(1);
}

/* Appends one descriptor. */
static void add_desc(uint32_t type, uint64_t start, uint64_t pages, uint64_t attr)
{
	if (ndescs == capdescs) {
		capdescs = capdescs ? capdescs * 2 : 64;
		descs = realloc(descs, capdescs * sizeof(*descs));
		if (!descs) {
			perror("memmap");
			exit(2);
		}
	}
	descs[ndescs++] = (struct bootinfo_efi_desc){
		.type = type, .phys_start = start, .num_pages = pages, .attribute = attr,
	};
}

/* Reads all of f into a NUL-terminated buffer; *len gets its length. */
static char *read_all(FILE *f, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);

	while (buf) {
		n += fread(buf + n, 1, cap - n - 1, f);
		if (n < cap - 1)
			break;
		cap *= 2;
		buf = realloc(buf, cap);
	}
	if (!buf || ferror(f)) {
		perror("memmap: read");
		exit(2);
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Converts UTF-16 (BOM or, without one, a zero second byte means UTF-16LE)
 * to ASCII in place; non-ASCII characters become '?'.  Skips a UTF-8 BOM. */
static char *to_ascii(char *buf, size_t *len)
{
	unsigned char *u = (unsigned char *)buf;
	int le;

	if (*len >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf) {
		*len -= 3;
		return buf + 3;
	}
	if (*len >= 2 && u[0] == 0xff && u[1] == 0xfe)
		le = 1;
	else if (*len >= 2 && u[0] == 0xfe && u[1] == 0xff)
		le = 0;
	else if (*len >= 2 && u[0] != 0 && u[1] == 0)
		le = 1;
	else
		return buf;
	size_t out = 0, i = (u[0] == 0xff || u[0] == 0xfe) ? 2 : 0;
	for (; i + 1 < *len; i += 2) {
		unsigned c = le ? u[i] | (u[i + 1] << 8) : (u[i] << 8) | u[i + 1];
		buf[out++] = c < 0x80 ? (char)c : '?';
	}
	buf[out] = '\0';
	*len = out;
	return buf;
}

/* Parses a number in base at *p (a 0x prefix is allowed for base 16) and
 * advances *p; returns 0 if there are no digits or it overflows. */
static int parse_u64(const char **p, int base, uint64_t *v)
{
	char *end;

	if (base == 16 && (*p)[0] == '0' && ((*p)[1] == 'x' || (*p)[1] == 'X'))
		*p += 2;
	if ((base == 16 && !strchr("0123456789abcdefABCDEF", **p)) ||
	    (base == 10 && !strchr("0123456789", **p)) || !**p)
		return 0;
	errno = 0;
	*v = strtoull(*p, &end, base);
	if (errno == ERANGE)
		return 0;
	*p = end;
	return 1;
}

/* Skips spaces and tabs. */
static const char *skip_blank(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Accepts the literal s at *p and advances past it; returns 0 if absent. */
static int accept(const char **p, const char *s)
{
	size_t n = strlen(s);
	if (strncmp(*p, s, n) != 0)
		return 0;
	*p += n;
	return 1;
}

/* Linux's names of EFI memory types (efi_md_typeattr_format), newer and
 * older spellings; index = EFI type. */
static const char *const linux_names[][2] = {
	{ "Reserved", NULL },           { "Loader Code", NULL },
	{ "Loader Data", NULL },        { "Boot Code", NULL },
	{ "Boot Data", NULL },          { "Runtime Code", NULL },
	{ "Runtime Data", NULL },       { "Conventional", "Conventional Memory" },
	{ "Unusable", "Unusable Memory" }, { "ACPI Reclaim", "ACPI Reclaim Memory" },
	{ "ACPI Mem NVS", "ACPI Memory NVS" }, { "MMIO", "Memory Mapped I/O" },
	{ "MMIO Port", "MMIO Port Space" }, { "PAL Code", NULL },
	{ "Persistent", "Persistent Memory" }, { "Unaccepted", NULL },
};

/* EFI attribute bits by the names Linux prints between the '|'s. */
static const struct { const char *name; uint64_t bit; } linux_attrs[] = {
	{ "UC", 1ULL << 0 },  { "WC", 1ULL << 1 },  { "WT", 1ULL << 2 },
	{ "WB", 1ULL << 3 },  { "UCE", 1ULL << 4 }, { "WP", 1ULL << 12 },
	{ "RP", 1ULL << 13 }, { "XP", 1ULL << 14 }, { "NV", 1ULL << 15 },
	{ "MR", 1ULL << 16 }, { "RO", 1ULL << 17 }, { "SP", 1ULL << 18 },
	{ "CC", 1ULL << 19 }, { "RUN", 1ULL << 63 },
};

/* Returns the attribute bits named in the "|A|B|...]" text from s to ']'. */
static uint64_t parse_linux_attrs(const char *s, const char *end)
{
	uint64_t attr = 0;

	while (s < end) {
		const char *t = s;
		while (t < end && *t != '|')
			t++;
		const char *a = s, *b = t;
		while (a < b && *a == ' ')
			a++;
		while (b > a && b[-1] == ' ')
			b--;
		for (size_t i = 0; i < sizeof(linux_attrs) / sizeof(linux_attrs[0]); i++)
			if (strlen(linux_attrs[i].name) == (size_t)(b - a) &&
			    !strncmp(a, linux_attrs[i].name, (size_t)(b - a)))
				attr |= linux_attrs[i].bit;
		s = t + 1;
	}
	return attr;
}

/* Parses "[Name   |attr...]" or "[type=N|...]" at *p into *type and the
 * attribute bits named into *attr. */
static int parse_linux_type(const char **p, uint32_t *type, uint64_t *attr)
{
	const char *s = *p, *bar;
	uint64_t v;

	if (*s++ != '[')
		return 0;
	bar = strpbrk(s, "|]");
	if (!bar)
		return 0;
	if (accept(&s, "type=")) {
		if (!parse_u64(&s, 10, &v) || v > UINT32_MAX)
			return 0;
		*type = (uint32_t)v;
	} else {
		size_t n = (size_t)(bar - s);
		while (n > 0 && s[n - 1] == ' ')
			n--;
		uint32_t t;
		for (t = 0; t < sizeof(linux_names) / sizeof(linux_names[0]); t++) {
			const char *a = linux_names[t][0], *b = linux_names[t][1];
			if ((strlen(a) == n && !strncmp(s, a, n)) ||
			    (b && strlen(b) == n && !strncmp(s, b, n)))
				break;
		}
		if (t == sizeof(linux_names) / sizeof(linux_names[0]))
			return 0;
		*type = t;
	}
	s = strchr(bar, ']');
	if (!s)
		return 0;
	*attr = *bar == '|' ? parse_linux_attrs(bar + 1, s) : 0;
	*p = s + 1;
	return 1;
}

/* Parses "range=[0xS-0xE)" or "...E]" at *p into *start / *pages. */
static const char *parse_range(const char **p, uint64_t *start, uint64_t *pages)
{
	uint64_t end;

	*p = skip_blank(*p);
	if (!accept(p, "range=[") || !parse_u64(p, 16, start) || !accept(p, "-") ||
	    !parse_u64(p, 16, &end))
		return "bad range=[start-end]";
	if (**p == ']') {
		if (end == UINT64_MAX)
			return "range end wraps past 2^64";
		end++;
	} else if (**p != ')') {
		return "range must end with ')' or ']'";
	}
	(*p)++;
	if (end < *start)
		return "range end below its start";
	if ((end - *start) & PAGE_MASK)
		return "range is not a whole number of 4 KiB pages";
	*pages = (end - *start) >> PAGE_SHIFT;
	return NULL;
}

/* Parses the dmesg line l (its "efi:" at e); returns the format or dies. */
static enum fmt parse_dmesg(const char *l, const char *e, unsigned long line)
{
	const char *p = skip_blank(e + 4), *why;
	uint64_t idx, start, pages, attr = 0, v;
	uint32_t type;
	enum fmt f;

	if (!accept(&p, "mem") || !parse_u64(&p, 10, &idx) || !accept(&p, ":"))
		die_line(line, "expected \"efi: memNN:\"", l);
	p = skip_blank(p);
	if (accept(&p, "type=")) {
		if (!parse_u64(&p, 10, &v) || v > UINT32_MAX || !accept(&p, ","))
			die_line(line, "bad type=N,", l);
		type = (uint32_t)v;
		p = skip_blank(p);
		if (!accept(&p, "attr=") || !parse_u64(&p, 16, &attr) || !accept(&p, ","))
			die_line(line, "bad attr=0x...,", l);
		f = FMT_DMESG_TYPE;
	} else if (*p == '[') {
		if (!parse_linux_type(&p, &type, &attr))
			die_line(line, "bad [type|attributes]", l);
		f = FMT_DMESG_NAME;
	} else {
		die_line(line, "expected type= or [name|attributes]", l);
	}
	why = parse_range(&p, &start, &pages);
	if (why)
		die_line(line, why, l);
	add_desc(type, start, pages, attr);
	return f;
}

/* Parses one "field", quotes included, at *p; returns its contents' start
 * and sets *n to its length, or NULL. */
static const char *sfo_field(const char **p, size_t *n)
{
	const char *s = *p, *q;

	if (*s != '"')
		return NULL;
	q = strchr(s + 1, '"');
	if (!q)
		return NULL;
	*n = (size_t)(q - s - 1);
	*p = q + 1;
	return s + 1;
}

/* Parses a quoted hex field at *p into *v. */
static int sfo_hex(const char **p, uint64_t *v)
{
	size_t n;
	const char *s;

	if (!accept(p, ","))
		return 0;
	s = sfo_field(p, &n);
	if (!s || n == 0 || n > 16)
		return 0;
	char tmp[17];
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	const char *t = tmp;
	return parse_u64(&t, 16, v) && *t == '\0';
}

/* Parses the `memmap -sfo` line l (MemoryMap,...); dies on error. */
static void parse_sfo(const char *l, unsigned long line)
{
	const char *p = l + strlen("MemoryMap,"), *name;
	uint64_t start, last, pages, attr;
	uint32_t type;
	size_t n;

	name = sfo_field(&p, &n);
	if (!name)
		die_line(line, "expected \"type\" after MemoryMap,", l);
	for (type = 0; memmap_efi_type_name(type); type++) {
		const char *s = memmap_efi_type_name(type);
		if (strlen(s) == n && !strncmp(name, s, n))
			break;
	}
	if (!memmap_efi_type_name(type)) { /* our own "Type<hex>" spelling */
		char tmp[24];
		const char *t = tmp;
		uint64_t v;
		if (n < 5 || n > 20 || strncmp(name, "Type", 4))
			die_line(line, "unknown memory type name", l);
		memcpy(tmp, name + 4, n - 4);
		tmp[n - 4] = '\0';
		if (!parse_u64(&t, 16, &v) || *t || v > UINT32_MAX)
			die_line(line, "unknown memory type name", l);
		type = (uint32_t)v;
	}
	if (!sfo_hex(&p, &start) || !sfo_hex(&p, &last) || !sfo_hex(&p, &pages) ||
	    !sfo_hex(&p, &attr))
		die_line(line, "expected \"start\",\"end\",\"pages\",\"attributes\"", l);
	if (*skip_blank(p))
		die_line(line, "junk after the attributes field", l);
	/* The shell prints end = start + pages * 4096 - 1: they must agree. */
	if (pages > (UINT64_MAX >> PAGE_SHIFT) ||
	    start + (pages << PAGE_SHIFT) - 1 != last)
		die_line(line, "end does not match start + pages", l);
	add_desc(type, start, pages, attr);
}

/* Parses every line of text; dies on the first bad one. */
static void parse_text(char *text)
{
	enum fmt fmt = FMT_NONE, f;
	unsigned long line = 0;
	char *l = text, *nl;

	for (; l; l = nl) {
		nl = strchr(l, '\n');
		if (nl)
			*nl++ = '\0';
		line++;
		size_t n = strlen(l);
		while (n > 0 && (l[n - 1] == '\r' || l[n - 1] == ' ' || l[n - 1] == '\t'))
			l[--n] = '\0';
		const char *s = skip_blank(l), *e;
		if (*s == '\0')
			continue;
		if (!strncmp(s, "ShellCommand,", 13) || !strncmp(s, "MemoryMapSummary,", 17)) {
			f = FMT_SFO;
		} else if (!strncmp(s, "MemoryMap,", 10)) {
			parse_sfo(s, line);
			f = FMT_SFO;
		} else if ((e = strstr(s, "efi:")) != NULL) {
			f = parse_dmesg(s, e, line);
		} else {
			die_line(line, "not a memory map line (dmesg efi: memNN or memmap -sfo)", s);
		}
		if (fmt == FMT_NONE)
			fmt = f;
		else if (f != fmt)
			die_line(line, fmt == FMT_SFO ? "expected memmap -sfo like the lines before"
						      : "format differs from the lines before", s);
	}
	if (ndescs == 0) {
		fprintf(stderr, "memmap: no memory map entries in the input\n");
		exit(1);
	}
	fprintf(stderr, "memmap: %zu entries, format %s\n", ndescs, fmt_names[fmt]);
}

int main(int argc, char **argv)
{
	FILE *f = stdin;
	size_t len, count;
	char *buf, *text;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-' && argv[1][1])) {
		fprintf(stderr, "usage: memmap [FILE]   (dmesg 'efi: mem' lines or memmap -sfo)\n");
		return 2;
	}
	if (argc == 2 && strcmp(argv[1], "-") != 0) {
		f = fopen(argv[1], "rb");
		if (!f) {
			fprintf(stderr, "memmap: %s: %s\n", argv[1], strerror(errno));
			return 2;
		}
	}
	buf = read_all(f, &len);
	text = to_ascii(buf, &len);
	parse_text(text);

	uint64_t raw_size = ndescs * sizeof(*descs);
	size_t cap = 2 * ndescs + 2;
	struct mm_region *out = calloc(cap, sizeof(*out));
	if (!out) {
		perror("memmap");
		return 2;
	}
	memmap_print_raw(descs, raw_size, sizeof(*descs));
	int st = memmap_sanitize(descs, raw_size, sizeof(*descs), NULL, 0, out, cap, &count);
	if (st != MM_OK) {
		fprintf(stderr, "memmap: memmap_sanitize: %s\n", mm_status_str(st));
		return 1;
	}
	memmap_print(out, count);
	free(out);
	free(buf);
	free(descs);
	if (f != stdin)
		fclose(f);
	return 0;
}
