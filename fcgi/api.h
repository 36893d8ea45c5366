/* The handlers behind the routes of app.c, one group per file. */
#ifndef TALLY_API_H
#define TALLY_API_H

#include "app.h"

/* api_system.c */
void	api_healthz(struct ctx *);
void	api_readyz(struct ctx *);
void	api_whoami(struct ctx *);

/* api_delta.c */
void	api_emit(struct ctx *);
void	api_emit_batch(struct ctx *);
void	api_delta_status(struct ctx *);

/* api_log.c: public */
void	api_log_checkpoint(struct ctx *);
void	api_log_inclusion(struct ctx *);
void	api_log_consistency(struct ctx *);
void	api_log_keys(struct ctx *);

/* Refuses customer (read-only) keys with 403; returns 0 if refused. */
int	api_vendor_only(struct ctx *);

#endif
