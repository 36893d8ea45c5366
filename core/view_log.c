/*
 * Views of the verifiable log (SPEC 4.3, 4.5): signed tree heads, proofs
 * and the signing keys.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "../common/hex.h"
#include "../common/jcs.h"
#include "../common/sbuf.h"
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

/* "member": */
static void
view_log_member(struct sbuf *sb, const char *member)
{
	sbuf_addc(sb, '"');
	sbuf_adds(sb, member);
	sbuf_adds(sb, "\":");
}

static void
view_log_u64(struct sbuf *sb, const char *member, uint64_t v)
{
	char	text[24];

	snprintf(text, sizeof(text), "%" PRIu64 ",", v);
	view_log_member(sb, member);
	sbuf_adds(sb, text);
}

static void
view_log_hash(struct sbuf *sb, const uint8_t hash[STORE_HASH_LEN])
{
	char	hex[HEX_0X_SIZE(STORE_HASH_LEN)];

	hex_encode_0x(hash, STORE_HASH_LEN, hex);
	sbuf_addc(sb, '"');
	sbuf_adds(sb, hex);
	sbuf_addc(sb, '"');
}

static void
view_log_hash_member(struct sbuf *sb, const char *member,
    const uint8_t hash[STORE_HASH_LEN])
{
	view_log_member(sb, member);
	view_log_hash(sb, hash);
	sbuf_addc(sb, ',');
}

/* The proof's hashes under member, then the head's note; closes. */
static struct json_object *
view_log_proof_end(struct sbuf *sb, const char *member,
    const uint8_t (*proof)[STORE_HASH_LEN], size_t n,
    const struct store_sth *head)
{
	size_t	i;

	view_log_member(sb, member);
	sbuf_addc(sb, '[');
	for (i = 0; i < n; i++) {
		if (i > 0)
			sbuf_addc(sb, ',');
		view_log_hash(sb, proof[i]);
	}
	sbuf_adds(sb, "],\"checkpoint\":");
	if (head->note[0] != '\0')
		jcs_string(head->note, strlen(head->note), sb);
	else
		sbuf_adds(sb, "null");
	sbuf_addc(sb, '}');
	return view_raw(sbuf_take(sb, NULL));
}

/*
 * A proof is written as text, not built as json-c objects first: it is
 * what the public log answers most, a hash per level of the tree, and
 * the objects cost more than the proof's own reading.  The text is byte
 * for byte what view_text wrote of those objects (check_view.c).
 */
struct json_object *
view_inclusion(const struct tlog_inclusion *in)
{
	struct sbuf	sb = { 0 };

	sbuf_addc(&sb, '{');
	view_log_u64(&sb, "leafIndex", in->index);
	view_log_hash_member(&sb, "leafHash", in->leaf);
	view_log_u64(&sb, "treeSize", in->size);
	view_log_hash_member(&sb, "rootHash", in->root);
	return view_log_proof_end(&sb, "inclusionProof", in->proof, in->len,
	    &in->head);
}

struct json_object *
view_consistency(const struct tlog_consistency *cs)
{
	struct sbuf	sb = { 0 };

	sbuf_addc(&sb, '{');
	view_log_u64(&sb, "from", cs->from);
	view_log_u64(&sb, "to", cs->to);
	view_log_hash_member(&sb, "fromRootHash", cs->from_root);
	view_log_hash_member(&sb, "toRootHash", cs->to_root);
	return view_log_proof_end(&sb, "consistencyProof", cs->proof, cs->len,
	    &cs->head);
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
