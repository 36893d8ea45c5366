#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "../common/conf.h"
#include "../common/hex.h"
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

	tmpdir_make(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/tally.conf", dir);
	write_file(path, "# comment\n\nlisten = unix:run/t.sock  # trailing\n"
	    "data_dir=db\nthreads = 4\nlisten_mode = 0600\n"
	    "log_level = debug\ncache_mb = 8\n");
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

START_TEST(jsonin_accepts_and_rejects)
{
	static const char *const bad[] = {
		"", "{", "{\"a\":1,}", "{'a':1}", "{\"a\":1} x", "{\"a\":1}{}",
		"[1,2", "{\"a\":\"\xff\"}", "{\"a\":NaN}", "{\"a\":Infinity}",
		"{\"a\":01}", "nul", "{\"a\":1,\"a\":2}",
		"{\"a\":1,\"\\u0061\":2}", "\"\\ud800\"", "\"\\udc00x\"",
		"\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"",
		"\"a\tb\"", "1.", "-", ".5", "1e", "[1 2]", "{\"a\" 1}",
		"\"\\x\"", "tru", "[1,]",
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

Suite *
common_suite(void)
{
	Suite	*s = suite_create("common");
	TCase	*tc = tcase_create("common");

	tcase_add_test(tc, conf_defaults_and_file);
	tcase_add_test(tc, conf_errors_name_the_line);
	tcase_add_test(tc, hex_round_trip);
	tcase_add_test(tc, timefmt_forms);
	tcase_add_test(tc, jsonin_accepts_and_rejects);
	suite_add_tcase(s, tc);
	return s;
}
