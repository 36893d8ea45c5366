/* Wall-clock time in the one text form Tally uses: RFC 3339 UTC, with ms. */
#ifndef TALLY_TIMEFMT_H
#define TALLY_TIMEFMT_H

#include <stdint.h>

#define TIMEFMT_LEN	25	/* "2026-02-01T00:00:00.000Z" and its NUL */

int64_t	timefmt_now_ms(void);
/* Writes ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out. */
void	timefmt_rfc3339(int64_t ms, char out[TIMEFMT_LEN]);

#endif
