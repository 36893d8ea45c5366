/*
 * Gaps in a customer's record (SPEC 3.9).  Tally numbers a customer's
 * deltas itself, without holes, so the only sequence numbers missing from
 * the verified record are those no signed tree head covers yet: at most
 * one run, at the end.  Asked for windows of a day or an hour, it also
 * finds those in which no delta was recorded: the skipped intervals of
 * periodic metering.
 */
#ifndef TALLY_GAPS_H
#define TALLY_GAPS_H

#include <stddef.h>
#include <stdint.h>

#include "../store/store.h"
#include "balance.h"

#define GAPS_DAY_MS	86400000
#define GAPS_HOUR_MS	3600000
#define GAPS_WINDOWS_MAX 10000	/* windows one question may check */

struct gaps_question {
	const char	*customer;
	uint64_t	 from, to;	/* the sequence numbers asked about */
	int64_t		 len_ms;	/* a window's length; 0: no windows */
	int64_t		 start_ms;	/* 0: the first delta's window */
	int64_t		 end_ms;	/* 0: to the present window's end */
};

/* The answer; gaps_answer_free releases what it holds. */
struct gaps_answer {
	struct balance	 b;		/* every delta of the customer */
	uint64_t	 last;		/* the last sequence number, verified
					   or not */
	uint64_t	 from, to;	/* the gap, when from <= to */
	int		 complete;	/* no gap, no window missing */
	int64_t		*missing;	/* starts of windows without a delta */
	size_t		 nmissing, cap;
};

/*
 * Answers q for tenant+env in one read of the record.  BALANCE_TOO_WIDE
 * when the windows asked for are more than GAPS_WINDOWS_MAX.
 */
enum balance_result gaps_run(struct store *, const char *tenant,
	    enum store_env, const struct gaps_question *q,
	    struct gaps_answer *a);
void	gaps_answer_free(struct gaps_answer *);

#endif
