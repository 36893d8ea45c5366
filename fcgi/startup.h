/*
 * What tallyd does with its configuration before it serves, the same
 * whether it is a FastCGI responder (tallyd.c) or a CGI program (cgi.c).
 * Each step says in the log why it failed and returns -1.
 */
#ifndef TALLY_STARTUP_H
#define TALLY_STARTUP_H

#include "../common/conf.h"

struct app;

/* Reads the configuration at path (NULL: the default) into conf, and
 * applies its log level and format, and umask 077. */
int	startup_conf(struct conf *conf, const char *path);
/* Becomes conf's user, then opens its log_file as that user (so that it
 * can open it again on SIGHUP). */
int	startup_user(const struct conf *conf);
/* The application's settings that come from conf. */
void	startup_app(struct app *app, const struct conf *conf);

#endif
