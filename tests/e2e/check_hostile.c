/*
 * Hostile input (SPEC 1 and 6: bad input never crashes a worker, never
 * half-writes, and always gets the error envelope), through whichever
 * web server TALLY_URL points at.  Hundreds of named cases, most of them
 * generated from tables: every field of emit, batch, compare and
 * checkpoint bodies with every wrong type, every length and number limit
 * at the limit and one past it, broken and deeply nested JSON, invalid
 * and overlong UTF-8, NUL bytes, oversize and chunked bodies, wrong
 * media types, hostile ids in paths and bad query parameters; then raw
 * requests curl cannot send (CR and LF in headers, broken request
 * lines, lying Content-Length).  A case the web server itself refuses
 * before tallyd sees it says so, per front end, in its own expectation.
 *
 * Every answer from tallyd must also pass the strict JSON reader tallyd
 * uses for bodies (valid UTF-8, no repeated key), carry X-Request-Id,
 * and name nothing internal (paths, store or crypto library errors).
 * Nothing here may be recorded: tests/e2e/hostile.sh compares the store
 * before and after.  A case at a limit proves that the limit let it
 * through by failing on a later field instead, so that it writes nothing.
 *
 * Environment: TALLY_URL, TALLY_CACERT (https), TALLY_FRONT (nginx or
 * apache), TALLY_KEY_HOSTILE (a vendor key of a tenant whose customer
 * hostile_c has deltas), TALLY_STATE_DIR (never to appear in an answer).
 */
/* vasprintf, memmem, strcasestr */
#define _GNU_SOURCE
#include <sys/socket.h>

#include <arpa/inet.h>
#include <err.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <json-c/json.h>

#include "../../common/jsonin.h"
#include "http.h"

#define CASES_MAX	1600
#define CUSTOMER	"hostile_c"

/* Who answers: tallyd (with the envelope), or the web server itself. */
enum by { TALLYD, WEB };

struct hcase {
	char		 name[112];
	const char	*method;
	char		*path;
	const char	*key;		/* X-Api-Key, or NULL */
	const char	*ctype;		/* Content-Type, or NULL */
	char		*headers;	/* more lines, '\n' between, or NULL */
	char		*body;
	size_t		 len;
	enum by		 by;
	long		 status;
	const char	*code;		/* NULL: a success envelope */
	const char	*field;		/* NULL: not checked */
	int		 item;		/* a batch answer: results[0] failed */
	const char	*rid;		/* X-Request-Id: "" fresh, else echoed */
	const char	*msg;		/* error.message holds it, or NULL */
	const char	*absent;	/* the answer must not hold it */
};

static struct hcase	 cases[CASES_MAX];
static size_t		 ncases;
static int		 apache;	/* else nginx */
static const char	*vendor;

/* Strings no answer may hold: they would tell internals. */
static const char *const internals[] = {
	"/tmp/", "tallyd.sock", ".pem", "DB_", "BDB", "Berkeley", "db-5",
	"OpenSSL", "error:0", "EVP_", ".c:", "errno", "Assertion",
};

static char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

/* n copies of s. */
static char *
repeat(const char *s, size_t n)
{
	size_t	 len = strlen(s), i;
	char	*out = malloc(len * n + 1);

	if (out == NULL)
		abort();
	for (i = 0; i < n; i++)
		memcpy(out + i * len, s, len);
	out[len * n] = '\0';
	return out;
}

/*
 * A new case, by default a vendor's JSON POST that tallyd refuses with
 * 400; the caller sets what differs.
 */
static struct hcase *
add(const char *path, const char *fmt, ...)
{
	struct hcase	*c;
	va_list		 ap;

	if (ncases == CASES_MAX)
		abort();
	c = &cases[ncases++];
	va_start(ap, fmt);
	vsnprintf(c->name, sizeof(c->name), fmt, ap);
	va_end(ap);
	c->method = "POST";
	c->path = strdup(path);
	c->key = vendor;
	c->ctype = "application/json";
	c->status = 400;
	c->code = "VALIDATION_ERROR";
	return c;
}

static void
body(struct hcase *c, char *text)
{
	c->body = text;
	c->len = strlen(text);
}

static void
expect(struct hcase *c, long status, const char *code, const char *field)
{
	c->status = status;
	c->code = code;
	c->field = field;
}

/* The web server answers itself: its status, per front end. */
static void
web(struct hcase *c, long nginx_status, long apache_status)
{
	c->by = WEB;
	c->status = apache ? apache_status : nginx_status;
}

static const struct {
	const char	*name, *path;
} posts[] = {
	{ "emit",	"/api/v1/balance/delta" },
	{ "batch",	"/api/v1/balance/delta/batch" },
	{ "compare",	"/api/v1/balance/compare" },
	{ "checkpoint",	"/api/v1/balance/checkpoint" },
};
#define NPOSTS	(sizeof(posts) / sizeof(posts[0]))

#define DOC(label, text)	{ label, text, sizeof(text) - 1 }
static const struct {
	const char	*label, *text;
	size_t		 len;
} broken[] = {
	DOC("empty body", ""), DOC("only a space", " "),
	DOC("open brace", "{"), DOC("close brace", "}"), DOC("open bracket", "["),
	DOC("member without value", "{\"a\":}"),
	DOC("member without colon", "{\"a\" 1}"),
	DOC("single-quoted key", "{'a':1}"), DOC("bare key", "{a:1}"),
	DOC("trailing comma in object", "{\"a\":1,}"),
	DOC("trailing comma in array", "{\"a\":[1,]}"),
	DOC("extra closing brace", "{\"a\":1}}"),
	DOC("garbage after the document", "{\"a\":1} x"),
	DOC("two documents", "{}{}"), DOC("block comment", "/*c*/{}"),
	DOC("line comment", "{\"a\":1 // c\n}"),
	DOC("leading zero", "{\"delta\":01}"),
	DOC("point without digits", "{\"delta\":1.}"),
	DOC("leading point", "{\"delta\":.5}"),
	DOC("plus sign", "{\"delta\":+1}"),
	DOC("exponent without digits", "{\"delta\":1e}"),
	DOC("exponent sign without digits", "{\"delta\":1e+}"),
	DOC("hex number", "{\"delta\":0x10}"),
	DOC("NaN", "{\"delta\":NaN}"), DOC("nan", "{\"delta\":nan}"),
	DOC("Infinity", "{\"delta\":Infinity}"),
	DOC("-Infinity", "{\"delta\":-Infinity}"),
	DOC("True", "{\"a\":True}"), DOC("nul", "{\"a\":nul}"),
	DOC("bad escape", "{\"a\":\"\\x41\"}"),
	DOC("short \\u escape", "{\"a\":\"\\u12\"}"),
	DOC("lone high surrogate", "{\"a\":\"\\ud800\"}"),
	DOC("lone low surrogate", "{\"a\":\"\\udc00\"}"),
	DOC("reversed surrogates", "{\"a\":\"\\udc00\\ud800\"}"),
	DOC("raw tab in a string", "{\"a\":\"x\ty\"}"),
	DOC("raw newline in a string", "{\"a\":\"x\ny\"}"),
	DOC("unterminated string", "{\"a\":\"x}"),
	DOC("byte ff", "{\"a\":\"\xff\"}"),
	DOC("lone continuation byte", "{\"a\":\"\x80\"}"),
	DOC("overlong slash, 2 bytes", "{\"a\":\"\xc0\xaf\"}"),
	DOC("overlong slash, 3 bytes", "{\"a\":\"\xe0\x80\xaf\"}"),
	DOC("overlong slash, 4 bytes", "{\"a\":\"\xf0\x80\x80\xaf\"}"),
	DOC("overlong NUL", "{\"a\":\"\xc0\x80\"}"),
	DOC("UTF-8 of a surrogate", "{\"a\":\"\xed\xa0\x80\"}"),
	DOC("beyond U+10FFFF", "{\"a\":\"\xf4\x90\x80\x80\"}"),
	DOC("truncated sequence", "{\"a\":\"\xe2\x82\"}"),
	DOC("invalid UTF-8 in a key", "{\"\xff\":1}"),
	DOC("overlong UTF-8 in a key", "{\"\xc0\xaf\":1}"),
	DOC("byte order mark", "\xef\xbb\xbf{}"),
	DOC("NUL after the document", "{}\0"),
	DOC("NUL before the document", "\0{}"),
	DOC("NUL in a string", "{\"a\":\"x\0y\"}"),
	DOC("NUL in a key", "{\"a\0\":1}"),
	DOC("escaped NUL in a key", "{\"a\\u0000\":1}"),
	DOC("duplicate key", "{\"customerId\":\"a\",\"customerId\":\"b\"}"),
	DOC("duplicate key by escape", "{\"delta\":1,\"d\\u0065lta\":2}"),
	DOC("duplicate nested key", "{\"metadata\":{\"k\":1,\"k\":2}}"),
	DOC("duplicate key in an item", "{\"deltas\":[{\"delta\":1,"
	    "\"delta\":2}]}"),
	DOC("top-level array", "[]"), DOC("top-level number", "1"),
	DOC("top-level string", "\"s\""), DOC("top-level null", "null"),
	DOC("top-level true", "true"),
};

static void
gen_broken(void)
{
	struct hcase	*c;
	size_t		 i, p;

	for (i = 0; i < sizeof(broken) / sizeof(broken[0]); i++)
		for (p = 0; p < NPOSTS; p++) {
			c = add(posts[p].path, "%s: broken JSON: %s",
			    posts[p].name, broken[i].label);
			c->body = malloc(broken[i].len + 1);
			memcpy(c->body, broken[i].text, broken[i].len + 1);
			c->len = broken[i].len;
			c->code = "INVALID_JSON";
		}
}

/* {"customerId":5,"x":…} nested depth deep in all, of [ or {"a": */
static char *
nested(int depth, int objects)
{
	char	*open, *close, *s;

	open = repeat(objects ? "{\"a\":" : "[", (size_t)depth - 1);
	close = repeat(objects ? "}" : "]", (size_t)depth - 1);
	s = xasprintf("{\"customerId\":5,\"x\":%s1%s}", open, close);
	free(open);
	free(close);
	return s;
}

static void
gen_depth(void)
{
	static const char *const first[NPOSTS] = {
		"x", "customerId", "customerId", "customerId",
	};
	static const int	depths[] = { 32, 33, 100, 10000 };
	struct hcase		*c;
	size_t			 p, d;
	int			 obj;

	for (p = 0; p < NPOSTS; p++)
		for (d = 0; d < sizeof(depths) / sizeof(depths[0]); d++)
			for (obj = 0; obj < 2; obj++) {
				c = add(posts[p].path, "%s: %s nested %d deep",
				    posts[p].name, obj ? "objects" : "arrays",
				    depths[d]);
				body(c, nested(depths[d], obj));
				/* At the limit it parses: a field fails. */
				if (depths[d] <= JSONIN_DEPTH)
					c->field = p == 1 ? "customerId" :
					    first[p];
				else
					c->code = "INVALID_JSON";
			}
}

/* A JSON value of a given kind, to put where another kind belongs. */
enum kind { K_INT, K_DEC, K_STR, K_NUMSTR, K_TRUE, K_FALSE, K_ARR, K_ARR1,
    K_OBJ, K_OBJ1, K_NULL, K_N };
static const char *const kind_json[K_N] = {
	"0", "-1.5", "\"str\"", "\"1\"", "true", "false", "[]", "[1]", "{}",
	"{\"a\":1}", "null",
};
static const char *const kind_name[K_N] = {
	"integer", "decimal", "string", "numeric string", "true", "false",
	"empty array", "array", "empty object", "object", "null",
};

/* The fields of one delta, and which kinds each accepts. */
struct dfield {
	const char	*name;
	unsigned	 ok;		/* kinds that are right */
	int		 required;	/* null counts as absent */
};
#define KB(k)	(1u << (k))
#define STRS	(KB(K_STR) | KB(K_NUMSTR))
#define NUMS	(KB(K_INT) | KB(K_DEC))
#define OBJS	(KB(K_OBJ) | KB(K_OBJ1))
static const struct dfield delta_fields[] = {
	{ "customerId",	STRS, 1 },
	{ "delta",	NUMS, 1 },
	{ "reason",	STRS, 1 },
	{ "referenceId", STRS, 0 },
	{ "metadata",	OBJS, 0 },
	{ "adjusts",	0, 0 },		/* {} and {"a":1} are wrong too */
};
#define NDFIELDS	(sizeof(delta_fields) / sizeof(delta_fields[0]))

/* An object from base members, with members replaced or added. */
static char *
object_with(const char *const base[][2], size_t n, const char *const *over)
{
	const char *const	*o;
	const char		*v;
	char			*s = strdup("{"), *t;
	size_t			 i;

	for (i = 0; i < n; i++) {
		v = base[i][1];
		for (o = over; *o != NULL; o += 2)
			if (strcmp(o[0], base[i][0]) == 0)
				v = o[1];
		t = xasprintf("%s%s\"%s\":%s", s, i ? "," : "", base[i][0], v);
		free(s);
		s = t;
	}
	for (o = over; *o != NULL; o += 2) {
		for (i = 0; i < n && strcmp(o[0], base[i][0]) != 0; i++)
			;
		if (i < n)
			continue;
		t = xasprintf("%s%s\"%s\":%s", s, strlen(s) > 1 ? "," : "",
		    o[0], o[1]);
		free(s);
		s = t;
	}
	t = xasprintf("%s}", s);
	free(s);
	return t;
}

/* A valid delta with members replaced or added (name, value, …, NULL). */
static char *
delta_with(const char *const *over)
{
	static const char *const base[][2] = {
		{ "customerId", "\"" CUSTOMER "\"" }, { "delta", "1" },
		{ "reason", "\"hostile\"" }, { "referenceId", "\"hostile-ref\"" },
	};

	return object_with(base, sizeof(base) / sizeof(base[0]), over);
}

/* The same delta as an emit, and as the one item of a batch. */
static void
delta_case(const char *what, const char *name, const char *value,
    const char *field)
{
	const char *const	 over[] = { name, value, NULL };
	struct hcase		*c;
	char			*d = delta_with(over);

	c = add(posts[0].path, "emit: %s", what);
	body(c, strdup(d));
	c->field = field;
	c = add(posts[1].path, "batch item: %s", what);
	body(c, xasprintf("{\"deltas\":[%s]}", d));
	expect(c, 200, "VALIDATION_ERROR", field);
	c->item = 1;
	free(d);
}

/*
 * A number beyond a double (1e400): json-c reads it as infinity, which
 * has no canonical form, so a batch holding it is refused whole.
 */
static void
delta_case_inf(const char *what, const char *name, const char *value)
{
	const char *const	 over[] = { name, value, NULL };
	struct hcase		*c;
	char			*d = delta_with(over);

	c = add(posts[0].path, "emit: %s", what);
	body(c, strdup(d));
	c->field = name;
	c = add(posts[1].path, "batch: an item with %s", what);
	body(c, xasprintf("{\"deltas\":[%s]}", d));
	c->field = "deltas";
	free(d);
}

/*
 * A member at a limit is let through, which a later member of the wrong
 * type proves without recording anything; one past it is refused.
 */
static void
limit_pair(const char *what, const char *name, char *at, char *past,
    const char *then)
{
	const char *const	 both[] = { name, at, then, "0", NULL };
	const char *const	 one[] = { name, past, NULL };
	struct hcase		*c;

	c = add(posts[0].path, "emit: %s, at the limit", what);
	body(c, delta_with(both));
	c->field = then;
	c = add(posts[0].path, "emit: %s, one past the limit", what);
	body(c, delta_with(one));
	c->field = name;
	free(at);
	free(past);
}

static void
gen_delta_types(void)
{
	static const char *const adjusts_bad[] = {
		"{\"recordId\":1}", "{\"recordId\":null}",
		"{\"recordId\":\"\"}",
		"{\"recordId\":\"x\",\"referenceId\":\"y\"}",
		"{\"referenceId\":[]}",
		"{\"recordId\":\"rec_00000000000000000000000000000000\"}",
		"{\"referenceId\":\"no-such-reference\"}",
	};
	char	 what[96], *name;
	size_t	 f, i;
	int	 k;

	for (f = 0; f < NDFIELDS; f++)
		for (k = 0; k < K_N; k++) {
			if ((delta_fields[f].ok & KB(k)) ||
			    (k == K_NULL && !delta_fields[f].required))
				continue;
			snprintf(what, sizeof(what), "%s is %s",
			    delta_fields[f].name, kind_name[k]);
			delta_case(what, delta_fields[f].name, kind_json[k],
			    delta_fields[f].name);
		}
	for (i = 0; i < sizeof(adjusts_bad) / sizeof(adjusts_bad[0]); i++) {
		snprintf(what, sizeof(what), "adjusts is %s", adjusts_bad[i]);
		delta_case(what, "adjusts", adjusts_bad[i], "adjusts");
	}
	delta_case("unknown field extra", "extra", "1", "extra");
	delta_case("field names are case-sensitive", "customerid", "\"a\"",
	    "customerid");
	/* Cut short in the answer, and still valid UTF-8 there. */
	name = repeat("\xc3\xa9", 40);
	delta_case("a long unknown field of 2-byte characters", name, "1",
	    NULL);
	free(name);
	name = repeat("z", 300);
	delta_case("an unknown field of 300 characters", name, "1", NULL);
	free(name);
}

static void
gen_delta_numbers(void)
{
	static const char *const refused[] = {
		"0", "-0", "0.0", "0e5", "0.000000000", "1e10", "1E+10",
		"1e-10", "1000000000.000000001", "1000000001", "-1000000001",
		"0.0000000001", "1.5e-10", "1e-999999999", "123456789012345678901234567890",
		"18446744073709551616", "9223372036854775808",
		"-9223372036854775809",
	};
	static const char *const at_limit[] = {
		"1000000000", "-1000000000", "1e9", "1E9", "1e+9", "10e8",
		"0.1e1", "0.000000001", "-0.000000001", "1e-9",
		"1.0000000000", "1000000000.0000000000",
	};
	struct hcase	*c;
	char		 what[96];
	size_t		 i;

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		snprintf(what, sizeof(what), "delta %s", refused[i]);
		delta_case(what, "delta", refused[i], "delta");
	}
	delta_case_inf("delta 1e999999999", "delta", "1e999999999");
	delta_case_inf("delta -1e999999999", "delta", "-1e999999999");
	for (i = 0; i < sizeof(at_limit) / sizeof(at_limit[0]); i++) {
		const char *const over[] = {
			"delta", at_limit[i], "reason", "0", NULL
		};

		c = add(posts[0].path, "emit: delta %s is let through",
		    at_limit[i]);
		body(c, delta_with(over));
		c->field = "reason";
	}
}

static char *
quoted(char *s)
{
	char	*q = xasprintf("\"%s\"", s);

	free(s);
	return q;
}

static void
gen_limits(void)
{
	struct hcase	*c;
	char		*s, *t;

	limit_pair("customerId of 128", "customerId",
	    quoted(repeat("c", 128)), quoted(repeat("c", 129)), "delta");
	limit_pair("reason of 500", "reason", quoted(repeat("r", 500)),
	    quoted(repeat("r", 501)), "referenceId");
	limit_pair("reason of 500 4-byte characters", "reason",
	    quoted(repeat("\xf0\x9f\x98\x80", 500)),
	    quoted(repeat("\xf0\x9f\x98\x80", 501)), "referenceId");
	limit_pair("referenceId of 256", "referenceId",
	    quoted(repeat("f", 256)), quoted(repeat("f", 257)), "metadata");
	limit_pair("referenceId of 256 2-byte characters", "referenceId",
	    quoted(repeat("\xc3\xa9", 256)), quoted(repeat("\xc3\xa9", 257)),
	    "metadata");
	/* {"k":"…"} is 8 bytes besides its text. */
	s = repeat("m", 16384 - 8);
	limit_pair("metadata of 16384 bytes", "metadata",
	    xasprintf("{\"k\":\"%s\"}", s), xasprintf("{\"k\":\"%sm\"}", s),
	    "adjusts");
	free(s);
	limit_pair("metadata integer 2^53-1", "metadata",
	    strdup("{\"n\":9007199254740991}"),
	    strdup("{\"n\":9007199254740992}"), "adjusts");
	limit_pair("metadata integer -(2^53-1)", "metadata",
	    strdup("{\"n\":-9007199254740991}"),
	    strdup("{\"n\":-9007199254740992}"), "adjusts");
	delta_case("metadata integer of 20 digits", "metadata",
	    "{\"n\":99999999999999999999}", "metadata");
	delta_case_inf("metadata number 1e400", "metadata", "{\"n\":1e400}");
	delta_case("empty customerId", "customerId", "\"\"", "customerId");
	delta_case("customerId with a slash", "customerId", "\"a/b\"",
	    "customerId");
	delta_case("customerId with a NUL", "customerId", "\"a\\u0000b\"",
	    "customerId");
	delta_case("customerId of 2-byte characters", "customerId",
	    "\"\xc3\xa9\"", "customerId");
	delta_case("empty reason", "reason", "\"\"", "reason");
	delta_case("reason with a NUL", "reason", "\"a\\u0000b\"", "reason");
	delta_case("empty referenceId", "referenceId", "\"\"", "referenceId");
	delta_case("referenceId with a control character", "referenceId",
	    "\"a\\u0001b\"", "referenceId");
	delta_case("referenceId with DEL", "referenceId", "\"a\\u007fb\"",
	    "referenceId");
	delta_case("referenceId with a C1 control", "referenceId",
	    "\"a\\u0085b\"", "referenceId");
	delta_case("referenceId with a newline", "referenceId", "\"a\\nb\"",
	    "referenceId");
	for (int n = 256; n <= 257; n++) {
		s = repeat("a", (size_t)n);
		t = xasprintf("{\"referenceId\":\"%s\"}", s);
		c = add(posts[0].path, "emit: adjusts referenceId of %d", n);
		body(c, delta_with((const char *const[]){ "adjusts", t,
		    NULL }));
		c->field = "adjusts";
		free(s);
		free(t);
	}
	s = repeat("{},", 1000);
	c = add(posts[1].path, "batch: 1001 deltas, one past the limit");
	body(c, xasprintf("{\"deltas\":[%s{}]}", s));
	c->field = "deltas";
	c = add(posts[1].path, "batch: 1000 deltas, at the limit");
	body(c, xasprintf("{\"deltas\":[%.*s]}", 2999, s));
	expect(c, 200, "VALIDATION_ERROR", "customerId");
	c->item = 1;
	free(s);
}

static void
gen_batch(void)
{
	static const char *const items[] = {
		"1", "\"s\"", "null", "[]", "true",
	};
	struct hcase	*c;
	size_t		 i;
	int		 k;

	for (k = 0; k < K_N; k++) {
		if (k == K_ARR1)
			continue;
		c = add(posts[1].path, "batch: deltas is %s", kind_name[k]);
		body(c, xasprintf("{\"deltas\":%s}", kind_json[k]));
		c->field = "deltas";
	}
	c = add(posts[1].path, "batch: no deltas");
	body(c, strdup("{}"));
	c->field = "deltas";
	c = add(posts[1].path, "batch: an unknown field beside deltas");
	body(c, strdup("{\"deltas\":[{}],\"x\":1}"));
	c->field = "x";
	for (i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		c = add(posts[1].path, "batch: an item that is %s", items[i]);
		body(c, xasprintf("{\"deltas\":[%s]}", items[i]));
		expect(c, 200, "VALIDATION_ERROR", NULL);
		c->item = 1;
	}
}


static char	 month[16];	/* "YYYY-MM", the current UTC month */

/* A compare or checkpoint body with one member replaced. */
static void
body_case(size_t post, const char *what, const char *name, const char *value,
    const char *code, const char *field)
{
	static const char *const compare[][2] = {
		{ "customerId", "\"" CUSTOMER "\"" }, { "yourBalance", "1" },
	};
	const char *const	 checkpoint[][2] = {
		{ "customerId", "\"" CUSTOMER "\"" }, { "period", month },
	};
	const char *const	 over[] = { name, value, NULL };
	struct hcase		*c;

	c = add(posts[post].path, "%s: %s", posts[post].name, what);
	body(c, post == 2 ? object_with(compare, 2, over) :
	    object_with(checkpoint, 2, over));
	expect(c, code == NULL ? 200 : strstr(code, "NOT_FOUND") ? 404 : 400,
	    code, field);
}

static void
gen_compare(void)
{
	static const char *const amounts[] = {
		"yourBalance", "theirBalance", "startingBalance", "tolerance",
	};
	static const char *const bad_amounts[] = {
		"\"\"", "\"1e\"", "\"0x10\"", "\"NaN\"", "\"Infinity\"",
		"\" 1\"", "1.0000000001", "1e37", "\"1e99999\"", "\"1,5\"",
	};
	static const struct {
		const char	*value, *field;
	} theirs[] = {
		{ "[1]", "theirDeltas[0]" }, { "[null]", "theirDeltas[0]" },
		{ "[{}]", "theirDeltas[0]" },
		{ "[{\"referenceId\":1,\"delta\":1}]", "theirDeltas[0]" },
		{ "[{\"referenceId\":\"r\"}]", "theirDeltas[0].delta" },
		{ "[{\"referenceId\":\"r\",\"delta\":\"x\"}]",
		    "theirDeltas[0].delta" },
		{ "[{\"referenceId\":\"r\",\"delta\":true}]",
		    "theirDeltas[0].delta" },
		{ "[{\"referenceId\":\"r\",\"delta\":1},5]", "theirDeltas[1]" },
	};
	static const char *const scope[] = {
		"period", "timePreset", "startDate", "endDate",
		"startingCheckpoint", "startingCheckpointType",
	};
	char	 what[96], *long_id;
	size_t	 i, j;
	int	 k;

	for (k = 0; k < K_N; k++) {
		if ((STRS & KB(k)) == 0) {
			snprintf(what, sizeof(what), "customerId is %s",
			    kind_name[k]);
			body_case(2, what, "customerId", kind_json[k],
			    "VALIDATION_ERROR", "customerId");
		}
		for (i = 0; i < sizeof(amounts) / sizeof(amounts[0]); i++) {
			if ((NUMS | STRS) & KB(k) && k != K_STR)
				continue;
			if (k == K_NULL && i > 0)
				continue;	/* optional: absent */
			snprintf(what, sizeof(what), "%s is %s", amounts[i],
			    kind_name[k]);
			body_case(2, what, amounts[i], kind_json[k],
			    "VALIDATION_ERROR", amounts[i]);
		}
		if (k != K_ARR && k != K_ARR1 && k != K_NULL) {
			snprintf(what, sizeof(what), "theirDeltas is %s",
			    kind_name[k]);
			body_case(2, what, "theirDeltas", kind_json[k],
			    "VALIDATION_ERROR", "theirDeltas");
		}
		for (i = 0; i < sizeof(scope) / sizeof(scope[0]); i++) {
			if ((STRS & KB(k)) || k == K_NULL)
				continue;
			snprintf(what, sizeof(what), "%s is %s", scope[i],
			    kind_name[k]);
			body_case(2, what, scope[i], kind_json[k],
			    "VALIDATION_ERROR", scope[i]);
		}
	}
	for (i = 0; i < sizeof(amounts) / sizeof(amounts[0]); i++)
		for (j = 0; j < sizeof(bad_amounts) / sizeof(bad_amounts[0]);
		    j++) {
			snprintf(what, sizeof(what), "%s %s", amounts[i],
			    bad_amounts[j]);
			body_case(2, what, amounts[i], bad_amounts[j],
			    "VALIDATION_ERROR", amounts[i]);
		}
	for (i = 0; i < sizeof(theirs) / sizeof(theirs[0]); i++) {
		snprintf(what, sizeof(what), "theirDeltas %s", theirs[i].value);
		body_case(2, what, "theirDeltas", theirs[i].value,
		    "VALIDATION_ERROR", theirs[i].field);
	}
	body_case(2, "negative tolerance", "tolerance", "-1",
	    "VALIDATION_ERROR", "tolerance");
	body_case(2, "customerId not an id", "customerId", "\"bad id!\"",
	    "VALIDATION_ERROR", "customerId");
	long_id = quoted(repeat("c", 129));
	body_case(2, "customerId of 129", "customerId", long_id,
	    "VALIDATION_ERROR", "customerId");
	free(long_id);
	body_case(2, "period 2026-13", "period", "\"2026-13\"",
	    "VALIDATION_ERROR", "period");
	body_case(2, "timePreset yesterday", "timePreset", "\"yesterday\"",
	    "VALIDATION_ERROR", "timePreset");
	body_case(2, "startDate without endDate", "startDate",
	    "\"2026-01-01\"", "INVALID_SCOPE_COMBINATION", "endDate");
	body_case(2, "startingCheckpointType alone", "startingCheckpointType",
	    "\"proofRoot\"", "INVALID_SCOPE_COMBINATION",
	    "startingCheckpointType");
	body_case(2, "an unknown startingCheckpoint", "startingCheckpoint",
	    "\"chk_00000000000000000000000000000000\"", "CHECKPOINT_NOT_FOUND",
	    "startingCheckpoint");
	/* The amount limit: 36 significant digits, then one more. */
	body_case(2, "yourBalance of 27 integer digits is let through",
	    "yourBalance", "999999999999999999999999999.999999999", NULL, NULL);
	body_case(2, "yourBalance of 28 integer digits", "yourBalance",
	    "9999999999999999999999999999.999999999", "VALIDATION_ERROR",
	    "yourBalance");
}

static void
gen_checkpoint(void)
{
	static const char *const fields[] = {
		"customerId", "period", "timePreset", "startDate", "endDate",
	};
	static const struct {
		const char	*name, *value, *code, *field;
	} more[] = {
		{ "customerId", "\"\"", "VALIDATION_ERROR", "customerId" },
		{ "customerId", "\"bad id!\"", "VALIDATION_ERROR",
		    "customerId" },
		{ "period", "\"2026-13\"", "VALIDATION_ERROR", "period" },
		{ "period", "\"2026-1\"", "VALIDATION_ERROR", "period" },
		{ "period", "\"2026-01-01\"", "VALIDATION_ERROR", "period" },
		{ "period", "\"9999-12\"", "VALIDATION_ERROR", "period" },
		{ "period", "\"0000-00\"", "VALIDATION_ERROR", "period" },
		{ "timePreset", "\"bogus\"", "INVALID_SCOPE_COMBINATION",
		    "period" },
		{ "customerId", "\"hostile_nobody\"", "CUSTOMER_NOT_FOUND",
		    "customerId" },
	};
	char	 what[96], *long_id;
	size_t	 i;
	int	 k;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		for (k = 0; k < K_N; k++) {
			if ((STRS & KB(k)) || k == K_NULL)
				continue;
			snprintf(what, sizeof(what), "%s is %s", fields[i],
			    kind_name[k]);
			body_case(3, what, fields[i], kind_json[k],
			    "VALIDATION_ERROR", fields[i]);
		}
	for (i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
		snprintf(what, sizeof(what), "%s %s", more[i].name,
		    more[i].value);
		body_case(3, what, more[i].name, more[i].value, more[i].code,
		    more[i].field);
	}
	long_id = quoted(repeat("c", 129));
	body_case(3, "customerId of 129", "customerId", long_id,
	    "VALIDATION_ERROR", "customerId");
	free(long_id);
}

/* A body of exactly size bytes: {"pad":"…"} plus first, if any. */
static char *
padded(size_t size, const char *first)
{
	size_t	 fixed = strlen("{\"pad\":\"\"}") + strlen(first);
	char	*pad = repeat("p", size - fixed), *s;

	s = xasprintf("{%s\"pad\":\"%s\"}", first, pad);
	free(pad);
	return s;
}

static void
gen_sizes(void)
{
	static const size_t	 kib = 1024;
	static const struct {
		size_t		 post, cap;
		const char	*first, *field;
	} caps[] = {
		{ 0, 64, "", "pad" },
		{ 1, 1024, "", "pad" },
		{ 2, 64, "", "customerId" },
		{ 3, 64, "\"customerId\":5,", "customerId" },
	};
	struct hcase	*c;
	size_t		 i;
	int		 chunked;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		for (chunked = 0; chunked < 2; chunked++) {
			c = add(posts[caps[i].post].path, "%s: a body of %zu "
			    "KiB%s, at the limit", posts[caps[i].post].name,
			    caps[i].cap, chunked ? ", chunked" : "");
			body(c, padded(caps[i].cap * kib, caps[i].first));
			c->field = caps[i].field;
			c->headers = chunked ?
			    strdup("Transfer-Encoding: chunked") : NULL;
			c = add(posts[caps[i].post].path, "%s: a body of %zu "
			    "KiB + 1%s", posts[caps[i].post].name, caps[i].cap,
			    chunked ? ", chunked" : "");
			body(c, padded(caps[i].cap * kib + 1, caps[i].first));
			expect(c, 413, "PAYLOAD_TOO_LARGE", NULL);
			c->headers = chunked ?
			    strdup("Transfer-Encoding: chunked") : NULL;
		}
	c = add(posts[0].path, "emit: a body of 1 MiB + 1");
	body(c, padded(1024 * kib + 1, ""));
	expect(c, 413, "PAYLOAD_TOO_LARGE", NULL);
	c = add(posts[1].path, "batch: a body of 3 MiB");
	body(c, padded(3 * 1024 * kib, ""));
	expect(c, 413, "PAYLOAD_TOO_LARGE", NULL);
	/*
	 * Past the web servers' own outer bound (4 MiB): they refuse it
	 * themselves, nginx with the envelope from its error_page, Apache
	 * with its own page.  tallyd never sees it.
	 */
	c = add(posts[1].path, "batch: a body of 5 MiB (web server's bound)");
	body(c, padded(5 * 1024 * kib, ""));
	web(c, 413, 413);
}

static void
gen_media_types(void)
{
	static const struct {
		const char	*ctype;
		int		 json;
	} types[] = {
		{ NULL, 0 }, { "text/plain", 0 },
		{ "application/x-www-form-urlencoded", 0 },
		{ "multipart/form-data; boundary=x", 0 },
		{ "application/jsonx", 0 }, { "application/json-patch+json", 0 },
		{ "text/json", 0 }, { "application/json, text/plain", 0 },
		{ "application", 0 }, { "json", 0 },
		{ "application/json; charset=utf-8", 1 },
		{ "APPLICATION/JSON", 1 }, { "application/json;x=1", 1 },
	};
	struct hcase	*c;
	size_t		 i, p;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		for (p = 0; p < NPOSTS; p++) {
			c = add(posts[p].path, "%s: Content-Type %s",
			    posts[p].name, types[i].ctype ? types[i].ctype :
			    "missing");
			body(c, strdup("{\"customerId\":5}"));
			c->ctype = types[i].ctype;
			if (types[i].ctype == NULL)
				c->headers = strdup("Content-Type:");
			/*
			 * A comma: two types joined, as Apache joins two
			 * Content-Type lines.  Which would count?
			 */
			if (types[i].ctype != NULL &&
			    strchr(types[i].ctype, ',') != NULL)
				c->field = "Content-Type";
			else if (!types[i].json)
				expect(c, 415, "UNSUPPORTED_MEDIA_TYPE", NULL);
			else
				c->field = "customerId";
		}
}

static void
gen_headers(void)
{
	static const struct {
		const char	*what, *key;
	} keys[] = {
		{ "no X-Api-Key", NULL }, { "an empty X-Api-Key", "" },
		{ "garbage", "garbage" }, { "a prefix only", "pk_live_" },
		{ "a tab inside", "pk_live_a\tb.c" },
		{ "2-byte characters", "pk_live_\xc3\xa9.\xc3\xa9" },
		{ "invalid UTF-8", "pk_live_\xff.\xfe" },
		{ "SQL", "' OR 1=1 --" },
		{ "a key id without secret", "pk_live_00000000000000000000" },
	};
	static const struct {
		const char	*what, *value;
		int		 echoed;
	} ids[] = {
		{ "64 safe characters", NULL, 1 },
		{ "65 characters", NULL, 0 },
		{ "a space", "a b", 0 }, { "2-byte characters", "\xc3\xa9", 0 },
		{ "encoded CR LF", "a%0d%0aSet-Cookie:x", 0 },
		{ "a quote", "a\"b", 0 }, { "a slash", "a/b", 0 },
	};
	struct hcase	*c;
	char		*s;
	size_t		 i, p;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		c = add("/api/v1/auth/whoami", "whoami: %s", keys[i].what);
		c->method = "GET";
		c->ctype = NULL;
		c->key = keys[i].key;
		c->code = "INVALID_API_KEY";
		c->status = 401;
		c = add(posts[0].path, "emit: %s", keys[i].what);
		body(c, strdup("{}"));
		c->key = keys[i].key;
		expect(c, 401, "INVALID_API_KEY", NULL);
	}
	c = add("/api/v1/auth/whoami", "whoami: an X-Api-Key of 4000");
	c->method = "GET";
	c->ctype = NULL;
	c->key = repeat("k", 4000);
	expect(c, 401, "INVALID_API_KEY", NULL);

	/* Idempotency-Key: 1-255 printable ASCII, checked before the body. */
	for (p = 0; p < 2; p++) {
		s = repeat("i", 255);
		c = add(posts[p].path, "%s: Idempotency-Key of 255, at the limit",
		    posts[p].name);
		body(c, strdup("{}"));
		c->headers = xasprintf("Idempotency-Key: %s", s);
		c->field = p == 0 ? "customerId" : "deltas";
		c = add(posts[p].path, "%s: Idempotency-Key of 256",
		    posts[p].name);
		body(c, strdup("{}"));
		c->headers = xasprintf("Idempotency-Key: %si", s);
		c->field = "Idempotency-Key";
		free(s);
		for (i = 0; i < 4; i++) {
			static const char *const bad[] = {
				"Idempotency-Key;", "Idempotency-Key: a\tb",
				"Idempotency-Key: \xc3\xa9", "Idempotency-Key: a\x7f"
			};
			static const char *const what[] = {
				"empty", "with a tab", "of 2-byte characters",
				"with DEL"
			};

			c = add(posts[p].path, "%s: Idempotency-Key %s",
			    posts[p].name, what[i]);
			body(c, strdup("{}"));
			c->headers = strdup(bad[i]);
			c->field = "Idempotency-Key";
			/* Apache refuses a DEL in a header itself. */
			if (apache && i == 3)
				web(c, 400, 400);
		}
	}

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		s = ids[i].value ? strdup(ids[i].value) :
		    repeat("r", ids[i].echoed ? 64 : 65);
		c = add("/api/v1/balance/delta/rec_none", "X-Request-Id %s",
		    ids[i].what);
		c->method = "GET";
		c->ctype = NULL;
		c->headers = xasprintf("X-Request-Id: %s", s);
		expect(c, 404, "NOT_FOUND", "recordId");
		c->rid = ids[i].echoed ? s : "";
		if (!ids[i].echoed)
			free(s);
	}
}

/*
 * Ids in paths, as the client writes them.  One that spans segments, or
 * decodes to a NUL or too long, matches no route: 404 NOT_FOUND; any
 * other reaches the route, which finds nothing (an id that is a valid
 * customer id, such as "..", has no checkpoint for receipts).  Bad
 * escapes the web servers refuse themselves (400), and nginx resolves
 * an encoded traversal out of /api/v1 to its own 404 page.
 */
static const struct {
	const char	*what, *text;
	int		 routed, customer;
	long		 nginx, apache;	/* the web server's own answer, or 0 */
} ids[] = {
	{ "dot dot", "..", 1, 1, 0, 0 },
	{ "encoded dot dot", "%2e%2e", 1, 1, 0, 0 },
	{ "half-encoded dot dot", ".%2E", 1, 1, 0, 0 },
	{ "encoded traversal", "..%2F..%2F..%2Fetc%2Fpasswd", 1, 0, 404, 0 },
	{ "an encoded slash", "%2F", 1, 0, 0, 0 },
	{ "a%2Fb", "a%2Fb", 1, 0, 0, 0 },
	{ "backslashes", "%5C..%5C..%5Cwindows", 1, 0, 0, 0 },
	{ "double-encoded traversal", "%252e%252e%252f", 1, 0, 0, 0 },
	{ "overlong dots and slash", "%c0%ae%c0%ae%c0%af", 1, 0, 0, 0 },
	{ "invalid UTF-8", "%ff%fe", 1, 0, 0, 0 },
	{ "a right-to-left override", "%e2%80%ae", 1, 0, 0, 0 },
	{ "encoded CR LF", "%0d%0aSet-Cookie:%20x", 1, 0, 0, 0 },
	{ "an encoded tab", "%09", 1, 0, 0, 0 },
	{ "an encoded space", "%20", 1, 0, 0, 0 },
	{ "a star", "*", 1, 0, 0, 0 },
	{ "markup", "%3Cscript%3E", 1, 0, 0, 0 },
	{ "SQL", "'%20OR%201=1--", 1, 0, 0, 0 },
	{ "a semicolon", "..;", 1, 0, 0, 0 },
	{ "129 characters", NULL, 1, 0, 0, 0 },
	{ "a trailing slash", "x/", 0, 0, 0, 0 },
	{ "two segments", "a/b", 0, 0, 0, 0 },
	{ "a bad escape", "%zz", 0, 0, 400, 400 },
	{ "a cut escape", "%2", 0, 0, 400, 400 },
	{ "a lone percent", "%", 0, 0, 400, 400 },
};

static void
gen_paths(void)
{
	static const struct {
		const char	*route, *code, *field;
	} routes[] = {
		{ "/api/v1/balance/delta/", "NOT_FOUND", "recordId" },
		{ "/api/v1/balance/derive/", "CUSTOMER_NOT_FOUND",
		    "customerId" },
		{ "/api/v1/balance/customers/", "CUSTOMER_NOT_FOUND",
		    "customerId" },
		{ "/api/v1/balance/gaps/", "CUSTOMER_NOT_FOUND", "customerId" },
		{ "/api/v1/balance/checkpoints/", "CHECKPOINT_NOT_FOUND",
		    "checkpointId" },
		{ "/api/v1/balance/receipt/", "CUSTOMER_NOT_FOUND",
		    "customerId" },
		{ "/api/v1/balance/invoice-proof/", "CUSTOMER_NOT_FOUND",
		    "customerId" },
		{ "/api/v1/verify/", "CHECKPOINT_NOT_FOUND", NULL },
	};
	static const char *const nul[] = { "%00", "rec_%00", ".%00." };
	struct hcase	*c;
	char		*path, *id;
	size_t		 r, i;

	for (r = 0; r < sizeof(routes) / sizeof(routes[0]); r++) {
		for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
			id = ids[i].text ? strdup(ids[i].text) :
			    repeat("c", 129);
			path = xasprintf("%s%s", routes[r].route, id);
			c = add(path, "GET %s{%s}", routes[r].route,
			    ids[i].what);
			c->method = "GET";
			c->ctype = NULL;
			if (!ids[i].routed)
				expect(c, 404, "NOT_FOUND", NULL);
			else if (ids[i].customer && (r == 5 || r == 6))
				expect(c, 404, "CHECKPOINT_NOT_FOUND",
				    "period");
			else
				expect(c, 404, routes[r].code,
				    routes[r].field);
			if (apache ? ids[i].apache : ids[i].nginx)
				web(c, ids[i].nginx, ids[i].apache);
			free(path);
			free(id);
		}
		/* nginx refuses an encoded NUL (400), Apache too (404). */
		for (i = 0; i < sizeof(nul) / sizeof(nul[0]); i++) {
			path = xasprintf("%s%s", routes[r].route, nul[i]);
			c = add(path, "GET %s{%s} (web server)",
			    routes[r].route, nul[i]);
			c->method = "GET";
			c->ctype = NULL;
			web(c, 400, 404);
			free(path);
		}
	}
	c = add("/api/v1/balance/delta/../../../healthz", "GET dot segments "
	    "out of /api/v1 (web server: no such page)");
	c->method = "GET";
	c->ctype = NULL;
	web(c, 404, 404);
	id = repeat("a", 1100);
	path = xasprintf("/api/v1/balance/delta/%s", id);
	c = add(path, "GET a path of 1122 bytes");
	c->method = "GET";
	c->ctype = NULL;
	expect(c, 404, "NOT_FOUND", NULL);
	free(path);
	free(id);
}

/* Query parameters that are whole numbers, and where they are read. */
static const struct {
	const char	*path, *name;
	unsigned long long min, max;	/* max 0: none but 2^64-1 */
} numbers[] = {
	{ "/api/v1/balance/derive/" CUSTOMER, "limit", 1, 1000 },
	{ "/api/v1/balance/derive/" CUSTOMER, "offset", 0, 0 },
	{ "/api/v1/balance/customers", "page", 1, 4294967295ULL },
	{ "/api/v1/balance/customers", "limit", 1, 100 },
	{ "/api/v1/balance/customers/" CUSTOMER, "deltaPage", 1,
	    4294967295ULL },
	{ "/api/v1/balance/customers/" CUSTOMER, "deltaLimit", 1, 100 },
	{ "/api/v1/balance/checkpoints", "limit", 1, 1000 },
	{ "/api/v1/balance/checkpoints", "offset", 0, 0 },
	{ "/api/v1/balance/gaps/" CUSTOMER, "fromSequence", 1, 0 },
	{ "/api/v1/balance/gaps/" CUSTOMER, "toSequence", 1, 0 },
	{ "/api/v1/balance/gaps/" CUSTOMER, "limit", 1, 1000 },
	{ "/api/v1/log/proof/inclusion?index=0", "treeSize", 0, 0 },
	{ "/api/v1/log/proof/inclusion", "index", 0, 0 },
	{ "/api/v1/log/proof/consistency?from=1", "to", 0, 0 },
	{ "/api/v1/log/proof/consistency", "from", 0, 0 },
};

static void
query_case(size_t n, const char *value, long status, const char *code,
    const char *field)
{
	struct hcase	*c;
	char		*path;

	path = xasprintf("%s%c%s", numbers[n].path,
	    strchr(numbers[n].path, '?') ? '&' : '?', value);
	c = add(path, "GET %s: %s", path, value);
	c->method = "GET";
	c->ctype = NULL;
	expect(c, status, code, field);
	free(path);
}

static void
gen_queries(void)
{
	static const char *const bad[] = {
		"-1", "abc", "1.5", "1e3", "0x10", "+5", "%205", "5%20", "05",
		"", "99999999999999999999999", "18446744073709551616", "%00",
		"5%00", "%zz", "%", "%EF%BC%95", "NaN", "Infinity",
	};
	static const char *const periods[] = {
		"/api/v1/balance/derive/" CUSTOMER,
		"/api/v1/balance/customers/" CUSTOMER,
		"/api/v1/balance/checkpoints",
		"/api/v1/balance/receipt/" CUSTOMER,
		"/api/v1/balance/invoice-proof/" CUSTOMER,
	};
	static const char *const bad_periods[] = {
		"2026-13", "2026-1", "26-01", "2026-00", "abcd-ef",
		"2026-01-01", "%00", "2026-01%00", "2026-01&period=2026-02",
	};
	struct hcase	*c;
	char		 v[96], *path;
	size_t		 n, i;

	for (n = 0; n < sizeof(numbers) / sizeof(numbers[0]); n++) {
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(v, sizeof(v), "%s=%s", numbers[n].name,
			    bad[i]);
			query_case(n, v, 400, "VALIDATION_ERROR",
			    numbers[n].name);
		}
		/* Given twice, even alike: which one would count? */
		snprintf(v, sizeof(v), "%s=5&%s=5", numbers[n].name,
		    numbers[n].name);
		query_case(n, v, 400, "VALIDATION_ERROR", numbers[n].name);
		snprintf(v, sizeof(v), "%s=5&%s=x", numbers[n].name,
		    numbers[n].name);
		query_case(n, v, 400, "VALIDATION_ERROR", numbers[n].name);
		if (numbers[n].min > 0) {
			snprintf(v, sizeof(v), "%s=%llu", numbers[n].name,
			    numbers[n].min - 1);
			query_case(n, v, 400, "VALIDATION_ERROR",
			    numbers[n].name);
		}
		if (numbers[n].max > 0) {
			snprintf(v, sizeof(v), "%s=%llu", numbers[n].name,
			    numbers[n].max);
			query_case(n, v, 200, NULL, NULL);
			snprintf(v, sizeof(v), "%s=%llu", numbers[n].name,
			    numbers[n].max + 1);
			query_case(n, v, 400, "VALIDATION_ERROR",
			    numbers[n].name);
		}
	}
	for (n = 0; n < sizeof(periods) / sizeof(periods[0]); n++)
		for (i = 0; i < sizeof(bad_periods) / sizeof(bad_periods[0]);
		    i++) {
			path = xasprintf("%s?period=%s", periods[n],
			    bad_periods[i]);
			c = add(path, "GET %s", path);
			c->method = "GET";
			c->ctype = NULL;
			c->field = "period";
			free(path);
		}
	c = add("/api/v1/balance/customers?search=%00", "GET customers "
	    "search with a NUL");
	c->method = "GET";
	c->ctype = NULL;
	c->field = "search";
	c = add("/api/v1/log/proof/inclusion?leafHash=0x12", "GET inclusion "
	    "with a short leafHash");
	c->method = "GET";
	c->ctype = NULL;
	c->field = "leafHash";
}

/*
 * What must come once, and what a request may not steer (issue 18.5):
 * a header that must be single sent twice (curl sends both lines; nginx
 * passes them to tallyd as two parameters, Apache joins them with ", "),
 * a repeated query parameter, and a Host header that links must not
 * follow.
 */
static void
gen_edges(void)
{
	static const struct {
		const char	*name, *lines;
		int		 post;
	} twice[] = {
		{ "X-Api-Key", "X-Api-Key: @KEY@", 0 },
		{ "X-Api-Key", "X-Api-Key: pk_live_0.0", 1 },
		{ "Idempotency-Key", "Idempotency-Key: a\nIdempotency-Key: b",
		    1 },
		{ "Idempotency-Key", "Idempotency-Key: a\nIdempotency-Key: a",
		    1 },
		{ "Content-Type", "Content-Type: text/plain", 1 },
		{ "X-Request-Id", "X-Request-Id: r1\nX-Request-Id: r2", 0 },
	};
	static const char *const queries[] = {
		"customerId=a&customerId=b", "customerId=a&customerId=a",
		"period=2026-01&x=1&period", "limit=5&limit=5",
	};
	struct hcase	*c;
	const char	*at;
	size_t		 i;

	for (i = 0; i < sizeof(twice) / sizeof(twice[0]); i++) {
		c = add(twice[i].post ? posts[0].path : "/api/v1/auth/whoami",
		    "%s sent twice (%s)", twice[i].name, twice[i].lines);
		if (twice[i].post)
			body(c, strdup("{\"customerId\":\"" CUSTOMER "\","
			    "\"delta\":1,\"reason\":\"must never be recorded\"}"));
		else {
			c->method = "GET";
			c->ctype = NULL;
		}
		if ((at = strstr(twice[i].lines, "@KEY@")) != NULL)
			c->headers = xasprintf("X-Api-Key: %s", vendor);
		else
			c->headers = strdup(twice[i].lines);
		c->field = twice[i].name;
		c->msg = "is repeated";
		c->rid = "";
	}
	for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		c = add("", "checkpoints?%s: repeated", queries[i]);
		free(c->path);
		c->path = xasprintf("/api/v1/balance/checkpoints?%s",
		    queries[i]);
		c->method = "GET";
		c->ctype = NULL;
		c->msg = "is repeated";
		c->field = strncmp(queries[i], "customerId", 10) == 0 ?
		    "customerId" : strncmp(queries[i], "period", 6) == 0 ?
		    "period" : "limit";
	}
	/* Links come from public_url, never from Host (SPEC 7). */
	c = add("", "invoice-proof with Host: evil.example");
	free(c->path);
	c->path = xasprintf("/api/v1/balance/invoice-proof/" CUSTOMER
	    "?period=%.7s", month + 1);
	c->method = "GET";
	c->ctype = NULL;
	c->headers = strdup("Host: evil.example");
	expect(c, 200, NULL, NULL);
	c->absent = "evil.example";
	/* nginx's and Apache's own errors: the envelope, an X-Request-Id. */
	c = add("/no/such/place", "a path outside the API (web server 404)");
	c->method = "GET";
	c->ctype = NULL;
	web(c, 404, 404);
}

/* What the answer of a case must be. */
static void
check_answer(const struct hcase *c, const struct reply *r)
{
	struct json_object	*strict = NULL, *res;
	char			 why[160];
	size_t			 i;

	ck_assert_msg(r->status == c->status, "%s: status %ld, want %ld: %.300s",
	    c->name, r->status, c->status, r->body ? r->body : "(no body)");
	for (i = 0; r->body != NULL && i < sizeof(internals) /
	    sizeof(internals[0]); i++)
		ck_assert_msg(strstr(r->body, internals[i]) == NULL,
		    "%s: the answer names %s: %.300s", c->name, internals[i],
		    r->body);
	ck_assert_msg(r->body == NULL || getenv("TALLY_STATE_DIR") == NULL ||
	    strstr(r->body, getenv("TALLY_STATE_DIR")) == NULL,
	    "%s: the answer names the state directory", c->name);
	ck_assert_msg(c->absent == NULL || r->body == NULL ||
	    strstr(r->body, c->absent) == NULL, "%s: the answer holds %s: "
	    "%.300s", c->name, c->absent, r->body);
	ck_assert_msg(r->request_id[0] != '\0', "%s: no X-Request-Id",
	    c->name);
	/* The web server's own refusals speak the envelope too. */
	if (c->by == WEB) {
		ck_assert_msg(r->json != NULL && get(r->json, "success") &&
		    !json_object_get_boolean(get(r->json, "success")) &&
		    get_str(r->json, "error.code") != NULL &&
		    get_str(r->json, "error.message") != NULL,
		    "%s: the web server's answer is not the envelope: %.300s",
		    c->name, r->body);
		return;
	}
	if (c->rid != NULL && c->rid[0] != '\0')
		ck_assert_msg(strcmp(r->request_id, c->rid) == 0,
		    "%s: X-Request-Id %s not echoed", c->name, c->rid);
	else if (c->rid != NULL)
		ck_assert_msg(strlen(r->request_id) == 32, "%s: X-Request-Id "
		    "%s echoed", c->name, r->request_id);
	/* The answer passes the reader tallyd holds bodies to. */
	ck_assert_msg(jsonin_parse(r->body ? r->body : "", r->len, &strict,
	    why, sizeof(why)) == 0, "%s: the answer is not strict JSON "
	    "(%s): %.300s", c->name, why, r->body);
	json_object_put(strict);
	if (c->code == NULL || c->item) {
		ck_assert_msg(json_object_get_boolean(get(r->json, "success")),
		    "%s: not a success envelope: %.300s", c->name, r->body);
		if (!c->item)
			return;
		ck_assert_msg(get_int(r->json, "data.totalQueued") == 0,
		    "%s: something was queued: %.300s", c->name, r->body);
		res = json_object_array_get_idx(get(r->json, "data.results"),
		    0);
		ck_assert_msg(res != NULL && get_str(res, "status") != NULL &&
		    strcmp(get_str(res, "status"), "FAILED") == 0,
		    "%s: item not FAILED: %.300s", c->name, r->body);
		ck_assert_msg(get_str(res, "error.code") != NULL &&
		    strcmp(get_str(res, "error.code"), c->code) == 0,
		    "%s: item error not %s: %.300s", c->name, c->code, r->body);
		ck_assert_msg(c->field == NULL || (get_str(res, "error.field") &&
		    strcmp(get_str(res, "error.field"), c->field) == 0),
		    "%s: item field not %s: %.300s", c->name, c->field, r->body);
		return;
	}
	ck_assert_msg(r->json != NULL && get(r->json, "success") != NULL &&
	    !json_object_get_boolean(get(r->json, "success")),
	    "%s: not an error envelope: %.300s", c->name, r->body);
	ck_assert_msg(get_str(r->json, "error.code") != NULL &&
	    strcmp(get_str(r->json, "error.code"), c->code) == 0,
	    "%s: code not %s: %.300s", c->name, c->code, r->body);
	ck_assert_msg(get_str(r->json, "error.message") != NULL,
	    "%s: no message: %.300s", c->name, r->body);
	ck_assert_msg(c->msg == NULL || strstr(get_str(r->json,
	    "error.message"), c->msg) != NULL, "%s: message lacks \"%s\": "
	    "%.300s", c->name, c->msg, r->body);
	ck_assert_msg(c->field == NULL || (get_str(r->json, "error.field") &&
	    strcmp(get_str(r->json, "error.field"), c->field) == 0),
	    "%s: field not %s: %.300s", c->name, c->field, r->body);
}

START_TEST(hostile_request)
{
	const struct hcase	*c = &cases[_i];
	struct reply		 r;

	http(&r, c->method, c->path, c->key, c->ctype, c->body, c->len,
	    c->headers);
	check_answer(c, &r);
	reply_free(&r);
}
END_TEST

/*
 * Requests curl will not send, over a socket of their own.  Each front
 * end has its own expectation: most of these the web server refuses
 * itself (by WEB), and tallyd never sees them.  Status 0: no answer at
 * all, the connection is closed.  "@KEY@" stands for the vendor key.
 */
struct rawcase {
	const char	*name, *req;
	size_t		 len;
	int		 half_close;	/* the client stops sending */
	struct {
		long		 status;
		enum by		 by;
		const char	*code;	/* by TALLYD: NULL success */
	} front[2];			/* nginx, apache */
	const char	*rid;		/* by TALLYD: echoed, "" fresh */
};
#define REQ(text)	text, sizeof(text) - 1
#define POST_DELTA	"POST /api/v1/balance/delta HTTP/1.1\r\nHost: x\r\n" \
	"X-Api-Key: @KEY@\r\nContent-Type: application/json\r\n"
/* Valid, so that acting on it would show in the store. */
#define DELTA		"{\"customerId\":\"" CUSTOMER "\",\"delta\":1," \
	"\"reason\":\"must never be recorded\"}"
static const struct rawcase raws[] = {
	{ "a request line that is not HTTP", REQ("GARBAGE\r\n\r\n"), 0,
	    { { 400, WEB, NULL }, { 400, WEB, NULL } }, NULL },
	{ "HTTP/9.9 (nginx: 505; Apache serves it as HTTP/1)",
	    REQ("GET /healthz HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n"),
	    0, { { 505, WEB, NULL }, { 200, TALLYD, NULL } }, "" },
	{ "a NUL in the request line",
	    REQ("GET /healthz\0 HTTP/1.1\r\nHost: x\r\n\r\n"), 0,
	    { { 400, WEB, NULL }, { 400, WEB, NULL } }, NULL },
	{ "a raw NUL in the query string",
	    REQ("GET /api/v1/keys?a=\0 HTTP/1.1\r\nHost: x\r\n\r\n"), 0,
	    { { 400, WEB, NULL }, { 400, WEB, NULL } }, NULL },
	{ "dot segments above the root",
	    REQ("GET /api/v1/../../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n"),
	    0, { { 400, WEB, NULL }, { 400, WEB, NULL } }, NULL },
	{ "a space in the path",
	    REQ("GET /api/v1/verify/a b HTTP/1.1\r\nHost: x\r\n\r\n"), 0,
	    { { 400, WEB, NULL }, { 400, WEB, NULL } }, NULL },
	{ "no Host header", REQ("GET /healthz HTTP/1.1\r\n\r\n"), 0,
	    { { 400, WEB, NULL }, { 400, WEB, NULL } }, NULL },
	{ "a CR inside X-Request-Id",
	    REQ("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: a\r"
	    "Set-Cookie: x=1\r\nConnection: close\r\n\r\n"), 0,
	    { { 400, WEB, NULL }, { 400, WEB, NULL } }, NULL },
	{ "a bare LF inside X-Request-Id (nginx: a line break)",
	    REQ("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc\n"
	    "Set-Cookie: x=1\r\nConnection: close\r\n\r\n"), 0,
	    { { 200, TALLYD, NULL }, { 400, WEB, NULL } }, "abc" },
	{ "X-Request-Id folded onto a second line (Apache: unfolds it)",
	    REQ("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc\r\n"
	    " X-Injected: 1\r\nConnection: close\r\n\r\n"), 0,
	    { { 400, WEB, NULL }, { 200, TALLYD, NULL } }, "" },
	{ "a CR inside X-Api-Key",
	    REQ("GET /api/v1/auth/whoami HTTP/1.1\r\nHost: x\r\n"
	    "X-Api-Key: @KEY@\rX-Injected: 1\r\nConnection: close\r\n\r\n"), 0,
	    { { 400, WEB, NULL }, { 400, WEB, NULL } }, NULL },
	{ "a NUL inside X-Api-Key",
	    REQ("GET /api/v1/auth/whoami HTTP/1.1\r\nHost: x\r\n"
	    "X-Api-Key: @KEY@\0x\r\nConnection: close\r\n\r\n"), 0,
	    { { 400, WEB, NULL }, { 400, WEB, NULL } }, NULL },
	{ "a CR inside Idempotency-Key",
	    REQ(POST_DELTA "Idempotency-Key: a\rb\r\nContent-Length: 2\r\n"
	    "Connection: close\r\n\r\n{}"), 0,
	    { { 400, WEB, NULL }, { 400, WEB, NULL } }, NULL },
	{ "an X-Api-Key of 70,000 bytes",
	    NULL, 0, 0, { { 400, WEB, NULL }, { 400, WEB, NULL } }, NULL },
	{ "Content-Length shorter than the body (the rest: a bad request)",
	    REQ(POST_DELTA "Content-Length: 2\r\n\r\n" DELTA), 0,
	    { { 400, TALLYD, "INVALID_JSON" }, { 400, TALLYD, "INVALID_JSON" } },
	    "" },
	{ "Content-Length longer than the body, then the client stops",
	    REQ(POST_DELTA "Content-Length: 100\r\n\r\n" DELTA), 1,
	    { { 0, WEB, NULL }, { 400, WEB, NULL } }, NULL },
	{ "Content-Length of 5 MB, a delta, then the client stops",
	    REQ(POST_DELTA "Content-Length: 5000000\r\n\r\n" DELTA), 1,
	    { { 413, WEB, NULL }, { 400, WEB, NULL } }, NULL },
	{ "a negative Content-Length",
	    REQ(POST_DELTA "Content-Length: -1\r\nConnection: close\r\n\r\n{}"),
	    0, { { 400, WEB, NULL }, { 400, WEB, NULL } }, NULL },
	{ "two different Content-Lengths",
	    REQ(POST_DELTA "Content-Length: 2\r\nContent-Length: 3\r\n"
	    "Connection: close\r\n\r\n{} "), 0,
	    { { 400, WEB, NULL }, { 400, WEB, NULL } }, NULL },
	{ "Transfer-Encoding and Content-Length (Apache: chunked wins)",
	    REQ(POST_DELTA "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n"
	    "Connection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n"), 0,
	    { { 400, WEB, NULL }, { 400, TALLYD, "VALIDATION_ERROR" } }, "" },
	{ "a chunk size that is not hex",
	    REQ(POST_DELTA "Transfer-Encoding: chunked\r\nConnection: close\r\n"
	    "\r\nzz\r\n{}\r\n0\r\n\r\n"), 0,
	    { { 400, WEB, NULL }, { 400, WEB, NULL } }, NULL },
	{ "a chunked body, then the client stops mid-chunk",
	    REQ(POST_DELTA "Transfer-Encoding: chunked\r\n\r\n100\r\n" DELTA),
	    1, { { 0, WEB, NULL }, { 400, WEB, NULL } }, NULL },
	{ "a chunked body",
	    REQ(POST_DELTA "Transfer-Encoding: chunked\r\nConnection: close\r\n"
	    "\r\n2\r\n{}\r\n0\r\n\r\n"), 0,
	    { { 400, TALLYD, "VALIDATION_ERROR" },
	    { 400, TALLYD, "VALIDATION_ERROR" } }, "" },
};
#define NRAWS	(sizeof(raws) / sizeof(raws[0]))

/* The request with the key in place of @KEY@ (or the 70 KB key). */
static char *
raw_request(const struct rawcase *rc, size_t *len)
{
	const char	*at;
	char		*big, *out;
	size_t		 klen = strlen(vendor);

	if (rc->req == NULL) {
		big = repeat("k", 70000);
		out = xasprintf("GET /api/v1/auth/whoami HTTP/1.1\r\nHost: x\r\n"
		    "X-Api-Key: %s\r\nConnection: close\r\n\r\n", big);
		free(big);
		*len = strlen(out);
		return out;
	}
	if ((out = malloc(rc->len + klen)) == NULL)
		abort();
	if ((at = memmem(rc->req, rc->len, "@KEY@", 5)) == NULL) {
		memcpy(out, rc->req, rc->len);
		*len = rc->len;
		return out;
	}
	memcpy(out, rc->req, (size_t)(at - rc->req));
	memcpy(out + (at - rc->req), vendor, klen);
	memcpy(out + (at - rc->req) + klen, at + 5,
	    rc->len - (size_t)(at - rc->req) - 5);
	*len = rc->len - 5 + klen;
	return out;
}

/* Sends one raw request to TALLY_URL's port; what came back, or "". */
static char *
raw_send(const char *req, size_t len, int half_close, size_t *outlen)
{
	struct sockaddr_in	 sin;
	struct timeval		 tv = { 3, 0 };
	const char		*url = getenv("TALLY_URL"), *colon;
	char			*out = NULL, buf[65536];
	ssize_t			 n;
	int			 fd;

	colon = strrchr(url, ':');
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)atoi(colon + 1));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(fd = socket(AF_INET, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* A server may answer and close before taking it all: fine. */
	(void)send(fd, req, len, MSG_NOSIGNAL);
	if (half_close)
		shutdown(fd, SHUT_WR);
	*outlen = 0;
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		if ((out = realloc(out, *outlen + (size_t)n + 1)) == NULL)
			abort();
		memcpy(out + *outlen, buf, (size_t)n);
		*outlen += (size_t)n;
	}
	close(fd);
	if (out == NULL)
		out = strdup("");
	out[*outlen] = '\0';
	return out;
}

/* The first answer's body, de-chunked in place when chunked. */
static char *
raw_body(char *head, char *end)
{
	char	*b, *p, *o;
	long	 size;

	if ((b = strstr(head, "\r\n\r\n")) == NULL)
		return NULL;
	*b = '\0';
	b += 4;
	if (strcasestr(head, "\r\nTransfer-Encoding: chunked") == NULL)
		return b;
	for (p = o = b; p < end && (size = strtol(p, &p, 16)) > 0; ) {
		p += 2;
		memmove(o, p, (size_t)size);
		o += size;
		p += size + 2;
	}
	*o = '\0';
	return b;
}

START_TEST(hostile_raw)
{
	const struct rawcase	*rc = &raws[_i];
	struct json_object	*j;
	const char		*code, *id;
	char			*req, *ans, *b;
	size_t			 len, alen;
	long			 status = 0, want = rc->front[apache].status;

	req = raw_request(rc, &len);
	ans = raw_send(req, len, rc->half_close, &alen);
	if (strncmp(ans, "HTTP/1.", 7) == 0)
		status = strtol(ans + 9, NULL, 10);
	ck_assert_msg(status == want, "%s: status %ld, want %ld: %.200s",
	    rc->name, status, want, ans);
	b = raw_body(ans, ans + alen);
	ck_assert_msg(strcasestr(ans, "\r\nSet-Cookie:") == NULL &&
	    strcasestr(ans, "\r\nX-Injected:") == NULL,
	    "%s: a header was injected: %.300s", rc->name, ans);
	/*
	 * The web server's own refusals: the envelope, an X-Request-Id.
	 * But nginx, answering a body it refused while the client has
	 * stopped sending it, waits to discard the rest before its
	 * error_page answers, fails, and sends its built-in page instead
	 * (with the error location's headers): only the id is asked there.
	 */
	if (rc->front[apache].by == WEB && status >= 400) {
		ck_assert_msg(strcasestr(ans, "\r\nX-Request-Id: ") != NULL,
		    "%s: no X-Request-Id: %.300s", rc->name, ans);
		j = b != NULL ? json_tokener_parse(b) : NULL;
		ck_assert_msg((rc->half_close && !apache) || (j != NULL &&
		    get_str(j, "error.code") != NULL),
		    "%s: not the envelope: %.300s", rc->name, ans);
		json_object_put(j);
	}
	if (rc->front[apache].by == TALLYD) {
		id = strcasestr(ans, "\r\nX-Request-Id: ");
		ck_assert_msg(id != NULL, "%s: no X-Request-Id", rc->name);
		id += 16;
		if (rc->rid[0] != '\0')
			ck_assert_msg(strncmp(id, rc->rid, strlen(rc->rid)) ==
			    0 && strchr("\r", id[strlen(rc->rid)]) != NULL,
			    "%s: X-Request-Id not echoed", rc->name);
		else
			ck_assert_msg(strspn(id, "0123456789abcdef") == 32,
			    "%s: X-Request-Id not fresh", rc->name);
		ck_assert_msg(b != NULL && (j = json_tokener_parse(b)) != NULL,
		    "%s: no JSON answer: %.300s", rc->name, ans);
		code = get_str(j, "error.code");
		ck_assert_msg(rc->front[apache].code == NULL ? code == NULL :
		    code != NULL && strcmp(code, rc->front[apache].code) == 0,
		    "%s: code %s, want %s", rc->name, code ? code : "none",
		    rc->front[apache].code ? rc->front[apache].code : "none");
		json_object_put(j);
	}
	free(req);
	free(ans);
}
END_TEST

int
main(void)
{
	const char	*front = getenv("TALLY_FRONT"), *url;
	Suite		*s;
	TCase		*tc;
	time_t		 now = time(NULL);

	/* Cases are made before any test runs: no ck_assert here. */
	if ((vendor = getenv("TALLY_KEY_HOSTILE")) == NULL)
		errx(1, "TALLY_KEY_HOSTILE not set");
	apache = front != NULL && strcmp(front, "apache") == 0;
	strftime(month, sizeof(month), "\"%Y-%m\"", gmtime(&now));
	gen_broken();
	gen_depth();
	gen_delta_types();
	gen_delta_numbers();
	gen_limits();
	gen_batch();
	gen_compare();
	gen_checkpoint();
	gen_sizes();
	gen_media_types();
	gen_headers();
	gen_paths();
	gen_queries();
	gen_edges();

	s = suite_create("hostile");
	tc = tcase_create("requests");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, hostile_request, 0, (int)ncases);
	suite_add_tcase(s, tc);
	/* Raw sockets speak plain HTTP only. */
	url = getenv("TALLY_URL");
	if (url != NULL && strncmp(url, "http://", 7) == 0) {
		tc = tcase_create("raw");
		tcase_set_timeout(tc, 60);
		tcase_add_loop_test(tc, hostile_raw, 0, (int)NRAWS);
		suite_add_tcase(s, tc);
	}
	return e2e_run(s);
}
