/*
 * Receipts are read in short read transactions, not one: the head (the
 * checkpoint, the signed head at its treeSize, the keys), then one per
 * chunk of deltas.  One transaction over a whole bundle would not hold
 * up writers (reads are read-committed: no lock is kept between two
 * reads), but it would stay open for as long as a slow client takes to
 * drain the answer, and a deadlock retry restarts its callback, which
 * would send bytes twice.  And the chunks are one snapshot by
 * construction: once written, a checkpoint's run
 * firstSequence..lastSequence and its treeSize never change, nor do a
 * customer's sequence number -> logIndex, a committed delta, the signed
 * head at treeSize, or any tree node below treeSize; writes made
 * meanwhile land beyond all of them.  Only the keys grow (a rotation):
 * they are read once, with the checkpoint.
 */
#include <limits.h>
#include <string.h>

#include "../common/hex.h"
#include "../common/timefmt.h"
#include "../crypto/hash.h"
#include "../crypto/sigkey.h"
#include "tiles.h"
#include "receipt.h"

/* receipt_open's own end: more deltas than a bundle holds. */
enum receipt_stop {
	RECEIPT_STOP_TOO_WIDE = STORE_USER
};

static enum receipt_result
receipt_result(int rc)
{
	switch (rc) {
	case STORE_OK:
		return RECEIPT_OK;
	case STORE_NOTFOUND:
		return RECEIPT_NOT_FOUND;
	case RECEIPT_STOP_TOO_WIDE:
		return RECEIPT_TOO_WIDE;
	default:
		return RECEIPT_FAILED;
	}
}

static int
receipt_checkpoint(struct store_txn *t, struct receipt *r)
{
	int	rc;

	if (r->id[0] != '\0') {
		rc = store_checkpoint_get(t, r->id, &r->cp);
		if (rc == STORE_OK && (strcmp(r->cp.tenant, r->tenant) != 0 ||
		    r->cp.env != r->env ||
		    strcmp(r->cp.customer_id, r->customer) != 0))
			rc = STORE_NOTFOUND;
		return rc;
	}
	rc = store_checkpoint_latest(t, r->tenant, r->env, r->customer,
	    r->month < 0 ? INT_MAX : r->month, &r->cp);
	if (rc == STORE_OK && r->month >= 0 && r->cp.month != r->month)
		rc = STORE_NOTFOUND;
	return rc;
}

static int
receipt_find_txn(struct store_txn *t, void *arg)
{
	return receipt_checkpoint(t, arg);
}

enum receipt_result
receipt_find(struct store *st, struct receipt *r)
{
	return receipt_result(store_read(st, receipt_find_txn, r));
}

static int
receipt_open_txn(struct store_txn *t, void *arg)
{
	struct receipt	*r = arg;
	int		 rc;

	if ((rc = receipt_checkpoint(t, r)) != STORE_OK)
		return rc;
	if (r->cp.count > RECEIPT_DELTAS_MAX)
		return RECEIPT_STOP_TOO_WIDE;
	if ((rc = store_sth_get(t, r->cp.tree_size, &r->head)) != STORE_OK)
		return rc == STORE_NOTFOUND ? STORE_CORRUPT : rc;
	/* Every key with its endorsement: tally-verify follows rotations. */
	return tlog_keys_read(t, &r->keys);
}

enum receipt_result
receipt_open(struct store *st, struct receipt *r)
{
	return receipt_result(store_read(st, receipt_open_txn, r));
}

void
receipt_close(struct receipt *r)
{
	tlog_keys_free(&r->keys);
}

struct receipt_chunk {
	const struct receipt	*r;
	uint64_t		 from, next;
	receipt_delta_fn	 fn;
	void			*arg;
};

static int
receipt_chunk_txn(struct store_txn *t, void *arg)
{
	struct receipt_chunk	*ch = arg;
	const struct store_checkpoint *cp = &ch->r->cp;
	struct receipt_delta	 rd;
	struct store_custpos	 p;
	struct store_delta	 d;
	merkle_hash		 proof[MERKLE_PROOF_MAX];
	struct tiles_reader	*tiles;
	uint64_t		 seq;
	int			 rc = STORE_OK;

	/* Every proof is of one tree: its tiles read once, not per node. */
	if ((tiles = tiles_reader_new(t, cp->tree_size)) == NULL)
		return STORE_NOMEM;
	for (seq = ch->from; seq <= cp->last_seq && rc == STORE_OK; seq++) {
		if ((rc = store_custpos_get(t, cp->tenant, cp->env,
		    cp->customer_id, seq, &p)) != STORE_OK ||
		    (rc = store_delta_get(t, p.log_index, &d)) != STORE_OK) {
			if (rc == STORE_NOTFOUND)
				rc = STORE_CORRUPT;
			break;
		}
		memset(&rd, 0, sizeof(rd));
		rd.d = &d;
		rd.proof = (const merkle_hash *)proof;
		rd.first = seq == cp->first_seq;
		rd.chunk_start = seq == ch->from;
		/* Recorded before its month: carried in from an earlier one. */
		rd.carried_in = d.created_ms < timefmt_month_start(cp->month);
		if (merkle_inclusion_proof(tiles_reader_node, tiles,
		    d.log_index, cp->tree_size, proof, &rd.len) != 0)
			rc = STORE_CORRUPT;
		else
			rc = ch->fn(&rd, ch->arg);
		store_delta_free(&d);
	}
	tiles_reader_free(tiles);
	ch->next = seq;
	return rc == STORE_STOP ? STORE_OK : rc;
}

int
receipt_deltas(struct store *st, const struct receipt *r, uint64_t *next,
    receipt_delta_fn fn, void *arg)
{
	struct receipt_chunk	ch = { r, *next, *next, fn, arg };
	int			rc;

	if ((rc = store_read(st, receipt_chunk_txn, &ch)) == STORE_OK)
		*next = ch.next;
	return rc;
}

/*
 * Whether the stored signature holds, with the key it names, into
 * *holds; a store code.  A stored key always loads: failing to load it
 * or to check, memory ran out, and the answer is no answer, not "does
 * not hold".
 */
static int
receipt_signature_holds(struct store_txn *t, const struct store_checkpoint *cp,
    int *holds)
{
	struct store_signkey	 rec;
	struct sigkey		*key = NULL;
	enum sigkey_check	 check;
	int			 rc;

	*holds = 0;
	if ((rc = store_signkey_get(t, cp->key_id, &rec)) == STORE_NOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	if (sigkey_from_public_pem(rec.pem, strlen(rec.pem), &key) < 0)
		return STORE_NOMEM;
	check = sigkey_check(key, cp->statement, strlen(cp->statement),
	    cp->sig, cp->sig_len);
	sigkey_free(key);
	if (check == SIGKEY_ERROR)
		return STORE_NOMEM;
	*holds = check == SIGKEY_VALID;
	return STORE_OK;
}

struct receipt_checking {
	const char		*ref;
	struct receipt_check	*rc;
};

static int
receipt_check_txn(struct store_txn *t, void *arg)
{
	struct receipt_checking	*ck = arg;
	uint8_t			 root[STORE_HASH_LEN];
	int			 rc;

	if (strncmp(ck->ref, "chk_", 4) == 0)
		rc = store_checkpoint_get(t, ck->ref, &ck->rc->cp);
	else {
		if (hex_decode_0x(ck->ref, root, sizeof(root),
		    HEX_0X_OPTIONAL | HEX_ANY_CASE) < 0)
			return STORE_NOTFOUND;
		rc = store_checkpoint_by_root(t, root, &ck->rc->cp);
	}
	if (rc == STORE_OK)
		rc = receipt_signature_holds(t, &ck->rc->cp,
		    &ck->rc->verified);
	return rc;
}

enum receipt_result
receipt_check(struct store *st, const char *ref, struct receipt_check *out)
{
	struct receipt_checking	ck = { ref, out };
	enum receipt_result	res;

	res = receipt_result(store_read(st, receipt_check_txn, &ck));
	if (res == RECEIPT_OK && hash_sha256(out->cp.statement,
	    strlen(out->cp.statement), out->statement_hash) < 0)
		res = RECEIPT_FAILED;
	return res;
}
