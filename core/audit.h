/*
 * The audit behind `tallyctl verify` (SPEC 6): everything derived is
 * derived again from what it was derived from, and compared.  Each leaf
 * from its delta's fields; its hashes from the leaf; the whole tree
 * from the leaf hashes; every signed tree head's root from the tree and
 * its signature from the key it names.  And every total the ledger
 * keeps beside the log (store.h): each customer's running totals, the
 * position and prefix sum of each of its deltas, its months, and each
 * tenant's monthly usage, all from the deltas themselves.  And every
 * checkpoint (SPEC 4.4): its statement from its fields, its signature,
 * its deltas' count, sum and proof root from the log, its starting
 * balance from its predecessor, its root from the head it names, and
 * its indexes.  Every mismatch is reported with the index, size, key,
 * customer, seq, month or checkpoint where it is, as stored against
 * expected; nothing is repaired.
 *
 * It reads in short transactions, so a running tallyd is not held up,
 * and checks the log as it was when the audit began.  Totals that grow
 * while they are read are read again until they hold still; memory
 * grows with the tenants and months, not with the deltas or customers.
 * Checkpoints made while the audit runs may or may not be checked.
 */
#ifndef TALLY_AUDIT_H
#define TALLY_AUDIT_H

#include <stdint.h>

#include "../store/store.h"

struct audit_result {
	uint64_t	leaves;
	uint64_t	nodes;		/* stored tree nodes compared */
	uint64_t	heads;
	uint64_t	keys;
	uint64_t	customers;	/* customer totals compared */
	uint64_t	positions;	/* per-delta positions compared */
	uint64_t	months;		/* customer months compared */
	uint64_t	usage;		/* tenant monthly usage compared */
	uint64_t	checkpoints;	/* checkpoints checked */
	uint64_t	busy;		/* totals left unchecked: they kept
					   changing while read */
	uint64_t	problems;
	uint64_t	warnings;
};

/*
 * What a finding is.  A problem: something stored is not what it must
 * be.  A warning: everything holds, but the record keeps something the
 * ledger no longer lets in, such as two deltas of a customer with one
 * referenceId, recorded before every request's referenceId was checked
 * (SPEC 3.1).  Both are told, neither repaired: a recorded delta is on
 * the signed log for good, and is corrected by another ("adjusts").
 */
enum audit_finding {
	AUDIT_PROBLEM,
	AUDIT_WARNING
};

/*
 * Receives one line per finding, as soon as the read that found it is
 * over: a read retried after a deadlock tells nothing twice.
 */
typedef void	(*audit_report_fn)(void *arg, enum audit_finding,
		    const char *line);

/*
 * Runs the audit, telling report (if not NULL) of each finding.  Returns
 * a store code: STORE_OK means the audit ran to the end (res->problems
 * says whether everything held; res->warnings counts the warnings).
 */
int	audit_run(struct store *, audit_report_fn, void *arg,
	    struct audit_result *res);

#endif
