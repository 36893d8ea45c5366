#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "../common/conf.h"
#include "../common/decimal.h"
#include "../common/grow.h"
#include "../common/hex.h"
#include "../common/jcs.h"
#include "../common/jsonin.h"
#include "../common/timefmt.h"
#include "check.h"

static void
write_file(const char *path, const char *text)
{
	FILE	*fp = fopen(path, "w");

	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
}

START_TEST(conf_defaults_and_file)
{
	struct conf	c;
	char		dir[256], path[512], err[256];

	conf_defaults(&c);
	ck_assert_str_eq(c.listen, "unix:/run/tally/tallyd.sock");
	ck_assert_int_eq(c.threads, 16);
	ck_assert_str_eq(c.public_url, "");
	ck_assert_int_eq(c.read_timeout, 10);
	ck_assert_str_eq(c.socket_group, "");

	tmpdir_make(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/tally.conf", dir);
	write_file(path, "# comment\n\nlisten = unix:run/t.sock  # trailing\n"
	    "data_dir=db\nthreads = 4\nlisten_mode = 0600\n"
	    "log_level = debug\ncache_mb = 8\n"
	    "public_url = https://tally.example:8443/base//\n"
	    "read_timeout = 3\nsocket_group = www-data\n");
	ck_assert_int_eq(conf_load(&c, path, err, sizeof(err)), 0);
	/* Relative paths are relative to the file's directory. */
	snprintf(path, sizeof(path), "unix:%s/run/t.sock", dir);
	ck_assert_str_eq(c.listen, path);
	snprintf(path, sizeof(path), "%s/db", dir);
	ck_assert_str_eq(c.data_dir, path);
	ck_assert_int_eq(c.threads, 4);
	ck_assert_uint_eq(c.listen_mode, 0600);
	ck_assert_int_eq(c.cache_mb, 8);
	ck_assert_int_eq(c.log_level, LOG_LEVEL_DEBUG);
	/* Links are built as public_url + "/api/...": no "//". */
	ck_assert_str_eq(c.public_url, "https://tally.example:8443/base");
	ck_assert_int_eq(c.read_timeout, 3);
	ck_assert_str_eq(c.socket_group, "www-data");
	tmpdir_remove(dir);
}
END_TEST

START_TEST(conf_replication)
{
	struct conf	c;
	char		dir[256], path[512], err[256];

	conf_defaults(&c);
	/* Off until a node names its own address. */
	ck_assert_uint_eq(c.repl.listen.port, 0);
	ck_assert_int_eq(c.repl.priority, 100);
	ck_assert_int_eq(c.repl.lease_ms, 1000);
	tmpdir_make(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/tally.conf", dir);
	write_file(path, "repl_listen = 10.0.0.1:7100\n"
	    "repl_peers = 10.0.0.2:7100, [fd00::3]:7101,\n"
	    "repl_priority = 0\nrepl_ack = all\nrepl_lease_ms = 0\n"
	    "repl_create = yes\n");
	ck_assert_int_eq(conf_load(&c, path, err, sizeof(err)), 0);
	ck_assert_str_eq(c.repl.listen.host, "10.0.0.1");
	ck_assert_uint_eq(c.repl.listen.port, 7100);
	ck_assert_int_eq(c.repl.npeers, 2);
	ck_assert_str_eq(c.repl.peers[0].host, "10.0.0.2");
	ck_assert_str_eq(c.repl.peers[1].host, "fd00::3");
	ck_assert_uint_eq(c.repl.peers[1].port, 7101);
	ck_assert_int_eq(c.repl.priority, 0);
	ck_assert_int_eq(c.repl.ack_all, 1);
	ck_assert_int_eq(c.repl.lease_ms, 0);
	ck_assert_int_eq(c.repl.create, 1);
	tmpdir_remove(dir);
}
END_TEST

START_TEST(conf_errors_name_the_line)
{
	static const struct {
		const char	*text, *want;
	} cases[] = {
		{ "bogus = 1\n", ":1: unknown option 'bogus'" },
		{ "\nthreads = 0\n", ":2: bad value for threads" },
		{ "threads = 257\n", ":1: bad value for threads" },
		{ "threads = 4x\n", ":1: bad value for threads" },
		{ "listen_mode = 0999\n", ":1: bad value for listen_mode" },
		{ "log_level = loud\n", ":1: bad value for log_level" },
		{ "just words\n", ":1: expected key = value" },
		{ "public_url = tally.example\n", ":1: bad value for public_url" },
		{ "public_url = https://\n", ":1: bad value for public_url" },
		{ "public_url = https://a.example/?x=1\n",
		    ":1: bad value for public_url" },
		{ "public_url = https://u@a.example\n",
		    ":1: bad value for public_url" },
		{ "read_timeout = 0\n", ":1: bad value for read_timeout" },
		{ "socket_group = -x\n", ":1: bad value for socket_group" },
		{ "repl_listen = 10.0.0.1\n", ":1: bad value for repl_listen" },
		{ "repl_listen = :7100\n", ":1: bad value for repl_listen" },
		{ "repl_listen = h:70000\n", ":1: bad value for repl_listen" },
		{ "repl_peers = a:1,b:2,c:3,d:4,e:5,f:6,g:7,h:8,i:9\n",
		    ":1: bad value for repl_peers" },
		{ "repl_ack = one\n", ":1: bad value for repl_ack" },
		{ "repl_create = 1\n", ":1: bad value for repl_create" },
		{ "repl_bogus = 1\n", ":1: unknown option 'repl_bogus'" },
	};
	struct conf	c;
	char		dir[256], path[512], err[256];
	size_t		i;

	tmpdir_make(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/tally.conf", dir);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		conf_defaults(&c);
		write_file(path, cases[i].text);
		ck_assert_int_eq(conf_load(&c, path, err, sizeof(err)), -1);
		ck_assert_msg(strstr(err, cases[i].want) != NULL,
		    "case %zu: '%s' lacks '%s'", i, err, cases[i].want);
	}
	ck_assert_int_eq(conf_load(&c, "/nonexistent/tally.conf", err,
	    sizeof(err)), -1);
	tmpdir_remove(dir);
}
END_TEST

START_TEST(hex_round_trip)
{
	const uint8_t	in[] = { 0x00, 0x01, 0xab, 0xff };
	uint8_t		out[4];
	char		text[9];

	hex_encode(in, sizeof(in), text);
	ck_assert_str_eq(text, "0001abff");
	ck_assert_int_eq(hex_decode("0001ABff", out, 4), 0);
	ck_assert_mem_eq(in, out, 4);
	ck_assert_int_eq(hex_decode("0001abf", out, 4), -1);
	ck_assert_int_eq(hex_decode("0001abfg", out, 4), -1);
	ck_assert_int_eq(hex_decode("0001abff00", out, 4), -1);
}
END_TEST

/* The 0x form: one writer, and the two readers the old sites were. */
START_TEST(hex_0x_forms)
{
	static const char	lower[] = "0x000102030405060708090a0b0c0d0e0f"
				    "101112131415161718191a1b1c1d1e1f";
	uint8_t			in[32], out[32];
	char			text[HEX_0X_SIZE(32)], buf[80];
	size_t			i;
	const int		lax = HEX_0X_OPTIONAL | HEX_ANY_CASE;

	ck_assert_uint_eq(sizeof(text), 67);
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	memset(text, '#', sizeof(text));
	hex_encode_0x(in, sizeof(in), text);
	ck_assert_str_eq(text, lower);

	/* Strict (receipts): "0x" and 64 lowercase digits, nothing else. */
	memset(out, 0, sizeof(out));
	ck_assert_int_eq(hex_decode_0x(lower, out, 32, 0), 0);
	ck_assert_mem_eq(out, in, 32);
	ck_assert_int_eq(hex_decode_0x(lower + 2, out, 32, 0), -1);
	snprintf(buf, sizeof(buf), "%s", lower);
	buf[40] = 'A';
	ck_assert_int_eq(hex_decode_0x(buf, out, 32, 0), -1);
	ck_assert_int_eq(hex_decode_0x(buf, out, 32, lax), 0);
	buf[1] = 'X';
	ck_assert_int_eq(hex_decode_0x(buf, out, 32, 0), -1);
	ck_assert_int_eq(hex_decode_0x(buf, out, 32, lax), -1);
	snprintf(buf, sizeof(buf), "%.65s", lower);	/* short */
	ck_assert_int_eq(hex_decode_0x(buf, out, 32, 0), -1);
	ck_assert_int_eq(hex_decode_0x(buf, out, 32, lax), -1);
	snprintf(buf, sizeof(buf), "%s0", lower);	/* long */
	ck_assert_int_eq(hex_decode_0x(buf, out, 32, 0), -1);
	ck_assert_int_eq(hex_decode_0x(buf, out, 32, lax), -1);
	snprintf(buf, sizeof(buf), "0x%s", lower);	/* prefix twice */
	ck_assert_int_eq(hex_decode_0x(buf, out, 32, lax), -1);
	ck_assert_int_eq(hex_decode_0x("", out, 32, lax), -1);
	ck_assert_int_eq(hex_decode_0x("0x", out, 32, lax), -1);
	snprintf(buf, sizeof(buf), "%s", lower);
	buf[66 - 1] = 'g';
	ck_assert_int_eq(hex_decode_0x(buf, out, 32, lax), -1);

	/* Kind (API inputs): the prefix may go, either case. */
	memset(out, 0, sizeof(out));
	ck_assert_int_eq(hex_decode_0x(lower + 2, out, 32, lax), 0);
	ck_assert_mem_eq(out, in, 32);
	for (i = 0; i < 64; i++)
		buf[i] = (char)(lower[2 + i] >= 'a' ? lower[2 + i] - 32 :
		    lower[2 + i]);
	buf[64] = '\0';
	memset(out, 0, sizeof(out));
	ck_assert_int_eq(hex_decode_0x(buf, out, 32, lax), 0);
	ck_assert_mem_eq(out, in, 32);
	ck_assert_int_eq(hex_decode_0x(buf, out, 32, HEX_0X_OPTIONAL), -1);

	ck_assert_int_eq(hex_digit('0'), 0);
	ck_assert_int_eq(hex_digit('9'), 9);
	ck_assert_int_eq(hex_digit('a'), 10);
	ck_assert_int_eq(hex_digit('F'), 15);
	ck_assert_int_eq(hex_digit('g'), -1);
	ck_assert_int_eq(hex_digit('\0'), -1);
}
END_TEST

/* One growth rule: from NULL, doubling, exact need, overflow refused. */
START_TEST(grow_rule)
{
	uint64_t	*v = NULL, *before;
	char		*b = NULL;
	size_t		 cap = 0, i;

	ck_assert_int_eq(grow(&v, &cap, 0, sizeof(*v)), 0);	/* no-op */
	ck_assert_ptr_null(v);
	ck_assert_uint_eq(cap, 0);
	ck_assert_int_eq(grow(&v, &cap, 1, sizeof(*v)), 0);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(cap, GROW_MIN);
	for (i = 0; i < GROW_MIN; i++)
		v[i] = i;
	before = v;
	ck_assert_int_eq(grow(&v, &cap, GROW_MIN, sizeof(*v)), 0);
	ck_assert_ptr_eq(v, before);		/* fits: untouched */
	ck_assert_uint_eq(cap, GROW_MIN);
	ck_assert_int_eq(grow(&v, &cap, GROW_MIN + 1, sizeof(*v)), 0);
	ck_assert_uint_eq(cap, 2 * GROW_MIN);
	ck_assert_int_eq(grow(&v, &cap, 100, sizeof(*v)), 0);
	ck_assert_uint_eq(cap, 128);		/* doubled past need */
	for (i = 0; i < GROW_MIN; i++)
		ck_assert_uint_eq(v[i], i);	/* kept across moves */
	v[99] = 99;

	/* Overflow of cap * size: refused, the array left as it was. */
	before = v;
	ck_assert_int_eq(grow(&v, &cap, SIZE_MAX / 4, sizeof(*v)), -1);
	ck_assert_ptr_eq(v, before);
	ck_assert_uint_eq(cap, 128);
	ck_assert_int_eq(grow(&v, &cap, SIZE_MAX, sizeof(*v)), -1);
	ck_assert_ptr_eq(v, before);
	ck_assert_uint_eq(cap, 128);
	ck_assert_uint_eq(v[99], 99);
	free(v);

	/* Bytes, with a need that is not a power of two. */
	cap = 0;
	ck_assert_int_eq(grow(&b, &cap, 1000, 1), 0);
	ck_assert_uint_eq(cap, 1024);
	memset(b, 'x', 1000);
	free(b);
}
END_TEST

START_TEST(timefmt_forms)
{
	char	out[TIMEFMT_LEN];

	timefmt_rfc3339(0, out);
	ck_assert_str_eq(out, "1970-01-01T00:00:00.000Z");
	timefmt_rfc3339(1769904000123LL, out);
	ck_assert_str_eq(out, "2026-02-01T00:00:00.123Z");
	timefmt_rfc3339(-1, out);
	ck_assert_str_eq(out, "1969-12-31T23:59:59.999Z");
	ck_assert(timefmt_now_ms() > 1769904000000LL);
}
END_TEST

/* The strftime form timefmt_rfc3339 replaced: the reference it must match. */
static void
timefmt_reference(int64_t ms, char out[TIMEFMT_LEN])
{
	struct tm	tm;
	time_t		secs;
	int		frac;

	secs = (time_t)(ms / 1000);
	frac = (int)(ms % 1000);
	if (frac < 0) {
		frac += 1000;
		secs--;
	}
	if (gmtime_r(&secs, &tm) == NULL ||
	    strftime(out, TIMEFMT_LEN, "%Y-%m-%dT%H:%M:%S", &tm) != 19) {
		snprintf(out, TIMEFMT_LEN, "0000-00-00T00:00:00.000Z");
		return;
	}
	snprintf(out + 19, TIMEFMT_LEN - 19, ".%03dZ", frac);
}

static void
timefmt_same(int64_t ms)
{
	char	got[TIMEFMT_LEN], want[TIMEFMT_LEN];

	timefmt_rfc3339(ms, got);
	timefmt_reference(ms, want);
	ck_assert_msg(strcmp(got, want) == 0, "%lld: %s, not %s",
	    (long long)ms, got, want);
}

START_TEST(timefmt_matches_gmtime)
{
	/* Leap and non-leap century years, the epoch, the four-digit ends. */
	static const int	years[] = { 1000, 1600, 1899, 1900, 1904, 1969,
	    1970, 1999, 2000, 2024, 2026, 2100, 2400, 9999 };
	static const int64_t	edges[] = { 0, 1, 999, 1000, 59999, 60000,
	    3599999, 3600000, 86399999 };
	static const int64_t	far[] = { INT64_MIN, INT64_MIN + 1, INT64_MAX,
	    -30610224000001LL, -30610224000000LL, 253402300799999LL,
	    253402300800000LL, -86400000LL * 1000000000 };
	struct tm	tm = { 0 };
	int64_t		start, ms;
	uint64_t	x = 0x9e3779b97f4a7c15ULL;
	size_t		i, j;
	int		mon, day;

	for (i = 0; i < sizeof(far) / sizeof(far[0]); i++)
		timefmt_same(far[i]);
	/* Every ms edge of the day around each month's first and last day. */
	for (i = 0; i < sizeof(years) / sizeof(years[0]); i++)
		for (mon = 0; mon < 12; mon++) {
			tm.tm_year = years[i] - 1900;
			tm.tm_mon = mon;
			tm.tm_mday = 1;
			start = (int64_t)timegm(&tm) * 1000;
			for (j = 0; j < sizeof(edges) / sizeof(edges[0]); j++) {
				timefmt_same(start + edges[j]);
				timefmt_same(start - 1 - edges[j]);
			}
		}
	/* Every day from 1899 to 2101, at its first ms and the one before. */
	tm.tm_year = -1;
	tm.tm_mon = 0;
	tm.tm_mday = 1;
	start = (int64_t)timegm(&tm) * 1000;
	for (day = 0; day < 203 * 365; day++) {
		timefmt_same(start + (int64_t)day * 86400000);
		timefmt_same(start + (int64_t)day * 86400000 - 1);
	}
	/* A pseudo-random sweep (xorshift) over 1670-2270, ±300 years. */
	for (i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		ms = (int64_t)(x % (600ULL * 31556952000ULL)) -
		    300LL * 31556952000LL;
		timefmt_same(ms);
	}
}
END_TEST

START_TEST(jsonin_accepts_and_rejects)
{
	static const char *const bad[] = {
		"", "{", "{\"a\":1,}", "{'a':1}", "{\"a\":1} x", "{\"a\":1}{}",
		"[1,2", "{\"a\":\"\xff\"}", "{\"a\":NaN}", "{\"a\":Infinity}",
		"{\"a\":01}", "nul", "{\"a\":1,\"a\":2}",
		"{\"a\":1,\"\\u0061\":2}", "\"\\ud800\"", "\"\\udc00x\"",
		"\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"",
		"\"a\tb\"", "1.", "-", ".5", "1e", "[1 2]", "{\"a\" 1}",
		"\"\\x\"", "tru", "[1,]", "{\"a\\u0000b\":1}",
	};
	struct json_object	*obj;
	char			 err[160], deep[256];
	size_t			 i;

	ck_assert_int_eq(jsonin_parse("{\"a\":[1,2.5,\"x\"]} \n", 19, &obj,
	    err, sizeof(err)), 0);
	ck_assert(json_object_is_type(obj, json_type_object));
	json_object_put(obj);
	static const char *const good[] = {
		"{\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}]}",
		"\"\\ud83d\\ude00 \xf0\x9f\x98\x80 \xc3\xa9 \\u00e9\"",
		"-0.5e+10", "0", "[true,false,null]", "\"\\\"\\/\\b\\f\\n\\r\\t\"",
	};
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(jsonin_parse(good[i], strlen(good[i]), &obj, err,
		    sizeof(err)) == 0, "rejected good case %zu: %s", i, err);
		json_object_put(obj);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(jsonin_parse(bad[i], strlen(bad[i]), &obj, err,
		    sizeof(err)) == -1, "accepted case %zu", i);
		ck_assert_ptr_null(obj);
		ck_assert(err[0] != '\0');
	}
	/* Nesting beyond the limit is refused, not recursed into. */
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	ck_assert_int_eq(jsonin_parse(deep, 200, &obj, err, sizeof(err)), -1);
	memset(deep, '[', 10);
	memset(deep + 10, ']', 10);
	ck_assert_int_eq(jsonin_parse(deep, 20, &obj, err, sizeof(err)), 0);
	json_object_put(obj);
}
END_TEST

/*
 * An integer literal beyond 64 bits is the double it denotes, not the
 * value json-c saturates it to: the canonical form of a double from 2^63
 * to 10^21 is such a literal, and must read back as itself (found by
 * tests/fuzz/jcs, corpus/jcs/wide-integers).
 */
START_TEST(jsonin_wide_integers)
{
	static const struct {
		const char	*in, *jcs;
		enum json_type	 type;
	} cases[] = {
		{ "56786233710500000000", "56786233710500000000",
		  json_type_double },
		{ "-9300000000000000000", "-9300000000000000000",
		  json_type_double },
		{ "295147905179352830000", "295147905179352830000",
		  json_type_double },
		{ "18446744073709551616", "18446744073709552000",
		  json_type_double },
		{ "18446744073709551615", "18446744073709552000",
		  json_type_int },
		{ "-9223372036854775808", "-9223372036854776000",
		  json_type_int },
		{ "-9223372036854775809", "-9223372036854776000",
		  json_type_double },
	};
	struct json_object	*obj, *v;
	struct sbuf		 sb = { 0 };
	char			 err[160], text[64];
	size_t			 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* At the top, and inside a document with its neighbours. */
		snprintf(text, sizeof(text), "{\"a\":[%s,1]}", cases[i].in);
		ck_assert_int_eq(jsonin_parse(text, strlen(text), &obj, err,
		    sizeof(err)), 0);
		v = json_object_array_get_idx(json_object_object_get(obj, "a"),
		    0);
		ck_assert_msg(json_object_is_type(v, cases[i].type),
		    "case %zu: type %d", i, json_object_get_type(v));
		ck_assert(json_object_get_double(v) == strtod(cases[i].in,
		    NULL));
		json_object_put(obj);
		ck_assert_int_eq(jsonin_parse(cases[i].in, strlen(cases[i].in),
		    &obj, err, sizeof(err)), 0);
		sb.len = 0;
		ck_assert_int_eq(jcs_serialize(obj, &sb), 0);
		ck_assert_str_eq(sb.buf, cases[i].jcs);
		json_object_put(obj);
	}
	sbuf_free(&sb);
}
END_TEST

START_TEST(decimal_exact)
{
	static const struct {
		const char	*in, *out;
	} ok[] = {
		{ "0.1", "0.1" }, { "-50", "-50" }, { "1e3", "1000" },
		{ "1E+3", "1000" }, { "2.50E-1", "0.25" }, { "-0.000000001",
		    "-0.000000001" }, { "1000000000", "1000000000" },
		{ "1.0000000000", "1" }, { "123456789.123456789",
		    "123456789.123456789" }, { "0", "0" }, { "-0", "0" },
		{ "0.0e5", "0" }, { "100e-2", "1" }, { "4382", "4382" },
	};
	static const struct {
		const char	*in;
		enum decimal_rc	 rc;
	} bad[] = {
		{ "0.0000000001", DECIMAL_PRECISION },
		{ "1.5e-9", DECIMAL_PRECISION },
		{ "1e40", DECIMAL_RANGE }, { "1e99999999999", DECIMAL_RANGE },
		{ "", DECIMAL_SYNTAX }, { "-", DECIMAL_SYNTAX },
		{ "1e", DECIMAL_SYNTAX }, { "abc", DECIMAL_SYNTAX },
		{ "1.2.3", DECIMAL_SYNTAX }, { "NaN", DECIMAL_SYNTAX },
	};
	decimal_t	v, sum = 0;
	char		out[DECIMAL_MAX];
	size_t		i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_int_eq(decimal_parse(ok[i].in, strlen(ok[i].in), &v),
		    DECIMAL_OK);
		decimal_format(v, out);
		ck_assert_str_eq(out, ok[i].out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(decimal_parse(bad[i].in, strlen(bad[i].in), &v) ==
		    bad[i].rc, "case %s", bad[i].in);

	/* Ten times 0.1 is exactly 1. */
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(decimal_parse("0.1", 3, &v), DECIMAL_OK);
		sum += v;
	}
	decimal_format(sum, out);
	ck_assert_str_eq(out, "1");
	ck_assert(sum == DECIMAL_SCALE);

	/* Sums far past 64 bits stay exact. */
	ck_assert_int_eq(decimal_parse("1000000000", 10, &v), DECIMAL_OK);
	sum = v * (decimal_t)100000000000LL + 1;
	decimal_format(sum, out);
	ck_assert_str_eq(out, "100000000000000000000.000000001");
	decimal_format(-sum, out);
	ck_assert_str_eq(out, "-100000000000000000000.000000001");
}
END_TEST

static char *
jcs_of(const char *json)
{
	struct json_object	*obj = json_tokener_parse(json);
	struct sbuf		 sb = { 0 };

	ck_assert_msg(obj != NULL, "bad test JSON %s", json);
	ck_assert_int_eq(jcs_serialize(obj, &sb), 0);
	json_object_put(obj);
	return sbuf_take(&sb, NULL);
}

START_TEST(jcs_rfc8785_examples)
{
	/* RFC 8785 section 3.2.2 (the main example) and 3.2.3 (sorting). */
	static const struct {
		const char	*in, *out;
	} cases[] = {
		{ "{\"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, "
		  "0.000000000000000000000000001], \"string\": "
		  "\"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\", "
		  "\"literals\": [null, true, false]}",
		  "{\"literals\":[null,true,false],\"numbers\":[333333333.333333"
		  "3,1e+30,4.5,0.002,1e-27],\"string\":\"\xe2\x82\xac$\\u000f\\nA'B"
		  "\\\"\\\\\\\\\\\"/\"}" },
		{ "{\"\\u20ac\": \"Euro Sign\", \"\\r\": \"Carriage Return\", "
		  "\"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\", \"1\": "
		  "\"One\", \"\\ud83d\\ude00\": \"Emoji: Grinning Face\", "
		  "\"\\u0080\": \"Control\", \"\\u00f6\": \"Latin Small Letter "
		  "O With Diaeresis\"}",
		  "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\""
		  ",\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\",\"\xe2\x82"
		  "\xac\":\"Euro Sign\",\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
		  "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}" },
		{ "{\"b\":[{\"z\":1,\"y\":{}}],\"a\":\"\\u0001\"}",
		  "{\"a\":\"\\u0001\",\"b\":[{\"y\":{},\"z\":1}]}" },
	};
	size_t	i;
	char	*got;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = jcs_of(cases[i].in);
		ck_assert_msg(strcmp(got, cases[i].out) == 0,
		    "case %zu:\n got %s\nwant %s", i, got, cases[i].out);
		free(got);
	}
}
END_TEST

START_TEST(jcs_number_forms)
{
	/* RFC 8785 Appendix B: IEEE 754 bits and their canonical text. */
	static const struct {
		uint64_t	 bits;
		const char	*text;
	} v[] = {
		{ 0x0000000000000000ULL, "0" },
		{ 0x8000000000000000ULL, "0" },
		{ 0x0000000000000001ULL, "5e-324" },
		{ 0x8000000000000001ULL, "-5e-324" },
		{ 0x7fefffffffffffffULL, "1.7976931348623157e+308" },
		{ 0xffefffffffffffffULL, "-1.7976931348623157e+308" },
		{ 0x4340000000000000ULL, "9007199254740992" },
		{ 0xc340000000000000ULL, "-9007199254740992" },
		{ 0x4430000000000000ULL, "295147905179352830000" },
		{ 0x44b52d02c7e14af5ULL, "9.999999999999997e+22" },
		{ 0x44b52d02c7e14af6ULL, "1e+23" },
		{ 0x44b52d02c7e14af7ULL, "1.0000000000000001e+23" },
		{ 0x444b1ae4d6e2ef4eULL, "999999999999999700000" },
		{ 0x444b1ae4d6e2ef4fULL, "999999999999999900000" },
		{ 0x444b1ae4d6e2ef50ULL, "1e+21" },
		{ 0x3eb0c6f7a0b5ed8cULL, "9.999999999999997e-7" },
		{ 0x3eb0c6f7a0b5ed8dULL, "0.000001" },
		{ 0x41b3de4355555553ULL, "333333333.3333332" },
		{ 0x41b3de4355555554ULL, "333333333.33333325" },
		{ 0x41b3de4355555555ULL, "333333333.3333333" },
		{ 0x41b3de4355555556ULL, "333333333.3333334" },
		{ 0x41b3de4355555557ULL, "333333333.33333343" },
		{ 0xbecbf647612f3696ULL, "-0.0000033333333333333333" },
		{ 0x43143ff3c1cb0959ULL, "1424953923781206.2" },
	};
	struct sbuf	sb = { 0 };
	double		d;
	size_t		i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memcpy(&d, &v[i].bits, sizeof(d));
		sb.len = 0;
		ck_assert_int_eq(jcs_number(d, &sb), 0);
		ck_assert_msg(strcmp(sb.buf, v[i].text) == 0,
		    "%016llx: got %s want %s", (unsigned long long)v[i].bits,
		    sb.buf, v[i].text);
	}
	ck_assert_int_eq(jcs_number(NAN, &sb), -1);
	ck_assert_int_eq(jcs_number(INFINITY, &sb), -1);
	sbuf_free(&sb);
}
END_TEST

Suite *
common_suite(void)
{
	Suite	*s = suite_create("common");
	TCase	*tc = tcase_create("common");

	tcase_add_test(tc, conf_defaults_and_file);
	tcase_add_test(tc, conf_replication);
	tcase_add_test(tc, conf_errors_name_the_line);
	tcase_add_test(tc, hex_round_trip);
	tcase_add_test(tc, hex_0x_forms);
	tcase_add_test(tc, grow_rule);
	tcase_add_test(tc, timefmt_forms);
	tcase_add_test(tc, timefmt_matches_gmtime);
	tcase_add_test(tc, jsonin_accepts_and_rejects);
	tcase_add_test(tc, jsonin_wide_integers);
	tcase_add_test(tc, decimal_exact);
	tcase_add_test(tc, jcs_rfc8785_examples);
	tcase_add_test(tc, jcs_number_forms);
	suite_add_tcase(s, tc);
	return s;
}
