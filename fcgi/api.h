/* The handlers behind the routes of app.c, one group per file. */
#ifndef TALLY_API_H
#define TALLY_API_H

#include "app.h"

/* api_system.c */
void	api_healthz(struct ctx *);
void	api_readyz(struct ctx *);
void	api_whoami(struct ctx *);

#endif
