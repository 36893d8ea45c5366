/* A tenant's usage of a month against its quota (SPEC 3.9). */
#ifndef TALLY_USAGE_H
#define TALLY_USAGE_H

#include <stdint.h>

#include "../store/store.h"

struct usage {
	int		month;		/* timefmt_month */
	uint64_t	used;		/* deltas recorded in it */
	int		limited;	/* the tenant has a quota: */
	uint64_t	limit;		/* deltas a month */
	int		allowed;	/* one more delta may be recorded */
	uint64_t	remaining;	/* when limited */
};

/* u for tenant+env in the month of now_ms; a store code. */
int	usage_get(struct store *, const char *tenant, enum store_env,
	    int64_t now_ms, struct usage *u);

#endif
