#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../common/jsonin.h"
#include "../common/timefmt.h"
#include "../core/ledger.h"
#include "../core/metrics.h"
#include "../core/view.h"
#include "../crypto/hash.h"
#include "check.h"

static char		 dir[256];
static struct store	*st;
static struct ledger	*led;
static struct principal	 who;

static void
setup(void)
{
	unit_ledger_setup(dir, sizeof(dir), &st, &led, &who);
}

static void
teardown(void)
{
	unit_ledger_teardown(dir, st, led);
}

/* The answers as the API renders them (fcgi/api_delta.c). */
static int
answer(struct ledger_request *req, const struct store_delta *d)
{
	req->status = d != NULL ? 201 : 200;
	req->body = view_text(d != NULL ? view_delta(d) : view_batch(req),
	    &req->body_len);
	return req->body != NULL ? 0 : -1;
}

/* Emits one delta; the caller frees req and item. */
static int
emit(struct ledger_request *req, struct ledger_item *it, const char *key,
    const char *json)
{
	unit_item_from(it, json);
	ck_assert_msg(it->valid, "%s: %s", json, it->err.message);
	memset(req, 0, sizeof(*req));
	req->who = &who;
	req->answer = answer;
	req->idem_key = key;
	req->items = it;
	req->nitems = 1;
	return ledger_submit(led, req);
}

static void
done(struct ledger_request *req, struct ledger_item *it)
{
	emit_input_free(&it->in);
	ledger_request_free(req);
}

static long long
json_int(const char *body, const char *name)
{
	struct json_object	*obj = json_tokener_parse(body), *v;
	long long		 n;

	ck_assert_ptr_nonnull(obj);
	ck_assert(json_object_object_get_ex(obj, name, &v));
	n = json_object_get_int64(v);
	json_object_put(obj);
	return n;
}

static int
log_size(struct store_txn *t, void *arg)
{
	return store_log_size(t, arg);
}

static uint64_t
logged(void)
{
	uint64_t	n;

	ck_assert_int_eq(store_read(st, log_size, &n), STORE_OK);
	return n;
}

START_TEST(sequences_and_log_order)
{
	struct ledger_request	req;
	struct ledger_item	it;
	int			i;

	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(emit(&req, &it, NULL, "{\"customerId\":\"a\","
		    "\"delta\":1,\"reason\":\"r\"}"), STORE_OK);
		ck_assert_int_eq(req.status, 201);
		ck_assert_int_eq(json_int(req.body, "sequenceNumber"), i + 1);
		ck_assert_int_eq(json_int(req.body, "logIndex"), i);
		done(&req, &it);
	}
	ck_assert_int_eq(emit(&req, &it, NULL, "{\"customerId\":\"b\","
	    "\"delta\":1,\"reason\":\"r\"}"), STORE_OK);
	ck_assert_int_eq(json_int(req.body, "sequenceNumber"), 1);
	ck_assert_int_eq(json_int(req.body, "logIndex"), 5);
	done(&req, &it);
	ck_assert_uint_eq(logged(), 6);
}
END_TEST

START_TEST(replay_is_byte_identical)
{
	struct ledger_request	req, again;
	struct ledger_item	it, it2;

	ck_assert_int_eq(emit(&req, &it, "key-1", "{\"customerId\":\"a\","
	    "\"delta\":-50,\"reason\":\"r\",\"metadata\":{\"x\":1,\"y\":2}}"),
	    STORE_OK);
	ck_assert(req.outcome != LEDGER_REPLAYED);
	/* Same meaning, other spelling: a replay. */
	ck_assert_int_eq(emit(&again, &it2, "key-1", "{\"metadata\":{\"y\":2,"
	    "\"x\":1},\"reason\":\"r\",\"delta\":-50.0,\"customerId\":\"a\"}"),
	    STORE_OK);
	ck_assert(again.outcome == LEDGER_REPLAYED);
	ck_assert_int_eq(again.status, 201);
	ck_assert_uint_eq(again.body_len, req.body_len);
	ck_assert_mem_eq(again.body, req.body, req.body_len);
	done(&again, &it2);

	/* Same key, another amount: a conflict naming the original. */
	ck_assert_int_eq(emit(&again, &it2, "key-1", "{\"customerId\":\"a\","
	    "\"delta\":-51,\"reason\":\"r\"}"), STORE_OK);
	ck_assert(again.outcome == LEDGER_CONFLICT);
	ck_assert_ptr_null(again.body);
	ck_assert_ptr_nonnull(strstr(req.body, again.conflict_record));
	done(&again, &it2);
	done(&req, &it);
	ck_assert_uint_eq(logged(), 1);
}
END_TEST

START_TEST(reference_id_dedups_without_key)
{
	struct ledger_request	req, again;
	struct ledger_item	it, it2;
	const char		*body = "{\"customerId\":\"a\",\"delta\":3,"
				    "\"reason\":\"r\",\"referenceId\":\"day-1\"}";

	ck_assert_int_eq(emit(&req, &it, NULL, body), STORE_OK);
	ck_assert_int_eq(emit(&again, &it2, NULL, body), STORE_OK);
	ck_assert(again.outcome == LEDGER_REPLAYED);
	ck_assert_mem_eq(again.body, req.body, req.body_len);
	done(&again, &it2);
	/* The same referenceId of another customer is another delta. */
	ck_assert_int_eq(emit(&again, &it2, NULL, "{\"customerId\":\"b\","
	    "\"delta\":3,\"reason\":\"r\",\"referenceId\":\"day-1\"}"),
	    STORE_OK);
	ck_assert(again.outcome != LEDGER_REPLAYED);
	done(&again, &it2);
	done(&req, &it);
	ck_assert_uint_eq(logged(), 2);
}
END_TEST

/* Emits body under key (or none): it must replay first, byte for byte. */
static void
replays(const struct ledger_request *first, const char *key,
    const char *body)
{
	struct ledger_request	req;
	struct ledger_item	it;

	ck_assert_int_eq(emit(&req, &it, key, body), STORE_OK);
	ck_assert_msg(req.outcome == LEDGER_REPLAYED, "%s under %s: not a "
	    "replay", body, key ? key : "no key");
	ck_assert_int_eq(req.status, 201);
	ck_assert_uint_eq(req.body_len, first->body_len);
	ck_assert_mem_eq(req.body, first->body, first->body_len);
	done(&req, &it);
}

/* Emits body under key (or none): a conflict, field naming original. */
static void
conflicts(const char *key, const char *body, const char *field,
    const char *original)
{
	struct ledger_request	req;
	struct ledger_item	it;

	ck_assert_int_eq(emit(&req, &it, key, body), STORE_OK);
	ck_assert_msg(req.outcome == LEDGER_CONFLICT, "%s under %s: not a "
	    "conflict", body, key ? key : "no key");
	ck_assert_ptr_null(req.body);
	ck_assert_str_eq(req.conflict_field, field);
	ck_assert_str_eq(req.conflict_record, original);
	done(&req, &it);
}

/*
 * The SDK's retry (SPEC 3.1): a day's flush sent without the header,
 * retried with Idempotency-Key = referenceId, is the same delta.  The
 * retry binds the key too, so the key alone then finds it, and the key
 * reused for anything else is a conflict naming it.
 */
START_TEST(header_retry_of_reference_replays)
{
	struct ledger_request	req;
	struct ledger_item	it;
	const char		*key = "usage:customer_acme:2026-12-04";
	const char		*body = "{\"customerId\":\"customer_acme\","
				    "\"delta\":-50,\"reason\":\"usage\","
				    "\"referenceId\":"
				    "\"usage:customer_acme:2026-12-04\"}";

	ck_assert_int_eq(emit(&req, &it, NULL, body), STORE_OK);
	ck_assert_int_eq(req.status, 201);
	replays(&req, key, body);
	replays(&req, key, body);
	conflicts(key, "{\"customerId\":\"customer_acme\",\"delta\":-50,"
	    "\"reason\":\"usage\",\"referenceId\":"
	    "\"usage:customer_acme:2026-12-05\"}", "Idempotency-Key",
	    it.in.record_id);
	done(&req, &it);
	ck_assert_uint_eq(logged(), 1);
}
END_TEST

/* The other order: first with the header, then without it. */
START_TEST(reference_retry_of_header_replays)
{
	struct ledger_request	req;
	struct ledger_item	it;
	const char		*body = "{\"customerId\":\"a\",\"delta\":2,"
				    "\"reason\":\"r\",\"referenceId\":\"d-2\"}";

	ck_assert_int_eq(emit(&req, &it, "d-2", body), STORE_OK);
	replays(&req, NULL, body);
	/* And under a new key: the referenceId still names the delta. */
	replays(&req, "other-key", body);
	done(&req, &it);
	ck_assert_uint_eq(logged(), 1);
}
END_TEST

/*
 * Either key bound to another request is a conflict naming the delta it
 * is bound to, whatever the other key says.
 */
START_TEST(either_key_conflicts)
{
	struct ledger_request	a, b, again;
	struct ledger_item	ia, ib, it;

	ck_assert_int_eq(emit(&a, &ia, "k-a", "{\"customerId\":\"a\","
	    "\"delta\":1,\"reason\":\"r\",\"referenceId\":\"ref-a\"}"),
	    STORE_OK);
	ck_assert_int_eq(emit(&b, &ib, NULL, "{\"customerId\":\"a\","
	    "\"delta\":1,\"reason\":\"r\",\"referenceId\":\"ref-b\"}"),
	    STORE_OK);
	/* A new key, a referenceId of another delta with another body. */
	conflicts("k-new", "{\"customerId\":\"a\",\"delta\":9,\"reason\":"
	    "\"r\",\"referenceId\":\"ref-b\"}", "referenceId",
	    ib.in.record_id);
	/* The key of one delta, the request (and referenceId) of another. */
	conflicts("k-a", "{\"customerId\":\"a\",\"delta\":1,\"reason\":\"r\","
	    "\"referenceId\":\"ref-b\"}", "Idempotency-Key", ia.in.record_id);
	/* A refused request binds nothing: k-new is still free. */
	ck_assert_int_eq(emit(&again, &it, "k-new", "{\"customerId\":\"a\","
	    "\"delta\":3,\"reason\":\"r\"}"), STORE_OK);
	ck_assert_int_eq(again.status, 201);
	ck_assert(again.outcome != LEDGER_REPLAYED);
	done(&again, &it);
	done(&a, &ia);
	done(&b, &ib);
	ck_assert_uint_eq(logged(), 3);
}
END_TEST

/* Binds Idempotency-Key key as ledger_key lays it out, past the ledger. */
static int
bind_key_txn(struct store_txn *t, void *arg)
{
	const struct store_idem	*idem = arg;
	static const char	 k[] = "K\0acme\0" "1\0legacy-key";

	return store_idem_add(t, k, sizeof(k) - 1, idem);
}

/*
 * Data from before both keys were always checked: the header bound to
 * one delta, the referenceId (same request) to another.  Neither is the
 * answer: a conflict naming the one the referenceId holds.
 */
START_TEST(legacy_keys_on_two_deltas_conflict)
{
	struct ledger_request	req;
	struct ledger_item	it;
	struct store_idem	idem;
	const char		*body = "{\"customerId\":\"a\",\"delta\":4,"
				    "\"reason\":\"r\",\"referenceId\":\"old\"}";

	ck_assert_int_eq(emit(&req, &it, NULL, body), STORE_OK);
	memset(&idem, 0, sizeof(idem));
	memcpy(idem.fingerprint, it.in.fingerprint, sizeof(idem.fingerprint));
	idem.status = 201;
	snprintf(idem.record_id, sizeof(idem.record_id), "rec_second");
	ck_assert_int_eq(store_write(st, bind_key_txn, &idem), STORE_OK);
	conflicts("legacy-key", body, "referenceId", it.in.record_id);
	done(&req, &it);
	ck_assert_uint_eq(logged(), 1);
}
END_TEST

#define RACERS	32

struct racer {
	pthread_t		thread;
	struct ledger_request	req;
	struct ledger_item	it;
	int			rc;
};

static void *
race(void *arg)
{
	struct racer	*r = arg;

	r->rc = emit(&r->req, &r->it, "same-key", "{\"customerId\":\"a\","
	    "\"delta\":7,\"reason\":\"race\"}");
	return NULL;
}

START_TEST(concurrent_duplicates_record_once)
{
	struct racer	*r = calloc(RACERS, sizeof(*r));
	int		 i, recorded = 0;

	ck_assert_ptr_nonnull(r);
	for (i = 0; i < RACERS; i++)
		ck_assert_int_eq(pthread_create(&r[i].thread, NULL, race,
		    &r[i]), 0);
	for (i = 0; i < RACERS; i++)
		pthread_join(r[i].thread, NULL);
	for (i = 0; i < RACERS; i++) {
		ck_assert_int_eq(r[i].rc, STORE_OK);
		ck_assert_int_eq(r[i].req.status, 201);
		recorded += r[i].req.outcome != LEDGER_REPLAYED;
		ck_assert_uint_eq(r[i].req.body_len, r[0].req.body_len);
		ck_assert_mem_eq(r[i].req.body, r[0].req.body,
		    r[0].req.body_len);
	}
	ck_assert_int_eq(recorded, 1);
	ck_assert_uint_eq(logged(), 1);
	for (i = 0; i < RACERS; i++)
		done(&r[i].req, &r[i].it);
	free(r);
}
END_TEST

static int
customer_a(struct store_txn *t, void *arg)
{
	return store_customer_get(t, "acme", STORE_ENV_LIVE, "a", arg);
}

START_TEST(sums_are_exact)
{
	struct ledger_request	req;
	struct ledger_item	it;
	struct store_customer	c;
	int			i;

	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(emit(&req, &it, NULL, "{\"customerId\":\"a\","
		    "\"delta\":0.1,\"reason\":\"tenth\"}"), STORE_OK);
		done(&req, &it);
	}
	ck_assert_int_eq(store_read(st, customer_a, &c), STORE_OK);
	ck_assert(c.sum == DECIMAL_SCALE);
	ck_assert_uint_eq(c.count, 10);
	ck_assert_uint_eq(c.last_seq, 10);
}
END_TEST

/*
 * results[i] of a batch answer: its own recordId (NULL: null) and the
 * original its error names (NULL: no error.recordId).
 */
static void
batch_result_is(const char *body, size_t i, const char *record_id,
    const char *original)
{
	struct json_object	*obj = json_tokener_parse(body), *res, *v, *err;

	ck_assert_ptr_nonnull(obj);
	ck_assert(json_object_object_get_ex(obj, "results", &res));
	res = json_object_array_get_idx(res, i);
	ck_assert(json_object_object_get_ex(res, "recordId", &v));
	if (record_id == NULL) {
		ck_assert_ptr_null(v);
		ck_assert(json_object_object_get_ex(res, "receiptId", &v));
		ck_assert_ptr_null(v);
	} else
		ck_assert_str_eq(json_object_get_string(v), record_id);
	if (original == NULL)
		ck_assert(!json_object_object_get_ex(res, "error", &err) ||
		    !json_object_object_get_ex(err, "recordId", NULL));
	else {
		ck_assert(json_object_object_get_ex(res, "error", &err));
		ck_assert(json_object_object_get_ex(err, "recordId", &v));
		ck_assert_str_eq(json_object_get_string(v), original);
	}
	json_object_put(obj);
}

START_TEST(batch_mixed_items)
{
	static const char *const items[] = {
		"{\"customerId\":\"c\",\"delta\":1,\"reason\":\"ok\","
		    "\"referenceId\":\"r1\"}",
		"{\"customerId\":\"c\",\"delta\":0,\"reason\":\"zero\"}",
		"{\"customerId\":\"c\",\"delta\":1,\"reason\":\"ok\","
		    "\"referenceId\":\"r1\"}",
		"{\"customerId\":\"c\",\"delta\":9,\"reason\":\"other\","
		    "\"referenceId\":\"r1\"}",
		"{\"customerId\":\"c\",\"delta\":2,\"reason\":\"fix\","
		    "\"adjusts\":{\"referenceId\":\"r1\"}}",
		"{\"customerId\":\"c\",\"delta\":2,\"reason\":\"fix\","
		    "\"adjusts\":{\"referenceId\":\"missing\"}}",
	};
	enum { N = sizeof(items) / sizeof(items[0]) };
	struct ledger_item	it[N];
	struct ledger_request	req;
	size_t			i;

	for (i = 0; i < N; i++)
		unit_item_from(&it[i], items[i]);
	memset(&req, 0, sizeof(req));
	req.who = &who;
	req.answer = answer;
	req.batch = 1;
	req.items = it;
	req.nitems = N;
	ck_assert_int_eq(ledger_submit(led, &req), STORE_OK);
	ck_assert_int_eq(req.status, 200);
	ck_assert_int_eq(it[0].outcome, LEDGER_RECORDED);
	ck_assert_int_eq(it[1].outcome, LEDGER_INVALID);
	ck_assert_str_eq(it[1].err.field, "delta");
	ck_assert_int_eq(it[2].outcome, LEDGER_REPLAYED);
	ck_assert_str_eq(it[2].record_id, it[0].record_id);
	ck_assert_int_eq(it[3].outcome, LEDGER_CONFLICT);
	/* The refused item names the original, and has no ids of its own. */
	ck_assert_str_eq(it[3].conflict_record, it[0].record_id);
	ck_assert_str_eq(it[3].record_id, "");
	ck_assert_str_eq(it[3].receipt_id, "");
	batch_result_is(req.body, 3, NULL, it[0].record_id);
	batch_result_is(req.body, 2, it[0].record_id, NULL);
	ck_assert_int_eq(it[4].outcome, LEDGER_RECORDED);
	ck_assert_int_eq(it[5].outcome, LEDGER_INVALID);
	ck_assert_str_eq(it[5].err.field, "adjusts");
	ck_assert_int_eq(json_int(req.body, "totalQueued"), 3);
	ck_assert_int_eq(json_int(req.body, "totalFailed"), 3);
	/* Only the two new deltas are in the log. */
	ck_assert_uint_eq(logged(), 2);
	for (i = 0; i < N; i++)
		emit_input_free(&it[i].in);
	ledger_request_free(&req);
}
END_TEST

/* A keyed batch of one item, with the two fingerprints given. */
static void
keyed_batch(struct ledger_request *req, struct ledger_item *it, int fp,
    int legacy)
{
	unit_item_from(it, "{\"customerId\":\"k\",\"delta\":1,\"reason\":"
	    "\"r\"}");
	memset(req, 0, sizeof(*req));
	req->who = &who;
	req->answer = answer;
	req->idem_key = "batch-key";
	req->batch = 1;
	req->items = it;
	req->nitems = 1;
	memset(req->fingerprint, fp, sizeof(req->fingerprint));
	memset(req->legacy_fingerprint, legacy,
	    sizeof(req->legacy_fingerprint));
	ck_assert_int_eq(ledger_submit(led, req), STORE_OK);
}

/*
 * A batch key bound before batches were fingerprinted by meaning holds
 * the fingerprint of the body's JCS form: a retry matching that one
 * still replays.
 */
START_TEST(batch_key_legacy_fingerprint)
{
	struct ledger_request	req, again;
	struct ledger_item	it, it2;

	keyed_batch(&req, &it, 1, 9);
	ck_assert(req.outcome != LEDGER_REPLAYED);
	keyed_batch(&again, &it2, 2, 1);
	ck_assert(again.outcome == LEDGER_REPLAYED);
	ck_assert_mem_eq(again.body, req.body, req.body_len);
	done(&again, &it2);
	keyed_batch(&again, &it2, 3, 4);
	ck_assert(again.outcome == LEDGER_CONFLICT);
	ck_assert_str_eq(again.conflict_field, "Idempotency-Key");
	done(&again, &it2);
	done(&req, &it);
	ck_assert_uint_eq(logged(), 1);
}
END_TEST

START_TEST(adjusts_must_be_same_customer)
{
	struct ledger_request	req, fix;
	struct ledger_item	it, it2;
	char			body[256];

	ck_assert_int_eq(emit(&req, &it, NULL, "{\"customerId\":\"a\","
	    "\"delta\":5,\"reason\":\"r\"}"), STORE_OK);
	snprintf(body, sizeof(body), "{\"customerId\":\"b\",\"delta\":-5,"
	    "\"reason\":\"fix\",\"adjusts\":{\"recordId\":\"%s\"}}",
	    it.in.record_id);
	ck_assert_int_eq(emit(&fix, &it2, NULL, body), STORE_OK);
	ck_assert_ptr_null(fix.body);
	ck_assert_int_eq(it2.outcome, LEDGER_INVALID);
	ck_assert_str_eq(it2.err.field, "adjusts");
	done(&fix, &it2);
	snprintf(body, sizeof(body), "{\"customerId\":\"a\",\"delta\":-5,"
	    "\"reason\":\"fix\",\"adjusts\":{\"recordId\":\"%s\"}}",
	    it.in.record_id);
	ck_assert_int_eq(emit(&fix, &it2, NULL, body), STORE_OK);
	ck_assert_int_eq(fix.status, 201);
	done(&fix, &it2);
	done(&req, &it);
	ck_assert_uint_eq(logged(), 2);
}
END_TEST

static int
first_delta(struct store_txn *t, void *arg)
{
	return store_delta_get(t, 0, arg);
}

START_TEST(stored_leaf_hashes)
{
	struct ledger_request	req;
	struct ledger_item	it;
	struct store_delta	d;
	uint8_t			h[HASH_LEN], *buf;

	ck_assert_int_eq(emit(&req, &it, NULL, "{\"customerId\":\"a\","
	    "\"delta\":12.5,\"reason\":\"caf\\u00e9\",\"referenceId\":\"x\","
	    "\"metadata\":{\"b\":[1,2],\"a\":\"z\"}}"), STORE_OK);
	done(&req, &it);
	ck_assert_int_eq(store_read(st, first_delta, &d), STORE_OK);
	ck_assert_ptr_nonnull(strstr(d.leaf_data, "\"delta\":\"12.5\""));
	ck_assert_ptr_nonnull(strstr(d.leaf_data,
	    "\"metadata\":{\"a\":\"z\",\"b\":[1,2]}"));
	ck_assert_int_eq(hash_sha256(d.leaf_data, d.leaf_len, h), 0);
	ck_assert_mem_eq(h, d.content_hash, HASH_LEN);
	buf = malloc(d.leaf_len + 1);
	buf[0] = 0x00;
	memcpy(buf + 1, d.leaf_data, d.leaf_len);
	ck_assert_int_eq(hash_sha256(buf, d.leaf_len + 1, h), 0);
	ck_assert_mem_eq(h, d.leaf_hash, HASH_LEN);
	free(buf);
	store_delta_free(&d);
}
END_TEST

/*
 * Requests of one customer at once, in one group or a few, beside a
 * batch refused over quota part way (its nested transaction undone after
 * it updated the totals): the customer's totals, its month and the
 * tenant's usage count exactly the deltas recorded (issue 22: the group
 * keeps them in memory and writes them once).
 */
#define QUOTA_EMITS	8
#define QUOTA_LIMIT	20
#define QUOTA_FIRST	(QUOTA_LIMIT - QUOTA_EMITS - 1)

struct quota_seen {
	struct store_customer	c;
	struct store_month	m;
	uint64_t		usage;
	int			month;
};

static int
quota_set(struct store_txn *t, void *arg)
{
	(void)arg;
	return store_quota_put(t, "acme", STORE_ENV_LIVE, QUOTA_LIMIT);
}

static int
quota_read(struct store_txn *t, void *arg)
{
	struct quota_seen	*q = arg;
	int			 rc;

	if ((rc = store_customer_get(t, "acme", STORE_ENV_LIVE, "a",
	    &q->c)) != STORE_OK ||
	    (rc = store_month_get(t, "acme", STORE_ENV_LIVE, "a", q->month,
	    &q->m)) != STORE_OK)
		return rc;
	return store_usage_get(t, "acme", STORE_ENV_LIVE, q->month,
	    &q->usage);
}

static void *
quota_emit(void *arg)
{
	struct racer	*r = arg;

	r->rc = emit(&r->req, &r->it, NULL, "{\"customerId\":\"a\","
	    "\"delta\":0.25,\"reason\":\"at once\"}");
	return NULL;
}

static void *
quota_batch(void *arg)
{
	struct ledger_request	*req = arg;

	req->rc = ledger_submit(led, req);
	return NULL;
}

START_TEST(group_totals_with_undone_request)
{
	struct racer		 r[QUOTA_EMITS];
	struct ledger_item	 items[10];
	struct ledger_request	 req, batch;
	struct ledger_item	 it;
	struct quota_seen	 q;
	pthread_t		 bt;
	size_t			 i;

	ck_assert_int_eq(store_write(st, quota_set, NULL), STORE_OK);
	for (i = 0; i < QUOTA_FIRST; i++) {
		ck_assert_int_eq(emit(&req, &it, NULL, "{\"customerId\":\"a\","
		    "\"delta\":1,\"reason\":\"first\"}"), STORE_OK);
		done(&req, &it);
	}
	/* Over the quota wherever it falls among the emits. */
	for (i = 0; i < 10; i++)
		unit_item_from(&items[i], "{\"customerId\":\"a\","
		    "\"delta\":100,\"reason\":\"over\"}");
	memset(&batch, 0, sizeof(batch));
	batch.who = &who;
	batch.answer = answer;
	batch.batch = 1;
	batch.items = items;
	batch.nitems = 10;
	memset(r, 0, sizeof(r));
	for (i = 0; i < QUOTA_EMITS; i++)
		ck_assert_int_eq(pthread_create(&r[i].thread, NULL, quota_emit,
		    &r[i]), 0);
	ck_assert_int_eq(pthread_create(&bt, NULL, quota_batch, &batch), 0);
	for (i = 0; i < QUOTA_EMITS; i++)
		pthread_join(r[i].thread, NULL);
	pthread_join(bt, NULL);
	for (i = 0; i < QUOTA_EMITS; i++) {
		ck_assert_int_eq(r[i].rc, STORE_OK);
		ck_assert_int_eq(r[i].req.outcome, LEDGER_RECORDED);
		done(&r[i].req, &r[i].it);
	}
	ck_assert_int_eq(batch.rc, STORE_OK);
	ck_assert_int_eq(batch.outcome, LEDGER_QUOTA);
	for (i = 0; i < 10; i++)
		emit_input_free(&items[i].in);
	ledger_request_free(&batch);

	memset(&q, 0, sizeof(q));
	q.month = timefmt_month(timefmt_now_ms());
	ck_assert_int_eq(store_read(st, quota_read, &q), STORE_OK);
	ck_assert_uint_eq(q.c.count, QUOTA_FIRST + QUOTA_EMITS);
	ck_assert_uint_eq(q.c.last_seq, QUOTA_FIRST + QUOTA_EMITS);
	ck_assert(q.c.sum == (__int128)DECIMAL_SCALE * QUOTA_FIRST +
	    (__int128)DECIMAL_SCALE / 4 * QUOTA_EMITS);
	ck_assert_uint_eq(q.m.count, QUOTA_FIRST + QUOTA_EMITS);
	ck_assert_uint_eq(q.m.last_seq, QUOTA_FIRST + QUOTA_EMITS);
	ck_assert(q.m.sum == q.c.sum);
	ck_assert_uint_eq(q.usage, QUOTA_FIRST + QUOTA_EMITS);
	ck_assert_uint_eq(logged(), QUOTA_FIRST + QUOTA_EMITS);
}
END_TEST

static int
delta_at_1(struct store_txn *t, void *arg)
{
	return store_delta_get(t, 1, arg);
}

/*
 * A request undone in the middle of a group after it appended deltas:
 * the next request of the same group appends where the undone one began
 * (the group keeps the log's size; an undone request must not leave its
 * appends counted), so the log has no gap.  The first emit's answer
 * holds the writer until the other two are queued behind it, in order,
 * which puts them in one group.
 */
static sem_t	held, release;

static int
answer_held(struct ledger_request *req, const struct store_delta *d)
{
	sem_post(&held);
	while (sem_wait(&release) != 0)
		;
	return answer(req, d);
}

static int
answer_fails(struct ledger_request *req, const struct store_delta *d)
{
	(void)req;
	(void)d;
	return -1;
}

static void *
submit(void *arg)
{
	struct ledger_request	*req = arg;

	req->rc = ledger_submit(led, req);
	return NULL;
}

/*
 * req of items (a batch if more than one, under an Idempotency-Key, so
 * that its answer is rendered in the writer), answered by fn, started in
 * thread; waits until the writer has it queued, the depth-th.
 */
static void
queue_behind(pthread_t *thread, struct ledger_request *req,
    struct ledger_item *items, size_t n,
    int (*fn)(struct ledger_request *, const struct store_delta *),
    int64_t depth)
{
	memset(req, 0, sizeof(*req));
	req->who = &who;
	req->answer = fn;
	req->batch = n > 1;
	req->idem_key = req->batch ? "undone" : NULL;
	req->items = items;
	req->nitems = n;
	ck_assert_int_eq(pthread_create(thread, NULL, submit, req), 0);
	while (metrics_gauge_get(METRICS_QUEUE_DEPTH) < depth)
		usleep(1000);
	usleep(20000);		/* counted just before it is linked in */
}

/* Emits a in thread, whose answer holds the writer until release. */
static void
hold_writer(pthread_t *thread, struct ledger_request *req,
    struct ledger_item *a)
{
	unit_item_from(a, "{\"customerId\":\"a\",\"delta\":1,"
	    "\"reason\":\"holds the writer\"}");
	memset(req, 0, sizeof(*req));
	req->who = &who;
	req->answer = answer_held;
	req->items = a;
	req->nitems = 1;
	ck_assert_int_eq(pthread_create(thread, NULL, submit, req), 0);
	while (sem_wait(&held) != 0)
		;
}

START_TEST(group_log_size_after_undone_request)
{
	struct ledger_request	 first, undone, next;
	struct ledger_item	 a, b[2], c;
	struct store_delta	 d;
	pthread_t		 ta, tb, tc;
	int64_t			 depth = metrics_gauge_get(METRICS_QUEUE_DEPTH);

	ck_assert_int_eq(sem_init(&held, 0, 0), 0);
	ck_assert_int_eq(sem_init(&release, 0, 0), 0);
	unit_item_from(&b[0], "{\"customerId\":\"b\",\"delta\":1,"
	    "\"reason\":\"undone\"}");
	unit_item_from(&b[1], "{\"customerId\":\"b\",\"delta\":2,"
	    "\"reason\":\"undone\"}");
	unit_item_from(&c, "{\"customerId\":\"c\",\"delta\":3,"
	    "\"reason\":\"after\"}");
	hold_writer(&ta, &first, &a);
	queue_behind(&tb, &undone, b, 2, answer_fails, depth + 1);
	queue_behind(&tc, &next, &c, 1, answer, depth + 2);
	sem_post(&release);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_join(tc, NULL);

	ck_assert_int_eq(first.rc, STORE_OK);
	ck_assert_int_eq(first.outcome, LEDGER_RECORDED);
	ck_assert_int_eq(undone.rc, STORE_NOMEM);
	ck_assert_int_eq(next.rc, STORE_OK);
	ck_assert_int_eq(next.outcome, LEDGER_RECORDED);
	ck_assert_uint_eq(logged(), 2);
	ck_assert_int_eq(store_read(st, delta_at_1, &d), STORE_OK);
	ck_assert_str_eq(d.customer_id, "c");
	ck_assert_str_eq(d.record_id, c.record_id);
	store_delta_free(&d);
	done(&first, &a);
	done(&undone, &b[0]);
	emit_input_free(&b[1].in);
	done(&next, &c);
	sem_destroy(&held);
	sem_destroy(&release);
}
END_TEST

struct customer_of {
	const char		*id;
	struct store_customer	 c;
};

static int
customer_get(struct store_txn *t, void *arg)
{
	struct customer_of	*co = arg;

	return store_customer_get(t, "acme", STORE_ENV_LIVE, co->id, &co->c);
}

/* The customer's deltas counted in the store (0: no such customer). */
static uint64_t
customer_count(const char *id)
{
	struct customer_of	co = { id, { 0 } };
	int			rc;

	rc = store_read(st, customer_get, &co);
	ck_assert(rc == STORE_OK || rc == STORE_NOTFOUND);
	return rc == STORE_OK ? co.c.count : 0;
}

/*
 * Single emits run in the group's own transaction: one that fails after
 * it wrote (its answer out of memory) is still undone alone, the group
 * run again with each request nested.  What the group did before it (a
 * single emit and a batch) and the emits after it stand, once each, and
 * a retry of its referenceId records it afresh.
 */
START_TEST(group_single_emit_undone_alone)
{
	struct ledger_request	 first, before, batch, failed, next, retry;
	struct ledger_item	 a, d, e[2], b, c, b2;
	pthread_t		 ta, td, te, tb, tc, tr;
	int64_t			 depth = metrics_gauge_get(METRICS_QUEUE_DEPTH);
	static const char	*bj = "{\"customerId\":\"b\",\"delta\":1,"
	    "\"reason\":\"fails\",\"referenceId\":\"r1\"}";

	ck_assert_int_eq(sem_init(&held, 0, 0), 0);
	ck_assert_int_eq(sem_init(&release, 0, 0), 0);
	unit_item_from(&d, "{\"customerId\":\"d\",\"delta\":4,"
	    "\"reason\":\"before\"}");
	unit_item_from(&e[0], "{\"customerId\":\"e\",\"delta\":5,"
	    "\"reason\":\"batch\"}");
	unit_item_from(&e[1], "{\"customerId\":\"e\",\"delta\":6,"
	    "\"reason\":\"batch\"}");
	unit_item_from(&b, bj);
	unit_item_from(&c, "{\"customerId\":\"c\",\"delta\":3,"
	    "\"reason\":\"beside\"}");
	unit_item_from(&b2, bj);
	hold_writer(&ta, &first, &a);
	queue_behind(&td, &before, &d, 1, answer, depth + 1);
	queue_behind(&te, &batch, e, 2, answer, depth + 2);
	queue_behind(&tb, &failed, &b, 1, answer_fails, depth + 3);
	queue_behind(&tc, &next, &c, 1, answer, depth + 4);
	queue_behind(&tr, &retry, &b2, 1, answer, depth + 5);
	sem_post(&release);
	pthread_join(ta, NULL);
	pthread_join(td, NULL);
	pthread_join(te, NULL);
	pthread_join(tb, NULL);
	pthread_join(tc, NULL);
	pthread_join(tr, NULL);

	ck_assert_int_eq(first.rc, STORE_OK);
	ck_assert_int_eq(before.rc, STORE_OK);
	ck_assert_int_eq(before.outcome, LEDGER_RECORDED);
	ck_assert_int_eq(json_int(before.body, "logIndex"), 1);
	ck_assert_int_eq(batch.rc, STORE_OK);
	ck_assert_int_eq(e[0].outcome, LEDGER_RECORDED);
	ck_assert_int_eq(e[1].outcome, LEDGER_RECORDED);
	ck_assert_int_eq(failed.rc, STORE_NOMEM);
	ck_assert_int_eq(next.rc, STORE_OK);
	ck_assert_int_eq(next.outcome, LEDGER_RECORDED);
	ck_assert_int_eq(json_int(next.body, "logIndex"), 4);
	ck_assert_int_eq(retry.rc, STORE_OK);
	ck_assert_int_eq(retry.outcome, LEDGER_RECORDED);
	ck_assert_uint_eq(logged(), 6);
	ck_assert_uint_eq(customer_count("d"), 1);
	ck_assert_uint_eq(customer_count("e"), 2);
	ck_assert_uint_eq(customer_count("b"), 1);
	ck_assert_uint_eq(customer_count("c"), 1);
	done(&first, &a);
	done(&before, &d);
	emit_input_free(&e[1].in);
	done(&batch, &e[0]);
	done(&failed, &b);
	done(&next, &c);
	done(&retry, &b2);
	sem_destroy(&held);
	sem_destroy(&release);
}
END_TEST

Suite *
ledger_suite(void)
{
	Suite	*s = suite_create("ledger");
	TCase	*tc = tcase_create("ledger");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, sequences_and_log_order);
	tcase_add_test(tc, replay_is_byte_identical);
	tcase_add_test(tc, reference_id_dedups_without_key);
	tcase_add_test(tc, header_retry_of_reference_replays);
	tcase_add_test(tc, reference_retry_of_header_replays);
	tcase_add_test(tc, either_key_conflicts);
	tcase_add_test(tc, legacy_keys_on_two_deltas_conflict);
	tcase_add_test(tc, concurrent_duplicates_record_once);
	tcase_add_test(tc, sums_are_exact);
	tcase_add_test(tc, batch_mixed_items);
	tcase_add_test(tc, batch_key_legacy_fingerprint);
	tcase_add_test(tc, adjusts_must_be_same_customer);
	tcase_add_test(tc, stored_leaf_hashes);
	tcase_add_test(tc, group_totals_with_undone_request);
	tcase_add_test(tc, group_log_size_after_undone_request);
	tcase_add_test(tc, group_single_emit_undone_alone);
	suite_add_tcase(s, tc);
	return s;
}
