/*
 * tally.conf: one "key = value" per line, '#' starts a comment.  Every
 * option has a working default, so a missing file means all defaults.
 * Relative paths are taken relative to the directory of the file, so a
 * configuration works whatever the current directory of its reader.
 */
#ifndef TALLY_CONF_H
#define TALLY_CONF_H

#include <stddef.h>

#include "log.h"

#define CONF_PATH_MAX	512
#define CONF_ORIGIN_MAX	255
#define CONF_USER_MAX	32
#define CONF_URL_MAX	255
#define CONF_NETS_MAX	16
#define CONF_HOST_MAX	255
#define CONF_PEERS_MAX	8

/* A "host:port" of the replication group. */
struct conf_addr {
	char		host[CONF_HOST_MAX + 1];
	unsigned	port;
};

/*
 * Replication (README "Running more than one machine"): off while
 * listen.port is 0.  Every node names its own address and its peers';
 * the rest are Berkeley DB's Replication Manager settings.
 */
struct conf_repl {
	struct conf_addr listen;
	struct conf_addr peers[CONF_PEERS_MAX];
	int		npeers;
	int		priority;		/* elections; 0: never master */
	int		ack_all;		/* every peer, not a quorum */
	int		lease_ms;		/* master leases; 0: off */
	int		heartbeat_ms;
	int		election_ms;
	int		ack_timeout_ms;
	/* Starts the group at its first start; ignored once it exists. */
	int		create;
};

/* An address block, "10.0.0.0/8" or "::1/128". */
struct conf_net {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned char	addr[16];
	int		bits;
};

/* Where tallyd and tallyctl look for their configuration without -c. */
#define CONF_DEFAULT_PATH	"/etc/tally/tally.conf"

struct conf {
	/* "unix:/path", "HOST:PORT", or "stdin" (socket inherited on fd 0). */
	char		listen[CONF_PATH_MAX];
	unsigned	listen_mode;		/* unix socket permissions */
	/* The unix socket's group (the web server's); "": tallyd's own. */
	char		socket_group[CONF_USER_MAX + 1];
	/*
	 * Seconds a FastCGI connection may keep tallyd waiting for the
	 * rest of a record before it is closed.
	 */
	int		read_timeout;
	/*
	 * The base of every link Tally hands out ("https://tally.example"),
	 * without a trailing slash; "": links are paths from the root.
	 * Never taken from a request's Host header.
	 */
	char		public_url[CONF_URL_MAX + 1];
	char		data_dir[CONF_PATH_MAX];
	/* Whom tallyd and tallyctl become when started as root. */
	char		user[CONF_USER_MAX + 1];
	int		threads;		/* request threads */
	int		cache_mb;		/* Berkeley DB cache */
	enum log_level	log_level;
	/* Where log lines go: a file reopened on SIGHUP; "": stderr. */
	char		log_file[CONF_PATH_MAX];
	enum log_format	log_format;
	/*
	 * Who may read GET /metrics: the blocks REMOTE_ADDR must be in.
	 * By default loopback and the private networks, where the web
	 * server's and the monitoring's own addresses are.
	 */
	struct conf_net	metrics_allow[CONF_NETS_MAX];
	int		nmetrics_allow;
	/* The log's name: first line of every signed tree head, key name. */
	char		log_origin[CONF_ORIGIN_MAX + 1];
	int		sth_interval_ms;	/* how often heads are signed */
	/* Requests per second per API key, and the burst above it (0: off). */
	unsigned	rate_limit;
	unsigned	rate_burst;
	/* Webhook delivery (SPEC 5). */
	int		webhook_allow_private;	/* loopback, private targets */
	int		webhook_timeout_ms;	/* one attempt, all of it */
	int		webhook_retry_ms;	/* wait after the 1st failure */
	int		webhook_attempts;	/* before an event FAILED */
	int		webhook_concurrency;	/* attempts in flight */
	/* CA certificates for HTTPS targets; "": the system's. */
	char		webhook_ca_file[CONF_PATH_MAX];
	struct conf_repl repl;
};

void	conf_defaults(struct conf *);
/*
 * Reads path over the values already in conf.  Returns 0, or -1 with a
 * message naming the file and line in err.
 */
int	conf_load(struct conf *, const char *path, char *err, size_t errlen);
/*
 * The configuration a program starts with: the defaults, then path, or
 * CONF_DEFAULT_PATH when path is NULL.  Only the default file may be
 * missing (then all defaults apply); a file given and missing is an
 * error.  Returns as conf_load.
 */
int	conf_read(struct conf *, const char *path, char *err, size_t errlen);
/* 1 if addr (an IP address as text) is in one of the n blocks, else 0. */
int	conf_net_allows(const struct conf_net *, int n, const char *addr);

#endif
