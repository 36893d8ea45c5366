#include <openssl/rand.h>

#include "../common/hex.h"
#include "random.h"

int
random_bytes(uint8_t *out, size_t len)
{
	return RAND_bytes(out, (int)len) == 1 ? 0 : -1;
}

int
random_hex(char *out, size_t nbytes)
{
	uint8_t	buf[64];

	if (nbytes > sizeof(buf) || random_bytes(buf, nbytes) < 0)
		return -1;
	hex_encode(buf, nbytes, out);
	return 0;
}
