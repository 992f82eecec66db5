/*
 * kernel/ramdisk/ustar.c - USTAR archive walker; see kernel/ramdisk/ustar.h.
 */
#include "kernel/ramdisk/ustar.h"
#include "lib/string.h"
#include "mm/platform.h"

/* Header field offsets and sizes (POSIX.1-1988 ustar). */
#define H_NAME      0
#define H_NAME_LEN  100
#define H_SIZE      124
#define H_SIZE_LEN  12
#define H_CHKSUM    148
#define H_CHKSUM_LEN 8
#define H_TYPE      156
#define H_MAGIC     257
#define H_PREFIX    345
#define H_PREFIX_LEN 155

/* Longest line piece ustar_print_text prints at once. */
#define TEXT_CHUNK 120

static const char *const status_names[USTAR_STATUS_COUNT] = {
	[USTAR_OK]              = "ok",
	[USTAR_END]             = "end of archive",
	[USTAR_E_CHECKSUM]      = "bad header checksum",
	[USTAR_E_MAGIC]         = "not a ustar header",
	[USTAR_E_SIZE_FIELD]    = "bad size field",
	[USTAR_E_PAST_END]      = "data runs past the end of the archive",
	[USTAR_E_NO_TERMINATOR] = "missing end-of-archive (two zero blocks)",
};

const char *ustar_status_str(enum ustar_status st)
{
	if ((unsigned)st >= USTAR_STATUS_COUNT)
		return "unknown status";
	return status_names[st];
}

/* Parses an octal field: leading blanks, octal digits, then NUL/blank or
 * the end of the field.  Returns 0 and *v, or -1 (no digits, other bytes,
 * or base-256 encoding, which GNU tar uses for sizes >= 8 GiB). */
static int octal(const uint8_t *f, unsigned len, uint64_t *v)
{
	unsigned i = 0, digits = 0;
	*v = 0;
	while (i < len && f[i] == ' ')
		i++;
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++, digits++) {
		if (*v >> 60)
			return -1;
		*v = *v * 8 + (uint64_t)(f[i] - '0');
	}
	if (digits == 0 || (i < len && f[i] != 0 && f[i] != ' '))
		return -1;
	return 0;
}

static int all_zero(const uint8_t *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

/* 1 if the header's stored checksum matches its unsigned (POSIX) or signed
 * (historic) byte sum, the checksum field counted as spaces. */
static int checksum_ok(const uint8_t *h)
{
	uint64_t stored;
	if (octal(h + H_CHKSUM, H_CHKSUM_LEN, &stored) != 0)
		return 0;
	uint32_t usum = 0;
	int32_t ssum = 0;
	for (unsigned i = 0; i < USTAR_BLOCK; i++) {
		uint8_t c = (i >= H_CHKSUM && i < H_CHKSUM + H_CHKSUM_LEN) ? ' ' : h[i];
		usum += c;
		ssum += (int8_t)c;
	}
	return stored == usum || (int64_t)stored == ssum;
}

/* Appends the printable bytes of a NUL-padded field to dst (at *pos). */
static void append_field(char *dst, unsigned *pos, const uint8_t *f, unsigned len)
{
	for (unsigned i = 0; i < len && f[i] && *pos < USTAR_NAME_MAX - 1; i++)
		dst[(*pos)++] = (f[i] >= 0x20 && f[i] < 0x7f) ? (char)f[i] : '?';
	dst[*pos] = 0;
}

/* Builds "prefix/name" from a header, without a leading "./". */
static void header_name(const uint8_t *h, char *dst)
{
	unsigned pos = 0;
	dst[0] = 0;
	if (h[H_PREFIX]) {
		append_field(dst, &pos, h + H_PREFIX, H_PREFIX_LEN);
		if (pos < USTAR_NAME_MAX - 1)
			dst[pos++] = '/';
		dst[pos] = 0;
	}
	append_field(dst, &pos, h + H_NAME, H_NAME_LEN);
	if (dst[0] == '.' && dst[1] == '/')
		memmove(dst, dst + 2, strlen(dst + 2) + 1);
}

void ustar_open(struct ustar *u, const void *base, uint64_t size)
{
	u->base = base;
	u->size = size;
	u->off = 0;
	u->last[0] = 0;
}

/* Records an error: the walk stops at the end of the archive. */
static enum ustar_status fail(struct ustar *u, enum ustar_status st)
{
	u->off = u->size;
	return st;
}

enum ustar_status ustar_next(struct ustar *u, struct ustar_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->offset = u->off;
	uint64_t left = u->size - u->off;

	if (left < USTAR_BLOCK || all_zero(u->base + u->off, USTAR_BLOCK)) {
		/* The end: must be two whole zero blocks. */
		memcpy(e->name, u->last, sizeof(e->name));
		if (left >= 2 * USTAR_BLOCK && all_zero(u->base + u->off, 2 * USTAR_BLOCK))
			return fail(u, USTAR_END);
		return fail(u, USTAR_E_NO_TERMINATOR);
	}

	const uint8_t *h = u->base + u->off;
	header_name(h, e->name);
	e->type = (char)h[H_TYPE];
	if (!checksum_ok(h))
		return fail(u, USTAR_E_CHECKSUM);
	if (memcmp(h + H_MAGIC, "ustar", 5) != 0)
		return fail(u, USTAR_E_MAGIC);
	if (octal(h + H_SIZE, H_SIZE_LEN, &e->size) != 0)
		return fail(u, USTAR_E_SIZE_FIELD);

	/* size < 2^63 after octal(); the padded data is at most that + 511. */
	uint64_t data_blocks = e->size / USTAR_BLOCK + (e->size % USTAR_BLOCK != 0);
	if (data_blocks > (left - USTAR_BLOCK) / USTAR_BLOCK)
		return fail(u, USTAR_E_PAST_END);

	e->data = h + USTAR_BLOCK;
	u->off += USTAR_BLOCK + data_blocks * USTAR_BLOCK;
	memcpy(u->last, e->name, sizeof(u->last));
	return USTAR_OK;
}

int ustar_is_file(const struct ustar_entry *e)
{
	return e->type == USTAR_TYPE_FILE || e->type == 0;
}

enum ustar_status ustar_find(const void *base, uint64_t size, const char *name,
			     struct ustar_entry *out)
{
	struct ustar u;
	enum ustar_status st;
	ustar_open(&u, base, size);
	while ((st = ustar_next(&u, out)) == USTAR_OK) {
		if (ustar_is_file(out) && strlen(out->name) == strlen(name) &&
		    memcmp(out->name, name, strlen(name)) == 0)
			return USTAR_OK;
	}
	return st;
}

enum ustar_status ustar_list(const void *base, uint64_t size, const char *tag)
{
	struct ustar u;
	struct ustar_entry e;
	enum ustar_status st;
	unsigned files = 0;
	uint64_t bytes = 0;

	ustar_open(&u, base, size);
	while ((st = ustar_next(&u, &e)) == USTAR_OK) {
		if (!ustar_is_file(&e))
			continue;
		mm_printf("%s: file %s size=%llu\n", tag, e.name, (unsigned long long)e.size);
		files++;
		bytes += e.size;
	}
	if (st == USTAR_END) {
		mm_printf("%s: %u files, %llu bytes, checksums ok\n", tag, files,
			  (unsigned long long)bytes);
	} else if (st == USTAR_E_NO_TERMINATOR) {
		mm_printf("%s: error: %s after entry \"%s\" (offset %llu)\n", tag,
			  ustar_status_str(st), e.name, (unsigned long long)e.offset);
	} else {
		mm_printf("%s: error: %s at entry \"%s\" (offset %llu)\n", tag,
			  ustar_status_str(st), e.name, (unsigned long long)e.offset);
	}
	return st;
}

void ustar_print_text(const struct ustar_entry *e, const char *tag)
{
	char line[TEXT_CHUNK + 1];
	unsigned n = 0;
	for (uint64_t i = 0; i < e->size; i++) {
		uint8_t c = e->data[i];
		if (c != '\n')
			line[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '.';
		if (c == '\n' || n == TEXT_CHUNK || i + 1 == e->size) {
			line[n] = 0;
			if (n || c == '\n')
				mm_printf("%s: %s: %s\n", tag, e->name, line);
			n = 0;
		}
	}
}
