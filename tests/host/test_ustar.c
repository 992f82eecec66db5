/*
 * tests/host/test_ustar.c - the USTAR walker (kernel/ramdisk/ustar.c) on archives
 * made at test time by tools/mkinitrd.sh (the very script `make` uses for
 * esp/boot/initrd) from the repo's initrd/ folder, and on mutations of them.
 *
 * Every archive is held in a malloc'd buffer of exactly its size, so ASan
 * reports any read past the end.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/host/harness.h"
#include "kernel/ramdisk/ustar.h"

static uint8_t *archive;
static uint64_t archive_size;

/* Reads a whole file into an exact-size buffer; exits if it cannot. */
static uint8_t *read_file(const char *path, uint64_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(2);
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *buf = malloc(n ? (size_t)n : 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		exit(2);
	fclose(f);
	*size = (uint64_t)n;
	return buf;
}

/* Packs dir with tools/mkinitrd.sh into a temporary file and loads it. */
static void pack(const char *dir)
{
	char tmpl[] = "/tmp/memboot-ustar.XXXXXX";
	int fd = mkstemp(tmpl);
	if (fd < 0) {
		perror("mkstemp");
		exit(2);
	}
	close(fd);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "tools/mkinitrd.sh '%s' '%s'", dir, tmpl);
	if (system(cmd) != 0) {
		fprintf(stderr, "%s failed\n", cmd);
		exit(2);
	}
	free(archive);
	archive = read_file(tmpl, &archive_size);
	unlink(tmpl);
}

/* Offset of the header of entry name, or -1. */
static long header_of(const char *name)
{
	struct ustar u;
	struct ustar_entry e;
	ustar_open(&u, archive, archive_size);
	while (ustar_next(&u, &e) == USTAR_OK)
		if (strcmp(e.name, name) == 0)
			return (long)e.offset;
	return -1;
}

/* Rewrites the checksum of the header at off after a deliberate change. */
static void fix_header(uint8_t *h)
{
	unsigned sum = 0;
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
}

static const char *list(uint64_t size, enum ustar_status *st)
{
	uint8_t *copy = malloc(size ? size : 1);
	memcpy(copy, archive, size);
	host_capture_begin();
	*st = ustar_list(copy, size, "ramdisk");
	const char *out = host_capture_end();
	free(copy);
	return out;
}

/* The repo's initrd/: etc/version, hello.txt, motd (dirs not listed).
 * Expect: three file lines, a summary, hello.txt found with its text. */
static void test_initrd_folder(void)
{
	enum ustar_status st;
	pack("initrd");
	const char *out = list(archive_size, &st);
	CHECK(st == USTAR_END, "%s", out);
	CHECK(strstr(out, "ramdisk: file hello.txt size="), "%s", out);
	CHECK(strstr(out, "ramdisk: file etc/version size=38\n"), "%s", out);
	CHECK(strstr(out, "ramdisk: 3 files,"), "%s", out);
	CHECK(!strstr(out, "file etc/ "), "%s", out);

	struct ustar_entry e;
	REQUIRE(ustar_find(archive, archive_size, "hello.txt", &e) == USTAR_OK, "find");
	CHECK(e.size > 0 && memcmp(e.data, "Hello", 5) == 0, "content");
	host_capture_begin();
	ustar_print_text(&e, "ramdisk");
	out = host_capture_end();
	CHECK(strstr(out, "ramdisk: hello.txt: Hello from the memboot ramdisk!\n"), "%s", out);
	CHECK(ustar_find(archive, archive_size, "nope.txt", &e) == USTAR_END, "missing file");
}

/* A missing folder makes the empty archive (two zero blocks).
 * Expect: 0 files, ok. */
static void test_empty_archive(void)
{
	enum ustar_status st;
	pack("/nonexistent-memboot-dir");
	CHECK(archive_size == 1024, "size %llu", (unsigned long long)archive_size);
	const char *out = list(archive_size, &st);
	CHECK(st == USTAR_END && strstr(out, "ramdisk: 0 files, 0 bytes"), "%s", out);
	out = list(0, &st);
	CHECK(st == USTAR_E_NO_TERMINATOR, "zero-length archive: %s", out);
}

/* A flipped byte in hello.txt's header.  Expect: bad header checksum
 * naming hello.txt; the entries before it were listed. */
static void test_bad_checksum(void)
{
	enum ustar_status st;
	pack("initrd");
	long off = header_of("hello.txt");
	REQUIRE(off > 0, "hello.txt header");
	archive[off + 110] ^= 1;   /* in the mode field */
	const char *out = list(archive_size, &st);
	CHECK(st == USTAR_E_CHECKSUM, "%s", out);
	CHECK(strstr(out, "ramdisk: error: bad header checksum at entry \"hello.txt\" (offset "),
	      "%s", out);
	CHECK(strstr(out, "ramdisk: file etc/version"), "%s", out);
	CHECK(!strstr(out, "file motd"), "%s", out);
}

/* hello.txt's size set to 1 MiB (checksum fixed).  Expect: data runs past
 * the end, naming hello.txt. */
static void test_size_past_end(void)
{
	enum ustar_status st;
	pack("initrd");
	long off = header_of("hello.txt");
	REQUIRE(off > 0, "hello.txt header");
	snprintf((char *)archive + off + 124, 12, "%011o", 1u << 20);
	fix_header(archive + off);
	const char *out = list(archive_size, &st);
	CHECK(st == USTAR_E_PAST_END, "%s", out);
	CHECK(strstr(out, "at entry \"hello.txt\""), "%s", out);

	/* Largest octal size: no overflow in the block maths. */
	memcpy(archive + off + 124, "77777777777", 12);
	fix_header(archive + off);
	list(archive_size, &st);
	CHECK(st == USTAR_E_PAST_END, "huge size: %d", st);

	/* Non-octal and base-256 sizes. */
	memcpy(archive + off + 124, "0000000x222", 12);
	fix_header(archive + off);
	list(archive_size, &st);
	CHECK(st == USTAR_E_SIZE_FIELD, "non-octal: %d", st);
	memset(archive + off + 124, 0, 12);
	archive[off + 124] = 0x80;
	archive[off + 135] = 1;
	fix_header(archive + off);
	list(archive_size, &st);
	CHECK(st == USTAR_E_SIZE_FIELD, "base-256: %d", st);
}

/* The archive cut just after the last file's data (no zero blocks), after
 * one zero block, and in the middle of a header.  Expect: missing
 * terminator after "motd", or past-end / terminator errors, never a crash. */
static void test_missing_terminator(void)
{
	enum ustar_status st;
	pack("initrd");
	long off = header_of("motd");
	REQUIRE(off > 0, "motd header");
	uint64_t end = (uint64_t)off + 1024;   /* header + one data block */
	const char *out = list(end, &st);
	CHECK(st == USTAR_E_NO_TERMINATOR, "%s", out);
	CHECK(strstr(out, "after entry \"motd\""), "%s", out);
	list(end + 512, &st);
	CHECK(st == USTAR_E_NO_TERMINATOR, "one zero block: %d", st);
	list(end + 1024, &st);
	CHECK(st == USTAR_END, "two zero blocks: %d", st);

	/* A lone zero block followed by a header. */
	long v = header_of("etc/version");
	memset(archive + v, 0, 512);
	list(archive_size, &st);
	CHECK(st == USTAR_E_NO_TERMINATOR, "lone zero block: %d", st);

	/* Every truncation point: a defined status and no read past the end. */
	pack("initrd");
	for (uint64_t n = 0; n <= archive_size; n += 37) {
		list(n, &st);
		CHECK(st != USTAR_OK, "n=%llu", (unsigned long long)n);
	}
}

/* A valid checksum but no "ustar" magic (a v7 tar header). */
static void test_bad_magic(void)
{
	enum ustar_status st;
	pack("initrd");
	long off = header_of("motd");
	memset(archive + off + 257, 0, 8);
	fix_header(archive + off);
	const char *out = list(archive_size, &st);
	CHECK(st == USTAR_E_MAGIC && strstr(out, "\"motd\""), "%s", out);
}

/* A path longer than 100 bytes goes into the prefix field.  Expect: the
 * full name comes back as prefix/name. */
static void test_long_name(void)
{
	char dir[] = "/tmp/memboot-ustar-dir.XXXXXX";
	REQUIRE(mkdtemp(dir), "mkdtemp");
	char path[600], cmd[700];
	const char *sub = "a-rather-long-directory-name-for-the-prefix-field/"
			  "another-directory-level-of-the-archive/third";
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%s' && echo x > '%s/%s/file-with-a-name.txt'",
		 dir, sub, dir, sub);
	REQUIRE(system(cmd) == 0, "%s", cmd);
	pack(dir);
	snprintf(path, sizeof(path), "%s/file-with-a-name.txt", sub);
	struct ustar_entry e;
	CHECK(ustar_find(archive, archive_size, path, &e) == USTAR_OK && e.size == 2,
	      "long name %s", path);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0, "cleanup");
}

/* Status names exist and differ. */
static void test_status_names(void)
{
	for (int i = 0; i < USTAR_STATUS_COUNT; i++)
		for (int j = 0; j < i; j++)
			CHECK(strcmp(ustar_status_str(i), ustar_status_str(j)) != 0, "%d %d", i, j);
	CHECK(strcmp(ustar_status_str(USTAR_STATUS_COUNT), "unknown status") == 0, "range");
}

int main(void)
{
	RUN(test_initrd_folder);
	RUN(test_empty_archive);
	RUN(test_bad_checksum);
	RUN(test_size_past_end);
	RUN(test_missing_terminator);
	RUN(test_bad_magic);
	RUN(test_long_name);
	RUN(test_status_names);
	free(archive);
	return harness_done("ustar");
}
