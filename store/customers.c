/*
 * Per-customer totals, kept in the transaction that appends each delta:
 * the running totals with the latest month's, the position and prefix
 * sum of every delta in its customer's sequence, the months before the
 * latest, and each tenant's monthly usage against its quota.  Readers
 * combine them so that no answer needs a walk over a customer's history.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../common/timefmt.h"
#include "internal.h"
#include "pack.h"

/* A customer's record: its totals (1); with its latest month (2). */
#define CUSTOMER_VERSION_TOTALS	1
#define CUSTOMER_VERSION	2
#define CUSTPOS_VERSION		1
#define MONTH_VERSION		1

#define CKEY_MAX	(STORE_TENANT_MAX + STORE_CUSTOMER_MAX + 16)

size_t
store_customer_key(uint8_t *buf, size_t size, const char *tenant,
    enum store_env env, const char *customer_id)
{
	size_t	tl = strlen(tenant), cl = strlen(customer_id);

	if (tl + cl + 4 > size)
		return 0;
	memcpy(buf, tenant, tl + 1);
	buf[tl + 1] = (uint8_t)('0' + env);
	buf[tl + 2] = '\0';
	memcpy(buf + tl + 3, customer_id, cl + 1);
	return tl + cl + 4;
}

size_t
store_tenant_key(uint8_t *buf, size_t size, const char *tenant,
    enum store_env env)
{
	size_t	klen = store_customer_key(buf, size, tenant, env, "");

	return klen == 0 ? 0 : klen - 1;
}

/*
 * The totals, then in a record of version 2 the latest month: its
 * number, then its fields as a month record holds them.
 */
static int
customer_decode(const void *val, size_t vlen, void *out)
{
	struct store_customer	*c = out;
	struct unpack		 u;
	uint64_t		 month = 0;
	uint8_t			 version;

	unpack_init(&u, val, vlen);
	version = unpack_u8(&u);
	if (version != CUSTOMER_VERSION_TOTALS && version != CUSTOMER_VERSION)
		u.err = 1;
	c->last_seq = unpack_u64(&u);
	c->count = unpack_u64(&u);
	c->sum = unpack_i128(&u);
	c->first_ms = (int64_t)unpack_u64(&u);
	c->last_ms = (int64_t)unpack_u64(&u);
	memset(&c->latest, 0, sizeof(c->latest));
	if (version == CUSTOMER_VERSION) {
		month = unpack_u64(&u);
		c->latest.first_seq = unpack_u64(&u);
		c->latest.last_seq = unpack_u64(&u);
		c->latest.count = unpack_u64(&u);
		c->latest.sum = unpack_i128(&u);
		if (month > INT_MAX || c->latest.count == 0)
			u.err = 1;
	}
	c->latest_month = (int)month;
	return u.err || u.left ? STORE_CORRUPT : STORE_OK;
}

/* Reads a record of key into a decoder's struct; NOTFOUND leaves it. */
static int
record_get(struct store_txn *t, enum store_db db, const uint8_t *key,
    size_t klen, int (*decode)(const void *, size_t, void *), void *out)
{
	void	*val = NULL;
	size_t	 vlen;
	int	 rc;

	if ((rc = store_kv_get(t, db, key, klen, &val, &vlen)) != STORE_OK)
		return rc;
	rc = decode(val, vlen, out);
	free(val);
	return rc;
}

int
store_customer_get(struct store_txn *t, const char *tenant,
    enum store_env env, const char *customer_id, struct store_customer *c)
{
	uint8_t	key[CKEY_MAX];
	size_t	klen;

	memset(c, 0, sizeof(*c));
	if ((klen = store_customer_key(key, sizeof(key), tenant, env,
	    customer_id)) == 0)
		return STORE_NOTFOUND;
	return record_get(t, STORE_DB_CUSTOMERS, key, klen,
	    customer_decode, c);
}

struct customer_each {
	size_t			 plen;		/* of "tenant\0env\0" */
	store_customer_fn	 fn;
	void			*arg;
};

static int
customer_each_record(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg)
{
	struct customer_each	*ce = arg;
	struct store_customer	 c;
	const char		*id = (const char *)key + ce->plen;
	int			 rc;

	if (klen <= ce->plen || ((const char *)key)[klen - 1] != '\0' ||
	    strlen(id) != klen - ce->plen - 1)
		return STORE_CORRUPT;
	if ((rc = customer_decode(val, vlen, &c)) != STORE_OK)
		return rc;
	return ce->fn(id, &c, ce->arg);
}

int
store_customer_each_from(struct store_txn *t, const char *tenant,
    enum store_env env, const char *from, store_customer_fn fn, void *arg)
{
	struct customer_each	ce;
	uint8_t			prefix[CKEY_MAX], start[CKEY_MAX];
	size_t			slen;

	ce.fn = fn;
	ce.arg = arg;
	/* Keys that cannot be built belong to no customer. */
	if ((ce.plen = store_tenant_key(prefix, sizeof(prefix), tenant,
	    env)) == 0 || (slen = store_customer_key(start, sizeof(start),
	    tenant, env, from)) == 0)
		return STORE_OK;
	return store_kv_each_prefix(t, STORE_DB_CUSTOMERS, prefix, ce.plen,
	    start, slen, customer_each_record, &ce);
}

int
store_customer_each(struct store_txn *t, const char *tenant,
    enum store_env env, store_customer_fn fn, void *arg)
{
	return store_customer_each_from(t, tenant, env, "", fn, arg);
}

static int
custpos_decode(const void *val, size_t vlen, void *out)
{
	struct store_custpos	*p = out;
	struct unpack		 u;

	unpack_init(&u, val, vlen);
	if (unpack_u8(&u) != CUSTPOS_VERSION)
		u.err = 1;
	p->log_index = unpack_u64(&u);
	p->created_ms = (int64_t)unpack_u64(&u);
	p->sum = unpack_i128(&u);
	return u.err || u.left ? STORE_CORRUPT : STORE_OK;
}

int
store_custpos_get(struct store_txn *t, const char *tenant,
    enum store_env env, const char *customer_id, uint64_t seq,
    struct store_custpos *p)
{
	uint8_t	key[CKEY_MAX + 8];
	size_t	klen;

	memset(p, 0, sizeof(*p));
	if ((klen = store_customer_key(key, CKEY_MAX, tenant, env,
	    customer_id)) == 0)
		return STORE_NOTFOUND;
	be64_put(key + klen, seq);
	return record_get(t, STORE_DB_CUSTLOG, key, klen + 8, custpos_decode,
	    p);
}

struct custpos_range {
	uint8_t			*want;		/* the next key expected */
	size_t			 plen, klen;	/* the customer's key, want's */
	size_t			 n, got;
	struct store_custpos	*out;
};

/* The walk is past the customer's records (a code of the store's own). */
enum { CUSTPOS_PAST = STORE_USER - 1 };

static int
custpos_range_record(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg)
{
	struct custpos_range	*r = arg;
	int			 rc;

	if (klen < r->plen || memcmp(key, r->want, r->plen) != 0)
		return CUSTPOS_PAST;
	/* Every seq up to the customer's last has its position. */
	if (klen != r->klen || memcmp(key, r->want, klen) != 0)
		return STORE_CORRUPT;
	if ((rc = custpos_decode(val, vlen, &r->out[r->got])) != STORE_OK)
		return rc;
	be64_put(r->want + klen - 8, be64_get(r->want + klen - 8) + 1);
	return ++r->got == r->n ? STORE_STOP : STORE_OK;
}

/*
 * Read in bulk: a page of 4 KiB holds some fifty positions, which one
 * call copies out where a cursor step per position took a latch and a
 * lock each.  The buffer is sized for the run (key, value and Berkeley
 * DB's four offsets per record), so the walk reads little past it.
 */
int
store_custpos_range(struct store_txn *t, const char *tenant,
    enum store_env env, const char *customer_id, uint64_t first, size_t n,
    struct store_custpos *out)
{
	uint8_t			want[CKEY_MAX + 8];
	struct custpos_range	r = { want, 0, 0, n, 0, out };
	int			rc;

	if (n == 0)
		return STORE_OK;
	if ((r.plen = store_customer_key(want, CKEY_MAX, tenant, env,
	    customer_id)) == 0)
		return STORE_NOTFOUND;
	be64_put(want + r.plen, first);
	r.klen = r.plen + 8;
	rc = store_kv_each_bulk(t, STORE_DB_CUSTLOG, want, r.klen,
	    n * (r.klen + 64), custpos_range_record, &r);
	if (rc == STORE_STOP)
		return STORE_OK;
	/* Ended early: past the customer's records, or the database's. */
	return rc == STORE_OK || rc == CUSTPOS_PAST ? STORE_NOTFOUND : rc;
}

static int
month_decode(const void *val, size_t vlen, void *out)
{
	struct store_month	*m = out;
	struct unpack		 u;

	unpack_init(&u, val, vlen);
	if (unpack_u8(&u) != MONTH_VERSION)
		u.err = 1;
	m->first_seq = unpack_u64(&u);
	m->last_seq = unpack_u64(&u);
	m->count = unpack_u64(&u);
	m->sum = unpack_i128(&u);
	return u.err || u.left ? STORE_CORRUPT : STORE_OK;
}

/* The month record's key; 0 if the customer's key does not fit. */
static size_t
month_key(uint8_t key[CKEY_MAX + 4], const char *tenant, enum store_env env,
    const char *customer_id, int month)
{
	size_t	klen;

	if ((klen = store_customer_key(key, CKEY_MAX, tenant, env,
	    customer_id)) == 0)
		return 0;
	be32_put(key + klen, (uint32_t)month);
	return klen + 4;
}

/*
 * A month's totals: the customer's latest, kept in its record, or one
 * before it, in months.db.  (months.db may also hold the latest month
 * as a record written before format 6 left it: stale, never read.)
 */
int
store_month_of(struct store_txn *t, const char *tenant, enum store_env env,
    const char *customer_id, const struct store_customer *c, int month,
    struct store_month *m)
{
	uint8_t	key[CKEY_MAX + 4];
	size_t	klen;

	memset(m, 0, sizeof(*m));
	if (c->latest.count > 0 && month >= c->latest_month) {
		if (month > c->latest_month)
			return STORE_NOTFOUND;
		*m = c->latest;
		return STORE_OK;
	}
	if ((klen = month_key(key, tenant, env, customer_id, month)) == 0)
		return STORE_NOTFOUND;
	return record_get(t, STORE_DB_MONTHS, key, klen, month_decode, m);
}

int
store_month_get(struct store_txn *t, const char *tenant, enum store_env env,
    const char *customer_id, int month, struct store_month *m)
{
	struct store_customer	c;
	int			rc;

	memset(m, 0, sizeof(*m));
	if ((rc = store_customer_get(t, tenant, env, customer_id, &c)) !=
	    STORE_OK)
		return rc;
	return store_month_of(t, tenant, env, customer_id, &c, month, m);
}

struct month_each {
	size_t			 plen;		/* of the customer's key */
	const struct store_customer *c;
	store_month_fn		 fn;
	void			*arg;
};

static int
month_each_record(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg)
{
	struct month_each	*me = arg;
	struct store_month	 m;
	int			 month, rc;

	if (klen != me->plen + 4)
		return STORE_CORRUPT;
	month = (int)be32_get((const uint8_t *)key + me->plen);
	if (me->c->latest.count > 0 && month == me->c->latest_month)
		return STORE_OK;		/* stale: the record has it */
	if ((rc = month_decode(val, vlen, &m)) != STORE_OK)
		return rc;
	return me->fn(month, &m, me->arg);
}

/* The months in months.db, then the latest, from the customer's record. */
int
store_month_each(struct store_txn *t, const char *tenant, enum store_env env,
    const char *customer_id, const struct store_customer *c,
    store_month_fn fn, void *arg)
{
	struct month_each	me;
	uint8_t			prefix[CKEY_MAX];
	int			rc;

	me.c = c;
	me.fn = fn;
	me.arg = arg;
	if ((me.plen = store_customer_key(prefix, sizeof(prefix),
	    tenant, env, customer_id)) == 0)
		return STORE_OK;
	rc = store_kv_each_prefix(t, STORE_DB_MONTHS, prefix, me.plen,
	    NULL, 0, month_each_record, &me);
	if (rc == STORE_OK && c->latest.count > 0)
		rc = fn(c->latest_month, &c->latest, arg);
	return rc;
}

static size_t
usage_key(uint8_t key[CKEY_MAX + 4], const char *tenant, enum store_env env,
    int month)
{
	size_t	klen;

	if ((klen = store_tenant_key(key, CKEY_MAX, tenant, env)) == 0)
		return 0;
	be32_put(key + klen, (uint32_t)month);
	return klen + 4;
}

int
store_usage_get(struct store_txn *t, const char *tenant, enum store_env env,
    int month, uint64_t *count)
{
	uint8_t	key[CKEY_MAX + 4];
	size_t	klen;
	int	rc;

	*count = 0;
	if ((klen = usage_key(key, tenant, env, month)) == 0)
		return STORE_OK;
	rc = store_kv_get_u64(t, STORE_DB_USAGE, key, klen, count);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

int
store_quota_get(struct store_txn *t, const char *tenant, enum store_env env,
    uint64_t *limit)
{
	uint8_t	key[CKEY_MAX];
	size_t	klen;

	*limit = 0;
	if ((klen = store_tenant_key(key, sizeof(key), tenant, env)) == 0)
		return STORE_NOTFOUND;
	return store_kv_get_u64(t, STORE_DB_QUOTAS, key, klen, limit);
}

int
store_quota_put(struct store_txn *t, const char *tenant, enum store_env env,
    uint64_t limit)
{
	uint8_t	key[CKEY_MAX];
	size_t	klen;

	if ((klen = store_tenant_key(key, sizeof(key), tenant, env)) == 0)
		return STORE_NOTFOUND;
	return store_kv_put_u64(t, STORE_DB_QUOTAS, key, klen, limit, 0);
}

int
store_quota_delete(struct store_txn *t, const char *tenant,
    enum store_env env)
{
	uint8_t	key[CKEY_MAX];
	size_t	klen;
	int	rc;

	if ((klen = store_tenant_key(key, sizeof(key), tenant, env)) == 0)
		return STORE_NOTFOUND;
	rc = store_kv_del(t, STORE_DB_QUOTAS, key, klen);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

static int
customer_put(struct store_txn *t, const uint8_t *key, size_t klen,
    const struct store_customer *c)
{
	struct pack	pk = { 0 };
	int		rc;

	pack_u8(&pk, CUSTOMER_VERSION);
	pack_u64(&pk, c->last_seq);
	pack_u64(&pk, c->count);
	pack_i128(&pk, c->sum);
	pack_u64(&pk, (uint64_t)c->first_ms);
	pack_u64(&pk, (uint64_t)c->last_ms);
	pack_u64(&pk, (uint64_t)c->latest_month);
	pack_u64(&pk, c->latest.first_seq);
	pack_u64(&pk, c->latest.last_seq);
	pack_u64(&pk, c->latest.count);
	pack_i128(&pk, c->latest.sum);
	rc = pk.err ? STORE_NOMEM : store_kv_put(t, STORE_DB_CUSTOMERS, key,
	    klen, pk.buf, pk.len, 0);
	pack_free(&pk);
	return rc;
}

static int
custpos_add(struct store_txn *t, uint8_t *ckey, size_t klen, uint64_t seq,
    const struct store_custpos *p)
{
	struct pack	pk = { 0 };
	int		rc;

	be64_put(ckey + klen, seq);
	pack_u8(&pk, CUSTPOS_VERSION);
	pack_u64(&pk, p->log_index);
	pack_u64(&pk, (uint64_t)p->created_ms);
	pack_i128(&pk, p->sum);
	rc = pk.err ? STORE_NOMEM : store_kv_put(t, STORE_DB_CUSTLOG, ckey,
	    klen + 8, pk.buf, pk.len, 1);
	pack_free(&pk);
	return rc;
}

/* A month before the customer's latest, into months.db, for good. */
static int
month_put(struct store_txn *t, const struct store_delta *d, int month,
    const struct store_month *m)
{
	struct pack	pk = { 0 };
	uint8_t		key[CKEY_MAX + 4];
	size_t		klen;
	int		rc;

	if ((klen = month_key(key, d->tenant, d->env, d->customer_id,
	    month)) == 0)
		return STORE_CORRUPT;
	pack_u8(&pk, MONTH_VERSION);
	pack_u64(&pk, m->first_seq);
	pack_u64(&pk, m->last_seq);
	pack_u64(&pk, m->count);
	pack_i128(&pk, m->sum);
	rc = pk.err ? STORE_NOMEM : store_kv_put(t, STORE_DB_MONTHS, key,
	    klen, pk.buf, pk.len, 0);
	pack_free(&pk);
	return rc;
}

/*
 * Counts d in its month, the customer's latest, in c (its record as it
 * was before d).  A delta of a later month first moves the month before
 * to months.db, for good: a delta writes no month record of its own,
 * and a new customer's first touches one random page less.
 */
static int
customer_month_add(struct store_txn *t, struct store_customer *c,
    const struct store_delta *d, __int128 amount)
{
	struct store_month	before = c->latest, so_far;
	int			month = timefmt_month(d->created_ms), rc;

	if (before.count == 0 || c->latest_month != month) {
		memset(&c->latest, 0, sizeof(c->latest));
		c->latest.first_seq = d->seq;
		rc = STORE_OK;
		if (before.count > 0)
			rc = month_put(t, d, c->latest_month, &before);
		else if (d->seq > 1) {
			/*
			 * A record written before format 6 keeps no month:
			 * its months.db record of d's month, if it has one,
			 * is that month so far, and stays there, stale.
			 */
			rc = store_month_of(t, d->tenant, d->env,
			    d->customer_id, c, month, &so_far);
			if (rc == STORE_OK)
				c->latest = so_far;
			else if (rc == STORE_NOTFOUND)
				rc = STORE_OK;
		}
		if (rc != STORE_OK)
			return rc;
		c->latest_month = month;
	}
	c->latest.last_seq = d->seq;
	c->latest.count++;
	c->latest.sum += amount;
	return STORE_OK;
}

static int
usage_add(struct store_txn *t, const struct store_delta *d)
{
	uint8_t		key[CKEY_MAX + 4];
	uint64_t	count = 0;
	size_t		klen;
	int		rc;

	if ((klen = usage_key(key, d->tenant, d->env,
	    timefmt_month(d->created_ms))) == 0)
		return STORE_CORRUPT;
	rc = store_kv_get_u64(t, STORE_DB_USAGE, key, klen, &count);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	return store_kv_put_u64(t, STORE_DB_USAGE, key, klen, count + 1, 0);
}

int
store_customer_append(struct store_txn *t, const struct store_customer *prev,
    const struct store_delta *d, __int128 amount)
{
	struct store_customer	c = *prev;
	struct store_custpos	p;
	uint8_t			key[CKEY_MAX + 8];
	size_t			klen;
	int			rc;

	if ((klen = store_customer_key(key, CKEY_MAX, d->tenant, d->env,
	    d->customer_id)) == 0)
		return STORE_CORRUPT;
	/* Seq order must stay time order: readers search by time. */
	if (d->seq != c.last_seq + 1 || d->created_ms < c.last_ms)
		return STORE_CORRUPT;
	if ((rc = customer_month_add(t, &c, d, amount)) != STORE_OK)
		return rc;
	c.last_seq = d->seq;
	c.count++;
	c.sum += amount;
	/* A new customer: the indexer finds it by its seq (store/search.c). */
	if (d->seq == 1)
		c.first_ms = d->created_ms;
	c.last_ms = d->created_ms;
	if ((rc = customer_put(t, key, klen, &c)) != STORE_OK)
		return rc;
	p.log_index = d->log_index;
	p.created_ms = d->created_ms;
	p.sum = c.sum;
	if ((rc = custpos_add(t, key, klen, d->seq, &p)) != STORE_OK)
		return rc;
	return usage_add(t, d);
}
