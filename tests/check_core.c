#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../common/timefmt.h"
#include "../core/apikey.h"
#include "../core/ids.h"
#include "../core/ratelimit.h"
#include "check.h"

static char		 dir[256];
static struct store	*st;

static void
setup(void)
{
	tmpdir_make(dir, sizeof(dir));
	ck_assert_int_eq(store_open(&st, dir, 4, STORE_CREATE), STORE_OK);
	ck_assert_int_eq(store_write(st, tenant_add_named, "acme"), STORE_OK);
}

static void
teardown(void)
{
	store_close(st);
	tmpdir_remove(dir);
}

START_TEST(ids_rules)
{
	char	long_id[200];

	ck_assert(ids_customer_valid("customer_acme"));
	ck_assert(ids_customer_valid("A.b:c-d_9"));
	ck_assert(!ids_customer_valid(""));
	ck_assert(!ids_customer_valid("has space"));
	ck_assert(!ids_customer_valid("slash/no"));
	ck_assert(!ids_customer_valid("é"));
	memset(long_id, 'a', 128);
	long_id[128] = '\0';
	ck_assert(ids_customer_valid(long_id));
	long_id[128] = 'a';
	long_id[129] = '\0';
	ck_assert(!ids_customer_valid(long_id));

	ck_assert(ids_tenant_valid("acme"));
	ck_assert(ids_tenant_valid("a-1_b"));
	ck_assert(!ids_tenant_valid("Acme"));
	ck_assert(!ids_tenant_valid("-acme"));
	ck_assert(!ids_tenant_valid("_acme"));
	ck_assert(!ids_tenant_valid(""));
}
END_TEST

START_TEST(parse_shapes)
{
	static const char *const bad[] = {
		"", "pk_", "pk_prod_0123456789abcdef01234567.x",
		"pk_live_0123456789abcdef0123456.0123456789abcdef0123456789abcd"
		    "ef0123456789abcdef0123456789abcdef",	/* short id */
		"pk_live_0123456789abcdef01234567-0123456789abcdef0123456789ab"
		    "cdef0123456789abcdef0123456789abcdef",	/* no dot */
		"pk_live_0123456789ABCDEF01234567.0123456789abcdef0123456789ab"
		    "cdef0123456789abcdef0123456789abcdef",	/* upper case */
		"pk_live_0123456789abcdef01234567.0123456789abcdef0123456789ab"
		    "cdef0123456789abcdef0123456789abcdef0",	/* long */
	};
	enum store_env	env;
	char		id[64], secret[80];
	size_t		i;

	ck_assert_int_eq(apikey_parse("pk_test_0123456789abcdef01234567."
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	    &env, id, secret), 0);
	ck_assert_int_eq(env, STORE_ENV_TEST);
	ck_assert_str_eq(id, "0123456789abcdef01234567");
	ck_assert_uint_eq(strlen(secret), 64);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(apikey_parse(bad[i], &env, id, secret) == -1,
		    "accepted case %zu", i);
}
END_TEST

START_TEST(create_authenticate_revoke)
{
	struct principal	p;
	char			key[APIKEY_TEXT_MAX], bad[APIKEY_TEXT_MAX];
	size_t			n;

	ck_assert_int_eq(apikey_create(st, "acme", STORE_ENV_LIVE,
	    STORE_KEY_VENDOR, "", key), STORE_OK);
	ck_assert(strncmp(key, "pk_live_", 8) == 0);
	ck_assert_int_eq(apikey_authenticate(st, key, &p), APIKEY_OK);
	ck_assert_str_eq(p.tenant, "acme");
	ck_assert_int_eq(p.env, STORE_ENV_LIVE);
	ck_assert_int_eq(p.kind, STORE_KEY_VENDOR);

	/* One changed secret digit, or the other environment's prefix. */
	snprintf(bad, sizeof(bad), "%s", key);
	n = strlen(bad);
	bad[n - 1] = bad[n - 1] == 'a' ? 'b' : 'a';
	ck_assert_int_eq(apikey_authenticate(st, bad, &p), APIKEY_INVALID);
	snprintf(bad, sizeof(bad), "pk_test_%s", key + 8);
	ck_assert_int_eq(apikey_authenticate(st, bad, &p), APIKEY_INVALID);
	ck_assert_int_eq(apikey_authenticate(st, NULL, &p), APIKEY_INVALID);

	/* Revoked by its "pk_live_<id>" prefix, as tallyctl key list shows. */
	snprintf(bad, sizeof(bad), "%.*s", 8 + 2 * APIKEY_ID_BYTES, key);
	ck_assert_int_eq(apikey_revoke(st, bad), STORE_OK);
	ck_assert_int_eq(apikey_authenticate(st, key, &p), APIKEY_INVALID);
	ck_assert_int_eq(apikey_revoke(st, "nope"), STORE_NOTFOUND);
}
END_TEST

START_TEST(customer_keys_and_unknown_tenant)
{
	struct principal	p;
	char			key[APIKEY_TEXT_MAX];

	ck_assert_int_eq(apikey_create(st, "acme", STORE_ENV_TEST,
	    STORE_KEY_CUSTOMER, "customer_acme", key), STORE_OK);
	ck_assert_int_eq(apikey_authenticate(st, key, &p), APIKEY_OK);
	ck_assert_int_eq(p.kind, STORE_KEY_CUSTOMER);
	ck_assert_int_eq(p.env, STORE_ENV_TEST);
	ck_assert_str_eq(p.customer_id, "customer_acme");
	ck_assert_int_eq(apikey_create(st, "ghost", STORE_ENV_LIVE,
	    STORE_KEY_VENDOR, "", key), STORE_NOTFOUND);
}
END_TEST

/* A token bucket's rules, for either kind of table. */
static void
bucket_rules(struct ratelimit *rl)
{
	int	i;

	/* A full burst, then the wait for one more token: 0.5 s, so 1 s. */
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(ratelimit_take(rl, "a", 1000), 0);
	ck_assert_int_eq(ratelimit_take(rl, "a", 1000), 1);
	/* Another key has its own bucket. */
	ck_assert_int_eq(ratelimit_take(rl, "b", 1000), 0);
	/* Tokens come back at the rate, never above the burst. */
	ck_assert_int_eq(ratelimit_take(rl, "a", 1500), 0);
	ck_assert_int_ne(ratelimit_take(rl, "a", 1500), 0);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(ratelimit_take(rl, "a", 100000), 0);
	ck_assert_int_ne(ratelimit_take(rl, "a", 100000), 0);
	/* A clock that steps back refills nothing and breaks nothing. */
	ck_assert_int_ne(ratelimit_take(rl, "a", 50000), 0);
}

START_TEST(ratelimit_buckets)
{
	struct ratelimit	*rl;
	int			 i;

	ck_assert_int_eq(ratelimit_open(&rl, 2, 4), 0);
	bucket_rules(rl);
	ratelimit_close(rl);

	ck_assert_int_eq(ratelimit_open(&rl, 0, 0), 0);
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(ratelimit_take(rl, "a", 1000), 0);
	ratelimit_close(rl);
	ck_assert_int_eq(ratelimit_take(NULL, "a", 1000), 0);
}
END_TEST

/* CGI's table: buckets in files, one bucket whoever draws from it. */
START_TEST(ratelimit_shared_buckets)
{
	struct ratelimit	*one, *two;
	char			 rates[300], escaped[400];
	int			 i;

	snprintf(rates, sizeof(rates), "%s/ratelimit", dir);
	ck_assert_int_eq(ratelimit_open_shared(&one, 2, 4, rates), 0);
	bucket_rules(one);
	ratelimit_close(one);

	/* Two processes' tables, each taking half of one key's burst. */
	ck_assert_int_eq(ratelimit_open_shared(&one, 2, 4, rates), 0);
	ck_assert_int_eq(ratelimit_open_shared(&two, 2, 4, rates), 0);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(ratelimit_take(one, "pk_live_c", 1000), 0);
		ck_assert_int_eq(ratelimit_take(two, "pk_live_c", 1000), 0);
	}
	ck_assert_int_ne(ratelimit_take(one, "pk_live_c", 1000), 0);
	ck_assert_int_ne(ratelimit_take(two, "pk_live_c", 1000), 0);
	/* Only a public id names a file: nothing made outside the table. */
	snprintf(escaped, sizeof(escaped), "%s/escaped", dir);
	ck_assert_int_eq(ratelimit_take(one, "../escaped", 1000), 0);
	ck_assert_int_ne(access(escaped, F_OK), 0);
	ratelimit_close(one);
	ratelimit_close(two);
}
END_TEST

Suite *
core_suite(void)
{
	Suite	*s = suite_create("core");
	TCase	*ids = tcase_create("ids"), *keys = tcase_create("apikey");

	tcase_add_test(ids, ids_rules);
	tcase_add_test(ids, parse_shapes);
	tcase_add_test(ids, ratelimit_buckets);
	tcase_add_checked_fixture(keys, setup, teardown);
	tcase_add_test(keys, ratelimit_shared_buckets);
	tcase_add_test(keys, create_authenticate_revoke);
	tcase_add_test(keys, customer_keys_and_unknown_tenant);
	suite_add_tcase(s, ids);
	suite_add_tcase(s, keys);
	return s;
}
