/* accept4 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pthread.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <fastcgi.h>
#include <fcgiapp.h>

#include "../common/log.h"
#include "../core/metrics.h"
#include "app.h"
#include "server.h"

/* Bodies beyond the largest allowed are read and dropped, up to this. */
#define SERVER_DRAIN_MAX	(64L * 1024 * 1024)

struct worker {
	pthread_t	 thread;
	int		 fd;
	int		 tcp;		/* fd listens on TCP, not a unix path */
	int		 read_timeout;	/* seconds */
	struct app	*app;
	char		*body;		/* APP_BODY_MAX_LARGE + 1 bytes */
};

static volatile sig_atomic_t	server_stopping;

void
server_block_signals(void)
{
	sigset_t	set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/*
 * Gives the socket to the web server's group, so that mode can be 0660:
 * any other local user who could connect could speak FastCGI to tallyd
 * and claim any REMOTE_ADDR or HTTPS it likes, or tie up its threads.
 */
static int
server_socket_group(const char *path, const char *group)
{
	struct group	*gr;

	if (group == NULL || *group == '\0')
		return 0;
	if ((gr = getgrnam(group)) == NULL) {
		log_error("listen: socket_group %s: no such group", group);
		return -1;
	}
	if (chown(path, (uid_t)-1, gr->gr_gid) < 0) {
		log_error("listen: %s: group %s: %s", path, group,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static int
server_listen_unix(const char *path, unsigned mode, const char *group)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_error("listen: socket path too long: %s", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return -1;
	/* A socket file nobody answers on is left over from a crash. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		log_error("listen: %s: another tallyd is serving it", path);
		goto err;
	}
	if (errno == ECONNREFUSED)
		unlink(path);
	close(fd);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(path, mode) < 0 || listen(fd, 1024) < 0) {
		log_error("listen: %s: %s", path, strerror(errno));
		goto err;
	}
	if (server_socket_group(path, group) < 0)
		goto err;
	return fd;
err:
	close(fd);
	return -1;
}

static int
server_listen_tcp(const char *spec)
{
	struct addrinfo	 hints, *res = NULL;
	char		 host[256], *colon;
	int		 fd = -1, on = 1, rc;

	snprintf(host, sizeof(host), "%s", spec);
	if ((colon = strrchr(host, ':')) == NULL) {
		log_error("listen: expected HOST:PORT, unix:PATH or stdin");
		return -1;
	}
	*colon = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints,
	    &res)) != 0) {
		log_error("listen: %s: %s", spec, gai_strerror(rc));
		return -1;
	}
	if ((fd = socket(res->ai_family, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) < 0 ||
	    listen(fd, 1024) < 0) {
		log_error("listen: %s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

int
server_listen(const char *spec, unsigned mode, const char *group)
{
	if (strcmp(spec, "stdin") == 0)
		return 0;
	if (strncmp(spec, "unix:", 5) == 0)
		return server_listen_unix(spec + 5, mode, group);
	return server_listen_tcp(spec);
}

/*
 * Where one request comes from and its answer goes: a FastCGI request,
 * or (r NULL) the CGI process's own stdin and stdout, of which only
 * CONTENT_LENGTH bytes are read, as RFC 3875 4.2 asks: a web server need
 * not close stdin after the body.
 */
struct server_io {
	FCGX_Request	*r;
	unsigned long long cgi_left;	/* body bytes stdin still holds */
};

/* Up to len body bytes into buf: how many, 0 at the end, -1 on error. */
static int
server_get(struct server_io *io, char *buf, size_t len)
{
	size_t	n;

	if (len > INT_MAX)
		len = INT_MAX;
	if (io->r != NULL) {
		n = (size_t)FCGX_GetStr(buf, (int)len, io->r->in);
		return n == 0 && FCGX_GetError(io->r->in) != 0 ? -1 : (int)n;
	}
	if (len > io->cgi_left)
		len = (size_t)io->cgi_left;
	if (len == 0)
		return 0;
	if ((n = fread(buf, 1, len, stdin)) == 0)
		return ferror(stdin) ? -1 : 0;
	io->cgi_left -= n;
	return (int)n;
}

static int
server_put(struct server_io *io, const void *data, size_t len)
{
	const char	*p = data;
	int		 n;

	if (io->r == NULL)
		return fwrite(data, 1, len, stdout) == len ? 0 : -1;
	while (len > 0) {
		n = len > 65536 ? 65536 : (int)len;
		if (FCGX_PutStr(p, n, io->r->out) != n)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Reads the body into buf (APP_BODY_MAX_LARGE + 1 bytes); a body too
 * large is drained, not kept.  Returns -1 when the body ended early: the
 * client went away mid-body (a web server that streams bodies, as Apache
 * does, then cuts the stream short), and what did arrive must not be
 * acted on.
 */
static int
server_read_body(struct server_io *io, char *buf, struct request *req)
{
	const char	*cl = request_param(req, "CONTENT_LENGTH");
	char		 scratch[16384];
	size_t		 got = 0;
	long		 dropped = 0;
	int		 n = 0;

	while (got <= APP_BODY_MAX_LARGE && (n = server_get(io, buf + got,
	    APP_BODY_MAX_LARGE + 1 - got)) > 0)
		got += (size_t)n;
	if (got > APP_BODY_MAX_LARGE) {
		req->body_too_large = 1;
		got = 0;
		while (dropped < SERVER_DRAIN_MAX &&
		    (n = server_get(io, scratch, sizeof(scratch))) > 0)
			dropped += n;
	}
	req->body = buf;
	req->body_len = got;
	if (n < 0)
		return -1;
	return req->body_too_large || cl == NULL || *cl == '\0' ||
	    strtoull(cl, NULL, 10) == got ? 0 : -1;
}

/* Microseconds since t0, rounded. */
static long long
server_elapsed_us(const struct timespec *t0)
{
	struct timespec	t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return ((long long)(t1.tv_sec - t0->tv_sec) * 1000000000LL +
	    (t1.tv_nsec - t0->tv_nsec) + 500) / 1000;
}

/* Copies s for a log line, replacing anything unprintable. */
static void
server_log_safe(char *dst, size_t size, const char *s)
{
	size_t	i;

	for (i = 0; i + 1 < size && s[i] != '\0'; i++)
		dst[i] = (s[i] > 0x20 && s[i] < 0x7f) ? s[i] : '?';
	dst[i] = '\0';
}

/*
 * The head's room: the status line and the headers tallyd always sends,
 * the longest Content-Type given, and every header an answer may add.
 */
#define SERVER_HEAD_MAX	(512 + RESPONSE_HEADERS_MAX * \
	    (sizeof(((struct response_header *)0)->name) + \
	    sizeof(((struct response_header *)0)->value) + 4))

/* Appends to head (*n bytes so far); -1 when it does not fit. */
static int
server_head_add(char *head, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
server_head_add(char *head, size_t *n, const char *fmt, ...)
{
	va_list	ap;
	int	m;

	va_start(ap, fmt);
	m = vsnprintf(head + *n, SERVER_HEAD_MAX - *n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)m >= SERVER_HEAD_MAX - *n)
		return -1;
	*n += (size_t)m;
	return 0;
}

/*
 * The status and headers, as a CGI "Status:" header whether FastCGI or
 * CGI carries them, into head (SERVER_HEAD_MAX bytes; *n its length);
 * content_length < 0: none (streamed).  Formatted here in one piece:
 * libfcgi's own printf, a call per header, cost more than the rest of
 * the answer's output.  Returns 0, or -1 if it does not fit.
 */
static int
server_head(char *head, size_t *n, const struct request *req,
    const struct response *resp, long content_length)
{
	int	i, cache = 0, rc;

	*n = 0;
	/* Nothing is cached unless the answer says how (a log tile). */
	for (i = 0; i < resp->nheaders; i++)
		cache |= strcasecmp(resp->headers[i].name, "Cache-Control") == 0;
	rc = server_head_add(head, n, "Status: %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "%s"
	    "X-Request-Id: %s\r\n", resp->status,
	    response_reason(resp->status), resp->content_type != NULL ?
	    resp->content_type : "application/json",
	    cache ? "" : "Cache-Control: no-store\r\n", req->id);
	if (content_length >= 0)
		rc |= server_head_add(head, n, "Content-Length: %ld\r\n",
		    content_length);
	for (i = 0; i < resp->nheaders; i++)
		rc |= server_head_add(head, n, "%s: %s\r\n",
		    resp->headers[i].name, resp->headers[i].value);
	rc |= server_head_add(head, n, "\r\n");
	if (rc != 0) {
		log_error("server: an answer's head does not fit in %zu bytes",
		    (size_t)SERVER_HEAD_MAX);
		return -1;
	}
	return 0;
}

/* Writes all of iov[0..n), which it advances; 0, or -1 on an error. */
static int
server_writev_all(int fd, struct iovec *iov, int n)
{
	ssize_t	w;

	while (n > 0) {
		if ((w = writev(fd, iov, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (; n > 0 && (size_t)w >= iov->iov_len; iov++, n--)
			w -= (ssize_t)iov->iov_len;
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

static void
server_record_header(FCGI_Header *h, int type, int id, size_t len)
{
	memset(h, 0, sizeof(*h));
	h->version = FCGI_VERSION_1;
	h->type = (unsigned char)type;
	h->requestIdB1 = (unsigned char)(id >> 8);
	h->requestIdB0 = (unsigned char)id;
	h->contentLengthB1 = (unsigned char)(len >> 8);
	h->contentLengthB0 = (unsigned char)len;
}

/*
 * Content of a FastCGI record: at most 65,535 bytes, so 65,528, the
 * largest multiple of 8, as libfcgi aligns its records; no padding is
 * sent (it is optional).
 */
#define SERVER_RECORD_MAX	(FCGI_MAX_LENGTH & ~7)
/* Records per writev: 1 MiB of content, three iovecs each at most. */
#define SERVER_RECORDS_WRITE	16

int
server_records(int fd, int id, const char *head, size_t hlen,
    const char *body, size_t blen)
{
	struct {
		FCGI_Header		eof;	/* FCGI_STDOUT, empty */
		FCGI_EndRequestRecord	end;
	}			 tail;
	FCGI_Header		 h[SERVER_RECORDS_WRITE];
	struct iovec		 iov[3 * SERVER_RECORDS_WRITE + 1];
	const char		*piece[2] = { head, body };
	size_t			 left[2] = { hlen, blen }, rec, take;
	int			 p = 0, nh, n, rc;

	memset(&tail, 0, sizeof(tail));
	server_record_header(&tail.eof, FCGI_STDOUT, id, 0);
	server_record_header(&tail.end.header, FCGI_END_REQUEST, id,
	    sizeof(tail.end.body));
	/* Application status 0, as libfcgi sends unless told otherwise. */
	tail.end.body.protocolStatus = FCGI_REQUEST_COMPLETE;
	do {
		n = 0;
		for (nh = 0; nh < SERVER_RECORDS_WRITE &&
		    left[0] + left[1] > 0; nh++) {
			rec = left[0] + left[1];
			if (rec > SERVER_RECORD_MAX)
				rec = SERVER_RECORD_MAX;
			server_record_header(&h[nh], FCGI_STDOUT, id, rec);
			iov[n].iov_base = &h[nh];
			iov[n++].iov_len = sizeof(h[nh]);
			while (rec > 0) {
				if (left[p] == 0) {
					p++;
					continue;
				}
				take = left[p] < rec ? left[p] : rec;
				iov[n].iov_base = (void *)piece[p];
				iov[n++].iov_len = take;
				piece[p] += take;
				left[p] -= take;
				rec -= take;
			}
		}
		if (left[0] + left[1] == 0) {
			iov[n].iov_base = &tail;
			iov[n++].iov_len = sizeof(tail);
		}
		rc = server_writev_all(fd, iov, n);
	} while (rc == 0 && left[0] + left[1] > 0);
	return rc;
}

/*
 * A whole answer through server_records, and libfcgi's output and error
 * streams marked closed, so that FCGX_Finish_r writes nothing more: it
 * would end the request a second time, or send an error stream's records
 * after its end (nothing writes to r->err; if anything ever did, it
 * would be dropped here, not sent out of order).  After a failed write
 * the connection is closed rather than kept for another request.
 */
void
server_fcgi_answer(FCGX_Request *r, const char *head, size_t hlen,
    const char *body, size_t blen)
{
	if (server_records(r->ipcFd, r->requestId, head, hlen, body,
	    blen) < 0)
		r->keepConnection = 0;
	r->out->wasFCloseCalled = r->err->wasFCloseCalled = 1;
	r->out->isClosed = r->err->isClosed = 1;
}

/* A whole answer: its head, with Content-Length, and its body. */
static void
server_write(struct server_io *io, const struct request *req,
    const struct response *resp)
{
	char	head[SERVER_HEAD_MAX];
	size_t	n, blen;

	if (server_head(head, &n, req, resp, (long)resp->body_len) < 0)
		return;
	blen = req->method != HTTP_HEAD ? resp->body_len : 0;
	if (io->r != NULL)
		server_fcgi_answer(io->r, head, n, resp->body, blen);
	else if (server_put(io, head, n) == 0 && blen > 0)
		(void)server_put(io, resp->body, blen);
}

/*
 * The sink a streamed answer goes through: straight into the output.
 * The FastCGI stream's buffer (8 KiB) goes out as FCGI_STDOUT records
 * each time it fills, stdio's as each write to the pipe, so a stream
 * holds no more than that here.
 */
struct server_sink {
	struct response_sink	 base;	/* first: the handler sees only it */
	struct server_io	*io;
	const struct request	*req;
};

static int
server_sink_head(struct response_sink *sink, const struct response *resp)
{
	struct server_sink	*s = (struct server_sink *)sink;
	char			 head[SERVER_HEAD_MAX];
	size_t			 n;

	if (server_head(head, &n, s->req, resp, -1) < 0)
		return -1;
	return server_put(s->io, head, n);
}

static int
server_sink_write(struct response_sink *sink, const void *data, size_t len)
{
	struct server_sink	*s = (struct server_sink *)sink;

	if (s->req->method == HTTP_HEAD)
		return 0;
	return server_put(s->io, data, len);
}

/*
 * A stream that failed after its head (response.h) must not look whole
 * to the client.  Ending the request, or closing the connection, does
 * not do it: nginx (fastcgi_keep_conn off) takes the end of the
 * connection for the end of the answer and closes a chunked body as if
 * complete.  So what was buffered is sent, then a record header no
 * FastCGI reader accepts (version 0), and the connection is shut: nginx
 * ("unsupported FastCGI protocol version") and Apache ("bogus version")
 * log it and drop the client's connection before the body's last chunk,
 * and the client sees an error (curl: exit 18).  An HTTP/1.0 client,
 * whose body ends with the connection, can only see a body that does
 * not parse.
 */
static void
server_stream_break(FCGX_Request *r)
{
	FCGI_Header	h;

	server_record_header(&h, FCGI_STDOUT, r->requestId, 0);
	h.version = 0;			/* refused by the reader */
	if (FCGX_FFlush(r->out) < 0 || write(r->ipcFd, &h, sizeof(h)) < 0)
		log_debug("server: the connection was gone already");
	shutdown(r->ipcFd, SHUT_RDWR);
}

/*
 * Serves one request from io, with body (APP_BODY_MAX_LARGE + 1 bytes)
 * to read it into.  Returns 1 when a streamed answer was cut short
 * after its head (server_stream_break), else 0.
 */
static int
server_serve(struct server_io *io, char *const *params, char *body,
    struct app *app)
{
	struct request		req;
	struct response		resp;
	struct server_sink	sink;
	struct timespec		t0;
	char			path[128], method[16];
	long long		us;
	int			route = -1, cut;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	request_init(&req, params);
	response_init(&resp);
	sink.base.head = server_sink_head;
	sink.base.write = server_sink_write;
	sink.io = io;
	sink.req = &req;
	resp.sink = &sink.base;
	if (server_read_body(io, body, &req) < 0)
		response_error(&resp, API_INVALID_JSON, NULL, NULL,
		    "the request body ended before its Content-Length");
	else if (req.repeated[0] != '\0')
		response_error(&resp, API_VALIDATION_ERROR, req.repeated,
		    NULL, "%s is repeated", req.repeated);
	else
		route = app_handle(app, &req, &resp);
	if (!resp.streamed)
		server_write(io, &req, &resp);
	us = server_elapsed_us(&t0);
	metrics_request(route, resp.status, (double)us / 1e6);
	server_log_safe(path, sizeof(path), req.path);
	server_log_safe(method, sizeof(method), req.method_name);
	/* The time in integers: printf's %f was a sixth of the line's cost. */
	log_msg(resp.stream_failed ? LOG_LEVEL_WARN : LOG_LEVEL_INFO, req.id,
	    "%s %s %d %lld.%03lldms%s", method, path, resp.status, us / 1000,
	    us % 1000, resp.stream_failed ? " (streamed answer cut short)" :
	    "");
	cut = resp.stream_failed;
	response_free(&resp);
	return cut;
}

/*
 * Accepts the next connection here rather than in libfcgi, to give it a
 * receive timeout before libfcgi reads from it: libfcgi blocks in read()
 * until a record is complete, so a peer that sends half a BEGIN_REQUEST
 * and waits would hold a thread for good, and a few dozen would hold
 * them all.  With the timeout the read fails, libfcgi closes the
 * connection, and FCGX_Accept_r returns an error instead of accepting
 * again: the request's listen_sock is -1, so that every accept goes
 * through here.  (libfcgi's lingering close then waits up to 2 s more
 * for a peer that does not close.)  A connection the web server keeps
 * open for its next request (FCGI_KEEP_CONN) is used again as it is.
 *
 * accept4, not accept: the connection is close-on-exec from the start
 * (not inherited by the webhook courier tallyd starts), and the call
 * skips store/nodelay.c's accept(), whose getsockname() per connection
 * is for Berkeley DB's sockets; a TCP listener's connections get
 * TCP_NODELAY here, as they did there.  Two system calls fewer per
 * request.
 */
static int
server_accept(FCGX_Request *r, struct worker *w)
{
	struct timeval	tv;
	int		fd, on = 1;

	if (r->ipcFd >= 0)
		return 0;
	if ((fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
		return -1;
	memset(&tv, 0, sizeof(tv));
	tv.tv_sec = w->read_timeout;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    (w->tcp && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
	    sizeof(on)) < 0)) {
		close(fd);
		return -1;
	}
	r->ipcFd = fd;
	/* Else FCGX_Accept_r, finishing the last request, closes it. */
	r->keepConnection = 1;
	return 0;
}

static void *
server_worker(void *arg)
{
	struct worker		*w = arg;
	FCGX_Request		 r;
	struct server_io	 io;

	if (FCGX_InitRequest(&r, -1, 0) != 0) {
		log_error("server: cannot set up a FastCGI request");
		return NULL;
	}
	while (!server_stopping) {
		if (server_accept(&r, w) < 0) {
			if (server_stopping)
				break;
			/* Out of descriptors, say: wait rather than spin. */
			log_warn("server: accept failed: %s", strerror(errno));
			usleep(100000);
			continue;
		}
		/*
		 * The peer went quiet mid-record, closed, or broke the
		 * protocol: libfcgi has closed the connection already.
		 */
		if (FCGX_Accept_r(&r) < 0)
			continue;
		io.r = &r;
		if (server_serve(&io, r.envp, w->body, w->app))
			server_stream_break(&r);
		/*
		 * libfcgi's close lingers: it shuts the socket down, then
		 * waits (up to 2 s) for the web server to close first, so
		 * that input still arriving cannot reset the connection
		 * under the answer.  Once the input was read to its end
		 * nothing more comes: close at once, and save the request a
		 * sleep and a wake-up.
		 */
		if (FCGX_HasSeenEOF(r.in) == EOF)
			FCGX_Detach(&r);
		FCGX_Finish_r(&r);
	}
	FCGX_Free(&r, 0);
	return NULL;
}

/* Whether fd listens on TCP (IPv4 or IPv6). */
static int
server_is_tcp(int fd)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);

	return getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
}

int
server_run(int fd, int nthreads, int read_timeout, struct app *app)
{
	struct worker	*w;
	sigset_t	 set;
	int		 i, started, sig = 0, tcp = server_is_tcp(fd);

	if (FCGX_Init() != 0 || (w = calloc((size_t)nthreads,
	    sizeof(*w))) == NULL)
		return -1;
	for (started = 0; started < nthreads; started++) {
		w[started].fd = fd;
		w[started].tcp = tcp;
		w[started].read_timeout = read_timeout;
		w[started].app = app;
		if ((w[started].body = malloc(APP_BODY_MAX_LARGE + 1)) ==
		    NULL || pthread_create(&w[started].thread, NULL,
		    server_worker, &w[started]) != 0) {
			free(w[started].body);
			log_error("server: cannot start thread %d", started);
			break;
		}
	}
	if (started == nthreads) {
		log_info("tallyd: serving with %d threads", nthreads);
		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGHUP);
		/* SIGHUP: the log file was rotated; write to a new one. */
		while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
			if (log_reopen() < 0)
				log_error("tallyd: cannot reopen the log file: "
				    "%s", strerror(errno));
			else
				log_info("tallyd: log file reopened");
		log_info("tallyd: signal %d, finishing in-flight requests",
		    sig);
	}
	/* Wakes every thread blocked in accept(); busy ones finish first. */
	server_stopping = 1;
	shutdown(fd, SHUT_RDWR);
	for (i = 0; i < started; i++) {
		pthread_join(w[i].thread, NULL);
		free(w[i].body);
	}
	free(w);
	return started == nthreads ? 0 : -1;
}

/*
 * A CGI answer cut short after its head cannot be told from a whole one
 * through the pipe (the web server ends the body as the pipe closes): it
 * only fails to parse, as for an HTTP/1.0 client of FastCGI.
 */
int
server_cgi(struct app *app)
{
	extern char	**environ;
	struct server_io io;
	const char	*cl = getenv("CONTENT_LENGTH");
	char		*body;
	int		 rc, null;

	if ((body = malloc(APP_BODY_MAX_LARGE + 1)) == NULL) {
		log_error("tallyd: out of memory");
		return -1;
	}
	memset(&io, 0, sizeof(io));
	io.cgi_left = cl != NULL ? strtoull(cl, NULL, 10) : 0;
	(void)server_serve(&io, environ, body, app);
	free(body);
	/*
	 * The answer is all out, and stdout closed, before anything else
	 * this process does: the web server ends the request at its end.
	 */
	rc = fflush(stdout) == EOF ? -1 : 0;
	/* /dev/null in their place: no file opened later takes fd 0 or 1. */
	if ((null = open("/dev/null", O_RDWR)) < 0 || dup2(null, 0) < 0 ||
	    dup2(null, 1) < 0)
		rc = -1;
	if (null > 1)
		close(null);
	return rc;
}
