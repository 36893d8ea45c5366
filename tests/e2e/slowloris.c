/*
 * A bounded abuser for tests/e2e/abuse.sh, loopback only, that stops by
 * itself:
 *
 *   slowloris http PORT NCONN SECONDS
 *	NCONN connections to 127.0.0.1:PORT (from 127.0.0.2 when it can
 *	bind there, so that it is another client), each sending a request
 *	header one line every 5 s and never finishing it; a connection the
 *	server drops is opened again.
 *   slowloris fcgi SOCKET NCONN SECONDS
 *	NCONN connections to a FastCGI unix socket, each sending half a
 *	BEGIN_REQUEST record (its 8-byte header and 4 of its 8 body
 *	bytes) and waiting; one the server closes is closed, not reopened.
 *
 * Prints what it held and how often the server let go.  Exits 0 unless
 * it could not start.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SLOW_MAX	4096
#define SLOW_LINE_MS	5000

struct slow {
	int	fd;		/* -1: closed */
	int	connecting;
};

static struct slow	conns[SLOW_MAX];
static struct pollfd	pfd[SLOW_MAX];
static int		fcgi;
static const char	*target;	/* a port, or a socket path */
static unsigned long	dropped, opened;

static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
open_http(void)
{
	struct sockaddr_in	sin, src;
	int			fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0)
		return -1;
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	src.sin_addr.s_addr = htonl(0x7f000002);
	/* Another loopback address if the system has it; else the same. */
	(void)bind(fd, (struct sockaddr *)&src, sizeof(src));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(target));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
open_fcgi(void)
{
	/* FCGI_BEGIN_REQUEST, id 1, 8 bytes of body; then 4 of them. */
	static const unsigned char half[12] = { 1, 1, 0, 1, 0, 8, 0, 0,
	    0, 1, 0, 0 };
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", target);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    send(fd, half, sizeof(half), MSG_NOSIGNAL) != sizeof(half)) {
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

static void
slow_open(struct slow *s)
{
	s->fd = fcgi ? open_fcgi() : open_http();
	s->connecting = s->fd >= 0 && !fcgi;
	if (s->fd >= 0)
		opened++;
}

static void
slow_drop(struct slow *s)
{
	close(s->fd);
	s->fd = -1;
	dropped++;
}

/* A line of the header that never ends; the first names a request. */
static void
slow_send(struct slow *s, int first)
{
	const char	*line = first ? "GET /healthz HTTP/1.1\r\nHost: x\r\n" :
			    "X-Slow: 1\r\n";

	if (send(s->fd, line, strlen(line), MSG_NOSIGNAL) < 0 &&
	    errno != EAGAIN)
		slow_drop(s);
}

int
main(int argc, char **argv)
{
	long long	end, next_line;
	unsigned long	held, most = 0;
	char		buf[4096];
	int		i, n, err;
	socklen_t	len;

	if (argc != 5 || (strcmp(argv[1], "http") != 0 &&
	    strcmp(argv[1], "fcgi") != 0) || (n = atoi(argv[3])) < 1 ||
	    n > SLOW_MAX || atoi(argv[4]) < 1 || atoi(argv[4]) > 60) {
		fprintf(stderr, "usage: slowloris http|fcgi PORT|SOCKET "
		    "NCONN(1-%d) SECONDS(1-60)\n", SLOW_MAX);
		return 2;
	}
	fcgi = strcmp(argv[1], "fcgi") == 0;
	target = argv[2];
	end = now_ms() + 1000LL * atoi(argv[4]);
	next_line = now_ms() + SLOW_LINE_MS;
	for (i = 0; i < n; i++)
		slow_open(&conns[i]);
	while (now_ms() < end) {
		for (i = 0; i < n; i++) {
			pfd[i].fd = conns[i].fd;
			pfd[i].events = POLLIN |
			    (conns[i].connecting ? POLLOUT : 0);
			pfd[i].revents = 0;
		}
		if (poll(pfd, (nfds_t)n, 100) < 0 && errno != EINTR)
			break;
		for (i = 0; i < n; i++) {
			struct slow	*s = &conns[i];

			if (s->fd < 0) {
				/* The server let go: come back (http). */
				if (!fcgi)
					slow_open(s);
				continue;
			}
			if (s->connecting && (pfd[i].revents & POLLOUT)) {
				len = sizeof(err);
				if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR,
				    &err, &len) < 0 || err != 0) {
					slow_drop(s);
					continue;
				}
				s->connecting = 0;
				slow_send(s, 1);
				continue;
			}
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) {
				/* An answer (408) or the end: let go too. */
				while (recv(s->fd, buf, sizeof(buf), 0) > 0)
					;
				slow_drop(s);
			}
		}
		if (now_ms() >= next_line) {
			next_line += SLOW_LINE_MS;
			for (i = 0; i < n; i++)
				if (!fcgi && conns[i].fd >= 0 &&
				    !conns[i].connecting)
					slow_send(&conns[i], 0);
		}
		for (held = 0, i = 0; i < n; i++)
			held += conns[i].fd >= 0 && !conns[i].connecting;
		if (held > most)
			most = held;
	}
	for (i = 0; i < n; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
	printf("slowloris %s: %lu connections opened, %lu held at most, "
	    "%lu let go by the server\n", argv[1], opened, most, dropped);
	return 0;
}
