/* HTTP helpers shared by the end-to-end Check suites. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <curl/curl.h>
#include <json-c/json.h>

#include "http.h"

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
	keep_header(line, size * n, "Idempotent-Replayed:", r->replayed,
	    sizeof(r->replayed));
	return size * n;
}

/*
 * One request.  key and ctype may be NULL; extra is more header lines
 * ('\n' between them) or NULL.  The reply's body is parsed as JSON when
 * it is JSON.
 */
void
http(struct reply *r, const char *method, const char *path, const char *key,
    const char *ctype, const char *body, size_t bodylen, const char *extra)
{
	CURL			*curl;
	struct curl_slist	*hdrs = NULL;
	const char		*base = getenv("TALLY_URL"),
				*ca = getenv("TALLY_CACERT");
	const char		*p, *nl;
	char			 url[8192], line[8192];
	CURLcode		 rc;

	memset(r, 0, sizeof(*r));
	ck_assert_msg(base != NULL, "TALLY_URL not set");
	snprintf(url, sizeof(url), "%s%s", base, path);
	curl = curl_easy_init();
	ck_assert_ptr_nonnull(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	/* Dot segments reach the server as written, to be refused there. */
	curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
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
	for (p = extra; p != NULL && *p != '\0'; p = nl ? nl + 1 : "") {
		nl = strchr(p, '\n');
		snprintf(line, sizeof(line), "%.*s", nl ? (int)(nl - p) :
		    (int)strlen(p), p);
		hdrs = curl_slist_append(hdrs, line);
	}
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

void
reply_free(struct reply *r)
{
	free(r->body);
	json_object_put(r->json);
}

struct json_object *
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

const char *
get_str(struct json_object *obj, const char *path)
{
	struct json_object	*v = get(obj, path);

	return json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

/* Asserts status and the error envelope with this code. */
void
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

void
assert_ok(const struct reply *r, long status)
{
	ck_assert_msg(r->status == status, "status %ld, want %ld: %s",
	    r->status, status, r->body ? r->body : "(no body)");
	ck_assert_msg(r->json != NULL, "body is not JSON: %s", r->body);
	ck_assert(json_object_get_boolean(get(r->json, "success")));
	ck_assert_ptr_nonnull(get(r->json, "data"));
}

const char *
env_key(const char *name)
{
	const char	*v = getenv(name);

	ck_assert_msg(v != NULL, "%s not set", name);
	return v;
}

char	run_id[32];

void
post(struct reply *r, const char *path, const char *key, const char *idem,
    const char *body)
{
	char	hdr[320];

	if (idem != NULL)
		snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", idem);
	http(r, "POST", path, key, "application/json", body, strlen(body),
	    idem ? hdr : NULL);
}

long long
get_int(struct json_object *obj, const char *path)
{
	struct json_object	*v = get(obj, path);

	ck_assert_msg(json_object_is_type(v, json_type_int), "%s not int",
	    path);
	return json_object_get_int64(v);
}

int
e2e_run(Suite *s)
{
	SRunner	*sr;
	int	 failed;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(run_id, sizeof(run_id), "%lx%x", (unsigned long)time(NULL),
	    (unsigned)getpid());
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
