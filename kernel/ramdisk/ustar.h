/*
 * kernel/ramdisk/ustar.h - a read-only walker for USTAR (POSIX.1-1988 tar) archives
 * held in memory: the memboot ramdisk.
 *
 * Portable and freestanding like kernel/acpi/acpi.c: it reads only the bytes it
 * is given, so the kernel (the mapped ramdisk) and the host tests share it.
 *
 * Archive layout: a sequence of 512-byte blocks.  Each entry is a header
 * block, then its data rounded up to whole blocks; the archive ends with two
 * all-zero blocks (anything after them, such as tar's padding to a 10 KiB
 * record, is ignored).  Every header is checked before it is believed:
 *   - its checksum (the byte sum of the header with the checksum field read
 *     as eight spaces, stored in octal; signed sums, which old tars wrote,
 *     are accepted too);
 *   - the "ustar" magic;
 *   - the octal size field, and that header + data fit in the archive.
 * A missing terminator (the archive just stops, or a lone zero block) is an
 * error too.  Every error carries the name of the entry it concerns, so the
 * caller can say which file is broken and carry on.
 */
#ifndef KERNEL_USTAR_H
#define KERNEL_USTAR_H

#include <stdint.h>

#define USTAR_BLOCK    512
/* prefix (155) + '/' + name (100) + NUL */
#define USTAR_NAME_MAX 257

enum ustar_status {
	USTAR_OK = 0,          /* an entry was returned */
	USTAR_END,             /* the two-zero-block terminator was reached */
	USTAR_E_CHECKSUM,      /* header checksum does not match */
	USTAR_E_MAGIC,         /* checksum fine but not a ustar header */
	USTAR_E_SIZE_FIELD,    /* size field is not octal (or base-256) */
	USTAR_E_PAST_END,      /* the entry's data runs past the archive */
	USTAR_E_NO_TERMINATOR, /* archive ends without two zero blocks */
	USTAR_STATUS_COUNT
};

const char *ustar_status_str(enum ustar_status st);

#define USTAR_TYPE_FILE  '0'   /* also '\0' in old archives */
#define USTAR_TYPE_DIR   '5'

struct ustar_entry {
	char     name[USTAR_NAME_MAX]; /* prefix/name, "./" stripped, printable */
	uint64_t size;          /* bytes of data */
	char     type;          /* typeflag: USTAR_TYPE_FILE, USTAR_TYPE_DIR, ... */
	uint64_t offset;        /* of the header in the archive */
	const uint8_t *data;    /* size bytes (only when USTAR_OK) */
};

struct ustar {
	const uint8_t *base;
	uint64_t size;
	uint64_t off;           /* next header */
	char last[USTAR_NAME_MAX]; /* last good entry ("" before the first) */
};

/* Starts a walk over the size bytes at base. */
void ustar_open(struct ustar *u, const void *base, uint64_t size);

/* Returns the next entry in *e (USTAR_OK), USTAR_END, or an error; on an
 * error e->name and e->offset name the entry concerned (for
 * USTAR_E_NO_TERMINATOR: the last good entry) and the walk stays stopped. */
enum ustar_status ustar_next(struct ustar *u, struct ustar_entry *e);

/* 1 if e is a regular file. */
int ustar_is_file(const struct ustar_entry *e);

/* Finds the regular file called name.  Returns USTAR_OK, USTAR_END (not in
 * the archive) or the error that stopped the walk first. */
enum ustar_status ustar_find(const void *base, uint64_t size, const char *name,
			     struct ustar_entry *out);

/* Prints `<tag>: file <name> size=<bytes>` per regular file, then either
 * `<tag>: <n> files, <bytes> bytes, checksums ok` or
 * `<tag>: error: <status> at entry "<name>" (offset <n>)`.  Returns the
 * status that ended the walk (USTAR_END when all is well). */
enum ustar_status ustar_list(const void *base, uint64_t size, const char *tag);

/* Prints a text file line by line as `<tag>: <name>: <line>`; bytes outside
 * printable ASCII print as '.', lines longer than 120 bytes are split. */
void ustar_print_text(const struct ustar_entry *e, const char *tag);

#endif
