/*
 * The verifiable log (SPEC 4.3): signed tree heads, inclusion and
 * consistency proofs, and the signing keys.  Public, no key needed:
 * everything here is a hash, a size, a signature or a public key.
 */
#include <stdlib.h>

#include "../common/hex.h"
#include "../core/tlog.h"
#include "../core/view.h"
#include "api.h"

/* "0x" and 64 hex digits (the prefix may be left out). */
static int
api_query_hash(struct ctx *c, const char *name, uint8_t out[STORE_HASH_LEN])
{
	char	text[HEX_0X_SIZE(STORE_HASH_LEN)];
	int	rc;

	if ((rc = request_query(c->req, name, text, sizeof(text))) == 0)
		return 0;
	if (rc > 0 && hex_decode_0x(text, out, STORE_HASH_LEN,
	    HEX_0X_OPTIONAL | HEX_ANY_CASE) == 0)
		return 1;
	response_error(c->resp, API_VALIDATION_ERROR, name, NULL,
	    "%s must be a SHA-256 hash: 0x and 64 hex digits", name);
	return -1;
}

/*
 * The log's answer as HTTP, one table for every handler here; field
 * names the size a BEYOND_HEAD refers to, size the tree's.
 */
static void
api_log_refuse(struct ctx *c, enum tlog_result res, const char *field,
    uint64_t size)
{
	switch (res) {
	case TLOG_BEYOND_HEAD:
		response_error(c->resp, API_VALIDATION_ERROR, field, NULL,
		    "%s is beyond the newest signed tree head", field);
		break;
	case TLOG_NO_LEAF:
		response_error(c->resp, API_NOT_FOUND, "leafHash", NULL,
		    "no leaf with this hash in a signed tree head");
		break;
	case TLOG_INDEX_RANGE:
		response_error(c->resp, API_VALIDATION_ERROR, "index", NULL,
		    "the leaf is not in a tree of size %llu",
		    (unsigned long long)size);
		break;
	case TLOG_FROM_RANGE:
		response_error(c->resp, API_VALIDATION_ERROR, "from", NULL,
		    "from must be at least 1 and at most to");
		break;
	default:
		/* The store failed: a transient condition to a client. */
		response_error(c->resp, API_SERVICE_UNAVAILABLE, NULL, NULL,
		    "%s", res == TLOG_NO_HEAD ? "no tree head has been signed "
		    "yet" : "the log could not be read, try again");
	}
}

void
api_log_checkpoint(struct ctx *c)
{
	struct store_sth	head;
	enum tlog_result	res;

	if ((res = tlog_head_latest(c->app->store, &head)) != TLOG_OK)
		api_log_refuse(c, res, NULL, 0);
	else
		response_success(c->resp, 200, view_tree_head(&head));
}

void
api_log_inclusion(struct ctx *c)
{
	struct tlog_inclusion	*in;
	enum tlog_result	 res;
	int			 by_index;

	if ((in = calloc(1, sizeof(*in))) == NULL) {
		response_out_of_memory(c->resp);
		return;
	}
	if ((in->by_hash = api_query_hash(c, "leafHash", in->leaf)) < 0 ||
	    (by_index = api_query_u64(c, "index", &in->index)) < 0 ||
	    (in->size_given = api_query_u64(c, "treeSize", &in->size)) < 0)
		goto out;
	if (in->by_hash == by_index) {
		response_error(c->resp, API_VALIDATION_ERROR, "leafHash", NULL,
		    "give either leafHash or index");
		goto out;
	}
	if ((res = tlog_inclusion(c->app->store, in)) != TLOG_OK)
		api_log_refuse(c, res, "treeSize", in->size);
	else
		response_success(c->resp, 200, view_inclusion(in));
out:
	free(in);
}

void
api_log_consistency(struct ctx *c)
{
	struct tlog_consistency	*cs;
	enum tlog_result	 res;
	int			 rc;

	if ((cs = calloc(1, sizeof(*cs))) == NULL) {
		response_out_of_memory(c->resp);
		return;
	}
	if ((rc = api_query_u64(c, "from", &cs->from)) < 0 ||
	    (cs->to_given = api_query_u64(c, "to", &cs->to)) < 0)
		goto out;
	if (rc == 0) {
		response_error(c->resp, API_VALIDATION_ERROR, "from", NULL,
		    "from (the older tree size) is required");
		goto out;
	}
	if ((res = tlog_consistency(c->app->store, cs)) != TLOG_OK)
		api_log_refuse(c, res, "to", cs->to);
	else
		response_success(c->resp, 200, view_consistency(cs));
out:
	free(cs);
}

void
api_log_keys(struct ctx *c)
{
	struct tlog_keys	keys = { NULL, 0, 0 };
	enum tlog_result	res;

	if ((res = tlog_keys(c->app->store, &keys)) != TLOG_OK)
		api_log_refuse(c, res, NULL, 0);
	else
		response_success(c->resp, 200, view_log_keys(&keys));
	tlog_keys_free(&keys);
}
