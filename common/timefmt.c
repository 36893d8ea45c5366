#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"

int64_t
timefmt_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Days since 1970-01-01 as a proleptic Gregorian date (Howard Hinnant's
 * civil_from_days): eras of 400 years, years starting in March so the leap
 * day is the last of its year.  Exact for every int64_t day count a
 * millisecond can reach.
 */
static void
timefmt_civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t		era;
	unsigned	doe, yoe, doy, mp;

	days += 719468;			/* from 1970-01-01 to 0000-03-01 */
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = (unsigned)(days - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* v as n decimal digits, zero padded, at out. */
static void
timefmt_put(char *out, unsigned v, int n)
{
	while (n-- > 0) {
		out[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/*
 * By arithmetic rather than gmtime_r and strftime, which cost a fifth of
 * rendering a delta.  Floor division, so times before 1970 print correctly.
 * Years outside 1000-9999 have no four-digit form: they print as zeros,
 * as the strftime version did.
 */
void
timefmt_rfc3339(int64_t ms, char out[TIMEFMT_LEN])
{
	int64_t		days, y;
	unsigned	m, d, msday;

	days = ms / 86400000;
	msday = (unsigned)(ms % 86400000 + (ms % 86400000 < 0 ? 86400000 : 0));
	days -= ms % 86400000 < 0;
	timefmt_civil(days, &y, &m, &d);
	if (y < 1000 || y > 9999) {
		memcpy(out, "0000-00-00T00:00:00.000Z", TIMEFMT_LEN);
		return;
	}
	memcpy(out, "YYYY-MM-DDTHH:MM:SS.mmmZ", TIMEFMT_LEN);
	timefmt_put(out, (unsigned)y, 4);
	timefmt_put(out + 5, m, 2);
	timefmt_put(out + 8, d, 2);
	timefmt_put(out + 11, msday / 3600000, 2);
	timefmt_put(out + 14, msday / 60000 % 60, 2);
	timefmt_put(out + 17, msday / 1000 % 60, 2);
	timefmt_put(out + 20, msday % 1000, 3);
}

int
timefmt_month(int64_t ms)
{
	struct tm	tm;
	time_t		secs;

	secs = (time_t)(ms / 1000 - (ms % 1000 < 0));
	if (gmtime_r(&secs, &tm) == NULL)
		return 0;	/* beyond any calendar: no month */
	return (tm.tm_year + 1900) * 12 + tm.tm_mon;
}

int64_t
timefmt_month_start(int month)
{
	struct tm	tm = { 0 };

	tm.tm_year = month / 12 - 1900;
	tm.tm_mon = month % 12;
	tm.tm_mday = 1;
	return (int64_t)timegm(&tm) * 1000;
}

void
timefmt_period(int month, char out[TIMEFMT_PERIOD_LEN])
{
	unsigned	m = (unsigned)month;

	/* Years of four digits: parsers and clocks keep to 1970-9999. */
	snprintf(out, TIMEFMT_PERIOD_LEN, "%04u-%02u", (m / 12) % 10000,
	    m % 12 + 1);
}

/* n decimal digits at s, as a number; -1 unless all n are digits. */
static int
timefmt_digits(const char *s, int n)
{
	int	v = 0;

	while (n-- > 0) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s++ - '0');
	}
	return v;
}

int
timefmt_parse_period(const char *s, int *month)
{
	int	y, m;

	if (strlen(s) != 7 || s[4] != '-' ||
	    (y = timefmt_digits(s, 4)) < 1970 ||
	    (m = timefmt_digits(s + 5, 2)) < 1 || m > 12)
		return -1;
	*month = y * 12 + m - 1;
	return 0;
}

int
timefmt_parse_date(const char *s, int64_t *ms)
{
	struct tm	tm = { 0 }, back;
	time_t		secs;
	int		frac = 0, scale = 100;
	const char	*p;

	if (strlen(s) < 10 || s[4] != '-' || s[7] != '-' ||
	    (tm.tm_year = timefmt_digits(s, 4)) < 1970 ||
	    (tm.tm_mon = timefmt_digits(s + 5, 2)) < 1 ||
	    (tm.tm_mday = timefmt_digits(s + 8, 2)) < 1)
		return -1;
	p = s + 10;
	if (*p == 'T') {
		if (strlen(p) < 10 || p[3] != ':' || p[6] != ':' ||
		    (tm.tm_hour = timefmt_digits(p + 1, 2)) < 0 ||
		    (tm.tm_min = timefmt_digits(p + 4, 2)) < 0 ||
		    (tm.tm_sec = timefmt_digits(p + 7, 2)) < 0)
			return -1;
		p += 9;
		if (*p == '.') {	/* milliseconds; finer digits dropped */
			if (p[1] < '0' || p[1] > '9')
				return -1;
			for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
				frac += scale * (*p - '0');
		}
		if (strcmp(p, "Z") != 0)
			return -1;
	} else if (*p != '\0')
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	back = tm;
	secs = timegm(&tm);
	/* timegm normalises 02-30 to 03-02: a changed field was invalid. */
	if (tm.tm_mday != back.tm_mday || tm.tm_mon != back.tm_mon ||
	    tm.tm_hour != back.tm_hour || tm.tm_min != back.tm_min ||
	    tm.tm_sec != back.tm_sec)
		return -1;
	*ms = (int64_t)secs * 1000 + frac;
	return 0;
}
