/*
 * core/emit: one delta as a client sends it (SPEC 3.1), checked rule by
 * rule at each boundary, and its canonical leaf (SPEC 4.2) checked
 * against the generic JCS serialiser.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "../common/decimal.h"
#include "../common/jcs.h"
#include "../common/jsonin.h"
#include "../common/sbuf.h"
#include "../common/timefmt.h"
#include "../core/emit.h"
#include "../core/view.h"
#include "check.h"

/* A valid body, to vary one field at a time. */
#define C	"\"customerId\":\"cus_1\""
#define D	"\"delta\":1"
#define R	"\"reason\":\"usage\""
#define BASE	C "," D "," R

/* UTF-8 spelled out, so no source encoding is involved. */
#define E_ACUTE	"\xc3\xa9"		/* U+00E9, 2 bytes */
#define EURO	"\xe2\x82\xac"		/* U+20AC, 3 bytes */
#define GRIN	"\xf0\x9f\x98\x80"	/* U+1F600, 4 bytes */

/*
 * A JSON text in which "@@" stands for fill repeated n times: long
 * strings are built here rather than spelled out in the tables.
 */
static char *
expand(const char *tmpl, const char *fill, size_t n)
{
	struct sbuf	 sb = { 0 };
	const char	*at;
	size_t		 i;

	if (fill == NULL || (at = strstr(tmpl, "@@")) == NULL)
		sbuf_adds(&sb, tmpl);
	else {
		sbuf_add(&sb, tmpl, (size_t)(at - tmpl));
		for (i = 0; i < n; i++)
			sbuf_adds(&sb, fill);
		sbuf_adds(&sb, at + 2);
	}
	ck_assert(!sb.oom);
	return sbuf_take(&sb, NULL);
}

static struct json_object *
parse_json(const char *text)
{
	struct json_object	*obj;
	char			 err[160];

	ck_assert_msg(jsonin_parse(text, strlen(text), &obj, err,
	    sizeof(err)) == 0, "bad test JSON (%s): %.200s", err, text);
	return obj;
}

/* Parses text into in, which must be accepted; the caller frees both. */
static struct json_object *
parse_ok(const char *text, struct emit_input *in)
{
	struct json_object	*obj = parse_json(text);
	struct emit_error	 err;

	ck_assert_msg(emit_parse(obj, in, &err) == 0,
	    "rejected %.200s: %s: %s", text, err.field ? err.field : "(null)",
	    err.message);
	return obj;
}

struct emit_case {
	const char	*json;		/* "@@": fill, n times */
	const char	*fill;
	size_t		 n;
	const char	*field;		/* NULL: accepted */
	const char	*msg;		/* in err.message when rejected */
};

#define OK(j)			{ .json = (j) }
#define OKN(j, f, k)		{ .json = (j), .fill = (f), .n = (k) }
#define BAD(j, fl, m)		{ .json = (j), .field = (fl), .msg = (m) }
#define BADN(j, f, k, fl, m)	{ .json = (j), .fill = (f), .n = (k), \
				  .field = (fl), .msg = (m) }

static const struct emit_case emit_cases[] = {
	OK("{" BASE "}"),
	OK("{" R "," D "," C "}"),			/* any order */

	/* customerId: ^[A-Za-z0-9_.:-]{1,128}$, required. */
	OKN("{\"customerId\":\"@@\"," D "," R "}", "a", 128),
	BADN("{\"customerId\":\"@@\"," D "," R "}", "a", 129,
	    "customerId", "1 to 128"),
	OK("{\"customerId\":\"AZaz09_.:-\"," D "," R "}"),
	BAD("{\"customerId\":\"\"," D "," R "}", "customerId", "1 to 128"),
	BAD("{" D "," R "}", "customerId", "customerId is required"),
	BAD("{\"customerId\":null," D "," R "}", "customerId",
	    "customerId is required"),
	BAD("{\"customerId\":42," D "," R "}", "customerId",
	    "customerId must be a string"),
	BAD("{\"customerId\":[\"cus_1\"]," D "," R "}", "customerId",
	    "customerId must be a string"),
	BAD("{\"customerId\":\"cus 1\"," D "," R "}", "customerId",
	    "1 to 128"),
	BAD("{\"customerId\":\"cus/1\"," D "," R "}", "customerId",
	    "1 to 128"),
	BAD("{\"customerId\":\"cus@1\"," D "," R "}", "customerId",
	    "1 to 128"),
	BAD("{\"customerId\":\"caf" E_ACUTE "\"," D "," R "}", "customerId",
	    "1 to 128"),
	BAD("{\"customerId\":\"a\\u0000b\"," D "," R "}", "customerId",
	    "customerId"),
	BAD("{\"customerId\":\"a\\nb\"," D "," R "}", "customerId",
	    "customerId"),
	/* 128 characters but 256 bytes: still not the charset. */
	BADN("{\"customerId\":\"@@\"," D "," R "}", E_ACUTE, 128,
	    "customerId", "customerId"),

	/* delta: bounds, inclusive. */
	OK("{" C ",\"delta\":1000000000," R "}"),
	OK("{" C ",\"delta\":-1000000000," R "}"),
	OK("{" C ",\"delta\":1000000000.000000000," R "}"),
	OK("{" C ",\"delta\":1E+9," R "}"),
	BAD("{" C ",\"delta\":1000000000.000000001," R "}", "delta",
	    "between -1000000000 and 1000000000"),
	BAD("{" C ",\"delta\":-1000000000.000000001," R "}", "delta",
	    "between -1000000000 and 1000000000"),
	BAD("{" C ",\"delta\":1000000001," R "}", "delta",
	    "between -1000000000 and 1000000000"),
	BAD("{" C ",\"delta\":-1000000001," R "}", "delta",
	    "between -1000000000 and 1000000000"),
	BAD("{" C ",\"delta\":1e10," R "}", "delta",
	    "between -1000000000 and 1000000000"),
	BAD("{" C ",\"delta\":1e400," R "}", "delta",
	    "between -1000000000 and 1000000000"),
	/* Past 64 bits, where json-c saturates its integers. */
	BAD("{" C ",\"delta\":99999999999999999999999," R "}", "delta",
	    "between -1000000000 and 1000000000"),
	BAD("{" C ",\"delta\":-99999999999999999999999," R "}", "delta",
	    "between -1000000000 and 1000000000"),
	/* delta: nine decimals, by value not by spelling. */
	OK("{" C ",\"delta\":0.000000001," R "}"),
	OK("{" C ",\"delta\":-0.000000001," R "}"),
	OK("{" C ",\"delta\":1e-9," R "}"),
	OK("{" C ",\"delta\":1.0000000000," R "}"),
	OK("{" C ",\"delta\":123456789.123456789," R "}"),
	OK("{" C ",\"delta\":0.0000000001e1," R "}"),
	OKN("{" C ",\"delta\":1.@@," R "}", "0", 100),
	OKN("{" C ",\"delta\":1@@e-70," R "}", "0", 70),
	BAD("{" C ",\"delta\":0.0000000001," R "}", "delta",
	    "at most 9 digits"),
	BAD("{" C ",\"delta\":1.0000000001," R "}", "delta",
	    "at most 9 digits"),
	BAD("{" C ",\"delta\":-1.0000000001," R "}", "delta",
	    "at most 9 digits"),
	BAD("{" C ",\"delta\":1.5e-9," R "}", "delta", "at most 9 digits"),
	BAD("{" C ",\"delta\":1e-400," R "}", "delta", "at most 9 digits"),
	/* delta: non-zero, in any spelling of zero. */
	BAD("{" C ",\"delta\":0," R "}", "delta", "non-zero"),
	BAD("{" C ",\"delta\":-0," R "}", "delta", "non-zero"),
	BAD("{" C ",\"delta\":0.0," R "}", "delta", "non-zero"),
	BAD("{" C ",\"delta\":-0.0e5," R "}", "delta", "non-zero"),
	BAD("{" C ",\"delta\":0.0000000000000," R "}", "delta", "non-zero"),
	/* delta: a JSON number, required. */
	BAD("{" C ",\"delta\":\"5\"," R "}", "delta", "delta must be a number"),
	BAD("{" C ",\"delta\":true," R "}", "delta", "delta must be a number"),
	BAD("{" C ",\"delta\":[1]," R "}", "delta", "delta must be a number"),
	BAD("{" C ",\"delta\":{\"v\":1}," R "}", "delta",
	    "delta must be a number"),
	BAD("{" C "," R "}", "delta", "delta is required"),
	BAD("{" C ",\"delta\":null," R "}", "delta", "delta is required"),

	/* reason: 1-500 code points, control characters but not NUL. */
	OKN("{" C "," D ",\"reason\":\"@@\"}", "x", 500),
	BADN("{" C "," D ",\"reason\":\"@@\"}", "x", 501, "reason",
	    "1 to 500"),
	OKN("{" C "," D ",\"reason\":\"@@\"}", E_ACUTE, 500),
	BADN("{" C "," D ",\"reason\":\"@@\"}", E_ACUTE, 501, "reason",
	    "1 to 500"),
	OKN("{" C "," D ",\"reason\":\"@@\"}", GRIN, 500),
	BADN("{" C "," D ",\"reason\":\"@@\"}", GRIN, 501, "reason",
	    "1 to 500"),
	/* Escapes count as what they decode to; a pair is one point. */
	OKN("{" C "," D ",\"reason\":\"@@\"}", "\\u00e9", 500),
	OKN("{" C "," D ",\"reason\":\"@@\"}", "\\ud83d\\ude00", 500),
	BADN("{" C "," D ",\"reason\":\"@@\"}", "\\ud83d\\ude00", 501,
	    "reason", "1 to 500"),
	OK("{" C "," D ",\"reason\":\"tab\\there\\u0001\\n\\r\\u001f\"}"),
	OK("{" C "," D ",\"reason\":\"del\x7f" "c1\\u0085\"}"),
	BAD("{" C "," D ",\"reason\":\"nul\\u0000here\"}", "reason", "reason"),
	BAD("{" C "," D ",\"reason\":\"\"}", "reason", "1 to 500"),
	BAD("{" C "," D "}", "reason", "reason is required"),
	BAD("{" C "," D ",\"reason\":null}", "reason", "reason is required"),
	BAD("{" C "," D ",\"reason\":5}", "reason", "reason must be a string"),
	BAD("{" C "," D ",\"reason\":{}}", "reason",
	    "reason must be a string"),

	/* referenceId: optional, 1-256 code points, no control characters. */
	OKN("{" BASE ",\"referenceId\":\"@@\"}", "r", 256),
	BADN("{" BASE ",\"referenceId\":\"@@\"}", "r", 257, "referenceId",
	    "1 to 256"),
	OKN("{" BASE ",\"referenceId\":\"@@\"}", GRIN, 256),
	BADN("{" BASE ",\"referenceId\":\"@@\"}", GRIN, 257, "referenceId",
	    "1 to 256"),
	OK("{" BASE ",\"referenceId\":\"order 17/a \\\"x\\\" \\\\ " EURO "\"}"),
	OK("{" BASE ",\"referenceId\":null}"),
	BAD("{" BASE ",\"referenceId\":\"\"}", "referenceId", "1 to 256"),
	BAD("{" BASE ",\"referenceId\":\"a\\nb\"}", "referenceId",
	    "control characters"),
	BAD("{" BASE ",\"referenceId\":\"a\\tb\"}", "referenceId",
	    "control characters"),
	BAD("{" BASE ",\"referenceId\":\"a\\u0001b\"}", "referenceId",
	    "control characters"),
	BAD("{" BASE ",\"referenceId\":\"a\\u0000b\"}", "referenceId",
	    "control characters"),
	BAD("{" BASE ",\"referenceId\":\"a\\u007fb\"}", "referenceId",
	    "control characters"),
	/* C1 controls are control characters (Unicode Cc) as well. */
	BAD("{" BASE ",\"referenceId\":\"a\\u0085b\"}", "referenceId",
	    "control characters"),
	BAD("{" BASE ",\"referenceId\":17}", "referenceId",
	    "referenceId must be a string"),

	/* metadata: optional object, <= 16384 canonical bytes. */
	OK("{" BASE ",\"metadata\":{}}"),
	OK("{" BASE ",\"metadata\":null}"),
	OK("{" BASE ",\"metadata\":{\"a\":[1,2.5,\"x\",null,true,{}]}}"),
	BAD("{" BASE ",\"metadata\":[]}", "metadata",
	    "metadata must be a JSON object"),
	BAD("{" BASE ",\"metadata\":[{\"a\":1}]}", "metadata",
	    "metadata must be a JSON object"),
	BAD("{" BASE ",\"metadata\":\"{}\"}", "metadata",
	    "metadata must be a JSON object"),
	BAD("{" BASE ",\"metadata\":5}", "metadata",
	    "metadata must be a JSON object"),
	BAD("{" BASE ",\"metadata\":false}", "metadata",
	    "metadata must be a JSON object"),
	/* {"k":"…"} is 8 bytes around the value. */
	OKN("{" BASE ",\"metadata\":{\"k\":\"@@\"}}", "x", 16376),
	BADN("{" BASE ",\"metadata\":{\"k\":\"@@\"}}", "x", 16377,
	    "metadata", "16384"),
	/* The canonical form counts, not the bytes as sent. */
	OKN("{" BASE ",\"metadata\": {  \"k\" :\t\"@@\" \n} }", "x", 16376),
	OKN("{" BASE ",\"metadata\":{\"k\":\"@@\"}}", "\\u0078", 16376),
	BADN("{" BASE ",\"metadata\":{\"k\":\"@@\"}}", "\\u0078", 16377,
	    "metadata", "16384"),
	/* 1e21 is "1e+21" canonically: 13.6 KB sent, 16387 canonical. */
	BADN("{" BASE ",\"metadata\":{\"k\":[@@1e21]}}", "1e21,", 2729,
	    "metadata", "16384"),
	/* Integers: exact only within 2^53. */
	OK("{" BASE ",\"metadata\":{\"n\":9007199254740991}}"),
	OK("{" BASE ",\"metadata\":{\"n\":-9007199254740991}}"),
	OK("{" BASE ",\"metadata\":{\"n\":1.5e300}}"),
	BAD("{" BASE ",\"metadata\":{\"n\":9007199254740993}}", "metadata",
	    "2^53"),
	BAD("{" BASE ",\"metadata\":{\"n\":-9007199254740993}}", "metadata",
	    "2^53"),
	BAD("{" BASE ",\"metadata\":{\"a\":[1,{\"b\":9007199254740993}]}}",
	    "metadata", "2^53"),
	BAD("{" BASE ",\"metadata\":{\"n\":18446744073709551615}}",
	    "metadata", "2^53"),
	BAD("{" BASE ",\"metadata\":{\"n\":99999999999999999999999}}",
	    "metadata", "2^53"),
	/* Not a finite double: no canonical form at all. */
	BAD("{" BASE ",\"metadata\":{\"n\":1e400}}", "metadata", "metadata"),

	/* adjusts: exactly {"recordId": …} or {"referenceId": …}. */
	OK("{" BASE ",\"adjusts\":{\"recordId\":\"rec_0123\"}}"),
	OK("{" BASE ",\"adjusts\":{\"referenceId\":\"order-17\"}}"),
	OK("{" BASE ",\"adjusts\":null}"),
	OKN("{" BASE ",\"adjusts\":{\"referenceId\":\"@@\"}}", "r", 256),
	BADN("{" BASE ",\"adjusts\":{\"referenceId\":\"@@\"}}", "r", 257,
	    "adjusts", "1 to 256"),
	BAD("{" BASE ",\"adjusts\":{\"recordId\":\"rec_1\","
	    "\"referenceId\":\"r\"}}", "adjusts", "adjusts must be"),
	BAD("{" BASE ",\"adjusts\":{\"recordId\":\"rec_1\",\"note\":1}}",
	    "adjusts", "adjusts must be"),
	BAD("{" BASE ",\"adjusts\":{\"id\":\"rec_1\"}}", "adjusts",
	    "adjusts must be"),
	BAD("{" BASE ",\"adjusts\":{\"RecordId\":\"rec_1\"}}", "adjusts",
	    "adjusts must be"),
	BAD("{" BASE ",\"adjusts\":{}}", "adjusts", "adjusts must be"),
	BAD("{" BASE ",\"adjusts\":\"rec_1\"}", "adjusts", "adjusts must be"),
	BAD("{" BASE ",\"adjusts\":[\"rec_1\"]}", "adjusts",
	    "adjusts must be"),
	BAD("{" BASE ",\"adjusts\":{\"recordId\":17}}", "adjusts",
	    "recordId must be a string"),
	BAD("{" BASE ",\"adjusts\":{\"referenceId\":[\"r\"]}}", "adjusts",
	    "referenceId must be a string"),
	BAD("{" BASE ",\"adjusts\":{\"recordId\":null}}", "adjusts",
	    "recordId"),
	BAD("{" BASE ",\"adjusts\":{\"recordId\":\"\"}}", "adjusts",
	    "recordId"),
	BAD("{" BASE ",\"adjusts\":{\"recordId\":\"rec\\n1\"}}", "adjusts",
	    "control characters"),

	/* Unknown top-level fields, even null ones; names are exact. */
	BAD("{" BASE ",\"foo\":1}", "foo", "unknown field 'foo'"),
	BAD("{\"foo\":null," BASE "}", "foo", "unknown field 'foo'"),
	BAD("{\"Delta\":1," C "," R "}", "Delta", "unknown field 'Delta'"),
	BAD("{" BASE ",\"customerid\":\"cus_1\"}", "customerid",
	    "unknown field"),
	BAD("{" BASE ",\"idempotencyKey\":\"k\"}", "idempotencyKey",
	    "unknown field"),
};

static void
check_case(const struct emit_case *c, size_t i)
{
	struct json_object	*obj;
	struct emit_input	 in;
	struct emit_error	 err;
	char			*text;
	int			 rc;

	text = expand(c->json, c->fill, c->n);
	obj = parse_json(text);
	rc = emit_parse(obj, &in, &err);
	if (c->field == NULL)
		ck_assert_msg(rc == 0, "case %zu (%.120s): rejected: %s: %s",
		    i, text, err.field ? err.field : "(null)", err.message);
	else {
		ck_assert_msg(rc == -1, "case %zu (%.120s): accepted, want "
		    "%s", i, text, c->field);
		ck_assert_msg(err.field != NULL &&
		    strcmp(err.field, c->field) == 0,
		    "case %zu (%.120s): field %s, want %s", i, text,
		    err.field ? err.field : "(null)", c->field);
		ck_assert_msg(strstr(err.message, c->msg) != NULL,
		    "case %zu (%.120s): '%s' lacks '%s'", i, text,
		    err.message, c->msg);
	}
	emit_input_free(&in);
	json_object_put(obj);
	free(text);
}

START_TEST(emit_rules)
{
	check_case(&emit_cases[_i], (size_t)_i);
}
END_TEST

START_TEST(emit_not_an_object)
{
	static const char *const items[] = {
		"[]", "[{\"customerId\":\"cus_1\",\"delta\":1}]", "\"x\"", "1",
		"null", "true",
	};
	struct json_object	*obj;
	struct emit_input	 in;
	struct emit_error	 err;
	size_t			 i;

	for (i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		obj = parse_json(items[i]);
		ck_assert_int_eq(emit_parse(obj, &in, &err), -1);
		ck_assert_ptr_null(err.field);
		ck_assert_msg(strstr(err.message, "JSON object") != NULL,
		    "%s: '%s'", items[i], err.message);
		emit_input_free(&in);
		json_object_put(obj);
	}
}
END_TEST

static int
is_lowerhex(const char *s, size_t len)
{
	return strlen(s) == len && strspn(s, "0123456789abcdef") == len;
}

START_TEST(emit_canonical_values)
{
	static const struct {
		const char	*in, *out;
		long long	 nanos;
	} deltas[] = {
		{ "1e3", "1000", 1000 * DECIMAL_SCALE },
		{ "1E+3", "1000", 1000 * DECIMAL_SCALE },
		{ "-2.50", "-2.5", -2500000000LL },
		{ "2.50E-1", "0.25", 250000000LL },
		{ "100e-2", "1", DECIMAL_SCALE },
		{ "1.0000000000", "1", DECIMAL_SCALE },
		{ "0.000000001", "0.000000001", 1 },
		{ "-0.000000001", "-0.000000001", -1 },
		{ "1E+9", "1000000000", 1000000000 * DECIMAL_SCALE },
		{ "-1000000000", "-1000000000", -1000000000 * DECIMAL_SCALE },
		{ "123456789.123456789", "123456789.123456789",
		    123456789123456789LL },
		{ "4382", "4382", 4382 * DECIMAL_SCALE },
	};
	struct json_object	*obj;
	struct emit_input	 in;
	char			 text[256];
	size_t			 i;

	for (i = 0; i < sizeof(deltas) / sizeof(deltas[0]); i++) {
		snprintf(text, sizeof(text), "{" C ",\"delta\":%s," R "}",
		    deltas[i].in);
		obj = parse_ok(text, &in);
		ck_assert_str_eq(in.delta, deltas[i].out);
		ck_assert_msg(in.amount == (decimal_t)deltas[i].nanos,
		    "%s: wrong amount", deltas[i].in);
		emit_input_free(&in);
		json_object_put(obj);
	}

	/* Every field as kept: metadata in canonical form. */
	obj = parse_ok("{\"customerId\":\"c:1\",\"delta\":-0.50,"
	    "\"reason\":\"r\\u00e9\\t\",\"referenceId\":\"ref-9\","
	    "\"metadata\":{ \"z\": [1.0, \"\\u0041\"], \"a\": {} },"
	    "\"adjusts\":{\"recordId\":\"rec_abc\"}}", &in);
	ck_assert_str_eq(in.customer_id, "c:1");
	ck_assert_str_eq(in.delta, "-0.5");
	ck_assert_str_eq(in.reason, "r" E_ACUTE "\t");
	ck_assert_int_eq(in.has_reference, 1);
	ck_assert_str_eq(in.reference_id, "ref-9");
	ck_assert_ptr_nonnull(in.metadata);
	ck_assert_str_eq(in.metadata, "{\"a\":{},\"z\":[1,\"A\"]}");
	ck_assert_int_eq(in.adjusts, EMIT_ADJUSTS_RECORD);
	ck_assert_str_eq(in.adjusts_id, "rec_abc");
	emit_input_free(&in);
	ck_assert_ptr_null(in.metadata);
	json_object_put(obj);

	/*
	 * Strings are sized to what they hold (issue 18.2): a batch of
	 * 1000 items must not reserve 1000 times the longest reason.
	 */
	ck_assert_uint_lt(sizeof(struct emit_input), 1024);

	/* Absent and null are the same: nothing kept. */
	obj = parse_ok("{" BASE ",\"referenceId\":null,\"metadata\":null,"
	    "\"adjusts\":null}", &in);
	ck_assert_int_eq(in.has_reference, 0);
	ck_assert_ptr_null(in.reference_id);
	ck_assert_ptr_null(in.adjusts_id);
	ck_assert_ptr_null(in.metadata);
	ck_assert_int_eq(in.adjusts, EMIT_ADJUSTS_NONE);
	emit_input_free(&in);
	json_object_put(obj);

	obj = parse_ok("{" BASE ",\"adjusts\":{\"referenceId\":\"o-1\"}}",
	    &in);
	ck_assert_int_eq(in.adjusts, EMIT_ADJUSTS_REFERENCE);
	ck_assert_str_eq(in.adjusts_id, "o-1");
	emit_input_free(&in);
	json_object_put(obj);
}
END_TEST

START_TEST(emit_fresh_ids)
{
	static const char	 body[] = "{" BASE ",\"referenceId\":\"r1\"}";
	struct json_object	*o1, *o2;
	struct emit_input	 a, b;

	o1 = parse_ok(body, &a);
	o2 = parse_ok(body, &b);
	ck_assert(strncmp(a.record_id, "rec_", 4) == 0);
	ck_assert(strncmp(a.receipt_id, "rcpt_", 5) == 0);
	/* 12 hex digits of time, then 96 random bits. */
	ck_assert_msg(is_lowerhex(a.record_id + 4, 36), "%s", a.record_id);
	ck_assert_msg(is_lowerhex(a.receipt_id + 5, 32), "%s", a.receipt_id);
	/* A retry is recognised by the fingerprint, never by the ids. */
	ck_assert_str_ne(a.record_id, b.record_id);
	ck_assert_str_ne(a.receipt_id, b.receipt_id);
	/* Only the time part is shared by ids made in one millisecond. */
	ck_assert(strcmp(a.record_id + 16, b.record_id + 16) != 0);
	ck_assert(memcmp(a.salt, b.salt, sizeof(a.salt)) != 0);
	ck_assert_mem_eq(a.fingerprint, b.fingerprint, sizeof(a.fingerprint));
	emit_input_free(&a);
	emit_input_free(&b);
	json_object_put(o1);
	json_object_put(o2);
}
END_TEST

/*
 * A recordId made later sorts after one made earlier, so that the index
 * of recordIds grows at its end (issue 22).
 */
START_TEST(emit_ids_sort_by_time)
{
	static const char	 body[] = "{" BASE "}";
	const struct timespec	 ms2 = { 0, 2000000 };
	struct json_object	*o[3];
	struct emit_input	 in[3];
	size_t			 i;

	for (i = 0; i < 3; i++) {
		o[i] = parse_ok(body, &in[i]);
		nanosleep(&ms2, NULL);
	}
	ck_assert_msg(strcmp(in[0].record_id, in[1].record_id) < 0 &&
	    strcmp(in[1].record_id, in[2].record_id) < 0, "%s %s %s",
	    in[0].record_id, in[1].record_id, in[2].record_id);
	for (i = 0; i < 3; i++) {
		emit_input_free(&in[i]);
		json_object_put(o[i]);
	}
}
END_TEST

START_TEST(emit_fingerprints)
{
	static const struct {
		const char	*a, *b;
		int		 same;
	} pairs[] = {
		/* The same request, spelled differently. */
		{ "{" C ",\"delta\":1.0," R "}", "{" BASE "}", 1 },
		{ "{" C ",\"delta\":-50," R "}", "{" C ",\"delta\":-50.0," R "}",
		    1 },
		{ "{" C ",\"delta\":1e3," R "}", "{" C ",\"delta\":1000," R "}",
		    1 },
		{ "{" C ",\"delta\":2.50E-1," R "}",
		    "{" C ",\"delta\":0.25," R "}", 1 },
		{ "{" BASE "}", "{" R "," D "," C "}", 1 },
		{ "{" C "," D ",\"reason\":\"caf\\u00e9\"}",
		    "{" C "," D ",\"reason\":\"caf" E_ACUTE "\"}", 1 },
		{ "{" BASE ",\"metadata\":{\"a\":1,\"b\":[2,\"x\"]}}",
		    "{" BASE ",\"metadata\":{ \"b\" : [2.0, \"x\"], \"a\": 1 }}",
		    1 },
		{ "{" BASE ",\"metadata\":null}", "{" BASE "}", 1 },
		{ "{" BASE ",\"referenceId\":null}", "{" BASE "}", 1 },
		{ "{" BASE ",\"adjusts\":null}", "{" BASE "}", 1 },
		/* A different request in one field. */
		{ "{" BASE "}", "{\"customerId\":\"cus_2\"," D "," R "}", 0 },
		{ "{" BASE "}", "{" C ",\"delta\":2," R "}", 0 },
		{ "{" BASE "}", "{" C ",\"delta\":-1," R "}", 0 },
		{ "{" BASE "}", "{" C ",\"delta\":1.000000001," R "}", 0 },
		{ "{" BASE "}", "{" C "," D ",\"reason\":\"usage \"}", 0 },
		{ "{" BASE "}", "{" BASE ",\"referenceId\":\"r1\"}", 0 },
		{ "{" BASE ",\"referenceId\":\"r1\"}",
		    "{" BASE ",\"referenceId\":\"r2\"}", 0 },
		{ "{" BASE "}", "{" BASE ",\"metadata\":{}}", 0 },
		{ "{" BASE ",\"metadata\":{\"a\":1}}",
		    "{" BASE ",\"metadata\":{\"a\":2}}", 0 },
		{ "{" BASE ",\"metadata\":{\"a\":1}}",
		    "{" BASE ",\"metadata\":{\"a\":\"1\"}}", 0 },
		{ "{" BASE ",\"metadata\":{\"a\":1}}",
		    "{" BASE ",\"metadata\":{\"b\":1}}", 0 },
		{ "{" BASE "}", "{" BASE ",\"adjusts\":{\"recordId\":\"x\"}}",
		    0 },
		{ "{" BASE ",\"adjusts\":{\"recordId\":\"x\"}}",
		    "{" BASE ",\"adjusts\":{\"referenceId\":\"x\"}}", 0 },
		{ "{" BASE ",\"adjusts\":{\"recordId\":\"x\"}}",
		    "{" BASE ",\"adjusts\":{\"recordId\":\"y\"}}", 0 },
		/* The same id in another role is another request. */
		{ "{" BASE ",\"referenceId\":\"x\"}",
		    "{" BASE ",\"adjusts\":{\"referenceId\":\"x\"}}", 0 },
	};
	struct json_object	*oa, *ob;
	struct emit_input	 a, b;
	size_t			 i;
	int			 same;

	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		oa = parse_ok(pairs[i].a, &a);
		ob = parse_ok(pairs[i].b, &b);
		same = memcmp(a.fingerprint, b.fingerprint,
		    sizeof(a.fingerprint)) == 0;
		ck_assert_msg(same == pairs[i].same, "pair %zu: %s vs %s: %s",
		    i, pairs[i].a, pairs[i].b, same ? "same" : "different");
		emit_input_free(&a);
		emit_input_free(&b);
		json_object_put(oa);
		json_object_put(ob);
	}
}
END_TEST

START_TEST(emit_idempotency_keys)
{
	static const struct {
		const char	*key;
		int		 valid;
	} keys[] = {
		{ "a", 1 }, { "order-17/retry 2", 1 }, { " ", 1 }, { "~", 1 },
		{ "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}", 1 },
		{ "", 0 }, { "a\tb", 0 }, { "a\nb", 0 }, { "\x1f", 0 },
		{ "\x7f", 0 }, { "caf" E_ACUTE, 0 }, { "\x80", 0 },
		{ "\xff", 0 },
	};
	char	long_key[300];
	size_t	i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ck_assert_msg(emit_idempotency_key_valid(keys[i].key) ==
		    keys[i].valid, "key %zu '%s'", i, keys[i].key);
	memset(long_key, 'k', sizeof(long_key));
	long_key[255] = '\0';
	ck_assert_int_eq(emit_idempotency_key_valid(long_key), 1);
	long_key[255] = 'k';
	long_key[256] = '\0';
	ck_assert_int_eq(emit_idempotency_key_valid(long_key), 0);
}
END_TEST

/* A stored delta from an accepted input, as the ledger would fill it. */
static void
delta_from(struct store_delta *d, const struct emit_input *in,
    const char *tenant, enum store_env env, uint64_t seq, int64_t ms)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->record_id, sizeof(d->record_id), "%s", in->record_id);
	snprintf(d->receipt_id, sizeof(d->receipt_id), "%s", in->receipt_id);
	snprintf(d->tenant, sizeof(d->tenant), "%s", tenant);
	d->env = env;
	snprintf(d->customer_id, sizeof(d->customer_id), "%s",
	    in->customer_id);
	d->seq = seq;
	snprintf(d->delta, sizeof(d->delta), "%s", in->delta);
	snprintf(d->reason, sizeof(d->reason), "%s", in->reason);
	d->has_reference = in->has_reference;
	snprintf(d->reference_id, sizeof(d->reference_id), "%s",
	    in->has_reference ? in->reference_id : "");
	d->metadata = in->metadata;
	d->created_ms = ms;
	memcpy(d->salt, in->salt, sizeof(d->salt));
}

/*
 * The leaf as the generic canonicaliser writes it, from a json-c object
 * built member by member; metadata is the object the client sent.
 */
static char *
leaf_by_jcs(const struct store_delta *d, struct json_object *body)
{
	struct json_object	*o, *meta = NULL;
	struct sbuf		 sb = { 0 };
	char			 when[TIMEFMT_LEN], salt[65];
	size_t			 i;

	timefmt_rfc3339(d->created_ms, when);
	for (i = 0; i < sizeof(d->salt); i++)
		snprintf(salt + 2 * i, 3, "%02x", d->salt[i]);
	ck_assert_ptr_nonnull(o = json_object_new_object());
	json_object_object_add(o, "tenant", json_object_new_string(d->tenant));
	json_object_object_add(o, "env", json_object_new_string(
	    d->env == STORE_ENV_LIVE ? "live" : "test"));
	json_object_object_add(o, "customerId",
	    json_object_new_string(d->customer_id));
	json_object_object_add(o, "sequenceNumber",
	    json_object_new_int64((int64_t)d->seq));
	json_object_object_add(o, "delta", json_object_new_string(d->delta));
	json_object_object_add(o, "reason", json_object_new_string(d->reason));
	json_object_object_add(o, "referenceId", d->has_reference ?
	    json_object_new_string(d->reference_id) : NULL);
	if (json_object_object_get_ex(body, "metadata", &meta) && meta != NULL)
		json_object_get(meta);
	json_object_object_add(o, "metadata", meta);
	json_object_object_add(o, "createdAt", json_object_new_string(when));
	json_object_object_add(o, "salt", json_object_new_string(salt));
	ck_assert_int_eq(jcs_serialize(o, &sb), 0);
	json_object_put(o);
	return sbuf_take(&sb, NULL);
}

START_TEST(emit_leaf_is_jcs)
{
	static const struct {
		const char	*json, *fill;
		size_t		 n;
		const char	*tenant;
		enum store_env	 env;
		uint64_t	 seq;
		int64_t		 ms;
	} cases[] = {
		{ "{" BASE "}", NULL, 0, "acme", STORE_ENV_TEST, 1, 0 },
		{ "{\"customerId\":\"c.2\",\"delta\":-2.50,\"reason\":\""
		  E_ACUTE EURO GRIN "\",\"referenceId\":\"ref-1\"}", NULL, 0,
		  "acme-co", STORE_ENV_LIVE, 42, 1769904000123LL },
		{ "{" C ",\"delta\":0.000000001,\"reason\":\"tab\\tsoh\\u0001 "
		  "\\\"quoted\\\" back\\\\slash /slash del\x7f nl\\n cr\\r "
		  "bs\\b ff\\f us\\u001f\",\"referenceId\":\"r \\\"q\\\" "
		  "\\\\ " E_ACUTE "\",\"metadata\":{\"z\":[1,2.50,\"\\u0001\","
		  "null,true],\"a\":{\"" E_ACUTE "\":1,\"\\ufb33\":2,\""
		  GRIN "\":3,\"\\r\":4}}}", NULL, 0, "t0", STORE_ENV_TEST,
		  4503599627370496ULL, 1769904000999LL },
		{ "{" C ",\"delta\":1e3,\"reason\":\"r\",\"metadata\":{}}", NULL,
		  0, "acme", STORE_ENV_LIVE, 7, 1 },
		{ "{" C ",\"delta\":-1000000000,\"reason\":\"@@\","
		  "\"metadata\":{\"k\":\"v\"}}", "\\ud83d\\ude00", 500, "acme",
		  STORE_ENV_TEST, 2, 1769904000000LL },
		{ "{" C ",\"delta\":1,\"reason\":\"@@\",\"referenceId\":\"x\"}",
		  "\\\"\\\\", 250, "acme", STORE_ENV_TEST, 3, 86399999LL },
	};
	struct json_object	*obj;
	struct emit_input	 in;
	struct store_delta	 d;
	struct sbuf		 leaf = { 0 };
	char			*text, *want;
	size_t			 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		text = expand(cases[i].json, cases[i].fill, cases[i].n);
		obj = parse_ok(text, &in);
		delta_from(&d, &in, cases[i].tenant, cases[i].env,
		    cases[i].seq, cases[i].ms);
		leaf.len = 0;
		ck_assert_int_eq(emit_leaf(&d, &leaf), 0);
		want = leaf_by_jcs(&d, obj);
		ck_assert_msg(leaf.len == strlen(want) &&
		    memcmp(leaf.buf, want, leaf.len) == 0,
		    "case %zu:\n got %.600s\nwant %.600s", i, leaf.buf, want);
		free(want);
		emit_input_free(&in);
		json_object_put(obj);
		free(text);
	}
	sbuf_free(&leaf);
}
END_TEST

/* One leaf written out by hand, should both serialisers share a fault. */
START_TEST(emit_leaf_golden)
{
	static const char	want[] = "{\"createdAt\":\"2026-02-01T00:00:00."
	    "123Z\",\"customerId\":\"cus_1\",\"delta\":\"-2.5\",\"env\":"
	    "\"test\",\"metadata\":{\"a\":\"x\",\"b\":[1,2.5]},\"reason\":"
	    "\"a\\\"b\\\\c\\td\\u0001" E_ACUTE EURO GRIN "\",\"referenceId\":"
	    "\"ref-1\",\"salt\":\"000102030405060708090a0b0c0d0e0f10111213"
	    "1415161718191a1b1c1d1e1f\",\"sequenceNumber\":7,\"tenant\":"
	    "\"acme\"}";
	struct json_object	*obj;
	struct emit_input	 in;
	struct store_delta	 d;
	struct sbuf		 leaf = { 0 };
	size_t			 i;

	obj = parse_ok("{" C ",\"delta\":-2.50,\"reason\":\"a\\\"b\\\\c\\td"
	    "\\u0001\\u00e9\\u20ac\\ud83d\\ude00\",\"referenceId\":\"ref-1\","
	    "\"metadata\":{\"b\":[1,2.50],\"a\":\"x\"}}", &in);
	delta_from(&d, &in, "acme", STORE_ENV_TEST, 7, 1769904000123LL);
	for (i = 0; i < sizeof(d.salt); i++)
		d.salt[i] = (uint8_t)i;
	ck_assert_int_eq(emit_leaf(&d, &leaf), 0);
	ck_assert_str_eq(leaf.buf, want);
	sbuf_free(&leaf);
	emit_input_free(&in);
	json_object_put(obj);
}
END_TEST

START_TEST(emit_amount_as_written)
{
	static const char *const amounts[] = {
		"1", "-2.5", "0.000000001", "1000000000", "123456789.123456789",
	};
	struct json_object	*v;
	size_t			 i;

	/* Never through a double: the text is the number on the wire. */
	for (i = 0; i < sizeof(amounts) / sizeof(amounts[0]); i++) {
		ck_assert_ptr_nonnull(v = view_amount(amounts[i]));
		ck_assert_str_eq(json_object_to_json_string(v), amounts[i]);
		json_object_put(v);
	}
}
END_TEST

/* view_text writes what json-c writes, byte for byte. */
START_TEST(emit_view_text_as_json_c)
{
	static const char *const texts[] = {
		"{\"a\":\"plain\",\"q\":\"\\\"quoted\\\" \\\\ back\","
		    "\"c\":\"\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f/\","
		    "\"u\":\"caf\\u00e9 \\u20ac \\ud83d\\ude00\",\"n\":null,"
		    "\"t\":true,\"f\":false,\"i\":-9223372036854775807,"
		    "\"big\":18446744073709551615,\"d\":2.5,\"e\":[],"
		    "\"o\":{},\"nested\":[{\"x\":[1,[2,{}]]},null,\"s\"]}",
		"[]", "\"lonely\"", "0",
	};
	struct json_object	*v;
	const char		*want;
	char			*got;
	size_t			 i, len;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		ck_assert_ptr_nonnull(v = json_tokener_parse(texts[i]));
		want = json_object_to_json_string_ext(v,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		ck_assert_ptr_nonnull(got = view_text(json_object_get(v),
		    &len));
		ck_assert_str_eq(got, want);
		ck_assert_uint_eq(len, strlen(want));
		free(got);
		json_object_put(v);
	}
	v = view_object();
	view_put(v, "amount", view_amount("987654321.123456789"));
	view_put(v, "exact", view_u64(UINT64_MAX));
	ck_assert_ptr_nonnull(got = view_text(v, &len));
	ck_assert_str_eq(got, "{\"amount\":987654321.123456789,"
	    "\"exact\":18446744073709551615}");
	free(got);
}
END_TEST

Suite *
emit_suite(void)
{
	Suite	*s = suite_create("emit");
	TCase	*tc = tcase_create("emit");

	/* Slow under valgrind or sanitisers only: 16 KiB bodies. */
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, emit_rules, 0,
	    (int)(sizeof(emit_cases) / sizeof(emit_cases[0])));
	tcase_add_test(tc, emit_not_an_object);
	tcase_add_test(tc, emit_canonical_values);
	tcase_add_test(tc, emit_fresh_ids);
	tcase_add_test(tc, emit_ids_sort_by_time);
	tcase_add_test(tc, emit_fingerprints);
	tcase_add_test(tc, emit_idempotency_keys);
	tcase_add_test(tc, emit_leaf_is_jcs);
	tcase_add_test(tc, emit_leaf_golden);
	tcase_add_test(tc, emit_amount_as_written);
	tcase_add_test(tc, emit_view_text_as_json_c);
	suite_add_tcase(s, tc);
	return s;
}
