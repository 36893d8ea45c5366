#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ratelimit.h"

#define BUCKETS		1024
#define KEY_MAX		40	/* a key's public id */

/* A bucket's level, in memory or, shared, as its file's bytes. */
struct level {
	double		 tokens;
	int64_t		 at_ms;		/* when tokens was last brought up */
};

struct bucket {
	char		 key[KEY_MAX + 1];
	struct level	 level;
	struct bucket	*next;
};

struct ratelimit {
	pthread_mutex_t	 lock;
	double		 per_ms;
	double		 burst;
	char		 dir[1024];	/* shared: a file per bucket; or "" */
	struct bucket	*table[BUCKETS];
};

int
ratelimit_open(struct ratelimit **out, unsigned per_second, unsigned burst)
{
	struct ratelimit	*rl;

	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return -1;
	pthread_mutex_init(&rl->lock, NULL);
	rl->per_ms = per_second / 1000.0;
	rl->burst = burst > per_second ? burst : per_second;
	*out = rl;
	return 0;
}

int
ratelimit_open_shared(struct ratelimit **out, unsigned per_second,
    unsigned burst, const char *dir)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -1;
	if (ratelimit_open(out, per_second, burst) < 0)
		return -1;
	snprintf((*out)->dir, sizeof((*out)->dir), "%s", dir);
	return 0;
}

void
ratelimit_close(struct ratelimit *rl)
{
	struct bucket	*b, *next;
	size_t		 i;

	if (rl == NULL)
		return;
	for (i = 0; i < BUCKETS; i++)
		for (b = rl->table[i]; b != NULL; b = next) {
			next = b->next;
			free(b);
		}
	pthread_mutex_destroy(&rl->lock);
	free(rl);
}

/* FNV-1a: keys are random ids, any spread will do. */
static size_t
ratelimit_slot(const char *key)
{
	uint32_t	h = 2166136261u;

	while (*key != '\0')
		h = (h ^ (uint8_t)*key++) * 16777619u;
	return h % BUCKETS;
}

/* The key's bucket, made full on first use; NULL out of memory. */
static struct bucket *
ratelimit_bucket(struct ratelimit *rl, const char *key, int64_t now_ms)
{
	struct bucket	**slot = &rl->table[ratelimit_slot(key)], *b;

	for (b = *slot; b != NULL; b = b->next)
		if (strcmp(b->key, key) == 0)
			return b;
	if (strlen(key) > KEY_MAX || (b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	memcpy(b->key, key, strlen(key) + 1);
	b->level.tokens = rl->burst;
	b->level.at_ms = now_ms;
	b->next = *slot;
	*slot = b;
	return b;
}

/* Brings a level up to now_ms and takes a token: 0, or the seconds to wait. */
static long long
ratelimit_level_take(const struct ratelimit *rl, struct level *l,
    int64_t now_ms)
{
	if (now_ms > l->at_ms) {
		l->tokens += (double)(now_ms - l->at_ms) * rl->per_ms;
		if (l->tokens > rl->burst)
			l->tokens = rl->burst;
		l->at_ms = now_ms;
	}
	if (l->tokens >= 1.0) {
		l->tokens -= 1.0;
		return 0;
	}
	return (long long)((1.0 - l->tokens) / rl->per_ms / 1000.0) + 1;
}

/*
 * A shared table's bucket: the file dir/KEY, locked while it is read and
 * written, so processes that each serve one request (CGI) draw from the
 * same bucket.  A key is a public id (letters, digits, '_'): nothing
 * else names a file.  What cannot be read or written limits nothing.
 */
static long long
ratelimit_file_take(const struct ratelimit *rl, const char *key,
    int64_t now_ms)
{
	struct level	 l;
	char		 path[sizeof(rl->dir) + KEY_MAX + 2];
	long long	 wait = 0;
	int		 fd;

	if (strlen(key) > KEY_MAX || key[strspn(key, "abcdefghijklmnopqrstuvw"
	    "xyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")] != '\0')
		return 0;
	snprintf(path, sizeof(path), "%s/%s", rl->dir, key);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return 0;
	if (flock(fd, LOCK_EX) == 0) {
		if (pread(fd, &l, sizeof(l), 0) != (ssize_t)sizeof(l)) {
			l.tokens = rl->burst;
			l.at_ms = now_ms;
		}
		wait = ratelimit_level_take(rl, &l, now_ms);
		if (pwrite(fd, &l, sizeof(l), 0) != (ssize_t)sizeof(l))
			wait = 0;
	}
	close(fd);
	return wait;
}

long long
ratelimit_take(struct ratelimit *rl, const char *key, int64_t now_ms)
{
	struct bucket	*b;
	long long	 wait = 0;

	if (rl == NULL || rl->per_ms == 0)
		return 0;
	if (rl->dir[0] != '\0')
		return ratelimit_file_take(rl, key, now_ms);
	pthread_mutex_lock(&rl->lock);
	if ((b = ratelimit_bucket(rl, key, now_ms)) != NULL)
		wait = ratelimit_level_take(rl, &b->level, now_ms);
	pthread_mutex_unlock(&rl->lock);
	return wait;
}
