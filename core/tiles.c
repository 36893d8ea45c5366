#include <stdint.h>
#include <string.h>

#include "tiles.h"

/* Why the read below ends other than with a store code. */
enum tiles_stop {
	TILES_STOP_NO_HEAD = STORE_USER,
	TILES_STOP_BEYOND_HEAD
};

/* A decimal lo..hi of len digits without a leading zero; -1 if not. */
static int
tiles_decimal(const char *s, size_t len, unsigned lo, unsigned hi,
    unsigned *out)
{
	unsigned	v = 0;
	size_t		i;

	if (len == 0 || len > 3 || (s[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* Three digits, into *n * 1000 + them; -1 if not, or on overflow. */
static int
tiles_group(const char *s, uint64_t *n)
{
	uint64_t	d;

	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' ||
	    s[2] < '0' || s[2] > '9')
		return -1;
	d = (uint64_t)(s[0] - '0') * 100 + (uint64_t)(s[1] - '0') * 10 +
	    (uint64_t)(s[2] - '0');
	if (*n > (UINT64_MAX - d) / 1000)
		return -1;
	*n = *n * 1000 + d;
	return 0;
}

int
tiles_path_parse(const char *path, struct tiles_ref *ref)
{
	const char	*p, *slash;
	int		 first = 1;

	memset(ref, 0, sizeof(*ref));
	if ((slash = strchr(path, '/')) == NULL ||
	    tiles_decimal(path, (size_t)(slash - path), 0, TILES_LEVEL_MAX,
	    &ref->level) < 0)
		return -1;
	/* "xDDD/" groups, then the last "DDD", alone or with ".p/<W>". */
	for (p = slash + 1; p[0] == 'x'; p += 5, first = 0) {
		if (tiles_group(p + 1, &ref->index) < 0 || p[4] != '/' ||
		    (first && ref->index == 0))
			return -1;
	}
	if (tiles_group(p, &ref->index) < 0)
		return -1;
	p += 3;
	ref->width = TILES_WIDTH;
	if (*p == '\0')
		return 0;
	if (strncmp(p, ".p/", 3) != 0)
		return -1;
	p += 3;
	return tiles_decimal(p, strlen(p), 1, TILES_WIDTH - 1, &ref->width);
}

struct tiles_read {
	const struct tiles_ref	*ref;
	uint8_t			*out;
};

static int
tiles_read_txn(struct store_txn *t, void *arg)
{
	struct tiles_read	*r = arg;
	const struct tiles_ref	*ref = r->ref;
	struct store_sth	 head;
	uint64_t		 nodes;
	unsigned		 shift = ref->level * TILES_HEIGHT;
	int			 rc;

	if ((rc = store_sth_latest(t, &head)) != STORE_OK)
		return rc == STORE_NOTFOUND ? TILES_STOP_NO_HEAD : rc;
	/* The complete subtrees of height 8·L in the signed tree. */
	nodes = shift >= 64 ? 0 : head.size >> shift;
	if (ref->index > nodes / TILES_WIDTH ||
	    ref->index * TILES_WIDTH + ref->width > nodes)
		return TILES_STOP_BEYOND_HEAD;
	rc = store_node_range(t, shift, ref->index * TILES_WIDTH, ref->width,
	    r->out);
	/* The head says these nodes exist: one missing is damage. */
	return rc == STORE_NOTFOUND ? STORE_CORRUPT : rc;
}

enum tiles_result
tiles_read(struct store *st, const struct tiles_ref *ref,
    uint8_t out[TILES_FULL_LEN])
{
	struct tiles_read	r = { ref, out };

	switch (store_read(st, tiles_read_txn, &r)) {
	case STORE_OK:
		return TILES_OK;
	case TILES_STOP_NO_HEAD:
		return TILES_NO_HEAD;
	case TILES_STOP_BEYOND_HEAD:
		return TILES_BEYOND_HEAD;
	default:
		return TILES_FAILED;
	}
}
