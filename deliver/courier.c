#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/timefmt.h"
#include "../core/metrics.h"
#include "../core/webhook.h"
#include "../crypto/random.h"
#include "courier.h"
#include "wire.h"

#define TICK_MS		100		/* how often the outbox is read */
#define RESPAWN_MS	200		/* after the sender died */
#define BACKOFF_CAP_MS	(3600 * 1000LL)

extern char	**environ;

/* An attempt in flight, then answered; the slot's index is the job id. */
enum slot_state { SLOT_FREE, SLOT_SENT, SLOT_ANSWERED };
struct slot {
	enum slot_state	state;
	char		event_id[STORE_ID_MAX + 1];
	int		code;		/* HTTP status; 0: none */
	int		final;		/* no attempt can succeed */
	char		error[STORE_EVENT_ERROR_MAX + 1];
};

struct courier {
	struct store	*store;
	char		 exe[CONF_PATH_MAX];
	char		 ca_file[CONF_PATH_MAX];
	int		 allow_private, timeout_ms, retry_ms, attempts;
	struct slot	*slots;
	int		 nslots, nbusy;
	int		 fd;		/* to the sender; -1 while it is down */
	pid_t		 pid;
	int64_t		 respawn_ms;
	uint8_t		 msg[WIRE_JOB_MAX];
	pthread_t	 thread;
	atomic_int	 stop;
};

/*
 * The sender starts with default signals (tallyd's threads block them),
 * but SIGHUP, which stays blocked: a rotation's `kill -HUP` reaching
 * every tallyd process (pidof, systemctl kill) must not end it.
 */
static int
spawn(struct courier *co)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 attr;
	sigset_t			 hup;
	char				*argv[] = { "tallyd", "--sender",
	    co->ca_file[0] ? co->ca_file : NULL, NULL };
	int				 sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_error("courier: socketpair: %s", strerror(errno));
		return -1;
	}
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &hup);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, sv[1], COURIER_SENDER_FD);
	rc = posix_spawn(&co->pid, co->exe, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(sv[1]);
	if (rc != 0) {
		log_error("courier: cannot start the sender: %s", strerror(rc));
		close(sv[0]);
		return -1;
	}
	co->fd = sv[0];
	log_info("courier: sender started, pid %ld", (long)co->pid);
	return 0;
}

/* The wait before the next attempt, after `failures` failed ones. */
static int64_t
backoff_ms(const struct courier *co, uint64_t failures)
{
	int64_t		wait = co->retry_ms;
	uint32_t	r = 0;

	while (failures-- > 1 && wait < BACKOFF_CAP_MS)
		wait *= 2;
	if (wait > BACKOFF_CAP_MS)
		wait = BACKOFF_CAP_MS;
	/* +-20%, so receivers that come back are not hit all at once. */
	(void)random_bytes((uint8_t *)&r, sizeof(r));
	return wait * (80 + (int64_t)(r % 41)) / 100;
}

static void
answer(struct slot *sl, int code, const char *error, int final)
{
	sl->state = SLOT_ANSWERED;
	sl->code = code;
	sl->final = final;
	if (error[0] == '\0' && (code < 200 || code >= 300))
		snprintf(sl->error, sizeof(sl->error), "HTTP %d", code);
	else
		snprintf(sl->error, sizeof(sl->error), "%s", error);
}

/* One answer into its event: delivered, failed, or when to try again. */
static int
outcome(struct store_txn *t, const struct courier *co, const struct slot *sl,
    int64_t now_ms)
{
	struct store_event	e;
	int			rc;

	if ((rc = store_event_get(t, sl->event_id, &e)) != STORE_OK)
		return rc;
	if (e.status != STORE_EVENT_QUEUED)
		goto out;		/* settled meanwhile */
	e.attempts++;
	e.last_code = sl->code;
	snprintf(e.last_error, sizeof(e.last_error), "%s", sl->error);
	if (sl->code >= 200 && sl->code < 300) {
		e.status = STORE_EVENT_DELIVERED;
		e.done_ms = now_ms;
	} else if (sl->final ||
	    e.attempts - e.retry_base >= (uint64_t)co->attempts) {
		e.status = STORE_EVENT_FAILED;
		e.done_ms = now_ms;
	} else
		e.next_ms = now_ms + backoff_ms(co, e.attempts - e.retry_base);
	/* A commit retried after a deadlock counts again: rare. */
	metrics_count(e.status == STORE_EVENT_DELIVERED ?
	    METRICS_WEBHOOK_DELIVERED : e.status == STORE_EVENT_FAILED ?
	    METRICS_WEBHOOK_FAILED : METRICS_WEBHOOK_RETRIED, 1);
	rc = store_event_update(t, &e);
out:
	store_event_free(&e);
	return rc;
}

static int
outcomes_txn(struct store_txn *t, void *arg)
{
	struct courier	*co = arg;
	int64_t		 now_ms = timefmt_now_ms();
	int		 i, rc;

	for (i = 0; i < co->nslots; i++)
		if (co->slots[i].state == SLOT_ANSWERED &&
		    (rc = outcome(t, co, &co->slots[i], now_ms)) != STORE_OK)
			return rc;
	return STORE_OK;
}

/*
 * Every answer waiting, in one commit, so that deliveries do not each
 * cost a flush.  Should the commit fail, the events stay due as they
 * were and are simply sent again.
 */
static void
record_answers(struct courier *co)
{
	int	i, n = 0, rc;

	for (i = 0; i < co->nslots; i++)
		n += co->slots[i].state == SLOT_ANSWERED;
	if (n == 0)
		return;
	if ((rc = store_write(co->store, outcomes_txn, co)) != STORE_OK)
		log_error("courier: recording %d answers: %s", n,
		    store_strerror(rc));
	for (i = 0; i < co->nslots; i++)
		if (co->slots[i].state == SLOT_ANSWERED) {
			log_debug("courier: %s: %d %s", co->slots[i].event_id,
			    co->slots[i].code, co->slots[i].error);
			co->slots[i].state = SLOT_FREE;
			co->nbusy--;
		}
	metrics_gauge_set(METRICS_WEBHOOK_INFLIGHT, co->nbusy);
}

/* Every attempt in flight ends, unanswered, with the sender. */
static void
sender_gone(struct courier *co)
{
	int	i, status;

	close(co->fd);
	co->fd = -1;
	waitpid(co->pid, &status, 0);
	log_warn("courier: the sender (pid %ld) exited; restarting it",
	    (long)co->pid);
	for (i = 0; i < co->nslots; i++)
		if (co->slots[i].state == SLOT_SENT)
			answer(&co->slots[i], 0, "the sender process exited",
			    0);
	co->respawn_ms = timefmt_now_ms() + RESPAWN_MS;
}

/* What one attempt sends, read in one transaction. */
struct attempt {
	const char		*id;
	struct store_event	e;
	struct store_webhook	w;
	int			have_endpoint;
	int64_t			now_ms;
};

static int
attempt_txn(struct store_txn *t, void *arg)
{
	struct attempt	*a = arg;
	int		 rc;

	store_event_free(&a->e);
	if ((rc = store_event_get(t, a->id, &a->e)) != STORE_OK)
		return rc;
	if (a->e.status != STORE_EVENT_QUEUED || a->e.next_ms > a->now_ms)
		return STORE_NOTFOUND;	/* settled or put off meanwhile */
	rc = store_webhook_get(t, a->e.webhook_id, &a->w);
	a->have_endpoint = rc == STORE_OK;
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* Signs the attempt and hands it to the sender in slot i. */
static int
send_job(struct courier *co, int i, const struct attempt *a)
{
	struct wire_job	j;
	char		ts[24], sig[WEBHOOK_SIG_MAX + 1];
	char		h_sig[sizeof(sig) + 32], h_ts[64], h_ev[64], h_id[64];
	size_t		len;

	snprintf(ts, sizeof(ts), "%lld", (long long)(a->now_ms / 1000));
	if (webhook_sign(&a->w, a->now_ms, ts, a->e.body, a->e.body_len,
	    sig) < 0)
		return -1;
	snprintf(h_sig, sizeof(h_sig), "X-PacSpace-Signature: %s", sig);
	snprintf(h_ts, sizeof(h_ts), "X-PacSpace-Timestamp: %s", ts);
	snprintf(h_ev, sizeof(h_ev), "X-Webhook-Event: %s", a->e.name);
	snprintf(h_id, sizeof(h_id), "X-Event-ID: %s", a->e.id);
	memset(&j, 0, sizeof(j));
	j.id = (uint64_t)i;
	j.timeout_ms = (uint32_t)co->timeout_ms;
	j.allow_private = co->allow_private;
	j.url = a->e.url;
	j.headers[0] = h_sig;
	j.headers[1] = h_ts;
	j.headers[2] = h_ev;
	j.headers[3] = h_id;
	j.nheaders = 4;
	j.body = a->e.body;
	j.body_len = a->e.body_len;
	if ((len = wire_job_encode(&j, co->msg, sizeof(co->msg))) == 0)
		return -1;
	return send(co->fd, co->msg, len, MSG_NOSIGNAL) == (ssize_t)len ?
	    0 : -1;
}

static void
dispatch(struct courier *co, const char *id, int64_t now_ms)
{
	struct attempt	a;
	int		i, rc;

	memset(&a, 0, sizeof(a));
	a.id = id;
	a.now_ms = now_ms;
	if ((rc = store_read(co->store, attempt_txn, &a)) != STORE_OK) {
		if (rc != STORE_NOTFOUND)
			log_error("courier: %s: %s", id, store_strerror(rc));
		goto out;
	}
	for (i = 0; co->slots[i].state != SLOT_FREE; i++)
		continue;	/* the caller saw a free slot */
	if (!a.have_endpoint || a.w.env != a.e.env ||
	    strcmp(a.w.tenant, a.e.tenant) != 0)
		answer(&co->slots[i], 0, "the endpoint was removed", 1);
	else if (send_job(co, i, &a) == 0)
		co->slots[i].state = SLOT_SENT;
	else {
		log_error("courier: %s: could not hand it to the sender", id);
		goto out;
	}
	snprintf(co->slots[i].event_id, sizeof(co->slots[i].event_id), "%s",
	    id);
	co->nbusy++;
	metrics_gauge_set(METRICS_WEBHOOK_INFLIGHT, co->nbusy);
out:
	explicit_bzero(&a.w, sizeof(a.w));
	store_event_free(&a.e);
}

/* The due events not in flight, as many as there are free slots. */
struct due {
	struct courier	*co;
	char		(*ids)[STORE_ID_MAX + 1];
	int		 n, max;
};

static int
due_event(const char *id, void *arg)
{
	struct due	*d = arg;
	int		 i;

	for (i = 0; i < d->co->nslots; i++)
		if (d->co->slots[i].state != SLOT_FREE &&
		    strcmp(d->co->slots[i].event_id, id) == 0)
			return STORE_OK;
	snprintf(d->ids[d->n], sizeof(d->ids[0]), "%s", id);
	return ++d->n == d->max ? STORE_STOP : STORE_OK;
}

static int
due_txn(struct store_txn *t, void *arg)
{
	struct due	*d = arg;
	int		 rc;

	d->n = 0;
	rc = store_event_due(t, timefmt_now_ms(), due_event, d);
	return rc == STORE_STOP ? STORE_OK : rc;
}

static void
fill(struct courier *co)
{
	struct due	d = { co, NULL, 0, co->nslots - co->nbusy };
	int64_t		now_ms = timefmt_now_ms();
	int		i, rc;

	if ((d.ids = calloc((size_t)d.max, sizeof(d.ids[0]))) == NULL)
		return;
	if ((rc = store_read(co->store, due_txn, &d)) != STORE_OK)
		log_error("courier: outbox: %s", store_strerror(rc));
	/*
	 * The ledger commits before its flush (store_write_deferred), so
	 * an event read here may not be on disk yet: none leaves before
	 * it is.  Usually the flush is already done, or shared.
	 */
	if (d.n > 0 && (rc = store_flush(co->store)) != STORE_OK) {
		log_error("courier: outbox: %s", store_strerror(rc));
		d.n = 0;
	}
	for (i = 0; i < d.n && co->fd >= 0; i++)
		dispatch(co, d.ids[i], now_ms);
	free(d.ids);
}

/* Takes each answer waiting; -1 once the sender has gone. */
static int
take_results(struct courier *co)
{
	struct wire_result	r;
	uint8_t			buf[WIRE_RESULT_MAX];
	ssize_t			n;

	for (;;) {
		n = recv(co->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0)
			return -1;
		if (wire_result_decode(buf, (size_t)n, &r) < 0 ||
		    r.id >= (uint64_t)co->nslots ||
		    co->slots[r.id].state != SLOT_SENT) {
			log_error("courier: a malformed answer from the sender");
			return -1;
		}
		answer(&co->slots[r.id], r.code, r.error, 0);
	}
}

static void *
courier_main(void *arg)
{
	struct courier	*co = arg;
	struct pollfd	 pfd;

	prctl(PR_SET_NAME, "tally-courier");
	while (!atomic_load(&co->stop)) {
		if (co->fd < 0 && timefmt_now_ms() >= co->respawn_ms &&
		    spawn(co) < 0)
			co->respawn_ms = timefmt_now_ms() + RESPAWN_MS;
		if (co->fd >= 0 && co->nbusy < co->nslots)
			fill(co);
		pfd.fd = co->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, co->fd >= 0, TICK_MS) > 0 &&
		    take_results(co) < 0)
			sender_gone(co);
		record_answers(co);
	}
	return NULL;
}

int
courier_start(struct courier **out, struct store *st, const struct conf *conf,
    const char *exe)
{
	struct courier	*co;

	*out = NULL;
	if ((co = calloc(1, sizeof(*co))) == NULL ||
	    (co->slots = calloc((size_t)conf->webhook_concurrency,
	    sizeof(*co->slots))) == NULL) {
		free(co);
		return -1;
	}
	co->store = st;
	snprintf(co->exe, sizeof(co->exe), "%s", exe);
	snprintf(co->ca_file, sizeof(co->ca_file), "%s",
	    conf->webhook_ca_file);
	co->allow_private = conf->webhook_allow_private;
	co->timeout_ms = conf->webhook_timeout_ms;
	co->retry_ms = conf->webhook_retry_ms;
	co->attempts = conf->webhook_attempts;
	co->nslots = conf->webhook_concurrency;
	co->fd = -1;
	if (pthread_create(&co->thread, NULL, courier_main, co) != 0) {
		free(co->slots);
		free(co);
		return -1;
	}
	*out = co;
	return 0;
}

void
courier_stop(struct courier *co)
{
	int	status;

	if (co == NULL)
		return;
	atomic_store(&co->stop, 1);
	pthread_join(co->thread, NULL);
	/* Attempts in flight stay due: the next start makes them again. */
	if (co->fd >= 0) {
		close(co->fd);
		waitpid(co->pid, &status, 0);
	}
	free(co->slots);
	free(co);
}
