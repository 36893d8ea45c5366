/* Tenant and API key records. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "pack.h"

#define TENANT_VERSION	1
#define KEY_VERSION	1

static void
tenant_pack(struct pack *pk, const struct store_tenant *tn)
{
	pack_u8(pk, TENANT_VERSION);
	pack_u64(pk, (uint64_t)tn->created_ms);
}

static int
tenant_unpack(const char *name, size_t nlen, const void *val, size_t vlen,
    struct store_tenant *tn)
{
	struct unpack	u;

	if (nlen > STORE_TENANT_MAX)
		return STORE_CORRUPT;
	memcpy(tn->name, name, nlen);
	tn->name[nlen] = '\0';
	unpack_init(&u, val, vlen);
	if (unpack_u8(&u) != TENANT_VERSION)
		return STORE_CORRUPT;
	tn->created_ms = (int64_t)unpack_u64(&u);
	return u.err || u.left ? STORE_CORRUPT : STORE_OK;
}

int
store_tenant_add(struct store_txn *t, const struct store_tenant *tn)
{
	struct pack	pk = { 0 };

	tenant_pack(&pk, tn);
	return store_put_packed(t, STORE_DB_TENANTS, tn->name, &pk, 1);
}

int
store_tenant_get(struct store_txn *t, const char *name,
    struct store_tenant *tn)
{
	void	*val = NULL;
	size_t	 vlen;
	int	 rc;

	rc = store_kv_get(t, STORE_DB_TENANTS, name, strlen(name), &val, &vlen);
	if (rc == STORE_OK)
		rc = tenant_unpack(name, strlen(name), val, vlen, tn);
	free(val);
	return rc;
}

struct tenant_each {
	store_tenant_fn	 fn;
	void		*arg;
};

static int
tenant_each_record(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg)
{
	struct tenant_each	*te = arg;
	struct store_tenant	 tn;
	int			 rc;

	if ((rc = tenant_unpack(key, klen, val, vlen, &tn)) != STORE_OK)
		return rc;
	return te->fn(&tn, te->arg);
}

int
store_tenant_each(struct store_txn *t, store_tenant_fn fn, void *arg)
{
	struct tenant_each	te = { fn, arg };

	return store_kv_each(t, STORE_DB_TENANTS, NULL, 0, tenant_each_record,
	    &te);
}

static void
key_pack(struct pack *pk, const struct store_key *k)
{
	pack_u8(pk, KEY_VERSION);
	pack_str(pk, k->tenant);
	pack_u8(pk, (uint8_t)k->env);
	pack_u8(pk, (uint8_t)k->kind);
	pack_str(pk, k->customer_id);
	pack_bytes(pk, k->secret_hash, sizeof(k->secret_hash));
	pack_u64(pk, (uint64_t)k->created_ms);
	pack_u64(pk, (uint64_t)k->revoked_ms);
}

static int
key_unpack(const char *id, size_t idlen, const void *val, size_t vlen,
    struct store_key *k)
{
	struct unpack	u;
	uint8_t		env, kind;

	memset(k, 0, sizeof(*k));
	if (idlen > STORE_KEY_ID_MAX)
		return STORE_CORRUPT;
	memcpy(k->public_id, id, idlen);
	unpack_init(&u, val, vlen);
	if (unpack_u8(&u) != KEY_VERSION)
		return STORE_CORRUPT;
	unpack_str(&u, k->tenant, sizeof(k->tenant));
	env = unpack_u8(&u);
	kind = unpack_u8(&u);
	unpack_str(&u, k->customer_id, sizeof(k->customer_id));
	unpack_bytes(&u, k->secret_hash, sizeof(k->secret_hash));
	k->created_ms = (int64_t)unpack_u64(&u);
	k->revoked_ms = (int64_t)unpack_u64(&u);
	if (u.err || u.left || env > STORE_ENV_LIVE ||
	    kind > STORE_KEY_CUSTOMER)
		return STORE_CORRUPT;
	k->env = (enum store_env)env;
	k->kind = (enum store_key_kind)kind;
	return STORE_OK;
}

int
store_key_add(struct store_txn *t, const struct store_key *k)
{
	struct pack	pk = { 0 };

	key_pack(&pk, k);
	return store_put_packed(t, STORE_DB_KEYS, k->public_id, &pk, 1);
}

int
store_key_update(struct store_txn *t, const struct store_key *k)
{
	struct store_key	old;
	struct pack		pk = { 0 };
	int			rc;

	if ((rc = store_key_get(t, k->public_id, &old)) != STORE_OK)
		return rc;
	key_pack(&pk, k);
	return store_put_packed(t, STORE_DB_KEYS, k->public_id, &pk, 0);
}

int
store_key_get(struct store_txn *t, const char *public_id, struct store_key *k)
{
	void	*val = NULL;
	size_t	 vlen;
	int	 rc;

	rc = store_kv_get(t, STORE_DB_KEYS, public_id, strlen(public_id), &val,
	    &vlen);
	if (rc == STORE_OK)
		rc = key_unpack(public_id, strlen(public_id), val, vlen, k);
	free(val);
	return rc;
}

struct key_each {
	store_key_fn	 fn;
	void		*arg;
};

static int
key_each_record(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct key_each		*ke = arg;
	struct store_key	 k;
	int			 rc;

	if ((rc = key_unpack(key, klen, val, vlen, &k)) != STORE_OK)
		return rc;
	return ke->fn(&k, ke->arg);
}

int
store_key_each(struct store_txn *t, store_key_fn fn, void *arg)
{
	struct key_each	ke = { fn, arg };

	return store_kv_each(t, STORE_DB_KEYS, NULL, 0, key_each_record, &ke);
}
