#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "timefmt.h"

static enum log_level	log_threshold = LOG_LEVEL_INFO;

static const char *const log_names[] = { "error", "warn", "info", "debug" };

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
log_msg(enum log_level level, const char *reqid, const char *fmt, ...)
{
	char	line[2048], stamp[TIMEFMT_LEN];
	int	n, m;
	va_list	ap;

	if (level > log_threshold)
		return;
	timefmt_rfc3339(timefmt_now_ms(), stamp);
	n = snprintf(line, sizeof(line), "%s %s ", stamp, log_names[level]);
	if (n < 0)
		return;
	if (reqid != NULL) {
		m = snprintf(line + n, sizeof(line) - (size_t)n, "req=%s ",
		    reqid);
		if (m > 0 && (size_t)m < sizeof(line) - (size_t)n)
			n += m;
	}
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* A line longer than the buffer is cut, never split in two. */
	if (m < 0)
		m = 0;
	if ((size_t)n + (size_t)m >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	else
		n += m;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}
