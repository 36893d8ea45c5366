/*
 * The end-to-end suite: real HTTP requests, through whichever web server
 * TALLY_URL points at (nginx or Apache, HTTP or HTTPS).  tests/e2e/run.sh
 * runs it once per front end, so every assertion holds through each.
 *
 * Environment: TALLY_URL, TALLY_CACERT (for https), and the keys made by
 * run.sh: TALLY_KEY_LIVE, _TEST, _REVOKED, _CUSTOMER, _OTHER.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <curl/curl.h>
#include <json-c/json.h>

struct reply {
	long			 status;
	char			*body;
	size_t			 len;
	char			 request_id[128];
	char			 allow[128];
	struct json_object	*json;
};

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct reply	*r = arg;
	char		*nb;

	if ((nb = realloc(r->body, r->len + size * n + 1)) == NULL)
		return 0;
	r->body = nb;
	memcpy(r->body + r->len, data, size * n);
	r->len += size * n;
	r->body[r->len] = '\0';
	return size * n;
}

/* Keeps the value of a header we assert on. */
static void
keep_header(const char *line, size_t len, const char *name, char *dst,
    size_t dstlen)
{
	size_t	nlen = strlen(name), vlen;

	if (len <= nlen || strncasecmp(line, name, nlen) != 0)
		return;
	line += nlen;
	len -= nlen;
	while (len > 0 && *line == ' ') {
		line++;
		len--;
	}
	vlen = len;
	while (vlen > 0 && (line[vlen - 1] == '\r' || line[vlen - 1] == '\n'))
		vlen--;
	if (vlen >= dstlen)
		vlen = dstlen - 1;
	memcpy(dst, line, vlen);
	dst[vlen] = '\0';
}

static size_t
on_header(char *line, size_t size, size_t n, void *arg)
{
	struct reply	*r = arg;

	keep_header(line, size * n, "X-Request-Id:", r->request_id,
	    sizeof(r->request_id));
	keep_header(line, size * n, "Allow:", r->allow, sizeof(r->allow));
	return size * n;
}

/*
 * One request.  key and ctype may be NULL; extra is one more header
 * line or NULL.  The reply's body is parsed as JSON when it is JSON.
 */
static void
http(struct reply *r, const char *method, const char *path, const char *key,
    const char *ctype, const char *body, size_t bodylen, const char *extra)
{
	CURL			*curl;
	struct curl_slist	*hdrs = NULL;
	const char		*base = getenv("TALLY_URL"),
				*ca = getenv("TALLY_CACERT");
	char			 url[2048], line[512];
	CURLcode		 rc;

	memset(r, 0, sizeof(*r));
	ck_assert_msg(base != NULL, "TALLY_URL not set");
	snprintf(url, sizeof(url), "%s%s", base, path);
	curl = curl_easy_init();
	ck_assert_ptr_nonnull(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
	if (ca != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, ca);
	if (key != NULL) {
		snprintf(line, sizeof(line), "X-Api-Key: %s", key);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (ctype != NULL) {
		snprintf(line, sizeof(line), "Content-Type: %s", ctype);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (extra != NULL)
		hdrs = curl_slist_append(hdrs, extra);
	/* No "Expect: 100-continue" round trip for large bodies. */
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	if (body != NULL) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)bodylen);
	}
	rc = curl_easy_perform(curl);
	ck_assert_msg(rc == CURLE_OK, "%s %s: %s", method, url,
	    curl_easy_strerror(rc));
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(curl);
	if (r->body != NULL)
		r->json = json_tokener_parse(r->body);
}

static void
reply_free(struct reply *r)
{
	free(r->body);
	json_object_put(r->json);
}

static struct json_object *
get(struct json_object *obj, const char *path)
{
	char	 buf[256], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok != NULL && obj != NULL;
	    tok = strtok_r(NULL, ".", &save))
		if (!json_object_object_get_ex(obj, tok, &obj))
			return NULL;
	return obj;
}

static const char *
get_str(struct json_object *obj, const char *path)
{
	struct json_object	*v = get(obj, path);

	return json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

/* Asserts status and the error envelope with this code. */
static void
assert_error(const struct reply *r, long status, const char *code)
{
	ck_assert_msg(r->status == status, "status %ld, want %ld: %s",
	    r->status, status, r->body ? r->body : "(no body)");
	ck_assert_msg(r->json != NULL, "body is not JSON: %s", r->body);
	ck_assert(!json_object_get_boolean(get(r->json, "success")));
	ck_assert_str_eq(get_str(r->json, "error.code"), code);
	ck_assert_ptr_nonnull(get_str(r->json, "error.message"));
	ck_assert_msg(r->request_id[0] != '\0', "no X-Request-Id");
}

static void
assert_ok(const struct reply *r, long status)
{
	ck_assert_msg(r->status == status, "status %ld, want %ld: %s",
	    r->status, status, r->body ? r->body : "(no body)");
	ck_assert_msg(r->json != NULL, "body is not JSON: %s", r->body);
	ck_assert(json_object_get_boolean(get(r->json, "success")));
	ck_assert_ptr_nonnull(get(r->json, "data"));
}

static const char *
env_key(const char *name)
{
	const char	*v = getenv(name);

	ck_assert_msg(v != NULL, "%s not set", name);
	return v;
}

START_TEST(health_and_ready)
{
	struct reply	r;

	http(&r, "GET", "/healthz", NULL, NULL, NULL, 0, NULL);
	assert_ok(&r, 200);
	ck_assert_str_eq(get_str(r.json, "data.status"), "ok");
	ck_assert_uint_eq(strlen(r.request_id), 32);
	reply_free(&r);
	http(&r, "GET", "/readyz", NULL, NULL, NULL, 0, NULL);
	assert_ok(&r, 200);
	ck_assert_str_eq(get_str(r.json, "data.status"), "ready");
	reply_free(&r);
}
END_TEST

START_TEST(request_id_echoed_when_safe)
{
	struct reply	r;

	http(&r, "GET", "/healthz", NULL, NULL, NULL, 0,
	    "X-Request-Id: trace-42.a:b_c");
	ck_assert_str_eq(r.request_id, "trace-42.a:b_c");
	reply_free(&r);
	/* Unsafe to echo: replaced by a fresh one, never reflected. */
	http(&r, "GET", "/healthz", NULL, NULL, NULL, 0,
	    "X-Request-Id: <script>");
	ck_assert_uint_eq(strlen(r.request_id), 32);
	ck_assert_ptr_null(strstr(r.request_id, "script"));
	reply_free(&r);
}
END_TEST

START_TEST(whoami_vendor_live)
{
	struct reply	r;

	http(&r, "GET", "/api/v1/auth/whoami", env_key("TALLY_KEY_LIVE"),
	    NULL, NULL, 0, NULL);
	assert_ok(&r, 200);
	ck_assert_str_eq(get_str(r.json, "data.tenant"), "acme");
	ck_assert_str_eq(get_str(r.json, "data.env"), "live");
	ck_assert_str_eq(get_str(r.json, "data.keyKind"), "vendor");
	ck_assert(json_object_is_type(get(r.json, "data.customerId"),
	    json_type_null));
	/* The secret is never echoed back. */
	ck_assert_ptr_null(strstr(r.body, strchr(env_key("TALLY_KEY_LIVE"),
	    '.') + 1));
	reply_free(&r);
}
END_TEST

START_TEST(whoami_test_env_and_other_tenant)
{
	struct reply	r;

	http(&r, "GET", "/api/v1/auth/whoami", env_key("TALLY_KEY_TEST"),
	    NULL, NULL, 0, NULL);
	assert_ok(&r, 200);
	ck_assert_str_eq(get_str(r.json, "data.env"), "test");
	reply_free(&r);
	http(&r, "GET", "/api/v1/auth/whoami", env_key("TALLY_KEY_OTHER"),
	    NULL, NULL, 0, NULL);
	assert_ok(&r, 200);
	ck_assert_str_eq(get_str(r.json, "data.tenant"), "other");
	reply_free(&r);
}
END_TEST

START_TEST(whoami_customer_key)
{
	struct reply	r;

	http(&r, "GET", "/api/v1/auth/whoami", env_key("TALLY_KEY_CUSTOMER"),
	    NULL, NULL, 0, NULL);
	assert_ok(&r, 200);
	ck_assert_str_eq(get_str(r.json, "data.keyKind"), "customer");
	ck_assert_str_eq(get_str(r.json, "data.customerId"), "customer_acme");
	reply_free(&r);
}
END_TEST

/* Every way a key can be wrong gets the same 401 envelope. */
START_TEST(bad_keys_rejected)
{
	char		 wrong[256], swapped[256];
	const char	*live = env_key("TALLY_KEY_LIVE");
	const char	*test = env_key("TALLY_KEY_TEST");
	size_t		 n;
	struct reply	 r;
	int		 i;

	snprintf(wrong, sizeof(wrong), "%s", live);
	n = strlen(wrong);
	wrong[n - 1] = wrong[n - 1] == '0' ? '1' : '0';
	/* A test key presented as live must not open live data. */
	snprintf(swapped, sizeof(swapped), "pk_live_%s", test + 8);

	const char *keys[] = {
		NULL, "", "garbage", "pk_live_", "pk_live_abc.def", wrong,
		env_key("TALLY_KEY_REVOKED"), swapped,
		"pk_live_000000000000000000000000.0000000000000000000000000000"
		    "000000000000000000000000000000000000",
	};
	for (i = 0; i < (int)(sizeof(keys) / sizeof(keys[0])); i++) {
		http(&r, "GET", "/api/v1/auth/whoami", keys[i], NULL, NULL, 0,
		    NULL);
		assert_error(&r, 401, "INVALID_API_KEY");
		reply_free(&r);
	}
}
END_TEST

START_TEST(unknown_path_404)
{
	struct reply	r;

	http(&r, "GET", "/api/v1/nope", env_key("TALLY_KEY_LIVE"), NULL, NULL,
	    0, NULL);
	assert_error(&r, 404, "NOT_FOUND");
	reply_free(&r);
	http(&r, "GET", "/api/v1/auth/whoami/extra", env_key("TALLY_KEY_LIVE"),
	    NULL, NULL, 0, NULL);
	assert_error(&r, 404, "NOT_FOUND");
	reply_free(&r);
}
END_TEST

START_TEST(wrong_method_405)
{
	struct reply	r;

	http(&r, "DELETE", "/api/v1/auth/whoami", env_key("TALLY_KEY_LIVE"),
	    NULL, NULL, 0, NULL);
	assert_error(&r, 405, "METHOD_NOT_ALLOWED");
	ck_assert_str_eq(r.allow, "GET");
	reply_free(&r);
}
END_TEST

START_TEST(get_with_json_content_type)
{
	struct reply	r;

	http(&r, "GET", "/api/v1/auth/whoami", env_key("TALLY_KEY_LIVE"),
	    "application/json", NULL, 0, NULL);
	assert_ok(&r, 200);
	reply_free(&r);
}
END_TEST

static Suite *
http_suite(void)
{
	Suite	*s = suite_create("http");
	TCase	*tc = tcase_create("foundation");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, health_and_ready);
	tcase_add_test(tc, request_id_echoed_when_safe);
	tcase_add_test(tc, whoami_vendor_live);
	tcase_add_test(tc, whoami_test_env_and_other_tenant);
	tcase_add_test(tc, whoami_customer_key);
	tcase_add_test(tc, bad_keys_rejected);
	tcase_add_test(tc, unknown_path_404);
	tcase_add_test(tc, wrong_method_405);
	tcase_add_test(tc, get_with_json_content_type);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	sr = srunner_create(http_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
