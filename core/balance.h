/*
 * Balances derived from the record (SPEC 3.4, 3.5, 3.9): which of a
 * customer's deltas a question is about (the scope), and their count and
 * exact sum, counting only deltas a signed tree head covers.
 *
 * Every answer is computed from the per-customer totals the ledger keeps
 * (store.h) in O(log n) reads, whatever the customer's history: a
 * customer's deltas form one sequence in log and time order, so a scope
 * is a run of sequence numbers, the verified deltas are a prefix of the
 * sequence, and the prefix sums give any run's sum.
 */
#ifndef TALLY_BALANCE_H
#define TALLY_BALANCE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/decimal.h"
#include "../common/timefmt.h"
#include "../store/store.h"

enum balance_scope_kind {
	BALANCE_ALL,			/* no scope: every verified delta */
	BALANCE_PERIOD,			/* period=YYYY-MM */
	BALANCE_CURRENT_MONTH,		/* timePreset=current_month */
	BALANCE_CUSTOM,			/* startDate/endDate */
	BALANCE_CHECKPOINT		/* startingCheckpoint */
};

#define BALANCE_CHECKPOINT_MAX	80

struct balance_scope {
	enum balance_scope_kind	kind;
	int			month;		/* PERIOD, CURRENT_MONTH */
	int64_t			start_ms;	/* inclusive */
	int64_t			end_ms;		/* exclusive */
	char			checkpoint[BALANCE_CHECKPOINT_MAX + 1];
	int			by_proof_root;	/* startingCheckpointType */
};

/* Why a scope was refused: the field and the rule broken. */
struct balance_error {
	int		 combination;	/* 1: fields that do not go together;
					   0: a field's value is wrong */
	const char	*field;
	char		 message[200];
};

/*
 * Reads one scope field by name into out: 1 when present, 0 when absent,
 * -1 when present but not a string that fits.
 */
typedef int	(*balance_field_fn)(void *arg, const char *name, char *out,
		    size_t outlen);

/*
 * Builds a scope from the fields period, timePreset, startDate, endDate,
 * startingCheckpoint and startingCheckpointType, by the rules of SPEC
 * 3.4; now_ms places current_month.  Returns 0, or -1 with err set.
 */
int	balance_scope_parse(balance_field_fn, void *arg, int64_t now_ms,
	    struct balance_scope *, struct balance_error *err);
/* The scope of one UTC month (period=YYYY-MM), its bounds set. */
void	balance_scope_month(struct balance_scope *, int month);

/* A customer's verified deltas in a scope. */
struct balance {
	uint64_t	tree_size;	/* the signed head it was computed at */
	uint64_t	first_seq;	/* the verified run in scope: */
	uint64_t	last_seq;	/* empty when last_seq < first_seq */
	uint64_t	count;
	uint64_t	pending;	/* in scope, not yet verified */
	decimal_t	net;		/* their exact sum */
	char		latest_receipt[STORE_ID_MAX + 1]; /* "" if none: set
						   by balance_latest_receipt */
	decimal_t	checkpoint_ending;	/* BALANCE_CHECKPOINT: its
						   endingBalance */
	struct store_customer customer;	/* the customer's running totals */
	uint64_t	newest_index;	/* the log index of its last delta */
};

/*
 * Computes b for customer_id of tenant+env.  STORE_NOTFOUND if the
 * customer has no delta at all, or if the scope starts from a checkpoint
 * that does not exist or is not this customer's (a checkpoint scope
 * covers every delta after the ones the checkpoint locked):
 * balance_outcome tells which.  Runs in the caller's read transaction.
 */
int	balance_derive(struct store_txn *, const char *tenant, enum store_env,
	    const char *customer_id, const struct balance_scope *,
	    struct balance *b);

/* What a reading of a customer's balance came to. */
enum balance_result {
	BALANCE_OK,
	BALANCE_NO_CUSTOMER,	/* no delta recorded for the customer */
	BALANCE_NO_CHECKPOINT,	/* the scope's starting checkpoint is unknown */
	BALANCE_TOO_WIDE,	/* more than the question may cover at once */
	BALANCE_NOMEM,
	BALANCE_UNAVAILABLE	/* the store failed or stayed busy */
};

/*
 * The result of a read whose transaction derived b (with balance_derive,
 * first) and ended with the store code rc: the customer was found when
 * b holds its totals, so a STORE_NOTFOUND after that is the checkpoint.
 */
enum balance_result balance_outcome(int rc, const struct balance *b);

/*
 * The balance the scope starts from: given, else for a checkpoint scope
 * the checkpoint's endingBalance, else start (the caller's default).
 */
decimal_t	balance_start(const struct balance_scope *,
		    const struct balance *b, int given, decimal_t start);

/*
 * The exact sum of the customer's deltas first..last (seqs; 0 for an
 * empty run, last < first), from the running totals in two reads.
 */
int	balance_run_sum(struct store_txn *, const char *tenant, enum store_env,
	    const char *customer_id, uint64_t first, uint64_t last,
	    decimal_t *sum);

/*
 * Fills b->latest_receipt, the receipt of the newest delta b counts: one
 * more read, so only for the callers that report it.
 */
int	balance_latest_receipt(struct store_txn *, const char *tenant,
	    enum store_env, const char *customer_id, struct balance *b);

/*
 * Calls fn for the customer's deltas first..last (seqs), oldest first or
 * newest first, at most limit of them, each with its status filled in.
 */
typedef int	(*balance_delta_fn)(struct store_delta *, void *arg);
int	balance_each(struct store_txn *, const char *tenant, enum store_env,
	    const char *customer_id, uint64_t first, uint64_t last,
	    int newest_first, uint64_t limit, balance_delta_fn fn, void *arg);

/*
 * Where a reading hands the deltas of a page, as it reads them in its
 * transaction: begin(arg) as the page starts, and again whenever a
 * retried transaction starts over, then each delta to each.  Both return
 * a store code; anything but STORE_OK ends the reading with it.
 */
struct balance_pager {
	int			(*begin)(void *arg);
	balance_delta_fn	  each;
	void			 *arg;
};

/*
 * Derive's reading, in one transaction: b for customer_id's deltas in
 * the scope, with its latest receipt, and the page at offset (0 the
 * first) of at most limit of its verified deltas, oldest first, to p.
 */
enum balance_result balance_read(struct store *, const char *tenant,
	    enum store_env, const char *customer_id,
	    const struct balance_scope *, uint64_t offset, uint64_t limit,
	    const struct balance_pager *p, struct balance *b);

#endif
