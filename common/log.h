/*
 * One logging API for every Tally program: leveled lines on stderr, each
 * written with a single write(2) so lines from concurrent threads never
 * interleave.  Callers must never pass a secret (API key, private key,
 * webhook secret) in a log argument: nothing here can tell one apart.
 */
#ifndef TALLY_LOG_H
#define TALLY_LOG_H

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG
};

void	log_set_level(enum log_level);
/* Parses "error", "warn", "info" or "debug"; 0 on success, -1 otherwise. */
int	log_level_parse(const char *, enum log_level *);
/* reqid may be NULL for lines that belong to no request. */
void	log_msg(enum log_level, const char *reqid, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#define log_error(...)	log_msg(LOG_LEVEL_ERROR, NULL, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LEVEL_WARN, NULL, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LEVEL_INFO, NULL, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LEVEL_DEBUG, NULL, __VA_ARGS__)

#endif
