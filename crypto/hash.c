#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "hash.h"

int
hash_sha256(const void *data, size_t len, uint8_t out[HASH_LEN])
{
	unsigned int	outlen = 0;

	if (EVP_Digest(data, len, out, &outlen, EVP_sha256(), NULL) != 1 ||
	    outlen != HASH_LEN)
		return -1;
	return 0;
}

int
hash_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}
