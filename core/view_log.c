/*
 * Views of the verifiable log (SPEC 4.3, 4.5): signed tree heads, proofs
 * and the signing keys.
 */
#include <json-c/json.h>

#include "tlog.h"
#include "view.h"

/* A string member, or null for a NULL s. */
static void
view_log_string(struct json_object *o, const char *key, const char *s)
{
	if (s != NULL)
		view_put(o, key, view_string(s));
	else
		view_put_null(o, key);
}

/*
 * The signed note of a head of exactly the size answered, or null: the
 * API calls it "checkpoint", the name C2SP gives a signed tree head.
 */
static void
view_log_note(struct json_object *o, const struct store_sth *h)
{
	view_log_string(o, "checkpoint", h->note[0] != '\0' ? h->note : NULL);
}

struct json_object *
view_tree_head(const struct store_sth *h)
{
	struct json_object	*o;

	if ((o = view_object()) == NULL)
		return NULL;
	view_put(o, "treeSize", view_u64(h->size));
	view_put(o, "rootHash", view_hash(h->root));
	view_put(o, "signedAt", view_time(h->signed_ms));
	view_put(o, "keyId", view_string(h->key_id));
	view_log_note(o, h);
	return o;
}

struct json_object *
view_inclusion(const struct tlog_inclusion *in)
{
	struct json_object	*o;

	if ((o = view_object()) == NULL)
		return NULL;
	view_put(o, "leafIndex", view_u64(in->index));
	view_put(o, "leafHash", view_hash(in->leaf));
	view_put(o, "treeSize", view_u64(in->size));
	view_put(o, "rootHash", view_hash(in->root));
	view_put(o, "inclusionProof", view_hashes(in->proof, in->len));
	view_log_note(o, &in->head);
	return o;
}

struct json_object *
view_consistency(const struct tlog_consistency *cs)
{
	struct json_object	*o;

	if ((o = view_object()) == NULL)
		return NULL;
	view_put(o, "from", view_u64(cs->from));
	view_put(o, "to", view_u64(cs->to));
	view_put(o, "fromRootHash", view_hash(cs->from_root));
	view_put(o, "toRootHash", view_hash(cs->to_root));
	view_put(o, "consistencyProof", view_hashes(cs->proof, cs->len));
	view_log_note(o, &cs->head);
	return o;
}

/* The rotation member: how a key came to sign (SPEC 4.5). */
static const char *
view_key_rotation(enum store_rotation r)
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

static struct json_object *
view_key(const struct store_signkey *k)
{
	struct json_object	*o;
	int			 endorsed;

	if ((o = view_object()) == NULL)
		return NULL;
	view_put(o, "keyId", view_string(k->key_id));
	view_put(o, "name", view_string(k->name));
	view_put(o, "alg", view_string(k->alg));
	view_put(o, "pem", view_string(k->pem));
	view_put(o, "validFrom", view_time(k->valid_from_ms));
	if (k->valid_to_ms != 0)
		view_put(o, "validTo", view_time(k->valid_to_ms));
	else
		view_put_null(o, "validTo");
	endorsed = k->rotation == STORE_ROTATION_ENDORSED;
	view_put(o, "rotation", view_string(view_key_rotation(k->rotation)));
	view_log_string(o, "replaces", k->replaces[0] != '\0' ?
	    k->replaces : NULL);
	view_log_string(o, "endorsedBy", endorsed ? k->replaces : NULL);
	if (endorsed)
		view_put(o, "endorsement", view_base64(k->endorsement,
		    k->endorsement_len));
	else
		view_put_null(o, "endorsement");
	return o;
}

struct json_object *
view_keys(const struct tlog_keys *keys)
{
	struct json_object	*a;
	size_t			 i;

	if ((a = view_array()) == NULL)
		return NULL;
	for (i = 0; i < keys->n; i++)
		view_push(a, view_key(&keys->list[i]));
	return a;
}

struct json_object *
view_log_keys(const struct tlog_keys *keys)
{
	struct json_object	*o;

	if ((o = view_object()) == NULL)
		return NULL;
	view_put(o, "keys", view_keys(keys));
	return o;
}
