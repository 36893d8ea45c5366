#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

#define BUCKETS		1024
#define KEY_MAX		40	/* a key's public id */

struct bucket {
	char		 key[KEY_MAX + 1];
	double		 tokens;
	int64_t		 at_ms;		/* when tokens was last brought up */
	struct bucket	*next;
};

struct ratelimit {
	pthread_mutex_t	 lock;
	double		 per_ms;
	double		 burst;
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
	b->tokens = rl->burst;
	b->at_ms = now_ms;
	b->next = *slot;
	*slot = b;
	return b;
}

long long
ratelimit_take(struct ratelimit *rl, const char *key, int64_t now_ms)
{
	struct bucket	*b;
	long long	 wait = 0;

	if (rl == NULL || rl->per_ms == 0)
		return 0;
	pthread_mutex_lock(&rl->lock);
	if ((b = ratelimit_bucket(rl, key, now_ms)) != NULL) {
		if (now_ms > b->at_ms) {
			b->tokens += (double)(now_ms - b->at_ms) * rl->per_ms;
			if (b->tokens > rl->burst)
				b->tokens = rl->burst;
			b->at_ms = now_ms;
		}
		if (b->tokens >= 1.0)
			b->tokens -= 1.0;
		else
			wait = (long long)((1.0 - b->tokens) / rl->per_ms /
			    1000.0) + 1;
	}
	pthread_mutex_unlock(&rl->lock);
	return wait;
}
