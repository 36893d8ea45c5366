/*
 * Rate limits per API key (a token bucket each): every request thread of
 * tallyd shares one table, so a key gets its rate whichever worker
 * serves it.  Only authenticated keys have a bucket, so the table grows
 * with the keys an operator created, never with what clients send.
 */
#ifndef TALLY_RATELIMIT_H
#define TALLY_RATELIMIT_H

#include <stdint.h>

struct ratelimit;

/* per_second 0 turns limiting off.  Returns 0, or -1 out of memory. */
int	ratelimit_open(struct ratelimit **, unsigned per_second,
	    unsigned burst);
/*
 * The same, with its buckets in files in dir (made if missing), for
 * processes that each serve one request (CGI): they share the buckets.
 */
int	ratelimit_open_shared(struct ratelimit **, unsigned per_second,
	    unsigned burst, const char *dir);
void	ratelimit_close(struct ratelimit *);
/*
 * Takes one token of key's bucket at now_ms: 0 if there was one, else
 * the whole seconds until there is (at least 1).
 */
long long ratelimit_take(struct ratelimit *, const char *key, int64_t now_ms);

#endif
