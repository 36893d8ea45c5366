/*
 * The Shared Record's facts (SPEC 8, docs/shared.md): what a share's
 * customer sees of its own record.  Each function reads in the caller's
 * transaction and answers plain structs; share.h decides who may ask.
 *
 * A period here is the deltas *recorded in* a UTC month, verified or
 * not: a page shows the record as it stands, mid-cycle, and says which
 * deltas a signed tree head covers yet.
 */
#ifndef TALLY_SHARED_H
#define TALLY_SHARED_H

#include <stddef.h>
#include <stdint.h>

#include "../common/decimal.h"
#include "../crypto/merkle.h"
#include "../store/store.h"
#include "share.h"

/* One month of the customer's record. */
struct shared_month {
	int		month;
	uint64_t	count;		/* deltas recorded in it */
	uint64_t	verified;	/* of them, covered by a signed head */
	decimal_t	total;		/* their exact sum, all of them */
	int64_t		verified_through_ms; /* the newest head's time when
					   it covers all (count > 0); else 0 */
	int64_t		last_ms;	/* the customer's newest delta, or 0 */
};
int	shared_month(struct store_txn *, const struct share *, int month,
	    struct shared_month *);

/* The customer's periods, newest first. */
struct shared_period {
	int			month;
	uint64_t		count;
	decimal_t		net;
	int			has_checkpoint;	/* cp is its newest one */
	struct store_checkpoint	cp;
	/*
	 * A past month with a checkpoint.  The current month stays open
	 * even when checkpointed: deltas may still come, and a re-lock
	 * would replace its checkpoint.
	 */
	int			locked;
};
struct shared_periods {
	struct shared_period	*list;		/* owned */
	size_t			 n;
};
/*
 * Every month from the customer's first delta through current (at most
 * SHARED_PERIODS_MAX, the newest), with its count and sum and whether a
 * checkpoint locks it.  A customer with no delta yet has the current
 * month alone.  Free with shared_periods_free, on success or not.
 */
#define SHARED_PERIODS_MAX	1200	/* a century */
int	shared_periods(struct store_txn *, const struct share *, int current,
	    struct shared_periods *);
void	shared_periods_free(struct shared_periods *);

/* A page of a month's deltas, in log order. */
struct shared_page {
	int			month;
	uint64_t		offset, limit;	/* in */
	uint64_t		total;		/* out: the month's count */
	struct store_sth	head;		/* out: newest signed head, or
						   size 0 before the first */
};
/*
 * fn gets each delta of the page with verified set when the page's head
 * covers it, and then (with proofs asked for) its inclusion proof
 * against that head; a non-zero result stops the walk and is returned.
 * A retried transaction walks again: fn's caller starts over with it.
 */
typedef int	(*shared_delta_fn)(void *arg, const struct store_delta *,
		    int verified, const merkle_hash *proof, size_t len);
int	shared_deltas(struct store_txn *, const struct share *,
	    struct shared_page *, int proofs, shared_delta_fn, void *arg);

/* A compare (SPEC 8): the customer's figure against the record. */
struct shared_comparison {
	struct shared_month	record;
	decimal_t		yours;
	decimal_t		difference;	/* yours - record.total */
	int			matches;
};
int	shared_compare(struct store_txn *, const struct share *, int month,
	    decimal_t yours, struct shared_comparison *);

#endif
