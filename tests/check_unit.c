#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../common/jsonin.h"
#include "../common/log.h"
#include "../common/timefmt.h"
#include "../core/ledger.h"
#include "../store/store.h"
#include "check.h"

void
tmpdir_make(char *path, size_t len)
{
	const char	*base = getenv("TMPDIR");

	snprintf(path, len, "%s/tally-unit.XXXXXX", base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(path));
}

void
tmpdir_remove(const char *path)
{
	char	cmd[1024];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	ck_assert_int_eq(system(cmd), 0);
}

int
tenant_add_named(struct store_txn *t, void *name)
{
	struct store_tenant	tn;

	memset(&tn, 0, sizeof(tn));
	snprintf(tn.name, sizeof(tn.name), "%s", (const char *)name);
	tn.created_ms = timefmt_now_ms();
	return store_tenant_add(t, &tn);
}

void
unit_ledger_setup(char *dir, size_t len, struct store **st,
    struct ledger **led, struct principal *who)
{
	tmpdir_make(dir, len);
	ck_assert_int_eq(store_open(st, dir, 8, STORE_CREATE), STORE_OK);
	ck_assert_int_eq(store_write(*st, tenant_add_named, "acme"), STORE_OK);
	ck_assert_int_eq(ledger_open(led, *st), STORE_OK);
	memset(who, 0, sizeof(*who));
	snprintf(who->tenant, sizeof(who->tenant), "acme");
	who->env = STORE_ENV_LIVE;
}

void
unit_ledger_teardown(const char *dir, struct store *st, struct ledger *led)
{
	ledger_close(led);
	store_close(st);
	tmpdir_remove(dir);
}

void
unit_item_from(struct ledger_item *it, const char *json)
{
	struct json_object	*obj;
	char			 err[160];

	memset(it, 0, sizeof(*it));
	ck_assert_msg(jsonin_parse(json, strlen(json), &obj, err,
	    sizeof(err)) == 0, "%s: %s", json, err);
	it->valid = emit_parse(obj, &it->in, &it->err) == 0;
	json_object_put(obj);
}

int
unit_emit(struct ledger *led, const struct principal *who, const char *json)
{
	struct ledger_request	req;
	struct ledger_item	it;
	int			rc;

	unit_item_from(&it, json);
	ck_assert_msg(it.valid, "%s: %s", json, it.err.message);
	memset(&req, 0, sizeof(req));
	req.who = who;
	req.items = &it;
	req.nitems = 1;
	rc = ledger_submit(led, &req);
	emit_input_free(&it.in);
	ledger_request_free(&req);
	return rc;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	/* Expected failures log errors; keep the test output readable. */
	log_set_level(LOG_LEVEL_ERROR + (getenv("TALLY_TEST_LOG") ? 3 : 0));
	sr = srunner_create(common_suite());
	srunner_add_suite(sr, crypto_suite());
	srunner_add_suite(sr, sign_suite());
	srunner_add_suite(sr, merkle_suite());
	srunner_add_suite(sr, store_suite());
	srunner_add_suite(sr, core_suite());
	srunner_add_suite(sr, emit_suite());
	srunner_add_suite(sr, ledger_suite());
	srunner_add_suite(sr, tlog_suite());
	srunner_add_suite(sr, vectors_suite());
	srunner_add_suite(sr, fcgi_suite());
	srunner_add_suite(sr, balance_suite());
	srunner_add_suite(sr, audit_suite());
	srunner_add_suite(sr, webhook_suite());
	srunner_add_suite(sr, share_suite());
	srunner_add_suite(sr, view_suite());
#if !defined(__SANITIZE_ADDRESS__)
	srunner_add_suite(sr, oom_suite());	/* malloc is ASan's there */
#endif
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
