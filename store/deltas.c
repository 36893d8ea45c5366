/* Deltas and idempotency records. */
#include <stdlib.h>
#include <string.h>

#include "../common/grow.h"
#include "internal.h"
#include "pack.h"

#define DELTA_VERSION		1
#define IDEM_VERSION		1

void
store_delta_free(struct store_delta *d)
{
	free(d->metadata);
	free(d->leaf_data);
	d->metadata = d->leaf_data = NULL;
}

/*
 * One past the last index: the deltas are the log's only record of its
 * size, so an append writes nothing else.  (Data directories made before
 * keep a stale "log.size" in meta.db, which nothing reads.)
 */
int
store_log_size(struct store_txn *t, uint64_t *size)
{
	uint8_t	key[8];
	size_t	klen;
	int	rc;

	*size = 0;
	rc = store_kv_last_key(t, STORE_DB_DELTAS, key, sizeof(key), &klen);
	if (rc == STORE_NOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	if (klen != sizeof(key))
		return STORE_CORRUPT;
	*size = be64_get(key) + 1;
	return STORE_OK;
}

static void
delta_pack(struct pack *pk, const struct store_delta *d)
{
	pack_u8(pk, DELTA_VERSION);
	pack_str(pk, d->record_id);
	pack_str(pk, d->receipt_id);
	pack_str(pk, d->tenant);
	pack_u8(pk, (uint8_t)d->env);
	pack_str(pk, d->customer_id);
	pack_u64(pk, d->seq);
	pack_str(pk, d->delta);
	pack_str(pk, d->reason);
	pack_u8(pk, (uint8_t)(d->has_reference != 0));
	pack_str(pk, d->reference_id);
	pack_u8(pk, (uint8_t)(d->metadata != NULL));
	pack_blob(pk, d->metadata ? d->metadata : "",
	    d->metadata ? strlen(d->metadata) : 0);
	pack_str(pk, d->adjusts);
	pack_u64(pk, (uint64_t)d->created_ms);
	pack_u8(pk, (uint8_t)d->status);
	pack_u64(pk, (uint64_t)d->verified_ms);
	pack_bytes(pk, d->salt, STORE_HASH_LEN);
	pack_bytes(pk, d->content_hash, STORE_HASH_LEN);
	pack_bytes(pk, d->leaf_hash, STORE_HASH_LEN);
	pack_blob(pk, d->leaf_data, d->leaf_len);
}

/*
 * A record's first fields, as far as the customer's sequence: its
 * version, its two ids, who the delta is of.  The buffers are sized as
 * struct store_delta's; an error is in u->err.
 */
static int
delta_unpack_who(struct unpack *u, char record_id[STORE_ID_MAX + 1],
    char receipt_id[STORE_ID_MAX + 1], char tenant[STORE_TENANT_MAX + 1],
    uint8_t *env, char customer_id[STORE_CUSTOMER_MAX + 1], uint64_t *seq)
{
	if (unpack_u8(u) != DELTA_VERSION)
		return STORE_CORRUPT;
	unpack_str(u, record_id, STORE_ID_MAX + 1);
	unpack_str(u, receipt_id, STORE_ID_MAX + 1);
	unpack_str(u, tenant, STORE_TENANT_MAX + 1);
	*env = unpack_u8(u);
	unpack_str(u, customer_id, STORE_CUSTOMER_MAX + 1);
	*seq = unpack_u64(u);
	return STORE_OK;
}

/*
 * A run's scratch, which the metadata and leaf data of the delta its
 * last store_delta_run_get unpacked are borrowed from.
 */
struct delta_blobs {
	char	*buf;
	size_t	 cap;
};

/*
 * The record's metadata (NULL: none) and leaf data, NUL-terminated, into
 * d: into blobs when given, else each into a buffer of its own, which
 * store_delta_free frees.
 */
static int
delta_unpack_blobs(struct store_delta *d, const uint8_t *meta,
    size_t meta_len, const uint8_t *leaf, size_t leaf_len,
    struct delta_blobs *blobs)
{
	size_t	need = meta_len + leaf_len + 2;

	if (blobs == NULL) {
		if ((meta != NULL && (d->metadata = malloc(meta_len + 1)) ==
		    NULL) || (d->leaf_data = malloc(leaf_len + 1)) == NULL) {
			store_delta_free(d);
			return STORE_NOMEM;
		}
	} else {
		if (grow(&blobs->buf, &blobs->cap, need, 1) < 0)
			return STORE_NOMEM;
		d->leaf_data = blobs->buf;
		if (meta != NULL)
			d->metadata = blobs->buf + leaf_len + 1;
	}
	memcpy(d->leaf_data, leaf, leaf_len);
	d->leaf_data[leaf_len] = '\0';
	d->leaf_len = leaf_len;
	if (meta != NULL) {
		memcpy(d->metadata, meta, meta_len);
		d->metadata[meta_len] = '\0';
	}
	return STORE_OK;
}

/*
 * Every field of d but its log index, from a record.  Only what the
 * record holds is written: d is some 3.8 KB, mostly room for long
 * strings that a page of a hundred deltas zeroed for nothing.
 */
static int
delta_unpack(const void *val, size_t vlen, struct store_delta *d,
    struct delta_blobs *blobs)
{
	struct unpack	 u;
	const uint8_t	*meta, *leaf;
	size_t		 meta_len, leaf_len;
	uint8_t		 env, has_meta, status;

	d->metadata = d->leaf_data = NULL;
	d->leaf_len = 0;
	unpack_init(&u, val, vlen);
	if (delta_unpack_who(&u, d->record_id, d->receipt_id, d->tenant, &env,
	    d->customer_id, &d->seq) != STORE_OK)
		return STORE_CORRUPT;
	unpack_str(&u, d->delta, sizeof(d->delta));
	unpack_str(&u, d->reason, sizeof(d->reason));
	d->has_reference = unpack_u8(&u);
	unpack_str(&u, d->reference_id, sizeof(d->reference_id));
	has_meta = unpack_u8(&u);
	meta = unpack_blob_ref(&u, &meta_len);
	unpack_str(&u, d->adjusts, sizeof(d->adjusts));
	d->created_ms = (int64_t)unpack_u64(&u);
	status = unpack_u8(&u);
	d->verified_ms = (int64_t)unpack_u64(&u);
	unpack_bytes(&u, d->salt, STORE_HASH_LEN);
	unpack_bytes(&u, d->content_hash, STORE_HASH_LEN);
	unpack_bytes(&u, d->leaf_hash, STORE_HASH_LEN);
	leaf = unpack_blob_ref(&u, &leaf_len);
	if (u.err || u.left || env > STORE_ENV_LIVE ||
	    status > STORE_DELTA_FAILED)
		return STORE_CORRUPT;
	d->env = (enum store_env)env;
	d->status = (enum store_delta_status)status;
	return delta_unpack_blobs(d, has_meta ? meta : NULL, meta_len, leaf,
	    leaf_len, blobs);
}

int
store_delta_slot_at(struct store_txn *t, const char *tenant,
    enum store_env env, const char *customer_id, uint64_t log_size,
    struct store_slot *slot)
{
	int	rc;

	slot->log_index = log_size;
	rc = store_customer_get(t, tenant, env, customer_id, &slot->cust);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

int
store_delta_slot(struct store_txn *t, const char *tenant, enum store_env env,
    const char *customer_id, struct store_slot *slot)
{
	uint64_t	size;
	int		rc;

	if ((rc = store_log_size(t, &size)) != STORE_OK)
		return rc;
	return store_delta_slot_at(t, tenant, env, customer_id, size, slot);
}

int
store_delta_append(struct store_txn *t, const struct store_slot *slot,
    const struct store_delta *d, __int128 amount)
{
	struct pack	pk = { 0 };
	uint8_t		key[8];
	int		rc;

	if (slot->log_index != d->log_index)
		return STORE_CORRUPT;
	delta_pack(&pk, d);
	be64_put(key, d->log_index);
	rc = pk.err ? STORE_NOMEM : store_kv_put(t, STORE_DB_DELTAS, key,
	    sizeof(key), pk.buf, pk.len, 1);
	pack_free(&pk);
	if (rc != STORE_OK)
		return rc;
	if ((rc = store_kv_put_u64(t, STORE_DB_RECORDS, d->record_id,
	    strlen(d->record_id), d->log_index, 1)) != STORE_OK)
		return rc;
	return store_customer_append(t, &slot->cust, d, amount);
}

int
store_delta_get(struct store_txn *t, uint64_t log_index, struct store_delta *d)
{
	void	*val = NULL;
	size_t	 vlen;
	uint8_t	 key[8];
	int	 rc;

	be64_put(key, log_index);
	memset(d, 0, sizeof(*d));
	if ((rc = store_kv_get(t, STORE_DB_DELTAS, key, sizeof(key), &val,
	    &vlen)) != STORE_OK)
		return rc;
	rc = delta_unpack(val, vlen, d, NULL);
	if (rc == STORE_OK)
		d->log_index = log_index;
	free(val);
	return rc;
}

int
store_delta_receipt(struct store_txn *t, uint64_t log_index,
    char receipt_id[STORE_ID_MAX + 1])
{
	struct unpack	 u;
	void		*val = NULL;
	size_t		 vlen;
	uint8_t		 key[8], env;
	char		 record_id[STORE_ID_MAX + 1];
	char		 tenant[STORE_TENANT_MAX + 1];
	char		 customer_id[STORE_CUSTOMER_MAX + 1];
	uint64_t	 seq;
	int		 rc;

	receipt_id[0] = '\0';
	be64_put(key, log_index);
	if ((rc = store_kv_get(t, STORE_DB_DELTAS, key, sizeof(key), &val,
	    &vlen)) != STORE_OK)
		return rc;
	unpack_init(&u, val, vlen);
	if (delta_unpack_who(&u, record_id, receipt_id, tenant, &env,
	    customer_id, &seq) != STORE_OK || u.err) {
		receipt_id[0] = '\0';
		rc = STORE_CORRUPT;
	}
	free(val);
	return rc;
}

/*
 * A run of deltas read together: each one's record, copied out of the
 * pages into one arena, to be unpacked when asked for.
 */
struct delta_run_record {
	uint64_t	index;
	size_t		off, len;	/* in bytes */
};

struct store_delta_run {
	struct delta_run_record	*rec;
	size_t			 n, got, reccap;
	uint8_t			*bytes;
	size_t			 len, cap;
	struct delta_blobs	 blobs;
};

/*
 * A run whose log indexes span fewer than this many times as many
 * records is read as one range, in bulk, its other records skipped: 6
 * deltas fill a 4 KiB page, so even a run that is a quarter of its range
 * costs under a page per delta, where a get descends three.  A run of
 * fewer than DELTA_RUN_BULK_MIN is read a get each: a bulk read fills at
 * least a page's worth (derive with limit=1 lost 10 us to it).
 */
#define DELTA_RUN_SPREAD	4
#define DELTA_RUN_BULK_MIN	4
/*
 * A delta record's usual size, to size the run's arena once; a bulk
 * read's buffer, which holds a default page of a hundred deltas (some
 * 65 KB) in one or two cursor calls, where 16 KB took five: 128 -> 118
 * us of CPU a derive page.  It stays below glibc's mmap threshold
 * (128 KiB), and the run's arena with it; tallyd's VmRSS after the
 * derive bench did not move (25.5 MB).
 */
#define DELTA_RECORD_GUESS	640
#define DELTA_BULK_SIZE		(64 * 1024)

struct store_delta_run *
store_delta_run_new(void)
{
	return calloc(1, sizeof(struct store_delta_run));
}

void
store_delta_run_free(struct store_delta_run *r)
{
	if (r == NULL)
		return;
	free(r->rec);
	free(r->bytes);
	free(r->blobs.buf);
	free(r);
}

/* Keeps the next wanted delta's record. */
static int
delta_run_keep(struct store_delta_run *r, const void *val, size_t vlen)
{
	struct delta_run_record	*rec = &r->rec[r->got];

	if (vlen > SIZE_MAX - r->len ||
	    grow(&r->bytes, &r->cap, r->len + vlen, 1) < 0)
		return STORE_NOMEM;
	memcpy(r->bytes + r->len, val, vlen);
	rec->off = r->len;
	rec->len = vlen;
	r->len += vlen;
	r->got++;
	return STORE_OK;
}

/* A record of the range: the next wanted one, or another's, skipped. */
static int
delta_run_range_record(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg)
{
	struct store_delta_run	*r = arg;
	uint64_t		 index;
	int			 rc;

	if (klen != 8)
		return STORE_CORRUPT;
	index = be64_get(key);
	if (index < r->rec[r->got].index)
		return STORE_OK;
	if (index > r->rec[r->got].index)
		return STORE_NOTFOUND;		/* the wanted one is missing */
	if ((rc = delta_run_keep(r, val, vlen)) != STORE_OK)
		return rc;
	return r->got == r->n ? STORE_STOP : STORE_OK;
}

/* The range from the first wanted to the last, in bulk. */
static int
delta_run_range(struct store_txn *t, struct store_delta_run *r)
{
	uint64_t	span = r->rec[r->n - 1].index - r->rec[0].index + 1;
	uint8_t		key[8];
	int		rc;

	be64_put(key, r->rec[0].index);
	rc = store_kv_each_bulk(t, STORE_DB_DELTAS, key, sizeof(key),
	    span < DELTA_BULK_SIZE / DELTA_RECORD_GUESS ?
	    (size_t)span * DELTA_RECORD_GUESS : DELTA_BULK_SIZE,
	    delta_run_range_record, r);
	if (rc == STORE_STOP)
		return STORE_OK;
	return rc == STORE_OK ? STORE_NOTFOUND : rc;	/* ended early */
}

/* Each wanted record by itself. */
static int
delta_run_each(struct store_txn *t, struct store_delta_run *r)
{
	void	*val;
	size_t	 vlen;
	uint8_t	 key[8];
	int	 rc = STORE_OK;

	while (rc == STORE_OK && r->got < r->n) {
		be64_put(key, r->rec[r->got].index);
		if ((rc = store_kv_get(t, STORE_DB_DELTAS, key, sizeof(key),
		    &val, &vlen)) != STORE_OK)
			break;
		rc = delta_run_keep(r, val, vlen);
		free(val);
	}
	return rc;
}

int
store_delta_run_read(struct store_txn *t, struct store_delta_run *r,
    const uint64_t *index, size_t n)
{
	size_t	i;
	int	rc;

	r->n = r->got = r->len = 0;
	if (n == 0)
		return STORE_OK;
	if (grow(&r->rec, &r->reccap, n, sizeof(*r->rec)) < 0 ||
	    grow(&r->bytes, &r->cap, n * DELTA_RECORD_GUESS, 1) < 0)
		return STORE_NOMEM;
	for (i = 0; i < n; i++) {
		if (i > 0 && index[i] <= index[i - 1])
			return STORE_CORRUPT;
		r->rec[i].index = index[i];
	}
	r->n = n;
	if (n >= DELTA_RUN_BULK_MIN &&
	    index[n - 1] - index[0] < (uint64_t)n * DELTA_RUN_SPREAD)
		rc = delta_run_range(t, r);
	else
		rc = delta_run_each(t, r);
	if (rc != STORE_OK)
		r->n = r->got = 0;
	return rc;
}

int
store_delta_run_get(struct store_delta_run *r, size_t i,
    struct store_delta *d)
{
	int	rc;

	if (i >= r->got) {
		memset(d, 0, sizeof(*d));
		return STORE_NOTFOUND;
	}
	rc = delta_unpack(r->bytes + r->rec[i].off, r->rec[i].len, d,
	    &r->blobs);
	if (rc == STORE_OK)
		d->log_index = r->rec[i].index;
	return rc;
}

int
store_delta_find(struct store_txn *t, const char *record_id,
    uint64_t *log_index)
{
	return store_kv_get_u64(t, STORE_DB_RECORDS, record_id,
	    strlen(record_id), log_index);
}

struct delta_each {
	store_delta_fn	 fn;
	void		*arg;
};

static int
delta_each_record(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct delta_each	*de = arg;
	struct store_delta	 d;
	uint64_t		 index;
	int			 rc;

	if (klen != 8)
		return STORE_CORRUPT;
	index = be64_get(key);
	if ((rc = delta_unpack(val, vlen, &d, NULL)) != STORE_OK)
		return rc;
	d.log_index = index;
	rc = de->fn(&d, de->arg);
	store_delta_free(&d);
	return rc;
}

int
store_delta_each(struct store_txn *t, uint64_t from, store_delta_fn fn,
    void *arg)
{
	struct delta_each	de = { fn, arg };
	uint8_t			key[8];

	be64_put(key, from);
	return store_kv_each(t, STORE_DB_DELTAS, key, sizeof(key),
	    delta_each_record, &de);
}

struct delta_heads {
	store_delta_head_fn	 fn;
	void			*arg;
};

/* delta_unpack_who's fields, the two ids dropped. */
static int
delta_head_record(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct delta_heads	*dh = arg;
	struct store_delta_head	 h;
	struct unpack		 u;
	char			 id[STORE_ID_MAX + 1];
	uint8_t			 env;

	if (klen != 8)
		return STORE_CORRUPT;
	unpack_init(&u, val, vlen);
	if (delta_unpack_who(&u, id, id, h.tenant, &env, h.customer_id,
	    &h.seq) != STORE_OK || u.err || env > STORE_ENV_LIVE)
		return STORE_CORRUPT;
	h.log_index = be64_get(key);
	h.env = (enum store_env)env;
	return dh->fn(&h, dh->arg);
}

int
store_delta_heads(struct store_txn *t, uint64_t from, store_delta_head_fn fn,
    void *arg)
{
	struct delta_heads	dh = { fn, arg };
	uint8_t			key[8];

	be64_put(key, from);
	return store_kv_each(t, STORE_DB_DELTAS, key, sizeof(key),
	    delta_head_record, &dh);
}

void
store_idem_free(struct store_idem *r)
{
	free(r->body);
	r->body = NULL;
}

int
store_idem_get(struct store_txn *t, const void *key, size_t klen,
    struct store_idem *r)
{
	struct unpack	u;
	void		*val = NULL;
	size_t		 vlen;
	int		 rc;

	memset(r, 0, sizeof(*r));
	if ((rc = store_kv_get(t, STORE_DB_IDEMPOTENCY, key, klen, &val,
	    &vlen)) != STORE_OK)
		return rc;
	unpack_init(&u, val, vlen);
	if (unpack_u8(&u) != IDEM_VERSION)
		u.err = 1;
	unpack_bytes(&u, r->fingerprint, STORE_HASH_LEN);
	r->status = (int)unpack_u64(&u);
	unpack_str(&u, r->record_id, sizeof(r->record_id));
	r->body = unpack_blob(&u, &r->body_len);
	free(val);
	if (u.err || u.left) {
		store_idem_free(r);
		return STORE_CORRUPT;
	}
	return STORE_OK;
}

int
store_idem_add(struct store_txn *t, const void *key, size_t klen,
    const struct store_idem *r)
{
	struct pack	pk = { 0 };
	int		rc;

	pack_u8(&pk, IDEM_VERSION);
	pack_bytes(&pk, r->fingerprint, STORE_HASH_LEN);
	pack_u64(&pk, (uint64_t)r->status);
	pack_str(&pk, r->record_id);
	pack_blob(&pk, r->body, r->body_len);
	rc = pk.err ? STORE_NOMEM : store_kv_put(t, STORE_DB_IDEMPOTENCY, key,
	    klen, pk.buf, pk.len, 1);
	pack_free(&pk);
	return rc;
}
