#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/timefmt.h"
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

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	/* Expected failures log errors; keep the test output readable. */
	log_set_level(LOG_LEVEL_ERROR + (getenv("TALLY_TEST_LOG") ? 3 : 0));
	sr = srunner_create(common_suite());
	srunner_add_suite(sr, crypto_suite());
	srunner_add_suite(sr, store_suite());
	srunner_add_suite(sr, core_suite());
	srunner_add_suite(sr, emit_suite());
	srunner_add_suite(sr, ledger_suite());
	srunner_add_suite(sr, fcgi_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
