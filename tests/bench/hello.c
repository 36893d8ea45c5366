/*
 * The ceiling of make bench: the least a FastCGI responder can do.  It
 * serves the same way tallyd does (libfcgi's FCGX API, threads sharing
 * one listening unix socket, each blocked in FCGX_Accept_r) and answers
 * every request with a tiny JSON body, so nginx -> FastCGI -> back costs
 * what it costs and nothing else.  Given BYTES, the body is JSON of that
 * size instead: what moving an answer as large as a derive page costs,
 * with nothing to compute.
 *
 *   hello SOCKET [THREADS [BYTES]]     (default 16 threads, as tallyd)
 *
 * Runs until SIGTERM or SIGINT; removes its socket on the way out.
 */
#include <sys/stat.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#define HELLO_THREADS_MAX	256
#define HELLO_BYTES_MAX		(16 << 20)

#define HELLO_BODY	"{\"success\":true,\"data\":{\"hello\":true}}"
#define HELLO_HEAD	"{\"success\":true,\"data\":{\"hello\":\""
#define HELLO_TAIL	"\"}}"

static char	*hello_reply;
static int	 hello_reply_len;

static int	hello_fd;

static void *
hello_worker(void *arg)
{
	FCGX_Request	r;
	char		drain[4096];

	(void)arg;
	if (FCGX_InitRequest(&r, hello_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0)
		return NULL;
	while (FCGX_Accept_r(&r) >= 0) {
		/* A body, if any, is read as a responder must, then dropped. */
		while (FCGX_GetStr(drain, sizeof(drain), r.in) > 0)
			;
		FCGX_PutStr(hello_reply, hello_reply_len, r.out);
		/* Closed as tallyd closes (fcgi/server.c): with the input
		 * read to its end, no lingering close, so the ceiling pays
		 * per connection what tallyd pays. */
		if (FCGX_HasSeenEOF(r.in) == EOF)
			FCGX_Detach(&r);
		FCGX_Finish_r(&r);
	}
	FCGX_Free(&r, 0);
	return NULL;
}

/*
 * The answer, headers and body, in hello_reply: HELLO_BODY, or with bytes
 * given {"success":true,"data":{"hello":"xxx…"}} of that size.
 */
static int
hello_make_reply(size_t bytes)
{
	const size_t	fixed = sizeof(HELLO_HEAD) - 1 + sizeof(HELLO_TAIL) - 1;
	char		head[160];
	char		*body;
	size_t		len;
	int		hlen;

	len = bytes == 0 ? sizeof(HELLO_BODY) - 1 : bytes < fixed ? fixed :
	    bytes;
	hlen = snprintf(head, sizeof(head),
	    "Status: 200 OK\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "\r\n", len);
	if ((hello_reply = malloc((size_t)hlen + len)) == NULL)
		return -1;
	memcpy(hello_reply, head, (size_t)hlen);
	body = hello_reply + hlen;
	if (bytes == 0)
		memcpy(body, HELLO_BODY, len);
	else {
		memcpy(body, HELLO_HEAD, sizeof(HELLO_HEAD) - 1);
		memset(body + sizeof(HELLO_HEAD) - 1, 'x', len - fixed);
		memcpy(body + len - (sizeof(HELLO_TAIL) - 1), HELLO_TAIL,
		    sizeof(HELLO_TAIL) - 1);
	}
	hello_reply_len = hlen + (int)len;
	return 0;
}

int
main(int argc, char *argv[])
{
	pthread_t	threads[HELLO_THREADS_MAX];
	sigset_t	set;
	long		bytes = 0;
	int		i, n = 16, sig;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: hello SOCKET [THREADS [BYTES]]\n");
		return 2;
	}
	if (argc >= 3 && ((n = atoi(argv[2])) < 1 || n > HELLO_THREADS_MAX)) {
		fprintf(stderr, "hello: THREADS is 1 to %d\n",
		    HELLO_THREADS_MAX);
		return 2;
	}
	if (argc == 4 && ((bytes = atol(argv[3])) < 1 ||
	    bytes > HELLO_BYTES_MAX)) {
		fprintf(stderr, "hello: BYTES is 1 to %d\n", HELLO_BYTES_MAX);
		return 2;
	}
	if (hello_make_reply((size_t)bytes) < 0) {
		fprintf(stderr, "hello: out of memory\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (FCGX_Init() != 0) {
		fprintf(stderr, "hello: FCGX_Init failed\n");
		return 1;
	}
	unlink(argv[1]);
	/* FCGX_OpenSocket makes a unix socket for a path without a colon. */
	if ((hello_fd = FCGX_OpenSocket(argv[1], 1024)) < 0 ||
	    chmod(argv[1], 0666) < 0) {
		fprintf(stderr, "hello: cannot listen on %s\n", argv[1]);
		return 1;
	}
	for (i = 0; i < n; i++)
		if (pthread_create(&threads[i], NULL, hello_worker, NULL) != 0) {
			fprintf(stderr, "hello: cannot start thread %d\n", i);
			return 1;
		}
	sigwait(&set, &sig);
	/* Threads blocked in accept() would never return: just leave. */
	unlink(argv[1]);
	return 0;
}
