/*
 * tests/host/test_sha256.c - efi/sha256.c against the NIST example vectors
 * (FIPS 180-4 examples, SHA256.pdf) and against coreutils' sha256sum on
 * files of every length around the block and padding boundaries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/host/harness.h"
#include "efi/sha256.h"

/* Writes the lower-case hex of digest d to out (65 bytes). */
static void hex(const uint8_t d[SHA256_DIGEST_SIZE], char *out)
{
	for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

/* The NIST examples.  Expect: each digest as published. */
static void test_nist_vectors(void)
{
	static const struct { const char *msg, *digest; } v[] = {
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
		{"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		 "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
	};
	uint8_t d[SHA256_DIGEST_SIZE];
	char h[65];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		sha256(v[i].msg, strlen(v[i].msg), d);
		hex(d, h);
		CHECK(!strcmp(h, v[i].digest), "\"%s\": %s", v[i].msg, h);
	}
}

/* One million 'a', fed in 997-byte pieces.  Expect: the NIST digest. */
static void test_million_a(void)
{
	static char buf[997];
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_SIZE];
	char h[65];
	size_t left = 1000000;

	memset(buf, 'a', sizeof(buf));
	sha256_init(&ctx);
	while (left) {
		size_t n = left < sizeof(buf) ? left : sizeof(buf);
		sha256_update(&ctx, buf, n);
		left -= n;
	}
	sha256_final(&ctx, d);
	hex(d, h);
	CHECK(!strcmp(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"), "%s", h);
}

/* Fills buf with n bytes of a fixed pseudo-random sequence (xorshift). */
static void fill(uint8_t *buf, size_t n, uint32_t seed)
{
	uint32_t x = seed | 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13; x ^= x >> 17; x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
}

/* Returns sha256sum's hex digest of the n bytes at data in out, via a
 * temporary file; returns 0, or -1 if sha256sum could not be run. */
static int sha256sum_of(const uint8_t *data, size_t n, char out[65])
{
	char path[] = "/tmp/test_sha256.XXXXXX", cmd[64];
	int fd = mkstemp(path), rc = -1;

	if (fd < 0)
		return -1;
	if (write(fd, data, n) == (ssize_t)n) {
		snprintf(cmd, sizeof(cmd), "sha256sum %s", path);
		FILE *p = popen(cmd, "r");
		if (p && fscanf(p, "%64s", out) == 1)
			rc = 0;
		if (p)
			pclose(p);
	}
	close(fd);
	unlink(path);
	return rc;
}

/*
 * Lengths 0..130 (one byte short of, at and past the 55/56-byte padding
 * edge and the 64-byte block, twice) and two larger files.
 * Expect: the same digest as sha256sum.
 */
static void test_against_sha256sum(void)
{
	static const size_t big[] = {4095, 4096, 1000003};
	static uint8_t buf[1000003];
	uint8_t d[SHA256_DIGEST_SIZE];
	char mine[65], theirs[65];

	for (size_t n = 0; n <= 130 + sizeof(big) / sizeof(big[0]); n++) {
		size_t len = n <= 130 ? n : big[n - 131];
		fill(buf, len, (uint32_t)len);
		sha256(buf, len, d);
		hex(d, mine);
		REQUIRE(sha256sum_of(buf, len, theirs) == 0, "sha256sum did not run");
		CHECK(!strcmp(mine, theirs), "length %zu: %s, sha256sum %s", len, mine, theirs);
	}
}

/* A 200-byte message split in two at every point.  Expect: the digest of
 * the one-shot call every time. */
static void test_split_updates(void)
{
	uint8_t msg[200], one[SHA256_DIGEST_SIZE], two[SHA256_DIGEST_SIZE];
	struct sha256_ctx ctx;

	fill(msg, sizeof(msg), 7);
	sha256(msg, sizeof(msg), one);
	for (size_t k = 0; k <= sizeof(msg); k++) {
		sha256_init(&ctx);
		sha256_update(&ctx, msg, k);
		sha256_update(&ctx, msg + k, sizeof(msg) - k);
		sha256_final(&ctx, two);
		CHECK(!memcmp(one, two, sizeof(one)), "split at %zu", k);
	}
}

/* sha256_equal on equal digests and on digests differing in the first,
 * a middle and the last byte.  Expect: 1, then 0 three times. */
static void test_equal(void)
{
	uint8_t a[SHA256_DIGEST_SIZE], b[SHA256_DIGEST_SIZE];

	sha256("x", 1, a);
	memcpy(b, a, sizeof(a));
	CHECK(sha256_equal(a, b) == 1, "equal digests differ");
	for (int i = 0; i < SHA256_DIGEST_SIZE; i += 15) {
		b[i] ^= 0x01;
		CHECK(sha256_equal(a, b) == 0, "byte %d change not seen", i);
		b[i] ^= 0x01;
	}
}

int main(void)
{
	RUN(test_nist_vectors);
	RUN(test_million_a);
	RUN(test_against_sha256sum);
	RUN(test_split_updates);
	RUN(test_equal);
	return harness_done("sha256");
}
