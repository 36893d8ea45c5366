/* A growable byte buffer, always NUL-terminated.  Errors are sticky. */
#ifndef TALLY_SBUF_H
#define TALLY_SBUF_H

#include <stddef.h>

struct sbuf {
	char	*buf;		/* owned; NULL until the first byte */
	size_t	 len, cap;
	int	 oom;		/* set once an allocation failed */
};

void	sbuf_free(struct sbuf *);
/* Empties the buffer and keeps its memory, for a buffer used in rounds. */
void	sbuf_reset(struct sbuf *);
void	sbuf_add(struct sbuf *, const void *, size_t);
void	sbuf_adds(struct sbuf *, const char *);
void	sbuf_addc(struct sbuf *, char);
void	sbuf_addf(struct sbuf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Hands the buffer to the caller (who frees it); *len gets its length. */
char	*sbuf_take(struct sbuf *, size_t *len);

#endif
