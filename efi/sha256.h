/*
 * efi/sha256.h - SHA-256 (FIPS 180-4), portable freestanding C.
 *
 * The loader hashes kernel.elf and the initrd with it and compares the
 * digests with the ones pinned at build time (build/pins.h, written by
 * tools/pin-hashes.sh).  Builds for the loader (PE32+, Windows ABI), the
 * kernel and the host alike: fixed-width types only, no library calls.
 */
#ifndef EFI_SHA256_H
#define EFI_SHA256_H

#include <stdint.h>
#include <stddef.h>

#define SHA256_DIGEST_SIZE 32   /* bytes of a digest */
#define SHA256_BLOCK_SIZE  64   /* bytes the compression function takes */

struct sha256_ctx {
	uint32_t h[8];                      /* chaining state H0..H7 */
	uint64_t len;                       /* message bytes hashed so far */
	uint8_t buf[SHA256_BLOCK_SIZE];     /* partial block */
	uint32_t buf_len;                   /* bytes in buf, < SHA256_BLOCK_SIZE */
};

/* Starts a new hash in ctx. */
void sha256_init(struct sha256_ctx *ctx);

/* Adds n bytes at data to the hash; any split of a message gives the same
 * digest. */
void sha256_update(struct sha256_ctx *ctx, const void *data, size_t n);

/* Pads the message, writes the digest to out and leaves ctx unusable until
 * the next sha256_init. */
void sha256_final(struct sha256_ctx *ctx, uint8_t out[SHA256_DIGEST_SIZE]);

/* Hashes n bytes at data in one call. */
void sha256(const void *data, size_t n, uint8_t out[SHA256_DIGEST_SIZE]);

/* Returns 1 if digests a and b are equal, else 0; the time taken does not
 * depend on where they differ. */
int sha256_equal(const uint8_t a[SHA256_DIGEST_SIZE], const uint8_t b[SHA256_DIGEST_SIZE]);

#endif
