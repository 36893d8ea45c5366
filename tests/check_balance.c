/*
 * core/balance and what it stands on: the month arithmetic and date
 * parsing of common/timefmt, the scope rules of SPEC 3.4, derive and the
 * delta listing against a real store, and the per-customer totals the
 * store keeps for them (store/customers.c).
 *
 * The store tests append crafted deltas straight to the store and keep
 * the same list in memory (the model): every expected balance is a
 * brute-force walk over that list, never a second use of the totals
 * the code under test reads.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "../common/decimal.h"
#include "../common/timefmt.h"
#include "../core/balance.h"
#include "../core/compare.h"
#include "../core/view.h"
#include "../store/store.h"
#include "check.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define MONTH(y, m)	((y) * 12 + (m) - 1)	/* timefmt numbering */
#define HOUR_MS		(INT64_C(3600) * 1000)
#define DAY_MS		(24 * HOUR_MS)
#define LIVE		STORE_ENV_LIVE
#define TEST		STORE_ENV_TEST

/* ---------------------------------------------------------------------
 * Helpers shared by every section.
 */

/* A time the test spells out; it must parse. */
static int64_t
at(const char *text)
{
	int64_t	ms;

	ck_assert_msg(timefmt_parse_date(text, &ms) == 0, "bad time %s",
	    text);
	return ms;
}

/* Exact amounts are compared as text, so a failure shows both. */
static void
assert_amount(decimal_t got, decimal_t want, const char *what)
{
	char	g[DECIMAL_MAX], w[DECIMAL_MAX];

	decimal_format(got, g);
	decimal_format(want, w);
	ck_assert_msg(got == want, "%s: net %s, expected %s", what, g, w);
}

/* The UTC month of ms, by the C library alone (not timefmt). */
static int
month_of(int64_t ms)
{
	struct tm	tm;
	time_t		secs = (time_t)(ms / 1000);

	gmtime_r(&secs, &tm);
	return (tm.tm_year + 1900) * 12 + tm.tm_mon;
}

/* ---------------------------------------------------------------------
 * timefmt: months, periods, dates.
 */

/* Months with their first millisecond and period text, checked by hand. */
static const struct {
	int		 month;
	int64_t		 start_ms;
	const char	*period;
} month_cases[] = {
	{ MONTH(1970, 1), 0, "1970-01" },
	{ MONTH(2000, 2), INT64_C(949363200000), "2000-02" },
	{ MONTH(2000, 3), INT64_C(951868800000), "2000-03" },
	{ MONTH(2025, 12), INT64_C(1764547200000), "2025-12" },
	{ MONTH(2026, 1), INT64_C(1767225600000), "2026-01" },
	{ MONTH(2026, 2), INT64_C(1769904000000), "2026-02" },
	{ MONTH(2026, 3), INT64_C(1772323200000), "2026-03" },
	{ MONTH(9999, 12), INT64_C(253399622400000), "9999-12" },
};

START_TEST(month_known_values)
{
	char	period[TIMEFMT_PERIOD_LEN];
	int	m = month_cases[_i].month, back = -1;

	ck_assert_int_eq(timefmt_month_start(m), month_cases[_i].start_ms);
	ck_assert_int_eq(timefmt_month(month_cases[_i].start_ms), m);
	ck_assert_int_eq(timefmt_month(month_cases[_i].start_ms - 1), m - 1);
	timefmt_period(m, period);
	ck_assert_str_eq(period, month_cases[_i].period);
	ck_assert_int_eq(timefmt_parse_period(period, &back), 0);
	ck_assert_int_eq(back, m);
}
END_TEST

START_TEST(month_round_trip)
{
	int64_t	start, next;
	int	m;

	/* Each month holds its first and last ms, and is 28-31 days long. */
	for (m = MONTH(1970, 1); m <= MONTH(2199, 12); m++) {
		start = timefmt_month_start(m);
		next = timefmt_month_start(m + 1);
		ck_assert_int_eq(timefmt_month(start), m);
		ck_assert_int_eq(timefmt_month(next - 1), m);
		ck_assert_int_ge(next - start, 28 * DAY_MS);
		ck_assert_int_le(next - start, 31 * DAY_MS);
	}
	/* December runs into January of the next year, 31 days on. */
	ck_assert_int_eq(MONTH(2025, 12) + 1, MONTH(2026, 1));
	ck_assert_int_eq(timefmt_month_start(MONTH(2025, 12)) + 31 * DAY_MS,
	    timefmt_month_start(MONTH(2026, 1)));
	ck_assert_int_eq(timefmt_month(at("2025-12-31T23:59:59.999Z")),
	    MONTH(2025, 12));
	ck_assert_int_eq(timefmt_month(at("2026-01-01T00:00:00Z")),
	    MONTH(2026, 1));
	/* Before the epoch the ms floor, not truncate, to the second. */
	ck_assert_int_eq(timefmt_month(-1), MONTH(1969, 12));
	ck_assert_int_eq(timefmt_month(-1001), MONTH(1969, 12));
}
END_TEST

static const struct {
	const char	*text;
	int		 month;		/* -1: rejected */
} period_cases[] = {
	{ "2026-02", MONTH(2026, 2) },
	{ "2026-12", MONTH(2026, 12) },
	{ "2026-01", MONTH(2026, 1) },
	{ "1970-01", MONTH(1970, 1) },
	{ "9999-12", MONTH(9999, 12) },
	{ "2026-2", -1 },
	{ "2026-13", -1 },
	{ "2026-00", -1 },
	{ "1969-12", -1 },
	{ "0000-01", -1 },
	{ "2026-02x", -1 },
	{ "", -1 },
	{ "2026", -1 },
	{ "2026-02-01", -1 },
	{ " 2026-02", -1 },
	{ "2026/02", -1 },
	{ "2026--2", -1 },
	{ "2026-+2", -1 },
	{ "2026-0a", -1 },
	{ "20a6-02", -1 },
	{ "+026-02", -1 },
};

START_TEST(parse_period_table)
{
	int	month = -2, rc;

	rc = timefmt_parse_period(period_cases[_i].text, &month);
	if (period_cases[_i].month < 0)
		ck_assert_msg(rc == -1, "\"%s\" accepted as %d",
		    period_cases[_i].text, month);
	else {
		ck_assert_msg(rc == 0, "\"%s\" rejected",
		    period_cases[_i].text);
		ck_assert_int_eq(month, period_cases[_i].month);
	}
}
END_TEST

static const struct {
	const char	*text;
	int64_t		 ms;
} date_ok_cases[] = {
	{ "1970-01-01", 0 },
	{ "2026-02-01", INT64_C(1769904000000) },
	{ "2024-02-29", INT64_C(1709164800000) },	/* leap year */
	{ "2000-02-29", INT64_C(951782400000) },	/* leap century */
	{ "2026-02-01T00:00:00Z", INT64_C(1769904000000) },
	{ "2024-02-29T12:30:45Z", INT64_C(1709209845000) },
	{ "2026-02-28T23:59:59Z", INT64_C(1772323199000) },
	{ "2026-02-28T23:59:59.5Z", INT64_C(1772323199500) },
	{ "2026-02-28T23:59:59.05Z", INT64_C(1772323199050) },
	{ "2026-02-28T23:59:59.123Z", INT64_C(1772323199123) },
	{ "2026-02-28T23:59:59.1234Z", INT64_C(1772323199123) },
	/* Finer digits are dropped, not rounded. */
	{ "2026-02-28T23:59:59.9999Z", INT64_C(1772323199999) },
	{ "2026-02-28T23:59:59.000000001Z", INT64_C(1772323199000) },
	{ "2026-02-28T23:59:59.0Z", INT64_C(1772323199000) },
	{ "9999-12-31T23:59:59.999Z", INT64_C(253402300799999) },
};

START_TEST(parse_date_accepts)
{
	char	back[TIMEFMT_LEN];
	int64_t	ms = -1, again = -1;

	ck_assert_msg(timefmt_parse_date(date_ok_cases[_i].text, &ms) == 0,
	    "\"%s\" rejected", date_ok_cases[_i].text);
	ck_assert_int_eq(ms, date_ok_cases[_i].ms);
	/* What timefmt_rfc3339 writes parses back to the same instant. */
	timefmt_rfc3339(ms, back);
	ck_assert_int_eq(timefmt_parse_date(back, &again), 0);
	ck_assert_int_eq(again, ms);
}
END_TEST

static const char *const date_bad_cases[] = {
	"2026-02-30",
	"2026-02-29",			/* not a leap year */
	"2100-02-29",			/* nor is 2100 */
	"2026-04-31",
	"2026-01-32",
	"2026-01-00",
	"2026-00-10",
	"2026-13-01",
	"1969-12-31",
	"2026-02-01T24:00:00Z",
	"2026-02-01T23:60:00Z",
	"2026-02-01T23:59:60Z",		/* no leap seconds */
	"2026-02-01T10:00:00",		/* no Z */
	"2026-02-01T10:00:00.5",
	"2026-02-01T10:00:00+01:00",
	"2026-02-01T10:00:00+00:00",
	"2026-02-01T10:00:00z",
	"2026-02-01t10:00:00Z",
	"2026-02-01 10:00:00Z",
	"2026-02-01T10:00Z",
	"2026-02-01T1:00:00Z",
	"2026-02-01T10:00:00.Z",
	"2026-02-01T10:00:00.-5Z",
	"2026-02-01T10:00:00.12aZ",
	"2026-02-01T10:00:00ZZ",
	"2026-02-01T10:00:00Zx",
	"2026-02-01T",
	"2026-02-01Z",
	"2026/02/01",
	"2026-02-01x",
	"2026-02-01 ",
	" 2026-02-01",
	"+2026-02-01",
	"2026-2-01",
	"26-02-01",
	"2026-02",
	"",
};

START_TEST(parse_date_rejects)
{
	int64_t	ms = -1;

	ck_assert_msg(timefmt_parse_date(date_bad_cases[_i], &ms) == -1,
	    "\"%s\" accepted as %" PRId64, date_bad_cases[_i], ms);
}
END_TEST

/* ---------------------------------------------------------------------
 * balance_scope_parse: the SPEC 3.4 rules, one field set per row.
 */

struct field {
	const char	*name;
	const char	*value;
};

/* A value present but not a string (a JSON number, say): the getter's -1. */
static const char	not_a_string[] = "(not a string)";
#define NOSTR		not_a_string

/*
 * The getter over a list ended by END_F.  It hands "" on as present:
 * treating it as absent is the HTTP layer's choice, not the parser's.
 */
static int
fields_get(void *arg, const char *name, char *out, size_t outlen)
{
	const struct field	*f;

	for (f = arg; f->name != NULL; f++) {
		if (strcmp(f->name, name) != 0)
			continue;
		if (f->value == not_a_string || strlen(f->value) >= outlen)
			return -1;
		memcpy(out, f->value, strlen(f->value) + 1);
		return 1;
	}
	return 0;
}

#define P(v)	{ "period", (v) }
#define TP(v)	{ "timePreset", (v) }
#define SD(v)	{ "startDate", (v) }
#define ED(v)	{ "endDate", (v) }
#define CK(v)	{ "startingCheckpoint", (v) }
#define CT(v)	{ "startingCheckpointType", (v) }
#define END_F	{ NULL, NULL }

#define X10	"0123456789"
/* The longest checkpoint, and a value longer than any field can hold. */
#define CK80	X10 X10 X10 X10 X10 X10 X10 X10
#define LONG100	CK80 X10 X10

#define OK_(k)		1, (k), 0, NULL
#define COMBO(f)	0, 0, 1, (f)
#define INVALID(f)	0, 0, 0, (f)

static const struct {
	struct field		 f[7];		/* ended by END_F */
	int			 ok;
	enum balance_scope_kind	 kind;		/* when ok */
	int			 combination;	/* when not */
	const char		*field;
} scope_cases[] = {
	/* Accepted. */
	{ { END_F }, OK_(BALANCE_ALL) },
	{ { P("2026-02") }, OK_(BALANCE_PERIOD) },
	{ { TP("current_month") }, OK_(BALANCE_CURRENT_MONTH) },
	{ { SD("2026-02-01"), ED("2026-03-01") }, OK_(BALANCE_CUSTOM) },
	{ { ED("2026-03-01"), SD("2026-02-01") }, OK_(BALANCE_CUSTOM) },
	{ { TP("custom"), SD("2026-02-01"), ED("2026-03-01") },
	    OK_(BALANCE_CUSTOM) },
	{ { SD("2026-02-01T10:00:00Z"), ED("2026-02-01T10:00:00.001Z") },
	    OK_(BALANCE_CUSTOM) },
	{ { CK("chk_1") }, OK_(BALANCE_CHECKPOINT) },
	{ { CK("chk_1"), CT("checkpointId") }, OK_(BALANCE_CHECKPOINT) },
	{ { CK("ab12"), CT("proofRoot") }, OK_(BALANCE_CHECKPOINT) },
	{ { CK(CK80) }, OK_(BALANCE_CHECKPOINT) },

	/* startingCheckpoint combines with no other scope field. */
	{ { CK("chk_1"), P("2026-02") }, COMBO("startingCheckpoint") },
	{ { CK("chk_1"), TP("current_month") }, COMBO("startingCheckpoint") },
	{ { CK("chk_1"), TP("custom") }, COMBO("startingCheckpoint") },
	{ { CK("chk_1"), SD("2026-02-01") }, COMBO("startingCheckpoint") },
	{ { CK("chk_1"), ED("2026-03-01") }, COMBO("startingCheckpoint") },
	{ { CK("chk_1"), SD("2026-02-01"), ED("2026-03-01") },
	    COMBO("startingCheckpoint") },
	{ { CK("chk_1"), CT("proofRoot"), P("2026-02") },
	    COMBO("startingCheckpoint") },
	/* ... and its type needs it. */
	{ { CT("checkpointId") }, COMBO("startingCheckpointType") },
	{ { CT("proofRoot"), P("2026-02") }, COMBO("startingCheckpointType") },

	/* period combines with no other scope field. */
	{ { P("2026-02"), TP("current_month") }, COMBO("period") },
	{ { P("2026-02"), TP("custom") }, COMBO("period") },
	{ { P("2026-02"), SD("2026-02-01") }, COMBO("period") },
	{ { P("2026-02"), ED("2026-03-01") }, COMBO("period") },
	{ { P("2026-02"), SD("2026-02-01"), ED("2026-03-01") },
	    COMBO("period") },
	{ { P("2026-13"), TP("custom") }, COMBO("period") },

	/* Dates only with custom or no preset, and always both. */
	{ { TP("current_month"), SD("2026-02-01"), ED("2026-03-01") },
	    COMBO("timePreset") },
	{ { TP("current_month"), SD("2026-02-01") }, COMBO("timePreset") },
	{ { TP("current_month"), ED("2026-03-01") }, COMBO("timePreset") },
	{ { TP("custom") }, COMBO("startDate") },
	{ { TP("custom"), SD("2026-02-01") }, COMBO("endDate") },
	{ { TP("custom"), ED("2026-03-01") }, COMBO("startDate") },
	{ { SD("2026-02-01") }, COMBO("endDate") },
	{ { ED("2026-03-01") }, COMBO("startDate") },

	/* Malformed values. */
	{ { P("2026-13") }, INVALID("period") },
	{ { P("1969-12") }, INVALID("period") },
	{ { P("2026-2") }, INVALID("period") },
	{ { P("") }, INVALID("period") },
	{ { TP("last_month") }, INVALID("timePreset") },
	{ { TP("Current_Month") }, INVALID("timePreset") },
	{ { TP("") }, INVALID("timePreset") },
	{ { TP("all"), SD("2026-02-01"), ED("2026-03-01") },
	    INVALID("timePreset") },
	{ { SD("2026-02-30"), ED("2026-03-01") }, INVALID("startDate") },
	{ { SD("2026-02-01"), ED("2026-03-01T10:00:00") },
	    INVALID("endDate") },
	{ { SD("bad"), ED("bad") }, INVALID("startDate") },
	{ { TP("custom"), SD(""), ED("2026-03-01") }, INVALID("startDate") },
	{ { SD("2026-02-01"), ED("2026-02-01") }, INVALID("endDate") },
	{ { SD("2026-02-01T10:00:00.001Z"), ED("2026-02-01T10:00:00Z") },
	    INVALID("endDate") },
	{ { SD("2026-03-01"), ED("2026-02-01") }, INVALID("endDate") },
	{ { CK("") }, INVALID("startingCheckpoint") },
	{ { CK(CK80 "x") }, INVALID("startingCheckpoint") },
	{ { CK("chk_1"), CT("root") }, INVALID("startingCheckpointType") },
	{ { CK("chk_1"), CT("") }, INVALID("startingCheckpointType") },
	{ { CK(""), CT("root") }, INVALID("startingCheckpointType") },

	/* A field that is not a string, or too long, is refused first. */
	{ { P(NOSTR) }, INVALID("period") },
	{ { TP(NOSTR) }, INVALID("timePreset") },
	{ { SD(NOSTR), ED("2026-03-01") }, INVALID("startDate") },
	{ { SD("2026-02-01"), ED(NOSTR) }, INVALID("endDate") },
	{ { CK(NOSTR) }, INVALID("startingCheckpoint") },
	{ { CK("chk_1"), CT(NOSTR) }, INVALID("startingCheckpointType") },
	{ { CK("chk_1"), ED(NOSTR) }, INVALID("endDate") },
	{ { P(LONG100) }, INVALID("period") },
	{ { CK(LONG100) }, INVALID("startingCheckpoint") },
};

START_TEST(scope_parse_table)
{
	struct balance_scope	s;
	struct balance_error	err;
	int			rc;

	/* Leftovers from an earlier call must not leak into this one. */
	memset(&s, 0xa5, sizeof(s));
	memset(&err, 0xa5, sizeof(err));
	rc = balance_scope_parse(fields_get, (void *)scope_cases[_i].f,
	    at("2026-02-14T12:00:00Z"), &s, &err);
	if (scope_cases[_i].ok) {
		ck_assert_msg(rc == 0, "row %d refused: %s: %s", _i,
		    err.field, err.message);
		ck_assert_int_eq(s.kind, scope_cases[_i].kind);
		return;
	}
	ck_assert_msg(rc == -1, "row %d accepted as kind %d", _i, s.kind);
	ck_assert_ptr_nonnull(err.field);
	ck_assert_msg(strcmp(err.field, scope_cases[_i].field) == 0 &&
	    err.combination == scope_cases[_i].combination,
	    "row %d: got %s (combination %d), expected %s (combination %d)",
	    _i, err.field, err.combination, scope_cases[_i].field,
	    scope_cases[_i].combination);
	/* The message names the field, for the client's benefit. */
	ck_assert_msg(strstr(err.message, err.field) != NULL,
	    "row %d: message \"%s\" does not name %s", _i, err.message,
	    err.field);
}
END_TEST

static void
scope_of(const struct field *f, int64_t now_ms, struct balance_scope *s)
{
	struct balance_error	err;

	ck_assert_msg(balance_scope_parse(fields_get, (void *)f, now_ms, s,
	    &err) == 0, "refused: %s: %s", err.field, err.message);
}

START_TEST(scope_values)
{
	const struct field	feb[] = { P("2026-02"), END_F };
	const struct field	dec[] = { P("2025-12"), END_F };
	const struct field	cur[] = { TP("current_month"), END_F };
	const struct field	win[] = { TP("custom"),
				    SD("2026-02-01T10:00:00.25Z"),
				    ED("2026-02-03"), END_F };
	const struct field	root[] = { CK("ab12"), CT("proofRoot"),
				    END_F };
	const struct field	cid[] = { CK("chk_9"), END_F };
	struct balance_scope	s;

	scope_of(feb, 0, &s);
	ck_assert_int_eq(s.month, MONTH(2026, 2));
	ck_assert_int_eq(s.start_ms, at("2026-02-01"));
	ck_assert_int_eq(s.end_ms, at("2026-03-01"));
	scope_of(dec, 0, &s);
	ck_assert_int_eq(s.month, MONTH(2025, 12));
	ck_assert_int_eq(s.start_ms, at("2025-12-01"));
	ck_assert_int_eq(s.end_ms, at("2026-01-01"));

	scope_of(win, 0, &s);
	ck_assert_int_eq(s.start_ms, at("2026-02-01T10:00:00.250Z"));
	ck_assert_int_eq(s.end_ms, at("2026-02-03T00:00:00Z"));

	scope_of(root, 0, &s);
	ck_assert_str_eq(s.checkpoint, "ab12");
	ck_assert_int_eq(s.by_proof_root, 1);
	scope_of(cid, 0, &s);
	ck_assert_str_eq(s.checkpoint, "chk_9");
	ck_assert_int_eq(s.by_proof_root, 0);

	/* current_month is the month of now_ms, to the millisecond. */
	scope_of(cur, at("2026-02-14T12:00:00Z"), &s);
	ck_assert_int_eq(s.kind, BALANCE_CURRENT_MONTH);
	ck_assert_int_eq(s.month, MONTH(2026, 2));
	ck_assert_int_eq(s.start_ms, at("2026-02-01"));
	ck_assert_int_eq(s.end_ms, at("2026-03-01"));
	scope_of(cur, at("2026-02-28T23:59:59.999Z"), &s);
	ck_assert_int_eq(s.month, MONTH(2026, 2));
	scope_of(cur, at("2026-03-01T00:00:00Z"), &s);
	ck_assert_int_eq(s.month, MONTH(2026, 3));
	scope_of(cur, at("2025-12-31T23:59:59.999Z"), &s);
	ck_assert_int_eq(s.month, MONTH(2025, 12));
	ck_assert_int_eq(s.end_ms, at("2026-01-01"));
}
END_TEST

static const struct {
	struct field	 f[4];
	const char	*json;
} scope_json_cases[] = {
	{ { END_F }, "{\"type\":\"all\"}" },
	{ { P("2026-02") }, "{\"type\":\"period\",\"period\":\"2026-02\","
	    "\"startDate\":\"2026-02-01T00:00:00.000Z\","
	    "\"endDate\":\"2026-03-01T00:00:00.000Z\"}" },
	{ { TP("current_month") }, "{\"type\":\"current_month\","
	    "\"period\":\"2026-02\","
	    "\"startDate\":\"2026-02-01T00:00:00.000Z\","
	    "\"endDate\":\"2026-03-01T00:00:00.000Z\"}" },
	{ { SD("2026-02-01T10:00:00.5Z"), ED("2026-02-03") },
	    "{\"type\":\"custom\","
	    "\"startDate\":\"2026-02-01T10:00:00.500Z\","
	    "\"endDate\":\"2026-02-03T00:00:00.000Z\"}" },
	{ { CK("chk_1") }, "{\"type\":\"checkpoint\","
	    "\"startingCheckpoint\":\"chk_1\","
	    "\"startingCheckpointType\":\"checkpointId\"}" },
	{ { CK("ab12"), CT("proofRoot") }, "{\"type\":\"checkpoint\","
	    "\"startingCheckpoint\":\"ab12\","
	    "\"startingCheckpointType\":\"proofRoot\"}" },
};

START_TEST(scope_json_table)
{
	struct balance_scope	 s;
	struct json_object	*o;

	scope_of(scope_json_cases[_i].f, at("2026-02-14T12:00:00Z"), &s);
	ck_assert_ptr_nonnull(o = view_scope(&s));
	ck_assert_str_eq(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN), scope_json_cases[_i].json);
	json_object_put(o);
}
END_TEST

/* ---------------------------------------------------------------------
 * The store and the model: what the tests appended, in log order.
 */

#define ROWS_MAX	400

struct row {
	const char	*tenant;
	enum store_env	 env;
	const char	*customer;
	int64_t		 ms;
	char		 text[STORE_DECIMAL_MAX];
	decimal_t	 amount;
	uint64_t	 log_index;
	uint64_t	 seq;
	char		 receipt[STORE_ID_MAX + 1];
	char		 reference[16];		/* "": none */
};

static char		 dir[256];
static struct store	*st;
static struct row	 rows[ROWS_MAX];
static size_t		 nrows, nwritten;

static void
store_setup(void)
{
	tmpdir_make(dir, sizeof(dir));
	ck_assert_int_eq(store_open(&st, dir, 8, STORE_CREATE), STORE_OK);
	ck_assert_int_eq(store_write(st, tenant_add_named, "acme"), STORE_OK);
	ck_assert_int_eq(store_write(st, tenant_add_named, "beta"), STORE_OK);
	nrows = nwritten = 0;
}

static void
store_teardown(void)
{
	store_close(st);
	st = NULL;
	tmpdir_remove(dir);
}

static int
same_customer(const struct row *r, const char *tenant, enum store_env env,
    const char *customer)
{
	return strcmp(r->tenant, tenant) == 0 && r->env == env &&
	    strcmp(r->customer, customer) == 0;
}

/* Adds a delta to the model; rows_write() appends it to the store. */
static void
row_add(const char *tenant, enum store_env env, const char *customer,
    int64_t ms, const char *text)
{
	struct row	*r;
	size_t		 i;

	ck_assert_uint_lt(nrows, ROWS_MAX);
	r = &rows[nrows];
	memset(r, 0, sizeof(*r));
	r->tenant = tenant;
	r->env = env;
	r->customer = customer;
	r->ms = ms;
	snprintf(r->text, sizeof(r->text), "%s", text);
	ck_assert_int_eq(decimal_parse(text, strlen(text), &r->amount),
	    DECIMAL_OK);
	r->log_index = nrows;
	r->seq = 1;
	for (i = 0; i < nrows; i++)
		if (same_customer(&rows[i], tenant, env, customer))
			r->seq++;
	snprintf(r->receipt, sizeof(r->receipt), "rcpt_%zu", nrows);
	nrows++;
}

static void
row_delta(const struct row *r, struct store_delta *d, char *leaf,
    size_t leaflen)
{
	memset(d, 0, sizeof(*d));
	d->log_index = r->log_index;
	snprintf(d->record_id, sizeof(d->record_id), "rec_%" PRIu64,
	    r->log_index);
	snprintf(d->receipt_id, sizeof(d->receipt_id), "%s", r->receipt);
	snprintf(d->tenant, sizeof(d->tenant), "%s", r->tenant);
	d->env = r->env;
	snprintf(d->customer_id, sizeof(d->customer_id), "%s", r->customer);
	d->seq = r->seq;
	snprintf(d->delta, sizeof(d->delta), "%s", r->text);
	snprintf(d->reason, sizeof(d->reason), "test delta");
	d->has_reference = r->reference[0] != '\0';
	snprintf(d->reference_id, sizeof(d->reference_id), "%s",
	    r->reference);
	d->created_ms = r->ms;
	memset(d->salt, (int)(r->log_index & 0xff), sizeof(d->salt));
	memset(d->content_hash, 0xc0, sizeof(d->content_hash));
	memset(d->leaf_hash, 0x1e, sizeof(d->leaf_hash));
	snprintf(leaf, leaflen, "leaf %" PRIu64, r->log_index);
	d->leaf_data = leaf;
	d->leaf_len = strlen(leaf);
}

/* Appends the model's unwritten rows; a retry starts again at nwritten. */
static int
rows_append_txn(struct store_txn *t, void *arg)
{
	struct store_slot	slot;
	struct store_delta	d;
	char			leaf[32];
	size_t			i;
	int			rc;

	(void)arg;
	for (i = nwritten; i < nrows; i++) {
		row_delta(&rows[i], &d, leaf, sizeof(leaf));
		if ((rc = store_delta_slot(t, d.tenant, d.env, d.customer_id,
		    &slot)) != STORE_OK)
			return rc;
		if (slot.log_index != rows[i].log_index)
			return STORE_USER + 50;
		if ((rc = store_delta_append(t, &slot, &d, rows[i].amount)) !=
		    STORE_OK)
			return rc;
	}
	return STORE_OK;
}

static void
rows_write(void)
{
	ck_assert_int_eq(store_write(st, rows_append_txn, NULL), STORE_OK);
	nwritten = nrows;
}

/* The signing time of the dummy head of a size, to recognise it by. */
static int64_t
head_signed_ms(uint64_t size)
{
	return at("2026-06-01") + (int64_t)size;
}

static int
head_add_txn(struct store_txn *t, void *arg)
{
	const uint64_t		*size = arg;
	struct store_sth	 h;

	memset(&h, 0, sizeof(h));
	h.size = *size;
	memset(h.root, 0x5a, sizeof(h.root));
	h.signed_ms = head_signed_ms(*size);
	snprintf(h.key_id, sizeof(h.key_id), "0badf00d");
	snprintf(h.note, sizeof(h.note), "test head %" PRIu64 "\n", *size);
	return store_sth_add(t, &h);
}

/* Signs (as far as derive can tell) the first size deltas of the log. */
static void
head_add(uint64_t size)
{
	ck_assert_int_eq(store_write(st, head_add_txn, &size), STORE_OK);
}

struct derive_call {
	const char			*tenant;
	enum store_env			 env;
	const char			*customer;
	const struct balance_scope	*scope;
	struct balance			*b;
};

static int
derive_txn(struct store_txn *t, void *arg)
{
	struct derive_call	*c = arg;
	int			 rc;

	rc = balance_derive(t, c->tenant, c->env, c->customer, c->scope, c->b);
	return rc != STORE_OK ? rc :
	    balance_latest_receipt(t, c->tenant, c->env, c->customer, c->b);
}

static int
derive_in(const char *tenant, enum store_env env, const char *customer,
    const struct balance_scope *s, struct balance *b)
{
	struct derive_call	c = { tenant, env, customer, s, b };

	return store_read(st, derive_txn, &c);
}

static int
derive(const char *customer, const struct balance_scope *s,
    struct balance *b)
{
	return derive_in("acme", LIVE, customer, s, b);
}

static struct balance_scope
scope_all(void)
{
	struct balance_scope	s;

	memset(&s, 0, sizeof(s));
	s.kind = BALANCE_ALL;
	return s;
}

static struct balance_scope
scope_period(int month)
{
	struct balance_scope	s;

	memset(&s, 0, sizeof(s));
	s.kind = BALANCE_PERIOD;
	s.month = month;
	s.start_ms = timefmt_month_start(month);
	s.end_ms = timefmt_month_start(month + 1);
	return s;
}

static struct balance_scope
scope_custom(int64_t start_ms, int64_t end_ms)
{
	struct balance_scope	s;

	memset(&s, 0, sizeof(s));
	s.kind = BALANCE_CUSTOM;
	s.start_ms = start_ms;
	s.end_ms = end_ms;
	return s;
}

/* A balance by brute force over the model. */
struct expect {
	uint64_t	 first_seq, last_seq;	/* when count > 0 */
	uint64_t	 count, pending;
	decimal_t	 net;
	const char	*receipt;
};

static int
in_scope(const struct row *r, const struct balance_scope *s)
{
	switch (s->kind) {
	case BALANCE_ALL:
		return 1;
	case BALANCE_PERIOD:
	case BALANCE_CURRENT_MONTH:
		return month_of(r->ms) == s->month;
	case BALANCE_CUSTOM:
		return r->ms >= s->start_ms && r->ms < s->end_ms;
	case BALANCE_CHECKPOINT:
		break;
	}
	ck_abort_msg("no model for scope kind %d", s->kind);
	return 0;
}

static void
expect_of(const char *tenant, enum store_env env, const char *customer,
    const struct balance_scope *s, uint64_t head, struct expect *e)
{
	const struct row	*r;
	size_t			 i;

	memset(e, 0, sizeof(*e));
	e->receipt = "";
	for (i = 0; i < nrows; i++) {
		r = &rows[i];
		if (!same_customer(r, tenant, env, customer) ||
		    !in_scope(r, s))
			continue;
		if (r->log_index >= head) {
			e->pending++;
			continue;
		}
		if (e->count++ == 0)
			e->first_seq = r->seq;
		e->last_seq = r->seq;
		e->net += r->amount;
		e->receipt = r->receipt;
	}
}

/* Derives customer of acme/live in s and compares with the model. */
static void
check_derive(const char *customer, const struct balance_scope *s,
    uint64_t head, const char *what)
{
	struct balance	b;
	struct expect	e;

	ck_assert_msg(derive(customer, s, &b) == STORE_OK, "%s: derive",
	    what);
	expect_of("acme", LIVE, customer, s, head, &e);
	ck_assert_msg(b.tree_size == head, "%s: tree size %" PRIu64, what,
	    b.tree_size);
	ck_assert_msg(b.count == e.count && b.pending == e.pending,
	    "%s: count %" PRIu64 " pending %" PRIu64 ", expected %" PRIu64
	    " and %" PRIu64, what, b.count, b.pending, e.count, e.pending);
	assert_amount(b.net, e.net, what);
	ck_assert_msg(strcmp(b.latest_receipt, e.receipt) == 0,
	    "%s: latest receipt \"%s\", expected \"%s\"", what,
	    b.latest_receipt, e.receipt);
	if (e.count > 0)
		ck_assert_msg(b.first_seq == e.first_seq &&
		    b.last_seq == e.last_seq, "%s: seqs %" PRIu64 "..%" PRIu64
		    ", expected %" PRIu64 "..%" PRIu64, what, b.first_seq,
		    b.last_seq, e.first_seq, e.last_seq);
	else
		ck_assert_msg(b.last_seq < b.first_seq, "%s: empty run "
		    "%" PRIu64 "..%" PRIu64, what, b.first_seq, b.last_seq);
	ck_assert_uint_eq(b.last_seq + 1 - b.first_seq, b.count);
}

/*
 * The calendar: cus_a of acme/live has one delta a day at 10:00 UTC from
 * 2026-01-27 to 2026-03-03 (36: 5 in January, 28 in February, 3 in
 * March), six amounts in turn summing to 95.050000001.  Interleaved in
 * the log: cus_b (Jan 30 .. Feb 5 at noon, 1 each), and deltas of a
 * cus_a in acme's test environment and in tenant beta.
 */
#define CAL_DAYS	36
#define CAL_ROWS	47

static const char *const cal_amounts[] = {
	"0.1", "2.5", "-0.3", "0.000000001", "100", "-7.25"
};

static void
calendar_fill(void)
{
	int64_t	ms;
	int	i;

	for (i = 0; i < CAL_DAYS; i++) {
		ms = at("2026-01-27T10:00:00Z") + i * DAY_MS;
		row_add("acme", LIVE, "cus_a", ms,
		    cal_amounts[i % NELEM(cal_amounts)]);
		if (i >= 3 && i < 10)
			row_add("acme", LIVE, "cus_b", ms + 2 * HOUR_MS, "1");
		if (i == 8 || i == 20)
			row_add("acme", TEST, "cus_a", ms, "5");
		if (i == 9 || i == 30)
			row_add("beta", LIVE, "cus_a", ms, "9");
	}
	ck_assert_uint_eq(nrows, CAL_ROWS);
	rows_write();
}

/* The log index of customer's delta seq in the model. */
static uint64_t
log_index_of(const char *customer, uint64_t seq)
{
	size_t	i;

	for (i = 0; i < nrows; i++)
		if (same_customer(&rows[i], "acme", LIVE, customer) &&
		    rows[i].seq == seq)
			return rows[i].log_index;
	ck_abort_msg("no seq %" PRIu64 " for %s", seq, customer);
	return 0;
}

/* ---------------------------------------------------------------------
 * balance_derive.
 */

START_TEST(derive_exact_tenths)
{
	struct balance_scope	s = scope_all();
	struct balance		b;
	int			i;

	/* Ten 0.1s make exactly 1: no binary floating point anywhere. */
	for (i = 0; i < 10; i++)
		row_add("acme", LIVE, "cus_t", at("2026-02-01T08:00:00Z") +
		    i * DAY_MS, "0.1");
	rows_write();
	head_add(10);
	ck_assert_int_eq(derive("cus_t", &s, &b), STORE_OK);
	ck_assert_uint_eq(b.tree_size, 10);
	ck_assert_uint_eq(b.count, 10);
	ck_assert_uint_eq(b.pending, 0);
	ck_assert_uint_eq(b.first_seq, 1);
	ck_assert_uint_eq(b.last_seq, 10);
	assert_amount(b.net, DECIMAL_SCALE, "ten tenths");
	ck_assert_str_eq(b.latest_receipt, "rcpt_9");
	ck_assert_uint_eq(b.customer.count, 10);
	ck_assert_uint_eq(b.customer.last_seq, 10);
	ck_assert(b.customer.sum == DECIMAL_SCALE);

	/* The same through the prefix sums: a window of seqs 2..8. */
	s = scope_custom(at("2026-02-02"), at("2026-02-09"));
	ck_assert_int_eq(derive("cus_t", &s, &b), STORE_OK);
	ck_assert_uint_eq(b.count, 7);
	assert_amount(b.net, 7 * DECIMAL_SCALE / 10, "seven tenths");
}
END_TEST

START_TEST(derive_partial_head_by_hand)
{
	struct balance_scope	s = scope_all();
	struct balance		b;
	int			i;

	for (i = 0; i < 10; i++)
		row_add("acme", LIVE, "cus_t", at("2026-02-01T08:00:00Z") +
		    i * DAY_MS, "0.1");
	rows_write();

	/* No head yet: nothing is verified, everything pending. */
	ck_assert_int_eq(derive("cus_t", &s, &b), STORE_OK);
	ck_assert_uint_eq(b.tree_size, 0);
	ck_assert_uint_eq(b.count, 0);
	ck_assert_uint_eq(b.pending, 10);
	assert_amount(b.net, 0, "no head");
	ck_assert_str_eq(b.latest_receipt, "");
	/* The customer's totals count every recorded delta regardless. */
	ck_assert(b.customer.sum == DECIMAL_SCALE);

	head_add(4);
	ck_assert_int_eq(derive("cus_t", &s, &b), STORE_OK);
	ck_assert_uint_eq(b.tree_size, 4);
	ck_assert_uint_eq(b.count, 4);
	ck_assert_uint_eq(b.pending, 6);
	ck_assert_uint_eq(b.first_seq, 1);
	ck_assert_uint_eq(b.last_seq, 4);
	assert_amount(b.net, 4 * DECIMAL_SCALE / 10, "head of 4");
	ck_assert_str_eq(b.latest_receipt, "rcpt_3");

	/* Feb 3 .. Feb 8: seqs 3..7, of which 3 and 4 are verified. */
	s = scope_custom(at("2026-02-03"), at("2026-02-08"));
	ck_assert_int_eq(derive("cus_t", &s, &b), STORE_OK);
	ck_assert_uint_eq(b.first_seq, 3);
	ck_assert_uint_eq(b.last_seq, 4);
	ck_assert_uint_eq(b.count, 2);
	ck_assert_uint_eq(b.pending, 3);
	assert_amount(b.net, 2 * DECIMAL_SCALE / 10, "window at head 4");
	ck_assert_str_eq(b.latest_receipt, "rcpt_3");

	/* Wholly past the head: none verified, all five pending. */
	s = scope_custom(at("2026-02-06"), at("2026-03-01"));
	ck_assert_int_eq(derive("cus_t", &s, &b), STORE_OK);
	ck_assert_uint_eq(b.count, 0);
	ck_assert_uint_eq(b.pending, 5);
	ck_assert_str_eq(b.latest_receipt, "");
}
END_TEST

START_TEST(derive_unknown_customer)
{
	struct balance_scope	all = scope_all(), feb;
	struct balance		b;

	feb = scope_period(MONTH(2026, 2));
	ck_assert_int_eq(derive("nobody", &all, &b), STORE_NOTFOUND);
	calendar_fill();
	head_add(CAL_ROWS);
	ck_assert_int_eq(derive("nobody", &all, &b), STORE_NOTFOUND);
	ck_assert_int_eq(derive("nobody", &feb, &b), STORE_NOTFOUND);
	ck_assert_int_eq(derive("cus_", &all, &b), STORE_NOTFOUND);
	ck_assert_int_eq(derive("cus_aa", &all, &b), STORE_NOTFOUND);
	/* cus_b has no delta in beta, nor in acme's test environment. */
	ck_assert_int_eq(derive_in("beta", LIVE, "cus_b", &all, &b),
	    STORE_NOTFOUND);
	ck_assert_int_eq(derive_in("acme", TEST, "cus_b", &all, &b),
	    STORE_NOTFOUND);
	ck_assert_int_eq(derive_in("nosuch", LIVE, "cus_a", &all, &b),
	    STORE_NOTFOUND);
}
END_TEST

START_TEST(derive_isolation)
{
	struct balance_scope	all = scope_all(), feb;
	struct balance		b;

	/* The same customerId elsewhere is another customer. */
	feb = scope_period(MONTH(2026, 2));
	calendar_fill();
	head_add(CAL_ROWS);
	ck_assert_int_eq(derive_in("acme", TEST, "cus_a", &all, &b),
	    STORE_OK);
	ck_assert_uint_eq(b.count, 2);
	assert_amount(b.net, 10 * DECIMAL_SCALE, "acme test");
	ck_assert_int_eq(derive_in("beta", LIVE, "cus_a", &all, &b),
	    STORE_OK);
	ck_assert_uint_eq(b.count, 2);
	assert_amount(b.net, 18 * DECIMAL_SCALE, "beta live");
	ck_assert_int_eq(derive_in("beta", LIVE, "cus_a", &feb, &b),
	    STORE_OK);
	ck_assert_uint_eq(b.count, 2);
	ck_assert_int_eq(derive("cus_a", &all, &b), STORE_OK);
	ck_assert_uint_eq(b.count, CAL_DAYS);
	assert_amount(b.net, INT64_C(570300000006), "acme live");
	ck_assert_int_eq(derive("cus_b", &all, &b), STORE_OK);
	ck_assert_uint_eq(b.count, 7);
	assert_amount(b.net, 7 * DECIMAL_SCALE, "cus_b");
}
END_TEST

START_TEST(derive_periods)
{
	static const struct {
		int		month;
		uint64_t	a_count, b_count;
	} months[] = {
		{ MONTH(2025, 12), 0, 0 },
		{ MONTH(2026, 1), 5, 2 },
		{ MONTH(2026, 2), 28, 5 },
		{ MONTH(2026, 3), 3, 0 },
		{ MONTH(2026, 4), 0, 0 },
		{ MONTH(2027, 2), 0, 0 },
	};
	struct balance_scope	s;
	struct balance		b;
	char			what[64];
	size_t			i;

	calendar_fill();
	head_add(CAL_ROWS);
	for (i = 0; i < NELEM(months); i++) {
		s = scope_period(months[i].month);
		snprintf(what, sizeof(what), "period %d", months[i].month);
		check_derive("cus_a", &s, CAL_ROWS, what);
		check_derive("cus_b", &s, CAL_ROWS, what);
		ck_assert_int_eq(derive("cus_a", &s, &b), STORE_OK);
		ck_assert_uint_eq(b.count, months[i].a_count);
		ck_assert_int_eq(derive("cus_b", &s, &b), STORE_OK);
		ck_assert_uint_eq(b.count, months[i].b_count);
	}
	/* January by hand: 0.1 + 2.5 - 0.3 + 0.000000001 + 100. */
	s = scope_period(MONTH(2026, 1));
	ck_assert_int_eq(derive("cus_a", &s, &b), STORE_OK);
	ck_assert_uint_eq(b.first_seq, 1);
	ck_assert_uint_eq(b.last_seq, 5);
	assert_amount(b.net, INT64_C(102300000001), "January");
	ck_assert_str_eq(b.latest_receipt, "rcpt_5");
	/* March: the last three, 0.000000001 + 100 - 7.25. */
	s = scope_period(MONTH(2026, 3));
	ck_assert_int_eq(derive("cus_a", &s, &b), STORE_OK);
	ck_assert_uint_eq(b.first_seq, 34);
	ck_assert_uint_eq(b.last_seq, 36);
	assert_amount(b.net, INT64_C(92750000001), "March");
	ck_assert_str_eq(b.latest_receipt, "rcpt_46");
}
END_TEST

START_TEST(derive_current_month)
{
	const struct field	cur[] = { TP("current_month"), END_F };
	struct balance_scope	s, feb = scope_period(MONTH(2026, 2));
	struct balance		b, pb;

	calendar_fill();
	head_add(CAL_ROWS);
	scope_of(cur, at("2026-02-20T00:00:00Z"), &s);
	check_derive("cus_a", &s, CAL_ROWS, "current month");
	ck_assert_int_eq(derive("cus_a", &s, &b), STORE_OK);
	ck_assert_int_eq(derive("cus_a", &feb, &pb), STORE_OK);
	ck_assert_uint_eq(b.count, 28);
	ck_assert_uint_eq(b.count, pb.count);
	assert_amount(b.net, pb.net, "current month is February");
	/* A month with nothing yet. */
	scope_of(cur, at("2026-05-02T00:00:00Z"), &s);
	ck_assert_int_eq(derive("cus_a", &s, &b), STORE_OK);
	ck_assert_uint_eq(b.count, 0);
	ck_assert_uint_eq(b.pending, 0);
}
END_TEST

/* Windows over the calendar; the counts are cus_a's, by hand. */
static const struct {
	const char	*start, *end;
	uint64_t	 count;
} window_cases[] = {
	/* Start inclusive, end exclusive, at deltas' exact times. */
	{ "2026-02-01T10:00:00Z", "2026-02-03T10:00:00Z", 2 },
	{ "2026-02-01T10:00:00.001Z", "2026-02-03T10:00:00.001Z", 2 },
	{ "2026-02-01T09:59:59.999Z", "2026-02-01T10:00:00.001Z", 1 },
	{ "2026-02-01T10:00:00Z", "2026-02-01T10:00:00.001Z", 1 },
	{ "2026-02-01T09:59:59.999Z", "2026-02-01T10:00:00Z", 0 },
	{ "2026-02-01T10:00:00.001Z", "2026-02-02T10:00:00Z", 0 },
	/* Nothing before the first or after the last. */
	{ "2025-01-01", "2026-01-27", 0 },
	{ "2025-01-01", "2026-01-27T10:00:00Z", 0 },
	{ "2026-03-03T10:00:00.001Z", "2027-01-01", 0 },
	/* Everything, and everything but an end. */
	{ "1970-01-01", "9999-12-31", CAL_DAYS },
	{ "2026-01-27T10:00:00Z", "2026-03-03T10:00:00.001Z", CAL_DAYS },
	{ "2026-01-27T10:00:00Z", "2026-03-03T10:00:00Z", CAL_DAYS - 1 },
	{ "2026-01-27T10:00:00.001Z", "2026-03-03T10:00:00.001Z",
	    CAL_DAYS - 1 },
	/* Whole days and months as dates. */
	{ "2026-02-01", "2026-03-01", 28 },
	{ "2026-01-31", "2026-02-02", 2 },
	{ "2026-02-10", "2026-02-11", 1 },
	{ "2025-12-01", "2026-02-01", 5 },
};

START_TEST(derive_custom_windows)
{
	static const uint64_t	heads[] = { 20, CAL_ROWS };
	struct balance_scope	s;
	struct balance		b;
	char			what[128];
	size_t			h, i;

	calendar_fill();
	for (h = 0; h < NELEM(heads); h++) {
		head_add(heads[h]);
		for (i = 0; i < NELEM(window_cases); i++) {
			s = scope_custom(at(window_cases[i].start),
			    at(window_cases[i].end));
			snprintf(what, sizeof(what), "[%s, %s) at head "
			    "%" PRIu64, window_cases[i].start,
			    window_cases[i].end, heads[h]);
			check_derive("cus_a", &s, heads[h], what);
			check_derive("cus_b", &s, heads[h], what);
			ck_assert_int_eq(derive("cus_a", &s, &b), STORE_OK);
			ck_assert_msg(b.count + b.pending ==
			    window_cases[i].count, "%s: %" PRIu64 " + %"
			    PRIu64 " deltas", what, b.count, b.pending);
		}
	}
}
END_TEST

START_TEST(derive_pending_every_scope)
{
	/* Heads grow as a log's do; none at all comes first. */
	static const uint64_t	heads[] = { 0, 1, 2, 9, 10, 20, 33, 46,
				    CAL_ROWS };
	struct balance_scope	scopes[8];
	struct balance		b;
	char			what[96];
	size_t			h, i;

	scopes[0] = scope_all();
	scopes[1] = scope_period(MONTH(2026, 1));
	scopes[2] = scope_period(MONTH(2026, 2));
	scopes[3] = scope_period(MONTH(2026, 3));
	scopes[4] = scope_custom(at("2026-02-02"), at("2026-02-20"));
	scopes[5] = scope_custom(at("2026-01-01"), at("2026-12-31"));
	scopes[6] = scope_custom(at("2026-01-30T12:00:00Z"),
	    at("2026-02-04T12:00:00Z"));
	scopes[7] = scopes[2];
	scopes[7].kind = BALANCE_CURRENT_MONTH;
	calendar_fill();
	for (h = 0; h <= NELEM(heads); h++) {
		if (h > 0)
			head_add(heads[h - 1]);
		for (i = 0; i < NELEM(scopes); i++) {
			snprintf(what, sizeof(what), "scope %zu head %zu", i,
			    h);
			check_derive("cus_a", &scopes[i], h ? heads[h - 1] : 0,
			    what);
			check_derive("cus_b", &scopes[i], h ? heads[h - 1] : 0,
			    what);
		}
	}
	/* The full head leaves nothing pending anywhere. */
	for (i = 0; i < NELEM(scopes); i++) {
		ck_assert_int_eq(derive("cus_a", &scopes[i], &b), STORE_OK);
		ck_assert_uint_eq(b.pending, 0);
	}
}
END_TEST

START_TEST(derive_newest_head)
{
	struct balance_scope	s = scope_all();
	struct balance		b;
	uint64_t		idx;

	calendar_fill();
	head_add(10);
	head_add(30);
	ck_assert_int_eq(derive("cus_a", &s, &b), STORE_OK);
	ck_assert_uint_eq(b.tree_size, 30);
	check_derive("cus_a", &s, 30, "newest head");

	/* A head's size is a count: the delta at logIndex size is out. */
	idx = log_index_of("cus_a", 25);
	ck_assert_uint_gt(idx, 30);
	head_add(idx);
	ck_assert_int_eq(derive("cus_a", &s, &b), STORE_OK);
	ck_assert_uint_eq(b.last_seq, 24);
	ck_assert_uint_eq(b.pending, CAL_DAYS - 24);
	head_add(idx + 1);
	ck_assert_int_eq(derive("cus_a", &s, &b), STORE_OK);
	ck_assert_uint_eq(b.last_seq, 25);
	ck_assert_uint_eq(b.pending, CAL_DAYS - 25);
	ck_assert_str_eq(b.latest_receipt, rows[idx].receipt);
}
END_TEST

START_TEST(derive_latest_receipt)
{
	struct balance_scope	s = scope_period(MONTH(2026, 2));
	struct balance		b;
	uint64_t		idx;

	calendar_fill();
	/* Cover cus_a's seq 10 but not 11: the receipt is seq 10's. */
	idx = log_index_of("cus_a", 10);
	head_add(idx + 1);
	ck_assert_int_eq(derive("cus_a", &s, &b), STORE_OK);
	ck_assert_uint_eq(b.last_seq, 10);
	ck_assert_str_eq(b.latest_receipt, rows[idx].receipt);
	/* A scope with nothing verified has no receipt. */
	s = scope_period(MONTH(2026, 3));
	ck_assert_int_eq(derive("cus_a", &s, &b), STORE_OK);
	ck_assert_uint_eq(b.count, 0);
	ck_assert_uint_eq(b.pending, 3);
	ck_assert_str_eq(b.latest_receipt, "");
}
END_TEST

START_TEST(derive_checkpoint_unknown)
{
	const struct field	f[] = { CK("chk_nothing"), END_F };
	struct balance_scope	s;
	struct balance		b;

	calendar_fill();
	head_add(CAL_ROWS);
	scope_of(f, 0, &s);
	ck_assert_int_eq(balance_outcome(derive("cus_a", &s, &b), &b),
	    BALANCE_NO_CHECKPOINT);
	/* An unknown customer is reported as such first. */
	ck_assert_int_eq(balance_outcome(derive("nobody", &s, &b), &b),
	    BALANCE_NO_CUSTOMER);
}
END_TEST

/* xorshift64*: a fixed seed, so a failure repeats. */
static uint64_t	rng_state;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static uint64_t
rng_below(uint64_t n)
{
	return rng() % n;
}

/* An amount with up to 9 decimals, of either sign, in shortest text. */
static void
random_amount(char out[DECIMAL_MAX])
{
	static const int64_t	scales[] = { 1, 1000, 1000000,
				    DECIMAL_SCALE };
	decimal_t		v;

	/* Mostly full precision; sometimes fewer decimals, or none. */
	v = (decimal_t)rng_below(UINT64_C(1000000000000));
	if (rng_below(3) == 0)
		v -= v % scales[rng_below(NELEM(scales))];
	if (rng_below(2))
		v = -v;
	decimal_format(v, out);
}

#define RAND_ROWS	300
#define RAND_WINDOWS	200

/* A window edge: a delta's exact time (or a ms either side), or any. */
static int64_t
random_edge(int64_t lo, int64_t hi)
{
	int64_t	ms;

	if (rng_below(2) == 0)
		return lo + (int64_t)rng_below((uint64_t)(hi - lo));
	ms = rows[rng_below(nrows)].ms;
	return ms + (int64_t)rng_below(3) - 1;
}

/* Every customer's whole balance and months Dec 2025 .. Jun 2026. */
static void
check_months(const char *const *custs, size_t ncusts, uint64_t head)
{
	struct balance_scope	s;
	char			what[64];
	size_t			i;
	int			m;

	for (i = 0; i < ncusts; i++) {
		s = scope_all();
		check_derive(custs[i], &s, head, "all");
		for (m = MONTH(2025, 12); m <= MONTH(2026, 6); m++) {
			s = scope_period(m);
			snprintf(what, sizeof(what), "%s month %d", custs[i],
			    m);
			check_derive(custs[i], &s, head, what);
		}
	}
}

START_TEST(derive_random)
{
	static const char *const custs[] = { "cus_x", "cus_y", "cus_z" };
	struct balance_scope	s;
	char			text[DECIMAL_MAX], what[160];
	int64_t			ms, lo, hi, a, z;
	uint64_t		head;
	size_t			i;

	rng_state = UINT64_C(0x9e3779b97f4a7c15);
	/* About four months from 2026-01-01, some deltas at equal times. */
	lo = at("2026-01-01");
	ms = lo;
	for (i = 0; i < RAND_ROWS; i++) {
		if (rng_below(10) != 0)
			ms += (int64_t)rng_below((uint64_t)(19 * HOUR_MS));
		random_amount(text);
		row_add("acme", LIVE, custs[rng_below(NELEM(custs))], ms,
		    text);
	}
	hi = ms;
	ck_assert_int_ge(hi - lo, 90 * DAY_MS);
	rows_write();
	head = rng_below(RAND_ROWS + 1);
	head_add(head);

	for (i = 0; i < RAND_WINDOWS; i++) {
		a = random_edge(lo - 5 * DAY_MS, hi + 5 * DAY_MS);
		z = random_edge(lo - 5 * DAY_MS, hi + 5 * DAY_MS);
		if (a > z) {
			ms = a;
			a = z;
			z = ms;
		}
		if (a == z)
			z++;
		s = scope_custom(a, z);
		snprintf(what, sizeof(what), "window %zu [%" PRId64 ", %"
		    PRId64 ") at head %" PRIu64, i, a, z, head);
		check_derive(custs[i % NELEM(custs)], &s, head, what);
	}
	/* Every month, and all, before and after the whole log is signed. */
	check_months(custs, NELEM(custs), head);
	if (head < RAND_ROWS) {
		head_add(RAND_ROWS);
		check_months(custs, NELEM(custs), RAND_ROWS);
	}
}
END_TEST

/* ---------------------------------------------------------------------
 * balance_each.
 */

struct check_balance_listing {
	uint64_t		seqs[64];
	size_t			n;
	int			stop_at;	/* fail on call n, if > 0 */
	uint64_t		head;
};

static int
list_one(struct store_delta *d, void *arg)
{
	struct check_balance_listing *l = arg;
	const struct row	*r;

	ck_assert_uint_lt(l->n, NELEM(l->seqs));
	l->seqs[l->n++] = d->seq;
	/* What comes back is the delta appended, with its status. */
	ck_assert_uint_lt(d->log_index, nrows);
	r = &rows[d->log_index];
	ck_assert_str_eq(d->customer_id, r->customer);
	ck_assert_uint_eq(d->seq, r->seq);
	ck_assert_str_eq(d->delta, r->text);
	ck_assert_str_eq(d->receipt_id, r->receipt);
	ck_assert_int_eq(d->created_ms, r->ms);
	if (d->log_index < l->head)
		ck_assert_int_eq(d->status, STORE_DELTA_VERIFIED);
	else
		ck_assert_int_eq(d->status, STORE_DELTA_QUEUED);
	if (l->stop_at > 0 && (int)l->n == l->stop_at)
		return STORE_USER + 7;
	return STORE_OK;
}

struct each_call {
	const char	*customer;
	uint64_t	 first, last, limit;
	int		 newest_first;
	struct check_balance_listing *l;
};

static int
each_txn(struct store_txn *t, void *arg)
{
	struct each_call	*c = arg;

	c->l->n = 0;		/* a retried transaction lists again */
	return balance_each(t, "acme", LIVE, c->customer, c->first, c->last,
	    c->newest_first, c->limit, list_one, c->l);
}

static const struct {
	uint64_t	first, last, limit;
	int		newest_first;
	uint64_t	want_first;	/* the seqs listed, a run */
	size_t		want_n;
} each_cases[] = {
	{ 1, 36, 100, 0, 1, 36 },
	{ 1, 36, 100, 1, 36, 36 },
	{ 1, 36, 36, 0, 1, 36 },
	{ 1, 36, 5, 0, 1, 5 },
	{ 1, 36, 5, 1, 36, 5 },
	{ 6, 33, 3, 0, 6, 3 },
	{ 6, 33, 1000, 1, 33, 28 },
	{ 6, 33, 1, 1, 33, 1 },
	{ 7, 7, 10, 0, 7, 1 },
	{ 7, 7, 10, 1, 7, 1 },
	{ 1, 36, 0, 0, 0, 0 },
	{ 0, 36, 10, 0, 0, 0 },
	{ 8, 7, 10, 0, 0, 0 },
	{ 8, 7, 10, 1, 0, 0 },
};

START_TEST(each_order_and_limit)
{
	struct check_balance_listing l;
	struct each_call	c;
	size_t			i, k;
	uint64_t		want;

	calendar_fill();
	head_add(20);
	for (i = 0; i < NELEM(each_cases); i++) {
		memset(&l, 0, sizeof(l));
		l.head = 20;
		c.customer = "cus_a";
		c.first = each_cases[i].first;
		c.last = each_cases[i].last;
		c.limit = each_cases[i].limit;
		c.newest_first = each_cases[i].newest_first;
		c.l = &l;
		ck_assert_int_eq(store_read(st, each_txn, &c), STORE_OK);
		ck_assert_msg(l.n == each_cases[i].want_n, "row %zu: %zu "
		    "listed, expected %zu", i, l.n, each_cases[i].want_n);
		for (k = 0; k < l.n; k++) {
			want = each_cases[i].newest_first ?
			    each_cases[i].want_first - k :
			    each_cases[i].want_first + k;
			ck_assert_msg(l.seqs[k] == want, "row %zu item %zu: "
			    "seq %" PRIu64 ", expected %" PRIu64, i, k,
			    l.seqs[k], want);
		}
	}
}
END_TEST

START_TEST(each_stops_on_error)
{
	struct check_balance_listing l;
	struct each_call	c = { "cus_a", 1, 36, 100, 0, &l };

	calendar_fill();
	memset(&l, 0, sizeof(l));
	l.stop_at = 2;
	ck_assert_int_eq(store_read(st, each_txn, &c), STORE_USER + 7);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_uint_eq(l.seqs[1], 2);
}
END_TEST

START_TEST(each_derived_run)
{
	struct balance_scope	s = scope_period(MONTH(2026, 2));
	struct balance		b;
	struct check_balance_listing l;
	struct each_call	c;
	size_t			k;

	/* What derive counted is what the listing walks: February's. */
	calendar_fill();
	head_add(CAL_ROWS);
	ck_assert_int_eq(derive("cus_b", &s, &b), STORE_OK);
	memset(&l, 0, sizeof(l));
	l.head = CAL_ROWS;
	c = (struct each_call){ "cus_b", b.first_seq, b.last_seq, 1000, 0,
	    &l };
	ck_assert_int_eq(store_read(st, each_txn, &c), STORE_OK);
	ck_assert_uint_eq(l.n, b.count);
	ck_assert_uint_eq(l.n, 5);
	for (k = 0; k < l.n; k++)
		ck_assert_int_eq(month_of(rows[log_index_of("cus_b",
		    l.seqs[k])].ms), MONTH(2026, 2));
}
END_TEST

struct status_call {
	uint64_t		log_index;
	struct store_delta	d;
};

static int
status_one(struct store_delta *d, void *arg)
{
	struct status_call	*sc = arg;

	if (d->log_index == sc->log_index) {
		sc->d = *d;
		sc->d.metadata = sc->d.leaf_data = NULL;
	}
	return STORE_OK;
}

static int
status_txn(struct store_txn *t, void *arg)
{
	return balance_each(t, "acme", LIVE, "cus_a", 1, CAL_DAYS, 0, 100,
	    status_one, arg);
}

START_TEST(each_verified_by_oldest_head)
{
	struct status_call	sc;

	/* A delta is verified when the first head covering it was signed. */
	calendar_fill();
	head_add(10);
	head_add(30);
	memset(&sc, 0, sizeof(sc));
	sc.log_index = log_index_of("cus_a", 2);
	ck_assert_int_eq(store_read(st, status_txn, &sc), STORE_OK);
	ck_assert_int_eq(sc.d.status, STORE_DELTA_VERIFIED);
	ck_assert_int_eq(sc.d.verified_ms, head_signed_ms(10));
	sc.log_index = log_index_of("cus_a", 12);
	ck_assert_int_eq(store_read(st, status_txn, &sc), STORE_OK);
	ck_assert_int_eq(sc.d.status, STORE_DELTA_VERIFIED);
	ck_assert_int_eq(sc.d.verified_ms, head_signed_ms(30));
	sc.log_index = log_index_of("cus_a", 30);
	ck_assert_int_eq(store_read(st, status_txn, &sc), STORE_OK);
	ck_assert_int_eq(sc.d.status, STORE_DELTA_QUEUED);
	ck_assert_int_eq(sc.d.verified_ms, 0);
}
END_TEST

/* ---------------------------------------------------------------------
 * The store's totals that derive reads.
 */

struct totals {
	const char		*tenant;
	enum store_env		 env;
	const char		*customer;
	int			 month;
	uint64_t		 seq;
	int			 rc;
	struct store_month	 m;
	struct store_custpos	 p;
	struct store_customer	 c;
	uint64_t		 usage;
};

static int
month_txn(struct store_txn *t, void *arg)
{
	struct totals	*x = arg;

	x->rc = store_month_get(t, x->tenant, x->env, x->customer, x->month,
	    &x->m);
	return STORE_OK;
}

static int
custpos_txn(struct store_txn *t, void *arg)
{
	struct totals	*x = arg;

	x->rc = store_custpos_get(t, x->tenant, x->env, x->customer, x->seq,
	    &x->p);
	return STORE_OK;
}

static int
customer_txn(struct store_txn *t, void *arg)
{
	struct totals	*x = arg;

	x->rc = store_customer_get(t, x->tenant, x->env, x->customer, &x->c);
	return STORE_OK;
}

static int
usage_txn(struct store_txn *t, void *arg)
{
	struct totals	*x = arg;

	x->rc = store_usage_get(t, x->tenant, x->env, x->month, &x->usage);
	return STORE_OK;
}

static struct totals
totals_read(store_txn_fn fn, const char *tenant, enum store_env env,
    const char *customer, int month, uint64_t seq)
{
	struct totals	x;

	memset(&x, 0, sizeof(x));
	x.tenant = tenant;
	x.env = env;
	x.customer = customer;
	x.month = month;
	x.seq = seq;
	memset(&x.m, 0xa5, sizeof(x.m));
	memset(&x.c, 0xa5, sizeof(x.c));
	ck_assert_int_eq(store_read(st, fn, &x), STORE_OK);
	return x;
}

START_TEST(totals_months)
{
	static const struct {
		const char	*customer;
		int		 month;
		uint64_t	 first, last, count;
	} cases[] = {
		{ "cus_a", MONTH(2026, 1), 1, 5, 5 },
		{ "cus_a", MONTH(2026, 2), 6, 33, 28 },
		{ "cus_a", MONTH(2026, 3), 34, 36, 3 },
		{ "cus_b", MONTH(2026, 1), 1, 2, 2 },
		{ "cus_b", MONTH(2026, 2), 3, 7, 5 },
	};
	static const int	empty[] = { MONTH(2025, 12), MONTH(2026, 4),
				    MONTH(2027, 1) };
	struct balance_scope	s;
	struct expect		e;
	struct totals		x;
	size_t			i;

	calendar_fill();
	for (i = 0; i < NELEM(cases); i++) {
		x = totals_read(month_txn, "acme", LIVE, cases[i].customer,
		    cases[i].month, 0);
		ck_assert_int_eq(x.rc, STORE_OK);
		ck_assert_uint_eq(x.m.first_seq, cases[i].first);
		ck_assert_uint_eq(x.m.last_seq, cases[i].last);
		ck_assert_uint_eq(x.m.count, cases[i].count);
		s = scope_period(cases[i].month);
		expect_of("acme", LIVE, cases[i].customer, &s, UINT64_MAX, &e);
		assert_amount(x.m.sum, e.net, "month sum");
	}
	for (i = 0; i < NELEM(empty); i++) {
		x = totals_read(month_txn, "acme", LIVE, "cus_a", empty[i], 0);
		ck_assert_int_eq(x.rc, STORE_NOTFOUND);
		ck_assert_uint_eq(x.m.count, 0);
		ck_assert_uint_eq(x.m.first_seq, 0);
		ck_assert_uint_eq(x.m.last_seq, 0);
		ck_assert(x.m.sum == 0);
	}
	/* Another environment's and tenant's months are their own. */
	x = totals_read(month_txn, "acme", TEST, "cus_a", MONTH(2026, 2), 0);
	ck_assert_int_eq(x.rc, STORE_OK);
	ck_assert_uint_eq(x.m.count, 2);
	assert_amount(x.m.sum, 10 * DECIMAL_SCALE, "test env month");
	x = totals_read(month_txn, "beta", LIVE, "cus_b", MONTH(2026, 2), 0);
	ck_assert_int_eq(x.rc, STORE_NOTFOUND);
}
END_TEST

START_TEST(totals_usage)
{
	static const struct {
		const char	*tenant;
		enum store_env	 env;
		int		 month;
		uint64_t	 count;
	} cases[] = {
		{ "acme", LIVE, MONTH(2025, 12), 0 },
		{ "acme", LIVE, MONTH(2026, 1), 7 },
		{ "acme", LIVE, MONTH(2026, 2), 33 },
		{ "acme", LIVE, MONTH(2026, 3), 3 },
		{ "acme", LIVE, MONTH(2026, 4), 0 },
		{ "acme", TEST, MONTH(2026, 1), 0 },
		{ "acme", TEST, MONTH(2026, 2), 2 },
		{ "beta", LIVE, MONTH(2026, 2), 2 },
		{ "beta", TEST, MONTH(2026, 2), 0 },
		{ "nosuch", LIVE, MONTH(2026, 2), 0 },
	};
	struct totals	x;
	size_t		i;

	calendar_fill();
	for (i = 0; i < NELEM(cases); i++) {
		x = totals_read(usage_txn, cases[i].tenant, cases[i].env, NULL,
		    cases[i].month, 0);
		ck_assert_int_eq(x.rc, STORE_OK);
		ck_assert_msg(x.usage == cases[i].count, "%s/%d month %d: "
		    "%" PRIu64 ", expected %" PRIu64, cases[i].tenant,
		    cases[i].env, cases[i].month, x.usage, cases[i].count);
	}
}
END_TEST

START_TEST(totals_custpos_prefix_sums)
{
	static const char *const custs[] = { "cus_a", "cus_b" };
	const struct row	*r;
	struct totals		 x;
	decimal_t		 sum;
	uint64_t		 last;
	size_t			 c, i;

	calendar_fill();
	for (c = 0; c < NELEM(custs); c++) {
		sum = 0;
		last = 0;
		for (i = 0; i < nrows; i++) {
			r = &rows[i];
			if (!same_customer(r, "acme", LIVE, custs[c]))
				continue;
			sum += r->amount;
			x = totals_read(custpos_txn, "acme", LIVE, custs[c], 0,
			    r->seq);
			ck_assert_int_eq(x.rc, STORE_OK);
			ck_assert_uint_eq(x.p.log_index, r->log_index);
			ck_assert_int_eq(x.p.created_ms, r->ms);
			assert_amount(x.p.sum, sum, "prefix sum");
			last = r->seq;
		}
		/* No seq 0, none past the last. */
		x = totals_read(custpos_txn, "acme", LIVE, custs[c], 0, 0);
		ck_assert_int_eq(x.rc, STORE_NOTFOUND);
		x = totals_read(custpos_txn, "acme", LIVE, custs[c], 0,
		    last + 1);
		ck_assert_int_eq(x.rc, STORE_NOTFOUND);

		/* The running totals agree with the last prefix. */
		x = totals_read(customer_txn, "acme", LIVE, custs[c], 0, 0);
		ck_assert_int_eq(x.rc, STORE_OK);
		ck_assert_uint_eq(x.c.last_seq, last);
		ck_assert_uint_eq(x.c.count, last);
		assert_amount(x.c.sum, sum, "customer sum");
	}
	x = totals_read(customer_txn, "acme", LIVE, "cus_a", 0, 0);
	ck_assert_int_eq(x.c.first_ms, at("2026-01-27T10:00:00Z"));
	ck_assert_int_eq(x.c.last_ms, at("2026-03-03T10:00:00Z"));
	x = totals_read(customer_txn, "acme", LIVE, "nobody", 0, 0);
	ck_assert_int_eq(x.rc, STORE_NOTFOUND);
	ck_assert_uint_eq(x.c.count, 0);
	ck_assert(x.c.sum == 0);
}
END_TEST

struct listed {
	char			ids[4][STORE_CUSTOMER_MAX + 1];
	struct store_customer	c[4];
	size_t			n;
};

static int
listed_one(const char *id, const struct store_customer *c, void *arg)
{
	struct listed	*l = arg;

	ck_assert_uint_lt(l->n, NELEM(l->ids));
	snprintf(l->ids[l->n], sizeof(l->ids[l->n]), "%s", id);
	l->c[l->n++] = *c;
	return 0;
}

struct listing_call {
	const char	*tenant;
	enum store_env	 env;
	const char	*from;		/* NULL: store_customer_each */
	struct listed	 l;
};

static int
customers_txn(struct store_txn *t, void *arg)
{
	struct listing_call	*lc = arg;

	lc->l.n = 0;
	if (lc->from != NULL)
		return store_customer_each_from(t, lc->tenant, lc->env,
		    lc->from, listed_one, &lc->l);
	return store_customer_each(t, lc->tenant, lc->env, listed_one,
	    &lc->l);
}

static struct listed
customers_from(const char *tenant, enum store_env env, const char *from)
{
	struct listing_call	lc;

	memset(&lc, 0, sizeof(lc));
	lc.tenant = tenant;
	lc.env = env;
	lc.from = from;
	ck_assert_int_eq(store_read(st, customers_txn, &lc), STORE_OK);
	return lc.l;
}

static struct listed
customers_of(const char *tenant, enum store_env env)
{
	return customers_from(tenant, env, NULL);
}

START_TEST(totals_customer_each)
{
	char		longname[300];
	struct listed	l;

	calendar_fill();
	/* By customerId, with the running totals; nobody else's. */
	l = customers_of("acme", LIVE);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.ids[0], "cus_a");
	ck_assert_str_eq(l.ids[1], "cus_b");
	ck_assert_uint_eq(l.c[0].count, CAL_DAYS);
	assert_amount(l.c[0].sum, INT64_C(570300000006), "cus_a total");
	ck_assert_uint_eq(l.c[1].count, 7);
	ck_assert_int_eq(l.c[1].first_ms, at("2026-01-30T12:00:00Z"));
	l = customers_of("acme", TEST);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_uint_eq(l.c[0].count, 2);
	l = customers_of("beta", LIVE);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.ids[0], "cus_a");
	l = customers_of("beta", TEST);
	ck_assert_uint_eq(l.n, 0);
	l = customers_of("acm", LIVE);
	ck_assert_uint_eq(l.n, 0);
	l = customers_of("acmez", LIVE);
	ck_assert_uint_eq(l.n, 0);
	/* A tenant too long for any key has no customers, not an error. */
	memset(longname, 't', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	l = customers_of(longname, LIVE);
	ck_assert_uint_eq(l.n, 0);

	/* Resuming from a customerId includes it. */
	l = customers_from("acme", LIVE, "cus_a");
	ck_assert_uint_eq(l.n, 2);
	l = customers_from("acme", LIVE, "cus_a0");
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.ids[0], "cus_b");
	l = customers_from("acme", LIVE, "cus_b");
	ck_assert_uint_eq(l.n, 1);
	l = customers_from("acme", LIVE, "cus_c");
	ck_assert_uint_eq(l.n, 0);
	l = customers_from("acme", LIVE, "");
	ck_assert_uint_eq(l.n, 2);
}
END_TEST

struct months_seen {
	int			month[8];
	struct store_month	m[8];
	size_t			n;
};

static int
month_seen(int month, const struct store_month *m, void *arg)
{
	struct months_seen	*ms = arg;

	ck_assert_uint_lt(ms->n, NELEM(ms->month));
	ms->month[ms->n] = month;
	ms->m[ms->n++] = *m;
	return 0;
}

struct months_call {
	const char		*tenant;
	enum store_env		 env;
	const char		*customer;
	struct months_seen	 seen;
};

static int
months_txn(struct store_txn *t, void *arg)
{
	struct months_call	*mc = arg;
	struct store_customer	 c;
	int			 rc;

	mc->seen.n = 0;
	rc = store_customer_get(t, mc->tenant, mc->env, mc->customer, &c);
	if (rc != STORE_OK)
		return rc == STORE_NOTFOUND ? STORE_OK : rc;
	return store_month_each(t, mc->tenant, mc->env, mc->customer, &c,
	    month_seen, &mc->seen);
}

static struct months_seen
months_of(const char *tenant, enum store_env env, const char *customer)
{
	struct months_call	mc;

	memset(&mc, 0, sizeof(mc));
	mc.tenant = tenant;
	mc.env = env;
	mc.customer = customer;
	ck_assert_int_eq(store_read(st, months_txn, &mc), STORE_OK);
	return mc.seen;
}

START_TEST(totals_month_each)
{
	struct months_seen	ms;
	struct balance_scope	s;
	struct expect		e;
	size_t			i;

	calendar_fill();
	/* cus_a's months in order, each as store_month_get has it. */
	ms = months_of("acme", LIVE, "cus_a");
	ck_assert_uint_eq(ms.n, 3);
	ck_assert_int_eq(ms.month[0], MONTH(2026, 1));
	ck_assert_int_eq(ms.month[1], MONTH(2026, 2));
	ck_assert_int_eq(ms.month[2], MONTH(2026, 3));
	ck_assert_uint_eq(ms.m[1].first_seq, 6);
	ck_assert_uint_eq(ms.m[1].last_seq, 33);
	for (i = 0; i < ms.n; i++) {
		s = scope_period(ms.month[i]);
		expect_of("acme", LIVE, "cus_a", &s, UINT64_MAX, &e);
		ck_assert_uint_eq(ms.m[i].count, e.count);
		assert_amount(ms.m[i].sum, e.net, "month_each sum");
	}
	/* Not a neighbour's: cus_b, or cus_a elsewhere, or a prefix. */
	ms = months_of("acme", LIVE, "cus_b");
	ck_assert_uint_eq(ms.n, 2);
	ms = months_of("acme", TEST, "cus_a");
	ck_assert_uint_eq(ms.n, 1);
	ck_assert_int_eq(ms.month[0], MONTH(2026, 2));
	ck_assert_uint_eq(ms.m[0].count, 2);
	ms = months_of("acme", LIVE, "cus_");
	ck_assert_uint_eq(ms.n, 0);
	ms = months_of("acme", LIVE, "nobody");
	ck_assert_uint_eq(ms.n, 0);
}
END_TEST

struct bad_append {
	struct store_delta	d;
	__int128		amount;
};

static int
bad_append_txn(struct store_txn *t, void *arg)
{
	struct bad_append	*ba = arg;
	struct store_slot	 slot;
	int			 rc;

	if ((rc = store_delta_slot(t, ba->d.tenant, ba->d.env,
	    ba->d.customer_id, &slot)) != STORE_OK)
		return rc;
	return store_delta_append(t, &slot, &ba->d, ba->amount);
}

START_TEST(totals_append_keeps_order)
{
	struct bad_append	ba;
	struct totals		x;
	char			leaf[32];

	calendar_fill();
	row_add("acme", LIVE, "cus_a", at("2026-03-04T10:00:00Z"), "1");
	row_delta(&rows[nrows - 1], &ba.d, leaf, sizeof(leaf));
	ba.amount = rows[nrows - 1].amount;

	/* A skipped seq, a time going back, a wrong log index: refused. */
	ba.d.seq = 38;
	ck_assert_int_eq(store_write(st, bad_append_txn, &ba), STORE_CORRUPT);
	ba.d.seq = 37;
	ba.d.created_ms = at("2026-03-03T09:59:59.999Z");
	ck_assert_int_eq(store_write(st, bad_append_txn, &ba), STORE_CORRUPT);
	ba.d.created_ms = at("2026-03-04T10:00:00Z");
	ba.d.log_index = CAL_ROWS + 1;
	ck_assert_int_eq(store_write(st, bad_append_txn, &ba), STORE_CORRUPT);

	/* None of them left a trace in the totals. */
	x = totals_read(customer_txn, "acme", LIVE, "cus_a", 0, 0);
	ck_assert_uint_eq(x.c.last_seq, CAL_DAYS);
	x = totals_read(usage_txn, "acme", LIVE, NULL, MONTH(2026, 3), 0);
	ck_assert_uint_eq(x.usage, 3);

	/* An equal time is fine: time may stand still, not go back. */
	ba.d.log_index = CAL_ROWS;
	ba.d.created_ms = at("2026-03-03T10:00:00Z");
	ck_assert_int_eq(store_write(st, bad_append_txn, &ba), STORE_OK);
	x = totals_read(month_txn, "acme", LIVE, "cus_a", MONTH(2026, 3), 0);
	ck_assert_uint_eq(x.m.last_seq, 37);
	ck_assert_uint_eq(x.m.count, 4);
}
END_TEST

struct quota_call {
	const char	*tenant;
	enum store_env	 env;
	int		 op;		/* 0 get, 1 put, 2 delete */
	uint64_t	 limit;
};

static int
quota_txn(struct store_txn *t, void *arg)
{
	struct quota_call	*q = arg;

	switch (q->op) {
	case 1:
		return store_quota_put(t, q->tenant, q->env, q->limit);
	case 2:
		return store_quota_delete(t, q->tenant, q->env);
	default:
		return store_quota_get(t, q->tenant, q->env, &q->limit);
	}
}

START_TEST(totals_quota)
{
	struct quota_call	q = { "acme", LIVE, 0, 77 };

	ck_assert_int_eq(store_read(st, quota_txn, &q), STORE_NOTFOUND);
	ck_assert_uint_eq(q.limit, 0);
	q.op = 1;
	q.limit = 1000;
	ck_assert_int_eq(store_write(st, quota_txn, &q), STORE_OK);
	q.op = 0;
	q.limit = 0;
	ck_assert_int_eq(store_read(st, quota_txn, &q), STORE_OK);
	ck_assert_uint_eq(q.limit, 1000);
	/* Per tenant and environment. */
	q.env = TEST;
	ck_assert_int_eq(store_read(st, quota_txn, &q), STORE_NOTFOUND);
	q.env = LIVE;
	q.tenant = "beta";
	ck_assert_int_eq(store_read(st, quota_txn, &q), STORE_NOTFOUND);
	q.tenant = "acme";
	q.op = 2;
	ck_assert_int_eq(store_write(st, quota_txn, &q), STORE_OK);
	ck_assert_int_eq(store_write(st, quota_txn, &q), STORE_OK);
	q.op = 0;
	ck_assert_int_eq(store_read(st, quota_txn, &q), STORE_NOTFOUND);
}
END_TEST


/* ---------------------------------------------------------------------
 * Compare: their list against the record.
 */

static decimal_t
amount(const char *text)
{
	decimal_t	v;

	ck_assert_int_eq(decimal_parse(text, strlen(text), &v), DECIMAL_OK);
	return v;
}

/* The discrepancies of compare_reconciles, in the order of the answer. */
static const struct {
	enum compare_kind	 kind;
	const char		*reference, *record_id, *recorded, *theirs;
} reconciled[] = {
	{ COMPARE_MISSING_IN_RECORD, "r0", NULL, "0", "1" },
	{ COMPARE_AMOUNT_DIFFERS, "r2", NULL, "1.5", "1.25" },
	{ COMPARE_MISSING_IN_THEIRS, "r3", NULL, "1.5", "0" },
	{ COMPARE_MISSING_IN_THEIRS, "r4", NULL, "1.5", "0" },
	{ COMPARE_MISSING_IN_THEIRS, "r5", NULL, "1.5", "0" },
	{ COMPARE_MISSING_IN_THEIRS, NULL, "rec_5", "2", "0" },
	{ COMPARE_MISSING_IN_THEIRS, NULL, "rec_6", "2", "0" },
};

static void
assert_discrepancy(const struct compare_discrepancy *d, size_t i)
{
	ck_assert_int_eq(d->kind, reconciled[i].kind);
	if (reconciled[i].reference != NULL)
		ck_assert_str_eq(d->reference, reconciled[i].reference);
	else
		ck_assert_ptr_null(d->reference);
	if (reconciled[i].record_id != NULL)
		ck_assert_str_eq(d->record_id, reconciled[i].record_id);
	else
		ck_assert_ptr_null(d->record_id);
	if (d->kind != COMPARE_MISSING_IN_RECORD)
		assert_amount(d->recorded, amount(reconciled[i].recorded),
		    "recorded");
	if (d->kind != COMPARE_MISSING_IN_THEIRS)
		assert_amount(d->theirs, amount(reconciled[i].theirs),
		    "theirs");
}

/*
 * Every page of every size holds exactly its run of the whole list,
 * however few of the unmatched deltas it kept to build it.
 */
START_TEST(compare_reconciles)
{
	static const char *const refs[] = { "r5", "r1", "r3", "r2", "r4" };
	const struct compare_theirs list[] = {
		{ "r2", 0 }, { "r1", 0 }, { "r0", 0 }, { "r2", 0 }
	};
	struct compare_theirs	theirs[NELEM(list)];
	struct compare_question	q;
	struct compare_answer	a;
	uint64_t		offset, limit, want;
	size_t			i;

	for (i = 0; i < NELEM(refs); i++) {
		row_add("acme", LIVE, "cus_c", at("2026-03-01") + (int64_t)i,
		    "1.5");
		snprintf(rows[nrows - 1].reference,
		    sizeof(rows[nrows - 1].reference), "%s", refs[i]);
	}
	row_add("acme", LIVE, "cus_c", at("2026-03-02"), "2");
	row_add("acme", LIVE, "cus_c", at("2026-03-03"), "2");
	rows_write();
	head_add(nrows);
	memcpy(theirs, list, sizeof(theirs));
	theirs[0].amount = amount("1");		/* r2: 1 + 0.25 */
	theirs[1].amount = amount("1.5");	/* r1: as recorded */
	theirs[2].amount = amount("1");		/* r0: not recorded */
	theirs[3].amount = amount("0.25");

	memset(&q, 0, sizeof(q));
	q.customer = "cus_c";
	q.scope = scope_all();
	q.yours = amount("11.5");
	q.matched = 1;
	q.list = theirs;
	q.nlist = NELEM(theirs);
	for (offset = 0; offset <= NELEM(reconciled) + 1; offset++)
		for (limit = 1; limit <= NELEM(reconciled) + 1; limit++) {
			q.offset = offset;
			q.limit = limit;
			ck_assert_int_eq(compare_run(st, "acme", LIVE, &q, &a),
			    BALANCE_OK);
			ck_assert_uint_eq(a.total, NELEM(reconciled));
			want = offset >= a.total ? 0 : a.total - offset;
			ck_assert_uint_eq(a.npage, want < limit ? want : limit);
			for (i = 0; i < a.npage; i++)
				assert_discrepancy(&a.page[i], offset + i);
			assert_amount(a.neutral, amount("11.5"), "neutral");
			ck_assert(a.matches_yours && a.match);
			compare_answer_free(&a);
		}
}
END_TEST

START_TEST(compare_results)
{
	struct compare_question	q;
	struct compare_answer	a;

	row_add("acme", LIVE, "cus_c", at("2026-03-01"), "3");
	rows_write();
	head_add(nrows);
	memset(&q, 0, sizeof(q));
	q.customer = "nobody";
	q.scope = scope_all();
	ck_assert_int_eq(compare_run(st, "acme", LIVE, &q, &a),
	    BALANCE_NO_CUSTOMER);
	compare_answer_free(&a);
	q.customer = "cus_c";
	q.scope.kind = BALANCE_CHECKPOINT;
	snprintf(q.scope.checkpoint, sizeof(q.scope.checkpoint), "chk_x");
	ck_assert_int_eq(compare_run(st, "acme", LIVE, &q, &a),
	    BALANCE_NO_CHECKPOINT);
	compare_answer_free(&a);
	/* Theirs within the tolerance, yours not: no match. */
	q.scope = scope_all();
	q.yours = amount("2");
	q.theirs = amount("3.5");
	q.has_theirs = 1;
	q.tolerance = amount("0.5");
	ck_assert_int_eq(compare_run(st, "acme", LIVE, &q, &a), BALANCE_OK);
	ck_assert(!a.matches_yours && a.matches_theirs && !a.match);
	assert_amount(a.your_difference, amount("-1"), "yours");
	assert_amount(a.their_difference, amount("0.5"), "theirs");
	ck_assert_uint_eq(a.npage, 0);
	compare_answer_free(&a);
}
END_TEST

Suite *
balance_suite(void)
{
	Suite	*s = suite_create("balance");
	TCase	*tc;

	tc = tcase_create("timefmt");
	tcase_add_loop_test(tc, month_known_values, 0,
	    (int)NELEM(month_cases));
	tcase_add_test(tc, month_round_trip);
	tcase_add_loop_test(tc, parse_period_table, 0,
	    (int)NELEM(period_cases));
	tcase_add_loop_test(tc, parse_date_accepts, 0,
	    (int)NELEM(date_ok_cases));
	tcase_add_loop_test(tc, parse_date_rejects, 0,
	    (int)NELEM(date_bad_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("scope");
	tcase_add_loop_test(tc, scope_parse_table, 0,
	    (int)NELEM(scope_cases));
	tcase_add_test(tc, scope_values);
	tcase_add_loop_test(tc, scope_json_table, 0,
	    (int)NELEM(scope_json_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("derive");
	tcase_add_checked_fixture(tc, store_setup, store_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, derive_exact_tenths);
	tcase_add_test(tc, derive_partial_head_by_hand);
	tcase_add_test(tc, derive_unknown_customer);
	tcase_add_test(tc, derive_isolation);
	tcase_add_test(tc, derive_periods);
	tcase_add_test(tc, derive_current_month);
	tcase_add_test(tc, derive_custom_windows);
	tcase_add_test(tc, derive_pending_every_scope);
	tcase_add_test(tc, derive_newest_head);
	tcase_add_test(tc, derive_latest_receipt);
	tcase_add_test(tc, derive_checkpoint_unknown);
	tcase_add_test(tc, derive_random);
	suite_add_tcase(s, tc);

	tc = tcase_create("compare");
	tcase_add_checked_fixture(tc, store_setup, store_teardown);
	tcase_add_test(tc, compare_reconciles);
	tcase_add_test(tc, compare_results);
	suite_add_tcase(s, tc);

	tc = tcase_create("each");
	tcase_add_checked_fixture(tc, store_setup, store_teardown);
	tcase_add_test(tc, each_order_and_limit);
	tcase_add_test(tc, each_stops_on_error);
	tcase_add_test(tc, each_derived_run);
	tcase_add_test(tc, each_verified_by_oldest_head);
	suite_add_tcase(s, tc);

	tc = tcase_create("totals");
	tcase_add_checked_fixture(tc, store_setup, store_teardown);
	tcase_add_test(tc, totals_months);
	tcase_add_test(tc, totals_usage);
	tcase_add_test(tc, totals_custpos_prefix_sums);
	tcase_add_test(tc, totals_customer_each);
	tcase_add_test(tc, totals_month_each);
	tcase_add_test(tc, totals_append_keeps_order);
	tcase_add_test(tc, totals_quota);
	suite_add_tcase(s, tc);
	return s;
}

