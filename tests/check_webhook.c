/*
 * Webhooks: which addresses may be targets, the signature, endpoint URLs,
 * the courier's wire format, the outbox in the store, and the events the
 * ledger and the integrator write in their own transactions.
 */
#include <sys/uio.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../common/hex.h"
#include "../common/netaddr.h"
#include "../common/timefmt.h"
#include "../core/integrator.h"
#include "../core/ledger.h"
#include "../core/tlog.h"
#include "../core/webhook.h"
#include "../crypto/hash.h"
#include "../deliver/wire.h"
#include "check.h"

START_TEST(private_addresses)
{
	static const struct {
		const char	*host;
		int		 private;
	} cases[] = {
		{ "127.0.0.1", 1 }, { "127.255.0.9", 1 }, { "10.1.2.3", 1 },
		{ "172.16.0.1", 1 }, { "172.31.255.255", 1 },
		{ "172.32.0.1", 0 }, { "192.168.1.1", 1 },
		{ "169.254.169.254", 1 }, { "100.64.0.1", 1 },
		{ "100.128.0.1", 0 }, { "0.0.0.0", 1 }, { "224.0.0.1", 1 },
		{ "255.255.255.255", 1 }, { "198.18.0.1", 1 },
		{ "192.0.2.1", 1 }, { "8.8.8.8", 0 }, { "93.184.216.34", 0 },
		{ "::1", 1 }, { "::", 1 }, { "fe80::1", 1 }, { "fc00::1", 1 },
		{ "fd12:3456::1", 1 }, { "ff02::1", 1 },
		{ "::ffff:127.0.0.1", 1 }, { "::ffff:10.0.0.1", 1 },
		{ "::ffff:8.8.8.8", 0 }, { "64:ff9b::7f00:1", 1 },
		{ "2001:db8::1", 1 }, { "2606:4700::1111", 0 },
		{ "example.com", 0 }, { "localhost.example", 0 },
		/* names: judged when resolved */
		/* Loopback and private however the resolver reads them. */
		{ "0x7f000001", 1 }, { "2130706433", 1 },
		{ "017700000001", 1 }, { "127.1", 1 }, { "0", 1 },
		{ "10.1", 1 }, { "0xa.0.0.1", 1 }, { "%31%32%37.0.0.1", 1 },
		{ "%31%30.0.0.1", 1 }, { "localhost", 1 },
		{ "LocalHost.", 1 }, { "api.localhost", 1 },
		{ "fe80::1%25lo", 1 }, { "fe80::1%lo", 1 },
		{ "2606:4700::1111%25eth0", 1 }, { "%3a%3a1", 1 },
		{ "127.0.0.1%00", 1 }, { "%zz", 1 },
		/* ...and public ones still public. */
		{ "0x08080808", 0 }, { "134744072", 0 }, { "8.8.2056", 0 },
		{ "%38.8.8.8", 0 },
	};
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(netaddr_literal_private(cases[i].host) ==
		    cases[i].private, "%s", cases[i].host);
}
END_TEST

/* RFC 4231, test case 2, the message in two parts. */
START_TEST(hmac_rfc4231)
{
	struct iovec	parts[2] = {
		{ (void *)(uintptr_t)"what do ya want ", 16 },
		{ (void *)(uintptr_t)"for nothing?", 12 },
	};
	uint8_t		mac[HASH_LEN];
	char		hex[2 * HASH_LEN + 1];

	ck_assert_int_eq(hash_hmac_sha256("Jefe", 4, parts, 2, mac), 0);
	hex_encode(mac, sizeof(mac), hex);
	ck_assert_str_eq(hex, "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843");
}
END_TEST

static void
expected_sig(const char *secret, const char *ts, const char *body,
    char out[70])
{
	struct iovec	parts[3] = {
		{ (void *)(uintptr_t)ts, strlen(ts) },
		{ (void *)(uintptr_t)".", 1 },
		{ (void *)(uintptr_t)body, strlen(body) },
	};
	uint8_t		mac[HASH_LEN];

	ck_assert_int_eq(hash_hmac_sha256(secret, strlen(secret), parts, 3,
	    mac), 0);
	memcpy(out, "v1=", 3);
	hex_encode(mac, sizeof(mac), out + 3);
}

START_TEST(signature_and_rotation)
{
	struct store_webhook	w;
	char			err[200], sig[WEBHOOK_SIG_MAX + 1], old[70];
	char			cur[70], both[2 * 70 + 2];
	const char		*body = "{\"id\":\"evt_1\"}";
	int64_t			now = 1700000000000LL;

	ck_assert_int_eq(webhook_endpoint_new(&w, "acme", STORE_ENV_LIVE,
	    "https://hooks.example.com/in", 0, err, sizeof(err)), 0);
	ck_assert_int_eq(strncmp(w.secret, "whsec_", 6), 0);
	ck_assert_uint_eq(strlen(w.secret), 70);
	ck_assert_int_eq(strncmp(w.id, "whk_", 4), 0);
	expected_sig(w.secret, "1700000000", body, old);
	ck_assert_int_eq(webhook_sign(&w, now, "1700000000", body,
	    strlen(body), sig), 0);
	ck_assert_str_eq(sig, old);

	ck_assert_int_eq(webhook_endpoint_rotate(&w, now), 0);
	expected_sig(w.secret, "1700000000", body, cur);
	ck_assert_str_ne(cur, old);
	snprintf(both, sizeof(both), "%s,%s", cur, old);
	ck_assert_int_eq(webhook_sign(&w, now + 1000, "1700000000", body,
	    strlen(body), sig), 0);
	ck_assert_str_eq(sig, both);
	/* The old secret stops signing after the overlap. */
	ck_assert_int_eq(webhook_sign(&w, now + WEBHOOK_OVERLAP_MS,
	    "1700000000", body, strlen(body), sig), 0);
	ck_assert_str_eq(sig, cur);
}
END_TEST

START_TEST(endpoint_urls)
{
	static const struct {
		const char	*url;
		int		 allow_private, ok;
	} cases[] = {
		{ "https://hooks.example.com/tally", 0, 1 },
		{ "http://example.com:8080/h?x=1", 0, 1 },
		{ "HTTPS://EXAMPLE.COM", 0, 1 },
		{ "https://[2606:4700::1111]/in", 0, 1 },
		{ "http://127.0.0.1:9000/", 0, 0 },
		{ "http://127.0.0.1:9000/", 1, 1 },
		{ "http://[::1]/", 0, 0 },
		{ "http://10.0.0.5/", 0, 0 },
		/* Loopback written every way the resolver reads it. */
		{ "http://0x7f000001/", 0, 0 },
		{ "http://2130706433:8080/", 0, 0 },
		{ "http://017700000001/", 0, 0 },
		{ "http://127.1/", 0, 0 },
		{ "http://0/", 0, 0 },
		{ "http://%31%32%37.0.0.1/", 0, 0 },
		{ "http://localhost:9000/", 0, 0 },
		{ "http://[fe80::1%25lo]/", 0, 0 },
		{ "http://localhost:9000/", 1, 1 },
		{ "ftp://example.com/", 0, 0 },
		{ "example.com/hook", 0, 0 },
		{ "https://", 0, 0 },
		{ "https://:443/", 0, 0 },
		{ "https://user:pw@example.com/", 0, 0 },
		{ "https://example.com/#frag", 0, 0 },
		{ "https://example.com/a b", 0, 0 },
		{ "https://example.com/\x01", 0, 0 },
		{ "https://exa\xc3\xa9mple.com/", 0, 0 },
	};
	struct store_webhook	w;
	char			err[200], *huge;
	size_t			i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		ck_assert_msg((webhook_endpoint_new(&w, "acme", STORE_ENV_LIVE,
		    cases[i].url, cases[i].allow_private, err,
		    sizeof(err)) == 0) == cases[i].ok, "%s: %s",
		    cases[i].url, err);
		ck_assert(cases[i].ok || err[0] != '\0');
	}
	ck_assert_ptr_nonnull(huge = malloc(STORE_URL_MAX + 2));
	memset(huge, 'a', STORE_URL_MAX + 1);
	memcpy(huge, "https://x/", 10);
	huge[STORE_URL_MAX + 1] = '\0';
	ck_assert_int_eq(webhook_endpoint_new(&w, "acme", STORE_ENV_LIVE, huge,
	    0, err, sizeof(err)), -1);
	huge[STORE_URL_MAX] = '\0';
	ck_assert_int_eq(webhook_endpoint_new(&w, "acme", STORE_ENV_LIVE, huge,
	    0, err, sizeof(err)), 0);
	free(huge);
}
END_TEST

START_TEST(wire_round_trip)
{
	static uint8_t		buf[WIRE_JOB_MAX];
	static const char	body[] = "{\"a\":1}\0tail";
	struct wire_job		j, back;
	struct wire_result	r, rback;
	uint8_t			rbuf[WIRE_RESULT_MAX];
	size_t			len, cut, rlen;

	memset(&j, 0, sizeof(j));
	j.id = 0x0102030405060708ULL;
	j.timeout_ms = 10000;
	j.allow_private = 1;
	j.url = "https://example.com/h";
	j.headers[0] = "X-Event-ID: evt_1";
	j.headers[1] = "X-Webhook-Event: delta.verified";
	j.nheaders = 2;
	j.body = body;
	j.body_len = sizeof(body) - 1;
	ck_assert_uint_gt(len = wire_job_encode(&j, buf, sizeof(buf)), 0);
	ck_assert_int_eq(wire_job_decode(buf, len, &back), 0);
	ck_assert(back.id == j.id);
	ck_assert_uint_eq(back.timeout_ms, 10000);
	ck_assert_int_eq(back.allow_private, 1);
	ck_assert_str_eq(back.url, j.url);
	ck_assert_uint_eq(back.nheaders, 2);
	ck_assert_str_eq(back.headers[1], j.headers[1]);
	ck_assert_uint_eq(back.body_len, j.body_len);
	ck_assert_mem_eq(back.body, body, j.body_len);
	/* Cut before the headers end: refused, never read past the end. */
	for (cut = 0; cut < len - j.body_len; cut++)
		ck_assert_msg(wire_job_decode(buf, cut, &back) == -1, "%zu",
		    cut);
	ck_assert_uint_eq(wire_job_encode(&j, buf, 20), 0);
	buf[13] = WIRE_HEADERS_MAX + 1;
	ck_assert_int_eq(wire_job_decode(buf, len, &back), -1);

	memset(&r, 0, sizeof(r));
	r.id = 7;
	r.code = 503;
	snprintf(r.error, sizeof(r.error), "HTTP 503");
	ck_assert_uint_gt(rlen = wire_result_encode(&r, rbuf, sizeof(rbuf)),
	    0);
	ck_assert_int_eq(wire_result_decode(rbuf, rlen, &rback), 0);
	ck_assert(rback.id == 7);
	ck_assert_int_eq(rback.code, 503);
	ck_assert_str_eq(rback.error, "HTTP 503");
	ck_assert_int_eq(wire_result_decode(rbuf, 11, &rback), -1);
}
END_TEST

/* The store, its ledger and integrator, and three endpoints. */
static char			 dir[512];
static struct store		*st;
static struct ledger		*led;
static struct principal		 who;

static int
add_endpoints(struct store_txn *t, void *arg)
{
	static const struct {
		const char	*tenant;
		enum store_env	 env;
	} eps[] = {
		{ "acme", STORE_ENV_LIVE }, { "acme", STORE_ENV_TEST },
		{ "other", STORE_ENV_LIVE },
	};
	struct store_webhook	w;
	char			err[200];
	size_t			i;
	int			rc;

	(void)arg;
	for (i = 0; i < sizeof(eps) / sizeof(eps[0]); i++) {
		ck_assert_int_eq(webhook_endpoint_new(&w, eps[i].tenant,
		    eps[i].env, "https://example.com/in", 0, err,
		    sizeof(err)), 0);
		if ((rc = store_webhook_add(t, &w)) != STORE_OK)
			return rc;
	}
	return STORE_OK;
}

static void
setup(void)
{
	struct store_signkey	rec;
	char			err[256];

	unit_ledger_setup(dir, sizeof(dir), &st, &led, &who);
	ck_assert_int_eq(store_write(st, tenant_add_named, "other"), STORE_OK);
	ck_assert_int_eq(store_write(st, add_endpoints, NULL), STORE_OK);
	ck_assert_msg(tlog_key_generate(st, dir, "test.example/log",
	    SIGKEY_ECDSA_P256, 0, &rec, err, sizeof(err)) == TLOG_KEY_OK, "%s",
	    err);
}

static void
teardown(void)
{
	unit_ledger_teardown(dir, st, led);
}

/* Everything of acme live's outbox, newest first. */
struct outbox {
	struct store_event	ev[64];
	size_t			n;
	size_t			due;
};

static int
outbox_event(const struct store_event *e, void *arg)
{
	struct outbox	*o = arg;

	ck_assert_uint_lt(o->n, 64);
	o->ev[o->n] = *e;
	o->ev[o->n].body = strdup(e->body);
	o->n++;
	return STORE_OK;
}

static int
outbox_due(const char *id, void *arg)
{
	(void)id;
	((struct outbox *)arg)->due++;
	return STORE_OK;
}

static int
outbox_txn(struct store_txn *t, void *arg)
{
	int	rc;

	if ((rc = store_event_each(t, "acme", STORE_ENV_LIVE, outbox_event,
	    arg)) != STORE_OK)
		return rc;
	return store_event_due(t, timefmt_now_ms() + 1, outbox_due, arg);
}

static void
outbox_read(struct outbox *o)
{
	memset(o, 0, sizeof(*o));
	ck_assert_int_eq(store_read(st, outbox_txn, o), STORE_OK);
}

static void
outbox_free(struct outbox *o)
{
	size_t	i;

	for (i = 0; i < o->n; i++)
		store_event_free(&o->ev[i]);
}

static const char *
body_string(const struct store_event *e, const char *path1,
    const char *path2, char *out, size_t outlen)
{
	struct json_object	*o, *v = NULL;

	ck_assert_ptr_nonnull(o = json_tokener_parse(e->body));
	json_object_object_get_ex(o, path1, &v);
	if (path2 != NULL)
		json_object_object_get_ex(v, path2, &v);
	snprintf(out, outlen, "%s", v ? json_object_get_string(v) : "null");
	json_object_put(o);
	return out;
}

START_TEST(events_written_with_the_change)
{
	struct ledger_item	it[2];
	struct ledger_request	req;
	struct integrator	*ig;
	struct outbox		o;
	uint64_t		size;
	char			err[256], text[128];
	size_t			i, verified = 0;

	ck_assert_int_eq(unit_emit(led, &who,
	    "{\"customerId\":\"c1\",\"delta\":1.5,\"reason\":\"r\"}"), STORE_OK);
	ck_assert_int_eq(unit_emit(led, &who,
	    "{\"customerId\":\"c2\",\"delta\":2,\"reason\":\"r\"}"), STORE_OK);
	unit_item_from(&it[0], "{\"customerId\":\"c1\",\"delta\":3,"
	    "\"reason\":\"r\"}");
	unit_item_from(&it[1], "{\"customerId\":\"c1\",\"delta\":\"x\","
	    "\"reason\":\"r\",\"referenceId\":\"ref-9\"}");
	memset(&req, 0, sizeof(req));
	req.who = &who;
	req.batch = 1;
	req.items = it;
	req.nitems = 2;
	ck_assert_int_eq(ledger_submit(led, &req), STORE_OK);

	/* The refused item's event is there already; no head, no more. */
	outbox_read(&o);
	ck_assert_uint_eq(o.n, 1);
	ck_assert_str_eq(o.ev[0].name, "delta.failed");
	ck_assert_str_eq(body_string(&o.ev[0], "data", "referenceId", text,
	    sizeof(text)), "ref-9");
	ck_assert_str_eq(body_string(&o.ev[0], "data", "customerId", text,
	    sizeof(text)), "c1");
	ck_assert_str_eq(body_string(&o.ev[0], "id", NULL, text,
	    sizeof(text)), o.ev[0].id);
	outbox_free(&o);

	/* The head over the three deltas writes delta.verified, once. */
	ck_assert_msg(integrator_open(&ig, st, dir, "test.example/log", err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(integrator_step(ig, &size), STORE_OK);
	ck_assert_uint_eq(size, 3);
	ck_assert_int_eq(integrator_step(ig, &size), STORE_OK);
	integrator_close(ig);
	outbox_read(&o);
	ck_assert_uint_eq(o.n, 4);
	ck_assert_uint_eq(o.due, 4);
	for (i = 0; i < o.n; i++) {
		ck_assert_int_eq(o.ev[i].status, STORE_EVENT_QUEUED);
		ck_assert_uint_eq(o.ev[i].attempts, 0);
		if (strcmp(o.ev[i].name, "delta.verified") != 0)
			continue;
		verified++;
		ck_assert_uint_eq(strlen(body_string(&o.ev[i], "data",
		    "verificationReference", text, sizeof(text))), 66);
		/* proof.leafHash is the same hash. */
		ck_assert_ptr_nonnull(strstr(strstr(o.ev[i].body, text) + 1,
		    text));
		ck_assert_ptr_nonnull(strstr(o.ev[i].body,
		    "\"treeSize\":3"));
		ck_assert_ptr_nonnull(strstr(o.ev[i].body,
		    "\"tenantId\":\"acme\""));
	}
	ck_assert_uint_eq(verified, 3);
	outbox_free(&o);
	for (i = 0; i < 2; i++)
		emit_input_free(&it[i].in);
	ledger_request_free(&req);
}
END_TEST

struct settle {
	const char		*id;
	enum store_event_status	 status;
	int64_t			 next_ms;
};

static int
settle_txn(struct store_txn *t, void *arg)
{
	struct settle		*s = arg;
	struct store_event	 e;
	int			 rc;

	if ((rc = store_event_get(t, s->id, &e)) != STORE_OK)
		return rc;
	e.status = s->status;
	e.next_ms = s->next_ms;
	e.attempts++;
	rc = store_event_update(t, &e);
	store_event_free(&e);
	return rc;
}

START_TEST(due_queue_follows_the_state)
{
	struct ledger_item	it;
	struct ledger_request	req;
	struct outbox		o;
	struct settle		s;
	char			id[STORE_ID_MAX + 1];

	unit_item_from(&it, "{\"customerId\":\"c1\",\"delta\":0,"
	    "\"reason\":\"r\"}");
	memset(&req, 0, sizeof(req));
	req.who = &who;
	req.batch = 1;
	req.items = &it;
	req.nitems = 1;
	ck_assert_int_eq(ledger_submit(led, &req), STORE_OK);
	outbox_read(&o);
	ck_assert_uint_eq(o.n, 1);
	ck_assert_uint_eq(o.due, 1);
	snprintf(id, sizeof(id), "%s", o.ev[0].id);
	outbox_free(&o);

	/* Put off: not due now, still listed. */
	s.id = id;
	s.status = STORE_EVENT_QUEUED;
	s.next_ms = timefmt_now_ms() + 60000;
	ck_assert_int_eq(store_write(st, settle_txn, &s), STORE_OK);
	outbox_read(&o);
	ck_assert_uint_eq(o.n, 1);
	ck_assert_uint_eq(o.due, 0);
	ck_assert_uint_eq(o.ev[0].attempts, 1);
	outbox_free(&o);

	/* Delivered: out of the due queue for good. */
	s.status = STORE_EVENT_DELIVERED;
	s.next_ms = 0;
	ck_assert_int_eq(store_write(st, settle_txn, &s), STORE_OK);
	outbox_read(&o);
	ck_assert_uint_eq(o.due, 0);
	ck_assert_int_eq(o.ev[0].status, STORE_EVENT_DELIVERED);
	outbox_free(&o);
	emit_input_free(&it.in);
	ledger_request_free(&req);
}
END_TEST

Suite *
webhook_suite(void)
{
	Suite	*s = suite_create("webhook");
	TCase	*tc = tcase_create("pure"), *tx = tcase_create("outbox");

	tcase_add_test(tc, private_addresses);
	tcase_add_test(tc, hmac_rfc4231);
	tcase_add_test(tc, signature_and_rotation);
	tcase_add_test(tc, endpoint_urls);
	tcase_add_test(tc, wire_round_trip);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tx, setup, teardown);
	tcase_add_test(tx, events_written_with_the_change);
	tcase_add_test(tx, due_queue_follows_the_state);
	suite_add_tcase(s, tx);
	return s;
}
