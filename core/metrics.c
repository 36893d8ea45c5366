#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "metrics.h"

/*
 * A histogram's buckets are kept apart (not cumulated) so that one
 * observation is one add; metrics_hist_get cumulates them.  Its sum is
 * kept in millionths, an integer, since C11 has no atomic add on a
 * double.
 */
struct hist {
	_Atomic uint64_t	bucket[METRICS_BUCKETS_MAX + 1];
	_Atomic uint64_t	count;
	_Atomic uint64_t	sum_micro;
};

/* Request durations: 0.5 ms to 10 s, the span of tallyd's answers. */
static const double	metrics_seconds[] = { 0.0005, 0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
/* Deltas in one commit, up to the ledger's bound of 8192. */
static const double	metrics_group[] = { 1, 2, 4, 8, 16, 32, 64, 128, 256,
	512, 1024, 2048, 4096, 8192 };
/* SPEC 3.3 wants VERIFIED within 1 s: the buckets straddle it. */
static const double	metrics_lag[] = { 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10, 30, 60, 300 };

#define NB(a)	((int)(sizeof(a) / sizeof((a)[0])))

static const struct {
	const double	*bounds;
	int		 n;
} metrics_shapes[METRICS_HIST_COUNT] = {
	[METRICS_GROUP_SIZE] =		{ metrics_group, NB(metrics_group) },
	[METRICS_FLUSH_SECONDS] =	{ metrics_seconds, NB(metrics_seconds) },
	[METRICS_VERIFY_LAG_SECONDS] =	{ metrics_lag, NB(metrics_lag) },
};

#define STATUSES	(METRICS_STATUS_MAX - METRICS_STATUS_MIN + 1)

static _Atomic uint64_t	metrics_counters[METRICS_COUNTER_COUNT];
static _Atomic int64_t	metrics_gauges[METRICS_GAUGE_COUNT];
static struct hist	metrics_hists[METRICS_HIST_COUNT];
/* Slot METRICS_ROUTES holds the requests no route took. */
static _Atomic uint64_t	metrics_status[METRICS_ROUTES + 1][STATUSES];
static struct hist	metrics_durations[METRICS_ROUTES + 1];

void
metrics_count(enum metrics_counter c, uint64_t n)
{
	atomic_fetch_add_explicit(&metrics_counters[c], n,
	    memory_order_relaxed);
}

void
metrics_gauge_add(enum metrics_gauge g, int64_t delta)
{
	atomic_fetch_add_explicit(&metrics_gauges[g], delta,
	    memory_order_relaxed);
}

void
metrics_gauge_set(enum metrics_gauge g, int64_t value)
{
	atomic_store_explicit(&metrics_gauges[g], value, memory_order_relaxed);
}

static void
metrics_hist_add(struct hist *h, const double *bounds, int n, double value)
{
	int	i;

	for (i = 0; i < n && value > bounds[i]; i++)
		;
	atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
	if (value > 0)
		atomic_fetch_add_explicit(&h->sum_micro,
		    (uint64_t)(value * 1e6 + 0.5), memory_order_relaxed);
}

void
metrics_observe(enum metrics_hist which, double value)
{
	metrics_hist_add(&metrics_hists[which], metrics_shapes[which].bounds,
	    metrics_shapes[which].n, value);
}

static int
metrics_slot(int route)
{
	return route < 0 || route >= METRICS_ROUTES ? METRICS_ROUTES : route;
}

void
metrics_request(int route, int status, double seconds)
{
	int	slot = metrics_slot(route);

	if (status >= METRICS_STATUS_MIN && status <= METRICS_STATUS_MAX)
		atomic_fetch_add_explicit(
		    &metrics_status[slot][status - METRICS_STATUS_MIN], 1,
		    memory_order_relaxed);
	metrics_hist_add(&metrics_durations[slot], metrics_seconds,
	    NB(metrics_seconds), seconds);
}

uint64_t
metrics_counter_get(enum metrics_counter c)
{
	return atomic_load_explicit(&metrics_counters[c],
	    memory_order_relaxed);
}

int64_t
metrics_gauge_get(enum metrics_gauge g)
{
	return atomic_load_explicit(&metrics_gauges[g], memory_order_relaxed);
}

/*
 * Reads while others add: the count is read last and raised to the sum
 * of the buckets if need be, so that the +Inf bucket is never below a
 * finite one, as Prometheus requires.
 */
static void
metrics_hist_read(struct hist *h, const double *bounds, int n,
    struct metrics_hist_read *out)
{
	uint64_t	run = 0;
	int		i;

	out->bounds = bounds;
	out->nbounds = n;
	for (i = 0; i < n; i++) {
		run += atomic_load_explicit(&h->bucket[i],
		    memory_order_relaxed);
		out->bucket[i] = run;
	}
	run += atomic_load_explicit(&h->bucket[n], memory_order_relaxed);
	out->count = atomic_load_explicit(&h->count, memory_order_relaxed);
	if (out->count < run)
		out->count = run;
	out->sum = (double)atomic_load_explicit(&h->sum_micro,
	    memory_order_relaxed) / 1e6;
}

void
metrics_hist_get(enum metrics_hist which, struct metrics_hist_read *out)
{
	metrics_hist_read(&metrics_hists[which], metrics_shapes[which].bounds,
	    metrics_shapes[which].n, out);
}

uint64_t
metrics_requests_get(int route, int status)
{
	if (status < METRICS_STATUS_MIN || status > METRICS_STATUS_MAX)
		return 0;
	return atomic_load_explicit(&metrics_status[metrics_slot(route)]
	    [status - METRICS_STATUS_MIN], memory_order_relaxed);
}

void
metrics_duration_get(int route, struct metrics_hist_read *out)
{
	metrics_hist_read(&metrics_durations[metrics_slot(route)],
	    metrics_seconds, NB(metrics_seconds), out);
}

uint64_t
metrics_rss_bytes(void)
{
	FILE			*f;
	unsigned long long	 size, resident;
	long			 page = sysconf(_SC_PAGESIZE);
	int			 n;

	if ((f = fopen("/proc/self/statm", "re")) == NULL)
		return 0;
	n = fscanf(f, "%llu %llu", &size, &resident);
	fclose(f);
	return n == 2 && page > 0 ? (uint64_t)resident * (uint64_t)page : 0;
}
