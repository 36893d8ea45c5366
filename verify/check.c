/*
 * The checks of docs/receipt.md, in its order, over a parsed receipt.
 * Each check first reports the parse problems that belong to it, then
 * compares values; it goes on past a failure wherever the values it
 * needs are there, so that one run shows every problem.  A check whose
 * inputs an earlier failure took is reported as not run (skip).
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../common/timefmt.h"
#include "../crypto/hash.h"
#include "verify.h"

#define TEXT_MAX	96	/* a value quoted in a line of output */

/* Starts check c with the problems the parser found for it. */
static void
check_begin(struct report *rep, const struct receipt *r, enum check c)
{
	size_t	i;

	report_begin(rep, c);
	for (i = 0; i < r->nproblems; i++)
		if (r->problems[i].check == c)
			report_fail(rep, "%s", r->problems[i].text);
	if (r->dropped[c] > 0)
		report_fail(rep, "%u more problems", r->dropped[c]);
}

/* A string of the receipt, safe to print. */
static const char *
safe(const char *s, char out[TEXT_MAX])
{
	if (s == NULL)
		return "null";
	report_text(s, strlen(s), out, TEXT_MAX);
	return out;
}

/* A JSON value of the receipt as text, safe to print. */
static const char *
safe_json(struct json_object *v, char out[TEXT_MAX])
{
	const char	*s;

	s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	return safe(s != NULL ? s : "?", out);
}

static const char *
amount(decimal_t v, char out[DECIMAL_MAX])
{
	decimal_format(v, out);
	return out;
}

/* Check 1, part two: the checkpoint object against the statement. */
static const struct {
	const char	*name;		/* in checkpoint */
	const char	*stname;	/* in the statement */
	int		 required;	/* SPEC 3.6 has it */
	int		 amount;	/* compared as an exact decimal */
} cp_members[] = {
	{ "checkpointId", "checkpointId", 1, 0 },
	{ "customerId", "customerId", 1, 0 },
	{ "period", "period", 1, 0 },
	{ "startDate", "startDate", 1, 0 },
	{ "endDate", "endDate", 1, 0 },
	{ "startingBalance", "startingBalance", 1, 1 },
	{ "deltasCount", "deltasCount", 1, 0 },
	{ "netChange", "netChange", 1, 1 },
	{ "endingBalance", "endingBalance", 1, 1 },
	{ "proofRoot", "proofRoot", 1, 0 },
	{ "merkleRoot", "proofRoot", 0, 0 },
	{ "itemsRoot", "proofRoot", 0, 0 },
	{ "previousCheckpointId", "previousCheckpointId", 1, 0 },
	{ "treeSize", "treeSize", 1, 0 },
	{ "rootHash", "rootHash", 1, 0 },
	{ "createdAt", "createdAt", 1, 0 },
	{ "firstSequence", "firstSequence", 0, 0 },
	{ "lastSequence", "lastSequence", 0, 0 },
	{ "version", "version", 0, 0 },
	{ "tenant", "tenant", 0, 0 },
	{ "env", "env", 0, 0 }
};

/* Members the checkpoint may repeat from the bundle itself. */
static const char *const cp_bundle[] = {
	"keyId", "alg", "signature", "statement"
};

static void
cp_member(struct report *rep, const struct receipt *r, size_t i)
{
	struct json_object	*cv, *sv;
	decimal_t		 ca, sa;
	char			 why[128], t1[TEXT_MAX], t2[TEXT_MAX];

	if (!json_object_object_get_ex(r->checkpoint, cp_members[i].name,
	    &cv)) {
		if (cp_members[i].required)
			report_fail(rep, "checkpoint.%s: missing",
			    cp_members[i].name);
		return;
	}
	/* A statement member that is not there was reported already. */
	if (!json_object_object_get_ex(r->st.obj, cp_members[i].stname, &sv))
		return;
	if (cp_members[i].amount) {
		if (field_amount_any(cv, &ca, why, sizeof(why)) < 0) {
			report_fail(rep, "checkpoint.%s: %s",
			    cp_members[i].name, why);
			return;
		}
		if (field_amount(sv, &sa, why, sizeof(why)) < 0 || ca == sa)
			return;
	} else if (field_same(cv, sv))
		return;
	report_fail(rep, "checkpoint.%s: %s, but the statement's %s is %s",
	    cp_members[i].name, safe_json(cv, t1), cp_members[i].stname,
	    safe_json(sv, t2));
}

static void
cp_compare(struct report *rep, const struct receipt *r)
{
	struct json_object	*cv, *bv;
	char			 t1[TEXT_MAX];
	size_t			 i;

	if (r->checkpoint == NULL || r->st.obj == NULL ||
	    !json_object_is_type(r->st.obj, json_type_object))
		return;
	for (i = 0; i < sizeof(cp_members) / sizeof(cp_members[0]); i++)
		cp_member(rep, r, i);
	for (i = 0; i < sizeof(cp_bundle) / sizeof(cp_bundle[0]); i++) {
		if (!json_object_object_get_ex(r->checkpoint, cp_bundle[i],
		    &cv) || !json_object_object_get_ex(r->data, cp_bundle[i],
		    &bv) || field_same(cv, bv))
			continue;
		report_fail(rep, "checkpoint.%s: %s, not the bundle's",
		    cp_bundle[i], safe_json(cv, t1));
	}
}

static void
check_statement(struct report *rep, const struct receipt *r)
{
	const struct statement	*st = &r->st;
	char			 t1[TEXT_MAX], t2[TEXT_MAX], t3[TEXT_MAX];
	char			 t4[TEXT_MAX];

	check_begin(rep, r, CHECK_STATEMENT);
	if (st->obj != NULL && st->checkpoint_id != NULL &&
	    r->checkpoint_id != NULL &&
	    strcmp(st->checkpoint_id, r->checkpoint_id) != 0)
		report_fail(rep, "checkpointId: the bundle's is %s, the "
		    "statement's %s", safe(r->checkpoint_id, t1),
		    safe(st->checkpoint_id, t2));
	cp_compare(rep, r);
	if (!st->usable) {
		report_failed(rep);
		return;
	}
	if (st->version >= 2)
		report_end(rep, "%s of %s/%s %s, period %s: %llu deltas, "
		    "sequences %llu..%llu, tree size %llu; checkpoint agrees",
		    safe(st->checkpoint_id, t1), safe(st->tenant, t2), st->env,
		    safe(st->customer_id, t3), safe(st->period, t4),
		    (unsigned long long)st->deltas_count,
		    (unsigned long long)st->first_seq,
		    (unsigned long long)st->last_seq,
		    (unsigned long long)st->tree_size);
	else
		report_end(rep, "%s of %s/%s %s, period %s: %llu deltas, tree "
		    "size %llu; checkpoint agrees (statement version 1)",
		    safe(st->checkpoint_id, t1), safe(st->tenant, t2), st->env,
		    safe(st->customer_id, t3), safe(st->period, t4),
		    (unsigned long long)st->deltas_count,
		    (unsigned long long)st->tree_size);
}

/* Check 2: the statement's signature, with the key keyId names. */
static void
check_signature(struct report *rep, const struct receipt *r,
    const struct keyring *keys)
{
	const struct sigkey	*key;
	const char		*label;
	char			 t1[TEXT_MAX], origin[NOTE_ORIGIN_MAX + 1];
	char			 why[VERIFY_LINE_MAX];

	check_begin(rep, r, CHECK_SIGNATURE);
	/* The ID of an RSA key given as PEM is that under the log's name. */
	if (r->tree_head == NULL || keyring_origin(r->tree_head,
	    r->tree_head_len, origin) < 0)
		origin[0] = '\0';
	key = keyring_find(keys, r->key_id, origin);
	label = r->key_id;
	if (key == NULL && (key = keyring_given(keys)) != NULL) {
		label = "given (--key)";
		if (r->key_id != NULL)
			report_fail(rep, "keyId: %s is not the ID of the key "
			    "given (--key)", r->key_id);
	} else if (key == NULL && r->key_id != NULL)
		report_fail(rep, "keyId: %s", keyring_why(keys, r->key_id, why,
		    sizeof(why)));
	if (key != NULL && r->alg != NULL &&
	    strcmp(r->alg, sigkey_alg_name(sigkey_alg(key))) != 0)
		report_fail(rep, "alg: %s, but key %s is %s", safe(r->alg, t1),
		    label, sigkey_alg_name(sigkey_alg(key)));
	/* Whatever the reason, no ok line without a signature that holds. */
	if (key == NULL || !r->have_sig || r->st.bytes == NULL) {
		report_failed(rep);
		return;
	}
	if (sigkey_verify(key, r->st.bytes, r->st.len, r->sig,
	    r->siglen) != 0)
		report_fail(rep, "does not verify over the %zu statement bytes "
		    "with key %s", r->st.len, label);
	report_end(rep, "%s signature of key %s over the %zu statement bytes",
	    sigkey_alg_name(sigkey_alg(key)), label, r->st.len);
}

/* Check 3: the signed tree head, and that it is the statement's. */
static void
check_treehead(struct report *rep, const struct receipt *r,
    const struct keyring *keys)
{
	const struct statement	*st = &r->st;
	struct note_head	 cp;
	struct keyring_signer	 by;
	char			 why[VERIFY_LINE_MAX];
	char			 h1[VERIFY_HEX_LEN], h2[VERIFY_HEX_LEN];
	char			 t1[TEXT_MAX], t2[TEXT_MAX];

	check_begin(rep, r, CHECK_TREEHEAD);
	if (r->tree_head == NULL) {
		report_failed(rep);
		return;
	}
	if (keyring_open_note(keys, r->tree_head, r->tree_head_len, &cp, &by,
	    why, sizeof(why)) < 0) {
		report_fail(rep, "%s", why);
		report_failed(rep);
		return;
	}
	if (!st->usable) {
		report_cancel(rep, "signed by %s %08x, but not compared: the "
		    "statement is unusable", safe(by.name, t2), by.id);
		return;
	}
	if (cp.size != st->tree_size)
		report_fail(rep, "size %llu, but the statement's treeSize is "
		    "%llu", (unsigned long long)cp.size,
		    (unsigned long long)st->tree_size);
	if (!hash_equal(cp.root, st->root_hash, MERKLE_HASH_LEN)) {
		report_hash(cp.root, h1);
		report_hash(st->root_hash, h2);
		report_fail(rep, "root %s, but the statement's rootHash is %s",
		    h1, h2);
	}
	report_end(rep, "%s size %llu, signed by %s %08x; size and root are "
	    "the statement's", safe(cp.origin, t1),
	    (unsigned long long)cp.size, safe(by.name, t2), by.id);
}

/* Check 4, for one delta: whose it is and when. */
static void
delta_owner(struct report *rep, const struct receipt *r,
    const struct rdelta *d, const char *where)
{
	const struct statement	*st = &r->st;
	char			 t1[TEXT_MAX], t2[TEXT_MAX];
	char			 w1[TIMEFMT_LEN], w2[TIMEFMT_LEN];
	char			 w3[TIMEFMT_LEN];

	if (d->have & RD_OWNER) {
		if (strcmp(d->tenant, st->tenant) != 0)
			report_fail(rep, "%s: leaf.tenant: %s, not the "
			    "statement's %s", where, safe(d->tenant, t1),
			    safe(st->tenant, t2));
		if (strcmp(d->env, st->env) != 0)
			report_fail(rep, "%s: leaf.env: %s, not the "
			    "statement's %s", where, safe(d->env, t1),
			    st->env);
		if (strcmp(d->customer_id, st->customer_id) != 0)
			report_fail(rep, "%s: leaf.customerId: %s, not the "
			    "statement's %s", where, safe(d->customer_id, t1),
			    safe(st->customer_id, t2));
	}
	/*
	 * Version 2 covers a run of seqs: a delta recorded before the month
	 * (after its own month was locked) is carried in, never one after.
	 */
	if ((d->have & RD_CREATED) && st->version >= 2 &&
	    d->created_ms >= st->end_ms) {
		timefmt_rfc3339(d->created_ms, w1);
		timefmt_rfc3339(st->end_ms, w3);
		report_fail(rep, "%s: leaf.createdAt: %s is not before the "
		    "period's end, %s", where, w1, w3);
	} else if ((d->have & RD_CREATED) && st->version < 2 &&
	    (d->created_ms < st->start_ms || d->created_ms >= st->end_ms)) {
		timefmt_rfc3339(d->created_ms, w1);
		timefmt_rfc3339(st->start_ms, w2);
		timefmt_rfc3339(st->end_ms, w3);
		report_fail(rep, "%s: leaf.createdAt: %s is not in [%s, %s)",
		    where, w1, w2, w3);
	}
}

/* Check 4, for one delta: the hashes it states are its leaf's. */
static void
delta_hashes(struct report *rep, const struct rdelta *d, const char *where)
{
	char	h1[VERIFY_HEX_LEN], h2[VERIFY_HEX_LEN];

	if (!(d->have & RD_HASHED))
		return;
	if ((d->have & RD_CONTENTHASH) &&
	    !hash_equal(d->content_hash, d->content_re, MERKLE_HASH_LEN)) {
		report_hash(d->content_hash, h1);
		report_hash(d->content_re, h2);
		report_fail(rep, "%s: contentHash: the receipt says %s, the "
		    "leaf hashes to %s", where, h1, h2);
	}
	if ((d->have & RD_LEAFHASH) &&
	    !hash_equal(d->leaf_hash, d->leaf_re, MERKLE_HASH_LEN)) {
		report_hash(d->leaf_hash, h1);
		report_hash(d->leaf_re, h2);
		report_fail(rep, "%s: leafHash: the receipt says %s, the leaf "
		    "hashes to %s", where, h1, h2);
	}
}

/* The seqs from..to (inclusive) are missing from the receipt. */
static void
seq_missing(struct report *rep, uint64_t from, uint64_t to)
{
	if (from == to)
		report_fail(rep, "sequence %llu missing",
		    (unsigned long long)from);
	else
		report_fail(rep, "sequences %llu..%llu missing",
		    (unsigned long long)from, (unsigned long long)to);
}

/*
 * Version 2: the deltas are exactly the statement's run, each seq once
 * and in order, so a delta left out is named by its sequence number.
 */
static void
delta_run(struct report *rep, const struct statement *st,
    const struct rdelta *d, const char *where, uint64_t *next)
{
	if (d->seq > st->last_seq) {
		report_fail(rep, "%s: leaf.sequenceNumber %llu is past the "
		    "statement's lastSequence %llu", where,
		    (unsigned long long)d->seq,
		    (unsigned long long)st->last_seq);
		return;
	}
	if (d->seq < st->first_seq) {
		report_fail(rep, "%s: leaf.sequenceNumber %llu is before the "
		    "statement's firstSequence %llu", where,
		    (unsigned long long)d->seq,
		    (unsigned long long)st->first_seq);
		return;
	}
	if (d->seq > *next)
		seq_missing(rep, *next, d->seq - 1);
	if (d->seq >= *next)
		*next = d->seq + 1;
}

static void
check_deltas(struct report *rep, const struct receipt *r)
{
	const struct statement	*st = &r->st;
	const struct rdelta	*d;
	char			 where[VERIFY_WHERE_MAX];
	uint64_t		 seq = 0, index = 0, next = st->first_seq;
	uint64_t		 carried = 0;
	int			 have_seq = 0, have_index = 0, all_seqs = 1;
	size_t			 i;

	check_begin(rep, r, CHECK_DELTAS);
	if (!st->usable) {
		report_cancel(rep, "the statement is unusable");
		return;
	}
	for (i = 0; i < r->ndeltas; i++) {
		d = &r->deltas[i];
		receipt_where(r, i, where);
		delta_owner(rep, r, d, where);
		if ((d->have & RD_CREATED) && d->created_ms < st->start_ms)
			carried++;
		if (!(d->have & RD_SEQ))
			all_seqs = 0;
		else if (st->version >= 2)
			delta_run(rep, st, d, where, &next);
		if (d->have & RD_SEQ) {
			if (have_seq && d->seq <= seq)
				report_fail(rep, "%s: leaf.sequenceNumber %llu "
				    "does not increase (the one before is "
				    "%llu)", where, (unsigned long long)d->seq,
				    (unsigned long long)seq);
			seq = d->seq;
			have_seq = 1;
		}
		if (d->have & RD_INDEX) {
			if (have_index && d->log_index <= index)
				report_fail(rep, "%s: logIndex %llu does not "
				    "increase (the one before is %llu)", where,
				    (unsigned long long)d->log_index,
				    (unsigned long long)index);
			if (d->log_index >= st->tree_size)
				report_fail(rep, "%s: logIndex %llu is not "
				    "below treeSize %llu", where,
				    (unsigned long long)d->log_index,
				    (unsigned long long)st->tree_size);
			index = d->log_index;
			have_index = 1;
		}
		delta_hashes(rep, d, where);
	}
	if (st->version >= 2 && all_seqs && next <= st->last_seq)
		seq_missing(rep, next, st->last_seq);
	if (st->version < 2) {
		report_end(rep, "%zu deltas of %s, in %s, in log order; "
		    "contentHash and leafHash recomputed from each leaf",
		    r->ndeltas, st->customer_id, st->period);
		return;
	}
	report_end(rep, "%zu deltas of %s, sequences %llu..%llu without a "
	    "gap, in log order (%llu carried in, recorded before %s); "
	    "contentHash and leafHash recomputed from each leaf", r->ndeltas,
	    st->customer_id, (unsigned long long)st->first_seq,
	    (unsigned long long)st->last_seq, (unsigned long long)carried,
	    st->period);
}

/* The first delta without the parts in mask, or ndeltas. */
static size_t
first_without(const struct receipt *r, unsigned mask)
{
	size_t	i;

	for (i = 0; i < r->ndeltas; i++)
		if ((r->deltas[i].have & mask) != mask)
			break;
	return i;
}

/* Check 5: proofRoot over the leaf hashes recomputed, in log order. */
static void
check_proofroot(struct report *rep, const struct receipt *r)
{
	struct merkle_array	 a;
	merkle_hash		*leaves, root;
	char			 h1[VERIFY_HEX_LEN], h2[VERIFY_HEX_LEN];
	char			 where[VERIFY_WHERE_MAX];
	size_t			 i;

	check_begin(rep, r, CHECK_PROOFROOT);
	if (!r->st.usable || !r->have_deltas) {
		report_cancel(rep, "no usable %s", r->st.usable ? "deltas" :
		    "statement");
		return;
	}
	if ((i = first_without(r, RD_HASHED)) < r->ndeltas) {
		receipt_where(r, i, where);
		report_cancel(rep, "%s has no leaf to hash", where);
		return;
	}
	if ((leaves = calloc(r->ndeltas ? r->ndeltas : 1,
	    sizeof(*leaves))) == NULL) {
		report_fail(rep, "out of memory");
		report_failed(rep);
		return;
	}
	for (i = 0; i < r->ndeltas; i++)
		memcpy(leaves[i], r->deltas[i].leaf_re, MERKLE_HASH_LEN);
	a.leaves = (const merkle_hash *)leaves;
	a.size = r->ndeltas;
	report_hash(r->st.proof_root, h2);
	if (merkle_root(merkle_array_node, &a, a.size, root) != 0)
		report_fail(rep, "cannot compute the root");
	else if (!hash_equal(root, r->st.proof_root, MERKLE_HASH_LEN)) {
		report_hash(root, h1);
		report_fail(rep, "rebuilt from %zu leaf hashes: %s, but the "
		    "statement's is %s", r->ndeltas, h1, h2);
	}
	free(leaves);
	report_end(rep, "%s rebuilt from %zu leaf hashes", h2, r->ndeltas);
}

/* Check 6: count and sums, exactly. */
static void
check_count(struct report *rep, const struct receipt *r)
{
	check_begin(rep, r, CHECK_DELTASCOUNT);
	if (!r->st.usable || !r->have_deltas) {
		report_cancel(rep, "no usable %s", r->st.usable ? "deltas" :
		    "statement");
		return;
	}
	if (r->ndeltas != r->st.deltas_count)
		report_fail(rep, "the statement says %llu, the receipt holds "
		    "%zu deltas", (unsigned long long)r->st.deltas_count,
		    r->ndeltas);
	report_end(rep, "%zu deltas", r->ndeltas);
}

static void
check_netchange(struct report *rep, const struct receipt *r)
{
	decimal_t	sum = 0;
	char		a1[DECIMAL_MAX], a2[DECIMAL_MAX];
	char		where[VERIFY_WHERE_MAX];
	size_t		i;

	check_begin(rep, r, CHECK_NETCHANGE);
	if (!r->st.usable || !r->have_deltas) {
		report_cancel(rep, "no usable %s", r->st.usable ? "deltas" :
		    "statement");
		return;
	}
	if ((i = first_without(r, RD_AMOUNT)) < r->ndeltas) {
		receipt_where(r, i, where);
		report_cancel(rep, "%s has no usable amount", where);
		return;
	}
	for (i = 0; i < r->ndeltas; i++)
		if (__builtin_add_overflow(sum, r->deltas[i].amount, &sum)) {
			report_fail(rep, "the sum of the deltas overflows");
			report_failed(rep);
			return;
		}
	if (sum != r->st.net)
		report_fail(rep, "the statement says %s, the deltas sum to %s",
		    amount(r->st.net, a1), amount(sum, a2));
	report_end(rep, "%s = the sum of %zu deltas", amount(sum, a1),
	    r->ndeltas);
}

static void
check_ending(struct report *rep, const struct receipt *r)
{
	const struct statement	*st = &r->st;
	decimal_t		 sum;
	char			 a1[DECIMAL_MAX], a2[DECIMAL_MAX];
	char			 a3[DECIMAL_MAX], a4[DECIMAL_MAX];

	check_begin(rep, r, CHECK_ENDINGBALANCE);
	if (!st->usable) {
		report_cancel(rep, "no usable statement");
		return;
	}
	if (__builtin_add_overflow(st->starting, st->net, &sum))
		report_fail(rep, "startingBalance + netChange overflows");
	else if (sum != st->ending)
		report_fail(rep, "%s, but startingBalance %s + netChange %s = "
		    "%s", amount(st->ending, a1), amount(st->starting, a2),
		    amount(st->net, a3), amount(sum, a4));
	report_end(rep, "%s = startingBalance %s + netChange %s",
	    amount(st->ending, a1), amount(st->starting, a2),
	    amount(st->net, a3));
}

/* Check 7: every delta is in the tree the statement names. */
static void
check_inclusion(struct report *rep, const struct receipt *r)
{
	const struct statement	*st = &r->st;
	const struct rdelta	*d;
	const unsigned		 need = RD_HASHED | RD_INDEX | RD_PROOF;
	char			 where[VERIFY_WHERE_MAX], h1[VERIFY_HEX_LEN];
	size_t			 i, checked = 0;

	check_begin(rep, r, CHECK_INCLUSION);
	if (!st->usable) {
		report_cancel(rep, "no usable statement");
		return;
	}
	for (i = 0; i < r->ndeltas; i++) {
		d = &r->deltas[i];
		if ((d->have & need) != need)
			continue;
		checked++;
		if (merkle_verify_inclusion(d->leaf_re, d->log_index,
		    st->tree_size, (const merkle_hash *)d->proof,
		    d->proof_len, st->root_hash) == 0)
			continue;
		receipt_where(r, i, where);
		report_fail(rep, "%s: logIndex %llu: the proof of %zu hashes "
		    "does not lead to rootHash at treeSize %llu", where,
		    (unsigned long long)d->log_index, d->proof_len,
		    (unsigned long long)st->tree_size);
	}
	if (checked < r->ndeltas) {
		report_cancel(rep, "%zu of %zu deltas lack a leaf, logIndex or "
		    "proof", r->ndeltas - checked, r->ndeltas);
		return;
	}
	report_hash(st->root_hash, h1);
	report_end(rep, "%zu proofs lead to rootHash %s at treeSize %llu",
	    checked, h1, (unsigned long long)st->tree_size);
}

/* Check 8 without --previous: a first checkpoint starts at zero. */
static void
chain_first(struct report *rep, const struct receipt *r)
{
	char	a1[DECIMAL_MAX], t1[TEXT_MAX];

	if (r->st.previous_id != NULL) {
		report_skip(rep, CHECK_CHAIN, "predecessor %s not given "
		    "(--previous PREV.json)", safe(r->st.previous_id, t1));
		return;
	}
	report_begin(rep, CHECK_CHAIN);
	if (r->st.starting != 0)
		report_fail(rep, "startingBalance %s, but a first checkpoint "
		    "(previousCheckpointId null) starts at 0",
		    amount(r->st.starting, a1));
	if (r->st.version >= 2 && r->st.first_seq != 1)
		report_fail(rep, "firstSequence %llu, but a first checkpoint "
		    "(previousCheckpointId null) starts at sequence 1: "
		    "sequence%s 1..%llu in no checkpoint",
		    (unsigned long long)r->st.first_seq,
		    r->st.first_seq > 2 ? "s" : "",
		    (unsigned long long)r->st.first_seq - 1);
	report_end(rep, "first checkpoint of the customer: startingBalance "
	    "0%s", r->st.version >= 2 ? ", from sequence 1" : "");
}

/*
 * The predecessor is checked in full, as if given alone, not only its
 * signature: a predecessor whose amounts were changed is no link of a
 * chain.  Returns how many of its checks failed.
 */
static unsigned
chain_prev_failures(const struct receipt *prev, const struct keyring *keys)
{
	struct report	quiet;

	report_init(&quiet, NULL);
	verify_receipt(&quiet, prev, keys, NULL, NULL);
	return quiet.failed;
}

/* The highest seq of the receipt's deltas, 0 for none. */
static uint64_t
last_seq_held(const struct receipt *r)
{
	uint64_t	last = 0;
	size_t		i;

	for (i = 0; i < r->ndeltas; i++)
		if ((r->deltas[i].have & RD_SEQ) && r->deltas[i].seq > last)
			last = r->deltas[i].seq;
	return last;
}

/*
 * Version 2: the runs join without a gap (SPEC 3.6).  A re-lock of the
 * predecessor's month starts where it started; a later month right
 * after its end.  A version 1 predecessor names no run: its end is the
 * last seq it holds.
 */
static void
chain_run(struct report *rep, const struct receipt *r,
    const struct receipt *prev)
{
	const struct statement	*st = &r->st, *ps = &prev->st;
	uint64_t		 want;

	if (st->version < 2)
		return;
	if (ps->version >= 2)
		want = ps->month == st->month ? ps->first_seq :
		    ps->last_seq + 1;
	else if (prev->ndeltas > 0 && ps->month < st->month)
		want = last_seq_held(prev) + 1;
	else
		return;		/* nothing of its own to join to */
	if (st->first_seq > want)
		report_fail(rep, "firstSequence %llu, but the predecessor "
		    "ends at %llu: sequence%s %llu..%llu in no checkpoint",
		    (unsigned long long)st->first_seq,
		    (unsigned long long)want - 1,
		    st->first_seq - want > 1 ? "s" : "",
		    (unsigned long long)want,
		    (unsigned long long)st->first_seq - 1);
	else if (st->first_seq < want)
		report_fail(rep, "firstSequence %llu, but the predecessor "
		    "covers through %llu: sequences %llu..%llu in two "
		    "checkpoints", (unsigned long long)st->first_seq,
		    (unsigned long long)want - 1,
		    (unsigned long long)st->first_seq,
		    (unsigned long long)want - 1);
}

/* The chain rule of docs/receipt.md, on balances. */
static void
chain_balance(struct report *rep, const struct statement *st,
    const struct statement *ps)
{
	char	a1[DECIMAL_MAX], a2[DECIMAL_MAX], t1[TEXT_MAX];

	if (ps->month < st->month && st->starting != ps->ending)
		report_fail(rep, "startingBalance %s, but the predecessor's "
		    "endingBalance (%s) is %s", amount(st->starting, a1),
		    safe(ps->period, t1), amount(ps->ending, a2));
	else if (ps->month == st->month && st->starting != ps->starting)
		report_fail(rep, "startingBalance %s, but the predecessor of "
		    "the same month starts at %s", amount(st->starting, a1),
		    amount(ps->starting, a2));
	else if (ps->month > st->month)
		report_fail(rep, "the predecessor is of a later period, %s",
		    safe(ps->period, t1));
	if (ps->created_ms > st->created_ms)
		report_fail(rep, "the predecessor was created after this "
		    "checkpoint");
}

static void
check_chain(struct report *rep, const struct receipt *r,
    const struct keyring *keys, const struct receipt *prev,
    const char *prev_err)
{
	const struct statement	*st = &r->st, *ps;
	char			 t1[TEXT_MAX], t2[TEXT_MAX], t3[TEXT_MAX];
	unsigned		 failed;

	if (prev == NULL && prev_err == NULL) {
		if (st->usable)
			chain_first(rep, r);
		return;
	}
	report_begin(rep, CHECK_CHAIN);
	if (prev == NULL) {
		report_fail(rep, "--previous: %s", prev_err);
		report_failed(rep);
		return;
	}
	ps = &prev->st;
	if ((failed = chain_prev_failures(prev, keys)) > 0)
		report_fail(rep, "--previous %s: %u of its checks fail (run "
		    "tally-verify on it alone to see which)",
		    safe(prev->checkpoint_id, t1), failed);
	if (!st->usable || !ps->usable) {
		report_cancel(rep, "no usable statement");
		return;
	}
	if (strcmp(st->tenant, ps->tenant) != 0 ||
	    strcmp(st->env, ps->env) != 0 ||
	    strcmp(st->customer_id, ps->customer_id) != 0)
		report_fail(rep, "--previous is of %s/%s %s, not of this "
		    "customer", safe(ps->tenant, t1), ps->env,
		    safe(ps->customer_id, t2));
	if (st->previous_id == NULL)
		report_fail(rep, "previousCheckpointId is null, but --previous "
		    "%s was given", safe(ps->checkpoint_id, t1));
	else if (strcmp(st->previous_id, ps->checkpoint_id) != 0)
		report_fail(rep, "previousCheckpointId %s, but --previous is "
		    "%s", safe(st->previous_id, t1),
		    safe(ps->checkpoint_id, t2));
	chain_balance(rep, st, ps);
	chain_run(rep, r, prev);
	report_end(rep, "predecessor %s (%s), verified in full: "
	    "startingBalance %s chains%s", safe(ps->checkpoint_id, t1),
	    safe(ps->period, t2), amount(st->starting, t3),
	    st->version >= 2 ? ", sequences join without a gap" : "");
}

void
verify_receipt(struct report *rep, const struct receipt *r,
    const struct keyring *keys, const struct receipt *prev,
    const char *prev_err)
{
	check_statement(rep, r);
	check_signature(rep, r, keys);
	check_treehead(rep, r, keys);
	check_deltas(rep, r);
	check_proofroot(rep, r);
	check_count(rep, r);
	check_netchange(rep, r);
	check_ending(rep, r);
	check_inclusion(rep, r);
	check_chain(rep, r, keys, prev, prev_err);
}
