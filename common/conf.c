#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

static int	conf_nets(struct conf *, const char *);

void
conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen, sizeof(c->listen), "unix:/run/tally/tallyd.sock");
	c->listen_mode = 0660;
	c->read_timeout = 10;
	snprintf(c->data_dir, sizeof(c->data_dir), "/var/lib/tally");
	snprintf(c->user, sizeof(c->user), "tally");
	c->threads = 16;
	c->cache_mb = 20;
	c->log_level = LOG_LEVEL_INFO;
	snprintf(c->log_origin, sizeof(c->log_origin), "tally.local/log");
	c->sth_interval_ms = 100;
	c->rate_limit = 10000;
	c->rate_burst = 20000;
	c->webhook_timeout_ms = 10000;
	c->webhook_retry_ms = 10000;
	c->webhook_attempts = 12;
	c->webhook_concurrency = 32;
	c->log_format = LOG_FORMAT_TEXT;
	c->repl.priority = 100;
	c->repl.lease_ms = 1000;
	c->repl.heartbeat_ms = 200;
	c->repl.election_ms = 500;
	c->repl.ack_timeout_ms = 1000;
	(void)conf_nets(c, "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,"
	    "192.168.0.0/16,fc00::/7");
}

/* A C2SP key name: printable ASCII, no space and no '+'. */
static int
conf_origin(char *dst, size_t len, const char *value)
{
	const char	*p;

	if (*value == '\0' || strlen(value) >= len)
		return -1;
	for (p = value; *p != '\0'; p++)
		if (*p <= ' ' || *p > '~' || *p == '+')
			return -1;
	snprintf(dst, len, "%s", value);
	return 0;
}

/* A user name: 1-32 of A-Z a-z 0-9 . _ -, not starting with '-'. */
static int
conf_user(char *dst, size_t len, const char *value)
{
	const char	*p;

	if (*value == '\0' || *value == '-' || strlen(value) >= len)
		return -1;
	for (p = value; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("._-", *p) == NULL)
			return -1;
	snprintf(dst, len, "%s", value);
	return 0;
}

static char *
conf_trim(char *s)
{
	char	*end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int
conf_int(const char *value, int base, long min, long max, long *out)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(value, &end, base);
	if (errno != 0 || end == value || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* A decimal int option within min..max. */
static int
conf_int_field(const char *value, long min, long max, int *out)
{
	long	v;

	if (conf_int(value, 10, min, max, &v) < 0)
		return -1;
	*out = (int)v;
	return 0;
}

/* "ADDR/BITS" or a bare ADDR (all its bits). */
static int
conf_net(struct conf_net *n, const char *text)
{
	char	addr[64], *slash;
	long	bits;

	if (snprintf(addr, sizeof(addr), "%s", text) >= (int)sizeof(addr))
		return -1;
	if ((slash = strchr(addr, '/')) != NULL)
		*slash = '\0';
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, addr, n->addr) == 1) {
		n->family = AF_INET;
		n->bits = 32;
	} else if (inet_pton(AF_INET6, addr, n->addr) == 1) {
		n->family = AF_INET6;
		n->bits = 128;
	} else
		return -1;
	if (slash != NULL) {
		if (conf_int(slash + 1, 10, 0, n->bits, &bits) < 0)
			return -1;
		n->bits = (int)bits;
	}
	return 0;
}

/* A comma-separated list of blocks; "none": nobody. */
static int
conf_nets(struct conf *c, const char *value)
{
	char	list[1024], *item, *save = NULL;
	int	n = 0;

	if (snprintf(list, sizeof(list), "%s", value) >= (int)sizeof(list))
		return -1;
	if (strcmp(value, "none") != 0)
		for (item = strtok_r(list, ", ", &save); item != NULL;
		    item = strtok_r(NULL, ", ", &save))
			if (n == CONF_NETS_MAX ||
			    conf_net(&c->metrics_allow[n++], item) < 0)
				return -1;
	c->nmetrics_allow = n;
	return 0;
}

static int
conf_net_has(const struct conf_net *n, const unsigned char *addr)
{
	int	full = n->bits / 8, rest = n->bits % 8;

	if (memcmp(n->addr, addr, (size_t)full) != 0)
		return 0;
	return rest == 0 || ((n->addr[full] ^ addr[full]) &
	    (0xff << (8 - rest)) & 0xff) == 0;
}

int
conf_net_allows(const struct conf_net *nets, int n, const char *addr)
{
	static const unsigned char	mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0xff, 0xff };
	unsigned char			a4[4], a6[16];
	int				i, is4, is6;

	if (addr == NULL)
		return 0;
	is4 = inet_pton(AF_INET, addr, a4) == 1;
	is6 = !is4 && inet_pton(AF_INET6, addr, a6) == 1;
	/* A web server on a dual-stack socket says ::ffff:10.0.0.1. */
	if (is6 && memcmp(a6, mapped, sizeof(mapped)) == 0) {
		memcpy(a4, a6 + 12, 4);
		is4 = 1;
	}
	for (i = 0; i < n; i++)
		if ((is4 && nets[i].family == AF_INET &&
		    conf_net_has(&nets[i], a4)) ||
		    (is6 && nets[i].family == AF_INET6 &&
		    conf_net_has(&nets[i], a6)))
			return 1;
	return 0;
}

/*
 * An http(s) URL with a host and nothing after the path: the base links
 * are appended to.  A trailing slash is dropped, so that links built as
 * base + "/api/..." never hold "//".
 */
static int
conf_url(char *dst, size_t len, const char *value)
{
	const char	*host, *p;
	size_t		 n = strlen(value);

	if (strncmp(value, "https://", 8) == 0)
		host = value + 8;
	else if (strncmp(value, "http://", 7) == 0)
		host = value + 7;
	else
		return -1;
	if (*host == '\0' || *host == '/' || n >= len)
		return -1;
	for (p = value; *p != '\0'; p++)
		if (*p <= ' ' || *p > '~' || strchr("?#@\"\\", *p) != NULL)
			return -1;
	while (n > (size_t)(host - value) && value[n - 1] == '/')
		n--;
	memcpy(dst, value, n);
	dst[n] = '\0';
	return 0;
}

/* Copies a path, prefixing dir when the path is relative. */
static int
conf_path(char *dst, size_t len, const char *dir, const char *value)
{
	int	n;

	if (value[0] == '/' || dir[0] == '\0')
		n = snprintf(dst, len, "%s", value);
	else
		n = snprintf(dst, len, "%s/%s", dir, value);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

/* "host:port", the port 1 to 65535; an IPv6 host in brackets. */
static int
conf_addr(struct conf_addr *a, const char *value)
{
	const char	*colon = strrchr(value, ':');
	size_t		 hlen;
	long		 port;

	if (colon == NULL || conf_int(colon + 1, 10, 1, 65535, &port) < 0)
		return -1;
	hlen = (size_t)(colon - value);
	if (hlen >= 2 && value[0] == '[' && value[hlen - 1] == ']') {
		value++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen > CONF_HOST_MAX)
		return -1;
	memcpy(a->host, value, hlen);
	a->host[hlen] = '\0';
	a->port = (unsigned)port;
	return 0;
}

/* A comma-separated list of addresses, replacing the last one set. */
static int
conf_peers(struct conf_repl *r, const char *value)
{
	char	 list[1024], *item, *save = NULL;
	int	 n = 0;

	if (snprintf(list, sizeof(list), "%s", value) >= (int)sizeof(list))
		return -1;
	for (item = strtok_r(list, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		item = conf_trim(item);
		if (*item == '\0')
			continue;
		if (n == CONF_PEERS_MAX || conf_addr(&r->peers[n++], item) < 0)
			return -1;
	}
	r->npeers = n;
	return 0;
}

static int
conf_yesno(const char *value, int *out)
{
	if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
		return -1;
	*out = strcmp(value, "yes") == 0;
	return 0;
}

static int
conf_set_repl(struct conf_repl *r, const char *key, const char *value)
{
	if (strcmp(key, "repl_listen") == 0)
		return conf_addr(&r->listen, value);
	if (strcmp(key, "repl_peers") == 0)
		return conf_peers(r, value);
	if (strcmp(key, "repl_priority") == 0)
		return conf_int_field(value, 0, 1000000, &r->priority);
	if (strcmp(key, "repl_ack") == 0) {
		if (strcmp(value, "quorum") != 0 && strcmp(value, "all") != 0)
			return -1;
		r->ack_all = strcmp(value, "all") == 0;
		return 0;
	}
	if (strcmp(key, "repl_lease_ms") == 0)
		return conf_int_field(value, 0, 60000, &r->lease_ms);
	if (strcmp(key, "repl_heartbeat_ms") == 0)
		return conf_int_field(value, 50, 60000, &r->heartbeat_ms);
	if (strcmp(key, "repl_election_ms") == 0)
		return conf_int_field(value, 50, 60000, &r->election_ms);
	if (strcmp(key, "repl_ack_timeout_ms") == 0)
		return conf_int_field(value, 50, 60000, &r->ack_timeout_ms);
	if (strcmp(key, "repl_create") == 0)
		return conf_yesno(value, &r->create);
	return -2;
}

static int
conf_set(struct conf *c, const char *dir, const char *key, const char *value)
{
	long	v;

	if (strcmp(key, "listen") == 0) {
		if (strncmp(value, "unix:", 5) == 0) {
			char	path[CONF_PATH_MAX];

			if (conf_path(path, sizeof(path), dir, value + 5) < 0)
				return -1;
			return snprintf(c->listen, sizeof(c->listen), "unix:%s",
			    path) >= (int)sizeof(c->listen) ? -1 : 0;
		}
		return snprintf(c->listen, sizeof(c->listen), "%s", value) >=
		    (int)sizeof(c->listen) ? -1 : 0;
	}
	if (strcmp(key, "listen_mode") == 0) {
		if (conf_int(value, 8, 0, 0777, &v) < 0)
			return -1;
		c->listen_mode = (unsigned)v;
		return 0;
	}
	if (strcmp(key, "socket_group") == 0)
		return conf_user(c->socket_group, sizeof(c->socket_group),
		    value);
	if (strcmp(key, "read_timeout") == 0)
		return conf_int_field(value, 1, 3600, &c->read_timeout);
	if (strcmp(key, "public_url") == 0)
		return conf_url(c->public_url, sizeof(c->public_url), value);
	if (strcmp(key, "data_dir") == 0)
		return conf_path(c->data_dir, sizeof(c->data_dir), dir, value);
	if (strcmp(key, "user") == 0)
		return conf_user(c->user, sizeof(c->user), value);
	if (strcmp(key, "threads") == 0) {
		if (conf_int(value, 10, 1, 256, &v) < 0)
			return -1;
		c->threads = (int)v;
		return 0;
	}
	if (strcmp(key, "cache_mb") == 0) {
		if (conf_int(value, 10, 1, 4096, &v) < 0)
			return -1;
		c->cache_mb = (int)v;
		return 0;
	}
	if (strcmp(key, "log_level") == 0)
		return log_level_parse(value, &c->log_level);
	if (strcmp(key, "log_file") == 0)
		return conf_path(c->log_file, sizeof(c->log_file), dir, value);
	if (strcmp(key, "log_format") == 0)
		return log_format_parse(value, &c->log_format);
	if (strcmp(key, "metrics_allow") == 0)
		return conf_nets(c, value);
	if (strcmp(key, "log_origin") == 0)
		return conf_origin(c->log_origin, sizeof(c->log_origin), value);
	if (strcmp(key, "rate_limit") == 0) {
		if (conf_int(value, 10, 0, 1000000, &v) < 0)
			return -1;
		c->rate_limit = (unsigned)v;
		return 0;
	}
	if (strcmp(key, "rate_burst") == 0) {
		if (conf_int(value, 10, 0, 1000000, &v) < 0)
			return -1;
		c->rate_burst = (unsigned)v;
		return 0;
	}
	if (strcmp(key, "webhook_allow_private") == 0)
		return conf_yesno(value, &c->webhook_allow_private);
	if (strcmp(key, "webhook_timeout_ms") == 0)
		return conf_int_field(value, 100, 600000, &c->webhook_timeout_ms);
	if (strcmp(key, "webhook_retry_ms") == 0)
		return conf_int_field(value, 10, 3600000, &c->webhook_retry_ms);
	if (strcmp(key, "webhook_attempts") == 0)
		return conf_int_field(value, 1, 100, &c->webhook_attempts);
	if (strcmp(key, "webhook_ca_file") == 0)
		return conf_path(c->webhook_ca_file,
		    sizeof(c->webhook_ca_file), dir, value);
	if (strcmp(key, "webhook_concurrency") == 0)
		return conf_int_field(value, 1, 1024,
		    &c->webhook_concurrency);
	if (strcmp(key, "sth_interval_ms") == 0) {
		if (conf_int(value, 10, 10, 250, &v) < 0)
			return -1;
		c->sth_interval_ms = (int)v;
		return 0;
	}
	if (strncmp(key, "repl_", 5) == 0)
		return conf_set_repl(&c->repl, key, value);
	return -2;
}

int
conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
	FILE	*fp;
	char	 line[1024], dir[CONF_PATH_MAX], *p, *key, *value, *slash;
	int	 lineno = 0, rc = -1, r;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	else
		dir[0] = '\0';

	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			snprintf(err, errlen, "%s:%d: line too long", path,
			    lineno);
			goto out;
		}
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		key = conf_trim(line);
		if (*key == '\0')
			continue;
		if ((p = strchr(key, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected key = value",
			    path, lineno);
			goto out;
		}
		*p = '\0';
		key = conf_trim(key);
		value = conf_trim(p + 1);
		if ((r = conf_set(c, dir, key, value)) == -2) {
			snprintf(err, errlen, "%s:%d: unknown option '%.64s'",
			    path, lineno, key);
			goto out;
		} else if (r < 0) {
			snprintf(err, errlen, "%s:%d: bad value for %.64s",
			    path, lineno, key);
			goto out;
		}
	}
	rc = 0;
out:
	fclose(fp);
	return rc;
}

int
conf_read(struct conf *c, const char *path, char *err, size_t errlen)
{
	conf_defaults(c);
	if (path == NULL) {
		/* A build run from its tree before any install: defaults. */
		if (access(CONF_DEFAULT_PATH, F_OK) < 0 && errno == ENOENT)
			return 0;
		path = CONF_DEFAULT_PATH;
	}
	return conf_load(c, path, err, errlen);
}
