#include <sys/uio.h>

#include <pthread.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "hash.h"

/*
 * SHA-256 fetched once: EVP_sha256() makes every digest look the
 * algorithm up again, under a lock, and a delta takes several digests.
 */
static EVP_MD		*hash_md;
static pthread_once_t	 hash_md_once = PTHREAD_ONCE_INIT;

static void
hash_md_fetch(void)
{
	hash_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

int
hash_sha256(const void *data, size_t len, uint8_t out[HASH_LEN])
{
	unsigned int	outlen = 0;

	pthread_once(&hash_md_once, hash_md_fetch);
	if (hash_md == NULL ||
	    EVP_Digest(data, len, out, &outlen, hash_md, NULL) != 1 ||
	    outlen != HASH_LEN)
		return -1;
	return 0;
}

int
hash_hmac_sha256(const void *key, size_t keylen, const struct iovec *parts,
    int n, uint8_t out[HASH_LEN])
{
	EVP_MAC		*mac;
	EVP_MAC_CTX	*ctx = NULL;
	OSSL_PARAM	 params[2];
	size_t		 outlen = 0;
	int		 i, rc = -1;

	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (ctx = EVP_MAC_CTX_new(mac)) == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(ctx, key, keylen, params) != 1)
		goto out;
	for (i = 0; i < n; i++)
		if (EVP_MAC_update(ctx, parts[i].iov_base,
		    parts[i].iov_len) != 1)
			goto out;
	if (EVP_MAC_final(ctx, out, &outlen, HASH_LEN) == 1 &&
	    outlen == HASH_LEN)
		rc = 0;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return rc;
}

int
hash_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}
