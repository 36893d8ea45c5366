#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/grow.h"
#include "../common/timefmt.h"
#include "../crypto/endorse.h"
#include "../crypto/random.h"
#include "tiles.h"
#include "tlog.h"

/* Why a transaction below ends other than with a store code. */
enum tlog_stop {
	TLOG_STOP_NO_HEAD = STORE_USER,	/* TLOG_NO_HEAD, and so on */
	TLOG_STOP_BEYOND_HEAD,
	TLOG_STOP_NO_LEAF,
	TLOG_STOP_INDEX_RANGE,
	TLOG_STOP_FROM_RANGE,
	TLOG_STOP_RETIRED		/* the endorser retired meanwhile */
};

int
tlog_delta_status(struct store_txn *t, struct store_delta *d)
{
	struct store_sth	cover;
	int			rc;

	rc = store_sth_covering(t, d->log_index, &cover);
	if (rc == STORE_NOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	d->status = STORE_DELTA_VERIFIED;
	d->verified_ms = cover.signed_ms;
	return STORE_OK;
}

int
tlog_proof(struct store_txn *t, uint64_t index, uint64_t size,
    merkle_hash proof[MERKLE_PROOF_MAX], size_t *len)
{
	struct tiles_reader	*rd;
	int			 rc;

	if ((rd = tiles_reader_new(t, size)) == NULL)
		return STORE_NOMEM;
	rc = merkle_inclusion_proof(tiles_reader_node, rd, index, size, proof,
	    len) == 0 ? STORE_OK : STORE_CORRUPT;
	tiles_reader_free(rd);
	return rc;
}

/* A read's store code as the log's answer; its own answers pass. */
static enum tlog_result
tlog_result(int rc)
{
	switch (rc) {
	case STORE_OK:
		return TLOG_OK;
	case TLOG_STOP_NO_HEAD:
		return TLOG_NO_HEAD;
	case TLOG_STOP_BEYOND_HEAD:
		return TLOG_BEYOND_HEAD;
	case TLOG_STOP_NO_LEAF:
		return TLOG_NO_LEAF;
	case TLOG_STOP_INDEX_RANGE:
		return TLOG_INDEX_RANGE;
	case TLOG_STOP_FROM_RANGE:
		return TLOG_FROM_RANGE;
	default:
		return TLOG_FAILED;
	}
}

static int
tlog_latest_txn(struct store_txn *t, void *arg)
{
	int	rc = store_sth_latest(t, arg);

	return rc == STORE_NOTFOUND ? TLOG_STOP_NO_HEAD : rc;
}

enum tlog_result
tlog_head_latest(struct store *st, struct store_sth *h)
{
	return tlog_result(store_read(st, tlog_latest_txn, h));
}

/*
 * A proof's tree size, and the head of exactly that size (see tlog.h).
 * A size given with a head of its own is signed, so no newer head needs
 * reading: one get, where the newest head is a cursor's seek.
 */
static int
tlog_tree_size(struct store_txn *t, int given, uint64_t *size,
    struct store_sth *h)
{
	int	rc;

	if (given && (rc = store_sth_get(t, *size, h)) != STORE_NOTFOUND)
		return rc;
	if ((rc = store_sth_latest(t, h)) != STORE_OK)
		return rc == STORE_NOTFOUND ? TLOG_STOP_NO_HEAD : rc;
	if (!given)
		*size = h->size;
	else if (*size > h->size)
		return TLOG_STOP_BEYOND_HEAD;
	else if (*size != h->size)	/* else signed since the get */
		memset(h, 0, sizeof(*h));
	return STORE_OK;
}

/*
 * A reader of the tree of size, told its root when h is its head (else
 * h->note is "", or h->size another size's).
 */
static struct tiles_reader *
tlog_reader(struct store_txn *t, const struct store_sth *h, uint64_t size)
{
	struct tiles_reader	*rd;

	if ((rd = tiles_reader_new(t, size)) != NULL && h->size == size &&
	    h->note[0] != '\0')
		tiles_reader_signed(rd, h->root);
	return rd;
}

/*
 * The root of the tree of size: the one its head signed, when there is
 * one (h, if of that size, else read), which costs no hashing; else
 * computed from the tiles rd reads.
 */
static int
tlog_root(struct store_txn *t, struct tiles_reader *rd,
    const struct store_sth *h, uint64_t size, merkle_hash out)
{
	struct store_sth	other;
	int			rc;

	if (h->size != size || h->note[0] == '\0') {
		if ((rc = store_sth_get(t, size, &other)) == STORE_NOTFOUND)
			return merkle_root(tiles_reader_node, rd, size, out);
		if (rc != STORE_OK)
			return rc;
		h = &other;
	}
	memcpy(out, h->root, MERKLE_HASH_LEN);
	return 0;
}

static int
tlog_inclusion_txn(struct store_txn *t, void *arg)
{
	struct tlog_inclusion	*in = arg;
	struct tiles_reader	*rd = NULL;
	int			 rc;

	if ((rc = tlog_tree_size(t, in->size_given, &in->size, &in->head)) !=
	    STORE_OK)
		goto out;
	if (in->by_hash && (rc = store_leaf_find(t, in->leaf, &in->index)) !=
	    STORE_OK) {
		rc = rc == STORE_NOTFOUND ? TLOG_STOP_NO_LEAF : rc;
		goto out;
	}
	if (in->index >= in->size) {
		rc = TLOG_STOP_INDEX_RANGE;
		goto out;
	}
	if ((rd = tlog_reader(t, &in->head, in->size)) == NULL) {
		rc = STORE_NOMEM;
		goto out;
	}
	/* The leaf after its path, which ends in the leaf's tile. */
	if ((rc = merkle_inclusion_proof(tiles_reader_node, rd, in->index,
	    in->size, in->proof, &in->len)) != 0 ||
	    (!in->by_hash &&
	    (rc = tiles_reader_node(rd, 0, in->index, in->leaf)) != 0) ||
	    (rc = tlog_root(t, rd, &in->head, in->size, in->root)) != 0)
		rc = rc < 0 ? STORE_CORRUPT : rc;
out:
	tiles_reader_free(rd);
	return rc;
}

enum tlog_result
tlog_inclusion(struct store *st, struct tlog_inclusion *in)
{
	return tlog_result(store_read(st, tlog_inclusion_txn, in));
}

static int
tlog_consistency_txn(struct store_txn *t, void *arg)
{
	struct tlog_consistency	*cs = arg;
	struct tiles_reader	*rd = NULL;
	int			 rc;

	if ((rc = tlog_tree_size(t, cs->to_given, &cs->to, &cs->head)) !=
	    STORE_OK)
		goto out;
	if (cs->from < 1 || cs->from > cs->to) {
		rc = TLOG_STOP_FROM_RANGE;
		goto out;
	}
	if ((rd = tlog_reader(t, &cs->head, cs->to)) == NULL) {
		rc = STORE_NOMEM;
		goto out;
	}
	if ((rc = merkle_consistency_proof(tiles_reader_node, rd, cs->from,
	    cs->to, cs->proof, &cs->len)) != 0 ||
	    (rc = tlog_root(t, rd, &cs->head, cs->from, cs->from_root)) != 0 ||
	    (rc = tlog_root(t, rd, &cs->head, cs->to, cs->to_root)) != 0)
		rc = rc < 0 ? STORE_CORRUPT : rc;
out:
	tiles_reader_free(rd);
	return rc;
}

enum tlog_result
tlog_consistency(struct store *st, struct tlog_consistency *cs)
{
	return tlog_result(store_read(st, tlog_consistency_txn, cs));
}

static int
tlog_key_listed(const struct store_signkey *k, void *arg)
{
	struct tlog_keys	*keys = arg;

	if (grow(&keys->list, &keys->cap, keys->n + 1,
	    sizeof(*keys->list)) < 0)
		return STORE_NOMEM;
	keys->list[keys->n++] = *k;
	return STORE_OK;
}

int
tlog_keys_read(struct store_txn *t, struct tlog_keys *keys)
{
	keys->n = 0;
	return store_signkey_each(t, tlog_key_listed, keys);
}

static int
tlog_keys_txn(struct store_txn *t, void *arg)
{
	return tlog_keys_read(t, arg);
}

enum tlog_result
tlog_keys(struct store *st, struct tlog_keys *keys)
{
	return tlog_result(store_read(st, tlog_keys_txn, keys));
}

void
tlog_keys_free(struct tlog_keys *keys)
{
	free(keys->list);
	keys->list = NULL;
	keys->n = keys->cap = 0;
}

int
tlog_key_id(const struct sigkey *key, const char *name,
    char out[STORE_KEYID_MAX + 1])
{
	uint32_t	id;

	if (sigkey_note_id(key, name, &id) < 0)
		return -1;
	snprintf(out, STORE_KEYID_MAX + 1, "%08x", id);
	return 0;
}


struct tlog_keygen {
	struct store_signkey	*rec;
	int			 flags;
};

static int
tlog_key_record(struct store_txn *t, void *arg)
{
	struct tlog_keygen		*kg = arg;
	struct store_signkey	 old;
	int			 rc;

	rc = store_signkey_active(t, &old);
	if (rc == STORE_OK) {
		if (!(kg->flags & TLOG_KEY_ROTATE))
			return STORE_EXISTS;
		/* The endorsement speaks for the key read before signing. */
		if (kg->rec->rotation == STORE_ROTATION_ENDORSED &&
		    strcmp(old.key_id, kg->rec->replaces) != 0)
			return TLOG_STOP_RETIRED;
		if (kg->rec->rotation == STORE_ROTATION_UNENDORSED)
			snprintf(kg->rec->replaces, sizeof(kg->rec->replaces),
			    "%s", old.key_id);
		old.valid_to_ms = kg->rec->valid_from_ms;
		if ((rc = store_signkey_update(t, &old)) != STORE_OK)
			return rc;
	} else if (rc != STORE_NOTFOUND)
		return rc;
	else if (kg->rec->rotation == STORE_ROTATION_ENDORSED)
		return TLOG_STOP_RETIRED;
	else
		kg->rec->rotation = STORE_ROTATION_GENESIS;
	return store_signkey_add(t, kg->rec);
}

/* What an endorsement of rec says, with key the public half of rec. */
static void
tlog_key_subject(const struct store_signkey *rec, const struct sigkey *key,
    char valid_from[TIMEFMT_LEN], struct endorse_subject *s)
{
	timefmt_rfc3339(rec->valid_from_ms, valid_from);
	s->key = key;
	s->key_id = rec->key_id;
	s->name = rec->name;
	s->valid_from = valid_from;
	s->endorsed_by = rec->replaces;
}

/*
 * Before a rotation: the private key of the key that signs now, which is
 * to endorse its successor.  *out stays NULL (and rec records no
 * endorsement) when no key signs yet or the caller said --no-endorse.
 */
static enum tlog_key_result
tlog_key_endorser(struct store *st, const char *data_dir, int flags,
    struct store_signkey *rec, struct sigkey **out, char *err,
    size_t errlen)
{
	struct store_signkey	old;
	char			why[300];
	int			rc;

	*out = NULL;
	if (!(flags & TLOG_KEY_ROTATE))
		return TLOG_KEY_OK;
	rec->rotation = STORE_ROTATION_UNENDORSED;
	if (flags & TLOG_KEY_NO_ENDORSE)
		return TLOG_KEY_OK;
	if ((rc = tlog_key_active(st, &old)) == STORE_NOTFOUND)
		return TLOG_KEY_OK;	/* nothing to rotate: a genesis key */
	if (rc != STORE_OK) {
		snprintf(err, errlen, "%s", store_strerror(rc));
		return TLOG_KEY_FAILED;
	}
	if (tlog_key_load(data_dir, &old, out, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "the key that signs now (%s) must "
		    "endorse its successor, but its private key does not "
		    "load: %s; if it is lost or compromised, rotate with "
		    "--no-endorse (customers will have to confirm the new "
		    "key with you)", old.key_id, why);
		return TLOG_NO_ENDORSER;
	}
	rec->rotation = STORE_ROTATION_ENDORSED;
	snprintf(rec->replaces, sizeof(rec->replaces), "%s", old.key_id);
	return TLOG_KEY_OK;
}

enum tlog_key_result
tlog_key_generate(struct store *st, const char *data_dir, const char *name,
    enum sigkey_alg alg, int flags, struct store_signkey *rec, char *err,
    size_t errlen)
{
	struct sigkey		*key = NULL, *endorser = NULL;
	struct tlog_keygen	 kg = { rec, flags };
	struct endorse_subject	 subject;
	char			 dir[1024], tmp[1100] = "", path[1100];
	char			 nonce[17], from[TIMEFMT_LEN];
	enum tlog_key_result	 res;
	int			 rc;

	memset(rec, 0, sizeof(*rec));
	if ((res = tlog_key_endorser(st, data_dir, flags, rec, &endorser, err,
	    errlen)) != TLOG_KEY_OK)
		return res;
	res = TLOG_KEY_FAILED;
	snprintf(dir, sizeof(dir), "%s/keys", data_dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", dir, strerror(errno));
		goto out;
	}
	/* Its key ID names the file, and is known only once it exists. */
	if (random_hex(nonce, 8) < 0)
		goto out;
	snprintf(tmp, sizeof(tmp), "%s/new-%s.pem", dir, nonce);
	if (sigkey_generate(alg, tmp, &key) < 0) {
		snprintf(err, errlen, "cannot generate a %s key in %s",
		    sigkey_alg_name(alg), dir);
		goto out;
	}
	if (tlog_key_id(key, name, rec->key_id) < 0 ||
	    sigkey_public_pem(key, rec->pem, sizeof(rec->pem)) < 0) {
		snprintf(err, errlen, "cannot encode the new key");
		goto out;
	}
	snprintf(rec->name, sizeof(rec->name), "%s", name);
	snprintf(rec->alg, sizeof(rec->alg), "%s", sigkey_alg_name(alg));
	snprintf(rec->file, sizeof(rec->file), "keys/%s.pem", rec->key_id);
	snprintf(path, sizeof(path), "%s/%s", data_dir, rec->file);
	if (link(tmp, path) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	rec->valid_from_ms = timefmt_now_ms();
	if (endorser != NULL) {
		tlog_key_subject(rec, key, from, &subject);
		if (endorse_sign(endorser, &subject, rec->endorsement,
		    &rec->endorsement_len) < 0) {
			snprintf(err, errlen, "key %s cannot sign the "
			    "endorsement", rec->replaces);
			unlink(path);
			goto out;
		}
	}
	switch (rc = store_write(st, tlog_key_record, &kg)) {
	case STORE_OK:
		res = TLOG_KEY_OK;
		break;
	case STORE_EXISTS:	/* only without TLOG_KEY_ROTATE */
		res = TLOG_KEY_EXISTS;
		snprintf(err, errlen, "a signing key exists already: use "
		    "signing-key rotate");
		break;
	case TLOG_STOP_RETIRED:
		res = TLOG_ENDORSER_RETIRED;
		snprintf(err, errlen, "key %s stopped signing while it "
		    "endorsed its successor: try again", rec->replaces);
		break;
	default:
		snprintf(err, errlen, "%s", store_strerror(rc));
	}
	if (res != TLOG_KEY_OK)
		unlink(path);
out:
	if (tmp[0] != '\0')	/* "" until the name is made */
		unlink(tmp);
	sigkey_free(key);
	sigkey_free(endorser);
	return res;
}

int
tlog_key_endorsed(const struct store_signkey *rec,
    const struct store_signkey *endorser)
{
	struct sigkey		*key = NULL, *by = NULL;
	struct endorse_subject	 subject;
	char			 from[TIMEFMT_LEN];
	int			 rc = -1;

	if (rec->rotation != STORE_ROTATION_ENDORSED ||
	    strcmp(rec->replaces, endorser->key_id) != 0 ||
	    sigkey_from_public_pem(rec->pem, strlen(rec->pem), &key) < 0 ||
	    sigkey_from_public_pem(endorser->pem, strlen(endorser->pem),
	    &by) < 0)
		goto out;
	tlog_key_subject(rec, key, from, &subject);
	rc = endorse_verify(by, &subject, rec->endorsement,
	    rec->endorsement_len);
out:
	sigkey_free(key);
	sigkey_free(by);
	return rc;
}

static int
tlog_key_active_txn(struct store_txn *t, void *arg)
{
	return store_signkey_active(t, arg);
}

int
tlog_key_active(struct store *st, struct store_signkey *out)
{
	return store_read(st, tlog_key_active_txn, out);
}

int
tlog_key_load(const char *data_dir, const struct store_signkey *rec,
    struct sigkey **out, char *err, size_t errlen)
{
	struct sigkey	*key = NULL;
	char		 path[1100], id[STORE_KEYID_MAX + 1];

	*out = NULL;
	snprintf(path, sizeof(path), "%s/%s", data_dir, rec->file);
	if (sigkey_load_private(path, &key, err, errlen) < 0)
		return -1;
	if (tlog_key_id(key, rec->name, id) < 0 ||
	    strcmp(id, rec->key_id) != 0) {
		snprintf(err, errlen, "%s is not the key %s", path,
		    rec->key_id);
		sigkey_free(key);
		return -1;
	}
	*out = key;
	return 0;
}
