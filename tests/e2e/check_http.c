/*
 * The end-to-end suite: real HTTP requests, through whichever web server
 * TALLY_URL points at (nginx or Apache, HTTP or HTTPS).  tests/e2e/run.sh
 * runs it once per front end, so every assertion holds through each.
 *
 * Environment: TALLY_URL, TALLY_CACERT (for https), and the keys made by
 * run.sh: TALLY_KEY_LIVE, _TEST, _REVOKED, _CUSTOMER, _OTHER.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <curl/curl.h>
#include <json-c/json.h>

#include "http.h"

START_TEST(health_and_ready)
{
	struct reply	r;

	http(&r, "GET", "/healthz", NULL, NULL, NULL, 0, NULL);
	assert_ok(&r, 200);
	ck_assert_str_eq(get_str(r.json, "data.status"), "ok");
	ck_assert_uint_eq(strlen(r.request_id), 32);
	reply_free(&r);
	http(&r, "GET", "/readyz", NULL, NULL, NULL, 0, NULL);
	assert_ok(&r, 200);
	ck_assert_str_eq(get_str(r.json, "data.status"), "ready");
	reply_free(&r);
}
END_TEST

START_TEST(request_id_echoed_when_safe)
{
	struct reply	r;

	http(&r, "GET", "/healthz", NULL, NULL, NULL, 0,
	    "X-Request-Id: trace-42.a:b_c");
	ck_assert_str_eq(r.request_id, "trace-42.a:b_c");
	reply_free(&r);
	/* Unsafe to echo: replaced by a fresh one, never reflected. */
	http(&r, "GET", "/healthz", NULL, NULL, NULL, 0,
	    "X-Request-Id: <script>");
	ck_assert_uint_eq(strlen(r.request_id), 32);
	ck_assert_ptr_null(strstr(r.request_id, "script"));
	reply_free(&r);
}
END_TEST

START_TEST(whoami_vendor_live)
{
	struct reply	r;

	http(&r, "GET", "/api/v1/auth/whoami", env_key("TALLY_KEY_LIVE"),
	    NULL, NULL, 0, NULL);
	assert_ok(&r, 200);
	ck_assert_str_eq(get_str(r.json, "data.tenant"), "acme");
	ck_assert_str_eq(get_str(r.json, "data.env"), "live");
	ck_assert_str_eq(get_str(r.json, "data.keyKind"), "vendor");
	ck_assert(json_object_is_type(get(r.json, "data.customerId"),
	    json_type_null));
	/* The secret is never echoed back. */
	ck_assert_ptr_null(strstr(r.body, strchr(env_key("TALLY_KEY_LIVE"),
	    '.') + 1));
	reply_free(&r);
}
END_TEST

START_TEST(whoami_test_env_and_other_tenant)
{
	struct reply	r;

	http(&r, "GET", "/api/v1/auth/whoami", env_key("TALLY_KEY_TEST"),
	    NULL, NULL, 0, NULL);
	assert_ok(&r, 200);
	ck_assert_str_eq(get_str(r.json, "data.env"), "test");
	reply_free(&r);
	http(&r, "GET", "/api/v1/auth/whoami", env_key("TALLY_KEY_OTHER"),
	    NULL, NULL, 0, NULL);
	assert_ok(&r, 200);
	ck_assert_str_eq(get_str(r.json, "data.tenant"), "other");
	reply_free(&r);
}
END_TEST

START_TEST(whoami_customer_key)
{
	struct reply	r;

	http(&r, "GET", "/api/v1/auth/whoami", env_key("TALLY_KEY_CUSTOMER"),
	    NULL, NULL, 0, NULL);
	assert_ok(&r, 200);
	ck_assert_str_eq(get_str(r.json, "data.keyKind"), "customer");
	ck_assert_str_eq(get_str(r.json, "data.customerId"), "customer_acme");
	reply_free(&r);
}
END_TEST

/* Every way a key can be wrong gets the same 401 envelope. */
START_TEST(bad_keys_rejected)
{
	char		 wrong[256], swapped[256];
	const char	*live = env_key("TALLY_KEY_LIVE");
	const char	*test = env_key("TALLY_KEY_TEST");
	size_t		 n;
	struct reply	 r;
	int		 i;

	snprintf(wrong, sizeof(wrong), "%s", live);
	n = strlen(wrong);
	wrong[n - 1] = wrong[n - 1] == '0' ? '1' : '0';
	/* A test key presented as live must not open live data. */
	snprintf(swapped, sizeof(swapped), "pk_live_%s", test + 8);

	const char *keys[] = {
		NULL, "", "garbage", "pk_live_", "pk_live_abc.def", wrong,
		env_key("TALLY_KEY_REVOKED"), swapped,
		"pk_live_000000000000000000000000.0000000000000000000000000000"
		    "000000000000000000000000000000000000",
	};
	for (i = 0; i < (int)(sizeof(keys) / sizeof(keys[0])); i++) {
		http(&r, "GET", "/api/v1/auth/whoami", keys[i], NULL, NULL, 0,
		    NULL);
		assert_error(&r, 401, "INVALID_API_KEY");
		reply_free(&r);
	}
}
END_TEST

START_TEST(unknown_path_404)
{
	struct reply	r;

	http(&r, "GET", "/api/v1/nope", env_key("TALLY_KEY_LIVE"), NULL, NULL,
	    0, NULL);
	assert_error(&r, 404, "NOT_FOUND");
	reply_free(&r);
	http(&r, "GET", "/api/v1/auth/whoami/extra", env_key("TALLY_KEY_LIVE"),
	    NULL, NULL, 0, NULL);
	assert_error(&r, 404, "NOT_FOUND");
	reply_free(&r);
}
END_TEST

START_TEST(wrong_method_405)
{
	struct reply	r;

	http(&r, "DELETE", "/api/v1/auth/whoami", env_key("TALLY_KEY_LIVE"),
	    NULL, NULL, 0, NULL);
	assert_error(&r, 405, "METHOD_NOT_ALLOWED");
	ck_assert_str_eq(r.allow, "GET");
	reply_free(&r);
}
END_TEST

START_TEST(get_with_json_content_type)
{
	struct reply	r;

	http(&r, "GET", "/api/v1/auth/whoami", env_key("TALLY_KEY_LIVE"),
	    "application/json", NULL, 0, NULL);
	assert_ok(&r, 200);
	reply_free(&r);
}
END_TEST

/*
 * Every run against the same server (one per front end) writes its own
 * customers and keys, so no run sees another's deltas.
 */
START_TEST(emit_returns_every_field)
{
	static const char *const fields[] = {
		"recordId", "receiptId", "status", "customerId", "delta",
		"reason", "referenceId", "sequenceNumber", "logIndex",
		"contentHash", "leafHash", "createdAt",
	};
	struct reply	r, s;
	char		body[512], path[128];
	size_t		i;

	snprintf(body, sizeof(body), "{\"customerId\":\"acme_%s\","
	    "\"delta\":-50,\"reason\":\"daily_usage_flush:2026-02-01\","
	    "\"referenceId\":\"usage:acme_%s:2026-02-01\",\"metadata\":"
	    "{\"plan\":\"growth\",\"resource\":\"compute-minutes\"}}",
	    run_id, run_id);
	post(&r, "/api/v1/balance/delta", env_key("TALLY_KEY_LIVE"), NULL,
	    body);
	assert_ok(&r, 201);
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		ck_assert_msg(get(r.json, "data") != NULL &&
		    json_object_object_get_ex(get(r.json, "data"), fields[i],
		    NULL), "missing %s", fields[i]);
	ck_assert_str_eq(get_str(r.json, "data.status"), "QUEUED");
	ck_assert_int_eq(get_int(r.json, "data.sequenceNumber"), 1);
	ck_assert_int_eq(get_int(r.json, "data.delta"), -50);
	ck_assert(strncmp(get_str(r.json, "data.recordId"), "rec_", 4) == 0);
	ck_assert(strncmp(get_str(r.json, "data.leafHash"), "0x", 2) == 0);
	ck_assert_uint_eq(strlen(get_str(r.json, "data.leafHash")), 66);

	/* The status lookup shows the same delta. */
	snprintf(path, sizeof(path), "/api/v1/balance/delta/%s",
	    get_str(r.json, "data.recordId"));
	http(&s, "GET", path, env_key("TALLY_KEY_LIVE"), NULL, NULL, 0, NULL);
	assert_ok(&s, 200);
	ck_assert_str_eq(get_str(s.json, "data.recordId"),
	    get_str(r.json, "data.recordId"));
	ck_assert_str_eq(get_str(s.json, "data.leafHash"),
	    get_str(r.json, "data.leafHash"));
	ck_assert_str_eq(get_str(s.json, "data.metadata.plan"), "growth");
	ck_assert_int_eq(get_int(s.json, "data.logIndex"),
	    get_int(r.json, "data.logIndex"));
	reply_free(&s);

	/* Another tenant, or the test environment, cannot see it. */
	http(&s, "GET", path, env_key("TALLY_KEY_OTHER"), NULL, NULL, 0, NULL);
	assert_error(&s, 404, "NOT_FOUND");
	reply_free(&s);
	http(&s, "GET", path, env_key("TALLY_KEY_TEST"), NULL, NULL, 0, NULL);
	assert_error(&s, 404, "NOT_FOUND");
	reply_free(&s);
	reply_free(&r);

	http(&r, "GET", "/api/v1/balance/delta/rec_0000", env_key(
	    "TALLY_KEY_LIVE"), NULL, NULL, 0, NULL);
	assert_error(&r, 404, "NOT_FOUND");
	reply_free(&r);
}
END_TEST

START_TEST(retries_replay_and_conflict)
{
	struct reply	first, r;
	char		body[256], key[64];
	int		i;

	snprintf(key, sizeof(key), "retry-%s", run_id);
	snprintf(body, sizeof(body), "{\"customerId\":\"retry_%s\","
	    "\"delta\":0.1,\"reason\":\"api_request\"}", run_id);
	post(&first, "/api/v1/balance/delta", env_key("TALLY_KEY_LIVE"), key,
	    body);
	assert_ok(&first, 201);
	ck_assert_str_eq(first.replayed, "");
	/* Three retries, as the SDKs make on a timeout: one delta. */
	for (i = 0; i < 3; i++) {
		post(&r, "/api/v1/balance/delta", env_key("TALLY_KEY_LIVE"),
		    key, body);
		ck_assert_int_eq(r.status, 201);
		ck_assert_str_eq(r.replayed, "true");
		ck_assert_str_eq(r.body, first.body);
		reply_free(&r);
	}
	snprintf(body, sizeof(body), "{\"customerId\":\"retry_%s\","
	    "\"delta\":0.2,\"reason\":\"api_request\"}", run_id);
	post(&r, "/api/v1/balance/delta", env_key("TALLY_KEY_LIVE"), key, body);
	assert_error(&r, 409, "IDEMPOTENCY_KEY_REUSED");
	ck_assert_str_eq(get_str(r.json, "error.recordId"),
	    get_str(first.json, "data.recordId"));
	reply_free(&r);

	/* The next delta of this customer is number 2: nothing else landed. */
	snprintf(body, sizeof(body), "{\"customerId\":\"retry_%s\","
	    "\"delta\":1,\"reason\":\"next\"}", run_id);
	post(&r, "/api/v1/balance/delta", env_key("TALLY_KEY_LIVE"), NULL,
	    body);
	assert_ok(&r, 201);
	ck_assert_int_eq(get_int(r.json, "data.sequenceNumber"), 2);
	reply_free(&r);
	reply_free(&first);
}
END_TEST

/*
 * The customer's deltas once every one is verified (derive's deltaCount
 * with pendingCount 0), within 5 s.
 */
static long long
derive_count(const char *cust)
{
	struct reply	r;
	char		path[160];
	long long	n = -1;
	int		i;

	snprintf(path, sizeof(path), "/api/v1/balance/derive/%s", cust);
	for (i = 0; i < 100 && n < 0; i++) {
		if (i > 0)
			usleep(50000);
		http(&r, "GET", path, env_key("TALLY_KEY_LIVE"), NULL, NULL, 0,
		    NULL);
		assert_ok(&r, 200);
		if (get_int(r.json, "data.pendingCount") == 0)
			n = get_int(r.json, "data.deltaCount");
		reply_free(&r);
	}
	ck_assert_msg(n >= 0, "%s: deltas not verified within 5 s", cust);
	return n;
}

/* POSTs body under idem (or none): a 201 replay of first, byte for byte. */
static void
assert_replays(const struct reply *first, const char *idem, const char *body)
{
	struct reply	r;

	post(&r, "/api/v1/balance/delta", env_key("TALLY_KEY_LIVE"), idem,
	    body);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	ck_assert_str_eq(r.replayed, "true");
	ck_assert_str_eq(r.body, first->body);
	reply_free(&r);
}

/*
 * A day's flush with Idempotency-Key = referenceId on the first attempt
 * (header_first) or only on the retries: one delta either way, every
 * retry its replay.
 */
static void
flush_retried(const char *name, int header_first)
{
	struct reply	first;
	char		body[384], cust[64], ref[128];

	snprintf(cust, sizeof(cust), "%s_%s", name, run_id);
	snprintf(ref, sizeof(ref), "usage:%s:2026-12-04", cust);
	snprintf(body, sizeof(body), "{\"customerId\":\"%s\",\"delta\":-50,"
	    "\"reason\":\"daily_usage_flush:2026-12-04\",\"referenceId\":"
	    "\"%s\"}", cust, ref);
	post(&first, "/api/v1/balance/delta", env_key("TALLY_KEY_LIVE"),
	    header_first ? ref : NULL, body);
	assert_ok(&first, 201);
	ck_assert_str_eq(first.replayed, "");
	assert_replays(&first, header_first ? NULL : ref, body);
	assert_replays(&first, ref, body);
	assert_replays(&first, NULL, body);
	ck_assert_int_eq(derive_count(cust), 1);
	reply_free(&first);
}

/*
 * The official SDK's flow (issue 17): a day's flush sent without the
 * header, retried with Idempotency-Key = referenceId, is one delta.
 */
START_TEST(sdk_retry_with_reference_as_key)
{
	flush_retried("sdk", 0);
}
END_TEST

/* The reverse order: with the header first, then without it. */
START_TEST(retry_without_key_replays)
{
	flush_retried("rev", 1);
}
END_TEST

/* POSTs body under idem: a 409 whose error names field and original. */
static void
assert_conflicts(const char *idem, const char *body, const char *field,
    const struct reply *original)
{
	struct reply	r;

	post(&r, "/api/v1/balance/delta", env_key("TALLY_KEY_LIVE"), idem,
	    body);
	assert_error(&r, 409, "IDEMPOTENCY_KEY_REUSED");
	ck_assert_str_eq(get_str(r.json, "error.field"), field);
	ck_assert_str_eq(get_str(r.json, "error.recordId"),
	    get_str(original->json, "data.recordId"));
	reply_free(&r);
}

/*
 * Either key bound to another request: 409 naming the delta it is bound
 * to, and nothing recorded.  A new key with a referenceId that another
 * delta holds; the key of one delta with the referenceId of another.
 */
START_TEST(either_key_taken_conflicts)
{
	struct reply	a, b;
	char		body[384], cust[64], key_a[64], key_new[64];

	snprintf(cust, sizeof(cust), "taken_%s", run_id);
	snprintf(key_a, sizeof(key_a), "taken-a-%s", run_id);
	snprintf(key_new, sizeof(key_new), "taken-new-%s", run_id);
	snprintf(body, sizeof(body), "{\"customerId\":\"%s\",\"delta\":1,"
	    "\"reason\":\"a\",\"referenceId\":\"day-1\"}", cust);
	post(&a, "/api/v1/balance/delta", env_key("TALLY_KEY_LIVE"), key_a,
	    body);
	assert_ok(&a, 201);
	snprintf(body, sizeof(body), "{\"customerId\":\"%s\",\"delta\":2,"
	    "\"reason\":\"b\",\"referenceId\":\"day-2\"}", cust);
	post(&b, "/api/v1/balance/delta", env_key("TALLY_KEY_LIVE"), NULL,
	    body);
	assert_ok(&b, 201);
	assert_conflicts(key_a, body, "Idempotency-Key", &a);
	snprintf(body, sizeof(body), "{\"customerId\":\"%s\",\"delta\":3,"
	    "\"reason\":\"c\",\"referenceId\":\"day-2\"}", cust);
	assert_conflicts(key_new, body, "referenceId", &b);
	ck_assert_int_eq(derive_count(cust), 2);
	reply_free(&a);
	reply_free(&b);
}
END_TEST

#define CLIENTS	32

struct client {
	pthread_t	thread;
	struct reply	r;
	const char	*body, *key;
};

static void *
client_main(void *arg)
{
	struct client	*c = arg;

	post(&c->r, "/api/v1/balance/delta", env_key("TALLY_KEY_LIVE"),
	    c->key, c->body);
	return NULL;
}

START_TEST(concurrent_same_key_records_once)
{
	struct client	c[CLIENTS];
	struct reply	r;
	char		body[256], key[64];
	int		i;

	snprintf(key, sizeof(key), "race-%s", run_id);
	snprintf(body, sizeof(body), "{\"customerId\":\"race_%s\","
	    "\"delta\":-1,\"reason\":\"inference\"}", run_id);
	memset(c, 0, sizeof(c));
	for (i = 0; i < CLIENTS; i++) {
		c[i].body = body;
		c[i].key = key;
		ck_assert_int_eq(pthread_create(&c[i].thread, NULL,
		    client_main, &c[i]), 0);
	}
	for (i = 0; i < CLIENTS; i++)
		pthread_join(c[i].thread, NULL);
	for (i = 0; i < CLIENTS; i++) {
		ck_assert_msg(c[i].r.status == 201, "client %d: %ld %s", i,
		    c[i].r.status, c[i].r.body);
		ck_assert_str_eq(c[i].r.body, c[0].r.body);
	}
	for (i = 0; i < CLIENTS; i++)
		reply_free(&c[i].r);
	snprintf(body, sizeof(body), "{\"customerId\":\"race_%s\","
	    "\"delta\":-1,\"reason\":\"after\"}", run_id);
	post(&r, "/api/v1/balance/delta", env_key("TALLY_KEY_LIVE"), NULL,
	    body);
	ck_assert_int_eq(get_int(r.json, "data.sequenceNumber"), 2);
	reply_free(&r);
}
END_TEST

START_TEST(batch_results_per_index)
{
	struct reply		 r;
	struct json_object	*results, *res;
	char			 body[2048];

	snprintf(body, sizeof(body), "{\"deltas\":["
	    "{\"customerId\":\"batch_%s\",\"delta\":1,\"reason\":\"a\","
	    "\"referenceId\":\"b1\"},"
	    "{\"customerId\":\"batch_%s\",\"delta\":\"x\",\"reason\":\"a\"},"
	    "{\"customerId\":\"batch_%s\",\"delta\":1,\"reason\":\"a\","
	    "\"referenceId\":\"b1\"},"
	    "{\"customerId\":\"bad id\",\"delta\":1,\"reason\":\"a\"},"
	    "{\"customerId\":\"batch_%s\",\"delta\":2.5,\"reason\":\"b\"},"
	    "{\"customerId\":\"batch_%s\",\"delta\":9,\"reason\":\"a\","
	    "\"referenceId\":\"b1\"}"
	    "]}", run_id, run_id, run_id, run_id, run_id);
	post(&r, "/api/v1/balance/delta/batch", env_key("TALLY_KEY_LIVE"),
	    NULL, body);
	assert_ok(&r, 200);
	ck_assert_int_eq(get_int(r.json, "data.totalQueued"), 3);
	ck_assert_int_eq(get_int(r.json, "data.totalFailed"), 3);
	results = get(r.json, "data.results");
	ck_assert_uint_eq(json_object_array_length(results), 6);
	res = json_object_array_get_idx(results, 1);
	ck_assert_str_eq(get_str(res, "status"), "FAILED");
	ck_assert_str_eq(get_str(res, "error.field"), "delta");
	ck_assert_str_eq(get_str(res, "error.code"), "VALIDATION_ERROR");
	res = json_object_array_get_idx(results, 3);
	ck_assert_str_eq(get_str(res, "error.field"), "customerId");
	res = json_object_array_get_idx(results, 2);
	ck_assert(json_object_get_boolean(get(res, "idempotent")));
	ck_assert_str_eq(get_str(res, "recordId"), get_str(
	    json_object_array_get_idx(results, 0), "recordId"));
	ck_assert_int_eq(get_int(json_object_array_get_idx(results, 4),
	    "index"), 4);
	/* b1 again with other content: names the original, no ids of its own. */
	res = json_object_array_get_idx(results, 5);
	ck_assert_str_eq(get_str(res, "status"), "FAILED");
	ck_assert_str_eq(get_str(res, "error.code"), "IDEMPOTENCY_KEY_REUSED");
	ck_assert_str_eq(get_str(res, "error.field"), "referenceId");
	ck_assert_str_eq(get_str(res, "error.recordId"), get_str(
	    json_object_array_get_idx(results, 0), "recordId"));
	ck_assert(json_object_object_get_ex(res, "recordId", NULL) &&
	    get(res, "recordId") == NULL);
	ck_assert(json_object_object_get_ex(res, "receiptId", NULL) &&
	    get(res, "receiptId") == NULL);
	reply_free(&r);

	/* Two new deltas landed, nothing of the invalid ones. */
	snprintf(body, sizeof(body), "{\"customerId\":\"batch_%s\","
	    "\"delta\":1,\"reason\":\"next\"}", run_id);
	post(&r, "/api/v1/balance/delta", env_key("TALLY_KEY_LIVE"), NULL,
	    body);
	ck_assert_int_eq(get_int(r.json, "data.sequenceNumber"), 3);
	reply_free(&r);
}
END_TEST

/* POSTs a batch under key: an item of amount, then an invalid one. */
static void
post_keyed_batch(struct reply *r, const char *key, const char *amount,
    int reordered)
{
	char	body[512];

	if (reordered)
		snprintf(body, sizeof(body), "{\"deltas\":[{\"reason\":\"a\","
		    "\"delta\":%s,\"customerId\":\"bkey_%s\"},{\"reason\":"
		    "\"a\",\"delta\":\"x\",\"customerId\":\"bkey_%s\"}]}",
		    amount, run_id, run_id);
	else
		snprintf(body, sizeof(body), "{\"deltas\":[{\"customerId\":"
		    "\"bkey_%s\",\"delta\":%s,\"reason\":\"a\"},{\"customerId\":"
		    "\"bkey_%s\",\"delta\":\"x\",\"reason\":\"a\"}]}", run_id,
		    amount, run_id);
	post(r, "/api/v1/balance/delta/batch", env_key("TALLY_KEY_LIVE"), key,
	    body);
}

/*
 * A batch's Idempotency-Key replays the batch by its meaning, as a single
 * emit's does: fields in another order are the same batch; an amount
 * that differs only past a double's 17 digits is another one (409).
 */
START_TEST(batch_key_by_meaning)
{
	struct reply	first, r;
	char		key[64];

	snprintf(key, sizeof(key), "batch-key-%s", run_id);
	post_keyed_batch(&first, key, "987654321.123456789", 0);
	assert_ok(&first, 200);
	ck_assert_int_eq(get_int(first.json, "data.totalQueued"), 1);
	post_keyed_batch(&r, key, "987654321.123456789", 1);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_str_eq(r.replayed, "true");
	ck_assert_str_eq(r.body, first.body);
	reply_free(&r);
	post_keyed_batch(&r, key, "987654321.123456788", 0);
	assert_error(&r, 409, "IDEMPOTENCY_KEY_REUSED");
	ck_assert_str_eq(get_str(r.json, "error.field"), "Idempotency-Key");
	ck_assert_str_eq(get_str(r.json, "error.recordId"), get_str(
	    json_object_array_get_idx(get(first.json, "data.results"), 0),
	    "recordId"));
	reply_free(&r);
	reply_free(&first);
}
END_TEST

START_TEST(request_layer_errors)
{
	struct reply	 r;
	const char	*key = env_key("TALLY_KEY_LIVE");
	size_t		 big = 2 * 1024 * 1024, i;
	char		*body = malloc(big), longkey[257];

	ck_assert_ptr_nonnull(body);
	/* A 2 MiB body, a 65 KiB emit, a batch past 1 MiB: 413. */
	memset(body, ' ', big);
	body[0] = '{';
	body[big - 1] = '}';
	http(&r, "POST", "/api/v1/balance/delta", key, "application/json",
	    body, big, NULL);
	assert_error(&r, 413, "PAYLOAD_TOO_LARGE");
	reply_free(&r);
	http(&r, "POST", "/api/v1/balance/delta", key, "application/json",
	    body, 64 * 1024 + 1, NULL);
	assert_error(&r, 413, "PAYLOAD_TOO_LARGE");
	reply_free(&r);
	http(&r, "POST", "/api/v1/balance/delta/batch", key,
	    "application/json", body, 1024 * 1024 + 1, NULL);
	assert_error(&r, 413, "PAYLOAD_TOO_LARGE");
	reply_free(&r);
	free(body);

	http(&r, "POST", "/api/v1/balance/delta", key, "text/plain", "{}", 2,
	    NULL);
	assert_error(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
	reply_free(&r);
	http(&r, "POST", "/api/v1/balance/delta", key, NULL, "{}", 2, NULL);
	assert_error(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
	reply_free(&r);

	static const char *const broken[] = {
		"{\"customerId\":", "{\"a\":1,\"a\":2}", "[1]", "nope",
		"{\"delta\":NaN}", "",
	};
	for (i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		post(&r, "/api/v1/balance/delta", key, NULL, broken[i]);
		assert_error(&r, 400, "INVALID_JSON");
		reply_free(&r);
	}
	post(&r, "/api/v1/balance/delta", key, NULL, "{\"customerId\":\"x\","
	    "\"delta\":1,\"reason\":\"r\",\"extra\":true}");
	assert_error(&r, 400, "VALIDATION_ERROR");
	ck_assert_str_eq(get_str(r.json, "error.field"), "extra");
	reply_free(&r);
	memset(longkey, 'k', 256);
	longkey[256] = '\0';
	post(&r, "/api/v1/balance/delta", key, longkey, "{}");
	assert_error(&r, 400, "VALIDATION_ERROR");
	ck_assert_str_eq(get_str(r.json, "error.field"), "Idempotency-Key");
	reply_free(&r);
}
END_TEST

START_TEST(customer_key_cannot_write)
{
	struct reply	r;

	post(&r, "/api/v1/balance/delta", env_key("TALLY_KEY_CUSTOMER"), NULL,
	    "{\"customerId\":\"customer_acme\",\"delta\":1,\"reason\":\"r\"}");
	assert_error(&r, 403, "FORBIDDEN");
	reply_free(&r);
	post(&r, "/api/v1/balance/delta/batch", env_key("TALLY_KEY_CUSTOMER"),
	    NULL, "{\"deltas\":[]}");
	assert_error(&r, 403, "FORBIDDEN");
	reply_free(&r);
}
END_TEST

static Suite *
http_suite(void)
{
	Suite	*s = suite_create("http");
	TCase	*tc = tcase_create("foundation");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, health_and_ready);
	tcase_add_test(tc, request_id_echoed_when_safe);
	tcase_add_test(tc, whoami_vendor_live);
	tcase_add_test(tc, whoami_test_env_and_other_tenant);
	tcase_add_test(tc, whoami_customer_key);
	tcase_add_test(tc, bad_keys_rejected);
	tcase_add_test(tc, unknown_path_404);
	tcase_add_test(tc, wrong_method_405);
	tcase_add_test(tc, get_with_json_content_type);
	suite_add_tcase(s, tc);
	tc = tcase_create("deltas");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, emit_returns_every_field);
	tcase_add_test(tc, retries_replay_and_conflict);
	tcase_add_test(tc, sdk_retry_with_reference_as_key);
	tcase_add_test(tc, retry_without_key_replays);
	tcase_add_test(tc, either_key_taken_conflicts);
	tcase_add_test(tc, concurrent_same_key_records_once);
	tcase_add_test(tc, batch_results_per_index);
	tcase_add_test(tc, batch_key_by_meaning);
	tcase_add_test(tc, request_layer_errors);
	tcase_add_test(tc, customer_key_cannot_write);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return e2e_run(http_suite());
}
