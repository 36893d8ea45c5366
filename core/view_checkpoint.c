/*
 * Views of checkpoints and receipts (SPEC 3.6-3.8): a checkpoint, a page
 * of checkpoint-all, the invoice proof, the public verification, and a
 * receipt bundle in the pieces the API streams.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../common/hex.h"
#include "../common/sbuf.h"
#include "../common/timefmt.h"
#include "checkpoint.h"
#include "receipt.h"
#include "share.h"
#include "view.h"

struct json_object *
view_checkpoint(const struct store_checkpoint *c)
{
	struct json_object	*o;
	char			 period[TIMEFMT_PERIOD_LEN];

	if ((o = view_object()) == NULL)
		return NULL;
	timefmt_period(c->month, period);
	view_put(o, "checkpointId", view_string(c->id));
	view_put(o, "status", view_string("VERIFIED"));
	view_put(o, "customerId", view_string(c->customer_id));
	view_put(o, "period", view_string(period));
	view_put(o, "startDate", view_time(timefmt_month_start(c->month)));
	view_put(o, "endDate", view_time(timefmt_month_start(c->month + 1)));
	if (c->version >= 2) {
		view_put(o, "firstSequence", view_u64(c->first_seq));
		view_put(o, "lastSequence", view_u64(c->last_seq));
	}
	view_put_exact(o, "startingBalance", c->starting);
	view_put(o, "deltasCount", view_u64(c->count));
	view_put_exact(o, "netChange", c->net);
	view_put_exact(o, "endingBalance", c->starting + c->net);
	view_put(o, "proofRoot", view_hash(c->proof_root));
	view_put(o, "merkleRoot", view_hash(c->proof_root));
	view_put(o, "itemsRoot", view_hash(c->proof_root));
	if (c->previous[0] != '\0')
		view_put(o, "previousCheckpointId", view_string(c->previous));
	else
		view_put_null(o, "previousCheckpointId");
	view_put(o, "treeSize", view_u64(c->tree_size));
	view_put(o, "rootHash", view_hash(c->root_hash));
	view_put(o, "keyId", view_string(c->key_id));
	view_put(o, "alg", view_string(c->alg));
	view_put(o, "signature", view_base64(c->sig, c->sig_len));
	view_put(o, "statement", view_base64(c->statement,
	    strlen(c->statement)));
	view_put(o, "createdAt", view_time(c->created_ms));
	return o;
}

struct json_object *
view_checkpoint_page(const struct checkpoint_job *job)
{
	struct json_object	*o, *list;
	size_t			 i;

	if ((o = view_object()) == NULL)
		return NULL;
	list = view_array();
	for (i = 0; i < job->n; i++)
		view_push(list, view_checkpoint(&job->list[i]));
	view_put(o, "checkpoints", list);
	/* A page's count is its own: the rest was not walked. */
	view_put(o, "count", view_u64(job->page ? job->n : job->count));
	if (job->count > job->n)
		view_put(o, "next", view_string(job->list[job->n - 1].
		    customer_id));
	else
		view_put_null(o, "next");
	return o;
}

struct json_object *
view_invoice_proof(const struct store_checkpoint *cp, const char *base,
    const struct share_invoice *share)
{
	struct json_object	*o;
	char			 url[800], root[HEX_0X_SIZE(STORE_HASH_LEN)];
	char			 period[TIMEFMT_PERIOD_LEN];

	if ((o = view_object()) == NULL)
		return NULL;
	hex_encode_0x(cp->proof_root, STORE_HASH_LEN, root);
	timefmt_period(cp->month, period);
	view_put(o, "customerId", view_string(cp->customer_id));
	view_put(o, "period", view_string(period));
	view_put(o, "checkpointId", view_string(cp->id));
	view_put(o, "proofRoot", view_string(root));
	snprintf(url, sizeof(url), "%s/api/v1/verify/%s", base, root);
	view_put(o, "verifyUrl", view_string(url));
	view_put(o, "verificationApiUrl", view_string(url));
	snprintf(url, sizeof(url), "%s/api/v1/balance/receipt/%s"
	    "?checkpointId=%s", base, cp->customer_id, cp->id);
	view_put(o, "receiptUrl", view_string(url));
	if (share->has_share) {
		/* The customer's page: what an invoice prints (SPEC 8). */
		view_put_optional(o, "accessHint", share->hint);
		view_put(o, "customerLinkUrl", view_string(share->url));
		view_put_optional(o, "customerLinkHost", share->host);
		return o;
	}
	view_put(o, "accessHint", view_string("fetch receiptUrl with a "
	    "read-only key for this customer (X-Api-Key) and check it "
	    "offline with tally-verify"));
	view_put_null(o, "customerLinkUrl");
	view_put_null(o, "customerLinkHost");
	return o;
}

struct json_object *
view_verify(const struct receipt_check *ck)
{
	const struct store_checkpoint *cp = &ck->cp;
	struct json_object	*o;
	char			 period[TIMEFMT_PERIOD_LEN];

	if ((o = view_object()) == NULL)
		return NULL;
	timefmt_period(cp->month, period);
	view_put(o, "verified", view_bool(ck->verified));
	view_put(o, "proofRoot", view_hash(cp->proof_root));
	view_put(o, "checkpointId", view_string(cp->id));
	view_put(o, "period", view_string(period));
	view_put(o, "recordedAt", view_time(cp->created_ms));
	view_put(o, "treeSize", view_u64(cp->tree_size));
	view_put(o, "rootHash", view_hash(cp->root_hash));
	view_put(o, "keyId", view_string(cp->key_id));
	view_put(o, "alg", view_string(cp->alg));
	/*
	 * A version 1 statement has no salt: its hash and signature would
	 * confirm a guessed customer and amount, so they stay private.
	 */
	if (cp->version >= 2)
		view_put(o, "signature", view_base64(cp->sig, cp->sig_len));
	else
		view_put_null(o, "signature");
	view_put_null(o, "statement");
	if (cp->version >= 2)
		view_put(o, "statementHash", view_hash(ck->statement_hash));
	else
		view_put_null(o, "statementHash");
	return o;
}

struct json_object *
view_verify_unknown(void)
{
	struct json_object	*o;

	if ((o = view_object()) != NULL)
		view_put(o, "verified", view_bool(0));
	return o;
}

/* Appends obj's text (consumed) to sb, less its last n bytes; 0 or -1. */
static int
view_receipt_add(struct sbuf *sb, struct json_object *obj, size_t less)
{
	char	*text;
	size_t	 len;

	if ((text = view_text(obj, &len)) == NULL || len < less) {
		free(text);
		return -1;
	}
	sbuf_add(sb, text, len - less);
	free(text);
	return sb->oom ? -1 : 0;
}

int
view_receipt_head(const struct receipt *r, struct sbuf *sb)
{
	struct json_object	*o;

	if ((o = view_object()) == NULL)
		return -1;
	/* The format is the statement's version (docs/receipt.md). */
	view_put(o, "version", view_i64(r->cp.version));
	view_put(o, "checkpointId", view_string(r->cp.id));
	view_put(o, "statement", view_base64(r->cp.statement,
	    strlen(r->cp.statement)));
	view_put(o, "signature", view_base64(r->cp.sig, r->cp.sig_len));
	view_put(o, "keyId", view_string(r->cp.key_id));
	view_put(o, "alg", view_string(r->cp.alg));
	view_put(o, "checkpoint", view_checkpoint(&r->cp));
	view_put(o, "treeHead", view_string(r->head.note));
	/* The members without the closing brace, then the deltas. */
	if (view_receipt_add(sb, o, 1) < 0)
		return -1;
	sbuf_adds(sb, ",\"deltas\":[");
	return sb->oom ? -1 : 0;
}

int
view_receipt_delta(const struct receipt_delta *rd, struct sbuf *sb)
{
	struct json_object	*o;

	if ((o = view_object()) == NULL)
		return -1;
	view_put(o, "recordId", view_string(rd->d->record_id));
	view_put(o, "logIndex", view_u64(rd->d->log_index));
	view_put(o, "leafHash", view_hash(rd->d->leaf_hash));
	view_put(o, "contentHash", view_hash(rd->d->content_hash));
	view_put(o, "leaf", view_stored(rd->d->leaf_data));
	view_put(o, "inclusionProof", view_hashes(rd->proof, rd->len));
	if (rd->carried_in)
		view_put(o, "carriedIn", view_bool(1));
	if (!rd->first)
		sbuf_addc(sb, ',');
	return view_receipt_add(sb, o, 0);
}

int
view_receipt_tail(const struct receipt *r, struct sbuf *sb)
{
	sbuf_adds(sb, "],\"keys\":");
	if (view_receipt_add(sb, view_keys(&r->keys), 0) < 0)
		return -1;
	sbuf_addc(sb, '}');
	return sb->oom ? -1 : 0;
}
