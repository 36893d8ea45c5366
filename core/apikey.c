#include <stdio.h>
#include <string.h>

#include "../common/hex.h"
#include "../common/timefmt.h"
#include "../crypto/hash.h"
#include "../crypto/random.h"
#include "apikey.h"

#define ID_HEX		(2 * APIKEY_ID_BYTES)
#define SECRET_HEX	(2 * APIKEY_SECRET_BYTES)

const char *
apikey_env_name(enum store_env env)
{
	return env == STORE_ENV_LIVE ? "live" : "test";
}

const char *
apikey_kind_name(enum store_key_kind kind)
{
	return kind == STORE_KEY_CUSTOMER ? "customer" : "vendor";
}

static int
apikey_lowerhex(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* Reads "pk_live_" or "pk_test_"; returns the length consumed or 0. */
static size_t
apikey_prefix(const char *text, enum store_env *env)
{
	if (strncmp(text, "pk_live_", 8) == 0)
		*env = STORE_ENV_LIVE;
	else if (strncmp(text, "pk_test_", 8) == 0)
		*env = STORE_ENV_TEST;
	else
		return 0;
	return 8;
}

int
apikey_parse(const char *text, enum store_env *env, char *public_id,
    char *secret)
{
	size_t	n;

	if ((n = apikey_prefix(text, env)) == 0)
		return -1;
	text += n;
	if (strlen(text) != ID_HEX + 1 + SECRET_HEX || text[ID_HEX] != '.' ||
	    !apikey_lowerhex(text, ID_HEX) ||
	    !apikey_lowerhex(text + ID_HEX + 1, SECRET_HEX))
		return -1;
	memcpy(public_id, text, ID_HEX);
	public_id[ID_HEX] = '\0';
	memcpy(secret, text + ID_HEX + 1, SECRET_HEX);
	secret[SECRET_HEX] = '\0';
	return 0;
}

struct key_lookup {
	const char		*public_id;
	struct store_key	 key;
};

static int
apikey_lookup(struct store_txn *t, void *arg)
{
	struct key_lookup	*kl = arg;

	return store_key_get(t, kl->public_id, &kl->key);
}

int
apikey_authenticate(struct store *st, const char *text, struct principal *p)
{
	struct key_lookup	kl;
	char			public_id[ID_HEX + 1], secret[SECRET_HEX + 1];
	uint8_t			digest[HASH_LEN];
	enum store_env		env;
	int			rc, match;

	memset(p, 0, sizeof(*p));
	if (text == NULL || apikey_parse(text, &env, public_id, secret) < 0)
		return APIKEY_INVALID;
	memset(&kl, 0, sizeof(kl));
	kl.public_id = public_id;
	rc = store_read(st, apikey_lookup, &kl);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return APIKEY_ERROR;
	/*
	 * Hash and compare even for an unknown id, so the time taken does
	 * not tell an unknown id from a known one with a wrong secret.
	 */
	if (hash_sha256(secret, SECRET_HEX, digest) < 0)
		return APIKEY_ERROR;
	match = hash_equal(digest, kl.key.secret_hash, HASH_LEN);
	if (rc != STORE_OK || !match || kl.key.revoked_ms != 0 ||
	    kl.key.env != env)
		return APIKEY_INVALID;
	snprintf(p->tenant, sizeof(p->tenant), "%s", kl.key.tenant);
	p->env = kl.key.env;
	p->kind = kl.key.kind;
	snprintf(p->customer_id, sizeof(p->customer_id), "%s",
	    kl.key.customer_id);
	snprintf(p->public_id, sizeof(p->public_id), "%s", public_id);
	return APIKEY_OK;
}

static int
apikey_insert(struct store_txn *t, void *arg)
{
	struct store_key	*k = arg;
	struct store_tenant	 tn;
	int			 rc;

	if ((rc = store_tenant_get(t, k->tenant, &tn)) != STORE_OK)
		return rc;
	return store_key_add(t, k);
}

int
apikey_create(struct store *st, const char *tenant, enum store_env env,
    enum store_key_kind kind, const char *customer_id,
    char text[APIKEY_TEXT_MAX])
{
	struct store_key	k;
	char			secret[SECRET_HEX + 1];
	int			rc;

	memset(&k, 0, sizeof(k));
	snprintf(k.tenant, sizeof(k.tenant), "%s", tenant);
	snprintf(k.customer_id, sizeof(k.customer_id), "%s", customer_id);
	k.env = env;
	k.kind = kind;
	k.created_ms = timefmt_now_ms();
	if (random_hex(k.public_id, APIKEY_ID_BYTES) < 0 ||
	    random_hex(secret, APIKEY_SECRET_BYTES) < 0 ||
	    hash_sha256(secret, SECRET_HEX, k.secret_hash) < 0)
		return STORE_IO;
	if ((rc = store_write(st, apikey_insert, &k)) != STORE_OK)
		return rc;
	snprintf(text, APIKEY_TEXT_MAX, "pk_%s_%s.%s", apikey_env_name(env),
	    k.public_id, secret);
	memset(secret, 0, sizeof(secret));
	return STORE_OK;
}

static int
apikey_mark_revoked(struct store_txn *t, void *arg)
{
	struct store_key	 k;
	const char		*public_id = arg;
	int			 rc;

	if ((rc = store_key_get(t, public_id, &k)) != STORE_OK)
		return rc;
	if (k.revoked_ms != 0)
		return STORE_OK;
	k.revoked_ms = timefmt_now_ms();
	return store_key_update(t, &k);
}

int
apikey_revoke(struct store *st, const char *which)
{
	enum store_env	env;
	char		public_id[ID_HEX + 1];
	size_t		n;

	n = apikey_prefix(which, &env);
	snprintf(public_id, sizeof(public_id), "%s", which + n);
	if (strlen(which + n) < ID_HEX || !apikey_lowerhex(public_id, ID_HEX))
		return STORE_NOTFOUND;
	return store_write(st, apikey_mark_revoked, public_id);
}
