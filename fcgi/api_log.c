/*
 * The verifiable log (SPEC 4.3): signed tree heads, inclusion and
 * consistency proofs, and the signing keys.  Public, no key needed:
 * everything here is a hash, a size, a signature or a public key.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../common/hex.h"
#include "../core/tlog.h"
#include "../core/view.h"
#include "api.h"

/* Answers that the read transactions below ask their handler to give. */
enum {
	LOG_NO_HEAD = STORE_USER,	/* nothing signed yet */
	LOG_BEYOND_HEAD,		/* a size past the newest head */
	LOG_NO_LEAF,			/* unknown leaf hash */
	LOG_INDEX_RANGE,		/* leaf index >= tree size */
	LOG_FROM_RANGE			/* from > to */
};

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

/* The signed note of a head of exactly this size, or null. */
static struct json_object *
api_note_json(const struct store_sth *h)
{
	return h->note[0] != '\0' ? json_object_new_string(h->note) : NULL;
}

/* The store failed: a transient condition, as far as a client can tell. */
static void
api_log_unavailable(struct ctx *c, int rc)
{
	response_error(c->resp, API_SERVICE_UNAVAILABLE, NULL, NULL, "%s",
	    rc == LOG_NO_HEAD ? "no tree head has been signed yet" :
	    "the log could not be read, try again");
}

static int
api_latest_txn(struct store_txn *t, void *arg)
{
	int	rc = store_sth_latest(t, arg);

	return rc == STORE_NOTFOUND ? LOG_NO_HEAD : rc;
}

void
api_log_checkpoint(struct ctx *c)
{
	struct store_sth	 h;
	struct json_object	*data;
	int			 rc;

	if ((rc = store_read(c->app->store, api_latest_txn, &h)) !=
	    STORE_OK) {
		api_log_unavailable(c, rc);
		return;
	}
	data = json_object_new_object();
	json_object_object_add(data, "treeSize",
	    json_object_new_uint64(h.size));
	json_object_object_add(data, "rootHash", view_hash(h.root));
	json_object_object_add(data, "signedAt", view_time(h.signed_ms));
	json_object_object_add(data, "keyId", json_object_new_string(h.key_id));
	json_object_object_add(data, "checkpoint", api_note_json(&h));
	response_success(c->resp, 200, data);
}

/*
 * Sizes default to the newest head and may not pass it: a proof is for
 * a tree someone signed.  The head of exactly that size, if any, comes
 * along so a client can check the root it is given.
 */
static int
api_tree_size(struct store_txn *t, int given, uint64_t *size,
    struct store_sth *h)
{
	int	rc;

	if ((rc = store_sth_latest(t, h)) != STORE_OK)
		return rc == STORE_NOTFOUND ? LOG_NO_HEAD : rc;
	if (!given)
		*size = h->size;
	else if (*size > h->size)
		return LOG_BEYOND_HEAD;
	else if (*size != h->size &&
	    (rc = store_sth_get(t, *size, h)) != STORE_OK) {
		if (rc != STORE_NOTFOUND)
			return rc;
		memset(h, 0, sizeof(*h));
	}
	return STORE_OK;
}

struct inclusion {
	int			 by_hash, size_given;
	uint64_t		 index, size;
	merkle_hash		 leaf, root;
	merkle_hash		 proof[MERKLE_PROOF_MAX];
	size_t			 len;
	struct store_sth	 head;
};

static int
api_inclusion_txn(struct store_txn *t, void *arg)
{
	struct inclusion	*in = arg;
	int			 rc;

	if ((rc = api_tree_size(t, in->size_given, &in->size, &in->head)) !=
	    STORE_OK)
		return rc;
	if (in->by_hash && (rc = store_leaf_find(t, in->leaf, &in->index)) !=
	    STORE_OK)
		return rc == STORE_NOTFOUND ? LOG_NO_LEAF : rc;
	if (in->index >= in->size)
		return LOG_INDEX_RANGE;
	if (!in->by_hash && (rc = store_node_get(t, 0, in->index, in->leaf)) !=
	    STORE_OK)
		return rc;
	if ((rc = merkle_inclusion_proof(tlog_node, t, in->index, in->size,
	    in->proof, &in->len)) != 0 ||
	    (rc = merkle_root(tlog_node, t, in->size, in->root)) != 0)
		return rc < 0 ? STORE_CORRUPT : rc;
	return STORE_OK;
}

/* Answers a failed proof lookup; the messages name the limit broken. */
static void
api_log_refuse(struct ctx *c, int rc, const char *field, uint64_t size)
{
	switch (rc) {
	case LOG_BEYOND_HEAD:
		response_error(c->resp, API_VALIDATION_ERROR, field, NULL,
		    "%s is beyond the newest signed tree head", field);
		break;
	case LOG_NO_LEAF:
		response_error(c->resp, API_NOT_FOUND, "leafHash", NULL,
		    "no leaf with this hash in a signed tree head");
		break;
	case LOG_INDEX_RANGE:
		response_error(c->resp, API_VALIDATION_ERROR, "index", NULL,
		    "the leaf is not in a tree of size %llu",
		    (unsigned long long)size);
		break;
	case LOG_FROM_RANGE:
		response_error(c->resp, API_VALIDATION_ERROR, "from", NULL,
		    "from must be at least 1 and at most to");
		break;
	default:
		api_log_unavailable(c, rc);
	}
}

void
api_log_inclusion(struct ctx *c)
{
	struct inclusion	*in;
	struct json_object	*data;
	int			 by_index, rc;

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
	if ((rc = store_read(c->app->store, api_inclusion_txn, in)) !=
	    STORE_OK) {
		api_log_refuse(c, rc, "treeSize", in->size);
		goto out;
	}
	data = json_object_new_object();
	json_object_object_add(data, "leafIndex",
	    json_object_new_uint64(in->index));
	json_object_object_add(data, "leafHash", view_hash(in->leaf));
	json_object_object_add(data, "treeSize",
	    json_object_new_uint64(in->size));
	json_object_object_add(data, "rootHash", view_hash(in->root));
	json_object_object_add(data, "inclusionProof",
	    view_hashes(in->proof, in->len));
	json_object_object_add(data, "checkpoint", api_note_json(&in->head));
	response_success(c->resp, 200, data);
out:
	free(in);
}

struct consistency {
	int			 to_given;
	uint64_t		 from, to;
	merkle_hash		 from_root, to_root;
	merkle_hash		 proof[MERKLE_PROOF_MAX];
	size_t			 len;
	struct store_sth	 head;
};

static int
api_consistency_txn(struct store_txn *t, void *arg)
{
	struct consistency	*cs = arg;
	int			 rc;

	if ((rc = api_tree_size(t, cs->to_given, &cs->to, &cs->head)) !=
	    STORE_OK)
		return rc;
	if (cs->from < 1 || cs->from > cs->to)
		return LOG_FROM_RANGE;
	if ((rc = merkle_consistency_proof(tlog_node, t, cs->from, cs->to,
	    cs->proof, &cs->len)) != 0 ||
	    (rc = merkle_root(tlog_node, t, cs->from, cs->from_root)) != 0 ||
	    (rc = merkle_root(tlog_node, t, cs->to, cs->to_root)) != 0)
		return rc < 0 ? STORE_CORRUPT : rc;
	return STORE_OK;
}

void
api_log_consistency(struct ctx *c)
{
	struct consistency	*cs;
	struct json_object	*data;
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
	if ((rc = store_read(c->app->store, api_consistency_txn, cs)) !=
	    STORE_OK) {
		api_log_refuse(c, rc, "to", cs->to);
		goto out;
	}
	data = json_object_new_object();
	json_object_object_add(data, "from", json_object_new_uint64(cs->from));
	json_object_object_add(data, "to", json_object_new_uint64(cs->to));
	json_object_object_add(data, "fromRootHash",
	    view_hash(cs->from_root));
	json_object_object_add(data, "toRootHash", view_hash(cs->to_root));
	json_object_object_add(data, "consistencyProof",
	    view_hashes(cs->proof, cs->len));
	json_object_object_add(data, "checkpoint", api_note_json(&cs->head));
	response_success(c->resp, 200, data);
out:
	free(cs);
}

/* The rotation member: how a key came to sign (SPEC 4.5). */
static const char *
api_key_rotation(enum store_rotation r)
{
	switch (r) {
	case STORE_ROTATION_GENESIS:
		return "genesis";
	case STORE_ROTATION_ENDORSED:
		return "endorsed";
	case STORE_ROTATION_UNENDORSED:
		return "unendorsed";
	default:
		return "unrecorded";	/* signed before endorsements */
	}
}

static int
api_key_json(const struct store_signkey *k, void *arg)
{
	struct json_object	*o = json_object_new_object();
	int			 endorsed;

	json_object_object_add(o, "keyId", json_object_new_string(k->key_id));
	json_object_object_add(o, "name", json_object_new_string(k->name));
	json_object_object_add(o, "alg", json_object_new_string(k->alg));
	json_object_object_add(o, "pem", json_object_new_string(k->pem));
	json_object_object_add(o, "validFrom",
	    view_time(k->valid_from_ms));
	json_object_object_add(o, "validTo", k->valid_to_ms != 0 ?
	    view_time(k->valid_to_ms) : NULL);
	endorsed = k->rotation == STORE_ROTATION_ENDORSED;
	json_object_object_add(o, "rotation",
	    json_object_new_string(api_key_rotation(k->rotation)));
	json_object_object_add(o, "replaces", k->replaces[0] != '\0' ?
	    json_object_new_string(k->replaces) : NULL);
	json_object_object_add(o, "endorsedBy", endorsed ?
	    json_object_new_string(k->replaces) : NULL);
	json_object_object_add(o, "endorsement", endorsed ?
	    view_base64(k->endorsement, k->endorsement_len) : NULL);
	json_object_array_add(arg, o);
	return 0;
}

int
api_keys_array(struct store_txn *t, struct json_object **out)
{
	int	rc;

	if ((*out = json_object_new_array()) == NULL)
		return STORE_NOMEM;
	if ((rc = store_signkey_each(t, api_key_json, *out)) != STORE_OK) {
		json_object_put(*out);
		*out = NULL;
	}
	return rc;
}

static int
api_keys_txn(struct store_txn *t, void *arg)
{
	json_object_put(*(struct json_object **)arg);	/* a retry */
	return api_keys_array(t, arg);
}

void
api_log_keys(struct ctx *c)
{
	struct json_object	*keys = NULL, *data;
	int			 rc;

	if ((rc = store_read(c->app->store, api_keys_txn, &keys)) !=
	    STORE_OK) {
		json_object_put(keys);
		api_log_unavailable(c, rc);
		return;
	}
	data = json_object_new_object();
	json_object_object_add(data, "keys", keys);
	response_success(c->resp, 200, data);
}
