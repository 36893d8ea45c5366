/*
 * The audit's recomputation of the totals the ledger keeps beside the
 * log (core/audit.c): a real store with deltas of several customers,
 * tenants, envs and months holds; then one stored total at a time is
 * altered past every Tally API, as tests/e2e/flipleaf.c alters a leaf,
 * and the audit must name exactly that total, and nothing else.  The
 * same for checkpoints (core/audit_checkpoints.c): made over that store
 * with checkpoint_make, then one record or index entry altered.
 */
#include <sys/wait.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <db.h>

#include "../common/decimal.h"
#include "../common/sbuf.h"
#include "../common/timefmt.h"
#include "../core/audit.h"
#include "../core/checkpoint.h"
#include "../core/emit.h"
#include "../core/indexer.h"
#include "../core/integrator.h"
#include "../core/ledger.h"
#include "../core/tlog.h"
#include "../crypto/hash.h"
#include "../crypto/merkle.h"
#include "../store/internal.h"	/* store_search_held */
#include "check.h"

static char		 dir[256];
static struct store	*st;
static uint64_t		 ndeltas;

/* Record layouts (store/customers.c): big-endian fields after a version. */
#define CUST_LAST_SEQ	1
#define CUST_COUNT	9
#define CUST_SUM_LO	25		/* the low half of the 128-bit sum */
#define CUST_FIRST_MS	33
#define CUST_LAST_MS	41
#define CUST_LATEST	49		/* the latest month: its number */
#define CUST_LATEST_COUNT 73
#define CUST_V1_LEN	49		/* a record of format 5: totals only */
#define POS_LOG_INDEX	1
#define POS_CREATED_MS	9
#define POS_SUM_LO	25
#define MONTH_LAST_SEQ	9
#define MONTH_COUNT	17
#define MONTH_SUM_LO	33

struct delta_in {
	const char	*tenant;
	enum store_env	 env;
	const char	*customer;
	const char	*delta;
	const char	*when;		/* RFC 3339 */
};

/*
 * In log order; a customer's deltas never go back in time.  Three months:
 * acme/live/c1 has deltas in all three, two in the first.
 */
static const struct delta_in deltas[] = {
	{ "acme", STORE_ENV_LIVE, "c1", "1.5", "2025-11-10T10:00:00Z" },
	{ "beta", STORE_ENV_LIVE, "x", "7", "2025-11-11T00:00:00Z" },
	{ "acme", STORE_ENV_LIVE, "c1", "-0.25", "2025-11-30T23:59:59.999Z" },
	{ "acme", STORE_ENV_LIVE, "c2", "3", "2025-12-01T00:00:00Z" },
	{ "acme", STORE_ENV_LIVE, "c1", "10", "2025-12-05T12:00:00Z" },
	{ "acme", STORE_ENV_LIVE, "c2", "0.5", "2025-12-06T00:00:00Z" },
	{ "acme", STORE_ENV_TEST, "c1", "2", "2026-01-02T00:00:00Z" },
	{ "beta", STORE_ENV_LIVE, "x", "-7", "2026-01-03T00:00:00Z" },
	{ "acme", STORE_ENV_LIVE, "c1", "0.000000001", "2026-01-20T08:00:00Z" },
};
#define NDELTAS	(sizeof(deltas) / sizeof(deltas[0]))

/*
 * Appends one delta as the ledger does, with the time and referenceId
 * (or NULL) given, but binding no key: past the ledger's checks.
 */
static int
append_delta(struct store_txn *t, const struct delta_in *in,
    const char *reference)
{
	struct store_slot	 slot;
	struct store_delta	 d;
	struct sbuf		 leaf = { 0 };
	decimal_t		 amount;
	int			 rc;

	memset(&d, 0, sizeof(d));
	if ((rc = store_delta_slot(t, in->tenant, in->env, in->customer,
	    &slot)) != STORE_OK)
		return rc;
	d.log_index = slot.log_index;
	d.seq = slot.cust.last_seq + 1;
	snprintf(d.record_id, sizeof(d.record_id), "rec_%llu",
	    (unsigned long long)d.log_index);
	snprintf(d.receipt_id, sizeof(d.receipt_id), "rcpt_%llu",
	    (unsigned long long)d.log_index);
	snprintf(d.tenant, sizeof(d.tenant), "%s", in->tenant);
	d.env = in->env;
	snprintf(d.customer_id, sizeof(d.customer_id), "%s", in->customer);
	snprintf(d.delta, sizeof(d.delta), "%s", in->delta);
	snprintf(d.reason, sizeof(d.reason), "test");
	d.has_reference = reference != NULL;
	snprintf(d.reference_id, sizeof(d.reference_id), "%s",
	    reference ? reference : "");
	ck_assert_int_eq(timefmt_parse_date(in->when, &d.created_ms), 0);
	memset(d.salt, 0x5a, sizeof(d.salt));
	ck_assert_int_eq(decimal_parse(d.delta, strlen(d.delta), &amount),
	    DECIMAL_OK);
	ck_assert_int_eq(emit_leaf(&d, &leaf), 0);
	d.leaf_data = leaf.buf;
	d.leaf_len = leaf.len;
	ck_assert_int_eq(hash_sha256(leaf.buf, leaf.len, d.content_hash), 0);
	ck_assert_int_eq(merkle_leaf_hash(leaf.buf, leaf.len, d.leaf_hash), 0);
	rc = store_delta_append(t, &slot, &d, amount);
	sbuf_free(&leaf);
	return rc;
}

static int
append_txn(struct store_txn *t, void *arg)
{
	return append_delta(t, arg, NULL);
}

static void
setup(void)
{
	size_t	i;

	tmpdir_make(dir, sizeof(dir));
	ck_assert_int_eq(store_open(&st, dir, 8, STORE_CREATE), STORE_OK);
	ck_assert_int_eq(store_write(st, tenant_add_named, "acme"), STORE_OK);
	ck_assert_int_eq(store_write(st, tenant_add_named, "beta"), STORE_OK);
	for (i = 0; i < NDELTAS; i++)
		ck_assert_int_eq(store_write(st, append_txn,
		    (void *)&deltas[i]), STORE_OK);
	ndeltas = NDELTAS;
}

static void
teardown(void)
{
	store_close(st);
	tmpdir_remove(dir);
}

static char	reported[16][640];
static int	nreported;
static char	warned[4][640];
static int	nwarned;

static void
report(void *arg, enum audit_finding kind, const char *line)
{
	(void)arg;
	if (kind == AUDIT_WARNING) {
		if (nwarned < 4)
			snprintf(warned[nwarned], sizeof(warned[0]), "%s",
			    line);
		nwarned++;
		return;
	}
	if (nreported < 16)
		snprintf(reported[nreported], sizeof(reported[0]), "%s",
		    line);
	nreported++;
}

/* Runs the audit; returns the number of problems, each in reported[]. */
static int
audit(struct audit_result *res)
{
	nreported = nwarned = 0;
	ck_assert_int_eq(audit_run(st, report, NULL, res), STORE_OK);
	ck_assert_int_eq(res->problems, nreported);
	ck_assert_int_eq(res->warnings, nwarned);
	return nreported;
}

/* Exactly one problem, and it is want. */
static void
audit_finds(const char *want)
{
	struct audit_result	res;
	int			n, i;

	n = audit(&res);
	for (i = 0; n != 1 && i < n && i < 16; i++)
		fprintf(stderr, "audit: %s\n", reported[i]);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(reported[0], want);
}

/*
 * The raw records, past the store: it is closed while they are altered,
 * and opened again after.
 */
static size_t
ckey(uint8_t *buf, const char *tenant, enum store_env env, const char *id)
{
	size_t	tl = strlen(tenant), cl = strlen(id);

	memcpy(buf, tenant, tl + 1);
	buf[tl + 1] = (uint8_t)('0' + env);
	buf[tl + 2] = '\0';
	memcpy(buf + tl + 3, id, cl + 1);
	return tl + cl + 4;
}

static void
be_put(uint8_t *p, uint64_t v, int bytes)
{
	while (bytes-- > 0) {
		p[bytes] = (uint8_t)v;
		v >>= 8;
	}
}

static size_t
poskey(uint8_t *buf, const char *tenant, enum store_env env, const char *id,
    uint64_t seq)
{
	size_t	n = ckey(buf, tenant, env, id);

	be_put(buf + n, seq, 8);
	return n + 8;
}

static size_t
monthkey(uint8_t *buf, const char *tenant, enum store_env env,
    const char *id, const char *period)
{
	size_t	n = ckey(buf, tenant, env, id);
	int	month;

	ck_assert_int_eq(timefmt_parse_period(period, &month), 0);
	be_put(buf + n, (uint32_t)month, 4);
	return n + 4;
}

static size_t
usagekey(uint8_t *buf, const char *tenant, enum store_env env, int month)
{
	size_t	n = ckey(buf, tenant, env, "") - 1;

	be_put(buf + n, (uint32_t)month, 4);
	return n + 4;
}

struct raw {
	DB_ENV	*env;
	DB	*db;
	DB_TXN	*txn;
};

static void
raw_open(struct raw *r, const char *file)
{
	store_close(st);
	st = NULL;
	ck_assert_int_eq(db_env_create(&r->env, 0), 0);
	ck_assert_int_eq(r->env->open(r->env, dir, DB_INIT_LOCK | DB_INIT_LOG |
	    DB_INIT_MPOOL | DB_INIT_TXN | DB_RECOVER | DB_REGISTER |
	    DB_CREATE, 0600), 0);
	ck_assert_int_eq(db_create(&r->db, r->env, 0), 0);
	ck_assert_int_eq(r->db->open(r->db, NULL, file, NULL, DB_BTREE,
	    DB_AUTO_COMMIT, 0), 0);
	ck_assert_int_eq(r->env->txn_begin(r->env, NULL, &r->txn, 0), 0);
}

static void
raw_close(struct raw *r)
{
	ck_assert_int_eq(r->txn->commit(r->txn, 0), 0);
	r->db->close(r->db, 0);
	r->env->close(r->env, 0);
	ck_assert_int_eq(store_open(&st, dir, 8, 0), STORE_OK);
}

static void
dbt(DBT *d, const void *data, size_t len)
{
	memset(d, 0, sizeof(*d));
	d->data = (void *)(uintptr_t)data;
	d->size = (u_int32_t)len;
}

/* Adds add to the big-endian 64-bit field at off of file's record key. */
static void
raw_bump(const char *file, const void *key, size_t klen, size_t off,
    int64_t add)
{
	struct raw	r;
	DBT		k, v;
	uint8_t		*p;
	uint64_t	 x = 0;
	int		 i;

	raw_open(&r, file);
	dbt(&k, key, klen);
	memset(&v, 0, sizeof(v));
	v.flags = DB_DBT_MALLOC;
	ck_assert_int_eq(r.db->get(r.db, r.txn, &k, &v, DB_RMW), 0);
	ck_assert_uint_ge(v.size, off + 8);
	p = (uint8_t *)v.data + off;
	for (i = 0; i < 8; i++)
		x = x << 8 | p[i];
	be_put(p, x + (uint64_t)add, 8);
	ck_assert_int_eq(r.db->put(r.db, r.txn, &k, &v, 0), 0);
	free(v.data);
	raw_close(&r);
}

static void
raw_del(const char *file, const void *key, size_t klen)
{
	struct raw	r;
	DBT		k;

	raw_open(&r, file);
	dbt(&k, key, klen);
	ck_assert_int_eq(r.db->del(r.db, r.txn, &k, 0), 0);
	raw_close(&r);
}

/* The record at key into buf; returns its size. */
static size_t
raw_get(const char *file, const void *key, size_t klen, void *buf,
    size_t size)
{
	struct raw	r;
	DBT		k, v;

	raw_open(&r, file);
	dbt(&k, key, klen);
	memset(&v, 0, sizeof(v));
	v.data = buf;
	v.ulen = (u_int32_t)size;
	v.flags = DB_DBT_USERMEM;
	ck_assert_int_eq(r.db->get(r.db, r.txn, &k, &v, 0), 0);
	raw_close(&r);
	return v.size;
}

/* Writes val at key (a record no append made). */
static void
raw_put(const char *file, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct raw	r;
	DBT		k, v;

	raw_open(&r, file);
	dbt(&k, key, klen);
	dbt(&v, val, vlen);
	ck_assert_int_eq(r.db->put(r.db, r.txn, &k, &v, 0), 0);
	raw_close(&r);
}

static int
raw_id_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/*
 * The search index's block of acme/live's gram written by the step that
 * moved its position to to (store/search.c) edited: del taken out of
 * its ids, add put in (either NULL); a block left empty is deleted.
 */
static void
raw_block_edit(const char *gram, uint64_t to, const char *del,
    const char *add)
{
	struct raw	 r;
	DBT		 k, v;
	uint8_t		 key[80];
	char		 ids[32][STORE_CUSTOMER_MAX + 1], val[1024];
	const char	*p;
	size_t		 klen, n = 0, i, len = 0;
	int		 rc;

	klen = ckey(key, "acme", STORE_ENV_LIVE, "") - 1;
	memcpy(key + klen, gram, 3);
	be_put(key + klen + 3, to, 8);
	raw_open(&r, "search.db");
	dbt(&k, key, klen + 11);
	memset(&v, 0, sizeof(v));
	v.flags = DB_DBT_MALLOC;
	rc = r.db->get(r.db, r.txn, &k, &v, DB_RMW);
	ck_assert(rc == 0 || rc == DB_NOTFOUND);
	for (p = v.data; rc == 0 && p < (char *)v.data + v.size;
	    p += strlen(p) + 1) {
		ck_assert_uint_lt(n, 31);
		if (del == NULL || strcmp(p, del) != 0)
			snprintf(ids[n++], sizeof(ids[0]), "%s", p);
	}
	free(v.data);
	if (add != NULL)
		snprintf(ids[n++], sizeof(ids[0]), "%s", add);
	/* Sorted, as the indexer writes them. */
	qsort(ids, n, sizeof(ids[0]), raw_id_cmp);
	for (i = 0; i < n; i++) {
		ck_assert_uint_lt(len + strlen(ids[i]) + 1, sizeof(val));
		memcpy(val + len, ids[i], strlen(ids[i]) + 1);
		len += strlen(ids[i]) + 1;
	}
	dbt(&v, val, len);
	if (n > 0)
		ck_assert_int_eq(r.db->put(r.db, r.txn, &k, &v, 0), 0);
	else
		ck_assert_int_eq(r.db->del(r.db, r.txn, &k, 0), 0);
	raw_close(&r);
}

/* Copies the record at from to the key to. */
static void
raw_copy(const char *file, const void *from, size_t flen, const void *to,
    size_t tlen)
{
	uint8_t	val[4096];

	raw_put(file, to, tlen, val, raw_get(file, from, flen, val,
	    sizeof(val)));
}

START_TEST(totals_hold)
{
	struct audit_result	res;

	ck_assert_int_eq(audit(&res), 0);
	ck_assert_int_eq(res.leaves, NDELTAS);
	/* acme/live c1 c2, acme/test c1, beta/live x. */
	ck_assert_int_eq(res.customers, 4);
	ck_assert_int_eq(res.positions, NDELTAS);
	/* c1: 3 months, c2: 1, test c1: 1, x: 2. */
	ck_assert_int_eq(res.months, 7);
	/*
	 * Counted months: acme/live 3, acme/test 1, beta/live 2; and this
	 * month of all four tenant envs (none has a delta in it).
	 */
	ck_assert_int_eq(res.usage, 6 + 4);
	ck_assert_int_eq(res.busy, 0);
}
END_TEST

/* The ledger's own deltas, with heads signed over them, hold too. */
/* The log's deltas in the tree, under a head; returns its size. */
static uint64_t
integrate(void)
{
	struct store_signkey	 k;
	struct integrator	*ig;
	char			 err[256];
	uint64_t		 size;

	ck_assert_msg(tlog_key_generate(st, dir, "tally.test/log",
	    SIGKEY_ECDSA_P256, 0, &k, err, sizeof(err)) == TLOG_KEY_OK, "%s",
	    err);
	ck_assert_msg(integrator_open(&ig, st, dir, "tally.test/log", err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(integrator_step(ig, &size), STORE_OK);
	integrator_close(ig);
	return size;
}

START_TEST(ledger_totals_hold)
{
	struct ledger		*led;
	struct principal	 who;
	struct audit_result	 res;
	char			 json[128];
	int			 i;

	ck_assert_int_eq(ledger_open(&led, st), STORE_OK);
	memset(&who, 0, sizeof(who));
	snprintf(who.tenant, sizeof(who.tenant), "acme");
	who.env = STORE_ENV_LIVE;
	for (i = 0; i < 12; i++) {
		snprintf(json, sizeof(json), "{\"customerId\":\"c%d\","
		    "\"delta\":%d.%d,\"reason\":\"r\"}", i % 4, i - 5, i);
		ck_assert_int_eq(unit_emit(led, &who, json), STORE_OK);
	}
	ledger_close(led);
	ck_assert_uint_eq(integrate(), NDELTAS + 12);
	ck_assert_int_eq(audit(&res), 0);
	ck_assert_int_eq(res.leaves, NDELTAS + 12);
	ck_assert_int_eq(res.positions, NDELTAS + 12);
	/* c1 and c2 are old customers with new deltas; c0 and c3 new. */
	ck_assert_int_eq(res.customers, 6);
}
END_TEST


/* The first record of file: its key and value into the buffers. */
static void
raw_first(const char *file, uint8_t *key, size_t *klen, uint8_t *val,
    size_t *vlen)
{
	struct raw	 r;
	DBC		*c;
	DBT		 k, v;

	raw_open(&r, file);
	ck_assert_int_eq(r.db->cursor(r.db, r.txn, &c, 0), 0);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = key;
	k.ulen = 64;
	v.data = val;
	v.ulen = 4096;
	k.flags = v.flags = DB_DBT_USERMEM;
	ck_assert_int_eq(c->get(c, &k, &v, DB_FIRST), 0);
	*klen = k.size;
	*vlen = v.size;
	c->close(c);
	raw_close(&r);
}

/*
 * The leaf hash index against the tree's leaves: an entry's index
 * changed, a run out of its order, an entry too many.  Each leaf's is
 * 32 bytes of hash and 8 of index, in hash order (store/leaves.c).
 */
START_TEST(leaf_index)
{
	struct audit_result	res;
	uint8_t			key[64], val[4096], was[4096], tmp[40];
	char			want[128];
	size_t			klen, vlen;

	ck_assert_uint_eq(integrate(), NDELTAS);
	ck_assert_int_eq(audit(&res), 0);
	raw_first("leafruns.db", key, &klen, val, &vlen);
	ck_assert_uint_eq(vlen, NDELTAS * sizeof(tmp));
	memcpy(was, val, vlen);
	val[39] ^= 1;
	raw_put("leafruns.db", key, klen, val, vlen);
	audit_finds("the leaf hash index holds a leaf hash or log index "
	    "that is not the tree's");
	memcpy(val, was, vlen);
	memcpy(tmp, val + 40, 40);
	memcpy(val + 40, val + 80, 40);
	memcpy(val + 80, tmp, 40);
	raw_put("leafruns.db", key, klen, val, vlen);
	audit_finds("the leaf hash index does not decode, or is out of its "
	    "order");
	raw_put("leafruns.db", key, klen, was, vlen);
	ck_assert_int_eq(audit(&res), 0);
	/* The first leaf again, in format 6's leaves.db. */
	raw_put("leaves.db", was, 32, was + 32, 8);
	snprintf(want, sizeof(want), "the leaf hash index holds %zu of the "
	    "tree's %zu leaves", NDELTAS + 1, NDELTAS);
	audit_finds(want);
}
END_TEST

#define DUP_REFERENCE	"usage:dup:2026-12-04"

static int
append_dup_txn(struct store_txn *t, void *arg)
{
	return append_delta(t, arg, DUP_REFERENCE);
}

/* The recordId the ledger bound DUP_REFERENCE of customer dup to. */
static int
dup_owner_read(struct store_txn *t, void *arg)
{
	return ledger_reference_owner(t, "acme", STORE_ENV_LIVE, "dup",
	    DUP_REFERENCE, arg);
}

/*
 * Two deltas of a customer with one referenceId, as data directories
 * made before every referenceId was checked may hold: the ledger no
 * longer makes them, so the second goes in past it, through the store.
 * The audit warns, naming both, the referenceId and the customer; it is
 * not a problem, and nothing is rewritten.
 */
START_TEST(duplicate_reference_warned)
{
	static const struct delta_in dup = { "acme", STORE_ENV_LIVE, "dup",
	    "-50", "2099-01-01T00:00:00Z" };
	char			 owner[STORE_ID_MAX + 1];
	struct ledger		*led;
	struct principal	 who;
	struct audit_result	 res;
	char			 want[640];
	int			 i;

	ck_assert_int_eq(ledger_open(&led, st), STORE_OK);
	memset(&who, 0, sizeof(who));
	snprintf(who.tenant, sizeof(who.tenant), "acme");
	who.env = STORE_ENV_LIVE;
	ck_assert_int_eq(unit_emit(led, &who, "{\"customerId\":\"dup\","
	    "\"delta\":-50,\"reason\":\"usage\",\"referenceId\":\""
	    DUP_REFERENCE "\"}"), STORE_OK);
	ledger_close(led);
	ck_assert_int_eq(store_write(st, append_dup_txn, (void *)&dup),
	    STORE_OK);
	ck_assert_int_eq(store_read(st, dup_owner_read, owner), STORE_OK);
	snprintf(want, sizeof(want), "leaf %zu: customer acme/live/dup: "
	    "referenceId \"" DUP_REFERENCE "\" is on %s and on rec_%zu, "
	    "recorded after it: two deltas for one referenceId", NDELTAS + 1,
	    owner, NDELTAS + 1);
	/* Told each time, the same: nothing was repaired in between. */
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(audit(&res), 0);
		ck_assert_int_eq(res.warnings, 1);
		ck_assert_str_eq(warned[0], want);
		ck_assert_int_eq(res.leaves, NDELTAS + 2);
	}
}
END_TEST

START_TEST(customer_count)
{
	uint8_t	key[256];

	raw_bump("customers.db", key, ckey(key, "acme", STORE_ENV_LIVE, "c1"),
	    CUST_COUNT, 1);
	audit_finds("customer acme/live/c1: count: stored 5, expected 4");
}
END_TEST

START_TEST(customer_sum)
{
	uint8_t	key[256];

	raw_bump("customers.db", key, ckey(key, "acme", STORE_ENV_LIVE, "c2"),
	    CUST_SUM_LO, -1000000000);
	audit_finds("customer acme/live/c2: sum: stored 2.5, expected 3.5");
}
END_TEST

START_TEST(customer_times)
{
	uint8_t	key[256];
	size_t	klen = ckey(key, "beta", STORE_ENV_LIVE, "x");

	raw_bump("customers.db", key, klen, CUST_FIRST_MS, 1);
	audit_finds("customer beta/live/x: first delta time: stored "
	    "2025-11-11T00:00:00.001Z, expected 2025-11-11T00:00:00.000Z");
	raw_bump("customers.db", key, klen, CUST_FIRST_MS, -1);
	raw_bump("customers.db", key, klen, CUST_LAST_MS, -86400000);
	audit_finds("customer beta/live/x: last delta time: stored "
	    "2026-01-02T00:00:00.000Z, expected 2026-01-03T00:00:00.000Z");
}
END_TEST

/* A last seq one short: the walk goes on past it while positions do. */
START_TEST(customer_last_seq)
{
	uint8_t	key[256];
	size_t	klen = ckey(key, "acme", STORE_ENV_LIVE, "c1");

	raw_bump("customers.db", key, klen, CUST_LAST_SEQ, -1);
	audit_finds("customer acme/live/c1: last seq: stored 3, expected 4");
	/* One too many: its position is missing, and nothing else is said. */
	raw_bump("customers.db", key, klen, CUST_LAST_SEQ, 2);
	audit_finds("customer acme/live/c1 seq 5: no position record");
}
END_TEST

START_TEST(customer_missing)
{
	struct audit_result	res;
	uint8_t			key[256];

	raw_del("customers.db", key, ckey(key, "acme", STORE_ENV_LIVE, "c2"));
	ck_assert_int_eq(audit(&res), 2);
	ck_assert_str_eq(reported[0], "leaf 3: customer acme/live/c2: no "
	    "totals record");
	ck_assert_str_eq(reported[1], "leaf 5: customer acme/live/c2: no "
	    "totals record");
	ck_assert_int_eq(res.customers, 3);
}
END_TEST

START_TEST(position_sum)
{
	uint8_t	key[256];

	/* c1's seq 2 is leaf 2: 1.5 - 0.25. */
	raw_bump("custlog.db", key, poskey(key, "acme", STORE_ENV_LIVE, "c1",
	    2), POS_SUM_LO, 1);
	audit_finds("customer acme/live/c1 seq 2 (leaf 2): prefix sum: stored "
	    "1.250000001, expected 1.25");
}
END_TEST

START_TEST(position_time)
{
	uint8_t	key[256];

	raw_bump("custlog.db", key, poskey(key, "acme", STORE_ENV_LIVE, "c2",
	    1), POS_CREATED_MS, 3600000);
	audit_finds("customer acme/live/c2 seq 1 (leaf 3): time: stored "
	    "2025-12-01T01:00:00.000Z, expected 2025-12-01T00:00:00.000Z");
}
END_TEST

/* A position naming another customer's delta, and one gone. */
START_TEST(position_index)
{
	uint8_t	key[256];
	size_t	klen = poskey(key, "acme", STORE_ENV_LIVE, "c1", 3);

	/* c1's seq 3 is leaf 4; leaf 5 is c2's seq 2. */
	raw_bump("custlog.db", key, klen, POS_LOG_INDEX, 1);
	audit_finds("customer acme/live/c1 seq 3: its position names leaf 5, "
	    "which is customer acme/live/c2 seq 2");
	raw_bump("custlog.db", key, klen, POS_LOG_INDEX, 100);
	audit_finds("customer acme/live/c1 seq 3: its position names leaf "
	    "105, which the log does not have");
	raw_del("custlog.db", key, klen);
	audit_finds("customer acme/live/c1 seq 3: no position record");
}
END_TEST

/*
 * A customer cut short by its last delta: the delta, which no position
 * holds, and each total that still counts it.
 */
START_TEST(position_past_last)
{
	struct audit_result	res;
	uint8_t			key[256];
	size_t			klen = ckey(key, "acme", STORE_ENV_LIVE, "c1");

	raw_bump("customers.db", key, klen, CUST_LAST_SEQ, -1);
	raw_bump("customers.db", key, klen, CUST_COUNT, -1);
	raw_del("custlog.db", key, poskey(key, "acme", STORE_ENV_LIVE, "c1",
	    4));
	ck_assert_int_eq(audit(&res), 4);
	ck_assert_str_eq(reported[0], "leaf 8: customer acme/live/c1 seq 4: "
	    "no position record, and its last seq is 3");
	ck_assert_str_eq(reported[1], "customer acme/live/c1: sum: stored "
	    "11.250000001, expected 11.25");
	ck_assert_str_eq(reported[2], "customer acme/live/c1: last delta "
	    "time: stored 2026-01-20T08:00:00.000Z, expected "
	    "2025-12-05T12:00:00.000Z");
	ck_assert_str_eq(reported[3], "customer acme/live/c1 month 2026-01: a "
	    "month record, but no delta that month");
}
END_TEST

START_TEST(month_fields)
{
	uint8_t	key[256];
	size_t	klen = monthkey(key, "acme", STORE_ENV_LIVE, "c1", "2025-11");

	raw_bump("months.db", key, klen, MONTH_COUNT, 1);
	audit_finds("customer acme/live/c1 month 2025-11: stored seqs 1..2, "
	    "count 3, sum 1.25; expected seqs 1..2, count 2, sum 1.25");
	raw_bump("months.db", key, klen, MONTH_COUNT, -1);
	raw_bump("months.db", key, klen, MONTH_LAST_SEQ, 1);
	raw_bump("months.db", key, klen, MONTH_SUM_LO, 250000000);
	audit_finds("customer acme/live/c1 month 2025-11: stored seqs 1..3, "
	    "count 2, sum 1.5; expected seqs 1..2, count 2, sum 1.25");
}
END_TEST

START_TEST(month_missing)
{
	uint8_t	key[256];

	raw_del("months.db", key, monthkey(key, "acme", STORE_ENV_LIVE, "c1",
	    "2025-11"));
	audit_finds("customer acme/live/c1 month 2025-11: no month record; "
	    "expected seqs 1..2, count 2, sum 1.25");
}
END_TEST

START_TEST(month_extra)
{
	uint8_t	key[256], to[256];

	raw_copy("months.db", key, monthkey(key, "beta", STORE_ENV_LIVE, "x",
	    "2025-11"), to, monthkey(to, "beta", STORE_ENV_LIVE, "x",
	    "2019-06"));
	audit_finds("customer beta/live/x month 2019-06: a month record, but "
	    "no delta that month");
}
END_TEST

/* The latest month is the customer record's, checked as any other. */
START_TEST(month_latest)
{
	uint8_t	key[256];
	size_t	klen = ckey(key, "acme", STORE_ENV_LIVE, "c1");

	raw_bump("customers.db", key, klen, CUST_LATEST_COUNT, 1);
	audit_finds("customer acme/live/c1 month 2026-01: stored seqs 4..4, "
	    "count 2, sum 0.000000001; expected seqs 4..4, count 1, sum "
	    "0.000000001");
	raw_bump("customers.db", key, klen, CUST_LATEST_COUNT, -1);
	/* Named a month too early: 2026-01 missing, 2025-12 stored twice. */
	raw_bump("customers.db", key, klen, CUST_LATEST, -1);
	ck_assert_int_eq(audit(&(struct audit_result){ 0 }), 2);
}
END_TEST

struct month_read {
	const char		*tenant;
	enum store_env		 env;
	const char		*customer;
	int			 month;
	struct store_month	 m;
};

static int
month_read_txn(struct store_txn *t, void *arg)
{
	struct month_read	*r = arg;

	return store_month_get(t, r->tenant, r->env, r->customer, r->month,
	    &r->m);
}

/* acme/live/c1's month record of mon as the store has it. */
static void
month_is(const char *mon, uint64_t first, uint64_t last, uint64_t count)
{
	struct month_read	m = { "acme", STORE_ENV_LIVE, "c1", 0, { 0 } };

	ck_assert_int_eq(timefmt_parse_period(mon, &m.month), 0);
	ck_assert_int_eq(store_read(st, month_read_txn, &m), STORE_OK);
	ck_assert_uint_eq(m.m.first_seq, first);
	ck_assert_uint_eq(m.m.last_seq, last);
	ck_assert_uint_eq(m.m.count, count);
}

/*
 * A customer record of format 5 (its totals only, every month in
 * months.db) reads as it is, and is carried on: a delta of the month it
 * has in months.db counts on from that record, which stays behind,
 * stale, never read; a delta of a later month moves the month into
 * months.db, up to date.  The audit finds nothing wrong at each step.
 */
START_TEST(month_format5_record)
{
	static const struct delta_in same = { "acme", STORE_ENV_LIVE, "c1",
	    "1", "2026-01-25T00:00:00Z" };
	static const struct delta_in later = { "acme", STORE_ENV_LIVE, "c1",
	    "2", "2026-02-01T00:00:00Z" };
	uint8_t		key[256], mkey[256], rec[128], month[64];
	size_t		klen = ckey(key, "acme", STORE_ENV_LIVE, "c1");
	size_t		mlen = monthkey(mkey, "acme", STORE_ENV_LIVE, "c1",
			    "2026-01");

	/* As format 5 had it: c1's totals, and 2026-01 (seq 4) a record. */
	ck_assert_uint_eq(raw_get("customers.db", key, klen, rec,
	    sizeof(rec)), 97);
	rec[0] = 1;
	/* version, first_seq, last_seq, count, sum: the record's tail. */
	month[0] = 1;
	memcpy(month + 1, rec + CUST_LATEST + 8, 40);
	raw_put("customers.db", key, klen, rec, CUST_V1_LEN);
	raw_put("months.db", mkey, mlen, month, 41);
	ck_assert_int_eq(audit(&(struct audit_result){ 0 }), 0);
	month_is("2026-01", 4, 4, 1);

	ck_assert_int_eq(store_write(st, append_txn, (void *)&same),
	    STORE_OK);
	ndeltas++;
	ck_assert_int_eq(audit(&(struct audit_result){ 0 }), 0);
	month_is("2026-01", 4, 5, 2);
	/* The stale record, left as it was. */
	ck_assert_uint_eq(raw_get("months.db", mkey, mlen, rec, sizeof(rec)),
	    41);
	ck_assert_int_eq(memcmp(rec, month, 41), 0);

	ck_assert_int_eq(store_write(st, append_txn, (void *)&later),
	    STORE_OK);
	ndeltas++;
	ck_assert_int_eq(audit(&(struct audit_result){ 0 }), 0);
	month_is("2026-01", 4, 5, 2);
	month_is("2026-02", 6, 6, 1);
	ck_assert_uint_eq(raw_get("months.db", mkey, mlen, rec, sizeof(rec)),
	    41);
	ck_assert_int_ne(memcmp(rec, month, 41), 0);
}
END_TEST

START_TEST(usage_counter)
{
	uint8_t	key[256], val[8];
	int	month;

	ck_assert_int_eq(timefmt_parse_period("2025-12", &month), 0);
	raw_bump("usage.db", key, usagekey(key, "acme", STORE_ENV_LIVE,
	    month), 0, 1);
	audit_finds("usage acme/live 2025-12: stored 4, expected 3");
	raw_bump("usage.db", key, usagekey(key, "acme", STORE_ENV_LIVE,
	    month), 0, -1);
	/* This month's counter, which a quota reads, with no delta in it. */
	month = timefmt_month(timefmt_now_ms());
	be_put(val, 5, 8);
	raw_put("usage.db", key, usagekey(key, "beta", STORE_ENV_TEST, month),
	    val, sizeof(val));
	ck_assert_int_eq(audit(&(struct audit_result){ 0 }), 1);
	ck_assert_ptr_nonnull(strstr(reported[0], "usage beta/test "));
	ck_assert_ptr_nonnull(strstr(reported[0], ": stored 5, expected 0"));
}
END_TEST

/* A tenant whose record is gone still has its totals checked. */
START_TEST(tenant_missing)
{
	struct audit_result	res;

	raw_del("tenants.db", "beta", 4);
	ck_assert_int_eq(audit(&res), 1);
	ck_assert_str_eq(reported[0], "tenant beta: deltas in the log, but no "
	    "tenant record");
	ck_assert_int_eq(res.customers, 4);
}
END_TEST

/* A record that does not decode is named, not a reason to stop. */
START_TEST(undecodable)
{
	uint8_t	key[256], val[3] = { 1, 2, 3 };

	raw_put("custlog.db", key, poskey(key, "acme", STORE_ENV_LIVE, "c2",
	    2), val, sizeof(val));
	audit_finds("customer acme/live/c2 seq 2: its position record does "
	    "not decode");
}
END_TEST

/*
 * Checkpoints over the store of setup, with heads signed by a key made
 * in its data directory:
 *   K1 acme/live/c1 2025-11  seqs 1..2, net 1.25, start 0
 *   K2 acme/live/c1 2025-12  seq 3, net 10, start 1.25 (after K1)
 *   K3 acme/live/c2 2025-12  seqs 1..2, net 3.5, start 0
 *   K4 acme/live/c1 2026-01  seq 4, net 0.000000001, start 11.25 (after K2)
 * then c1 gets a delta of 5 on 2026-01-25 (leaf 9, seq 5), signed too:
 *   K5 acme/live/c1 2026-01  seqs 4..5, start 11.25 again (after K4)
 *   K6 beta/live/x 2026-02   no deltas, start 0
 *   K7 beta/live/x 2026-03   no deltas, K6's proofRoot (after K6)
 */
enum { K1, K2, K3, K4, K5, K6, K7, NCHK };
static char	chk[NCHK][STORE_ID_MAX + 1];
static char	chkwhat[NCHK][320];	/* as problems name it */
static char	chkkey[STORE_KEYID_MAX + 1];

static int
chk_sign(void *arg, const void *msg, size_t len, uint8_t *sig,
    size_t *siglen, char key_id[STORE_KEYID_MAX + 1],
    char alg[STORE_ALG_MAX + 1])
{
	return integrator_sign_statement(arg, msg, len, sig, siglen, key_id,
	    alg);
}

/* Signs heads until one covers the whole log. */
static void
chk_heads(struct integrator *ig)
{
	uint64_t	size = 0;
	int		i;

	for (i = 0; i < 4 && size < ndeltas; i++)
		ck_assert_int_eq(integrator_step(ig, &size), STORE_OK);
	ck_assert_uint_eq(size, ndeltas);
}

/*
 * Locks period for customer (NULL: every customer) of tenant's live env,
 * signed by ig, and checks that n checkpoints were made or found.  The
 * caller frees job with checkpoint_job_free.
 */
static void
chk_job_run(struct integrator *ig, const char *tenant, const char *customer,
    const char *period, size_t n, struct checkpoint_job *job)
{
	memset(job, 0, sizeof(*job));
	job->tenant = tenant;
	job->env = STORE_ENV_LIVE;
	job->customer_id = customer;
	ck_assert_int_eq(timefmt_parse_period(period, &job->month), 0);
	job->sign = chk_sign;
	job->sign_arg = ig;
	ck_assert_int_eq(checkpoint_make(st, job), STORE_OK);
	ck_assert_uint_eq(job->n, n);
}

/* Locks a month of tenant's live env; the n checkpoints made are chk[k..]. */
static void
chk_lock(struct integrator *ig, const char *tenant, const char *customer,
    const char *period, int k, size_t n)
{
	struct checkpoint_job	job;
	size_t			i;

	chk_job_run(ig, tenant, customer, period, n, &job);
	for (i = 0; i < n; i++) {
		snprintf(chk[k + i], sizeof(chk[0]), "%s", job.list[i].id);
		snprintf(chkwhat[k + i], sizeof(chkwhat[0]), "%s (%s/live/%s "
		    "%s)", job.list[i].id, tenant, job.list[i].customer_id,
		    period);
	}
	checkpoint_job_free(&job);
}

static void
chk_setup(void)
{
	static const struct delta_in late = {
		"acme", STORE_ENV_LIVE, "c1", "5", "2026-01-25T00:00:00Z"
	};
	struct store_signkey	 k;
	struct integrator	*ig;
	char			 err[256];

	setup();
	ck_assert_msg(tlog_key_generate(st, dir, "tally.test/log",
	    SIGKEY_ECDSA_P256, 0, &k, err, sizeof(err)) == TLOG_KEY_OK, "%s",
	    err);
	snprintf(chkkey, sizeof(chkkey), "%s", k.key_id);
	ck_assert_msg(integrator_open(&ig, st, dir, "tally.test/log", err,
	    sizeof(err)) == 0, "%s", err);
	chk_heads(ig);
	chk_lock(ig, "acme", "c1", "2025-11", K1, 1);
	chk_lock(ig, "acme", NULL, "2025-12", K2, 2);
	chk_lock(ig, "acme", "c1", "2026-01", K4, 1);
	ck_assert_int_eq(store_write(st, append_txn, (void *)&late), STORE_OK);
	ndeltas++;
	chk_heads(ig);
	chk_lock(ig, "acme", "c1", "2026-01", K5, 1);
	chk_lock(ig, "beta", "x", "2026-02", K6, 1);
	chk_lock(ig, "beta", "x", "2026-03", K7, 1);
	integrator_close(ig);
}

/* Whether problem matches want; a want ending in '*' is a prefix. */
static int
problem_is(const char *problem, const char *want)
{
	size_t	len = strlen(want);

	if (len > 0 && want[len - 1] == '*')
		return strncmp(problem, want, len - 1) == 0;
	return strcmp(problem, want) == 0;
}

/* Exactly n problems, the wants, in any order (some name random ids). */
static void
audit_finds_n(int n, ...)
{
	struct audit_result	 res;
	const char		*want;
	va_list			 ap;
	int			 got, used[16] = { 0 }, i, j;

	got = audit(&res);
	for (i = 0; i < got && i < 16; i++)
		if (got != n || getenv("TALLY_TEST_LOG") != NULL)
			fprintf(stderr, "audit: %s\n", reported[i]);
	ck_assert_int_eq(got, n);
	va_start(ap, n);
	for (i = 0; i < n; i++) {
		want = va_arg(ap, const char *);
		for (j = 0; j < n; j++)
			if (!used[j] && problem_is(reported[j], want))
				break;
		ck_assert_msg(j < n, "no problem \"%s\"", want);
		used[j] = 1;
	}
	va_end(ap);
}

/* "checkpoint <K (customer month)>: " followed by what. */
static const char *
chk_says(int k, const char *what)
{
	static char	lines[8][1024];
	static int	next;
	char		*line = lines[next++ % 8];

	snprintf(line, sizeof(lines[0]), "checkpoint %s: %s", chkwhat[k],
	    what);
	return line;
}

/* The packed checkpoint record (store/checkpoints.c), field by field. */
enum chk_field {
	F_ID, F_TENANT, F_ENV, F_CUSTOMER, F_MONTH, F_FIRST, F_LAST, F_THROUGH,
	F_COUNT, F_STARTING, F_NET, F_PROOF, F_PREVIOUS, F_TREE, F_ROOT, F_KEY,
	F_ALG, F_CREATED, F_STATEMENT, F_SIG
};

/* Where field f's bytes start in record v, past any length prefix. */
static size_t
chk_field(const uint8_t *v, size_t len, enum chk_field f)
{
	/* s string, b blob, 1 byte, 8 u64, w i128, h hash. */
	static const char	layout[] = "ss1s88888wwhs8hss8sb";
	size_t			off = 1, n = 0;
	int			i;

	for (i = 0; i <= (int)f; i++) {
		off += n;
		ck_assert_uint_lt(off + 4, len);
		switch (layout[i]) {
		case 's':
			n = (size_t)v[off] << 8 | v[off + 1];
			off += 2;
			break;
		case 'b':
			n = (size_t)v[off] << 24 | (size_t)v[off + 1] << 16 |
			    (size_t)v[off + 2] << 8 | v[off + 3];
			off += 4;
			break;
		case '1':
			n = 1;
			break;
		case '8':
			n = 8;
			break;
		case 'w':
			n = 16;
			break;
		default:
			n = 32;
		}
	}
	return off;
}

/* One change to a checkpoint record, at bytes at into a field. */
struct chk_edit {
	enum chk_field	 field;
	size_t		 at;
	int64_t		 add;		/* to the 64-bit number there */
	uint8_t		 flip;		/* xor of the byte there */
	const char	*set;		/* bytes copied there */
};

static void
raw_chk_edit(int k, const struct chk_edit *e)
{
	struct raw	 r;
	DBT		 key, v;
	uint8_t		*p;
	uint64_t	 x = 0;
	int		 i;

	raw_open(&r, "checkpoints.db");
	dbt(&key, chk[k], strlen(chk[k]));
	memset(&v, 0, sizeof(v));
	v.flags = DB_DBT_MALLOC;
	ck_assert_int_eq(r.db->get(r.db, r.txn, &key, &v, DB_RMW), 0);
	p = (uint8_t *)v.data + chk_field(v.data, v.size, e->field) + e->at;
	if (e->add != 0) {
		for (i = 0; i < 8; i++)
			x = x << 8 | p[i];
		be_put(p, x + (uint64_t)e->add, 8);
	}
	p[0] ^= e->flip;
	if (e->set != NULL)
		memcpy(p, e->set, strlen(e->set));
	ck_assert_int_eq(r.db->put(r.db, r.txn, &key, &v, 0), 0);
	free(v.data);
	raw_close(&r);
}

/* Deletes the one entry of an index file that names checkpoint k. */
static void
raw_del_naming(const char *file, int k)
{
	struct raw	 r;
	DBC		*c;
	DBT		 key, v;
	size_t		 len = strlen(chk[k]);
	int		 rc, n = 0;

	raw_open(&r, file);
	ck_assert_int_eq(r.db->cursor(r.db, r.txn, &c, 0), 0);
	memset(&key, 0, sizeof(key));
	memset(&v, 0, sizeof(v));
	while ((rc = c->get(c, &key, &v, DB_NEXT)) == 0)
		if (v.size == len && memcmp(v.data, chk[k], len) == 0) {
			ck_assert_int_eq(c->del(c, 0), 0);
			n++;
		}
	ck_assert_int_eq(rc, DB_NOTFOUND);
	c->close(c);
	ck_assert_int_eq(n, 1);
	raw_close(&r);
}

START_TEST(checkpoints_hold)
{
	struct audit_result	res;

	/*
	 * K4 holds though January's index leads to K5, and K6 though the
	 * root index leads to K7: each is the newest that fits.  Each
	 * checkpoint is checked once, found through both of its indexes.
	 */
	ck_assert_int_eq(audit(&res), 0);
	ck_assert_int_eq(res.checkpoints, NCHK);
	ck_assert_int_eq(res.leaves, NDELTAS + 1);
	ck_assert_int_eq(res.customers, 4);
	ck_assert_int_eq(res.busy, 0);
}
END_TEST

/* A field the statement holds: the statement and the log disagree. */
START_TEST(checkpoint_net)
{
	raw_chk_edit(K2, &(struct chk_edit){ .field = F_NET, .at = 8,
	    .add = 1 });
	/* K4 starts from K2, but from what K2 signed: K4 is not told. */
	audit_finds_n(2, chk_says(K2, "its statement and its fields differ "
	    "at byte *"), chk_says(K2, "netChange: stored 10.000000001, "
	    "expected 10"));
}
END_TEST

START_TEST(checkpoint_proof_root)
{
	char	line[1100];

	raw_chk_edit(K1, &(struct chk_edit){ .field = F_PROOF, .flip = 1 });
	snprintf(line, sizeof(line), "%s*", chk_says(K1, "proofRoot: stored "
	    "0x"));
	audit_finds_n(3, chk_says(K1, "its statement and its fields differ "
	    "at byte *"), chk_says(K1, "the proofRoot index does not lead to "
	    "it"), line);
}
END_TEST

START_TEST(checkpoint_statement_byte)
{
	char	line[400];

	/* "{\"checkpointId\":\"chk_…": a byte of the id. */
	raw_chk_edit(K4, &(struct chk_edit){ .field = F_STATEMENT, .at = 22,
	    .flip = 1 });
	snprintf(line, sizeof(line), "its signature does not verify with key "
	    "%s", chkkey);
	audit_finds_n(2, chk_says(K4, "its statement and its fields differ "
	    "at byte 22, in checkpointId: *"), chk_says(K4, line));
}
END_TEST

START_TEST(checkpoint_signature)
{
	char	line[400];

	raw_chk_edit(K3, &(struct chk_edit){ .field = F_SIG, .at = 10,
	    .flip = 0x80 });
	snprintf(line, sizeof(line), "its signature does not verify with key "
	    "%s", chkkey);
	audit_finds_n(1, chk_says(K3, line));
}
END_TEST

START_TEST(checkpoint_previous)
{
	char	line[400];

	/*
	 * K1 ends at 1.25 and seq 2; K5 starts where K4 started, at 11.25
	 * and seq 4.  After K1 its run would start at seq 3 (SPEC 3.6).
	 */
	raw_chk_edit(K5, &(struct chk_edit){ .field = F_PREVIOUS,
	    .set = chk[K1] });
	snprintf(line, sizeof(line), "startingBalance: stored 11.25, expected "
	    "1.25, the end of previous checkpoint %s", chk[K1]);
	audit_finds_n(5, chk_says(K5, "its statement and its fields differ "
	    "at byte *"), chk_says(K5, line), chk_says(K5, "deltas: stored "
	    "seqs 4..5, count 2; expected seqs 3..5, count 3"),
	    chk_says(K5, "netChange: stored 5.000000001, expected "
	    "15.000000001"), chk_says(K5, "proofRoot: stored *"));
	raw_chk_edit(K5, &(struct chk_edit){ .field = F_PREVIOUS,
	    .set = chk[K3] });
	snprintf(line, sizeof(line), "previous checkpoint %s is customer "
	    "acme/live/c2's", chk[K3]);
	audit_finds_n(2, chk_says(K5, "its statement and its fields differ "
	    "at byte *"), chk_says(K5, line));
	raw_chk_edit(K5, &(struct chk_edit){ .field = F_PREVIOUS,
	    .set = "chk_00000000000000000000000000000000" });
	audit_finds_n(2, chk_says(K5, "its statement and its fields differ "
	    "at byte *"), chk_says(K5, "previous checkpoint "
	    "chk_00000000000000000000000000000000 does not exist"));
}
END_TEST

/* Fields recomputed from the log: the through seq is not signed. */
START_TEST(checkpoint_seqs)
{
	raw_chk_edit(K5, &(struct chk_edit){ .field = F_THROUGH, .add = 1 });
	audit_finds_n(1, chk_says(K5, "through seq: stored 6, expected 5"));
	raw_chk_edit(K5, &(struct chk_edit){ .field = F_THROUGH, .add = -1 });
	raw_chk_edit(K3, &(struct chk_edit){ .field = F_COUNT, .add = 1 });
	audit_finds_n(2, chk_says(K3, "its statement and its fields differ "
	    "at byte *"), chk_says(K3, "deltas: stored seqs 1..2, count 3; "
	    "expected seqs 1..2, count 2"));
	raw_chk_edit(K3, &(struct chk_edit){ .field = F_COUNT, .add = -1 });
	raw_chk_edit(K3, &(struct chk_edit){ .field = F_FIRST, .add = 1 });
	audit_finds_n(2, chk_says(K3, "its statement and its fields differ "
	    "at byte *"), chk_says(K3, "deltas: stored seqs 2..2, count 2; "
	    "expected seqs 1..2, count 2"));
}
END_TEST

START_TEST(checkpoint_head)
{
	char	line[1100];

	raw_chk_edit(K6, &(struct chk_edit){ .field = F_TREE, .add = 5 });
	audit_finds_n(2, chk_says(K6, "its statement and its fields differ "
	    "at byte *"), chk_says(K6, "treeSize 15: no signed tree head of "
	    "that size"));
	raw_chk_edit(K6, &(struct chk_edit){ .field = F_TREE, .add = -5 });
	raw_chk_edit(K7, &(struct chk_edit){ .field = F_ROOT, .at = 31,
	    .flip = 1 });
	snprintf(line, sizeof(line), "%s*", chk_says(K7, "rootHash: stored "
	    "0x"));
	audit_finds_n(2, chk_says(K7, "its statement and its fields differ "
	    "at byte *"), line);
	ck_assert_ptr_nonnull(strstr(reported[1], ", the head of size 10 "
	    "has 0x"));
}
END_TEST

/* Each index must lead to each checkpoint, or the other index tells. */
START_TEST(checkpoint_indexes)
{
	struct audit_result	res;
	char			line[400];

	raw_del_naming("chkroot.db", K1);
	audit_finds_n(1, chk_says(K1, "the proofRoot index does not lead to "
	    "it"));
	/* K5 is January's newest: the index by month finds it for K4. */
	raw_del_naming("chkcust.db", K4);
	audit_finds_n(2, chk_says(K1, "the proofRoot index does not lead to "
	    "it"), chk_says(K4, "found through the tenant index, but not "
	    "through its customer's index"));
	raw_del_naming("chkcust.db", K5);
	snprintf(line, sizeof(line), "its customer's index leads to %s "
	    "instead", chkwhat[K2]);
	audit_finds_n(5, chk_says(K5, line), chk_says(K4, line),
	    chk_says(K1, "the proofRoot index does not lead to it"),
	    chk_says(K5, "found through the tenant index, but not through "
	    "its customer's index"), chk_says(K4, "found through the tenant "
	    "index, but not through its customer's index"));
	/* Not listed by its tenant: found through its customer, checked. */
	raw_del_naming("chktenant.db", K2);
	audit_finds_n(6, chk_says(K5, line), chk_says(K4, line),
	    chk_says(K1, "the proofRoot index does not lead to it"),
	    chk_says(K5, "found through the tenant index, but not through "
	    "its customer's index"), chk_says(K4, "found through the tenant "
	    "index, but not through its customer's index"), chk_says(K2,
	    "found through its customer's index, but not through the tenant "
	    "index"));
	audit(&res);
	ck_assert_int_eq(res.checkpoints, NCHK);
}
END_TEST

/* A record that does not decode: the indexes cannot be read past it. */
START_TEST(checkpoint_undecodable)
{
	struct audit_result	res;
	uint8_t			val[3] = { 1, 2, 3 };
	char			line[400];

	raw_put("checkpoints.db", chk[K3], strlen(chk[K3]), val,
	    sizeof(val));
	snprintf(line, sizeof(line), "checkpoints of acme/live: after %s, the "
	    "tenant index names a checkpoint whose record is missing or does "
	    "not decode; the index cannot be read past it", chk[K4]);
	ck_assert_int_eq(audit(&res), 2);
	ck_assert_str_eq(reported[0], line);
	ck_assert_str_eq(reported[1], "customer acme/live/c2: its checkpoint "
	    "index names a checkpoint whose record is missing or does not "
	    "decode");
	/* K2 and K1, past it, are found through c1's index, and checked. */
	ck_assert_int_eq(res.checkpoints, NCHK - 1);
}
END_TEST

/* setup's store with a signing key, and no checkpoint yet. */
static void
cov_setup(void)
{
	struct store_signkey	k;
	char			err[256];

	setup();
	ck_assert_msg(tlog_key_generate(st, dir, "tally.test/log",
	    SIGKEY_ECDSA_P256, 0, &k, err, sizeof(err)) == TLOG_KEY_OK, "%s",
	    err);
}

/*
 * Coverage by runs of seqs (SPEC 3.6), over setup's store: the run a
 * checkpoint of one customer (or, customer NULL, of the tenant) covers.
 * Locks period and checks each made checkpoint's run against want, one
 * "customer first..last" per checkpoint, in the job's order.
 */
static void
cov_lock(struct integrator *ig, const char *tenant, const char *customer,
    const char *period, size_t n, const char *const *want)
{
	struct checkpoint_job	job;
	char			got[160];
	size_t			i;

	chk_job_run(ig, tenant, customer, period, n, &job);
	for (i = 0; i < n; i++) {
		snprintf(got, sizeof(got), "%s %llu..%llu",
		    job.list[i].customer_id,
		    (unsigned long long)job.list[i].first_seq,
		    (unsigned long long)job.list[i].last_seq);
		ck_assert_str_eq(got, want[i]);
		ck_assert_int_eq(job.list[i].version, 2);
		ck_assert_uint_eq(job.list[i].count, job.list[i].last_seq + 1 -
		    job.list[i].first_seq);
	}
	checkpoint_job_free(&job);
}

/* A first checkpoint starts at seq 1, carrying earlier months in. */
START_TEST(coverage_first_from_one)
{
	struct audit_result	 res;
	struct integrator	*ig;
	char			 err[256];

	ck_assert_int_eq(integrator_open(&ig, st, dir, "tally.test/log", err,
	    sizeof(err)), 0);
	chk_heads(ig);
	/* c1: 2025-11 seqs 1-2, 2025-12 seq 3, 2026-01 seq 4. */
	cov_lock(ig, "acme", "c1", "2026-01", 1,
	    (const char *const []){ "c1 1..4" });
	/* Again, nothing new: the same run. */
	cov_lock(ig, "acme", "c1", "2026-01", 1,
	    (const char *const []){ "c1 1..4" });
	/* A later month with nothing new: an empty run after it. */
	cov_lock(ig, "acme", "c1", "2026-02", 1,
	    (const char *const []){ "c1 5..4" });
	integrator_close(ig);
	ck_assert_int_eq(audit(&res), 0);
}
END_TEST

/*
 * Checkpoint-all takes a customer with no delta that month whose chain
 * leaves earlier deltas out, and passes over one whose chain covers all.
 */
START_TEST(coverage_all_customers)
{
	struct audit_result	 res;
	struct integrator	*ig;
	char			 err[256];

	ck_assert_int_eq(integrator_open(&ig, st, dir, "tally.test/log", err,
	    sizeof(err)), 0);
	chk_heads(ig);
	/* beta/x: 2025-11 seq 1, 2026-01 seq 2; none in December. */
	cov_lock(ig, "beta", NULL, "2025-12", 1,
	    (const char *const []){ "x 1..1" });
	cov_lock(ig, "beta", NULL, "2025-12", 1,
	    (const char *const []){ "x 1..1" });
	/* February: x's January delta is carried in. */
	cov_lock(ig, "beta", NULL, "2026-02", 1,
	    (const char *const []){ "x 2..2" });
	/* March: nothing left out, nobody to lock. */
	cov_lock(ig, "beta", NULL, "2026-03", 0, NULL);
	integrator_close(ig);
	ck_assert_int_eq(audit(&res), 0);
}
END_TEST

/*
 * Big tenants (issue 18.3), at a size a unit test affords: checkpoint-all
 * in chunks smaller than the tenant, and customer search through the
 * trigram index.  BIG customers "big-00".."big-49" of acme/live join
 * setup's c1 and c2, each with one delta in January 2026.
 */
#define BIG	50

static void
big_customers(int from, int to, const char *when)
{
	struct delta_in	in = { "acme", STORE_ENV_LIVE, NULL, "1", when };
	char		id[32];
	int		i;

	for (i = from; i < to; i++) {
		snprintf(id, sizeof(id), "big-%02d", i);
		in.customer = id;
		ck_assert_int_eq(store_write(st, append_txn, &in), STORE_OK);
		ndeltas++;
	}
}

/* A signer that fails its fail_at-th call (0: never), counting calls. */
struct flaky {
	struct integrator	*ig;
	int			 calls, fail_at;
};

static int
flaky_sign(void *arg, const void *msg, size_t len, uint8_t *sig,
    size_t *siglen, char key_id[STORE_KEYID_MAX + 1],
    char alg[STORE_ALG_MAX + 1])
{
	struct flaky	*f = arg;

	if (++f->calls == f->fail_at)
		return -1;
	return chk_sign(f->ig, msg, len, sig, siglen, key_id, alg);
}

static int
big_count_one(const struct store_checkpoint *cp, void *arg)
{
	(void)cp;
	++*(size_t *)arg;
	return STORE_OK;
}

static int
big_count_txn(struct store_txn *t, void *arg)
{
	*(size_t *)arg = 0;
	return store_checkpoint_each(t, "acme", STORE_ENV_LIVE, NULL,
	    big_count_one, arg);
}

/* Checkpoints stored for acme/live. */
static size_t
big_stored(void)
{
	size_t	n;

	ck_assert_int_eq(store_read(st, big_count_txn, &n), STORE_OK);
	return n;
}

static int
big_lock(struct flaky *f, size_t keep, int page, const char *after,
    struct checkpoint_job *job)
{
	memset(job, 0, sizeof(*job));
	job->tenant = "acme";
	job->env = STORE_ENV_LIVE;
	ck_assert_int_eq(timefmt_parse_period("2026-01", &job->month), 0);
	job->sign = flaky_sign;
	job->sign_arg = f;
	job->chunk = 7;
	job->keep = keep;
	job->page = page;
	job->after = after;
	return checkpoint_make(st, job);
}

/*
 * 52 customers in chunks of 7: a signer failing mid-way leaves the
 * chunks before it committed; the same call again signs only the rest
 * and lists every customer's checkpoint once, by customerId; a third
 * signs nothing and lists the same ones.
 */
START_TEST(big_checkpoint_chunks)
{
	struct checkpoint_job	 job;
	struct audit_result	 res;
	struct flaky		 f = { NULL, 0, 0 };
	char			 err[256], (*ids)[STORE_ID_MAX + 1];
	size_t			 i;

	big_customers(0, BIG, "2026-01-05T00:00:00Z");
	ck_assert_int_eq(integrator_open(&f.ig, st, dir, "tally.test/log",
	    err, sizeof(err)), 0);
	chk_heads(f.ig);
	f.fail_at = 20;			/* in the third chunk */
	ck_assert_int_eq(big_lock(&f, 0, 0, NULL, &job), CHECKPOINT_NO_SIGNER);
	checkpoint_job_free(&job);
	ck_assert_uint_eq(big_stored(), 14);

	f.calls = f.fail_at = 0;
	ck_assert_int_eq(big_lock(&f, 0, 0, NULL, &job), STORE_OK);
	ck_assert_int_eq(f.calls, BIG + 2 - 14);
	ck_assert_uint_eq(job.n, BIG + 2);
	ck_assert_uint_eq(job.count, BIG + 2);
	ck_assert_uint_eq(big_stored(), BIG + 2);
	ck_assert_ptr_nonnull(ids = calloc(job.n, sizeof(*ids)));
	for (i = 0; i < job.n; i++) {
		ck_assert(i == 0 || strcmp(job.list[i - 1].customer_id,
		    job.list[i].customer_id) < 0);
		memcpy(ids[i], job.list[i].id, sizeof(ids[i]));
	}
	checkpoint_job_free(&job);

	/* Idempotent: nothing new, nothing signed, the same checkpoints. */
	f.calls = 0;
	ck_assert_int_eq(big_lock(&f, 0, 0, NULL, &job), STORE_OK);
	ck_assert_int_eq(f.calls, 0);
	ck_assert_uint_eq(job.n, BIG + 2);
	for (i = 0; i < job.n; i++)
		ck_assert_str_eq(job.list[i].id, ids[i]);
	checkpoint_job_free(&job);
	ck_assert_uint_eq(big_stored(), BIG + 2);

	/* Listing 10: all counted; paging after the 10th: the next 10. */
	ck_assert_int_eq(big_lock(&f, 10, 0, NULL, &job), STORE_OK);
	ck_assert_uint_eq(job.n, 10);
	ck_assert_uint_eq(job.count, BIG + 2);
	checkpoint_job_free(&job);
	ck_assert_int_eq(big_lock(&f, 10, 1, "big-07", &job), STORE_OK);
	ck_assert_uint_eq(job.n, 10);
	ck_assert_uint_eq(job.count, 11);	/* one more exists */
	ck_assert_str_eq(job.list[0].customer_id, "big-08");
	ck_assert_str_eq(job.list[0].id, ids[8]);
	checkpoint_job_free(&job);
	ck_assert_int_eq(big_lock(&f, 10, 1, "big-45", &job), STORE_OK);
	ck_assert_uint_eq(job.n, 6);		/* big-46..49, c1, c2 */
	ck_assert_uint_eq(job.count, 6);
	checkpoint_job_free(&job);
	free(ids);
	integrator_close(f.ig);
	ck_assert_int_eq(audit(&res), 0);
	ck_assert_uint_eq(res.checkpoints, BIG + 2);
}
END_TEST

/*
 * A chunk also ends once its checkpoints cover chunk_deltas deltas: with
 * 5, chunks of five one-delta customers, so a signer failing at its
 * 12th call leaves two chunks, ten checkpoints.
 */
START_TEST(big_checkpoint_chunk_deltas)
{
	struct checkpoint_job	 job;
	struct flaky		 f = { NULL, 0, 12 };
	char			 err[256];

	big_customers(0, BIG, "2026-01-05T00:00:00Z");
	ck_assert_int_eq(integrator_open(&f.ig, st, dir, "tally.test/log",
	    err, sizeof(err)), 0);
	chk_heads(f.ig);
	memset(&job, 0, sizeof(job));
	job.tenant = "acme";
	job.env = STORE_ENV_LIVE;
	ck_assert_int_eq(timefmt_parse_period("2026-01", &job.month), 0);
	job.sign = flaky_sign;
	job.sign_arg = &f;
	job.chunk = 100;
	job.chunk_deltas = 5;
	ck_assert_int_eq(checkpoint_make(st, &job), CHECKPOINT_NO_SIGNER);
	checkpoint_job_free(&job);
	ck_assert_uint_eq(big_stored(), 10);
	integrator_close(f.ig);
}
END_TEST

static int
big_found(const char *id, void *arg)
{
	struct sbuf	*sb = arg;

	sbuf_addf(sb, "%s ", id);
	return STORE_OK;
}

struct big_search {
	const char	*needle;
	struct sbuf	 got, want;
};

/* The reference: every customer, matched by lower-casing both. */
static int
big_scanned(const char *id, const struct store_customer *c, void *arg)
{
	struct big_search	*bs = arg;
	char			 a[STORE_CUSTOMER_MAX + 1], b[200];
	size_t			 i;

	(void)c;
	for (i = 0; id[i] != '\0'; i++)
		a[i] = (char)tolower((unsigned char)id[i]);
	a[i] = '\0';
	for (i = 0; bs->needle[i] != '\0'; i++)
		b[i] = (char)tolower((unsigned char)bs->needle[i]);
	b[i] = '\0';
	if (strstr(a, b) != NULL)
		sbuf_addf(&bs->want, "%s ", id);
	return STORE_OK;
}

static int
big_search_txn(struct store_txn *t, void *arg)
{
	struct big_search	*bs = arg;

	bs->got.len = bs->want.len = 0;
	return store_customer_each(t, "acme", STORE_ENV_LIVE, big_scanned,
	    bs) != STORE_OK ? STORE_IO : store_customer_search(t, "acme",
	    STORE_ENV_LIVE, bs->needle, big_found, &bs->got);
}

static const char *const big_needles[] = {
	"big", "BIG-0", "g-1", "-4", "g-49", "big-49x", "c", "C1", "zzzz",
	"", "bi", "abcd", "BCX", "xbc", "ab", "%", "i%g", "big-", "G-3",
};

/* Each needle finds what a scan finds; returns how many found anything. */
static int
big_search_all(void)
{
	struct big_search	bs;
	size_t			i;
	int			found = 0;

	memset(&bs, 0, sizeof(bs));
	for (i = 0; i < sizeof(big_needles) / sizeof(big_needles[0]); i++) {
		bs.needle = big_needles[i];
		ck_assert_int_eq(store_read(st, big_search_txn, &bs),
		    STORE_OK);
		sbuf_adds(&bs.got, "");
		sbuf_adds(&bs.want, "");
		ck_assert_msg(strcmp(bs.got.buf, bs.want.buf) == 0,
		    "search %s: got \"%s\", a scan finds \"%s\"",
		    bs.needle, bs.got.buf, bs.want.buf);
		found += bs.want.buf[0] != '\0';
	}
	sbuf_free(&bs.got);
	sbuf_free(&bs.want);
	return found;
}

/* The index's position (store_search_position). */
static int
big_position_txn(struct store_txn *t, void *arg)
{
	return store_search_position(t, arg);
}

static uint64_t
big_position(void)
{
	uint64_t	covered;

	ck_assert_int_eq(store_read(st, big_position_txn, &covered),
	    STORE_OK);
	return covered;
}

/*
 * The index answers as a scan would: substrings anywhere, any case,
 * trigrams found in the wrong order ("abcxbcd" holds abc and bcd, not
 * "abcd") refused; before the indexer reached new customers (from the
 * log's tail), after, and half way; and after the index is lost and
 * rebuilt when the store opens, as in a data directory made before it.
 * The audit checks it, and names a missing or stray entry.
 */
START_TEST(big_search_index)
{
	struct audit_result	 res;
	struct raw		 r;
	u_int32_t		 gone;
	char			 line[300];

	/* Nothing indexed: every customer is in the tail. */
	ck_assert_uint_eq(big_position(), 0);
	big_customers(0, 30, "2026-01-05T00:00:00Z");
	ck_assert_int_gt(big_search_all(), 5);
	ck_assert_int_eq(audit(&res), 0);
	ck_assert_int_eq(indexer_catch_up(st), STORE_OK);
	ck_assert_uint_eq(big_position(), ndeltas);
	ck_assert_int_gt(big_search_all(), 5);
	/* Half indexed, half in the tail. */
	big_customers(30, BIG, "2026-01-06T00:00:00Z");
	{
		struct delta_in	in = { "acme", STORE_ENV_LIVE, "abcxbcd",
		    "1", "2026-01-07T00:00:00Z" };

		ck_assert_int_eq(store_write(st, append_txn, &in), STORE_OK);
		in.customer = "ABCD-1";
		ck_assert_int_eq(store_write(st, append_txn, &in), STORE_OK);
		ndeltas += 2;
	}
	big_search_all();
	ck_assert_int_eq(audit(&res), 0);
	ck_assert_int_eq(indexer_catch_up(st), STORE_OK);
	big_search_all();
	ck_assert_int_eq(audit(&res), 0);

	/*
	 * Lost, position and all: searches read the whole log, and the
	 * indexer builds it again from the log's start.
	 */
	raw_open(&r, "search.db");
	ck_assert_int_eq(r.db->truncate(r.db, r.txn, &gone, 0), 0);
	ck_assert_uint_gt(gone, 50);
	ck_assert_int_eq(r.txn->commit(r.txn, 0), 0);
	r.db->close(r.db, 0);
	r.env->close(r.env, 0);
	ck_assert_int_eq(store_open(&st, dir, 8, 0), STORE_OK);
	ck_assert_uint_eq(big_position(), 0);
	big_search_all();
	ck_assert_int_eq(audit(&res), 0);
	ck_assert_int_eq(indexer_catch_up(st), STORE_OK);
	ck_assert_uint_eq(big_position(), ndeltas);
	big_search_all();
	ck_assert_int_eq(audit(&res), 0);

	/*
	 * One entry gone: that customer is missed, and the audit says so.
	 * The rebuild was one step, to the log's end: its blocks.
	 */
	raw_block_edit("g-4", ndeltas, "big-42", NULL);
	audit_finds("customer acme/live/big-42: the search index lacks 1 of "
	    "its trigrams, so searches miss it");
	/* A stray one, naming a customer without that trigram. */
	raw_block_edit("g-4", ndeltas, NULL, "big-42");
	raw_block_edit("zzz", ndeltas, NULL, "big-42");
	snprintf(line, sizeof(line), "search index: trigram \"zzz\" names "
	    "acme/live/big-42, whose id has no such trigram");
	audit_finds(line);
	/*
	 * One gone and one naming no customer: as many entries as the
	 * customers call for, so only the sums differ; both are named.
	 */
	raw_block_edit("zzz", ndeltas, "big-42", NULL);
	raw_block_edit("g-4", ndeltas, "big-42", NULL);
	raw_block_edit("gho", ndeltas, NULL, "ghost-1");
	audit_finds_n(2, "customer acme/live/big-42: the search index lacks 1 "
	    "of its trigrams, so searches miss it", "search index: trigram "
	    "\"gho\" names acme/live/ghost-1, which is no customer");
}
END_TEST

/* An indexer's step whose transaction then fails: as a crash after it. */
static int
big_index_aborted_txn(struct store_txn *t, void *arg)
{
	uint64_t	covered, size;
	int		rc;

	(void)arg;
	if ((rc = store_search_index(t, 1000, &covered, &size)) != STORE_OK)
		return rc;
	ck_assert_uint_eq(covered, size);
	return STORE_IO;
}

/*
 * The indexer's position moves with its entries or not at all, and
 * lasts: a step whose transaction aborts leaves the position and the
 * index as they were (searches still find every customer, from the
 * tail), and a store opened again finds the position it left.  The
 * audit does not count customers past the position as missing from the
 * index, yet names one before it that lacks an entry, even while
 * others wait in the tail.
 */
START_TEST(big_search_position)
{
	struct audit_result	 res;
	uint64_t		 before;

	big_customers(0, 10, "2026-01-05T00:00:00Z");
	ck_assert_int_eq(indexer_catch_up(st), STORE_OK);
	before = big_position();
	ck_assert_uint_eq(before, ndeltas);
	big_customers(10, 20, "2026-01-06T00:00:00Z");
	ck_assert_int_eq(store_write(st, big_index_aborted_txn, NULL),
	    STORE_IO);
	ck_assert_uint_eq(big_position(), before);
	ck_assert_int_gt(big_search_all(), 5);
	ck_assert_int_eq(audit(&res), 0);

	/*
	 * Opened again (raw_block_edit closes and opens it): the same
	 * position.  Its one step's blocks end at before.
	 */
	raw_block_edit("g-0", before, "big-03", NULL);
	ck_assert_uint_eq(big_position(), before);
	audit_finds("customer acme/live/big-03: the search index lacks 1 of "
	    "its trigrams, so searches miss it");
	raw_block_edit("g-0", before, NULL, "big-03");
	ck_assert_int_eq(audit(&res), 0);
	ck_assert_int_eq(indexer_catch_up(st), STORE_OK);
	ck_assert_uint_eq(big_position(), ndeltas);
	ck_assert_int_eq(audit(&res), 0);
}
END_TEST

/*
 * A search that reads the position before an indexer's commit and the
 * index after it sees the customers indexed meanwhile twice, in the
 * tail and in the index: it tells each once.  Made here by moving the
 * position back past indexed customers.
 */
START_TEST(big_search_overlap)
{
	struct audit_result	 res;
	uint8_t			 back[8] = { 0 };

	big_customers(0, BIG, "2026-01-05T00:00:00Z");
	ck_assert_int_eq(indexer_catch_up(st), STORE_OK);
	raw_put("search.db", "\0search.position", 16, back, sizeof(back));
	ck_assert_uint_eq(big_position(), 0);
	ck_assert_int_gt(big_search_all(), 5);
	ck_assert_int_eq(audit(&res), 0);
}
END_TEST

/*
 * A search that finds more than it holds walks the tenant instead, and
 * answers the same: here one that holds 64 bytes of ids (about three),
 * from the index, from the tail, and from both.
 */
START_TEST(big_search_held)
{
	size_t	held = store_search_held;

	store_search_held = 64;
	big_customers(0, 30, "2026-01-05T00:00:00Z");
	ck_assert_int_gt(big_search_all(), 5);
	ck_assert_int_eq(indexer_catch_up(st), STORE_OK);
	big_customers(30, BIG, "2026-01-06T00:00:00Z");
	ck_assert_int_gt(big_search_all(), 5);
	ck_assert_int_eq(indexer_catch_up(st), STORE_OK);
	ck_assert_int_gt(big_search_all(), 5);
	store_search_held = held;
}
END_TEST

/*
 * search.db has no log records, so recovery cannot mend it: a store
 * opened after a process died inside the environment (a child that
 * records new customers and leaves without closing) starts a new one,
 * which covers nothing (the one left behind covered the customers before
 * the child's), and searches still find every customer, from the log;
 * the indexer then builds it from the log's start.  A store closed and
 * opened again keeps its index, and the position with it.
 */
START_TEST(big_search_recovered)
{
	struct audit_result	 res;
	uint64_t		 indexed;
	pid_t			 pid;
	int			 status;

	big_customers(0, 20, "2026-01-05T00:00:00Z");
	ck_assert_int_eq(indexer_catch_up(st), STORE_OK);
	indexed = big_position();
	big_customers(20, 30, "2026-01-05T00:00:00Z");
	store_close(st);
	ck_assert_int_eq(store_open(&st, dir, 8, 0), STORE_OK);
	ck_assert_uint_eq(big_position(), indexed);

	store_close(st);
	st = NULL;
	if ((pid = fork()) == 0) {
		if (store_open(&st, dir, 8, 0) != STORE_OK)
			_exit(1);
		big_customers(30, BIG, "2026-01-06T00:00:00Z");
		_exit(0);
	}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ndeltas += BIG - 30;

	ck_assert_int_eq(store_open(&st, dir, 8, 0), STORE_OK);
	ck_assert_uint_gt(indexed, 0);
	ck_assert_uint_eq(big_position(), 0);
	ck_assert_int_gt(big_search_all(), 5);
	ck_assert_int_eq(audit(&res), 0);
	ck_assert_int_eq(indexer_catch_up(st), STORE_OK);
	ck_assert_uint_eq(big_position(), ndeltas);
	ck_assert_int_gt(big_search_all(), 5);
	ck_assert_int_eq(audit(&res), 0);
}
END_TEST

Suite *
audit_suite(void)
{
	Suite	*s = suite_create("audit");
	TCase	*tc = tcase_create("totals");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, totals_hold);
	tcase_add_test(tc, ledger_totals_hold);
	tcase_add_test(tc, duplicate_reference_warned);
	tcase_add_test(tc, customer_count);
	tcase_add_test(tc, customer_sum);
	tcase_add_test(tc, customer_times);
	tcase_add_test(tc, customer_last_seq);
	tcase_add_test(tc, customer_missing);
	tcase_add_test(tc, position_sum);
	tcase_add_test(tc, position_time);
	tcase_add_test(tc, position_index);
	tcase_add_test(tc, position_past_last);
	tcase_add_test(tc, month_fields);
	tcase_add_test(tc, month_missing);
	tcase_add_test(tc, month_extra);
	tcase_add_test(tc, month_latest);
	tcase_add_test(tc, month_format5_record);
	tcase_add_test(tc, leaf_index);
	tcase_add_test(tc, usage_counter);
	tcase_add_test(tc, tenant_missing);
	tcase_add_test(tc, undecodable);
	suite_add_tcase(s, tc);

	tc = tcase_create("checkpoints");
	tcase_add_checked_fixture(tc, chk_setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, checkpoints_hold);
	tcase_add_test(tc, checkpoint_net);
	tcase_add_test(tc, checkpoint_proof_root);
	tcase_add_test(tc, checkpoint_statement_byte);
	tcase_add_test(tc, checkpoint_signature);
	tcase_add_test(tc, checkpoint_previous);
	tcase_add_test(tc, checkpoint_seqs);
	tcase_add_test(tc, checkpoint_head);
	tcase_add_test(tc, checkpoint_indexes);
	tcase_add_test(tc, checkpoint_undecodable);
	suite_add_tcase(s, tc);

	tc = tcase_create("coverage");
	tcase_add_checked_fixture(tc, cov_setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, coverage_first_from_one);
	tcase_add_test(tc, coverage_all_customers);
	suite_add_tcase(s, tc);

	tc = tcase_create("big");
	tcase_add_checked_fixture(tc, cov_setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, big_checkpoint_chunks);
	tcase_add_test(tc, big_checkpoint_chunk_deltas);
	tcase_add_test(tc, big_search_index);
	tcase_add_test(tc, big_search_position);
	tcase_add_test(tc, big_search_overlap);
	tcase_add_test(tc, big_search_held);
	tcase_add_test(tc, big_search_recovered);
	suite_add_tcase(s, tc);
	return s;
}
