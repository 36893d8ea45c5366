/*
 * Replication: the environment as a site of a Berkeley DB Replication
 * Manager group (README "Running more than one machine").
 *
 * tallyd is the replication process of its data directory (it holds
 * STORE_REPL_LOCK while it runs): it starts the Replication Manager,
 * learns its role from the events, and opens the databases only once it
 * knows it, since a replica may neither create nor migrate one.  A
 * tallyctl beside a running tallyd on the master writes, and tallyd
 * ships its changes (store_repl_confirm says when the group has them);
 * without tallyd it only reads.
 *
 * The settings are the measured ones of issue 23: acknowledgement by a
 * quorum, master leases (a master cut off from the majority can neither
 * commit nor read before another is elected), heartbeats (a hung master
 * is otherwise never noticed) and short election and retry times.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/log.h"
#include "internal.h"
#include "pack.h"

#define STORE_REPL_LOCK		"repl.lock"
/* Berkeley DB's group membership database: the node has been in a group. */
#define STORE_REPL_SYSTEM	"__db.rep.system"
#define STORE_REPL_THREADS	3
/* The master's claim: its key in the meta database, and how often. */
#define STORE_REPL_CLAIM	"master"
#define STORE_REPL_CLAIM_MS	STORE_REPL_CLAIM_INTERVAL_MS
/* How long tallyctl waits for the group to acknowledge its change. */
#define STORE_REPL_CONFIRM_MS	5000
/* store_repl_start's opens while the group forms: 60 s at most. */
#define STORE_REPL_OPEN_WAIT_MS	100
#define STORE_REPL_OPEN_TRIES	600
/* Lease grants may be 2% late: Berkeley DB's clock skew allowance. */
#define STORE_REPL_SKEW_FAST	102
#define STORE_REPL_SKEW_SLOW	100

struct store_repl {
	pthread_mutex_t	 lock;
	pthread_cond_t	 changed;
	enum store_role	 role;		/* as the events said */
	int		 startup_done;	/* a replica caught up once */
	int		 serving;	/* this process is the listener */
	int		 readonly;	/* tallyctl without tallyd */
	int		 lockfd;
	/* The last commit's token: what a replica must have applied. */
	DB_TXN_TOKEN	 token;
	int		 have_token;
	/* The claims this process committed, and acknowledged (when). */
	uint64_t	 claims, claims_acked;
	int64_t		 claim_acked_ms;	/* monotonic */
	void		(*role_fn)(void *, enum store_role);
	void		*role_arg;
	int		 calling;	/* role_fn runs: store_on_role waits */
	/*
	 * To the master, for store_repl_catch_up: one for the process, as
	 * each channel opens a connection of its own; one per request
	 * overflowed the master's listen queue (5) under reads, and a
	 * dropped SYN cost a second.
	 */
	DB_CHANNEL	*to_master;
};

static int	store_repl_confirm(struct store *);
static void	store_repl_addr(char *, size_t, const char *, u_int);

/* Set by DB_EVENT_REP_PERM_FAILED, raised in the committing thread. */
static __thread int	store_repl_perm_failed;

static int64_t
store_repl_now_ms(void)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static u_int32_t
store_repl_ms(int ms)
{
	return (u_int32_t)ms * 1000;
}

static int
store_repl_site(DB_ENV *env, const struct conf_addr *a, u_int32_t which,
    int on)
{
	DB_SITE	*site = NULL;
	int	 rc;

	if ((rc = env->repmgr_site(env, a->host, a->port, &site, 0)) != 0)
		return rc;
	if (which != 0)
		rc = site->set_config(site, which, (u_int32_t)on);
	site->close(site);
	return rc;
}

/* The group's settings on a handle not yet opened (store_env_create). */
int
store_repl_configure(struct store *st, DB_ENV *env)
{
	const struct conf_repl	*c = &st->repl_conf;
	int			 i, rc;

	if ((rc = store_repl_site(env, &c->listen, DB_LOCAL_SITE, 1)) != 0 ||
	    (c->create &&
	    (rc = store_repl_site(env, &c->listen, DB_GROUP_CREATOR, 1)) != 0))
		goto err;
	for (i = 0; i < c->npeers; i++)
		if ((rc = store_repl_site(env, &c->peers[i],
		    DB_BOOTSTRAP_HELPER, 1)) != 0)
			goto err;
	if ((rc = env->rep_set_priority(env, (u_int32_t)c->priority)) != 0 ||
	    (rc = env->repmgr_set_ack_policy(env, c->ack_all ?
	    DB_REPMGR_ACKS_ALL_PEERS : DB_REPMGR_ACKS_QUORUM)) != 0 ||
	    (rc = env->rep_set_timeout(env, DB_REP_ACK_TIMEOUT,
	    store_repl_ms(c->ack_timeout_ms))) != 0 ||
	    (rc = env->rep_set_timeout(env, DB_REP_ELECTION_TIMEOUT,
	    store_repl_ms(c->election_ms))) != 0 ||
	    (rc = env->rep_set_timeout(env, DB_REP_FULL_ELECTION_TIMEOUT,
	    store_repl_ms(c->election_ms))) != 0 ||
	    (rc = env->rep_set_timeout(env, DB_REP_ELECTION_RETRY,
	    store_repl_ms(c->election_ms))) != 0 ||
	    (rc = env->rep_set_timeout(env, DB_REP_HEARTBEAT_SEND,
	    store_repl_ms(c->heartbeat_ms))) != 0 ||
	    (rc = env->rep_set_timeout(env, DB_REP_HEARTBEAT_MONITOR,
	    store_repl_ms(3 * c->heartbeat_ms))) != 0 ||
	    (rc = env->rep_set_timeout(env, DB_REP_CONNECTION_RETRY,
	    store_repl_ms(5 * c->heartbeat_ms))) != 0)
		goto err;
	if (c->lease_ms > 0 &&
	    ((rc = env->rep_set_config(env, DB_REP_CONF_LEASE, 1)) != 0 ||
	    (rc = env->rep_set_timeout(env, DB_REP_LEASE_TIMEOUT,
	    store_repl_ms(c->lease_ms))) != 0 ||
	    (rc = env->rep_set_clockskew(env, STORE_REPL_SKEW_FAST,
	    STORE_REPL_SKEW_SLOW)) != 0))
		goto err;
	return STORE_OK;
err:
	log_error("store: replication settings: %s", db_strerror(rc));
	return STORE_IO;
}

static void
store_repl_set_role(struct store_repl *r, enum store_role role)
{
	void	(*fn)(void *, enum store_role);
	void	*arg;
	int	 changed;

	pthread_mutex_lock(&r->lock);
	changed = r->role != role;
	r->role = role;
	fn = changed ? r->role_fn : NULL;
	arg = r->role_arg;
	if (fn != NULL)
		r->calling++;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
	if (fn == NULL)
		return;
	fn(arg, role);
	pthread_mutex_lock(&r->lock);
	r->calling--;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
}

/* Berkeley DB's replication events (store_event passes them on). */
void
store_repl_event(struct store *st, u_int32_t event)
{
	struct store_repl	*r = st->repl;

	if (r == NULL)
		return;
	switch (event) {
	case DB_EVENT_REP_PERM_FAILED:
		store_repl_perm_failed = 1;
		break;
	case DB_EVENT_REP_MASTER:
		log_info("store: this node is the master");
		store_repl_set_role(r, STORE_ROLE_MASTER);
		break;
	case DB_EVENT_REP_CLIENT:
		store_repl_set_role(r, STORE_ROLE_REPLICA);
		break;
	case DB_EVENT_REP_STARTUPDONE:
		pthread_mutex_lock(&r->lock);
		r->startup_done = 1;
		pthread_cond_broadcast(&r->changed);
		pthread_mutex_unlock(&r->lock);
		log_info("store: this replica has caught up with the master");
		break;
	case DB_EVENT_REP_DUPMASTER:
		log_warn("store: another master was found; this node steps "
		    "down");
		break;
	case DB_EVENT_REP_JOIN_FAILURE:
		log_error("store: this node cannot join its group: its data "
		    "is older than the master's log reaches (start it with "
		    "an empty data directory)");
		break;
	default:
		break;
	}
}

/*
 * The master's answer to a replica's question on the channel: its last
 * commit's token, which the replica then waits to have applied
 * (store_repl_catch_up).  Not master, or nothing committed yet: an
 * empty answer.
 */
static void
store_repl_dispatch(DB_ENV *env, DB_CHANNEL *ch, DBT *req, u_int32_t nreq,
    u_int32_t flags)
{
	struct store		*st = env->app_private;
	struct store_repl	*r = st->repl;
	DB_TXN_TOKEN		 token;
	DBT			 answer;
	int			 have;

	(void)req;
	(void)nreq;
	if (!(flags & DB_REPMGR_NEED_RESPONSE))
		return;
	pthread_mutex_lock(&r->lock);
	have = r->have_token && r->role == STORE_ROLE_MASTER;
	token = r->token;
	pthread_mutex_unlock(&r->lock);
	memset(&answer, 0, sizeof(answer));
	if (have) {
		answer.data = &token;
		answer.size = sizeof(token);
	}
	(void)ch->send_msg(ch, &answer, 1, 0);
}

int
store_repl_new(struct store *st, const struct conf_repl *conf)
{
	struct store_repl	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return STORE_NOMEM;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->changed, NULL);
	r->role = STORE_ROLE_ELECTING;
	r->lockfd = -1;
	st->repl = r;
	st->repl_conf = *conf;
	return STORE_OK;
}

void
store_repl_free(struct store *st)
{
	struct store_repl	*r = st->repl;

	if (r == NULL)
		return;
	if (r->lockfd >= 0)
		close(r->lockfd);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->changed);
	free(r);
	st->repl = NULL;
}

int
store_repl_joined(const char *dir)
{
	char		path[1024];
	struct stat	sb;

	snprintf(path, sizeof(path), "%s/%s", dir, STORE_REPL_SYSTEM);
	return stat(path, &sb) == 0;
}

/*
 * STORE_REPL_LOCK: held exclusively by the tallyd that is the
 * replication process of dir, for its life.  how is LOCK_EX or LOCK_SH,
 * never blocking: returns 0 if taken, 1 if another holds it, -1 on error.
 */
static int
store_repl_lock(struct store_repl *r, const char *dir, int how)
{
	char	path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, STORE_REPL_LOCK);
	if (r->lockfd < 0 && (r->lockfd = open(path, O_RDWR | O_CREAT |
	    O_CLOEXEC, 0600)) < 0) {
		log_error("store: %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(r->lockfd, how | LOCK_NB) == 0)
		return 0;
	if (errno == EWOULDBLOCK)
		return 1;
	log_error("store: %s: %s", path, strerror(errno));
	return -1;
}

/*
 * repmgr_start, again while the group has no site to join through yet
 * (DB_REP_UNAVAIL: the helper named in repl_peers is not up).
 */
static int
store_repl_start_manager(struct store *st)
{
	int	rc, waited = 0;

	while ((rc = st->env->repmgr_start(st->env, STORE_REPL_THREADS,
	    DB_REP_ELECTION)) == DB_REP_UNAVAIL) {
		if (waited++ % 50 == 0)
			log_info("store: waiting for a peer of the group to "
			    "answer (repl_peers)");
		usleep(100000);
	}
	if (rc != 0 && rc != DB_REP_IGNORE) {
		log_error("store: start replication: %s", db_strerror(rc));
		return STORE_IO;
	}
	return STORE_OK;
}

/*
 * tallyctl's part (store_open without STORE_SERVE): it writes only
 * beside a running tallyd, which ships its changes to the group (it
 * never starts the Replication Manager itself: store_repl_confirm);
 * alone, it reads.
 */
int
store_repl_probe(struct store *st, const char *dir)
{
	struct store_repl	*r = st->repl;
	int			 held;

	if ((held = store_repl_lock(r, dir, LOCK_SH)) < 0)
		return STORE_IO;
	r->readonly = held == 0;
	/* Only a probe: held, it would keep a tallyd from starting. */
	(void)flock(r->lockfd, LOCK_UN);
	return STORE_OK;
}

int
store_repl_start(struct store *st, const char *dir)
{
	struct store_repl	*r = st->repl;
	int			 held, rc, tries;

	if ((held = store_repl_lock(r, dir, LOCK_EX)) != 0) {
		if (held > 0)
			log_error("store: %s: another tallyd serves this data "
			    "directory", dir);
		return STORE_IO;
	}
	r->serving = 1;
	if ((rc = st->env->repmgr_msg_dispatch(st->env, store_repl_dispatch,
	    0)) != 0) {
		log_error("store: replication channel: %s", db_strerror(rc));
		return STORE_IO;
	}
	if ((rc = store_repl_start_manager(st)) !=
	    STORE_OK)
		return rc;
	/*
	 * A master, or a replica that has every committed change; then the
	 * databases, as that role opens them.  A group forming answers
	 * STORE_EARLY for seconds (store_open_dbs): each try waits for a
	 * role again, since the master may have changed meanwhile.  Leaving
	 * instead, for a restart, took a majority away from the others'
	 * opens in turn, and a forming group of three went on so for minutes.
	 */
	for (tries = 0;; tries++) {
		pthread_mutex_lock(&r->lock);
		while (r->role != STORE_ROLE_MASTER &&
		    !(r->role == STORE_ROLE_REPLICA && r->startup_done))
			pthread_cond_wait(&r->changed, &r->lock);
		pthread_mutex_unlock(&r->lock);
		rc = store_open_finish(st, dir,
		    store_role(st) == STORE_ROLE_MASTER);
		if (rc != STORE_EARLY)
			return rc;
		store_close_dbs(st, 0);
		if (tries == 0)
			log_info("store: the group is forming: its databases "
			    "are opened again until they can be");
		if (tries == STORE_REPL_OPEN_TRIES) {
			log_error("store: the group's databases could not be "
			    "opened within %d s", STORE_REPL_OPEN_TRIES *
			    STORE_REPL_OPEN_WAIT_MS / 1000);
			return STORE_IO;
		}
		usleep(STORE_REPL_OPEN_WAIT_MS * 1000);
	}
}

enum store_role
store_role(struct store *st)
{
	struct store_repl	*r = st->repl;
	DB_REP_STAT		*sp = NULL;
	enum store_role		 role;

	if (r == NULL)
		return STORE_ROLE_ALONE;
	if (r->serving) {
		pthread_mutex_lock(&r->lock);
		role = r->role;
		pthread_mutex_unlock(&r->lock);
		return role;
	}
	/* Another process's events: the shared region says. */
	if (st->env->rep_stat(st->env, &sp, 0) != 0)
		return STORE_ROLE_ELECTING;
	role = sp->st_status == DB_REP_MASTER ? STORE_ROLE_MASTER :
	    sp->st_status == DB_REP_CLIENT ? STORE_ROLE_REPLICA :
	    STORE_ROLE_ELECTING;
	free(sp);
	return role;
}

const char *
store_role_name(enum store_role role)
{
	switch (role) {
	case STORE_ROLE_ALONE:		return "alone";
	case STORE_ROLE_MASTER:		return "master";
	case STORE_ROLE_REPLICA:	return "replica";
	default:			return "electing";
	}
}

void
store_on_role(struct store *st, void (*fn)(void *, enum store_role),
    void *arg)
{
	struct store_repl	*r = st->repl;

	if (r == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	r->role_fn = fn;
	r->role_arg = arg;
	/* Once it returns, the old fn is not running and will not run. */
	while (r->calling > 0)
		pthread_cond_wait(&r->changed, &r->lock);
	pthread_mutex_unlock(&r->lock);
}

/* STORE_NOTMASTER when this process must not write: store_run asks first. */
int
store_repl_writable(struct store *st)
{
	struct store_repl	*r = st->repl;

	if (r == NULL)
		return STORE_OK;
	if (r->readonly || (r->serving && store_role(st) != STORE_ROLE_MASTER))
		return STORE_NOTMASTER;
	return STORE_OK;
}

void
store_repl_before_commit(struct store_txn *t, DB_TXN_TOKEN *token)
{
	store_repl_perm_failed = 0;
	if (t->st->repl != NULL)
		(void)t->txn->set_commit_token(t->txn, token);
}

/*
 * After a commit that returned 0: a commit the group did not acknowledge
 * (DB_EVENT_REP_PERM_FAILED during it) is not durable beyond this
 * machine, so it is not reported as done.
 */
int
store_repl_after_commit(struct store_txn *t, const DB_TXN_TOKEN *token)
{
	struct store_repl	*r = t->st->repl;

	if (r == NULL)
		return STORE_OK;
	if (store_repl_perm_failed) {
		log_warn("store: a commit was not acknowledged by the group "
		    "in time: answered as a failure, to be retried");
		return STORE_UNACKED;
	}
	pthread_mutex_lock(&r->lock);
	r->token = *token;
	r->have_token = 1;
	pthread_mutex_unlock(&r->lock);
	return r->serving ? STORE_OK : store_repl_confirm(t->st);
}

static void
store_repl_addr(char *buf, size_t size, const char *host, u_int port)
{
	snprintf(buf, size, strchr(host, ':') != NULL ? "[%s]:%u" : "%s:%u",
	    host, port);
}

/*
 * The claim: which node is master, how many claims it committed, and up
 * to which one the group acknowledged them (store_repl_claim).
 */
struct store_claim {
	uint64_t	counter, acked;
	char		self[STORE_ADDR_MAX + 1];
};

static int
store_repl_claim_put(struct store_txn *t, void *arg)
{
	const struct store_claim	*c = arg;
	uint8_t				 val[16 + STORE_ADDR_MAX];
	size_t				 len = strlen(c->self);

	be64_put(val, c->counter);
	be64_put(val + 8, c->acked);
	memcpy(val + 16, c->self, len);
	return store_kv_put(t, STORE_DB_META, STORE_REPL_CLAIM,
	    sizeof(STORE_REPL_CLAIM) - 1, val, 16 + len, 0);
}

static int
store_repl_claim_get(struct store_txn *t, void *arg)
{
	struct store_claim	*c = arg;
	void			*val = NULL;
	size_t			 len;
	int			 rc;

	rc = store_kv_get(t, STORE_DB_META, STORE_REPL_CLAIM,
	    sizeof(STORE_REPL_CLAIM) - 1, &val, &len);
	if (rc == STORE_OK && (len < 16 || len > 16 + STORE_ADDR_MAX))
		rc = STORE_CORRUPT;
	if (rc == STORE_OK) {
		c->counter = be64_get(val);
		c->acked = be64_get((uint8_t *)val + 8);
		memcpy(c->self, (uint8_t *)val + 16, len - 16);
		c->self[len - 16] = '\0';
	}
	free(val);
	return rc;
}

int
store_repl_claim(struct store *st)
{
	struct store_repl	*r = st->repl;
	struct store_claim	 c;
	int			 rc;

	if (r == NULL)
		return STORE_OK;
	store_repl_addr(c.self, sizeof(c.self), st->repl_conf.listen.host,
	    st->repl_conf.listen.port);
	pthread_mutex_lock(&r->lock);
	c.counter = ++r->claims;
	c.acked = r->claims_acked;
	pthread_mutex_unlock(&r->lock);
	if ((rc = store_write(st, store_repl_claim_put, &c)) == STORE_OK) {
		pthread_mutex_lock(&r->lock);
		r->claims_acked = c.counter;
		r->claim_acked_ms = store_repl_now_ms();
		pthread_mutex_unlock(&r->lock);
	}
	return rc;
}

/*
 * The group granted this master its leases with the acknowledgement of
 * its last claim, and elects no other before they run out: so while
 * that was less than half a lease ago, what this master reads is the
 * group's newest (its reads skip Berkeley DB's own check: read_flags
 * in internal.h).  Without leases there is no such bound.
 */
int
store_repl_leading(struct store *st)
{
	struct store_repl	*r = st->repl;
	int64_t			 since;
	uint64_t		 acked;

	if (r == NULL || st->repl_conf.lease_ms == 0)
		return 1;
	if (store_role(st) != STORE_ROLE_MASTER)
		return 0;
	pthread_mutex_lock(&r->lock);
	since = store_repl_now_ms() - r->claim_acked_ms;
	acked = r->claims_acked;
	pthread_mutex_unlock(&r->lock);
	return acked > 0 && since < st->repl_conf.lease_ms / 2;
}

/*
 * tallyctl's commit on the master, made beside tallyd, is sent to the
 * replicas by tallyd (a process that did not start the Replication
 * Manager has no connection of its own: 5.3's subordinate processes,
 * which would, crash at their close).  The group has it once a claim
 * committed after it was acknowledged, since replicas apply and
 * acknowledge the log in order: so tallyctl waits until a claim says so.
 */
static int
store_repl_confirm(struct store *st)
{
	struct store_claim	c;
	uint64_t		after;
	int			waited;

	if (store_read(st, store_repl_claim_get, &c) != STORE_OK)
		return STORE_UNACKED;
	after = c.counter;
	for (waited = 0; waited < STORE_REPL_CONFIRM_MS;
	    waited += STORE_REPL_CLAIM_MS / 5) {
		usleep(STORE_REPL_CLAIM_MS / 5 * 1000);
		if (store_read(st, store_repl_claim_get, &c) != STORE_OK)
			return STORE_UNACKED;
		if (c.acked > after)
			return STORE_OK;
	}
	return STORE_UNACKED;
}

/* The channel to the master, opened once (see to_master). */
static DB_CHANNEL *
store_repl_channel(struct store *st)
{
	struct store_repl	*r = st->repl;
	DB_CHANNEL		*ch;

	pthread_mutex_lock(&r->lock);
	if (r->to_master == NULL && st->env->repmgr_channel(st->env,
	    DB_EID_MASTER, &r->to_master, 0) != 0)
		r->to_master = NULL;
	ch = r->to_master;
	pthread_mutex_unlock(&r->lock);
	return ch;
}

void
store_repl_close(struct store *st)
{
	struct store_repl	*r = st->repl;

	if (r != NULL && r->to_master != NULL) {
		r->to_master->close(r->to_master, 0);
		r->to_master = NULL;
	}
}

int
store_repl_catch_up(struct store *st, int timeout_ms, int *waited_ms)
{
	DB_CHANNEL	*ch;
	DB_TXN_TOKEN	 token;
	DBT		 req, answer;
	struct timespec	 t0, t1;
	int		 rc;

	*waited_ms = 0;
	if (st->repl == NULL || store_role(st) == STORE_ROLE_MASTER)
		return STORE_OK;
	if ((ch = store_repl_channel(st)) == NULL)
		return STORE_NOTMASTER;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&req, 0, sizeof(req));
	req.data = "token";
	req.size = 5;
	memset(&answer, 0, sizeof(answer));
	answer.data = &token;
	answer.ulen = sizeof(token);
	answer.flags = DB_DBT_USERMEM;
	rc = ch->send_request(ch, &req, 1, &answer, store_repl_ms(timeout_ms),
	    0);
	if (rc != 0 || answer.size != sizeof(token))
		return STORE_NOTMASTER;
	rc = st->env->txn_applied(st->env, &token, store_repl_ms(timeout_ms),
	    0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*waited_ms = (int)((t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000);
	/* DB_NOTFOUND: the master's commit was rolled back; nothing to see. */
	return rc == 0 || rc == DB_NOTFOUND ? STORE_OK : STORE_NOTMASTER;
}

int
store_repl_status(struct store *st, struct store_repl_status *out)
{
	DB_REPMGR_SITE	*sites = NULL;
	DB_REP_STAT	*sp = NULL;
	DB_LOGC		*c = NULL;
	DB_LSN		 lsn;
	DBT		 d;
	u_int		 n = 0, i;
	int		 master;

	memset(out, 0, sizeof(*out));
	out->role = store_role(st);
	if (st->repl == NULL)
		return STORE_OK;
	store_repl_addr(out->self, sizeof(out->self), st->repl_conf.listen.host,
	    st->repl_conf.listen.port);
	if (st->env->rep_stat(st->env, &sp, 0) != 0)
		return STORE_IO;
	master = sp->st_master;
	out->generation = sp->st_gen;
	out->caught_up = sp->st_startup_complete != 0;
	free(sp);
	memset(&d, 0, sizeof(d));
	if (st->env->log_cursor(st->env, &c, 0) == 0) {
		if (c->get(c, &lsn, &d, DB_LAST) == 0) {
			out->lsn_file = lsn.file;
			out->lsn_offset = lsn.offset;
		}
		c->close(c, 0);
	}
	if (st->env->repmgr_site_list(st->env, &n, &sites) != 0)
		return STORE_IO;
	for (i = 0; i < n && out->npeers < STORE_REPL_PEERS; i++) {
		struct store_repl_peer	*p = &out->peers[out->npeers++];

		store_repl_addr(p->addr, sizeof(p->addr), sites[i].host,
		    sites[i].port);
		p->connected = sites[i].status == DB_REPMGR_CONNECTED;
		p->master = sites[i].eid == master;
	}
	if (out->role == STORE_ROLE_MASTER)
		snprintf(out->master, sizeof(out->master), "%s", out->self);
	else
		for (i = 0; i < (u_int)out->npeers; i++)
			if (out->peers[i].master)
				snprintf(out->master, sizeof(out->master), "%s",
				    out->peers[i].addr);
	free(sites);
	return STORE_OK;
}
