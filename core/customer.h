/*
 * A tenant's customers (SPEC 3.9): the list of them, found by search, and
 * the page of one, with its totals, latest checkpoint, cadence and recent
 * activity.
 */
#ifndef TALLY_CUSTOMER_H
#define TALLY_CUSTOMER_H

#include <stddef.h>
#include <stdint.h>

#include "../store/store.h"
#include "balance.h"

/* A customer on a page of the list: its totals over every delta. */
struct customer_row {
	char		id[STORE_CUSTOMER_MAX + 1];
	struct balance	b;
};

/* A page of the customers whose customerId contains search. */
struct customer_list {
	struct customer_row	*rows;		/* on the page */
	size_t			 n, cap;
	uint64_t		 total;		/* found in all */
};

/*
 * The page (1 the first) of at most limit customers of tenant+env whose
 * customerId contains search (store_customer_search), into l; a store
 * code.  l holds something to free with customer_list_free either way.
 */
int	customer_list(struct store *, const char *tenant, enum store_env,
	    const char *search, uint64_t page, uint64_t limit,
	    struct customer_list *l);
void	customer_list_free(struct customer_list *);

/* One customer's page. */
struct customer_page {
	struct balance		b;		/* in the scope */
	struct store_checkpoint	latest;		/* when has_latest */
	int			has_latest;
	uint64_t		cadence_ms;	/* 0: unlimited */
	int			cadence_own;	/* the customer's own setting */
	uint64_t		total;		/* activity in all */
};

/*
 * Reads customer_id's page in one transaction: its totals in the scope,
 * then its recent activity, the scope's deltas verified or not, newest
 * first, page (1 the first) of limit each, to p.
 */
enum balance_result customer_read(struct store *, const char *tenant,
	    enum store_env, const char *customer_id,
	    const struct balance_scope *, uint64_t page, uint64_t limit,
	    const struct balance_pager *p, struct customer_page *out);

#endif
