/* tallyctl's commands, one group per file; tallyctl.c dispatches. */
#ifndef TALLY_CTL_H
#define TALLY_CTL_H

#include "../common/conf.h"
#include "../store/store.h"

/*
 * A callback's result: ctl_stopped() said stop.  A walk's STORE_STOP,
 * which every walk and store_read return as they are (store.h).
 */
#define CTL_STOP	STORE_STOP

/*
 * Prints "tallyctl: what: <store error>" and returns 1; silent for
 * CTL_STOP, whose reason main gives.
 */
int	ctl_fail(const char *what, int rc);
/*
 * Prints the usage on stderr and returns 2, tallyctl's status for it: a
 * command returns it, never exits, so that main closes the store.
 */
int	ctl_usage(void);
/*
 * 1 once a stop signal came (SIGINT, SIGTERM, SIGHUP, SIGQUIT) or
 * stdout failed (a reader gone: EPIPE): a loop that prints stops then,
 * returning CTL_STOP, and main closes the store and exits 128 + the
 * signal (141 for a reader gone, quietly).
 */
int	ctl_stopped(void);

/* ctl_log.c */
/* Makes the first signing key unless one exists. */
int	ctl_signing_key_ensure(struct store *, const struct conf *);
int	ctl_signing_key(struct store *, const struct conf *, int argc,
	    char *argv[]);
int	ctl_verify(struct store *, int argc, char *argv[]);

/* ctl_backup.c */
int	ctl_backup(struct store *, const struct conf *, int argc, char *argv[]);
/*
 * tallyctl restore BACKUP [--head FILE] [--accept-fork], tallyd stopped;
 * st is the current data directory's store, or NULL when it is gone.
 */
int	ctl_restore(struct store *, const struct conf *, int argc,
	    char *argv[]);

/* ctl_policy.c */
int	ctl_quota(struct store *, int argc, char *argv[]);
int	ctl_cadence(struct store *, int argc, char *argv[]);

/* ctl_webhook.c */
int	ctl_webhook(struct store *, const struct conf *, int argc,
	    char *argv[]);

/* ctl_tick.c: tick [--tallyd PATH] */
int	ctl_tick(struct store *, const struct conf *, int argc, char *argv[]);

/* ctl_repl.c: repl status */
int	ctl_repl(struct store *, int argc, char *argv[]);

/* ctl_share.c */
int	ctl_share(struct store *, const struct conf *, int argc, char *argv[]);

#endif
