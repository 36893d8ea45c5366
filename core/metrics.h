/*
 * The process's counters, gauges and histograms, for GET /metrics.  Each
 * is a C11 atomic in static storage: a hook costs one or a few relaxed
 * atomic adds, takes no lock, and can be called from any thread.  What
 * is counted is named here; how it is said (Prometheus' text format) is
 * view_metrics.c's business.
 */
#ifndef TALLY_METRICS_H
#define TALLY_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum metrics_counter {
	METRICS_RATE_LIMITED,		/* requests refused by a key's limit */
	METRICS_CADENCE_REFUSED,	/* deltas refused by a cadence */
	METRICS_WEBHOOK_DELIVERED,	/* attempts the receiver took (2xx) */
	METRICS_WEBHOOK_RETRIED,	/* failed attempts to try again */
	METRICS_WEBHOOK_FAILED,		/* events given up on */
	METRICS_COUNTER_COUNT
};

enum metrics_gauge {
	METRICS_QUEUE_DEPTH,		/* requests waiting for the writer */
	METRICS_TREE_SIZE,		/* size of the newest signed head */
	METRICS_WEBHOOK_INFLIGHT,	/* attempts at the sender now */
	METRICS_GAUGE_COUNT
};

enum metrics_hist {
	METRICS_GROUP_SIZE,		/* deltas in one group commit */
	METRICS_FLUSH_SECONDS,		/* one log flush (fsync) */
	METRICS_VERIFY_LAG_SECONDS,	/* a delta's creation to its head */
	METRICS_HIST_COUNT
};

/* Slots of the per-route request metrics; METRICS_ROUTES: no route. */
#define METRICS_ROUTES		64
#define METRICS_STATUS_MIN	100
#define METRICS_STATUS_MAX	599
#define METRICS_BUCKETS_MAX	16

/* A histogram as read: bucket[i] counts values <= bounds[i], cumulated. */
struct metrics_hist_read {
	const double	*bounds;
	int		 nbounds;
	uint64_t	 bucket[METRICS_BUCKETS_MAX];
	uint64_t	 count;		/* all values, the +Inf bucket */
	double		 sum;
};

void	metrics_count(enum metrics_counter, uint64_t n);
void	metrics_gauge_add(enum metrics_gauge, int64_t delta);
void	metrics_gauge_set(enum metrics_gauge, int64_t value);
void	metrics_observe(enum metrics_hist, double value);
/*
 * One answered request: route is its slot in the route table (0 to
 * METRICS_ROUTES - 1), or -1 when no route took it.
 */
void	metrics_request(int route, int status, double seconds);

uint64_t metrics_counter_get(enum metrics_counter);
int64_t	metrics_gauge_get(enum metrics_gauge);
void	metrics_hist_get(enum metrics_hist, struct metrics_hist_read *);
/* route -1: the requests no route took. */
uint64_t metrics_requests_get(int route, int status);
void	metrics_duration_get(int route, struct metrics_hist_read *);

/* The process's resident memory in bytes (/proc/self/statm); 0 if unknown. */
uint64_t metrics_rss_bytes(void);

/* view_metrics.c: all of the above, said in Prometheus' text format. */
struct store_stats;
struct metrics_page {
	/* The route table's size, and the pattern in each of its slots. */
	int			 nroutes;
	const char		*(*route)(int slot);
	const struct store_stats *store;	/* NULL: store figures unknown */
};
/*
 * The text of GET /metrics (format 0.0.4), malloc'd for the caller, with
 * its length in *len; NULL when memory ran out.
 */
char	*view_metrics(const struct metrics_page *, size_t *len);

#endif
