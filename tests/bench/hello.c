/*
 * The ceiling of make bench: the least a FastCGI responder can do.  It
 * serves the same way tallyd does (libfcgi's FCGX API, threads sharing
 * one listening unix socket, each blocked in FCGX_Accept_r) and answers
 * every request with a tiny JSON body, so nginx -> FastCGI -> back costs
 * what it costs and nothing else.
 *
 *   hello SOCKET [THREADS]     (default 16, as tallyd)
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

#define HELLO_BODY	"{\"success\":true,\"data\":{\"hello\":true}}"

static char	hello_reply[256];
static int	hello_reply_len;

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

int
main(int argc, char *argv[])
{
	pthread_t	threads[HELLO_THREADS_MAX];
	sigset_t	set;
	int		i, n = 16, sig;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: hello SOCKET [THREADS]\n");
		return 2;
	}
	if (argc == 3 && ((n = atoi(argv[2])) < 1 || n > HELLO_THREADS_MAX)) {
		fprintf(stderr, "hello: THREADS is 1 to %d\n",
		    HELLO_THREADS_MAX);
		return 2;
	}
	hello_reply_len = snprintf(hello_reply, sizeof(hello_reply),
	    "Status: 200 OK\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "\r\n%s", sizeof(HELLO_BODY) - 1, HELLO_BODY);
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
