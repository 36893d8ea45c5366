/*
 * Webhook endpoints and the outbox of events.  A queued event also has a
 * key in the due queue (next attempt, id), so the courier's question
 * "what is due now" is a walk from the start of one small index, and a
 * key in the tenant's list (~createdAt, id), newest first.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "pack.h"

#define WEBHOOK_VERSION	1
#define EVENT_VERSION	1
#define DUE_KEY_MAX	(8 + STORE_ID_MAX)
#define LIST_KEY_MAX	(STORE_TENANT_MAX + 4 + 8 + STORE_ID_MAX)

static void
webhook_pack(struct pack *pk, const struct store_webhook *w)
{
	pack_u8(pk, WEBHOOK_VERSION);
	pack_str(pk, w->tenant);
	pack_u8(pk, (uint8_t)w->env);
	pack_str(pk, w->url);
	pack_str(pk, w->secret);
	pack_str(pk, w->old_secret);
	pack_u64(pk, (uint64_t)w->old_until_ms);
	pack_u64(pk, (uint64_t)w->created_ms);
}

static int
webhook_unpack(const void *id, size_t idlen, const void *val, size_t vlen,
    struct store_webhook *w)
{
	struct unpack	u;
	uint8_t		env;

	memset(w, 0, sizeof(*w));
	if (idlen > STORE_ID_MAX)
		return STORE_CORRUPT;
	memcpy(w->id, id, idlen);
	unpack_init(&u, val, vlen);
	if (unpack_u8(&u) != WEBHOOK_VERSION)
		return STORE_CORRUPT;
	unpack_str(&u, w->tenant, sizeof(w->tenant));
	env = unpack_u8(&u);
	unpack_str(&u, w->url, sizeof(w->url));
	unpack_str(&u, w->secret, sizeof(w->secret));
	unpack_str(&u, w->old_secret, sizeof(w->old_secret));
	w->old_until_ms = (int64_t)unpack_u64(&u);
	w->created_ms = (int64_t)unpack_u64(&u);
	if (u.err || u.left || env > STORE_ENV_LIVE)
		return STORE_CORRUPT;
	w->env = (enum store_env)env;
	return STORE_OK;
}

int
store_webhook_add(struct store_txn *t, const struct store_webhook *w)
{
	struct pack	pk = { 0 };

	webhook_pack(&pk, w);
	return store_put_packed(t, STORE_DB_WEBHOOKS, w->id, &pk, 1);
}

int
store_webhook_update(struct store_txn *t, const struct store_webhook *w)
{
	struct pack	pk = { 0 };

	webhook_pack(&pk, w);
	return store_put_packed(t, STORE_DB_WEBHOOKS, w->id, &pk, 0);
}

int
store_webhook_get(struct store_txn *t, const char *id,
    struct store_webhook *w)
{
	void	*val = NULL;
	size_t	 vlen;
	int	 rc;

	rc = store_kv_get(t, STORE_DB_WEBHOOKS, id, strlen(id), &val, &vlen);
	if (rc == STORE_OK)
		rc = webhook_unpack(id, strlen(id), val, vlen, w);
	free(val);
	return rc;
}

int
store_webhook_delete(struct store_txn *t, const char *id)
{
	return store_kv_del(t, STORE_DB_WEBHOOKS, id, strlen(id));
}

struct webhook_each {
	store_webhook_fn	 fn;
	void			*arg;
};

static int
webhook_each_record(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg)
{
	struct webhook_each	*we = arg;
	struct store_webhook	 w;
	int			 rc;

	if ((rc = webhook_unpack(key, klen, val, vlen, &w)) != STORE_OK)
		return rc;
	return we->fn(&w, we->arg);
}

int
store_webhook_each(struct store_txn *t, store_webhook_fn fn, void *arg)
{
	struct webhook_each	we = { fn, arg };

	return store_kv_each(t, STORE_DB_WEBHOOKS, NULL, 0,
	    webhook_each_record, &we);
}

void
store_event_free(struct store_event *e)
{
	free(e->body);
	e->body = NULL;
}

static void
event_pack(struct pack *pk, const struct store_event *e)
{
	pack_u8(pk, EVENT_VERSION);
	pack_str(pk, e->tenant);
	pack_u8(pk, (uint8_t)e->env);
	pack_str(pk, e->webhook_id);
	pack_str(pk, e->url);
	pack_str(pk, e->name);
	pack_u8(pk, (uint8_t)e->status);
	pack_u64(pk, e->attempts);
	pack_u64(pk, e->retry_base);
	pack_u64(pk, (uint64_t)e->last_code);
	pack_str(pk, e->last_error);
	pack_u64(pk, (uint64_t)e->created_ms);
	pack_u64(pk, (uint64_t)e->next_ms);
	pack_u64(pk, (uint64_t)e->done_ms);
	pack_blob(pk, e->body, e->body_len);
}

static int
event_unpack(const char *id, const void *val, size_t vlen,
    struct store_event *e)
{
	struct unpack	u;
	uint8_t		env, status;

	memset(e, 0, sizeof(*e));
	snprintf(e->id, sizeof(e->id), "%s", id);
	unpack_init(&u, val, vlen);
	if (unpack_u8(&u) != EVENT_VERSION)
		return STORE_CORRUPT;
	unpack_str(&u, e->tenant, sizeof(e->tenant));
	env = unpack_u8(&u);
	unpack_str(&u, e->webhook_id, sizeof(e->webhook_id));
	unpack_str(&u, e->url, sizeof(e->url));
	unpack_str(&u, e->name, sizeof(e->name));
	status = unpack_u8(&u);
	e->attempts = unpack_u64(&u);
	e->retry_base = unpack_u64(&u);
	e->last_code = (int)unpack_u64(&u);
	unpack_str(&u, e->last_error, sizeof(e->last_error));
	e->created_ms = (int64_t)unpack_u64(&u);
	e->next_ms = (int64_t)unpack_u64(&u);
	e->done_ms = (int64_t)unpack_u64(&u);
	e->body = unpack_blob(&u, &e->body_len);
	if (u.err || u.left || env > STORE_ENV_LIVE ||
	    status > STORE_EVENT_FAILED) {
		store_event_free(e);
		return STORE_CORRUPT;
	}
	e->env = (enum store_env)env;
	e->status = (enum store_event_status)status;
	return STORE_OK;
}

/* next attempt, id: the due queue's key. */
static size_t
due_key(uint8_t key[DUE_KEY_MAX], const struct store_event *e)
{
	size_t	idlen = strlen(e->id);

	be64_put(key, (uint64_t)e->next_ms);
	memcpy(key + 8, e->id, idlen);
	return 8 + idlen;
}

/* tenant, env, ~createdAt, id: newest first in a forward walk. */
static size_t
list_key(uint8_t key[LIST_KEY_MAX], const struct store_event *e)
{
	size_t	plen, idlen = strlen(e->id);

	if ((plen = store_tenant_key(key, LIST_KEY_MAX - 8 - STORE_ID_MAX,
	    e->tenant, e->env)) == 0)
		return 0;
	be64_put(key + plen, ~(uint64_t)e->created_ms);
	memcpy(key + plen + 8, e->id, idlen);
	return plen + 8 + idlen;
}

static int
event_put(struct store_txn *t, const struct store_event *e, int unique)
{
	struct pack	pk = { 0 };

	if (e->body_len > STORE_EVENT_BODY_MAX)
		return STORE_IO;
	event_pack(&pk, e);
	return store_put_packed(t, STORE_DB_EVENTS, e->id, &pk, unique);
}

int
store_event_add(struct store_txn *t, const struct store_event *e)
{
	uint8_t	key[LIST_KEY_MAX];
	size_t	klen;
	int	rc;

	if ((klen = list_key(key, e)) == 0)
		return STORE_NOTFOUND;
	if ((rc = event_put(t, e, 1)) != STORE_OK ||
	    (rc = store_kv_put(t, STORE_DB_EVLIST, key, klen, "", 0, 0)) !=
	    STORE_OK || e->status != STORE_EVENT_QUEUED)
		return rc;
	klen = due_key(key, e);
	return store_kv_put(t, STORE_DB_EVDUE, key, klen, "", 0, 0);
}

int
store_event_update(struct store_txn *t, const struct store_event *e)
{
	struct store_event	old;
	uint8_t			key[DUE_KEY_MAX];
	size_t			klen;
	int			rc;

	if ((rc = store_event_get(t, e->id, &old)) != STORE_OK)
		return rc;
	store_event_free(&old);
	if (old.status == STORE_EVENT_QUEUED) {
		klen = due_key(key, &old);
		rc = store_kv_del(t, STORE_DB_EVDUE, key, klen);
		if (rc != STORE_OK && rc != STORE_NOTFOUND)
			return rc;
	}
	if ((rc = event_put(t, e, 0)) != STORE_OK ||
	    e->status != STORE_EVENT_QUEUED)
		return rc;
	klen = due_key(key, e);
	return store_kv_put(t, STORE_DB_EVDUE, key, klen, "", 0, 0);
}

int
store_event_get(struct store_txn *t, const char *id, struct store_event *e)
{
	void	*val = NULL;
	size_t	 vlen;
	int	 rc;

	if (strlen(id) > STORE_ID_MAX)
		return STORE_NOTFOUND;
	rc = store_kv_get(t, STORE_DB_EVENTS, id, strlen(id), &val, &vlen);
	if (rc == STORE_OK)
		rc = event_unpack(id, val, vlen, e);
	free(val);
	return rc;
}

/* The id at the end of an index key, after a fixed-size part. */
static int
key_id(const void *key, size_t klen, size_t skip, char id[STORE_ID_MAX + 1])
{
	if (klen <= skip || klen - skip > STORE_ID_MAX)
		return STORE_CORRUPT;
	memcpy(id, (const uint8_t *)key + skip, klen - skip);
	id[klen - skip] = '\0';
	return STORE_OK;
}

struct due_walk {
	int64_t			 now_ms;
	store_event_id_fn	 fn;
	void			*arg;
};

static int
due_record(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct due_walk	*dw = arg;
	char		 id[STORE_ID_MAX + 1];
	int		 rc;

	(void)val;
	(void)vlen;
	if ((rc = key_id(key, klen, 8, id)) != STORE_OK)
		return rc;
	if ((int64_t)be64_get(key) > dw->now_ms)
		return STORE_NOTFOUND;	/* the rest is later still */
	return dw->fn(id, dw->arg);
}

int
store_event_due(struct store_txn *t, int64_t now_ms, store_event_id_fn fn,
    void *arg)
{
	struct due_walk	dw = { now_ms, fn, arg };
	int		rc;

	rc = store_kv_each(t, STORE_DB_EVDUE, NULL, 0, due_record, &dw);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

static int
next_record(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	int64_t	*next_ms = arg;

	(void)val;
	(void)vlen;
	if (klen <= 8)
		return STORE_CORRUPT;
	*next_ms = (int64_t)be64_get(key);
	return STORE_STOP;	/* the first is the soonest */
}

int
store_event_next(struct store_txn *t, int64_t *next_ms)
{
	int	rc;

	rc = store_kv_each(t, STORE_DB_EVDUE, NULL, 0, next_record, next_ms);
	if (rc == STORE_STOP)
		return STORE_OK;
	return rc == STORE_OK ? STORE_NOTFOUND : rc;
}

struct list_walk {
	struct store_txn	*txn;
	size_t			 plen;
	store_event_fn		 fn;
	void			*arg;
};

static int
list_record(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct list_walk	*lw = arg;
	struct store_event	 e;
	char			 id[STORE_ID_MAX + 1];
	int			 rc;

	(void)val;
	(void)vlen;
	if ((rc = key_id(key, klen, lw->plen + 8, id)) != STORE_OK ||
	    (rc = store_event_get(lw->txn, id, &e)) != STORE_OK)
		return rc == STORE_NOTFOUND ? STORE_CORRUPT : rc;
	rc = lw->fn(&e, lw->arg);
	store_event_free(&e);
	return rc;
}

int
store_event_each(struct store_txn *t, const char *tenant, enum store_env env,
    store_event_fn fn, void *arg)
{
	uint8_t			prefix[STORE_TENANT_MAX + 4];
	struct list_walk	lw = { t, 0, fn, arg };

	if ((lw.plen = store_tenant_key(prefix, sizeof(prefix), tenant,
	    env)) == 0)
		return STORE_OK;
	return store_kv_each_prefix(t, STORE_DB_EVLIST, prefix, lw.plen,
	    NULL, 0, list_record, &lw);
}
