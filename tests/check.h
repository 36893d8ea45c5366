/* The unit test suites, one per module, run together by check_unit.c. */
#ifndef TALLY_CHECK_H
#define TALLY_CHECK_H

#include <check.h>

Suite	*common_suite(void);
Suite	*crypto_suite(void);
Suite	*store_suite(void);
Suite	*core_suite(void);
Suite	*fcgi_suite(void);
Suite	*emit_suite(void);
Suite	*ledger_suite(void);

/* A fresh empty directory under $TMPDIR; removed with tmpdir_remove. */
void	tmpdir_make(char *path, size_t len);
void	tmpdir_remove(const char *path);

/* A store_write callback adding the tenant named by its argument. */
struct store_txn;
int	tenant_add_named(struct store_txn *t, void *name);

#endif
