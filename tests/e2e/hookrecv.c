/*
 * A webhook receiver for the tests: hookrecv PORT DIR [ADDR]
 *
 * Listens on ADDR:PORT (127.0.0.1 by default) and answers each POST as DIR/mode says when
 * the request has arrived whole: "ok" (or no file) 200, "fail" 503,
 * "hang" never (the connection is held open until the client drops it).
 * Every request is kept as DIR/req/N.head and DIR/req/N.body, and
 * described by one line of DIR/log:
 *
 *	N ANSWER EVENT-ID EVENT SIGNATURES
 *
 * SIGNATURES says, for each v1= value of X-PacSpace-Signature in order,
 * which line of DIR/secrets (from 0) verifies it as HMAC-SHA256 of
 * "<X-PacSpace-Timestamp>.<body>", or "x" if none: "0", "1,0", "x".
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define CONNS_MAX	256
#define REQ_MAX		(256 * 1024)
#define SECRETS_MAX	4

struct conn {
	int	fd;
	char	buf[REQ_MAX + 1];
	size_t	len;
	int	hung;
};

static const char	*dir;
static struct conn	*conns[CONNS_MAX];
static unsigned		 served;

/* The value of header name in head (NUL-terminated), copied to out. */
static int
header(const char *head, const char *name, char *out, size_t outlen)
{
	const char	*p = head;
	size_t		 n = strlen(name), len;

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, n) != 0 || p[n] != ':')
			continue;
		p += n + 1;
		while (*p == ' ')
			p++;
		len = strcspn(p, "\r\n");
		if (len >= outlen)
			len = outlen - 1;
		memcpy(out, p, len);
		out[len] = '\0';
		return 0;
	}
	out[0] = '\0';
	return -1;
}

static void
read_file(const char *name, char *out, size_t outlen)
{
	char	path[1024];
	FILE	*fp;
	size_t	n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "r")) != NULL) {
		n = fread(out, 1, outlen - 1, fp);
		fclose(fp);
	}
	out[n] = '\0';
}

/* HMAC-SHA256(secret, "<ts>.<body>") in lowercase hex. */
static void
sign(const char *secret, const char *ts, const char *body, size_t blen,
    char hex[65])
{
	unsigned char	 mac[32];
	unsigned int	 maclen = 0;
	size_t		 tlen = strlen(ts), k;
	char		*msg;

	hex[0] = '\0';
	if ((msg = malloc(tlen + 1 + blen)) == NULL)
		return;
	memcpy(msg, ts, tlen);
	msg[tlen] = '.';
	memcpy(msg + tlen + 1, body, blen);
	if (HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    (unsigned char *)msg, tlen + 1 + blen, mac, &maclen) != NULL)
		for (k = 0; k < maclen; k++)
			snprintf(hex + 2 * k, 3, "%02x", mac[k]);
	free(msg);
}

/* Which secret verifies each v1= value, into out. */
static void
judge(const char *sigs, const char *ts, const char *body, size_t blen,
    char *out, size_t outlen)
{
	char	text[1024], copy[512], hex[65], *secrets[SECRETS_MAX];
	char	*save, *v, who;
	size_t	i, n = 0, used = 0;

	read_file("secrets", text, sizeof(text));
	for (v = strtok_r(text, "\n", &save); v != NULL && n < SECRETS_MAX;
	    v = strtok_r(NULL, "\n", &save))
		secrets[n++] = v;
	snprintf(copy, sizeof(copy), "%s", sigs);
	out[0] = '\0';
	for (v = strtok_r(copy, ",", &save); v != NULL;
	    v = strtok_r(NULL, ",", &save)) {
		who = 'x';
		for (i = 0; i < n && strncmp(v, "v1=", 3) == 0; i++) {
			sign(secrets[i], ts, body, blen, hex);
			if (strlen(v + 3) == 64 &&
			    CRYPTO_memcmp(hex, v + 3, 64) == 0)
				who = (char)('0' + i);
		}
		used += (size_t)snprintf(out + used, outlen - used, "%s%c",
		    used ? "," : "", who);
	}
	if (out[0] == '\0')
		snprintf(out, outlen, "none");
}

static void
save(unsigned n, const char *ext, const char *data, size_t len)
{
	char	path[1024];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/req/%06u.%s", dir, n, ext);
	if ((fp = fopen(path, "w")) != NULL) {
		fwrite(data, 1, len, fp);
		fclose(fp);
	}
}

/* 1 when a whole request is in c->buf (and it was handled). */
static int
handle(struct conn *c)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
	    "Connection: close\r\n\r\n";
	static const char bad[] = "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n";
	char	*end, cl[32], id[128], ev[64], sigs[512], ts[32], mode[16];
	char	 verdict[64], line[512], path[1024];
	size_t	 hlen, blen;
	FILE	*fp;

	c->buf[c->len] = '\0';
	if ((end = strstr(c->buf, "\r\n\r\n")) == NULL)
		return 0;
	hlen = (size_t)(end - c->buf) + 4;
	*end = '\0';
	blen = header(c->buf, "Content-Length", cl, sizeof(cl)) == 0 ?
	    strtoul(cl, NULL, 10) : 0;
	if (c->len < hlen + blen) {
		*end = '\r';
		return 0;
	}
	read_file("mode", mode, sizeof(mode));
	mode[strcspn(mode, "\n")] = '\0';
	header(c->buf, "X-Event-ID", id, sizeof(id));
	header(c->buf, "X-Webhook-Event", ev, sizeof(ev));
	header(c->buf, "X-PacSpace-Signature", sigs, sizeof(sigs));
	header(c->buf, "X-PacSpace-Timestamp", ts, sizeof(ts));
	judge(sigs, ts, c->buf + hlen, blen, verdict, sizeof(verdict));
	served++;
	save(served, "head", c->buf, hlen - 4);
	save(served, "body", c->buf + hlen, blen);
	snprintf(line, sizeof(line), "%06u %s %s %s %s\n", served,
	    strcmp(mode, "hang") == 0 ? "hang" :
	    strcmp(mode, "fail") == 0 ? "503" : "200",
	    id[0] ? id : "-", ev[0] ? ev : "-", verdict);
	snprintf(path, sizeof(path), "%s/log", dir);
	if ((fp = fopen(path, "a")) != NULL) {
		fputs(line, fp);
		fclose(fp);
	}
	if (strcmp(mode, "hang") == 0) {
		c->hung = 1;
		return 1;
	}
	if (strcmp(mode, "fail") == 0)
		(void)!write(c->fd, bad, sizeof(bad) - 1);
	else
		(void)!write(c->fd, ok, sizeof(ok) - 1);
	return 1;
}

/* A restarted receiver numbers on after the requests it logged. */
static unsigned
logged(void)
{
	char	path[1024];
	FILE	*fp;
	int	ch;
	unsigned n = 0;

	snprintf(path, sizeof(path), "%s/log", dir);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	while ((ch = getc(fp)) != EOF)
		n += ch == '\n';
	fclose(fp);
	return n;
}

static void
drop(int i)
{
	close(conns[i]->fd);
	free(conns[i]);
	conns[i] = NULL;
}

static void
accept_one(int lfd)
{
	int	fd, i;

	if ((fd = accept(lfd, NULL, NULL)) < 0)
		return;
	for (i = 0; i < CONNS_MAX && conns[i] != NULL; i++)
		continue;
	if (i == CONNS_MAX || (conns[i] = calloc(1, sizeof(**conns))) ==
	    NULL) {
		close(fd);
		return;
	}
	conns[i]->fd = fd;
}

static void
read_one(int i)
{
	struct conn	*c = conns[i];
	ssize_t		 n;

	n = read(c->fd, c->buf + c->len, REQ_MAX - c->len);
	if (n <= 0) {
		drop(i);
		return;
	}
	if (c->hung)
		return;			/* ignore whatever else comes */
	c->len += (size_t)n;
	if (handle(c) && !c->hung)
		drop(i);
	else if (c->len == REQ_MAX)
		drop(i);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	sin;
	struct pollfd		pfd[CONNS_MAX + 1];
	int			lfd, one = 1, i, n, map[CONNS_MAX + 1];

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: hookrecv PORT DIR [ADDR]\n");
		return 2;
	}
	dir = argv[2];
	served = logged();
	signal(SIGPIPE, SIG_IGN);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (argc == 4 && inet_pton(AF_INET, argv[3], &sin.sin_addr) != 1) {
		fprintf(stderr, "hookrecv: %s: not an IPv4 address\n", argv[3]);
		return 2;
	}
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(lfd, 128) < 0) {
		perror("hookrecv");
		return 1;
	}
	for (;;) {
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		for (n = 1, i = 0; i < CONNS_MAX; i++)
			if (conns[i] != NULL) {
				pfd[n].fd = conns[i]->fd;
				pfd[n].events = POLLIN;
				map[n++] = i;
			}
		if (poll(pfd, (nfds_t)n, -1) < 0 && errno != EINTR)
			return 1;
		for (i = 1; i < n; i++)
			if (pfd[i].revents != 0)
				read_one(map[i]);
		if (pfd[0].revents & POLLIN)
			accept_one(lfd);
	}
}
