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

/* How a line is written: for people, or for a log collector. */
enum log_format {
	LOG_FORMAT_TEXT,	/* 2026-01-01T00:00:00.000Z info req=ID msg */
	LOG_FORMAT_LOGFMT,	/* ts=... level=info req=ID msg="..." */
	LOG_FORMAT_JSON		/* {"ts":...,"level":...,"req":...,"msg":...} */
};

void	log_set_level(enum log_level);
/* Parses "error", "warn", "info" or "debug"; 0 on success, -1 otherwise. */
int	log_level_parse(const char *, enum log_level *);
void	log_set_format(enum log_format);
/* Parses "text", "logfmt" or "json"; 0 on success, -1 otherwise. */
int	log_format_parse(const char *, enum log_format *);
/*
 * Sends stderr, and so every line, to path from now on (appending,
 * created 0640).  stderr itself is replaced, so that what libraries and
 * child processes write lands there too.  0, or -1 with errno set.
 */
int	log_open(const char *path);
/*
 * Opens log_open's path again, after a rotation renamed the file: the
 * next line goes to a new file by that name.  A no-op without log_open.
 * 0, or -1 with errno set (the old file is still written then).
 */
int	log_reopen(void);
/* reqid may be NULL for lines that belong to no request. */
void	log_msg(enum log_level, const char *reqid, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#define log_error(...)	log_msg(LOG_LEVEL_ERROR, NULL, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LEVEL_WARN, NULL, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LEVEL_INFO, NULL, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LEVEL_DEBUG, NULL, __VA_ARGS__)

#endif
