#include <sys/uio.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/grow.h"
#include "../common/hex.h"
#include "../common/netaddr.h"
#include "../common/timefmt.h"
#include "../crypto/hash.h"
#include "../crypto/random.h"
#include "view.h"
#include "webhook.h"

#define ID_BYTES	16	/* evt_, whk_: 128 random bits */
#define SECRET_BYTES	32

struct webhook_targets {
	struct store_webhook	*list;
	size_t			 n, cap;
};

static int
webhook_targets_add(const struct store_webhook *w, void *arg)
{
	struct webhook_targets	*tg = arg;

	if (grow(&tg->list, &tg->cap, tg->n + 1, sizeof(*tg->list)) < 0)
		return STORE_NOMEM;
	tg->list[tg->n++] = *w;
	return STORE_OK;
}

int
webhook_targets_load(struct store_txn *t, struct webhook_targets **out)
{
	struct webhook_targets	*tg;
	int			 rc;

	if ((*out = tg = calloc(1, sizeof(*tg))) == NULL)
		return STORE_NOMEM;
	if ((rc = store_webhook_each(t, webhook_targets_add, tg)) != STORE_OK) {
		webhook_targets_free(tg);
		*out = NULL;
	}
	return rc;
}

void
webhook_targets_free(struct webhook_targets *tg)
{
	if (tg == NULL)
		return;
	free(tg->list);
	free(tg);
}

int
webhook_targets_none(const struct webhook_targets *tg)
{
	return tg->n == 0;
}

/*
 * Writes one event per endpoint of tenant+env; data is built for each,
 * since a JSON object has one parent.
 */
static int
webhook_fan_out(struct store_txn *t, const struct webhook_targets *tg,
    const char *tenant, enum store_env env, const char *name,
    struct json_object *(*build)(const void *), const void *arg)
{
	struct store_event	e;
	char			hex[2 * ID_BYTES + 1];
	size_t			i;
	int			rc = STORE_OK;

	for (i = 0; i < tg->n && rc == STORE_OK; i++) {
		if (tg->list[i].env != env ||
		    strcmp(tg->list[i].tenant, tenant) != 0)
			continue;
		memset(&e, 0, sizeof(e));
		if (random_hex(hex, ID_BYTES) < 0)
			return STORE_IO;
		snprintf(e.id, sizeof(e.id), "evt_%s", hex);
		snprintf(e.tenant, sizeof(e.tenant), "%s", tenant);
		e.env = env;
		snprintf(e.webhook_id, sizeof(e.webhook_id), "%s",
		    tg->list[i].id);
		snprintf(e.url, sizeof(e.url), "%s", tg->list[i].url);
		snprintf(e.name, sizeof(e.name), "%s", name);
		e.status = STORE_EVENT_QUEUED;
		e.created_ms = e.next_ms = timefmt_now_ms();
		if ((e.body = view_text(view_webhook_event(e.id, name, tenant,
		    e.created_ms, build(arg)), &e.body_len)) == NULL)
			return STORE_NOMEM;
		rc = store_event_add(t, &e);
		store_event_free(&e);
	}
	return rc;
}

struct webhook_verified {
	const struct store_delta	*d;
	const struct store_sth		*head;
};

static struct json_object *
webhook_verified_data(const void *arg)
{
	const struct webhook_verified	*v = arg;

	return view_delta_verified(v->d, v->head);
}

int
webhook_delta_verified(struct store_txn *t, const struct webhook_targets *tg,
    const struct store_delta *d, const struct store_sth *head)
{
	struct webhook_verified	v = { d, head };

	return webhook_fan_out(t, tg, d->tenant, d->env, "delta.verified",
	    webhook_verified_data, &v);
}

static struct json_object *
webhook_failed_data(const void *arg)
{
	const struct webhook_failure	*f = arg;

	return view_delta_failed(f->index, f->item);
}

int
webhook_delta_failed(struct store_txn *t, const struct webhook_targets *tg,
    const struct webhook_failure *f)
{
	return webhook_fan_out(t, tg, f->tenant, f->env, "delta.failed",
	    webhook_failed_data, f);
}

static struct json_object *
webhook_checkpoint_data(const void *arg)
{
	return view_checkpoint(arg);
}

int
webhook_checkpoint_verified(struct store_txn *t,
    const struct webhook_targets *tg, const struct store_checkpoint *c)
{
	return webhook_fan_out(t, tg, c->tenant, c->env, "checkpoint.verified",
	    webhook_checkpoint_data, c);
}

/*
 * http(s)://host[:port][/path][?query]: no credentials (they would be
 * shown by `webhook list`), no fragment, printable ASCII only.
 */
static int
url_check(const char *url, int allow_private, char *err, size_t errlen)
{
	const char	*p, *host, *end;
	char		 name[256];
	size_t		 len;

	for (p = url; *p != '\0'; p++)
		if (*p <= ' ' || *p > '~' || *p == '#') {
			snprintf(err, errlen, "the URL may hold printable "
			    "ASCII only, without spaces or a fragment");
			return -1;
		}
	if (p - url > STORE_URL_MAX) {
		snprintf(err, errlen, "the URL is longer than %d bytes",
		    STORE_URL_MAX);
		return -1;
	}
	if (strncasecmp(url, "https://", 8) == 0)
		host = url + 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		host = url + 7;
	else {
		snprintf(err, errlen, "the URL must start with https:// or "
		    "http://");
		return -1;
	}
	end = host + strcspn(host, "/?");
	if (memchr(host, '@', (size_t)(end - host)) != NULL) {
		snprintf(err, errlen, "the URL may not hold credentials");
		return -1;
	}
	if (*host == '[') {
		p = memchr(host, ']', (size_t)(end - host));
		host++;
	} else
		p = memchr(host, ':', (size_t)(end - host));
	len = (size_t)((p != NULL ? p : end) - host);
	if (len == 0 || len >= sizeof(name)) {
		snprintf(err, errlen, "the URL has no host");
		return -1;
	}
	memcpy(name, host, len);
	name[len] = '\0';
	if (!allow_private && netaddr_literal_private(name)) {
		snprintf(err, errlen, "%s is not a public address (see "
		    "webhook_allow_private in tally.conf)", name);
		return -1;
	}
	return 0;
}

static int
new_secret(char out[STORE_WHSEC_MAX + 1])
{
	char	hex[2 * SECRET_BYTES + 1];

	if (random_hex(hex, SECRET_BYTES) < 0)
		return -1;
	snprintf(out, STORE_WHSEC_MAX + 1, "whsec_%s", hex);
	explicit_bzero(hex, sizeof(hex));
	return 0;
}

int
webhook_endpoint_new(struct store_webhook *w, const char *tenant,
    enum store_env env, const char *url, int allow_private, char *err,
    size_t errlen)
{
	char	hex[2 * ID_BYTES + 1];

	memset(w, 0, sizeof(*w));
	if (url_check(url, allow_private, err, errlen) < 0)
		return -1;
	if (random_hex(hex, ID_BYTES) < 0 || new_secret(w->secret) < 0) {
		snprintf(err, errlen, "no random bytes");
		return -1;
	}
	snprintf(w->id, sizeof(w->id), "whk_%s", hex);
	snprintf(w->tenant, sizeof(w->tenant), "%s", tenant);
	w->env = env;
	snprintf(w->url, sizeof(w->url), "%s", url);
	w->created_ms = timefmt_now_ms();
	return 0;
}

int
webhook_endpoint_rotate(struct store_webhook *w, int64_t now_ms)
{
	memcpy(w->old_secret, w->secret, sizeof(w->old_secret));
	w->old_until_ms = now_ms + WEBHOOK_OVERLAP_MS;
	return new_secret(w->secret);
}

/* Appends ",v1=<hex>" (without the comma first) for one secret. */
static int
sign_with(const char *secret, const char *timestamp, const void *body,
    size_t len, char *out, size_t outlen)
{
	struct iovec	parts[3];
	uint8_t		mac[HASH_LEN];
	char		hex[2 * HASH_LEN + 1];
	size_t		used = strlen(out);

	parts[0].iov_base = (void *)(uintptr_t)timestamp;
	parts[0].iov_len = strlen(timestamp);
	parts[1].iov_base = (void *)(uintptr_t)".";
	parts[1].iov_len = 1;
	parts[2].iov_base = (void *)(uintptr_t)body;
	parts[2].iov_len = len;
	if (hash_hmac_sha256(secret, strlen(secret), parts, 3, mac) < 0)
		return -1;
	hex_encode(mac, sizeof(mac), hex);
	snprintf(out + used, outlen - used, "%sv1=%s", used ? "," : "", hex);
	return 0;
}

int
webhook_sign(const struct store_webhook *w, int64_t now_ms,
    const char *timestamp, const void *body, size_t len,
    char out[WEBHOOK_SIG_MAX + 1])
{
	out[0] = '\0';
	if (sign_with(w->secret, timestamp, body, len, out,
	    WEBHOOK_SIG_MAX + 1) < 0)
		return -1;
	if (w->old_secret[0] != '\0' && now_ms < w->old_until_ms)
		return sign_with(w->old_secret, timestamp, body, len, out,
		    WEBHOOK_SIG_MAX + 1);
	return 0;
}

