/* The unit test suites, one per module, run together by check_unit.c. */
#ifndef TALLY_CHECK_H
#define TALLY_CHECK_H

#include <check.h>

Suite	*common_suite(void);
Suite	*crypto_suite(void);
Suite	*sign_suite(void);
Suite	*merkle_suite(void);
Suite	*store_suite(void);
Suite	*core_suite(void);
Suite	*fcgi_suite(void);
Suite	*emit_suite(void);
Suite	*ledger_suite(void);
Suite	*tlog_suite(void);
Suite	*vectors_suite(void);
Suite	*balance_suite(void);
Suite	*audit_suite(void);
Suite	*webhook_suite(void);
Suite	*oom_suite(void);
Suite	*share_suite(void);
Suite	*view_suite(void);

/* A fresh empty directory under $TMPDIR; removed with tmpdir_remove. */
void	tmpdir_make(char *path, size_t len);
void	tmpdir_remove(const char *path);

struct ledger;
struct ledger_item;
struct principal;
struct store;
/* A fresh store with tenant "acme", its ledger, who: acme's live vendor. */
void	unit_ledger_setup(char *dir, size_t len, struct store **,
	    struct ledger **, struct principal *who);
void	unit_ledger_teardown(const char *dir, struct store *,
	    struct ledger *);
/* Parses json into a ledger item (valid or not); emit_input_free it. */
void	unit_item_from(struct ledger_item *, const char *json);
/* Records one delta through the ledger; returns ledger_submit's code. */
int	unit_emit(struct ledger *, const struct principal *,
	    const char *json);

/* A store_write callback adding the tenant named by its argument. */
struct store_txn;
int	tenant_add_named(struct store_txn *t, void *name);

#endif
