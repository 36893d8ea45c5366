#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/sbuf.h"
#include "../crypto/hash.h"
#include "../crypto/note.h"
#include "audit.h"
#include "emit.h"
#include "tlog.h"

#define AUDIT_CHUNK	4096		/* leaves per read transaction */
#define AUDIT_HOLE	(STORE_USER + 1)	/* the log has a gap: stop */
#define AUDIT_DONE	(STORE_USER + 2)	/* chunk complete */

struct audit_key {
	struct sigkey		*key;
	struct store_signkey	 rec;
};

struct audit {
	audit_report_fn		 report;
	void			*arg;
	struct audit_result	*res;
	struct audit_key	*keys;
	size_t			 nkeys;
	/* What the audit covers: the log and its tree as they were. */
	uint64_t		 log_size, tree_size;
	/* The tree rebuilt from recomputed leaf hashes. */
	struct merkle_edge	 edge, saved;
	uint64_t		 chunk_end;
	struct store_txn	*txn;
	struct sbuf		 leaf;
};

static void
audit_problem(struct audit *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
audit_problem(struct audit *a, const char *fmt, ...)
{
	char	line[256];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	a->res->problems++;
	if (a->report != NULL)
		a->report(a->arg, line);
}

static int
audit_add_key(const struct store_signkey *rec, void *arg)
{
	struct audit		*a = arg;
	struct audit_key	*k;

	k = realloc(a->keys, (a->nkeys + 1) * sizeof(*a->keys));
	if (k == NULL)
		return STORE_NOMEM;
	a->keys = k;
	k = &a->keys[a->nkeys++];
	k->rec = *rec;
	k->key = NULL;
	if (sigkey_from_public_pem(rec->pem, strlen(rec->pem), &k->key) < 0)
		audit_problem(a, "key %s: its public key does not parse",
		    rec->key_id);
	a->res->keys++;
	return STORE_OK;
}

static void
audit_free_keys(struct audit *a)
{
	size_t	i;

	for (i = 0; i < a->nkeys; i++)
		sigkey_free(a->keys[i].key);
	free(a->keys);
	a->keys = NULL;
	a->nkeys = 0;
}

static int
audit_begin(struct store_txn *t, void *arg)
{
	struct audit		*a = arg;
	struct store_sth	 h;
	int			 rc;

	audit_free_keys(a);
	a->res->keys = 0;
	if ((rc = store_log_size(t, &a->log_size)) != STORE_OK)
		return rc;
	rc = store_sth_latest(t, &h);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	a->tree_size = rc == STORE_OK ? h.size : 0;
	return store_signkey_each(t, audit_add_key, a);
}

static const struct audit_key *
audit_find_key(const struct audit *a, const char *key_id)
{
	size_t	i;

	for (i = 0; i < a->nkeys; i++)
		if (strcmp(a->keys[i].rec.key_id, key_id) == 0)
			return &a->keys[i];
	return NULL;
}

/* A head against the rebuilt tree of its size, and its signature. */
static void
audit_head(struct audit *a, const struct store_sth *h)
{
	const struct audit_key	*k;
	struct note_checkpoint	 cp;
	merkle_hash		 root;
	int			 rc;

	a->res->heads++;
	if (merkle_edge_root(&a->edge, root) != 0 ||
	    !hash_equal(root, h->root, sizeof(root)))
		audit_problem(a, "tree head %llu: its root is not the root of "
		    "the log's first %llu leaves", (unsigned long long)h->size,
		    (unsigned long long)h->size);
	if ((k = audit_find_key(a, h->key_id)) == NULL || k->key == NULL) {
		audit_problem(a, "tree head %llu: signed by unknown key %s",
		    (unsigned long long)h->size, h->key_id);
		return;
	}
	rc = note_open(h->note, strlen(h->note), k->key, k->rec.name, &cp);
	if (rc != NOTE_OK)
		audit_problem(a, "tree head %llu: signature by key %s: %s",
		    (unsigned long long)h->size, h->key_id, note_strerror(rc));
	else if (cp.size != h->size || !hash_equal(cp.root, h->root,
	    sizeof(cp.root)))
		audit_problem(a, "tree head %llu: the signed note is not this "
		    "head", (unsigned long long)h->size);
}

/* Each node the rebuilt tree completes, against the stored one. */
static int
audit_node(void *arg, unsigned level, uint64_t index, const merkle_hash hash)
{
	struct audit	*a = arg;
	merkle_hash	 stored;
	int		 rc;

	if (((index + 1) << level) > a->tree_size)
		return 0;	/* not integrated when the audit began */
	a->res->nodes++;
	if (level == 0)
		return 0;	/* the leaf itself: audit_leaf_hashes did it */
	rc = store_node_get(a->txn, level, index, stored);
	if (rc == STORE_NOTFOUND)
		audit_problem(a, "tree node (level %u, index %llu) is missing",
		    level, (unsigned long long)index);
	else if (rc != STORE_OK)
		return rc;
	else if (!hash_equal(stored, hash, sizeof(stored)))
		audit_problem(a, "tree node (level %u, index %llu) does not "
		    "match the leaves below it", level,
		    (unsigned long long)index);
	return 0;
}

static int
audit_leaf_hashes(struct audit *a, const struct store_delta *d,
    merkle_hash leaf)
{
	uint8_t			 content[HASH_LEN];
	merkle_hash		 stored;
	unsigned long long	 i = d->log_index;
	uint64_t		 found;
	int			 rc;

	a->leaf.len = 0;
	if (emit_leaf(d, &a->leaf) < 0 || a->leaf.oom)
		return STORE_NOMEM;
	if (a->leaf.len != d->leaf_len ||
	    memcmp(a->leaf.buf, d->leaf_data, d->leaf_len) != 0)
		audit_problem(a, "leaf %llu: its leaf data does not match the "
		    "delta's fields", i);
	if (hash_sha256(d->leaf_data, d->leaf_len, content) < 0 ||
	    merkle_leaf_hash(d->leaf_data, d->leaf_len, leaf) < 0)
		return STORE_NOMEM;
	if (!hash_equal(content, d->content_hash, sizeof(content)))
		audit_problem(a, "leaf %llu: contentHash does not match its "
		    "leaf data", i);
	if (!hash_equal(leaf, d->leaf_hash, MERKLE_HASH_LEN))
		audit_problem(a, "leaf %llu: leafHash does not match its leaf "
		    "data", i);
	if (d->log_index >= a->tree_size)
		return STORE_OK;
	rc = store_leaf_find(a->txn, leaf, &found);
	if (rc == STORE_NOTFOUND || (rc == STORE_OK && found != i))
		audit_problem(a, "leaf %llu: its hash does not lead to it", i);
	else if (rc != STORE_OK)
		return rc;
	/*
	 * The tree goes on from the leaf hash it committed to, so that one
	 * altered leaf is reported once, here, and not again in every node
	 * and head above it; those are checked against what they signed.
	 */
	rc = store_node_get(a->txn, 0, d->log_index, stored);
	if (rc == STORE_NOTFOUND)
		audit_problem(a, "leaf %llu: missing from the tree", i);
	else if (rc != STORE_OK)
		return rc;
	else if (!hash_equal(stored, leaf, MERKLE_HASH_LEN)) {
		audit_problem(a, "leaf %llu: the tree holds another leaf hash",
		    i);
		memcpy(leaf, stored, MERKLE_HASH_LEN);
	}
	return STORE_OK;
}

static int
audit_delta(const struct store_delta *d, void *arg)
{
	struct audit		*a = arg;
	struct store_sth	 h;
	merkle_hash		 leaf;
	int			 rc;

	if (a->edge.size == a->chunk_end)
		return AUDIT_DONE;
	if (d->log_index != a->edge.size) {
		audit_problem(a, "leaf %llu: missing from the log",
		    (unsigned long long)a->edge.size);
		return AUDIT_HOLE;
	}
	a->res->leaves++;
	if ((rc = audit_leaf_hashes(a, d, leaf)) != STORE_OK)
		return rc;
	if ((rc = merkle_edge_append(&a->edge, leaf, audit_node, a)) != 0)
		return rc < 0 ? STORE_NOMEM : rc;
	rc = store_sth_get(a->txn, a->edge.size, &h);
	if (rc == STORE_OK)
		audit_head(a, &h);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

static int
audit_chunk(struct store_txn *t, void *arg)
{
	struct audit		*a = arg;
	struct audit_result	 before = *a->res;
	int			 rc;

	a->txn = t;
	a->edge = a->saved;
	rc = store_delta_each(t, a->edge.size, audit_delta, a);
	if (rc == STORE_OK || rc == AUDIT_DONE) {
		if (a->edge.size != a->chunk_end) {
			audit_problem(a, "leaf %llu: missing from the log",
			    (unsigned long long)a->edge.size);
			return AUDIT_HOLE;
		}
		a->saved = a->edge;
		return STORE_OK;
	}
	if (rc == STORE_CONFLICT)
		*a->res = before;	/* it will be read again */
	return rc;
}

/* The empty tree's head, if one was signed, and heads past the log. */
static int
audit_ends(struct store_txn *t, void *arg)
{
	struct audit		*a = arg;
	struct store_sth	 h;
	uint64_t		 size;
	int			 rc;

	a->edge.size = 0;
	if ((rc = store_sth_get(t, 0, &h)) == STORE_OK)
		audit_head(a, &h);
	else if (rc != STORE_NOTFOUND)
		return rc;
	if ((rc = store_log_size(t, &size)) != STORE_OK)
		return rc;
	rc = store_sth_latest(t, &h);
	if (rc == STORE_OK && h.size > size)
		audit_problem(a, "tree head %llu: covers leaves the log does "
		    "not have (%llu)", (unsigned long long)h.size,
		    (unsigned long long)size);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

int
audit_run(struct store *st, audit_report_fn report, void *arg,
    struct audit_result *res)
{
	struct audit	*a;
	int		 rc;

	memset(res, 0, sizeof(*res));
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return STORE_NOMEM;
	a->report = report;
	a->arg = arg;
	a->res = res;
	if ((rc = store_read(st, audit_begin, a)) != STORE_OK ||
	    (rc = store_read(st, audit_ends, a)) != STORE_OK)
		goto out;
	memset(&a->saved, 0, sizeof(a->saved));
	while (a->saved.size < a->log_size) {
		a->chunk_end = a->log_size - a->saved.size > AUDIT_CHUNK ?
		    a->saved.size + AUDIT_CHUNK : a->log_size;
		if ((rc = store_read(st, audit_chunk, a)) != STORE_OK)
			break;
	}
	if (rc == AUDIT_HOLE)
		rc = STORE_OK;	/* reported; nothing after it can be checked */
out:
	audit_free_keys(a);
	sbuf_free(&a->leaf);
	free(a);
	return rc;
}
