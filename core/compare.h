/*
 * Comparing balances (SPEC 3.5): a customer's balance as the vendor and
 * the customer see it against the one the record holds, and their list
 * of deltas against the record's, delta by delta (reconciliation).
 */
#ifndef TALLY_COMPARE_H
#define TALLY_COMPARE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/decimal.h"
#include "../store/store.h"
#include "balance.h"

/* Deltas a compare with their list may match, at most. */
#define COMPARE_DELTAS_MAX	100000
/* Discrepancies on one page, at most. */
#define COMPARE_PAGE_MAX	1000

/* One entry of their list. */
struct compare_theirs {
	const char	*reference;	/* referenceId; not copied */
	decimal_t	 amount;
};

/* The question. */
struct compare_question {
	const char		*customer;
	struct balance_scope	 scope;
	decimal_t		 yours;
	decimal_t		 theirs;	/* when has_theirs */
	decimal_t		 start;		/* when has_start */
	decimal_t		 tolerance;	/* not negative */
	int			 has_theirs, has_start;
	/* Their list, when matched; a referenceId may repeat (summed). */
	int			 matched;
	const struct compare_theirs *list;
	size_t			 nlist;
	uint64_t		 offset, limit;	/* the page of discrepancies */
};

enum compare_kind {
	COMPARE_MISSING_IN_RECORD,	/* theirs only */
	COMPARE_MISSING_IN_THEIRS,	/* recorded only */
	COMPARE_AMOUNT_DIFFERS		/* both, not equal */
};

/*
 * One discrepancy: recorded is set unless it is missing in the record,
 * theirs unless it is missing in theirs.  A recorded delta without a
 * referenceId cannot be matched: reference is NULL, record_id names it.
 */
struct compare_discrepancy {
	enum compare_kind	 kind;
	const char		*reference;
	const char		*record_id;	/* NULL unless reference is */
	decimal_t		 recorded, theirs;
};

struct compare_match;

/* The answer; compare_answer_free releases what it holds. */
struct compare_answer {
	struct balance		 b;
	decimal_t		 start;		/* the balance before the scope */
	decimal_t		 neutral;	/* start and the scope's net */
	decimal_t		 your_difference;
	decimal_t		 their_difference;	/* when q has theirs */
	int			 matches_yours, matches_theirs, match;
	/* With their list: the page of discrepancies, of total in all. */
	struct compare_discrepancy *page;
	size_t			 npage;
	uint64_t		 total;
	struct compare_match	*m;		/* what page points into */
};

/*
 * Answers q for tenant+env in one read of the record, in memory that does
 * not grow with the scope.  BALANCE_TOO_WIDE when q has a list and the
 * scope holds more than COMPARE_DELTAS_MAX deltas.  On any result a holds
 * something to free with compare_answer_free.
 */
enum balance_result compare_run(struct store *, const char *tenant,
	    enum store_env, const struct compare_question *q,
	    struct compare_answer *a);
void	compare_answer_free(struct compare_answer *);

#endif
