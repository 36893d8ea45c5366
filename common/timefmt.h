/* Wall-clock time in the one text form Tally uses: RFC 3339 UTC, with ms. */
#ifndef TALLY_TIMEFMT_H
#define TALLY_TIMEFMT_H

#include <stdint.h>

#define TIMEFMT_LEN	25	/* "2026-02-01T00:00:00.000Z" and its NUL */

int64_t	timefmt_now_ms(void);
/* Writes ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out. */
void	timefmt_rfc3339(int64_t ms, char out[TIMEFMT_LEN]);

/*
 * Periods are UTC months, numbered as months since January of year 0
 * (year * 12 + month - 1), so consecutive months are consecutive numbers.
 */
#define TIMEFMT_PERIOD_LEN	8	/* "2026-02" and its NUL */
int	timefmt_month(int64_t ms);
int64_t	timefmt_month_start(int month);
void	timefmt_period(int month, char out[TIMEFMT_PERIOD_LEN]);
/* Parses "YYYY-MM" strictly; 0, or -1 if it is not a period. */
int	timefmt_parse_period(const char *, int *month);
/*
 * Parses a date ("2026-02-01", midnight UTC) or an RFC 3339 UTC time
 * ("2026-02-01T12:30:00Z", optional .fraction up to ms); 0, or -1.
 */
int	timefmt_parse_date(const char *, int64_t *ms);

#endif
