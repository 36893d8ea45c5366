/*
 * Reading the record, end to end (SPEC 3.4, 3.5, 3.9, 2): derive with
 * every scope, compare, customers, usage and quota, gaps, and what a
 * customer key and another tenant may see, through whichever front end
 * TALLY_URL names.  Every customer id carries the run's id, so runs
 * against the same server never see each other's customers.
 *
 * Environment: as check_http, and TALLY_KEY_QUOTA: a live vendor key of
 * a tenant whose monthly quota is small (run.sh sets it to 5).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <json-c/json.h>

#include "http.h"

/* A number member as the server wrote it (exact decimal text). */
static const char *
num(struct json_object *obj, const char *path)
{
	struct json_object	*v = get(obj, path);

	ck_assert_msg(json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double), "%s is not a number",
	    path);
	return json_object_get_string(v);
}

static int
flag(struct json_object *obj, const char *path)
{
	struct json_object	*v = get(obj, path);

	ck_assert_msg(json_object_is_type(v, json_type_boolean),
	    "%s is not a boolean", path);
	return json_object_get_boolean(v);
}

/* A customer id unique to this run. */
static void
customer(char *out, size_t len, const char *name)
{
	snprintf(out, len, "rd-%s-%s", run_id, name);
}

/* Records one delta; returns its recordId in rec (if not NULL). */
static void
emit(const char *key, const char *cust, const char *delta, const char *ref,
    char *rec, size_t reclen)
{
	struct reply	r;
	char		body[512];

	snprintf(body, sizeof(body), "{\"customerId\":\"%s\",\"delta\":%s,"
	    "\"reason\":\"usage\"%s%s%s}", cust, delta,
	    ref ? ",\"referenceId\":\"" : "", ref ? ref : "", ref ? "\"" : "");
	post(&r, "/api/v1/balance/delta", key, NULL, body);
	assert_ok(&r, 201);
	if (rec != NULL)
		snprintf(rec, reclen, "%s", get_str(r.json, "data.recordId"));
	reply_free(&r);
}

/* GET path with key; the reply stays the caller's to free. */
static void
fetch(struct reply *r, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
fetch(struct reply *r, const char *key, const char *fmt, ...)
{
	char	path[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	http(r, "GET", path, key, NULL, NULL, 0, NULL);
}

/* Derives until all count deltas are verified (a head covers them). */
static void
derive_verified(struct reply *r, const char *key, const char *cust,
    long long count)
{
	int	i;

	for (i = 0; i < 100; i++) {
		fetch(r, key, "/api/v1/balance/derive/%s", cust);
		assert_ok(r, 200);
		if (get_int(r->json, "data.pendingCount") == 0 &&
		    get_int(r->json, "data.deltasCount") == count)
			return;
		reply_free(r);
		usleep(50000);
	}
	ck_abort_msg("%s: %lld deltas not verified within 5 s", cust, count);
}

/* Ten deltas of 0.1 for a fresh customer, all verified. */
static void
tenths(char *cust, size_t len, const char *name)
{
	struct reply	r;
	int		i;

	customer(cust, len, name);
	for (i = 0; i < 10; i++)
		emit(env_key("TALLY_KEY_LIVE"), cust, "0.1", NULL, NULL, 0);
	derive_verified(&r, env_key("TALLY_KEY_LIVE"), cust, 10);
	reply_free(&r);
}

START_TEST(derive_sums_exactly)
{
	const char	*key = env_key("TALLY_KEY_LIVE");
	struct reply	 r;
	char		 cust[96], last[64];
	int		 i;

	customer(cust, sizeof(cust), "exact");
	for (i = 0; i < 10; i++)
		emit(key, cust, "0.1", NULL, last, sizeof(last));
	derive_verified(&r, key, cust, 10);
	ck_assert_str_eq(num(r.json, "data.computedBalance"), "1");
	ck_assert_str_eq(num(r.json, "data.netChange"), "1");
	ck_assert_str_eq(num(r.json, "data.startingBalance"), "0");
	ck_assert_int_eq(get_int(r.json, "data.deltaCount"), 10);
	ck_assert_str_eq(get_str(r.json, "data.customerId"), cust);
	ck_assert_str_eq(get_str(r.json, "data.scope.type"), "all");
	ck_assert_int_ge(get_int(r.json, "data.treeSize"), 10);
	ck_assert_int_eq(json_object_array_length(get(r.json, "data.deltas")),
	    10);
	ck_assert_int_eq(get_int(r.json, "data.pagination.total"), 10);
	ck_assert_int_eq(get_int(r.json, "data.pagination.limit"), 100);
	reply_free(&r);

	/* latestReceiptId is the newest delta's receipt. */
	fetch(&r, key, "/api/v1/balance/delta/%s", last);
	assert_ok(&r, 200);
	snprintf(last, sizeof(last), "%s", get_str(r.json, "data.receiptId"));
	reply_free(&r);
	fetch(&r, key, "/api/v1/balance/derive/%s?startingBalance=2.5", cust);
	assert_ok(&r, 200);
	ck_assert_str_eq(num(r.json, "data.computedBalance"), "3.5");
	ck_assert_str_eq(num(r.json, "data.startingBalance"), "2.5");
	ck_assert_str_eq(get_str(r.json, "data.latestReceiptId"), last);
	reply_free(&r);

	fetch(&r, key, "/api/v1/balance/derive/%s?startingBalance=1e400",
	    cust);
	assert_error(&r, 400, "VALIDATION_ERROR");
	ck_assert_str_eq(get_str(r.json, "error.field"), "startingBalance");
	reply_free(&r);
}
END_TEST

START_TEST(derive_pages_oldest_first)
{
	static const struct { const char *query; long status; } limits[] = {
		{ "limit=0", 400 }, { "limit=1", 200 }, { "limit=1000", 200 },
		{ "limit=1001", 400 }, { "limit=-1", 400 }, { "limit=x", 400 },
		{ "offset=-1", 400 }, { "offset=1.5", 400 }, { "offset=10", 200 },
	};
	const char	*key = env_key("TALLY_KEY_LIVE");
	struct json_object *deltas;
	struct reply	 r;
	char		 cust[96];
	size_t		 i;

	tenths(cust, sizeof(cust), "pages");
	fetch(&r, key, "/api/v1/balance/derive/%s?limit=3&offset=2", cust);
	assert_ok(&r, 200);
	deltas = get(r.json, "data.deltas");
	ck_assert_int_eq(json_object_array_length(deltas), 3);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(get_int(json_object_array_get_idx(deltas, i),
		    "sequenceNumber"), (long long)i + 3);
		ck_assert_str_eq(get_str(json_object_array_get_idx(deltas, i),
		    "status"), "VERIFIED");
	}
	ck_assert_int_eq(get_int(r.json, "data.pagination.offset"), 2);
	ck_assert_int_eq(get_int(r.json, "data.pagination.total"), 10);
	/* The page does not change the totals. */
	ck_assert_str_eq(num(r.json, "data.computedBalance"), "1");
	reply_free(&r);

	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		fetch(&r, key, "/api/v1/balance/derive/%s?%s", cust,
		    limits[i].query);
		if (limits[i].status == 200) {
			assert_ok(&r, 200);
		} else {
			assert_error(&r, 400, "VALIDATION_ERROR");
			ck_assert_msg(strncmp(limits[i].query,
			    get_str(r.json, "error.field"), 5) == 0,
			    "%s: field %s", limits[i].query,
			    get_str(r.json, "error.field"));
		}
		reply_free(&r);
	}
	fetch(&r, key, "/api/v1/balance/derive/%s?offset=10", cust);
	ck_assert_int_eq(json_object_array_length(get(r.json, "data.deltas")),
	    0);
	reply_free(&r);
}
END_TEST

/* Each scope of the current moment covers all of a fresh customer. */
START_TEST(derive_scopes)
{
	const char	*key = env_key("TALLY_KEY_LIVE");
	struct reply	 r;
	char		 cust[96], month[8], today[11], tomorrow[11], q[160];
	time_t		 now = time(NULL), next = now + 86400;
	struct tm	 tm;
	size_t		 i;
	struct { const char *query; const char *type; const char *sum; }
	    cases[6];

	tenths(cust, sizeof(cust), "scopes");
	strftime(month, sizeof(month), "%Y-%m", gmtime_r(&now, &tm));
	strftime(today, sizeof(today), "%Y-%m-%d", gmtime_r(&now, &tm));
	strftime(tomorrow, sizeof(tomorrow), "%Y-%m-%d", gmtime_r(&next, &tm));
	snprintf(q, sizeof(q), "startDate=%s&endDate=%s", today, tomorrow);
	cases[0].query = "";		cases[0].type = "all";
	cases[1].query = "timePreset=current_month";
	cases[1].type = "current_month";
	cases[2].query = "period=2020-01"; cases[2].type = "period";
	cases[3].query = q;		cases[3].type = "custom";
	cases[4].query = "timePreset=custom&startDate=2020-01-01&"
	    "endDate=2020-02-01T00:00:00.000Z"; cases[4].type = "custom";
	cases[5].query = "period=";	cases[5].type = "all";
	for (i = 0; i < 6; i++)
		cases[i].sum = i == 2 || i == 4 ? "0" : "1";
	for (i = 0; i < 6; i++) {
		fetch(&r, key, "/api/v1/balance/derive/%s?%s", cust,
		    cases[i].query);
		assert_ok(&r, 200);
		ck_assert_str_eq(get_str(r.json, "data.scope.type"),
		    cases[i].type);
		ck_assert_msg(strcmp(num(r.json, "data.computedBalance"),
		    cases[i].sum) == 0, "%s: %s", cases[i].query, r.body);
		ck_assert_int_eq(get_int(r.json, "data.deltasCount"),
		    strcmp(cases[i].sum, "0") == 0 ? 0 : 10);
		reply_free(&r);
	}
	fetch(&r, key, "/api/v1/balance/derive/%s?period=%s", cust, month);
	assert_ok(&r, 200);
	ck_assert_str_eq(num(r.json, "data.computedBalance"), "1");
	ck_assert_str_eq(get_str(r.json, "data.scope.period"), month);
	ck_assert_ptr_nonnull(get_str(r.json, "data.scope.startDate"));
	reply_free(&r);
}
END_TEST

START_TEST(scope_rules)
{
	static const struct {
		const char	*query;
		long		 status;
		const char	*code;
	} rules[] = {
		{ "period=2026-01&timePreset=current_month", 400,
		    "INVALID_SCOPE_COMBINATION" },
		{ "period=2026-01&startDate=2026-01-01&endDate=2026-02-01",
		    400, "INVALID_SCOPE_COMBINATION" },
		{ "startDate=2026-01-01", 400, "INVALID_SCOPE_COMBINATION" },
		{ "endDate=2026-01-01", 400, "INVALID_SCOPE_COMBINATION" },
		{ "timePreset=custom", 400, "INVALID_SCOPE_COMBINATION" },
		{ "timePreset=custom&startDate=2026-01-01", 400,
		    "INVALID_SCOPE_COMBINATION" },
		{ "timePreset=current_month&startDate=2026-01-01&"
		    "endDate=2026-02-01", 400, "INVALID_SCOPE_COMBINATION" },
		{ "startingCheckpoint=chk_x&period=2026-01", 400,
		    "INVALID_SCOPE_COMBINATION" },
		{ "startingCheckpoint=chk_x&timePreset=current_month", 400,
		    "INVALID_SCOPE_COMBINATION" },
		{ "startingCheckpoint=chk_x&startDate=2026-01-01&"
		    "endDate=2026-02-01", 400, "INVALID_SCOPE_COMBINATION" },
		{ "startingCheckpointType=proofRoot", 400,
		    "INVALID_SCOPE_COMBINATION" },
		{ "period=2026-13", 400, "VALIDATION_ERROR" },
		{ "period=26-01", 400, "VALIDATION_ERROR" },
		{ "timePreset=yesterday", 400, "VALIDATION_ERROR" },
		{ "startDate=2026-02-30&endDate=2026-03-01", 400,
		    "VALIDATION_ERROR" },
		{ "startDate=2026-03-01&endDate=2026-03-01", 400,
		    "VALIDATION_ERROR" },
		{ "startDate=2026-03-02&endDate=2026-03-01", 400,
		    "VALIDATION_ERROR" },
		{ "startDate=yesterday&endDate=2026-03-01", 400,
		    "VALIDATION_ERROR" },
		{ "startingCheckpoint=chk_x&startingCheckpointType=hash", 400,
		    "VALIDATION_ERROR" },
		{ "startingCheckpoint=chk_nonexistent", 404,
		    "CHECKPOINT_NOT_FOUND" },
		{ "startingCheckpoint=0xabcd&startingCheckpointType=proofRoot",
		    404, "CHECKPOINT_NOT_FOUND" },
	};
	const char	*key = env_key("TALLY_KEY_LIVE");
	struct reply	 r;
	char		 cust[96];
	size_t		 i;

	customer(cust, sizeof(cust), "rules");
	emit(key, cust, "1", NULL, NULL, 0);
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		fetch(&r, key, "/api/v1/balance/derive/%s?%s", cust,
		    rules[i].query);
		ck_assert_msg(r.status == rules[i].status, "%s: %ld %s",
		    rules[i].query, r.status, r.body);
		assert_error(&r, rules[i].status, rules[i].code);
		reply_free(&r);
	}
}
END_TEST

START_TEST(unknown_customer)
{
	static const char *const ids[] = { "nobody-", "bad%20id-", "x%2Fy-" };
	struct reply	r;
	size_t		i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		char	path[160], id[96];

		snprintf(id, sizeof(id), "%s%s", ids[i], run_id);
		snprintf(path, sizeof(path), "/api/v1/balance/derive/%s", id);
		http(&r, "GET", path, env_key("TALLY_KEY_LIVE"), NULL, NULL, 0,
		    NULL);
		assert_error(&r, 404, "CUSTOMER_NOT_FOUND");
		reply_free(&r);
		snprintf(path, sizeof(path), "/api/v1/balance/customers/%s",
		    id);
		http(&r, "GET", path, env_key("TALLY_KEY_LIVE"), NULL, NULL, 0,
		    NULL);
		assert_error(&r, 404, "CUSTOMER_NOT_FOUND");
		reply_free(&r);
	}
}
END_TEST

static void
compare(struct reply *r, const char *key, const char *body)
{
	post(r, "/api/v1/balance/compare", key, NULL, body);
}

/* refs a, b, c: 10 + 20.5 - 3 = 27.5 */
static void
compare_customer(char *cust, size_t len)
{
	const char	*key = env_key("TALLY_KEY_LIVE");
	struct reply	 r;

	customer(cust, len, "cmp");
	emit(key, cust, "10", "a", NULL, 0);
	emit(key, cust, "20.5", "b", NULL, 0);
	emit(key, cust, "-3", "c", NULL, 0);
	derive_verified(&r, key, cust, 3);
	reply_free(&r);
}

START_TEST(compare_states_facts)
{
	const char	*key = env_key("TALLY_KEY_LIVE");
	struct reply	 r;
	char		 cust[96], body[512];

	compare_customer(cust, sizeof(cust));
	snprintf(body, sizeof(body), "{\"customerId\":\"%s\","
	    "\"yourBalance\":27.5}", cust);
	compare(&r, key, body);
	assert_ok(&r, 200);
	ck_assert_str_eq(num(r.json, "data.neutralBalance"), "27.5");
	ck_assert(flag(r.json, "data.matchesYours"));
	ck_assert(flag(r.json, "data.match"));
	ck_assert(json_object_is_type(get(r.json, "data.matchesTheirs"),
	    json_type_null));
	ck_assert_str_eq(num(r.json, "data.yourDifference"), "0");
	ck_assert_int_eq(get_int(r.json, "data.deltasCount"), 3);
	ck_assert_ptr_null(get(r.json, "data.discrepancies"));
	reply_free(&r);

	/* Off by some: the difference, signed, and no verdict. */
	snprintf(body, sizeof(body), "{\"customerId\":\"%s\","
	    "\"yourBalance\":27.4,\"theirBalance\":\"27.5\"}", cust);
	compare(&r, key, body);
	assert_ok(&r, 200);
	ck_assert(!flag(r.json, "data.matchesYours"));
	ck_assert(flag(r.json, "data.matchesTheirs"));
	ck_assert(!flag(r.json, "data.match"));
	ck_assert_str_eq(num(r.json, "data.yourDifference"), "-0.1");
	ck_assert_str_eq(num(r.json, "data.theirDifference"), "0");
	reply_free(&r);

	/* Within tolerance, both ways; just outside it, not. */
	snprintf(body, sizeof(body), "{\"customerId\":\"%s\","
	    "\"yourBalance\":27.4,\"theirBalance\":27.6,\"tolerance\":0.1}",
	    cust);
	compare(&r, key, body);
	assert_ok(&r, 200);
	ck_assert(flag(r.json, "data.match"));
	ck_assert_str_eq(num(r.json, "data.tolerance"), "0.1");
	reply_free(&r);
	snprintf(body, sizeof(body), "{\"customerId\":\"%s\","
	    "\"yourBalance\":27.4,\"theirBalance\":27.600000001,"
	    "\"tolerance\":0.1}", cust);
	compare(&r, key, body);
	assert_ok(&r, 200);
	ck_assert(flag(r.json, "data.matchesYours"));
	ck_assert(!flag(r.json, "data.matchesTheirs"));
	reply_free(&r);

	/* startingBalance and a scope that holds nothing. */
	snprintf(body, sizeof(body), "{\"customerId\":\"%s\","
	    "\"yourBalance\":5,\"startingBalance\":5,\"period\":\"2020-01\"}",
	    cust);
	compare(&r, key, body);
	assert_ok(&r, 200);
	ck_assert_str_eq(num(r.json, "data.neutralBalance"), "5");
	ck_assert(flag(r.json, "data.match"));
	ck_assert_str_eq(get_str(r.json, "data.scope.type"), "period");
	reply_free(&r);
}
END_TEST

START_TEST(compare_their_deltas)
{
	const char		*key = env_key("TALLY_KEY_LIVE");
	struct json_object	*list, *d;
	struct reply		 r;
	char			 cust[96], body[512];

	compare_customer(cust, sizeof(cust));
	snprintf(body, sizeof(body), "{\"customerId\":\"%s\","
	    "\"yourBalance\":27.5,\"theirDeltas\":[{\"referenceId\":\"a\","
	    "\"delta\":10},{\"referenceId\":\"b\",\"delta\":20},"
	    "{\"referenceId\":\"d\",\"delta\":4}]}", cust);
	compare(&r, key, body);
	assert_ok(&r, 200);
	list = get(r.json, "data.discrepancies");
	ck_assert_int_eq(json_object_array_length(list), 3);
	d = json_object_array_get_idx(list, 0);
	ck_assert_str_eq(get_str(d, "referenceId"), "b");
	ck_assert_str_eq(get_str(d, "kind"), "amount_differs");
	ck_assert_str_eq(num(d, "recorded"), "20.5");
	ck_assert_str_eq(num(d, "theirs"), "20");
	d = json_object_array_get_idx(list, 1);
	ck_assert_str_eq(get_str(d, "referenceId"), "c");
	ck_assert_str_eq(get_str(d, "kind"), "missing_in_theirs");
	ck_assert_str_eq(num(d, "recorded"), "-3");
	ck_assert(json_object_is_type(get(d, "theirs"), json_type_null));
	d = json_object_array_get_idx(list, 2);
	ck_assert_str_eq(get_str(d, "referenceId"), "d");
	ck_assert_str_eq(get_str(d, "kind"), "missing_in_record");
	ck_assert_str_eq(num(d, "theirs"), "4");
	reply_free(&r);

	/* Their list agreeing: no discrepancies, an empty list. */
	snprintf(body, sizeof(body), "{\"customerId\":\"%s\","
	    "\"yourBalance\":27.5,\"theirDeltas\":[{\"referenceId\":\"c\","
	    "\"delta\":-3},{\"referenceId\":\"b\",\"delta\":20.50},"
	    "{\"referenceId\":\"a\",\"delta\":10}]}", cust);
	compare(&r, key, body);
	assert_ok(&r, 200);
	ck_assert_int_eq(json_object_array_length(get(r.json,
	    "data.discrepancies")), 0);
	reply_free(&r);
}
END_TEST

START_TEST(compare_refuses_bad_input)
{
	/* Each body is {"customerId": <a real customer>, ...rest}. */
	static const struct { const char *rest; const char *code, *field; }
	    bad[] = {
		{ "", "VALIDATION_ERROR", "yourBalance" },
		{ ",\"customerId\":7,\"yourBalance\":1", "INVALID_JSON",
		    NULL },
		{ ",\"yourBalance\":true", "VALIDATION_ERROR",
		    "yourBalance" },
		{ ",\"yourBalance\":\"1x\"", "VALIDATION_ERROR",
		    "yourBalance" },
		{ ",\"yourBalance\":1,\"tolerance\":-1", "VALIDATION_ERROR",
		    "tolerance" },
		{ ",\"yourBalance\":1,\"theirDeltas\":{}",
		    "VALIDATION_ERROR", "theirDeltas" },
		{ ",\"yourBalance\":1,\"theirDeltas\":[{\"delta\":1}]",
		    "VALIDATION_ERROR", "theirDeltas[0]" },
		{ ",\"yourBalance\":1,\"theirDeltas\":"
		    "[{\"referenceId\":\"a\"}]", "VALIDATION_ERROR",
		    "theirDeltas[0].delta" },
		{ ",\"yourBalance\":1,\"period\":\"2026-01\","
		    "\"startDate\":\"2026-01-01\"",
		    "INVALID_SCOPE_COMBINATION", "period" },
		{ ",\"yourBalance\":1,\"period\":202601",
		    "VALIDATION_ERROR", "period" },
	};
	struct reply	r;
	char		cust[96], body[512];
	size_t		i;

	compare_customer(cust, sizeof(cust));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), "{\"customerId\":\"%s\"%s}",
		    cust, bad[i].rest);
		compare(&r, env_key("TALLY_KEY_LIVE"), body);
		assert_error(&r, 400, bad[i].code);
		ck_assert_msg(bad[i].field == NULL || strcmp(get_str(r.json,
		    "error.field"), bad[i].field) == 0, "%s: %s", body,
		    r.body);
		reply_free(&r);
	}
	compare(&r, env_key("TALLY_KEY_LIVE"), "{\"yourBalance\":1}");
	assert_error(&r, 400, "VALIDATION_ERROR");
	ck_assert_str_eq(get_str(r.json, "error.field"), "customerId");
	reply_free(&r);
	snprintf(body, sizeof(body), "{\"customerId\":\"nobody-%s\","
	    "\"yourBalance\":1}", run_id);
	compare(&r, env_key("TALLY_KEY_LIVE"), body);
	assert_error(&r, 404, "CUSTOMER_NOT_FOUND");
	reply_free(&r);
}
END_TEST

START_TEST(customers_list_and_detail)
{
	const char		*key = env_key("TALLY_KEY_LIVE");
	struct json_object	*items;
	struct reply		 r;
	char			 a[96], b[96];
	int			 i;

	tenths(a, sizeof(a), "list-a");
	customer(b, sizeof(b), "list-b");
	emit(key, b, "7.25", NULL, NULL, 0);
	derive_verified(&r, key, b, 1);
	reply_free(&r);

	fetch(&r, key, "/api/v1/balance/customers?search=rd-%s-LIST&limit=1",
	    run_id);
	assert_ok(&r, 200);
	ck_assert_int_eq(get_int(r.json, "data.pagination.total"), 2);
	ck_assert_int_eq(get_int(r.json, "data.pagination.totalPages"), 2);
	items = get(r.json, "data.customers");
	ck_assert_int_eq(json_object_array_length(items), 1);
	ck_assert_str_eq(get_str(json_object_array_get_idx(items, 0),
	    "customerId"), a);
	ck_assert_str_eq(num(json_object_array_get_idx(items, 0),
	    "computedBalance"), "1");
	ck_assert_int_eq(get_int(json_object_array_get_idx(items, 0),
	    "totalDeltas"), 10);
	ck_assert_ptr_nonnull(get_str(json_object_array_get_idx(items, 0),
	    "firstDeltaAt"));
	reply_free(&r);
	fetch(&r, key, "/api/v1/balance/customers?search=rd-%s-list&limit=1&"
	    "page=2", run_id);
	assert_ok(&r, 200);
	items = get(r.json, "data.customers");
	ck_assert_str_eq(get_str(json_object_array_get_idx(items, 0),
	    "customerId"), b);
	ck_assert_str_eq(num(json_object_array_get_idx(items, 0),
	    "computedBalance"), "7.25");
	reply_free(&r);
	fetch(&r, key, "/api/v1/balance/customers?limit=101");
	assert_error(&r, 400, "VALIDATION_ERROR");
	reply_free(&r);
	fetch(&r, key, "/api/v1/balance/customers?page=0");
	assert_error(&r, 400, "VALIDATION_ERROR");
	reply_free(&r);

	/* Detail: newest first, paged. */
	fetch(&r, key, "/api/v1/balance/customers/%s?deltaLimit=4&deltaPage=2",
	    a);
	assert_ok(&r, 200);
	ck_assert_int_eq(get_int(r.json, "data.totalDeltas"), 10);
	ck_assert_str_eq(num(r.json, "data.computedBalance"), "1");
	ck_assert(json_object_is_type(get(r.json, "data.latestCheckpoint"),
	    json_type_null));
	items = get(r.json, "data.recentActivity.items");
	ck_assert_int_eq(json_object_array_length(items), 4);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(get_int(json_object_array_get_idx(items, i),
		    "sequenceNumber"), 6 - i);
	ck_assert_int_eq(get_int(r.json, "data.recentActivity.pagination."
	    "total"), 10);
	reply_free(&r);
	fetch(&r, key, "/api/v1/balance/customers/%s?period=2020-01", a);
	assert_ok(&r, 200);
	ck_assert_int_eq(get_int(r.json, "data.totalDeltas"), 0);
	/* The scope says the month's bounds, as derive's does. */
	ck_assert_str_eq(get_str(r.json, "data.scope.startDate"),
	    "2020-01-01T00:00:00.000Z");
	ck_assert_str_eq(get_str(r.json, "data.scope.endDate"),
	    "2020-02-01T00:00:00.000Z");
	ck_assert_int_eq(json_object_array_length(get(r.json,
	    "data.recentActivity.items")), 0);
	reply_free(&r);
	fetch(&r, key, "/api/v1/balance/customers/%s?deltaLimit=101", a);
	assert_error(&r, 400, "VALIDATION_ERROR");
	reply_free(&r);
}
END_TEST

START_TEST(gaps_none_when_verified)
{
	const char	*key = env_key("TALLY_KEY_LIVE");
	struct reply	 r;
	char		 cust[96];

	tenths(cust, sizeof(cust), "gaps");
	fetch(&r, key, "/api/v1/balance/gaps/%s", cust);
	assert_ok(&r, 200);
	ck_assert(flag(r.json, "data.complete"));
	ck_assert_int_eq(json_object_array_length(get(r.json, "data.gaps")),
	    0);
	ck_assert_int_eq(get_int(r.json, "data.lastSequence"), 10);
	ck_assert_int_eq(get_int(r.json, "data.verifiedThrough"), 10);
	reply_free(&r);
	fetch(&r, key, "/api/v1/balance/gaps/%s?fromSequence=5&toSequence=3",
	    cust);
	assert_error(&r, 400, "VALIDATION_ERROR");
	reply_free(&r);
	fetch(&r, key, "/api/v1/balance/gaps/nobody-%s", run_id);
	assert_error(&r, 404, "CUSTOMER_NOT_FOUND");
	reply_free(&r);
}
END_TEST

/* Spends what is left of the quota tenant's month, then hits the wall. */
START_TEST(quota_exceeded)
{
	const char	*key = env_key("TALLY_KEY_QUOTA");
	struct reply	 r;
	char		 cust[96], body[256];
	long long	 remaining, i, used;

	customer(cust, sizeof(cust), "quota");
	fetch(&r, key, "/api/v1/balance/usage");
	assert_ok(&r, 200);
	ck_assert_int_eq(get_int(r.json, "data.limit"), 5);
	remaining = get_int(r.json, "data.remaining");
	used = get_int(r.json, "data.used");
	ck_assert_int_eq(remaining + used, 5);
	ck_assert_ptr_nonnull(get_str(r.json, "data.period"));
	reply_free(&r);
	for (i = 0; i < remaining; i++) {
		snprintf(body, sizeof(body), "{\"customerId\":\"%s\","
		    "\"delta\":1,\"reason\":\"r\",\"referenceId\":\"q%lld\"}",
		    cust, i);
		post(&r, "/api/v1/balance/delta", key, NULL, body);
		assert_ok(&r, 201);
		reply_free(&r);
	}
	snprintf(body, sizeof(body), "{\"customerId\":\"%s\",\"delta\":1,"
	    "\"reason\":\"r\"}", cust);
	post(&r, "/api/v1/balance/delta", key, NULL, body);
	assert_error(&r, 402, "QUOTA_EXCEEDED");
	reply_free(&r);
	snprintf(body, sizeof(body), "{\"deltas\":[{\"customerId\":\"%s\","
	    "\"delta\":1,\"reason\":\"r\"}]}", cust);
	post(&r, "/api/v1/balance/delta/batch", key, NULL, body);
	assert_error(&r, 402, "QUOTA_EXCEEDED");
	reply_free(&r);
	/* A replay records nothing, so the quota does not refuse it. */
	if (remaining > 0) {
		snprintf(body, sizeof(body), "{\"customerId\":\"%s\","
		    "\"delta\":1,\"reason\":\"r\",\"referenceId\":\"q0\"}",
		    cust);
		post(&r, "/api/v1/balance/delta", key, NULL, body);
		assert_ok(&r, 201);
		ck_assert_str_eq(r.replayed, "true");
		reply_free(&r);
	}
	fetch(&r, key, "/api/v1/balance/usage");
	assert_ok(&r, 200);
	ck_assert_int_eq(get_int(r.json, "data.used"), 5);
	ck_assert_int_eq(get_int(r.json, "data.remaining"), 0);
	ck_assert(!flag(r.json, "data.allowed"));
	reply_free(&r);

	/* An unlimited tenant: limit and remaining null. */
	fetch(&r, env_key("TALLY_KEY_LIVE"), "/api/v1/balance/usage");
	assert_ok(&r, 200);
	ck_assert(json_object_is_type(get(r.json, "data.limit"),
	    json_type_null));
	ck_assert(flag(r.json, "data.allowed"));
	ck_assert_int_ge(get_int(r.json, "data.used"), 1);
	reply_free(&r);
}
END_TEST

START_TEST(customer_key_reads_only_its_own)
{
	const char	*vendor = env_key("TALLY_KEY_LIVE");
	const char	*mine = env_key("TALLY_KEY_CUSTOMER");
	struct reply	 r, v;
	char		 other[96], rec_mine[64], rec_other[64], body[256];
	long long	 count;

	customer(other, sizeof(other), "not-acme");
	emit(vendor, "customer_acme", "2", NULL, rec_mine, sizeof(rec_mine));
	emit(vendor, other, "3", NULL, rec_other, sizeof(rec_other));
	fetch(&v, vendor, "/api/v1/balance/customers/customer_acme");
	assert_ok(&v, 200);
	count = get_int(v.json, "data.totalDeltas") +
	    get_int(v.json, "data.pendingCount");
	reply_free(&v);
	derive_verified(&v, vendor, "customer_acme", count);

	/* Its own balance: the same answer the vendor gets. */
	derive_verified(&r, mine, "customer_acme", count);
	ck_assert_str_eq(num(r.json, "data.computedBalance"),
	    num(v.json, "data.computedBalance"));
	reply_free(&r);
	reply_free(&v);
	fetch(&r, mine, "/api/v1/balance/customers/customer_acme");
	assert_ok(&r, 200);
	reply_free(&r);
	fetch(&r, mine, "/api/v1/balance/delta/%s", rec_mine);
	assert_ok(&r, 200);
	reply_free(&r);
	compare(&r, mine, "{\"customerId\":\"customer_acme\","
	    "\"yourBalance\":0}");
	assert_ok(&r, 200);
	reply_free(&r);

	/* Anything else: 403. */
	fetch(&r, mine, "/api/v1/balance/derive/%s", other);
	assert_error(&r, 403, "FORBIDDEN");
	reply_free(&r);
	fetch(&r, mine, "/api/v1/balance/customers/%s", other);
	assert_error(&r, 403, "FORBIDDEN");
	reply_free(&r);
	fetch(&r, mine, "/api/v1/balance/delta/%s", rec_other);
	assert_error(&r, 403, "FORBIDDEN");
	reply_free(&r);
	snprintf(body, sizeof(body), "{\"customerId\":\"%s\","
	    "\"yourBalance\":0}", other);
	compare(&r, mine, body);
	assert_error(&r, 403, "FORBIDDEN");
	reply_free(&r);
	fetch(&r, mine, "/api/v1/balance/customers");
	assert_error(&r, 403, "FORBIDDEN");
	reply_free(&r);
	fetch(&r, mine, "/api/v1/balance/usage");
	assert_error(&r, 403, "FORBIDDEN");
	reply_free(&r);
	fetch(&r, mine, "/api/v1/balance/gaps/customer_acme");
	assert_error(&r, 403, "FORBIDDEN");
	reply_free(&r);
	post(&r, "/api/v1/balance/delta", mine, NULL, "{\"customerId\":"
	    "\"customer_acme\",\"delta\":1,\"reason\":\"r\"}");
	assert_error(&r, 403, "FORBIDDEN");
	reply_free(&r);
	post(&r, "/api/v1/balance/delta/batch", mine, NULL, "{\"deltas\":"
	    "[{\"customerId\":\"customer_acme\",\"delta\":1,\"reason\":"
	    "\"r\"}]}");
	assert_error(&r, 403, "FORBIDDEN");
	reply_free(&r);
}
END_TEST

/* Another tenant, or the other environment, sees nothing of these. */
START_TEST(other_tenant_sees_nothing)
{
	static const char *const keys[] = { "TALLY_KEY_OTHER",
	    "TALLY_KEY_TEST" };
	struct reply	r;
	char		cust[96], rec[64], body[256];
	size_t		i;

	customer(cust, sizeof(cust), "private");
	emit(env_key("TALLY_KEY_LIVE"), cust, "1", NULL, rec, sizeof(rec));
	for (i = 0; i < 2; i++) {
		const char *key = env_key(keys[i]);

		fetch(&r, key, "/api/v1/balance/derive/%s", cust);
		assert_error(&r, 404, "CUSTOMER_NOT_FOUND");
		reply_free(&r);
		fetch(&r, key, "/api/v1/balance/customers/%s", cust);
		assert_error(&r, 404, "CUSTOMER_NOT_FOUND");
		reply_free(&r);
		fetch(&r, key, "/api/v1/balance/gaps/%s", cust);
		assert_error(&r, 404, "CUSTOMER_NOT_FOUND");
		reply_free(&r);
		fetch(&r, key, "/api/v1/balance/delta/%s", rec);
		assert_error(&r, 404, "NOT_FOUND");
		reply_free(&r);
		snprintf(body, sizeof(body), "{\"customerId\":\"%s\","
		    "\"yourBalance\":1}", cust);
		compare(&r, key, body);
		assert_error(&r, 404, "CUSTOMER_NOT_FOUND");
		reply_free(&r);
		fetch(&r, key, "/api/v1/balance/customers?search=rd-%s",
		    run_id);
		assert_ok(&r, 200);
		ck_assert_int_eq(get_int(r.json, "data.pagination.total"), 0);
		reply_free(&r);
	}
}
END_TEST

/* Locks the current month of a fresh customer; its checkpointId in id. */
static void
lock_month(char *cust, size_t len, const char *name, char *id, size_t idlen)
{
	struct reply	r;
	char		body[256];

	tenths(cust, len, name);
	snprintf(body, sizeof(body), "{\"customerId\":\"%s\"}", cust);
	post(&r, "/api/v1/balance/checkpoint", env_key("TALLY_KEY_LIVE"),
	    NULL, body);
	assert_ok(&r, 201);
	ck_assert_str_eq(get_str(r.json, "data.status"), "VERIFIED");
	ck_assert_int_eq(get_int(r.json, "data.deltasCount"), 10);
	ck_assert_str_eq(num(r.json, "data.endingBalance"), "1");
	ck_assert_str_eq(get_str(r.json, "data.proofRoot"),
	    get_str(r.json, "data.merkleRoot"));
	ck_assert_ptr_nonnull(get_str(r.json, "data.signature"));
	ck_assert_ptr_nonnull(get_str(r.json, "data.statement"));
	snprintf(id, idlen, "%s", get_str(r.json, "data.checkpointId"));
	reply_free(&r);
}

START_TEST(checkpoints_read_back)
{
	const char		*key = env_key("TALLY_KEY_LIVE");
	struct json_object	*list;
	struct reply		 r;
	char			 cust[96], id[64];

	lock_month(cust, sizeof(cust), "chk", id, sizeof(id));
	fetch(&r, key, "/api/v1/balance/checkpoints/%s", id);
	assert_ok(&r, 200);
	ck_assert_str_eq(get_str(r.json, "data.customerId"), cust);
	reply_free(&r);
	fetch(&r, key, "/api/v1/balance/checkpoints?customerId=%s", cust);
	assert_ok(&r, 200);
	list = get(r.json, "data.checkpoints");
	ck_assert_int_eq(json_object_array_length(list), 1);
	ck_assert_str_eq(get_str(json_object_array_get_idx(list, 0),
	    "checkpointId"), id);
	ck_assert_int_eq(get_int(r.json, "data.pagination.total"), 1);
	reply_free(&r);
	fetch(&r, key, "/api/v1/balance/checkpoints?customerId=%s&"
	    "period=2020-01", cust);
	assert_ok(&r, 200);
	ck_assert_int_eq(get_int(r.json, "data.pagination.total"), 0);
	reply_free(&r);
	fetch(&r, key, "/api/v1/balance/receipt/%s", cust);
	assert_ok(&r, 200);
	ck_assert_str_eq(get_str(r.json, "data.checkpointId"), id);
	ck_assert_int_eq(json_object_array_length(get(r.json, "data.deltas")),
	    10);
	ck_assert_ptr_nonnull(get_str(r.json, "data.treeHead"));
	reply_free(&r);
	fetch(&r, key, "/api/v1/balance/invoice-proof/%s", cust);
	assert_ok(&r, 200);
	ck_assert_str_eq(get_str(r.json, "data.checkpointId"), id);
	ck_assert_ptr_nonnull(strstr(get_str(r.json, "data.verifyUrl"),
	    "/api/v1/verify/0x"));
	reply_free(&r);
	fetch(&r, key, "/api/v1/balance/receipt/%s?period=2020-01", cust);
	assert_error(&r, 404, "CHECKPOINT_NOT_FOUND");
	reply_free(&r);
	fetch(&r, key, "/api/v1/balance/checkpoints/chk_nope%s", run_id);
	assert_error(&r, 404, "CHECKPOINT_NOT_FOUND");
	reply_free(&r);
	/* Every customer with deltas this month, in one call. */
	post(&r, "/api/v1/balance/checkpoint", key, NULL, "{}");
	assert_ok(&r, 201);
	ck_assert_int_ge(get_int(r.json, "data.count"), 1);
	reply_free(&r);
}
END_TEST

START_TEST(checkpoint_refusals)
{
	static const char *const bodies[] = {
		"{\"period\":\"2026-13\"}",
		"{\"period\":\"2999-01\"}",
		"{\"startDate\":\"2026-01-01\",\"endDate\":\"2026-01-15\"}",
		"{\"startingCheckpoint\":\"chk_x\"}",
		"{\"customerId\":\"bad id\"}",
		"{\"customerId\":7}",
	};
	const char	*key = env_key("TALLY_KEY_LIVE");
	struct reply	 r;
	char		 cust[96], id[64], body[256];
	size_t		 i;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		post(&r, "/api/v1/balance/checkpoint", key, NULL, bodies[i]);
		assert_error(&r, 400, "VALIDATION_ERROR");
		reply_free(&r);
	}
	snprintf(body, sizeof(body), "{\"customerId\":\"nobody-%s\"}",
	    run_id);
	post(&r, "/api/v1/balance/checkpoint", key, NULL, body);
	assert_error(&r, 404, "CUSTOMER_NOT_FOUND");
	reply_free(&r);

	/* Another tenant sees nothing of it; a customer key only its own. */
	lock_month(cust, sizeof(cust), "chk-private", id, sizeof(id));
	fetch(&r, env_key("TALLY_KEY_OTHER"), "/api/v1/balance/checkpoints/%s",
	    id);
	assert_error(&r, 404, "CHECKPOINT_NOT_FOUND");
	reply_free(&r);
	fetch(&r, env_key("TALLY_KEY_OTHER"), "/api/v1/balance/receipt/%s",
	    cust);
	assert_error(&r, 404, "CHECKPOINT_NOT_FOUND");
	reply_free(&r);
	fetch(&r, env_key("TALLY_KEY_CUSTOMER"),
	    "/api/v1/balance/checkpoints/%s", id);
	assert_error(&r, 403, "FORBIDDEN");
	reply_free(&r);
	fetch(&r, env_key("TALLY_KEY_CUSTOMER"), "/api/v1/balance/receipt/%s",
	    cust);
	assert_error(&r, 403, "FORBIDDEN");
	reply_free(&r);
	fetch(&r, env_key("TALLY_KEY_CUSTOMER"),
	    "/api/v1/balance/checkpoints?customerId=%s", cust);
	assert_error(&r, 403, "FORBIDDEN");
	reply_free(&r);
	snprintf(body, sizeof(body), "{\"customerId\":\"customer_acme\"}");
	post(&r, "/api/v1/balance/checkpoint", env_key("TALLY_KEY_CUSTOMER"),
	    NULL, body);
	assert_error(&r, 403, "FORBIDDEN");
	reply_free(&r);
	fetch(&r, env_key("TALLY_KEY_CUSTOMER"), "/api/v1/balance/checkpoints");
	assert_ok(&r, 200);	/* its own customer's, if any */
	reply_free(&r);
}
END_TEST

/* Tenant "cadence" allows one delta per hour per customer (run.sh). */
START_TEST(cadence_limit)
{
	const char		*key = env_key("TALLY_KEY_CADENCE");
	struct json_object	*item;
	struct reply		 r;
	char			 cust[96], other[96], body[384], rec[64];
	long long		 wait;

	customer(cust, sizeof(cust), "hourly");
	customer(other, sizeof(other), "hourly-other");
	snprintf(body, sizeof(body), "{\"customerId\":\"%s\",\"delta\":5,"
	    "\"reason\":\"hour 1\",\"referenceId\":\"h1\"}", cust);
	post(&r, "/api/v1/balance/delta", key, NULL, body);
	assert_ok(&r, 201);
	snprintf(rec, sizeof(rec), "%s", get_str(r.json, "data.recordId"));
	reply_free(&r);

	/* Too soon: 429 with when, for whom; nothing stored. */
	snprintf(body, sizeof(body), "{\"customerId\":\"%s\",\"delta\":5,"
	    "\"reason\":\"hour 1 again\"}", cust);
	post(&r, "/api/v1/balance/delta", key, NULL, body);
	assert_error(&r, 429, "CADENCE_LIMIT");
	wait = get_int(r.json, "error.retryAfterSeconds");
	ck_assert_msg(wait > 3500 && wait <= 3600, "retryAfterSeconds %lld",
	    wait);
	ck_assert_str_eq(get_str(r.json, "error.customerId"), cust);
	reply_free(&r);

	/* The replay of the first is answered from its idempotency record. */
	snprintf(body, sizeof(body), "{\"customerId\":\"%s\",\"delta\":5,"
	    "\"reason\":\"hour 1\",\"referenceId\":\"h1\"}", cust);
	post(&r, "/api/v1/balance/delta", key, NULL, body);
	assert_ok(&r, 201);
	ck_assert_str_eq(r.replayed, "true");
	ck_assert_str_eq(get_str(r.json, "data.recordId"), rec);
	reply_free(&r);

	/* A correction is exempt; another customer is not affected. */
	snprintf(body, sizeof(body), "{\"customerId\":\"%s\",\"delta\":-1,"
	    "\"reason\":\"fix\",\"adjusts\":{\"recordId\":\"%s\"}}", cust,
	    rec);
	post(&r, "/api/v1/balance/delta", key, NULL, body);
	assert_ok(&r, 201);
	reply_free(&r);
	snprintf(body, sizeof(body), "{\"customerId\":\"%s\",\"delta\":1,"
	    "\"reason\":\"r\"}", other);
	post(&r, "/api/v1/balance/delta", key, NULL, body);
	assert_ok(&r, 201);
	reply_free(&r);

	/* In a batch: that item fails with the same code and wait. */
	snprintf(body, sizeof(body), "{\"deltas\":[{\"customerId\":\"%s\","
	    "\"delta\":2,\"reason\":\"again\"}]}", cust);
	post(&r, "/api/v1/balance/delta/batch", key, NULL, body);
	assert_ok(&r, 200);
	item = json_object_array_get_idx(get(r.json, "data.results"), 0);
	ck_assert_str_eq(get_str(item, "status"), "FAILED");
	ck_assert_str_eq(get_str(item, "error.code"), "CADENCE_LIMIT");
	ck_assert_int_gt(get_int(item, "error.retryAfterSeconds"), 3500);
	reply_free(&r);

	fetch(&r, key, "/api/v1/balance/customers/%s", cust);
	assert_ok(&r, 200);
	ck_assert_int_eq(get_int(r.json, "data.cadence.intervalSeconds"), 3600);
	ck_assert_str_eq(get_str(r.json, "data.cadence.source"), "tenant");
	ck_assert_int_eq(get_int(r.json, "data.totalDeltas") +
	    get_int(r.json, "data.pendingCount"), 2);
	reply_free(&r);
}
END_TEST

static Suite *
read_suite(void)
{
	Suite	*s = suite_create("read");
	TCase	*tc = tcase_create("read");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, derive_sums_exactly);
	tcase_add_test(tc, derive_pages_oldest_first);
	tcase_add_test(tc, derive_scopes);
	tcase_add_test(tc, scope_rules);
	tcase_add_test(tc, unknown_customer);
	tcase_add_test(tc, compare_states_facts);
	tcase_add_test(tc, compare_their_deltas);
	tcase_add_test(tc, compare_refuses_bad_input);
	tcase_add_test(tc, customers_list_and_detail);
	tcase_add_test(tc, gaps_none_when_verified);
	tcase_add_test(tc, quota_exceeded);
	tcase_add_test(tc, customer_key_reads_only_its_own);
	tcase_add_test(tc, other_tenant_sees_nothing);
	tcase_add_test(tc, checkpoints_read_back);
	tcase_add_test(tc, checkpoint_refusals);
	tcase_add_test(tc, cadence_limit);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return e2e_run(read_suite());
}
