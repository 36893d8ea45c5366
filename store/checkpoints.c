/*
 * Checkpoints and their indexes.  Index keys end in the complement of a
 * global ordinal (and, by customer, of the month), so a forward cursor
 * meets the newest first and "the newest up to month m" is one seek.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "pack.h"

/*
 * Record versions: 1 for checkpoints whose statement is of version 1
 * (a month's deltas); 2 adds the statement's version and its salt.
 */
#define CHECKPOINT_VERSION	2
#define IKEY_MAX	(STORE_TENANT_MAX + STORE_CUSTOMER_MAX + 24)

static const char	ordinal_key[] = "checkpoints.count";

static void
checkpoint_pack(struct pack *pk, const struct store_checkpoint *c)
{
	pack_u8(pk, CHECKPOINT_VERSION);
	pack_str(pk, c->id);
	pack_str(pk, c->tenant);
	pack_u8(pk, (uint8_t)c->env);
	pack_str(pk, c->customer_id);
	pack_u64(pk, (uint64_t)c->month);
	pack_u64(pk, c->first_seq);
	pack_u64(pk, c->last_seq);
	pack_u64(pk, c->through_seq);
	pack_u64(pk, c->count);
	pack_i128(pk, c->starting);
	pack_i128(pk, c->net);
	pack_bytes(pk, c->proof_root, STORE_HASH_LEN);
	pack_str(pk, c->previous);
	pack_u64(pk, c->tree_size);
	pack_bytes(pk, c->root_hash, STORE_HASH_LEN);
	pack_str(pk, c->key_id);
	pack_str(pk, c->alg);
	pack_u64(pk, (uint64_t)c->created_ms);
	pack_str(pk, c->statement);
	pack_blob(pk, c->sig, c->sig_len);
	pack_u8(pk, (uint8_t)c->version);
	pack_bytes(pk, c->salt, STORE_HASH_LEN);
}

static int
checkpoint_unpack(const void *val, size_t vlen, struct store_checkpoint *c)
{
	struct unpack	 u;
	char		*sig;
	uint8_t		 env, record;

	memset(c, 0, sizeof(*c));
	unpack_init(&u, val, vlen);
	record = unpack_u8(&u);
	if (record < 1 || record > CHECKPOINT_VERSION)
		return STORE_CORRUPT;
	unpack_str(&u, c->id, sizeof(c->id));
	unpack_str(&u, c->tenant, sizeof(c->tenant));
	env = unpack_u8(&u);
	unpack_str(&u, c->customer_id, sizeof(c->customer_id));
	c->month = (int)unpack_u64(&u);
	c->first_seq = unpack_u64(&u);
	c->last_seq = unpack_u64(&u);
	c->through_seq = unpack_u64(&u);
	c->count = unpack_u64(&u);
	c->starting = unpack_i128(&u);
	c->net = unpack_i128(&u);
	unpack_bytes(&u, c->proof_root, STORE_HASH_LEN);
	unpack_str(&u, c->previous, sizeof(c->previous));
	c->tree_size = unpack_u64(&u);
	unpack_bytes(&u, c->root_hash, STORE_HASH_LEN);
	unpack_str(&u, c->key_id, sizeof(c->key_id));
	unpack_str(&u, c->alg, sizeof(c->alg));
	c->created_ms = (int64_t)unpack_u64(&u);
	unpack_str(&u, c->statement, sizeof(c->statement));
	sig = unpack_blob(&u, &c->sig_len);
	if (sig != NULL && c->sig_len <= sizeof(c->sig))
		memcpy(c->sig, sig, c->sig_len);
	else
		u.err = 1;
	free(sig);
	c->version = 1;
	if (record >= 2) {
		c->version = unpack_u8(&u);
		unpack_bytes(&u, c->salt, STORE_HASH_LEN);
	}
	if (u.err || u.left || env > STORE_ENV_LIVE || c->version < 1 ||
	    c->version > 2)
		return STORE_CORRUPT;
	c->env = (enum store_env)env;
	return STORE_OK;
}

/* customer key, ~month (and ~ordinal): 0 if it does not fit. */
static size_t
by_customer_key(uint8_t key[IKEY_MAX], const char *tenant, enum store_env env,
    const char *customer_id, int month)
{
	size_t	klen;

	if ((klen = store_customer_key(key, IKEY_MAX - 12, tenant, env,
	    customer_id)) == 0)
		return 0;
	be32_put(key + klen, ~(uint32_t)month);
	return klen + 4;
}

int
store_checkpoint_add(struct store_txn *t, const struct store_checkpoint *c)
{
	struct pack	pk = { 0 };
	uint8_t		key[IKEY_MAX];
	uint64_t	ordinal;
	size_t		klen;
	int		rc;

	rc = store_kv_get_u64(t, STORE_DB_META, ordinal_key,
	    sizeof(ordinal_key), &ordinal);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	checkpoint_pack(&pk, c);
	rc = pk.err ? STORE_NOMEM : store_kv_put(t, STORE_DB_CHECKPOINTS,
	    c->id, strlen(c->id), pk.buf, pk.len, 1);
	pack_free(&pk);
	if (rc != STORE_OK ||
	    (rc = store_kv_put_u64(t, STORE_DB_META, ordinal_key,
	    sizeof(ordinal_key), ordinal + 1, 0)) != STORE_OK)
		return rc;

	if ((klen = by_customer_key(key, c->tenant, c->env, c->customer_id,
	    c->month)) == 0)
		return STORE_CORRUPT;
	be64_put(key + klen, ~ordinal);
	if ((rc = store_kv_put(t, STORE_DB_CHKCUST, key, klen + 8, c->id,
	    strlen(c->id), 1)) != STORE_OK)
		return rc;
	if ((klen = store_tenant_key(key, IKEY_MAX - 8, c->tenant,
	    c->env)) == 0)
		return STORE_CORRUPT;
	be64_put(key + klen, ~ordinal);
	if ((rc = store_kv_put(t, STORE_DB_CHKTENANT, key, klen + 8, c->id,
	    strlen(c->id), 1)) != STORE_OK)
		return rc;
	memcpy(key, c->proof_root, STORE_HASH_LEN);
	be64_put(key + STORE_HASH_LEN, ~ordinal);
	return store_kv_put(t, STORE_DB_CHKROOT, key, STORE_HASH_LEN + 8,
	    c->id, strlen(c->id), 1);
}

int
store_checkpoint_get(struct store_txn *t, const char *id,
    struct store_checkpoint *c)
{
	void	*val = NULL;
	size_t	 vlen;
	int	 rc;

	memset(c, 0, sizeof(*c));
	if (strlen(id) > STORE_ID_MAX)
		return STORE_NOTFOUND;
	if ((rc = store_kv_get(t, STORE_DB_CHECKPOINTS, id, strlen(id), &val,
	    &vlen)) != STORE_OK)
		return rc;
	rc = checkpoint_unpack(val, vlen, c);
	free(val);
	return rc;
}

/* The first index entry at or after key that starts with prefix. */
static int
index_first(struct store_txn *t, enum store_db db, const uint8_t *key,
    size_t klen, size_t plen, struct store_checkpoint *c)
{
	void	*k = NULL, *v = NULL;
	size_t	 kl, vl;
	char	 id[STORE_ID_MAX + 1];
	int	 rc;

	if ((rc = store_kv_seek(t, db, key, klen, &k, &kl, &v, &vl)) !=
	    STORE_OK)
		return rc;
	if (kl < plen || memcmp(k, key, plen) != 0 || vl > STORE_ID_MAX)
		rc = STORE_NOTFOUND;
	else {
		memcpy(id, v, vl);
		id[vl] = '\0';
	}
	free(k);
	free(v);
	return rc != STORE_OK ? rc : store_checkpoint_get(t, id, c);
}

int
store_checkpoint_by_root(struct store_txn *t,
    const uint8_t root[STORE_HASH_LEN], struct store_checkpoint *c)
{
	return index_first(t, STORE_DB_CHKROOT, root, STORE_HASH_LEN,
	    STORE_HASH_LEN, c);
}

int
store_checkpoint_latest(struct store_txn *t, const char *tenant,
    enum store_env env, const char *customer_id, int month,
    struct store_checkpoint *c)
{
	uint8_t	key[IKEY_MAX];
	size_t	klen;

	memset(c, 0, sizeof(*c));
	if ((klen = by_customer_key(key, tenant, env, customer_id,
	    month)) == 0)
		return STORE_NOTFOUND;
	return index_first(t, STORE_DB_CHKCUST, key, klen, klen - 4, c);
}

struct each {
	struct store_txn	*t;
	store_checkpoint_fn	 fn;
	store_checkpoint_at_fn	 at_fn;	/* instead of fn, with positions */
	void			*arg;
};

static int
each_entry(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct each		*e = arg;
	struct store_checkpoint	 c;
	char			 id[STORE_ID_MAX + 1];
	int			 rc;

	if (vlen > STORE_ID_MAX || klen < 8)
		return STORE_CORRUPT;
	memcpy(id, val, vlen);
	id[vlen] = '\0';
	if ((rc = store_checkpoint_get(e->t, id, &c)) != STORE_OK)
		return rc == STORE_NOTFOUND ? STORE_CORRUPT : rc;
	/* An entry's position is its key's ~ordinal: newest first. */
	if (e->at_fn != NULL)
		return e->at_fn(&c, be64_get((const uint8_t *)key + klen - 8),
		    e->arg);
	return e->fn(&c, e->arg);
}

int
store_checkpoint_each(struct store_txn *t, const char *tenant,
    enum store_env env, const char *customer_id, store_checkpoint_fn fn,
    void *arg)
{
	uint8_t		prefix[IKEY_MAX];
	struct each	e = { t, fn, NULL, arg };
	size_t		plen;

	plen = customer_id != NULL ?
	    store_customer_key(prefix, sizeof(prefix), tenant, env,
	    customer_id) : store_tenant_key(prefix, sizeof(prefix), tenant, env);
	if (plen == 0)
		return STORE_OK;
	return store_kv_each_prefix(t, customer_id != NULL ? STORE_DB_CHKCUST :
	    STORE_DB_CHKTENANT, prefix, plen, NULL, 0, each_entry, &e);
}

int
store_checkpoint_each_from(struct store_txn *t, const char *tenant,
    enum store_env env, uint64_t from, store_checkpoint_at_fn fn, void *arg)
{
	uint8_t		key[IKEY_MAX];
	struct each	e = { t, NULL, fn, arg };
	size_t		plen;

	if ((plen = store_tenant_key(key, IKEY_MAX - 8, tenant, env)) == 0)
		return STORE_OK;
	be64_put(key + plen, from);
	return store_kv_each_prefix(t, STORE_DB_CHKTENANT, key, plen, key,
	    plen + 8, each_entry, &e);
}
