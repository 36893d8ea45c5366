/*
 * API keys: "pk_live_<publicId>.<secret>" or "pk_test_<publicId>.<secret>".
 * The publicId names the key record; only SHA-256 of the secret is kept,
 * and a presented secret is compared with it in constant time.  Secrets
 * are 256 random bits, so a fast hash is as strong here as a slow one.
 */
#ifndef TALLY_APIKEY_H
#define TALLY_APIKEY_H

#include <stddef.h>

#include "../store/store.h"

#define APIKEY_ID_BYTES		12	/* 24 hex digits */
#define APIKEY_SECRET_BYTES	32	/* 64 hex digits */
/* "pk_live_", an id (up to the store's bound), ".", the secret, NUL. */
#define APIKEY_TEXT_MAX		(8 + STORE_KEY_ID_MAX + 1 + \
				    2 * APIKEY_SECRET_BYTES + 1)

/* Who a request is, once its key checked out. */
struct principal {
	char			tenant[STORE_TENANT_MAX + 1];
	enum store_env		env;
	enum store_key_kind	kind;
	char			customer_id[STORE_CUSTOMER_MAX + 1];
	char			public_id[STORE_KEY_ID_MAX + 1];
};

enum apikey_rc {
	APIKEY_OK = 0,
	APIKEY_INVALID,		/* malformed, unknown, revoked or wrong */
	APIKEY_ERROR		/* the store failed; the key may be fine */
};

const char	*apikey_env_name(enum store_env);
const char	*apikey_kind_name(enum store_key_kind);

/*
 * Splits a key's text.  public_id must hold 2*APIKEY_ID_BYTES+1 bytes and
 * secret 2*APIKEY_SECRET_BYTES+1.  Returns 0, or -1 if malformed.
 */
int	apikey_parse(const char *text, enum store_env *env, char *public_id,
	    char *secret);
int	apikey_authenticate(struct store *, const char *text,
	    struct principal *);
/*
 * Creates a key for an existing tenant; customer_id is "" for a vendor
 * key.  The full key text (the only copy of its secret) is written to
 * text[APIKEY_TEXT_MAX].  Returns a store code: STORE_NOTFOUND if the
 * tenant does not exist.
 */
int	apikey_create(struct store *, const char *tenant, enum store_env,
	    enum store_key_kind, const char *customer_id,
	    char text[APIKEY_TEXT_MAX]);
/* Accepts a publicId or a full key's "pk_<env>_<publicId>" prefix. */
int	apikey_revoke(struct store *, const char *which);

#endif
