#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "timefmt.h"

#define LOG_LINE_MAX	2048

static enum log_level	log_threshold = LOG_LEVEL_INFO;
static enum log_format	log_format = LOG_FORMAT_TEXT;
static char		log_path[1024];

static const char *const log_names[] = { "error", "warn", "info", "debug" };
static const char *const log_formats[] = { "text", "logfmt", "json" };

void
log_set_level(enum log_level level)
{
	log_threshold = level;
}

int
log_level_parse(const char *text, enum log_level *out)
{
	size_t	i;

	for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++)
		if (strcmp(text, log_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

void
log_set_format(enum log_format format)
{
	log_format = format;
}

int
log_format_parse(const char *text, enum log_format *out)
{
	size_t	i;

	for (i = 0; i < sizeof(log_formats) / sizeof(log_formats[0]); i++)
		if (strcmp(text, log_formats[i]) == 0) {
			*out = (enum log_format)i;
			return 0;
		}
	return -1;
}

/*
 * dup2 swaps the file under stderr in one step: a thread writing a line
 * meanwhile writes it whole to the old file or to the new one.
 */
static int
log_attach(const char *path)
{
	int	fd, saved;

	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640)) < 0)
		return -1;
	if (fd != STDERR_FILENO && dup2(fd, STDERR_FILENO) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	if (fd != STDERR_FILENO)
		close(fd);
	return 0;
}

int
log_open(const char *path)
{
	if (strlen(path) >= sizeof(log_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (log_attach(path) < 0)
		return -1;
	snprintf(log_path, sizeof(log_path), "%s", path);
	return 0;
}

int
log_reopen(void)
{
	return log_path[0] == '\0' ? 0 : log_attach(log_path);
}

/*
 * Appends s quoted for logfmt or JSON: both take \" and \\; a control
 * character is \n, \t or, in JSON, \u00XX (logfmt readers know only Go's
 * escapes, so there it is a '?').
 */
static size_t
log_quote(char *dst, size_t size, size_t n, const char *s)
{
	unsigned char	ch;
	int		m;

	if (n + 1 < size)
		dst[n++] = '"';
	for (; *s != '\0' && n + 8 < size; s++) {
		ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\') {
			dst[n++] = '\\';
			dst[n++] = (char)ch;
		} else if (ch == '\n' || ch == '\t') {
			dst[n++] = '\\';
			dst[n++] = ch == '\n' ? 'n' : 't';
		} else if (ch < 0x20 || ch == 0x7f) {
			if (log_format == LOG_FORMAT_JSON) {
				m = snprintf(dst + n, size - n, "\\u%04x", ch);
				n += (size_t)m;
			} else
				dst[n++] = '?';
		} else
			dst[n++] = (char)ch;
	}
	if (n + 1 < size)
		dst[n++] = '"';
	return n;
}

/* The line's head, before the message: time, level, request id. */
static size_t
log_head(char *dst, size_t size, const char *stamp, const char *level,
    const char *reqid)
{
	int	n;

	switch (log_format) {
	case LOG_FORMAT_LOGFMT:
		n = snprintf(dst, size, "ts=%s level=%s %s%s%smsg=", stamp,
		    level, reqid ? "req=" : "", reqid ? reqid : "",
		    reqid ? " " : "");
		break;
	case LOG_FORMAT_JSON:
		n = snprintf(dst, size, "{\"ts\":\"%s\",\"level\":\"%s\",%s%s%s"
		    "\"msg\":", stamp, level, reqid ? "\"req\":\"" : "",
		    reqid ? reqid : "", reqid ? "\"," : "");
		break;
	default:
		n = snprintf(dst, size, "%s %s %s%s%s", stamp, level,
		    reqid ? "req=" : "", reqid ? reqid : "", reqid ? " " : "");
		break;
	}
	return n < 0 ? 0 : (size_t)n >= size ? size - 1 : (size_t)n;
}

void
log_msg(enum log_level level, const char *reqid, const char *fmt, ...)
{
	char	line[LOG_LINE_MAX], msg[LOG_LINE_MAX], stamp[TIMEFMT_LEN];
	size_t	n;
	int	m;
	va_list	ap;

	if (level > log_threshold)
		return;
	timefmt_rfc3339(timefmt_now_ms(), stamp);
	va_start(ap, fmt);
	m = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (m < 0)
		msg[0] = '\0';
	/* request.c lets only [A-Za-z0-9_.:-] into an id: nothing to quote. */
	n = log_head(line, sizeof(line) - 2, stamp, log_names[level], reqid);
	/* A line longer than the buffer is cut, never split in two. */
	if (log_format == LOG_FORMAT_TEXT) {
		m = snprintf(line + n, sizeof(line) - 2 - n, "%s", msg);
		n += m < 0 ? 0 : (size_t)m >= sizeof(line) - 2 - n ?
		    sizeof(line) - 3 - n : (size_t)m;
	} else
		n = log_quote(line, sizeof(line) - 2, n, msg);
	if (log_format == LOG_FORMAT_JSON)
		line[n++] = '}';
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}
