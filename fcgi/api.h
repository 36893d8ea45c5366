/* The handlers behind the routes of app.c, one group per file. */
#ifndef TALLY_API_H
#define TALLY_API_H

#include "../core/balance.h"
#include "app.h"

/* api_system.c */
void	api_healthz(struct ctx *);
void	api_readyz(struct ctx *);
void	api_whoami(struct ctx *);
void	api_metrics(struct ctx *);

/* api_delta.c */
void	api_emit(struct ctx *);
void	api_emit_batch(struct ctx *);
void	api_delta_status(struct ctx *);

/* api_log.c: public */
void	api_log_checkpoint(struct ctx *);
void	api_log_inclusion(struct ctx *);
void	api_log_consistency(struct ctx *);
void	api_log_keys(struct ctx *);

/* api_tiles.c: public, the log as C2SP tlog-tiles */
void	api_log_note(struct ctx *);
void	api_log_tile(struct ctx *);

/* api_balance.c */
void	api_derive(struct ctx *);
void	api_compare(struct ctx *);

/* api_checkpoint.c */
void	api_checkpoint_create(struct ctx *);
void	api_checkpoints(struct ctx *);
void	api_checkpoint_get(struct ctx *);
void	api_receipt(struct ctx *);
/* Streams r's receipt bundle (r says whose and which), or the refusal. */
struct receipt;
void	api_receipt_send(struct ctx *, struct receipt *r);
void	api_invoice_proof(struct ctx *);
void	api_verify(struct ctx *);

/* api_customers.c */
void	api_customers(struct ctx *);
void	api_customer(struct ctx *);
void	api_usage(struct ctx *);
void	api_gaps(struct ctx *);

/* api_webhooks.c */
void	api_webhooks(struct ctx *);
void	api_webhook_retry(struct ctx *);

/* api_shared.c: the Shared Record (SPEC 8), public, by link and code */
void	api_shared_summary(struct ctx *);
void	api_shared_periods(struct ctx *);
void	api_shared_deltas(struct ctx *);
void	api_shared_receipt(struct ctx *);
void	api_shared_export(struct ctx *);
void	api_shared_compare(struct ctx *);
/* api_shared.c: a customer's share, for the vendor */
void	api_share_create(struct ctx *);
void	api_share_get(struct ctx *);
void	api_share_rotate(struct ctx *);
void	api_share_revoke(struct ctx *);

/* api_common.c: each returns 0 (or -1) after answering the refusal. */
/* Refuses customer (read-only) keys with 403. */
int	api_vendor_only(struct ctx *);
/*
 * Refuses a customer key reading another customer (403), and a customer
 * id that cannot exist (404 CUSTOMER_NOT_FOUND).
 */
int	api_customer_access(struct ctx *, const char *customer_id);
/* A query parameter as a decimal uint64: 1 present, 0 absent, -1. */
int	api_query_u64(struct ctx *, const char *name, uint64_t *out);
/* The same, also refusing a value outside min..max. */
int	api_query_range(struct ctx *, const char *name, uint64_t min,
	    uint64_t max, uint64_t *out);
/* Scope fields for balance_scope_parse, from the query or the body. */
int	api_query_field(void *ctx, const char *name, char *out, size_t outlen);
int	api_body_field(void *ctx, const char *name, char *out, size_t outlen);
/* The request's scope; -1 after answering 400. */
int	api_scope(struct ctx *, int (*field)(void *, const char *, char *,
	    size_t), struct balance_scope *);
/* period=YYYY-MM in the query into *month (-1 if absent); -1 on 400. */
int	api_query_period(struct ctx *, int *month);
/*
 * A list paged by limit and offset: a walk offers each item it would
 * list to api_page_wants, which counts it and says whether it is on the
 * page; the answer is {name: [...], pagination: {limit, offset, total}}.
 */
struct api_page {
	uint64_t		 limit, offset, total;
	struct json_object	*list;
};
/* limit (1 to max, else dflt) and offset from the query; -1 on 400. */
int	api_page_query(struct ctx *, struct api_page *, uint64_t dflt,
	    uint64_t max);
/* Empties the page, for a walk that starts (again); a store code. */
int	api_page_start(struct api_page *);
int	api_page_wants(struct api_page *);
void	api_page_answer(struct ctx *, struct api_page *, const char *name);
/*
 * A balance_pager's two ends for a page of recorded deltas, written as
 * text (view_records_begin, view_records_add) into the struct sbuf page;
 * view_records_end makes the list of it.
 */
int	api_records_begin(void *page);
int	api_records_add(struct store_delta *, void *page);
/* An amount as text: 0, or -1 after a 400 naming name. */
int	api_amount(struct ctx *, const char *name, const char *text,
	    decimal_t *);
/*
 * An amount in the body: a JSON number, or a string holding one (some
 * clients send amounts as strings to keep them exact).  1 present, 0
 * absent (and not required), -1 after answering.
 */
int	api_body_amount(struct ctx *, struct json_object *obj,
	    const char *name, const char *label, int required, decimal_t *);
/* 503: the store failed or stayed busy. */
void	api_unavailable(struct ctx *);
/*
 * The one answer to a reading of customer's balance in scope that came
 * to r, not BALANCE_OK: 404, 503, or for BALANCE_TOO_WIDE a 400
 * SCOPE_TOO_WIDE on wide_field, its message saying the caller's limit.
 * A NULL scope (one that cannot start from a checkpoint) or wide_fmt (a
 * reading that has no limit) makes that result a 503: it cannot happen.
 */
void	api_balance_fail(struct ctx *, enum balance_result r,
	    const char *customer, const struct balance_scope *scope,
	    const char *wide_field, const char *wide_fmt, ...)
	    __attribute__((format(printf, 6, 7)));

#endif
