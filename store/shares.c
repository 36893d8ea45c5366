/* Shared Record links (SPEC 8): shares by handle, each customer's live one. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "pack.h"

#define SHARE_VERSION	1

static void
shares_pack(struct pack *pk, const struct store_share *s)
{
	pack_u8(pk, SHARE_VERSION);
	pack_str(pk, s->tenant);
	pack_u8(pk, (uint8_t)s->env);
	pack_str(pk, s->customer_id);
	pack_u8(pk, s->policy);
	pack_bytes(pk, s->code_key, sizeof(s->code_key));
	pack_bytes(pk, s->code_mac, sizeof(s->code_mac));
	pack_u64(pk, (uint64_t)s->created_ms);
	pack_u64(pk, (uint64_t)s->code_rotated_ms);
	pack_u64(pk, (uint64_t)s->revoked_ms);
	pack_u64(pk, s->wrong);
	pack_u64(pk, (uint64_t)s->next_try_ms);
}

static int
shares_unpack(const char *handle, const void *val, size_t vlen,
    struct store_share *s)
{
	struct unpack	u;
	uint8_t		env;

	memset(s, 0, sizeof(*s));
	if (strlen(handle) > STORE_SHARE_HANDLE_MAX)
		return STORE_CORRUPT;
	memcpy(s->handle, handle, strlen(handle) + 1);
	unpack_init(&u, val, vlen);
	if (unpack_u8(&u) != SHARE_VERSION)
		return STORE_CORRUPT;
	unpack_str(&u, s->tenant, sizeof(s->tenant));
	env = unpack_u8(&u);
	unpack_str(&u, s->customer_id, sizeof(s->customer_id));
	s->policy = unpack_u8(&u);
	unpack_bytes(&u, s->code_key, sizeof(s->code_key));
	unpack_bytes(&u, s->code_mac, sizeof(s->code_mac));
	s->created_ms = (int64_t)unpack_u64(&u);
	s->code_rotated_ms = (int64_t)unpack_u64(&u);
	s->revoked_ms = (int64_t)unpack_u64(&u);
	s->wrong = unpack_u64(&u);
	s->next_try_ms = (int64_t)unpack_u64(&u);
	if (u.err || u.left || env > STORE_ENV_LIVE)
		return STORE_CORRUPT;
	s->env = (enum store_env)env;
	return STORE_OK;
}

/* The customer's key in sharecust.db; 0 if it does not fit. */
static size_t
shares_cust_key(uint8_t *buf, size_t size, const struct store_share *s)
{
	return store_customer_key(buf, size, s->tenant, s->env,
	    s->customer_id);
}

int
store_share_add(struct store_txn *t, const struct store_share *s)
{
	uint8_t		key[STORE_TENANT_MAX + STORE_CUSTOMER_MAX + 8];
	size_t		klen;
	struct pack	pk = { 0 };
	int		rc;

	if ((klen = shares_cust_key(key, sizeof(key), s)) == 0)
		return STORE_NOTFOUND;
	if ((rc = store_kv_put(t, STORE_DB_SHARECUST, key, klen, s->handle,
	    strlen(s->handle), 1)) != STORE_OK)
		return rc;
	shares_pack(&pk, s);
	return store_put_packed(t, STORE_DB_SHARES, s->handle, &pk, 1);
}

int
store_share_update(struct store_txn *t, const struct store_share *s)
{
	struct store_share	 old;
	uint8_t			 key[STORE_TENANT_MAX + STORE_CUSTOMER_MAX + 8];
	size_t			 klen;
	struct pack		 pk = { 0 };
	int			 rc;

	if ((rc = store_share_get(t, s->handle, &old)) != STORE_OK)
		return rc;
	/* Revoking frees the customer for a new share. */
	if (s->revoked_ms != 0 && old.revoked_ms == 0) {
		if ((klen = shares_cust_key(key, sizeof(key), &old)) == 0)
			return STORE_CORRUPT;
		rc = store_kv_del(t, STORE_DB_SHARECUST, key, klen);
		if (rc != STORE_OK && rc != STORE_NOTFOUND)
			return rc;
	}
	shares_pack(&pk, s);
	return store_put_packed(t, STORE_DB_SHARES, s->handle, &pk, 0);
}

int
store_share_get(struct store_txn *t, const char *handle,
    struct store_share *s)
{
	void	*val = NULL;
	size_t	 vlen;
	int	 rc;

	if (strlen(handle) > STORE_SHARE_HANDLE_MAX)
		return STORE_NOTFOUND;
	rc = store_kv_get(t, STORE_DB_SHARES, handle, strlen(handle), &val,
	    &vlen);
	if (rc == STORE_OK)
		rc = shares_unpack(handle, val, vlen, s);
	free(val);
	return rc;
}

int
store_share_find(struct store_txn *t, const char *tenant, enum store_env env,
    const char *customer_id, struct store_share *s)
{
	uint8_t	 key[STORE_TENANT_MAX + STORE_CUSTOMER_MAX + 8];
	char	 handle[STORE_SHARE_HANDLE_MAX + 1];
	void	*val = NULL;
	size_t	 klen, vlen;
	int	 rc;

	if ((klen = store_customer_key(key, sizeof(key), tenant, env,
	    customer_id)) == 0)
		return STORE_NOTFOUND;
	if ((rc = store_kv_get(t, STORE_DB_SHARECUST, key, klen, &val,
	    &vlen)) != STORE_OK)
		return rc;
	if (vlen > STORE_SHARE_HANDLE_MAX) {
		free(val);
		return STORE_CORRUPT;
	}
	memcpy(handle, val, vlen);
	handle[vlen] = '\0';
	free(val);
	rc = store_share_get(t, handle, s);
	return rc == STORE_NOTFOUND ? STORE_CORRUPT : rc;
}
