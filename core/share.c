#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

#include "../common/log.h"
#include "../crypto/hash.h"
#include "../crypto/random.h"
#include "share.h"

/* No 0/O, 1/I/L: a code is read off paper and typed. */
static const char share_alphabet[] = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
#define SHARE_ALPHABET_LEN	(sizeof(share_alphabet) - 1)
static const char share_base32[] = "abcdefghijklmnopqrstuvwxyz234567";
#define SHARE_HANDLE_BYTES	16

/* A transaction's own reasons to stop (store.h: STORE_USER and up). */
enum {
	SHARE_TXN_NO_TENANT = STORE_USER,
	SHARE_TXN_NO_SHARE
};

const char *
share_strerror(enum share_rc rc)
{
	switch (rc) {
	case SHARE_OK:		return "ok";
	case SHARE_EXISTS:	return "the customer has a live share already";
	case SHARE_NOTFOUND:	return "no live share for that customer";
	case SHARE_NO_TENANT:	return "no such tenant";
	default:		return "the store failed";
	}
}

const char *
share_policy_name(enum share_policy p)
{
	switch (p) {
	case SHARE_GATED:	return "gated";
	case SHARE_OPEN:	return "open";
	default:		return "two_tier";
	}
}

int
share_policy_parse(const char *s, enum share_policy *out)
{
	enum share_policy	p;

	for (p = SHARE_TWO_TIER; p <= SHARE_OPEN; p++)
		if (strcmp(s, share_policy_name(p)) == 0) {
			*out = p;
			return 0;
		}
	return -1;
}

int
share_code_normalize(const char *in, char out[SHARE_CODE_LEN + 1])
{
	size_t	n = 0;
	int	ch;

	for (; *in != '\0'; in++) {
		if (*in == ' ' || *in == '-')
			continue;
		ch = toupper((unsigned char)*in);
		if (n == SHARE_CODE_LEN || strchr(share_alphabet, ch) == NULL)
			return -1;
		out[n++] = (char)ch;
	}
	out[n] = '\0';
	return n == SHARE_CODE_LEN ? 0 : -1;
}

/* A fresh code, each character uniform over the alphabet; 0 or -1. */
static int
share_code_new(char code[SHARE_CODE_LEN + 1])
{
	/* 248 = 8 * 31: a byte below it maps to the alphabet evenly. */
	uint8_t	b;
	size_t	n = 0;

	while (n < SHARE_CODE_LEN) {
		if (random_bytes(&b, 1) < 0)
			return -1;
		if (b < 8 * SHARE_ALPHABET_LEN)
			code[n++] = share_alphabet[b % SHARE_ALPHABET_LEN];
	}
	code[n] = '\0';
	return 0;
}

/* "s" and 16 random bytes in lowercase base32 (RFC 4648, no padding). */
static int
share_handle_new(char handle[SHARE_HANDLE_LEN + 1])
{
	uint8_t		b[SHARE_HANDLE_BYTES];
	unsigned	acc = 0, bits = 0;
	size_t		i, n = 0;

	if (random_bytes(b, sizeof(b)) < 0)
		return -1;
	handle[n++] = 's';
	for (i = 0; i < sizeof(b); i++) {
		acc = (acc << 8) | b[i];
		for (bits += 8; bits >= 5; bits -= 5)
			handle[n++] = share_base32[(acc >> (bits - 5)) & 31];
	}
	if (bits > 0)
		handle[n++] = share_base32[(acc << (5 - bits)) & 31];
	handle[n] = '\0';
	return 0;
}

/* The shape of a handle: a malformed one is not looked up. */
static int
share_handle_valid(const char *h)
{
	size_t	i;

	if (h == NULL || strlen(h) != SHARE_HANDLE_LEN || h[0] != 's')
		return 0;
	for (i = 1; i < SHARE_HANDLE_LEN; i++)
		if (strchr(share_base32, h[i]) == NULL)
			return 0;
	return 1;
}

static int
share_mac(const uint8_t key[STORE_SHARE_KEY_LEN], const char *code,
    uint8_t mac[STORE_HASH_LEN])
{
	struct iovec	part = { (void *)(uintptr_t)code, SHARE_CODE_LEN };

	return hash_hmac_sha256(key, STORE_SHARE_KEY_LEN, &part, 1, mac);
}

/* A new code for rec: a new key and its HMAC; the code into code. */
static int
share_code_set(struct store_share *rec, char code[SHARE_CODE_LEN + 1])
{
	if (share_code_new(code) < 0 ||
	    random_bytes(rec->code_key, sizeof(rec->code_key)) < 0 ||
	    share_mac(rec->code_key, code, rec->code_mac) < 0)
		return -1;
	rec->wrong = 0;
	rec->next_try_ms = 0;
	return 0;
}

static void
share_public(const struct store_share *rec, struct share *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->handle, sizeof(out->handle), "%s", rec->handle);
	snprintf(out->tenant, sizeof(out->tenant), "%s", rec->tenant);
	out->env = rec->env;
	snprintf(out->customer_id, sizeof(out->customer_id), "%s",
	    rec->customer_id);
	out->policy = rec->policy <= SHARE_OPEN ?
	    (enum share_policy)rec->policy : SHARE_GATED;
	out->created_ms = rec->created_ms;
	out->code_rotated_ms = rec->code_rotated_ms;
}

static enum share_rc
share_result(int rc)
{
	switch (rc) {
	case STORE_OK:			return SHARE_OK;
	case STORE_NOTFOUND:
	case SHARE_TXN_NO_SHARE:	return SHARE_NOTFOUND;
	case SHARE_TXN_NO_TENANT:	return SHARE_NO_TENANT;
	default:			return SHARE_FAILED;
	}
}

/* One change to a customer's share, in one transaction. */
struct share_change {
	const char		*tenant;
	enum store_env		 env;
	const char		*customer_id;
	int64_t			 now_ms;
	struct store_share	 rec;		/* in: a new share (create) */
	int			 existed;	/* create: found a live one */
	char			 code[SHARE_CODE_LEN + 1];
};

/* A change to the customer's share, as of now_ms. */
static void
share_change_init(struct share_change *ch, const char *tenant,
    enum store_env env, const char *customer_id, int64_t now_ms)
{
	memset(ch, 0, sizeof(*ch));
	ch->tenant = tenant;
	ch->env = env;
	ch->customer_id = customer_id;
	ch->now_ms = now_ms;
}

static int
share_create_txn(struct store_txn *t, void *arg)
{
	struct share_change	*ch = arg;
	struct store_tenant	 tn;
	struct store_share	 live;
	int			 rc;

	if ((rc = store_tenant_get(t, ch->tenant, &tn)) != STORE_OK)
		return rc == STORE_NOTFOUND ? SHARE_TXN_NO_TENANT : rc;
	rc = store_share_find(t, ch->tenant, ch->env, ch->customer_id, &live);
	ch->existed = rc == STORE_OK;
	if (rc == STORE_OK)
		ch->rec = live;
	if (rc != STORE_NOTFOUND)
		return rc;
	return store_share_add(t, &ch->rec);
}

enum share_rc
share_create(struct store *st, const char *tenant, enum store_env env,
    const char *customer_id, enum share_policy policy, int64_t now_ms,
    struct share *out, char code[SHARE_CODE_LEN + 1])
{
	struct share_change	ch;
	int			rc, tries;

	code[0] = '\0';
	/* A concurrent create may win the customer: then show its share. */
	for (tries = 0, rc = STORE_EXISTS; rc == STORE_EXISTS && tries < 2;
	    tries++) {
		share_change_init(&ch, tenant, env, customer_id, now_ms);
		snprintf(ch.rec.tenant, sizeof(ch.rec.tenant), "%s", tenant);
		ch.rec.env = env;
		snprintf(ch.rec.customer_id, sizeof(ch.rec.customer_id), "%s",
		    customer_id);
		ch.rec.policy = (uint8_t)policy;
		ch.rec.created_ms = ch.rec.code_rotated_ms = now_ms;
		if (share_handle_new(ch.rec.handle) < 0 ||
		    share_code_set(&ch.rec, ch.code) < 0)
			return SHARE_FAILED;
		rc = store_write(st, share_create_txn, &ch);
	}
	if (rc == STORE_OK)
		share_public(&ch.rec, out);
	if (rc == STORE_OK && !ch.existed)
		memcpy(code, ch.code, sizeof(ch.code));
	explicit_bzero(&ch, sizeof(ch));
	if (rc == STORE_OK && code[0] == '\0')
		return SHARE_EXISTS;
	return share_result(rc);
}

static int
share_find_txn(struct store_txn *t, void *arg)
{
	struct share_change	*ch = arg;

	return store_share_find(t, ch->tenant, ch->env, ch->customer_id,
	    &ch->rec);
}

enum share_rc
share_show(struct store *st, const char *tenant, enum store_env env,
    const char *customer_id, struct share *out)
{
	struct share_change	ch;
	int			rc;

	share_change_init(&ch, tenant, env, customer_id, 0);
	if ((rc = store_read(st, share_find_txn, &ch)) == STORE_OK)
		share_public(&ch.rec, out);
	explicit_bzero(&ch, sizeof(ch));
	return share_result(rc);
}

static int
share_rotate_txn(struct store_txn *t, void *arg)
{
	struct share_change	*ch = arg;
	int			 rc;

	if ((rc = share_find_txn(t, ch)) != STORE_OK)
		return rc;
	if (share_code_set(&ch->rec, ch->code) < 0)
		return STORE_IO;
	ch->rec.code_rotated_ms = ch->now_ms;
	return store_share_update(t, &ch->rec);
}

enum share_rc
share_rotate_code(struct store *st, const char *tenant, enum store_env env,
    const char *customer_id, int64_t now_ms, struct share *out,
    char code[SHARE_CODE_LEN + 1])
{
	struct share_change	ch;
	int			rc;

	share_change_init(&ch, tenant, env, customer_id, now_ms);
	code[0] = '\0';
	if ((rc = store_write(st, share_rotate_txn, &ch)) == STORE_OK) {
		share_public(&ch.rec, out);
		memcpy(code, ch.code, sizeof(ch.code));
	}
	explicit_bzero(&ch, sizeof(ch));
	return share_result(rc);
}

static int
share_revoke_txn(struct store_txn *t, void *arg)
{
	struct share_change	*ch = arg;
	int			 rc;

	if ((rc = share_find_txn(t, ch)) != STORE_OK)
		return rc;
	ch->rec.revoked_ms = ch->now_ms;
	return store_share_update(t, &ch->rec);
}

enum share_rc
share_revoke(struct store *st, const char *tenant, enum store_env env,
    const char *customer_id, int64_t now_ms, struct share *out)
{
	struct share_change	ch;
	int			rc;

	share_change_init(&ch, tenant, env, customer_id, now_ms);
	if ((rc = store_write(st, share_revoke_txn, &ch)) == STORE_OK)
		share_public(&ch.rec, out);
	explicit_bzero(&ch, sizeof(ch));
	return share_result(rc);
}

/* One access decision, in one transaction. */
struct share_check {
	const struct share_attempt *a;
	struct store_share	 rec;
	enum share_access	 result;
	long long		 retry_after;
};

/* The policy's answer to a caller without a code. */
static enum share_access
share_without_code(enum share_policy p, enum share_need need)
{
	if (p == SHARE_OPEN)
		return SHARE_ACCESS_FULL;
	if (p == SHARE_TWO_TIER && need == SHARE_NEED_SUMMARY)
		return SHARE_ACCESS_SUMMARY;
	return SHARE_ACCESS_CODE_REQUIRED;
}

/*
 * 1 if typed is rec's code, 0 if not, in time independent of where they
 * differ; -1 if the HMAC could not be computed (then nothing is known,
 * and nothing may be counted).
 */
static int
share_code_holds(const struct store_share *rec, const char *typed)
{
	char	code[SHARE_CODE_LEN + 1];
	uint8_t	mac[STORE_HASH_LEN];
	int	rc;

	/* A code that cannot be one is as wrong as any other. */
	if (share_code_normalize(typed, code) < 0)
		memset(code, '-', SHARE_CODE_LEN);
	rc = share_mac(rec->code_key, code, mac) < 0 ? -1 :
	    hash_equal(mac, rec->code_mac, sizeof(mac));
	explicit_bzero(code, sizeof(code));
	return rc;
}

static int
share_check_txn(struct store_txn *t, void *arg)
{
	struct share_check		*sc = arg;
	const struct share_attempt	*a = sc->a;
	int				 rc;

	rc = store_share_get(t, a->handle, &sc->rec);
	if (rc == STORE_NOTFOUND || (rc == STORE_OK &&
	    sc->rec.revoked_ms != 0)) {
		sc->result = SHARE_ACCESS_NOT_FOUND;
		return STORE_OK;
	}
	if (rc != STORE_OK)
		return rc;
	if (a->code == NULL || sc->rec.policy == SHARE_OPEN) {
		sc->result = share_without_code(sc->rec.policy, a->need);
		return STORE_OK;
	}
	if (sc->rec.wrong >= SHARE_WRONG_MAX &&
	    a->now_ms < sc->rec.next_try_ms) {
		sc->result = SHARE_ACCESS_LIMITED;
		sc->retry_after = (sc->rec.next_try_ms - a->now_ms + 999) /
		    1000;
		return STORE_OK;
	}
	if ((rc = share_code_holds(&sc->rec, a->code)) < 0)
		return STORE_NOMEM;
	if (rc == 1) {
		sc->result = SHARE_ACCESS_FULL;
		if (sc->rec.wrong == 0)
			return STORE_OK;
		sc->rec.wrong = 0;
		sc->rec.next_try_ms = 0;
		return store_share_update(t, &sc->rec);
	}
	sc->result = SHARE_ACCESS_CODE_INVALID;
	if (++sc->rec.wrong >= SHARE_WRONG_MAX)
		sc->rec.next_try_ms = a->now_ms + SHARE_RETRY_MS;
	return store_share_update(t, &sc->rec);
}

enum share_access
share_access(struct store *st, const struct share_attempt *a,
    struct share *out, long long *retry_after)
{
	struct share_check	sc;
	int			rc;

	*retry_after = 0;
	if (!share_handle_valid(a->handle))
		return SHARE_ACCESS_NOT_FOUND;
	memset(&sc, 0, sizeof(sc));
	sc.a = a;
	/* Only a code given may change the share: its count of wrong ones. */
	rc = a->code != NULL ? store_write(st, share_check_txn, &sc) :
	    store_read(st, share_check_txn, &sc);
	if (rc != STORE_OK)
		sc.result = SHARE_ACCESS_FAILED;
	else if (sc.result == SHARE_ACCESS_CODE_INVALID)
		log_msg(LOG_LEVEL_WARN, a->request_id, "shared: wrong access "
		    "code for link %.6s from %s (%llu in a row)", a->handle,
		    a->client != NULL ? a->client : "?",
		    (unsigned long long)sc.rec.wrong);
	if (sc.result == SHARE_ACCESS_FULL ||
	    sc.result == SHARE_ACCESS_SUMMARY)
		share_public(&sc.rec, out);
	*retry_after = sc.retry_after;
	explicit_bzero(&sc.rec, sizeof(sc.rec));
	return sc.result;
}

int
share_link(const char *public_url, const char *handle, char *out, size_t len)
{
	const char	*base = public_url != NULL ? public_url : "";
	size_t		 blen = strlen(base);
	int		 n;

	/* "https://tally.example.com/" and without the slash: one link. */
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	n = snprintf(out, len, "%.*s/c/%s", (int)blen, base, handle);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
share_link_host(const char *public_url, char *out, size_t len)
{
	const char	*p, *at;
	size_t		 n;

	if (public_url == NULL || (p = strstr(public_url, "://")) == NULL)
		return -1;
	p += 3;
	n = strcspn(p, "/?#");
	/* Credentials in a URL are nobody's to print. */
	if ((at = memchr(p, '@', n)) != NULL) {
		n -= (size_t)(at + 1 - p);
		p = at + 1;
	}
	if (n == 0 || n >= len)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

const char *
share_access_hint(enum share_policy p)
{
	return p == SHARE_OPEN ? NULL : "access code printed on your invoice";
}

enum share_rc
share_invoice(struct store *st, const char *tenant, enum store_env env,
    const char *customer_id, const char *public_url,
    struct share_invoice *inv)
{
	struct share	sh;
	enum share_rc	rc;

	memset(inv, 0, sizeof(*inv));
	rc = share_show(st, tenant, env, customer_id, &sh);
	if (rc == SHARE_NOTFOUND)
		return SHARE_OK;
	if (rc != SHARE_OK || share_link(public_url, sh.handle, inv->url,
	    sizeof(inv->url)) < 0)
		return SHARE_FAILED;
	if (share_link_host(public_url, inv->host, sizeof(inv->host)) < 0)
		inv->host[0] = '\0';
	inv->hint = share_access_hint(sh.policy);
	inv->has_share = 1;
	return SHARE_OK;
}
