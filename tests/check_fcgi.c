#include <sys/socket.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fastcgi.h>
#include <fcgiapp.h>
#include <json-c/json.h>

#include "../common/timefmt.h"
#include "../fcgi/app.h"
#include "../fcgi/server.h"
#include "check.h"

START_TEST(request_from_params)
{
	char *params[] = {
		"REQUEST_METHOD=POST",
		"REQUEST_URI=/api/v1/x%2Fy?a=1&b=two+words&c=%41%42&d&e=%zz&f=1&f=1",
		"HTTP_X_REQUEST_ID=abc-1",
		NULL
	};
	struct request	req;
	char		val[32];

	request_init(&req, params);
	ck_assert_int_eq(req.method, HTTP_POST);
	ck_assert_str_eq(req.path, "/api/v1/x%2Fy");
	ck_assert_str_eq(req.id, "abc-1");
	ck_assert_str_eq(request_param(&req, "HTTP_X_REQUEST_ID"), "abc-1");
	ck_assert_ptr_null(request_param(&req, "HTTP_X_REQUEST"));
	ck_assert_int_eq(request_query(&req, "a", val, sizeof(val)), 1);
	ck_assert_str_eq(val, "1");
	ck_assert_int_eq(request_query(&req, "b", val, sizeof(val)), 1);
	ck_assert_str_eq(val, "two words");
	ck_assert_int_eq(request_query(&req, "c", val, sizeof(val)), 1);
	ck_assert_str_eq(val, "AB");
	ck_assert_int_eq(request_query(&req, "d", val, sizeof(val)), 1);
	ck_assert_str_eq(val, "");
	ck_assert_int_eq(request_query(&req, "e", val, sizeof(val)), -1);
	ck_assert_int_eq(request_query(&req, "z", val, sizeof(val)), 0);
	ck_assert_int_eq(request_query(&req, "b", val, 4), -1);
	/* Given twice, even alike: which one would count? */
	ck_assert_int_eq(request_query(&req, "f", val, sizeof(val)), -1);
	ck_assert_str_eq(req.repeated, "f");
}
END_TEST

/* What must come once, in each way a web server passes it on twice. */
START_TEST(request_repeated)
{
	static const struct {
		const char	*p1, *p2, *uri, *repeated;
	} cases[] = {
		/* nginx: one parameter per header line */
		{ "HTTP_X_API_KEY=a.b", "HTTP_X_API_KEY=c.d", "/", "X-Api-Key" },
		{ "HTTP_IDEMPOTENCY_KEY=k1", "HTTP_IDEMPOTENCY_KEY=k2", "/",
		    "Idempotency-Key" },
		{ "HTTP_CONTENT_TYPE=application/json",
		    "HTTP_CONTENT_TYPE=text/plain", "/", "Content-Type" },
		{ "HTTP_X_REQUEST_ID=r1", "HTTP_X_REQUEST_ID=r2", "/",
		    "X-Request-Id" },
		/* Apache: the values joined with ", " */
		{ "HTTP_X_API_KEY=a.b, c.d", "A=1", "/", "X-Api-Key" },
		{ "HTTP_IDEMPOTENCY_KEY=k1, k2", "A=1", "/",
		    "Idempotency-Key" },
		{ "CONTENT_TYPE=application/json, text/plain", "A=1", "/",
		    "Content-Type" },
		{ "HTTP_X_REQUEST_ID=r1, r2", "A=1", "/", "X-Request-Id" },
		/* query parameters, with or without a value */
		{ "A=1", "B=1", "/x?customerId=a&customerId=b", "customerId" },
		{ "A=1", "B=1", "/x?a=1&period=2026-01&period", "period" },
		{ "A=1", "B=1", "/x?limit&b=2&limit=3", "limit" },
		/* and what is not repeated */
		{ "HTTP_X_API_KEY=a.b", "HTTP_IDEMPOTENCY_KEY=a.b",
		    "/x?a=1&ab=2&b=3&=4&=5&&", "" },
		{ "HTTP_ACCEPT=a", "HTTP_ACCEPT=b", "/x?a=b&b=a", "" },
	};
	struct request	req;
	char		uri[128];
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *params[] = { (char *)cases[i].p1, (char *)cases[i].p2,
		    uri, NULL };

		snprintf(uri, sizeof(uri), "REQUEST_URI=%s", cases[i].uri);
		request_init(&req, params);
		ck_assert_msg(strcmp(req.repeated, cases[i].repeated) == 0,
		    "%zu: %s", i, req.repeated);
	}
}
END_TEST

/* Names past what the hash table holds are still compared. */
START_TEST(request_repeated_many)
{
	static char	uri[64 * 1024];
	char		*params[] = { uri, NULL }, *p;
	struct request	req;
	int		i, tail;

	for (tail = 0; tail < 3; tail++) {
		p = uri + sprintf(uri, "REQUEST_URI=/x?");
		for (i = 0; i < 5000; i++)
			p += sprintf(p, "n%d=%d&", i, i);
		/* A name from inside the table, from past it, or none. */
		sprintf(p, "%s", tail == 0 ? "n17=x" : tail == 1 ?
		    "n4999=x" : "last=x");
		request_init(&req, params);
		ck_assert_str_eq(req.repeated, tail == 0 ? "n17" : tail == 1 ?
		    "n4999" : "");
	}
}
END_TEST

/* Generated ids are random: no two alike, none a count. */
START_TEST(request_id_random)
{
	char *none[] = { NULL };
	struct request	req;
	char		first[REQUEST_ID_MAX + 1];

	request_init(&req, none);
	memcpy(first, req.id, sizeof(first));
	request_init(&req, none);
	ck_assert_uint_eq(strlen(req.id), 32);
	ck_assert_str_ne(req.id, first);
	/* A counter behind a fixed prefix would share the first half. */
	ck_assert_int_ne(strncmp(req.id, first, 16), 0);
}
END_TEST

START_TEST(request_defaults_and_unsafe_id)
{
	char *params[] = {
		"REQUEST_METHOD=BREW",
		"HTTP_X_REQUEST_ID=bad id\r\nSet-Cookie: x",
		NULL
	};
	char *none[] = { NULL };
	struct request	req;
	char		out[8];

	request_init(&req, params);
	ck_assert_int_eq(req.method, HTTP_OTHER);
	ck_assert_str_eq(req.path, "/");
	ck_assert_str_eq(req.query, "");
	ck_assert_uint_eq(strlen(req.id), 32);
	request_init(&req, none);
	ck_assert_str_eq(req.method_name, "");
	ck_assert_int_eq(request_decode("%00", 3, out, sizeof(out), 0), -1);
	ck_assert_int_eq(request_decode("%4", 2, out, sizeof(out), 0), -1);
	ck_assert_int_eq(request_decode("%41", 3, out, sizeof(out), 0), 0);
	ck_assert_str_eq(out, "A");
}
END_TEST

static void
dummy(struct ctx *c)
{
	(void)c;
}

static const struct route table[] = {
	{ HTTP_GET,  "/a/b",	  dummy, 0 },
	{ HTTP_POST, "/a/b",	  dummy, 0 },
	{ HTTP_GET,  "/items/*",  dummy, 0 },
	{ HTTP_GET,  "/items/*/sub/*", dummy, 0 },
};
#define NTABLE	(sizeof(table) / sizeof(table[0]))

START_TEST(router_matches)
{
	struct route_match	m;

	ck_assert_int_eq(router_match(table, NTABLE, HTTP_GET, "/a/b", &m),
	    ROUTER_FOUND);
	ck_assert_ptr_eq(m.route, &table[0]);
	ck_assert_int_eq(router_match(table, NTABLE, HTTP_HEAD, "/a/b", &m),
	    ROUTER_FOUND);
	ck_assert_int_eq(router_match(table, NTABLE, HTTP_DELETE, "/a/b", &m),
	    ROUTER_BAD_METHOD);
	ck_assert_str_eq(m.allow, "GET, POST");
	ck_assert_int_eq(router_match(table, NTABLE, HTTP_GET, "/items/x%20y",
	    &m), ROUTER_FOUND);
	ck_assert_int_eq(m.nparams, 1);
	ck_assert_str_eq(m.params[0], "x y");
	ck_assert_int_eq(router_match(table, NTABLE, HTTP_GET,
	    "/items/1/sub/2", &m), ROUTER_FOUND);
	ck_assert_str_eq(m.params[1], "2");
	ck_assert_ptr_eq(m.route, &table[3]);

	static const char *const missing[] = {
		"/", "", "/a", "/a/b/", "/a/bc", "/items/", "/items//sub/2",
		"/items/%zz", "/items/%00", "/a//b",
	};
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++)
		ck_assert_msg(router_match(table, NTABLE, HTTP_GET, missing[i],
		    &m) == ROUTER_NOT_FOUND, "matched %s", missing[i]);
}
END_TEST

static struct json_object *
body_json(const struct response *resp)
{
	struct json_object	*obj = json_tokener_parse(resp->body);

	ck_assert_msg(obj != NULL, "not JSON: %s", resp->body);
	return obj;
}

static const char *
path_str(struct json_object *obj, const char *a, const char *b)
{
	struct json_object	*v;

	ck_assert(json_object_object_get_ex(obj, a, &v));
	if (b != NULL)
		ck_assert(json_object_object_get_ex(v, b, &v));
	return json_object_get_string(v);
}

START_TEST(envelopes)
{
	struct response		 resp;
	struct json_object	*obj, *extra;

	response_init(&resp);
	extra = json_object_new_object();
	json_object_object_add(extra, "retryAfterSeconds",
	    json_object_new_int(3));
	response_error(&resp, API_VALIDATION_ERROR, "delta", extra,
	    "delta must be %s", "a non-zero number");
	ck_assert_int_eq(resp.status, 400);
	obj = body_json(&resp);
	ck_assert_str_eq(path_str(obj, "success", NULL), "false");
	ck_assert_str_eq(path_str(obj, "error", "code"), "VALIDATION_ERROR");
	ck_assert_str_eq(path_str(obj, "error", "message"),
	    "delta must be a non-zero number");
	ck_assert_str_eq(path_str(obj, "error", "field"), "delta");
	ck_assert_str_eq(path_str(obj, "error", "retryAfterSeconds"), "3");
	json_object_put(obj);
	ck_assert_int_eq(resp.nheaders, 0);
	response_free(&resp);

	/* A 503 always carries Retry-After. */
	response_init(&resp);
	response_error(&resp, API_SERVICE_UNAVAILABLE, NULL, NULL, "later");
	ck_assert_int_eq(resp.status, 503);
	ck_assert_int_eq(resp.nheaders, 1);
	ck_assert_str_eq(resp.headers[0].name, "Retry-After");
	ck_assert_str_eq(resp.headers[0].value, "1");
	response_free(&resp);

	response_success(&resp, 201, NULL);
	ck_assert_int_eq(resp.status, 201);
	ck_assert_str_eq(resp.body, "{\"success\":true,\"data\":{}}");
	response_free(&resp);

	ck_assert_int_eq(response_header(&resp, "X-Ok", "fine"), 0);
	ck_assert_int_eq(response_header(&resp, "X-Bad", "a\r\nb: c"), -1);
	ck_assert_int_eq(response_header(&resp, "X:Bad", "v"), -1);
	ck_assert_str_eq(response_reason(415), "Unsupported Media Type");
}
END_TEST

/* A sink that keeps what it is given, and fails after fail_after bytes. */
struct test_sink {
	struct response_sink	base;
	int			heads;
	char			got[256];
	size_t			len, fail_after;
};

static int
test_sink_head(struct response_sink *sink, const struct response *resp)
{
	struct test_sink	*ts = (struct test_sink *)sink;

	ck_assert_int_eq(resp->status, 200);
	ts->heads++;
	return 0;
}

static int
test_sink_write(struct response_sink *sink, const void *data, size_t len)
{
	struct test_sink	*ts = (struct test_sink *)sink;

	if (ts->len + len > ts->fail_after || ts->len + len >= sizeof(ts->got))
		return -1;
	memcpy(ts->got + ts->len, data, len);
	ts->len += len;
	return 0;
}

START_TEST(streamed_answers)
{
	struct response		resp;
	struct test_sink	ts;

	/* No sink (unit tests): gathered into an ordinary body. */
	response_init(&resp);
	ck_assert_int_eq(response_stream_begin(&resp, 200), 0);
	ck_assert_int_eq(response_stream_write(&resp, "{\"a\":[1", 7), 0);
	ck_assert_int_eq(response_stream_write(&resp, ",2]}", 4), 0);
	ck_assert_int_eq(response_stream_end(&resp), 0);
	ck_assert_int_eq(resp.streamed, 0);
	ck_assert_int_eq(resp.status, 200);
	ck_assert_str_eq(resp.body, "{\"success\":true,\"data\":{\"a\":[1,2]}}");
	ck_assert_uint_eq(resp.body_len, strlen(resp.body));
	response_free(&resp);

	/* Through a sink: the head once, the bytes in order, no body kept. */
	memset(&ts, 0, sizeof(ts));
	ts.base.head = test_sink_head;
	ts.base.write = test_sink_write;
	ts.fail_after = sizeof(ts.got);
	response_init(&resp);
	resp.sink = &ts.base;
	ck_assert_int_eq(response_stream_begin(&resp, 200), 0);
	ck_assert_int_eq(response_stream_write(&resp, "{}", 2), 0);
	ck_assert_int_eq(response_stream_end(&resp), 0);
	ck_assert_int_eq(ts.heads, 1);
	ck_assert_int_eq(resp.streamed, 1);
	ck_assert_ptr_null(resp.body);
	ts.got[ts.len] = '\0';
	ck_assert_str_eq(ts.got, "{\"success\":true,\"data\":{}}");
	response_free(&resp);

	/* A write that fails (the client went away) fails every one after. */
	memset(&ts.got, 0, sizeof(ts.got));
	ts.len = 0;
	ts.fail_after = 30;
	response_init(&resp);
	resp.sink = &ts.base;
	ck_assert_int_eq(response_stream_begin(&resp, 200), 0);
	ck_assert_int_eq(response_stream_write(&resp, "{\"long\":1}", 10), -1);
	ck_assert_int_eq(response_stream_write(&resp, "}", 1), -1);
	ck_assert_int_eq(response_stream_end(&resp), -1);
	ck_assert_int_eq(resp.stream_failed, 1);
	response_free(&resp);
}
END_TEST

/*
 * Reads what server_records wrote (wire, len bytes) as a web server
 * would: records of request id, their FCGI_STDOUT content gathered in
 * out, then an empty FCGI_STDOUT, then FCGI_END_REQUEST (status 0,
 * complete) and nothing after.  Returns the content's length; *records
 * counts the records that carried content.
 */
static size_t
records_parse(const unsigned char *wire, size_t len, int id, char *out,
    int *records)
{
	const unsigned char	*h;
	size_t			 at = 0, n, got = 0;
	int			 eof = 0;

	*records = 0;
	for (;;) {
		ck_assert_uint_le(at + FCGI_HEADER_LEN, len);
		h = wire + at;
		n = (size_t)(h[4] << 8 | h[5]);
		ck_assert_int_eq(h[0], FCGI_VERSION_1);
		ck_assert_int_eq(h[2] << 8 | h[3], id);
		ck_assert_int_eq(h[6], 0);		/* no padding */
		ck_assert_uint_le(at + FCGI_HEADER_LEN + n, len);
		at += FCGI_HEADER_LEN;
		if (h[1] == FCGI_END_REQUEST)
			break;
		ck_assert_int_eq(h[1], FCGI_STDOUT);
		ck_assert_int_eq(eof, 0);
		eof = n == 0;
		memcpy(out + got, wire + at, n);
		got += n;
		at += n;
		*records += n > 0;
	}
	ck_assert_int_eq(eof, 1);
	ck_assert_uint_eq(n, 8);
	ck_assert_int_eq(wire[at] | wire[at + 1] | wire[at + 2] | wire[at + 3],
	    0);
	ck_assert_int_eq(wire[at + 4], FCGI_REQUEST_COMPLETE);
	ck_assert_uint_eq(at + n, len);
	return got;
}

/*
 * A whole answer is written as FastCGI records straight from the head
 * and the body: the content arrives whole and in order, in records of at
 * most 65,535 bytes, however head and body fall across them, and past
 * the 16 records of one writev.
 */
START_TEST(answer_records)
{
	static const struct {
		size_t	hlen, blen;
		int	records;
	} cases[] = {
		{ 100, 0, 1 },			/* HEAD, or an empty body */
		{ 100, 65428, 1 },		/* one full record */
		{ 100, 65429, 2 },
		{ 70000, 10, 2 },		/* the head across two */
		{ 7, 16 * 65528 + 3, 17 },	/* two writevs */
	};
	unsigned char	*wire;
	char		*head, *body, *got;
	size_t		 i, j, max = 16 * 65528 + 80, len;
	long		 end;
	int		 fd, records;
	char		 path[] = "/tmp/check_fcgi.XXXXXX";

	ck_assert_ptr_nonnull(head = malloc(max));
	ck_assert_ptr_nonnull(body = malloc(max));
	ck_assert_ptr_nonnull(got = malloc(max));
	ck_assert_ptr_nonnull(wire = malloc(2 * max));
	for (j = 0; j < max; j++) {
		head[j] = (char)('a' + j % 26);
		body[j] = (char)('0' + j % 10);
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_ge(fd = mkstemp(path), 0);
		unlink(path);
		memcpy(path + sizeof(path) - 7, "XXXXXX", 6);
		ck_assert_int_eq(server_records(fd, 0x1234, head,
		    cases[i].hlen, body, cases[i].blen), 0);
		ck_assert_int_ge(end = lseek(fd, 0, SEEK_CUR), 0);
		ck_assert_uint_lt((size_t)end, 2 * max);
		ck_assert_int_eq(pread(fd, wire, (size_t)end, 0), end);
		close(fd);
		len = records_parse(wire, (size_t)end, 0x1234, got, &records);
		ck_assert_uint_eq(len, cases[i].hlen + cases[i].blen);
		ck_assert_int_eq(memcmp(got, head, cases[i].hlen), 0);
		ck_assert_int_eq(memcmp(got + cases[i].hlen, body,
		    cases[i].blen), 0);
		ck_assert_int_eq(records, cases[i].records);
	}
	/* A write that fails is said. */
	ck_assert_int_eq(server_records(-1, 1, head, 10, body, 10), -1);
	free(head);
	free(body);
	free(got);
	free(wire);
}
END_TEST

/* A FastCGI record of type and id to fd, as a web server sends it. */
static void
record_put(int fd, int type, int id, const void *content, size_t len)
{
	FCGI_Header	h;

	memset(&h, 0, sizeof(h));
	h.version = FCGI_VERSION_1;
	h.type = (unsigned char)type;
	h.requestIdB1 = (unsigned char)(id >> 8);
	h.requestIdB0 = (unsigned char)id;
	h.contentLengthB1 = (unsigned char)(len >> 8);
	h.contentLengthB0 = (unsigned char)len;
	ck_assert_int_eq(write(fd, &h, sizeof(h)), sizeof(h));
	if (len > 0)
		ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
}

/* The web server's side: all it is sent, read slowly, until EOF. */
struct slow_peer {
	int		 fd;
	unsigned char	*wire;
	size_t		 len, cap;
};

static void *
slow_peer_read(void *arg)
{
	struct slow_peer	*p = arg;
	ssize_t			 n;

	while (p->len < p->cap && (n = read(p->fd, p->wire + p->len,
	    p->cap - p->len < 1000 ? p->cap - p->len : 1000)) > 0) {
		p->len += (size_t)n;
		usleep(20);
	}
	return NULL;
}

/*
 * libfcgi's request (a kept connection, as nginx's fastcgi_keep_conn
 * asks) over a socketpair whose 4 KiB send buffer makes each writev wait
 * for the web server many times; fd[1] is the web server's end.
 */
static void
kept_request(FCGX_Request *r, int fd[2])
{
	static const unsigned char	params[] = { 14, 3, 'R', 'E', 'Q',
	    'U', 'E', 'S', 'T', '_', 'M', 'E', 'T', 'H', 'O', 'D', 'G', 'E',
	    'T' };
	FCGI_BeginRequestBody		begin;
	int				sndbuf = 4096;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fd), 0);
	ck_assert_int_eq(setsockopt(fd[0], SOL_SOCKET, SO_SNDBUF, &sndbuf,
	    sizeof(sndbuf)), 0);
	memset(&begin, 0, sizeof(begin));
	begin.roleB0 = FCGI_RESPONDER;
	begin.flags = FCGI_KEEP_CONN;
	record_put(fd[1], FCGI_BEGIN_REQUEST, 7, &begin, sizeof(begin));
	record_put(fd[1], FCGI_PARAMS, 7, params, sizeof(params));
	record_put(fd[1], FCGI_PARAMS, 7, NULL, 0);
	record_put(fd[1], FCGI_STDIN, 7, NULL, 0);
	ck_assert_int_eq(FCGX_Init(), 0);
	ck_assert_int_eq(FCGX_InitRequest(r, -1, 0), 0);
	/* A kept connection: libfcgi reads the next request from it. */
	r->ipcFd = fd[0];
	r->keepConnection = 1;
	ck_assert_int_ge(FCGX_Accept_r(r), 0);
	ck_assert_int_eq(r->requestId, 7);
}

/*
 * An answer through server_fcgi_answer, then libfcgi's FCGX_Finish_r as
 * the server calls it: the web server reads the content whole, one end
 * of the request and nothing after it, from a slow reader, and the
 * connection is kept; once the web server is gone, a failed write closes
 * it instead of keeping it.
 */
START_TEST(answer_through_libfcgi)
{
	static const char	head[] = "Status: 200 OK\r\n\r\n";
	FCGX_Request		r;
	struct slow_peer	peer;
	pthread_t		reader;
	char			*body, *got;
	size_t			 i, blen = 1500000, len;
	int			 fd[2], records;

	ck_assert_ptr_nonnull(body = malloc(blen));
	ck_assert_ptr_nonnull(got = malloc(blen + sizeof(head)));
	for (i = 0; i < blen; i++)
		body[i] = (char)('a' + i % 26);
	kept_request(&r, fd);
	peer.fd = fd[1];
	peer.len = 0;
	peer.cap = 2 * blen;
	ck_assert_ptr_nonnull(peer.wire = malloc(peer.cap));
	ck_assert_int_eq(pthread_create(&reader, NULL, slow_peer_read, &peer),
	    0);
	server_fcgi_answer(&r, head, sizeof(head) - 1, body, blen);
	FCGX_Finish_r(&r);
	ck_assert_int_eq(r.keepConnection, 1);
	ck_assert_int_eq(shutdown(fd[0], SHUT_WR), 0);
	ck_assert_int_eq(pthread_join(reader, NULL), 0);
	len = records_parse(peer.wire, peer.len, 7, got, &records);
	ck_assert_uint_eq(len, sizeof(head) - 1 + blen);
	ck_assert_int_eq(memcmp(got, head, sizeof(head) - 1), 0);
	ck_assert_int_eq(memcmp(got + sizeof(head) - 1, body, blen), 0);
	ck_assert_int_eq(records, 23);
	close(fd[0]);
	close(fd[1]);

	signal(SIGPIPE, SIG_IGN);
	kept_request(&r, fd);
	close(fd[1]);
	server_fcgi_answer(&r, head, sizeof(head) - 1, body, blen);
	ck_assert_int_eq(r.keepConnection, 0);
	FCGX_Finish_r(&r);
	free(peer.wire);
	free(body);
	free(got);
}
END_TEST

/* The application in-process, over a real store. */
static char		 dir[256];
static struct app	 app;
static char		 live_key[APIKEY_TEXT_MAX];

static void
app_setup(void)
{
	tmpdir_make(dir, sizeof(dir));
	memset(&app, 0, sizeof(app));
	ck_assert_int_eq(store_open(&app.store, dir, 4, STORE_CREATE),
	    STORE_OK);
	ck_assert_int_eq(store_write(app.store, tenant_add_named, "acme"), STORE_OK);
	ck_assert_int_eq(apikey_create(app.store, "acme", STORE_ENV_LIVE,
	    STORE_KEY_VENDOR, "", live_key), STORE_OK);
}

static void
app_teardown(void)
{
	store_close(app.store);
	tmpdir_remove(dir);
}

/* Runs one request through the application; the caller frees resp. */
static void
call(struct response *resp, const char *method, const char *uri,
    const char *key, const char *ctype, const char *body)
{
	static char	 p[5][2048];
	char		*params[6];
	struct request	 req;
	int		 n = 0;

	snprintf(p[0], sizeof(p[0]), "REQUEST_METHOD=%s", method);
	snprintf(p[1], sizeof(p[1]), "REQUEST_URI=%s", uri);
	params[n++] = p[0];
	params[n++] = p[1];
	if (key != NULL) {
		snprintf(p[2], sizeof(p[2]), "HTTP_X_API_KEY=%s", key);
		params[n++] = p[2];
	}
	if (ctype != NULL) {
		snprintf(p[3], sizeof(p[3]), "CONTENT_TYPE=%s", ctype);
		params[n++] = p[3];
	}
	params[n] = NULL;
	request_init(&req, params);
	req.body = body;
	req.body_len = body != NULL ? strlen(body) : 0;
	response_init(resp);
	app_handle(&app, &req, resp);
}

static void
assert_code(const struct response *resp, int status, const char *code)
{
	struct json_object	*obj = body_json(resp);

	ck_assert_msg(resp->status == status, "status %d, want %d: %s",
	    resp->status, status, resp->body);
	ck_assert_str_eq(path_str(obj, "error", "code"), code);
	json_object_put(obj);
}

START_TEST(app_routing_and_auth)
{
	struct response	resp;
	char		long_uri[1500];

	call(&resp, "GET", "/healthz", NULL, NULL, NULL);
	ck_assert_int_eq(resp.status, 200);
	response_free(&resp);

	call(&resp, "GET", "/api/v1/auth/whoami", NULL, NULL, NULL);
	assert_code(&resp, 401, "INVALID_API_KEY");
	response_free(&resp);

	call(&resp, "GET", "/api/v1/auth/whoami?x=1", live_key, NULL, NULL);
	ck_assert_int_eq(resp.status, 200);
	ck_assert_ptr_nonnull(strstr(resp.body, "\"tenant\":\"acme\""));
	response_free(&resp);

	call(&resp, "PUT", "/api/v1/auth/whoami", live_key, NULL, NULL);
	assert_code(&resp, 405, "METHOD_NOT_ALLOWED");
	ck_assert_int_eq(resp.nheaders, 1);
	ck_assert_str_eq(resp.headers[0].name, "Allow");
	ck_assert_str_eq(resp.headers[0].value, "GET");
	response_free(&resp);

	call(&resp, "GET", "/api/v1/missing", live_key, NULL, NULL);
	assert_code(&resp, 404, "NOT_FOUND");
	response_free(&resp);

	memset(long_uri, 'a', sizeof(long_uri) - 1);
	long_uri[0] = '/';
	long_uri[sizeof(long_uri) - 1] = '\0';
	call(&resp, "GET", long_uri, live_key, NULL, NULL);
	assert_code(&resp, 404, "NOT_FOUND");
	response_free(&resp);
}
END_TEST

Suite *
fcgi_suite(void)
{
	Suite	*s = suite_create("fcgi");
	TCase	*unit = tcase_create("parts"), *tapp = tcase_create("app");

	tcase_add_test(unit, request_from_params);
	tcase_add_test(unit, request_defaults_and_unsafe_id);
	tcase_add_test(unit, request_repeated);
	tcase_add_test(unit, request_repeated_many);
	tcase_add_test(unit, request_id_random);
	tcase_add_test(unit, router_matches);
	tcase_add_test(unit, envelopes);
	tcase_add_test(unit, streamed_answers);
	tcase_add_test(unit, answer_records);
	tcase_add_test(unit, answer_through_libfcgi);
	tcase_add_checked_fixture(tapp, app_setup, app_teardown);
	tcase_add_test(tapp, app_routing_and_auth);
	suite_add_tcase(s, unit);
	suite_add_tcase(s, tapp);
	return s;
}
