/*
 * The audit's recomputation of the totals the ledger keeps beside the
 * log (core/audit.c): a real store with deltas of several customers,
 * tenants, envs and months holds; then one stored total at a time is
 * altered past every Tally API, as tests/e2e/flipleaf.c alters a leaf,
 * and the audit must name exactly that total, and nothing else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <db.h>

#include "../common/decimal.h"
#include "../common/sbuf.h"
#include "../common/timefmt.h"
#include "../core/audit.h"
#include "../core/emit.h"
#include "../core/integrator.h"
#include "../core/ledger.h"
#include "../core/tlog.h"
#include "../crypto/hash.h"
#include "../crypto/merkle.h"
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

/* Appends one delta as the ledger does, with the time given. */
static int
append_txn(struct store_txn *t, void *arg)
{
	const struct delta_in	*in = arg;
	struct store_customer	 c;
	struct store_delta	 d;
	struct sbuf		 leaf = { 0 };
	decimal_t		 amount;
	int			 rc;

	memset(&d, 0, sizeof(d));
	if ((rc = store_log_size(t, &d.log_index)) != STORE_OK)
		return rc;
	rc = store_customer_get(t, in->tenant, in->env, in->customer, &c);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	d.seq = c.last_seq + 1;
	snprintf(d.record_id, sizeof(d.record_id), "rec_%llu",
	    (unsigned long long)d.log_index);
	snprintf(d.receipt_id, sizeof(d.receipt_id), "rcpt_%llu",
	    (unsigned long long)d.log_index);
	snprintf(d.tenant, sizeof(d.tenant), "%s", in->tenant);
	d.env = in->env;
	snprintf(d.customer_id, sizeof(d.customer_id), "%s", in->customer);
	snprintf(d.delta, sizeof(d.delta), "%s", in->delta);
	snprintf(d.reason, sizeof(d.reason), "test");
	ck_assert_int_eq(timefmt_parse_date(in->when, &d.created_ms), 0);
	memset(d.salt, 0x5a, sizeof(d.salt));
	ck_assert_int_eq(decimal_parse(d.delta, strlen(d.delta), &amount),
	    DECIMAL_OK);
	ck_assert_int_eq(emit_leaf(&d, &leaf), 0);
	d.leaf_data = leaf.buf;
	d.leaf_len = leaf.len;
	ck_assert_int_eq(hash_sha256(leaf.buf, leaf.len, d.content_hash), 0);
	ck_assert_int_eq(merkle_leaf_hash(leaf.buf, leaf.len, d.leaf_hash), 0);
	rc = store_delta_append(t, &d, amount);
	sbuf_free(&leaf);
	return rc;
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

static void
report(void *arg, const char *problem)
{
	(void)arg;
	if (nreported < 16)
		snprintf(reported[nreported], sizeof(reported[0]), "%s",
		    problem);
	nreported++;
}

/* Runs the audit; returns the number of problems, each in reported[]. */
static int
audit(struct audit_result *res)
{
	nreported = 0;
	ck_assert_int_eq(audit_run(st, report, NULL, res), STORE_OK);
	ck_assert_int_eq(res->problems, nreported);
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

/* Copies the record at from to the key to. */
static void
raw_copy(const char *file, const void *from, size_t flen, const void *to,
    size_t tlen)
{
	struct raw	r;
	DBT		k, v;

	raw_open(&r, file);
	dbt(&k, from, flen);
	memset(&v, 0, sizeof(v));
	v.flags = DB_DBT_MALLOC;
	ck_assert_int_eq(r.db->get(r.db, r.txn, &k, &v, 0), 0);
	dbt(&k, to, tlen);
	ck_assert_int_eq(r.db->put(r.db, r.txn, &k, &v, 0), 0);
	free(v.data);
	raw_close(&r);
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
START_TEST(ledger_totals_hold)
{
	struct store_signkey	 k;
	struct ledger		*led;
	struct principal	 who;
	struct integrator	*ig;
	struct audit_result	 res;
	char			 json[128], err[256];
	uint64_t		 size;
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
	ck_assert_msg(tlog_key_generate(st, dir, "tally.test/log",
	    SIGKEY_ECDSA_P256, 0, &k, err, sizeof(err)) == STORE_OK, "%s",
	    err);
	ck_assert_msg(integrator_open(&ig, st, dir, "tally.test/log", err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(integrator_step(ig, &size), STORE_OK);
	integrator_close(ig);
	ck_assert_int_eq(audit(&res), 0);
	ck_assert_int_eq(res.leaves, NDELTAS + 12);
	ck_assert_int_eq(res.positions, NDELTAS + 12);
	/* c1 and c2 are old customers with new deltas; c0 and c3 new. */
	ck_assert_int_eq(res.customers, 6);
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

	raw_del("months.db", key, monthkey(key, "acme", STORE_ENV_TEST, "c1",
	    "2026-01"));
	audit_finds("customer acme/test/c1 month 2026-01: no month record; "
	    "expected seqs 1..1, count 1, sum 2");
}
END_TEST

START_TEST(month_extra)
{
	uint8_t	key[256], to[256];

	raw_copy("months.db", key, monthkey(key, "beta", STORE_ENV_LIVE, "x",
	    "2026-01"), to, monthkey(to, "beta", STORE_ENV_LIVE, "x",
	    "2019-06"));
	audit_finds("customer beta/live/x month 2019-06: a month record, but "
	    "no delta that month");
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

Suite *
audit_suite(void)
{
	Suite	*s = suite_create("audit");
	TCase	*tc = tcase_create("totals");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, totals_hold);
	tcase_add_test(tc, ledger_totals_hold);
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
	tcase_add_test(tc, usage_counter);
	tcase_add_test(tc, tenant_missing);
	tcase_add_test(tc, undecodable);
	suite_add_tcase(s, tc);
	return s;
}
