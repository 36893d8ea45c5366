/*
 * GET /metrics in Prometheus' text exposition format, version 0.0.4.  It
 * is a view as the JSON ones are: the facts of metrics.c and the store,
 * said in one wire format; so it lives with them, and fcgi/ only hands
 * the text out.  Names follow Prometheus' conventions: a unit suffix in
 * base units (_seconds, _bytes), _total on counters, and a HELP and TYPE
 * line before each family.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../common/sbuf.h"
#include "../store/store.h"
#include "metrics.h"

static void
view_metrics_family(struct sbuf *b, const char *name, const char *type,
    const char *help)
{
	sbuf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
view_metrics_u64(struct sbuf *b, const char *name, const char *type,
    const char *help, uint64_t v)
{
	view_metrics_family(b, name, type, help);
	sbuf_addf(b, "%s %" PRIu64 "\n", name, v);
}

/* A histogram's series; labels is "" or `route="...",` (comma last). */
static void
view_metrics_hist(struct sbuf *b, const char *name, const char *labels,
    const struct metrics_hist_read *h)
{
	int	i;

	for (i = 0; i < h->nbounds; i++)
		sbuf_addf(b, "%s_bucket{%sle=\"%g\"} %" PRIu64 "\n", name,
		    labels, h->bounds[i], h->bucket[i]);
	sbuf_addf(b, "%s_bucket{%sle=\"+Inf\"} %" PRIu64 "\n", name, labels,
	    h->count);
	/* Without the trailing comma, the labels of _sum and _count. */
	if (*labels != '\0')
		sbuf_addf(b, "%s_sum{%.*s} %.6f\n%s_count{%.*s} %" PRIu64 "\n",
		    name, (int)strlen(labels) - 1, labels, h->sum, name,
		    (int)strlen(labels) - 1, labels, h->count);
	else
		sbuf_addf(b, "%s_sum %.6f\n%s_count %" PRIu64 "\n", name,
		    h->sum, name, h->count);
}

/* Route patterns are the route table's: no quote or backslash in them. */
static const char *
view_metrics_route(const struct metrics_page *p, int route)
{
	return route < 0 ? "none" : p->route(route);
}

static void
view_metrics_http(struct sbuf *b, const struct metrics_page *p)
{
	struct metrics_hist_read	h;
	char				labels[160];
	uint64_t			n;
	int				route, status;

	view_metrics_family(b, "tally_http_requests_total", "counter",
	    "Requests answered, by route pattern (\"none\": no route) and "
	    "status.");
	for (route = -1; route < p->nroutes && route < METRICS_ROUTES;
	    route++)
		for (status = METRICS_STATUS_MIN; status <= METRICS_STATUS_MAX;
		    status++)
			if ((n = metrics_requests_get(route, status)) > 0)
				sbuf_addf(b, "tally_http_requests_total{route="
				    "\"%s\",status=\"%d\"} %" PRIu64 "\n",
				    view_metrics_route(p, route), status, n);
	view_metrics_family(b, "tally_http_request_duration_seconds",
	    "histogram", "Time from a request's arrival to its answer's "
	    "end, by route pattern.");
	for (route = -1; route < p->nroutes && route < METRICS_ROUTES;
	    route++) {
		metrics_duration_get(route, &h);
		if (h.count == 0)
			continue;
		snprintf(labels, sizeof(labels), "route=\"%s\",",
		    view_metrics_route(p, route));
		view_metrics_hist(b, "tally_http_request_duration_seconds",
		    labels, &h);
	}
}

static void
view_metrics_core(struct sbuf *b)
{
	static const struct {
		enum metrics_hist	 which;
		const char		*name, *help;
	} hists[] = {
		{ METRICS_GROUP_SIZE, "tally_commit_group_deltas",
		    "Deltas in one group commit of the ledger." },
		{ METRICS_FLUSH_SECONDS, "tally_commit_fsync_seconds",
		    "Time to flush the log to disk (fsync) for the groups "
		    "committed since the last flush." },
		{ METRICS_VERIFY_LAG_SECONDS, "tally_verify_lag_seconds",
		    "Time from a delta's creation to the signed tree head "
		    "that covers it (QUEUED to VERIFIED)." },
	};
	struct metrics_hist_read	h;
	size_t				i;

	view_metrics_u64(b, "tally_commit_queue_depth", "gauge",
	    "Write requests waiting for the ledger's writer.",
	    (uint64_t)metrics_gauge_get(METRICS_QUEUE_DEPTH));
	for (i = 0; i < sizeof(hists) / sizeof(hists[0]); i++) {
		view_metrics_family(b, hists[i].name, "histogram",
		    hists[i].help);
		metrics_hist_get(hists[i].which, &h);
		view_metrics_hist(b, hists[i].name, "", &h);
	}
	view_metrics_u64(b, "tally_log_tree_size", "gauge",
	    "Leaves covered by the newest signed tree head this process "
	    "signed (0 until it signs one).",
	    (uint64_t)metrics_gauge_get(METRICS_TREE_SIZE));
	view_metrics_u64(b, "tally_rate_limited_total", "counter",
	    "Requests refused (429) by their API key's rate limit.",
	    metrics_counter_get(METRICS_RATE_LIMITED));
	view_metrics_u64(b, "tally_cadence_refused_total", "counter",
	    "Deltas refused (429) by their customer's cadence.",
	    metrics_counter_get(METRICS_CADENCE_REFUSED));
	view_metrics_family(b, "tally_webhook_attempts_total", "counter",
	    "Webhook delivery attempts, by outcome.");
	sbuf_addf(b, "tally_webhook_attempts_total{outcome=\"delivered\"} %"
	    PRIu64 "\n", metrics_counter_get(METRICS_WEBHOOK_DELIVERED));
	sbuf_addf(b, "tally_webhook_attempts_total{outcome=\"retry\"} %"
	    PRIu64 "\n", metrics_counter_get(METRICS_WEBHOOK_RETRIED));
	view_metrics_u64(b, "tally_webhook_failed_total", "counter",
	    "Webhook events given up on (FAILED) after their last attempt.",
	    metrics_counter_get(METRICS_WEBHOOK_FAILED));
	view_metrics_u64(b, "tally_webhook_in_flight", "gauge",
	    "Webhook attempts under way now.",
	    (uint64_t)metrics_gauge_get(METRICS_WEBHOOK_INFLIGHT));
}

static void
view_metrics_store(struct sbuf *b, const struct store_stats *s)
{
	uint64_t	looked = s->cache_hits + s->cache_misses;

	view_metrics_u64(b, "tally_bdb_cache_size_bytes", "gauge",
	    "Size of Berkeley DB's cache (cache_mb, as the environment "
	    "has it).", s->cache_bytes);
	view_metrics_u64(b, "tally_bdb_cache_hits_total", "counter",
	    "Pages found in Berkeley DB's cache.", s->cache_hits);
	view_metrics_u64(b, "tally_bdb_cache_misses_total", "counter",
	    "Pages Berkeley DB had to read from disk.", s->cache_misses);
	view_metrics_family(b, "tally_bdb_cache_hit_ratio", "gauge",
	    "Hits over lookups since the environment was created (1 "
	    "before any lookup).");
	sbuf_addf(b, "tally_bdb_cache_hit_ratio %.6f\n", looked == 0 ? 1.0 :
	    (double)s->cache_hits / (double)looked);
	view_metrics_u64(b, "tally_bdb_locks", "gauge",
	    "Locks held now in Berkeley DB's lock table.", s->locks);
	view_metrics_u64(b, "tally_bdb_locks_max", "gauge",
	    "Size of the lock table: locks it can hold.", s->locks_max);
	view_metrics_u64(b, "tally_bdb_locks_peak", "gauge",
	    "Most locks held at once since the environment was created.",
	    s->locks_peak);
	view_metrics_u64(b, "tally_bdb_lock_objects", "gauge",
	    "Objects locked now.", s->lock_objects);
	view_metrics_u64(b, "tally_bdb_lock_waits_total", "counter",
	    "Lock requests that had to wait.", s->lock_waits);
	view_metrics_u64(b, "tally_bdb_deadlocks_total", "counter",
	    "Deadlocks Berkeley DB broke.", s->deadlocks);
	view_metrics_u64(b, "tally_webhook_backlog", "gauge",
	    "Webhook events waiting for delivery (QUEUED).",
	    s->webhook_backlog);
}

char *
view_metrics(const struct metrics_page *p, size_t *len)
{
	struct sbuf	b = { 0 };

	view_metrics_http(&b, p);
	view_metrics_core(&b);
	if (p->store != NULL)
		view_metrics_store(&b, p->store);
	view_metrics_u64(&b, "process_resident_memory_bytes", "gauge",
	    "Resident memory of tallyd.", metrics_rss_bytes());
	if (b.oom) {
		sbuf_free(&b);
		return NULL;
	}
	return sbuf_take(&b, len);
}
