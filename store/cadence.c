/* Recording cadence settings: tenant+env default and customer overrides. */
#include <string.h>

#include "internal.h"
#include "pack.h"

/* Settings live under the customer key; customer "" is the default. */
int
store_cadence_put(struct store_txn *t, const char *tenant, enum store_env env,
    const char *customer_id, uint64_t interval_ms)
{
	uint8_t	key[STORE_TENANT_MAX + STORE_CUSTOMER_MAX + 8];
	size_t	klen;

	if ((klen = store_customer_key(key, sizeof(key), tenant, env,
	    customer_id)) == 0)
		return STORE_NOTFOUND;
	return store_kv_put_u64(t, STORE_DB_CADENCE, key, klen, interval_ms,
	    0);
}

int
store_cadence_get(struct store_txn *t, const char *tenant, enum store_env env,
    const char *customer_id, uint64_t *interval_ms, int *own)
{
	uint8_t	key[STORE_TENANT_MAX + STORE_CUSTOMER_MAX + 8];
	size_t	klen;
	int	rc;

	*interval_ms = 0;
	*own = 0;
	if ((klen = store_customer_key(key, sizeof(key), tenant, env,
	    customer_id)) == 0)
		return STORE_NOTFOUND;
	rc = store_kv_get_u64(t, STORE_DB_CADENCE, key, klen, interval_ms);
	if (rc != STORE_NOTFOUND) {
		*own = rc == STORE_OK;
		return rc;
	}
	klen = store_customer_key(key, sizeof(key), tenant, env, "");
	rc = store_kv_get_u64(t, STORE_DB_CADENCE, key, klen, interval_ms);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

struct cadence_each {
	size_t			 plen;
	store_cadence_fn	 fn;
	void			*arg;
};

static int
cadence_entry(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct cadence_each	*ce = arg;
	const char		*id = (const char *)key + ce->plen;

	if (klen <= ce->plen || vlen != 8 ||
	    ((const char *)key)[klen - 1] != '\0' ||
	    strlen(id) != klen - ce->plen - 1)
		return STORE_CORRUPT;
	return ce->fn(id, be64_get(val), ce->arg);
}

int
store_cadence_each(struct store_txn *t, const char *tenant, enum store_env env,
    store_cadence_fn fn, void *arg)
{
	uint8_t			prefix[STORE_TENANT_MAX + 8];
	struct cadence_each	ce = { 0, fn, arg };

	if ((ce.plen = store_tenant_key(prefix, sizeof(prefix), tenant,
	    env)) == 0)
		return STORE_OK;
	return store_kv_each_prefix(t, STORE_DB_CADENCE, prefix, ce.plen,
	    NULL, 0, cadence_entry, &ce);
}
