/* tallyctl's commands, one group per file; tallyctl.c dispatches. */
#ifndef TALLY_CTL_H
#define TALLY_CTL_H

#include "../common/conf.h"
#include "../store/store.h"

/* Prints "tallyctl: what: <store error>" and returns 1. */
int	ctl_fail(const char *what, int rc);
void	ctl_usage(void) __attribute__((noreturn));

/* ctl_log.c */
/* Makes the first signing key unless one exists. */
int	ctl_signing_key_ensure(struct store *, const struct conf *);
int	ctl_signing_key(struct store *, const struct conf *, int argc,
	    char *argv[]);
int	ctl_verify(struct store *, int argc, char *argv[]);

/* ctl_backup.c */
int	ctl_backup(struct store *, const struct conf *, int argc, char *argv[]);

/* ctl_policy.c */
int	ctl_quota(struct store *, int argc, char *argv[]);
int	ctl_cadence(struct store *, int argc, char *argv[]);

/* ctl_webhook.c */
int	ctl_webhook(struct store *, const struct conf *, int argc,
	    char *argv[]);

#endif
