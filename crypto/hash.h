/* SHA-256, HMAC-SHA256 and constant-time comparison, through OpenSSL's EVP interface. */
#ifndef TALLY_HASH_H
#define TALLY_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_LEN	32	/* SHA-256 digest size */

/* Returns 0, or -1 if OpenSSL fails (out of memory). */
int	hash_sha256(const void *data, size_t len, uint8_t out[HASH_LEN]);
/*
 * HMAC-SHA256 of the concatenation of n parts under key (webhook
 * signatures).  Returns 0, or -1 if OpenSSL fails.
 */
struct iovec;
int	hash_hmac_sha256(const void *key, size_t keylen,
	    const struct iovec *parts, int n, uint8_t out[HASH_LEN]);
/* 1 if the buffers are equal; time depends only on len, not on content. */
int	hash_equal(const void *a, const void *b, size_t len);

#endif
