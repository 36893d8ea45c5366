#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "../common/hex.h"
#include "random.h"

/*
 * Each thread draws from a pool of its own, filled from OpenSSL's
 * generator RANDOM_POOL bytes at a time: a call to RAND_bytes costs a
 * getpid() system call (OpenSSL's fork check) and its locks, and every
 * request wants random bytes (its id, an emit's ids and salt), so a
 * request now makes that call once in ~30.  A byte handed out is wiped
 * from the pool, so none is handed out twice, nor kept once used.  A
 * forked child empties its pool (random_forked) before it draws: else
 * it would hand out the parent's next bytes.  Requests larger than the
 * pool go straight to the generator.
 */
#define RANDOM_POOL	512

static __thread uint8_t	random_pool[RANDOM_POOL];
static __thread size_t	random_left;	/* unused bytes at the pool's end */
static pthread_once_t	random_once = PTHREAD_ONCE_INIT;

/* In the child, in the one thread fork() left: the thread that forked. */
static void
random_forked(void)
{
	OPENSSL_cleanse(random_pool, sizeof(random_pool));
	random_left = 0;
}

static void
random_init(void)
{
	(void)pthread_atfork(NULL, NULL, random_forked);
}

int
random_bytes(uint8_t *out, size_t len)
{
	uint8_t	*from;

	pthread_once(&random_once, random_init);
	if (len > RANDOM_POOL)
		return RAND_bytes(out, (int)len) == 1 ? 0 : -1;
	if (len > random_left) {
		random_left = 0;
		if (RAND_bytes(random_pool, RANDOM_POOL) != 1)
			return -1;
		random_left = RANDOM_POOL;
	}
	from = random_pool + RANDOM_POOL - random_left;
	memcpy(out, from, len);
	OPENSSL_cleanse(from, len);
	random_left -= len;
	return 0;
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
