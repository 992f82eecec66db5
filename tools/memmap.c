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
 * prints it, attributes honoured (RAM without WB is reserved, with SP
 * soft-reserved; the more-reliable line when MR memory is usable).
 *
 * Every line must be understood completely: a line it cannot parse, a NUL
 * byte (or UTF-16 U+0000), a number that is not exactly an optional single
 * 0x and hex digits (plain hex digits in -sfo lines), an unknown type or
 * attribute name, or text after the range other than Linux's " (NNNMB)" size
 * note (which must match the range) is reported as "memmap: line N: <why>"
 * with exit status 1.  Lines end with \n, \r\n or a lone \r (old Mac).
 */
#include <ctype.h>
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

/* Longest part of a bad line quoted in its error message. */
#define QUOTE_MAX 200

/* Prints "memmap: line N: why: "text"" on stderr (at most QUOTE_MAX
 * characters of text, anything unprintable as '?') and exits 1. */
static _Noreturn void die_line(unsigned long line, const char *why, const char *text)
{
	fprintf(stderr, "memmap: line %lu: %s: \"", line, why);
	for (size_t i = 0; i < QUOTE_MAX && text[i]; i++)
		fputc(isprint((unsigned char)text[i]) ? text[i] : '?', stderr);
	fputs("\"\n", stderr);
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
 * to ASCII in place and updates *len; non-ASCII characters, and a last
 * half character, become '?' (so the line holding them is refused); U+0000
 * becomes a NUL byte, which parse_text refuses.  Skips a UTF-8 BOM.
 * Returns the start of the text; it stays NUL-terminated at text[*len]. */
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
	if (i < *len)
		buf[out++] = '?';
	buf[out] = '\0';
	*len = out;
	return buf;
}

/* Returns the value of c as a digit of base (10 or 16, either case), or -1. */
static int digit_value(char c, int base)
{
	int v = -1;

	if (c >= '0' && c <= '9')
		v = c - '0';
	else if (c >= 'a' && c <= 'f')
		v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		v = c - 'A' + 10;
	return v < base ? v : -1;
}

/* Parses the digits of base at *p into *v and advances *p past them: one
 * digit at least, no sign, blank or prefix (unlike strtoull, which takes all
 * three).  Returns 0 if there is no digit or the value overflows 64 bits. */
static int parse_digits(const char **p, int base, uint64_t *v)
{
	const char *s = *p;
	int d;

	*v = 0;
	for (; (d = digit_value(*s, base)) >= 0; s++) {
		if (*v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return 0;
		*v = *v * (uint64_t)base + (uint64_t)d;
	}
	if (s == *p)
		return 0;
	*p = s;
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

/* Parses a dmesg hex number at *p - an optional single "0x", then hex
 * digits - and advances *p; returns 0 if there is none or it overflows. */
static int parse_hex(const char **p, uint64_t *v)
{
	accept(p, "0x");
	return parse_digits(p, 16, v);
}

/* Returns 1 if s[0..n) is exactly the string name. */
static int name_is(const char *s, size_t n, const char *name)
{
	return strlen(name) == n && !strncmp(s, name, n);
}

/* Linux's names of EFI memory types (memory_type_name[] in
 * drivers/firmware/efi/efi.c), the current spelling and the older one where
 * they differ; index = EFI type.  Linux pads them with spaces to one width. */
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

/* EFI attribute bits by the names Linux's efi_md_typeattr_format prints in
 * its '|' columns - every name any version prints (columns it has no name
 * for make it print "|attr=0x<hex>]" instead). */
static const struct { const char *name; uint64_t bit; } linux_attrs[] = {
	{ "UC", 1ULL << 0 },  { "WC", 1ULL << 1 },  { "WT", 1ULL << 2 },
	{ "WB", 1ULL << 3 },  { "UCE", 1ULL << 4 }, { "WP", 1ULL << 12 },
	{ "RP", 1ULL << 13 }, { "XP", 1ULL << 14 }, { "NV", 1ULL << 15 },
	{ "MR", 1ULL << 16 }, { "RO", 1ULL << 17 }, { "SP", 1ULL << 18 },
	{ "CC", 1ULL << 19 }, { "HP", 1ULL << 20 }, { "RUN", 1ULL << 63 },
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Looks up the Linux type name s[0..n) (padding already cut off) and sets
 * *type; returns 0 if Linux has no such name. */
static int linux_type(const char *s, size_t n, uint32_t *type)
{
	for (uint32_t t = 0; t < ARRAY_LEN(linux_names); t++)
		if (name_is(s, n, linux_names[t][0]) ||
		    (linux_names[t][1] && name_is(s, n, linux_names[t][1]))) {
			*type = t;
			return 1;
		}
	return 0;
}

/* Returns the attribute bit Linux prints as s[0..n), or 0 if none. */
static uint64_t linux_attr_bit(const char *s, size_t n)
{
	for (size_t i = 0; i < ARRAY_LEN(linux_attrs); i++)
		if (name_is(s, n, linux_attrs[i].name))
			return linux_attrs[i].bit;
	return 0;
}

/* Parses the attribute columns at *p, from the first '|' to the closing ']':
 * each column blank or a name of linux_attrs, no name twice; or Linux's
 * "|attr=0x<hex>]"; or just "]" (no columns, attributes 0).  Sets *attr and
 * advances *p past the ']'; returns why not, or NULL. */
static const char *parse_linux_attrs(const char **p, uint64_t *attr)
{
	const char *s = *p;

	*attr = 0;
	if (accept(&s, "|attr=")) {
		if (!parse_hex(&s, attr) || !accept(&s, "]"))
			return "bad |attr=0x...]";
		*p = s;
		return NULL;
	}
	while (*s == '|') {
		const char *a = s + 1, *b;
		s = a + strcspn(a, "|]");
		for (b = s; b > a && b[-1] == ' '; b--)
			;
		while (a < b && *a == ' ')
			a++;
		if (a == b)
			continue;
		uint64_t bit = linux_attr_bit(a, (size_t)(b - a));
		if (!bit)
			return "unknown attribute name in [type|attributes]";
		if (*attr & bit)
			return "attribute named twice in [type|attributes]";
		*attr |= bit;
	}
	if (!accept(&s, "]"))
		return "[type|attributes] not closed by ']'";
	*p = s;
	return NULL;
}

/* Parses Linux's "[Name   |attributes]" or "[type=N|attributes]" at *p into
 * *type and *attr and advances *p past the ']'; returns why not, or NULL. */
static const char *parse_linux_type(const char **p, uint32_t *type, uint64_t *attr)
{
	const char *s = *p, *why;
	uint64_t v;

	if (!accept(&s, "["))
		return "expected [type|attributes]";
	if (accept(&s, "type=")) {
		if (!parse_digits(&s, 10, &v) || v > UINT32_MAX)
			return "bad [type=N";
		*type = (uint32_t)v;
	} else {
		const char *name = s;
		size_t n = strcspn(s, "|]");
		s += n;
		while (n > 0 && name[n - 1] == ' ')
			n--;
		if (!linux_type(name, n, type))
			return "unknown memory type name in [type|attributes]";
	}
	if (*s != '|' && *s != ']')
		return "expected '|' after the type";
	why = parse_linux_attrs(&s, attr);
	if (why)
		return why;
	*p = s;
	return NULL;
}

/* Parses "range=[0xS-0xE)" or "...E]" at *p into *start / *pages. */
static const char *parse_range(const char **p, uint64_t *start, uint64_t *pages)
{
	uint64_t end;

	*p = skip_blank(*p);
	if (!accept(p, "range=[") || !parse_hex(p, start) || !accept(p, "-") ||
	    !parse_hex(p, &end))
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

/* Pages in a MiB: Linux's size note is num_pages >> MIB_PAGE_SHIFT. */
#define MIB_PAGE_SHIFT (20 - PAGE_SHIFT)

/* Checks the rest p of a dmesg line after its range: nothing, or the size
 * note "(NMB)" efi_print_memmap prints, N being the range's whole MiB.
 * Returns why not, or NULL. */
static const char *check_size_note(const char *p, uint64_t pages)
{
	uint64_t mib;

	p = skip_blank(p);
	if (*p == '\0')
		return NULL;
	if (!strcmp(p, "(invalid)"))
		return "Linux found this entry invalid and dropped it";
	if (!accept(&p, "(") || !parse_digits(&p, 10, &mib) || !accept(&p, "MB)") || *p)
		return "only a \"(NNNMB)\" size note may follow the range";
	if (mib != pages >> MIB_PAGE_SHIFT)
		return "size note does not match the range";
	return NULL;
}

/* Parses the dmesg line l (its "efi:" at e); returns the format or dies. */
static enum fmt parse_dmesg(const char *l, const char *e, unsigned long line)
{
	const char *p = skip_blank(e + 4), *why;
	uint64_t idx, start, pages, attr = 0, v;
	uint32_t type;
	enum fmt f;

	if (!accept(&p, "mem") || !parse_digits(&p, 10, &idx) || !accept(&p, ":"))
		die_line(line, "expected \"efi: memNN:\"", l);
	p = skip_blank(p);
	if (accept(&p, "type=")) {
		if (!parse_digits(&p, 10, &v) || v > UINT32_MAX || !accept(&p, ","))
			die_line(line, "bad type=N,", l);
		type = (uint32_t)v;
		p = skip_blank(p);
		if (!accept(&p, "attr=") || !parse_hex(&p, &attr) || !accept(&p, ","))
			die_line(line, "bad attr=0x...,", l);
		f = FMT_DMESG_TYPE;
	} else if (*p == '[') {
		why = parse_linux_type(&p, &type, &attr);
		if (why)
			die_line(line, why, l);
		f = FMT_DMESG_NAME;
	} else {
		die_line(line, "expected type= or [name|attributes]", l);
	}
	why = parse_range(&p, &start, &pages);
	if (!why)
		why = check_size_note(p, pages);
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

/* Returns 1 if s[0..n) is all digits of base and fits 64 bits (into *v). */
static int digits_only(const char *s, size_t n, int base, uint64_t *v)
{
	const char *t = s;
	return parse_digits(&t, base, v) && t == s + n;
}

/* Parses ,"<hex>" at *p into *v: hex digits only, as the shell writes them
 * (upper case, no 0x; lower case is taken too). */
static int sfo_hex(const char **p, uint64_t *v)
{
	const char *s;
	size_t n;

	if (!accept(p, ","))
		return 0;
	s = sfo_field(p, &n);
	return s && digits_only(s, n, 16, v);
}

/* Looks up the -sfo type name s[0..n) into *type: a name the EDK II shell
 * prints, or "Type<hex digits>", our own spelling of a type it does not
 * name.  Returns 0 if it is neither. */
static int sfo_type(const char *s, size_t n, uint32_t *type)
{
	uint64_t v;

	for (uint32_t t = 0; memmap_efi_type_name(t); t++)
		if (name_is(s, n, memmap_efi_type_name(t))) {
			*type = t;
			return 1;
		}
	if (n <= 4 || strncmp(s, "Type", 4) != 0 || !digits_only(s + 4, n - 4, 16, &v) ||
	    v > UINT32_MAX)
		return 0;
	*type = (uint32_t)v;
	return 1;
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
	if (!sfo_type(name, n, &type))
		die_line(line, "unknown memory type name", l);
	if (!sfo_hex(&p, &start) || !sfo_hex(&p, &last) || !sfo_hex(&p, &pages) ||
	    !sfo_hex(&p, &attr))
		die_line(line, "expected \"start\",\"end\",\"pages\",\"attributes\" in hex", l);
	if (*skip_blank(p))
		die_line(line, "junk after the attributes field", l);
	/* The shell prints end = start + pages * 4096 - 1: they must agree. */
	if (pages > (UINT64_MAX >> PAGE_SHIFT))
		die_line(line, "page count too large", l);
	if (pages && (pages << PAGE_SHIFT) - 1 > UINT64_MAX - start)
		die_line(line, "range wraps past 2^64", l);
	if (start + (pages << PAGE_SHIFT) - 1 != last)
		die_line(line, "end does not match start + pages", l);
	add_desc(type, start, pages, attr);
}

/* Checks the -sfo line l that names the command: ShellCommand,"memmap". */
static void check_sfo_command(const char *l, unsigned long line)
{
	const char *p = l + strlen("ShellCommand,"), *s;
	size_t n;

	s = sfo_field(&p, &n);
	if (!s || !name_is(s, n, "memmap") || *p)
		die_line(line, "expected ShellCommand,\"memmap\"", l);
}

/* Checks the -sfo summary line l: MemoryMapSummary, then quoted decimal byte
 * counts separated by ',' (the shell writes ", " before the last one).  Its
 * figures are not compared with the entries: the shell counts descriptors
 * of types it does not list. */
static void check_sfo_summary(const char *l, unsigned long line)
{
	const char *p = l + strlen("MemoryMapSummary,"), *s;
	uint64_t v;
	size_t n;

	do {
		p = skip_blank(p);
		s = sfo_field(&p, &n);
		if (!s || !digits_only(s, n, 10, &v))
			die_line(line, "expected MemoryMapSummary,\"<bytes>\",...", l);
	} while (accept(&p, ","));
	if (*p)
		die_line(line, "junk after the summary", l);
}

/* Cuts the line at *pos off the text ending at end: puts a NUL where its
 * line end (\n, \r\n or a lone \r) was - text[len] is already NUL - and
 * moves *pos to the next line.  Returns the line's length. */
static size_t next_line(char **pos, char *end)
{
	char *l = *pos, *e = l;

	while (e < end && *e != '\n' && *e != '\r')
		e++;
	*pos = e;
	if (e < end)
		*pos += (*e == '\r' && e + 1 < end && e[1] == '\n') ? 2 : 1;
	*e = '\0';
	return (size_t)(e - l);
}

/* Parses every line of text[0..len) (NUL-terminated at text[len]); dies on
 * the first bad one. */
static void parse_text(char *text, size_t len)
{
	enum fmt fmt = FMT_NONE, f;
	unsigned long line = 0;
	char *pos = text, *end = text + len;

	while (pos < end) {
		char *l = pos;
		size_t n = next_line(&pos, end);
		line++;
		if (memchr(l, '\0', n))
			die_line(line, "NUL byte in the line", l);
		while (n > 0 && (l[n - 1] == ' ' || l[n - 1] == '\t'))
			l[--n] = '\0';
		const char *s = skip_blank(l), *e;
		if (*s == '\0')
			continue;
		if (!strncmp(s, "ShellCommand,", 13)) {
			check_sfo_command(s, line);
			f = FMT_SFO;
		} else if (!strncmp(s, "MemoryMapSummary,", 17)) {
			check_sfo_summary(s, line);
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
	parse_text(text, len);

	uint64_t raw_size = ndescs * sizeof(*descs);
	size_t cap = 2 * ndescs + 2;
	struct mm_region *out = calloc(cap, sizeof(*out));
	uint64_t scratch_len = MEMMAP_SCRATCH_LEN(ndescs, 0);
	struct memmap_cp *scratch = calloc(scratch_len, sizeof(*scratch));
	if (!out || !scratch) {
		perror("memmap");
		return 2;
	}
	memmap_print_raw(descs, raw_size, sizeof(*descs));
	int st = memmap_sanitize(descs, raw_size, sizeof(*descs), NULL, 0, scratch, scratch_len,
				 out, cap, &count);
	if (st != MM_OK) {
		fprintf(stderr, "memmap: memmap_sanitize: %s\n", mm_status_str(st));
		return 1;
	}
	memmap_print(out, count);
	uint64_t reliable;
	st = memmap_reliable_bytes(descs, raw_size, sizeof(*descs), out, count, scratch,
				   scratch_len, &reliable);
	if (st != MM_OK) {
		fprintf(stderr, "memmap: memmap_reliable_bytes: %s\n", mm_status_str(st));
		return 1;
	}
	memmap_print_reliable(reliable);
	free(scratch);
	free(out);
	free(buf);
	free(descs);
	if (f != stdin)
		fclose(f);
	return 0;
}
