#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "sbuf.h"

void
sbuf_free(struct sbuf *sb)
{
	free(sb->buf);
	memset(sb, 0, sizeof(*sb));
}

void
sbuf_reset(struct sbuf *sb)
{
	sb->len = 0;
	if (sb->buf != NULL)
		sb->buf[0] = '\0';
}

static int
sbuf_grow(struct sbuf *sb, size_t more)
{
	if (sb->oom)
		return -1;
	/* Room for more bytes and the NUL after them. */
	if (more >= SIZE_MAX - sb->len ||
	    grow(&sb->buf, &sb->cap, sb->len + more + 1, 1) < 0) {
		sb->oom = 1;
		return -1;
	}
	return 0;
}

void
sbuf_add(struct sbuf *sb, const void *data, size_t len)
{
	if (sbuf_grow(sb, len) < 0)
		return;
	if (len > 0)
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void
sbuf_adds(struct sbuf *sb, const char *s)
{
	sbuf_add(sb, s, strlen(s));
}

void
sbuf_addc(struct sbuf *sb, char c)
{
	sbuf_add(sb, &c, 1);
}

void
sbuf_addf(struct sbuf *sb, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || sbuf_grow(sb, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

char *
sbuf_take(struct sbuf *sb, size_t *len)
{
	char	*p;

	if (sb->oom) {
		sbuf_free(sb);
		return NULL;
	}
	if (sb->buf == NULL)
		sbuf_add(sb, "", 0);
	p = sb->buf;
	if (len != NULL)
		*len = sb->len;
	memset(sb, 0, sizeof(*sb));
	return p;
}
