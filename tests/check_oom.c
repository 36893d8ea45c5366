/*
 * Running out of memory has one answer (issue 19): whichever allocation
 * fails while a request is answered, the answer is either the one the
 * request gets with memory to spare, or 503 SERVICE_UNAVAILABLE with
 * Retry-After, never a 500, a 400, a crash or a 2xx with a null where
 * a value failed to allocate.
 *
 * The hook: this file defines malloc, calloc and realloc over glibc's
 * own (__libc_*), which every library the process loads then calls, and
 * fails exactly the nth allocation the armed thread makes.  Each route
 * is answered once unarmed, then again with the 1st, 2nd, ... allocation
 * failing, until an answer needs fewer allocations than the one armed.
 *
 * ASan and UBSan builds replace malloc themselves, so there this suite
 * is not built (see the end): the plain build runs it.
 */
#if !defined(__SANITIZE_ADDRESS__)

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../common/timefmt.h"
#include "../core/apikey.h"
#include "../core/integrator.h"
#include "../core/ledger.h"
#include "../core/share.h"
#include "../core/tlog.h"
#include "../fcgi/app.h"
#include "check.h"

void	*__libc_malloc(size_t);
void	*__libc_calloc(size_t, size_t);
void	*__libc_realloc(void *, size_t);

/* The armed thread's countdown: its nth allocation from now fails. */
static __thread unsigned long	oom_countdown;
static __thread int		oom_failed;

static int
oom_fail_now(void)
{
	if (oom_countdown == 0 || --oom_countdown != 0)
		return 0;
	oom_failed = 1;
	errno = ENOMEM;
	return 1;
}

void *
malloc(size_t n)
{
	return oom_fail_now() ? NULL : __libc_malloc(n);
}

void *
calloc(size_t n, size_t size)
{
	return oom_fail_now() ? NULL : __libc_calloc(n, size);
}

void *
realloc(void *p, size_t n)
{
	return oom_fail_now() ? NULL : __libc_realloc(p, n);
}

#define ORIGIN	"tally.test/log"

static char		 dir[256];
static struct app	 app;
static char		 key[APIKEY_TEXT_MAX];
static char		 record_id[STORE_ID_MAX + 1];
static char		 checkpoint_id[STORE_ID_MAX + 1];
static struct share	 share;
static char		 code[SHARE_CODE_LEN + 1];

/*
 * One request to the application, with an access code when the uri is a
 * Shared Record's; n > 0 fails its nth allocation.
 */
static void
oom_call(struct response *resp, unsigned long n, const char *method,
    const char *uri, const char *body)
{
	char		 p[6][512], *params[7];
	struct request	 req;
	int		 i = 0;

	snprintf(p[0], sizeof(p[0]), "REQUEST_METHOD=%s", method);
	snprintf(p[1], sizeof(p[1]), "REQUEST_URI=%s", uri);
	snprintf(p[2], sizeof(p[2]), "HTTP_X_API_KEY=%s", key);
	snprintf(p[3], sizeof(p[3]), "CONTENT_TYPE=application/json");
	snprintf(p[4], sizeof(p[4]), "HTTP_IDEMPOTENCY_KEY=oom-%s", uri);
	params[i++] = p[0];
	params[i++] = p[1];
	params[i++] = p[2];
	if (body != NULL) {
		params[i++] = p[3];
		params[i++] = p[4];
	}
	if (strncmp(uri, "/api/v1/shared/", 15) == 0) {
		snprintf(p[5], sizeof(p[5]), "HTTP_X_ACCESS_CODE=%s", code);
		params[i++] = p[5];
	}
	params[i] = NULL;
	request_init(&req, params);
	req.body = body;
	req.body_len = body != NULL ? strlen(body) : 0;
	response_init(resp);
	oom_failed = 0;
	oom_countdown = n;
	app_handle(&app, &req, resp);
	oom_countdown = 0;
}

static const char *
oom_header(const struct response *resp, const char *name)
{
	int	i;

	for (i = 0; i < resp->nheaders; i++)
		if (strcmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	return NULL;
}

/*
 * Whether two answers say the same, but for "asOf" (the time of the
 * answer, which the summary of a Shared Record carries).
 */
static int
oom_same(const struct response *a, const struct response *b)
{
	static const char	 as_of[] = "\"asOf\":\"";
	const char		*p, *q;
	size_t			 at;

	if (a->body_len != b->body_len)
		return 0;
	if ((p = strstr(a->body, as_of)) == NULL ||
	    (q = strstr(b->body, as_of)) == NULL)
		return memcmp(a->body, b->body, a->body_len) == 0;
	at = (size_t)(p - a->body) + sizeof(as_of) - 1;
	/* Before the time, and after it: RFC 3339 with ms, 24 bytes. */
	return at + 24 <= a->body_len && q - b->body == p - a->body &&
	    memcmp(a->body, b->body, at) == 0 &&
	    memcmp(a->body + at + 24, b->body + at + 24,
	    a->body_len - at - 24) == 0;
}

/* A string member of data, from a whole answer's body. */
static void
oom_member(const struct response *resp, const char *outer,
    const char *name, char *out, size_t len)
{
	struct json_object	*o = json_tokener_parse(resp->body), *d, *v;

	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "data", &d));
	if (outer != NULL)
		ck_assert(json_object_object_get_ex(d, outer, &d));
	ck_assert(json_object_object_get_ex(d, name, &v));
	snprintf(out, len, "%s", json_object_get_string(v));
	json_object_put(o);
}

static void
oom_setup(void)
{
	struct store_signkey	 rec;
	struct response		 resp;
	char			 err[256];
	uint64_t		 size;
	int			 fd;

	/* Each failed allocation is logged, as it should be: not here. */
	if (getenv("TALLY_TEST_LOG") == NULL && (fd = open("/dev/null",
	    O_WRONLY)) >= 0) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	tmpdir_make(dir, sizeof(dir));
	memset(&app, 0, sizeof(app));
	ck_assert_int_eq(store_open(&app.store, dir, 8, STORE_CREATE),
	    STORE_OK);
	ck_assert_int_eq(store_write(app.store, tenant_add_named, "acme"),
	    STORE_OK);
	ck_assert_int_eq(apikey_create(app.store, "acme", STORE_ENV_LIVE,
	    STORE_KEY_VENDOR, "", key), STORE_OK);
	ck_assert_msg(tlog_key_generate(app.store, dir, ORIGIN,
	    SIGKEY_ECDSA_P256, 0, &rec, err, sizeof(err)) == TLOG_KEY_OK, "%s",
	    err);
	ck_assert_msg(integrator_open(&app.integrator, app.store, dir, ORIGIN,
	    err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(ledger_open(&app.ledger, app.store), STORE_OK);

	oom_call(&resp, 0, "POST", "/api/v1/balance/delta",
	    "{\"customerId\":\"c1\",\"delta\":12.5,\"reason\":\"api calls\","
	    "\"referenceId\":\"r1\"}");
	ck_assert_msg(resp.status == 201, "%s", resp.body);
	oom_member(&resp, NULL, "recordId", record_id, sizeof(record_id));
	response_free(&resp);
	oom_call(&resp, 0, "POST", "/api/v1/balance/delta/batch",
	    "{\"deltas\":[{\"customerId\":\"c1\",\"delta\":-2,\"reason\":"
	    "\"credit\",\"referenceId\":\"r2\"},{\"customerId\":\"c2\","
	    "\"delta\":1,\"reason\":\"x\"}]}");
	ck_assert_msg(resp.status == 200, "%s", resp.body);
	response_free(&resp);
	ck_assert_int_eq(integrator_step(app.integrator, &size), STORE_OK);
	ck_assert_uint_eq(size, 3);
	oom_call(&resp, 0, "POST", "/api/v1/balance/checkpoint",
	    "{\"customerId\":\"c1\",\"timePreset\":\"current_month\"}");
	ck_assert_msg(resp.status == 201, "%s", resp.body);
	oom_member(&resp, NULL, "checkpointId", checkpoint_id,
	    sizeof(checkpoint_id));
	response_free(&resp);
	ck_assert_int_eq(share_create(app.store, "acme", STORE_ENV_LIVE, "c1",
	    SHARE_TWO_TIER, timefmt_now_ms(), &share, code), SHARE_OK);
}

static void
oom_teardown(void)
{
	ledger_close(app.ledger);
	integrator_close(app.integrator);
	store_close(app.store);
	tmpdir_remove(dir);
}

/*
 * Answers method uri with every allocation of the request thread failing
 * in turn, checking each answer against the one with memory to spare.
 */
static void
oom_route(const char *method, const char *uri, const char *body)
{
	struct response	 want, got;
	unsigned long	 n;
	const char	*retry;

	oom_call(&want, 0, method, uri, body);
	ck_assert_msg(want.status < 300, "%s %s: %d %.300s", method, uri,
	    want.status, want.body);
	for (n = 1;; n++) {
		oom_call(&got, n, method, uri, body);
		if (!oom_failed) {
			ck_assert_int_eq(got.status, want.status);
			response_free(&got);
			break;
		}
		ck_assert_msg(!store_panicked(app.store), "%s %s: allocation "
		    "%lu failing panicked the store", method, uri, n);
		if (got.status == 503) {
			retry = oom_header(&got, "Retry-After");
			ck_assert_msg(retry != NULL, "%s %s: allocation %lu: "
			    "503 without Retry-After", method, uri, n);
			ck_assert_msg(got.body == NULL || strstr(got.body,
			    "\"SERVICE_UNAVAILABLE\"") != NULL, "%s %s: "
			    "allocation %lu: %.300s", method, uri, n, got.body);
		} else if (got.stream_failed) {
			/*
			 * A streamed answer whose head went out: cut short,
			 * which the server turns into a broken connection
			 * no client takes for a whole answer (response.h).
			 */
			ck_assert_int_eq(got.status, want.status);
		} else {
			ck_assert_msg(got.status == want.status &&
			    oom_same(&got, &want),
			    "%s %s: allocation %lu failing answered %d %.300s, "
			    "not %d %.300s or a 503", method, uri, n, got.status,
			    got.body, want.status, want.body);
		}
		response_free(&got);
	}
	response_free(&want);
}

START_TEST(oom_reads)
{
	char	uri[256];

	oom_route("GET", "/healthz", NULL);
	oom_route("GET", "/api/v1/auth/whoami", NULL);
	snprintf(uri, sizeof(uri), "/api/v1/balance/delta/%s", record_id);
	oom_route("GET", uri, NULL);
	oom_route("GET", "/api/v1/balance/derive/c1", NULL);
	oom_route("GET", "/api/v1/balance/derive/c1?timePreset=current_month",
	    NULL);
	oom_route("GET", "/api/v1/balance/customers", NULL);
	oom_route("GET", "/api/v1/balance/customers/c1", NULL);
	oom_route("GET", "/api/v1/balance/usage", NULL);
	oom_route("GET", "/api/v1/balance/gaps/c1", NULL);
	oom_route("GET", "/api/v1/balance/webhooks", NULL);
}
END_TEST

START_TEST(oom_checkpoints)
{
	char	uri[256], period[TIMEFMT_PERIOD_LEN];

	timefmt_period(timefmt_month(timefmt_now_ms()), period);

	oom_route("GET", "/api/v1/balance/checkpoints", NULL);
	snprintf(uri, sizeof(uri), "/api/v1/balance/checkpoints/%s",
	    checkpoint_id);
	oom_route("GET", uri, NULL);
	snprintf(uri, sizeof(uri), "/api/v1/balance/receipt/c1?"
	    "checkpointId=%s", checkpoint_id);
	oom_route("GET", uri, NULL);
	snprintf(uri, sizeof(uri), "/api/v1/balance/invoice-proof/c1?"
	    "period=%s", period);
	oom_route("GET", uri, NULL);
	snprintf(uri, sizeof(uri), "/api/v1/verify/%s", checkpoint_id);
	oom_route("GET", uri, NULL);
	oom_route("POST", "/api/v1/balance/checkpoint",
	    "{\"customerId\":\"c1\",\"timePreset\":\"current_month\"}");
}
END_TEST

START_TEST(oom_log)
{
	oom_route("GET", "/api/v1/log/checkpoint", NULL);
	oom_route("GET", "/api/v1/log/proof/inclusion?index=0&treeSize=3",
	    NULL);
	oom_route("GET", "/api/v1/log/proof/consistency?from=1&to=3", NULL);
	oom_route("GET", "/api/v1/keys", NULL);
	oom_route("GET", "/log/checkpoint", NULL);
	oom_route("GET", "/log/tile/0/000.p/3", NULL);
}
END_TEST

START_TEST(oom_shared)
{
	char	uri[256], period[TIMEFMT_PERIOD_LEN], body[128];

	timefmt_period(timefmt_month(timefmt_now_ms()), period);
	snprintf(uri, sizeof(uri), "/api/v1/shared/%s", share.handle);
	oom_route("GET", uri, NULL);
	snprintf(uri, sizeof(uri), "/api/v1/shared/%s/periods", share.handle);
	oom_route("GET", uri, NULL);
	snprintf(uri, sizeof(uri), "/api/v1/shared/%s/periods/%s/deltas",
	    share.handle, period);
	oom_route("GET", uri, NULL);
	snprintf(uri, sizeof(uri), "/api/v1/shared/%s/receipt/%s",
	    share.handle, checkpoint_id);
	oom_route("GET", uri, NULL);
	snprintf(uri, sizeof(uri), "/api/v1/shared/%s/export.csv?period=%s",
	    share.handle, period);
	oom_route("GET", uri, NULL);
	snprintf(uri, sizeof(uri), "/api/v1/shared/%s/compare", share.handle);
	snprintf(body, sizeof(body), "{\"period\":\"%s\",\"yourTotal\":"
	    "10.5}", period);
	oom_route("POST", uri, body);
	oom_route("GET", "/api/v1/balance/share/c1", NULL);
}
END_TEST

START_TEST(oom_writes)
{
	/* Replays of what setup recorded: the same answer or a 503. */
	oom_route("POST", "/api/v1/balance/delta",
	    "{\"customerId\":\"c1\",\"delta\":12.5,\"reason\":\"api calls\","
	    "\"referenceId\":\"r1\"}");
	oom_route("POST", "/api/v1/balance/compare",
	    "{\"customerId\":\"c1\",\"yourBalance\":10.5,\"theirDeltas\":"
	    "[{\"referenceId\":\"r1\",\"delta\":12.5},{\"referenceId\":"
	    "\"r9\",\"delta\":1}]}");
}
END_TEST

Suite *
oom_suite(void)
{
	Suite	*s = suite_create("oom");
	TCase	*tc = tcase_create("oom");

	tcase_add_checked_fixture(tc, oom_setup, oom_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, oom_reads);
	tcase_add_test(tc, oom_checkpoints);
	tcase_add_test(tc, oom_log);
	tcase_add_test(tc, oom_shared);
	tcase_add_test(tc, oom_writes);
	suite_add_tcase(s, tc);
	return s;
}

#endif
