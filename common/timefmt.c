#include <stdio.h>
#include <time.h>

#include "timefmt.h"

int64_t
timefmt_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
timefmt_rfc3339(int64_t ms, char out[TIMEFMT_LEN])
{
	struct tm	tm;
	time_t		secs;
	int		frac;

	/* Floor division, so times before 1970 still print correctly. */
	secs = (time_t)(ms / 1000);
	frac = (int)(ms % 1000);
	if (frac < 0) {
		frac += 1000;
		secs--;
	}
	gmtime_r(&secs, &tm);
	if (strftime(out, TIMEFMT_LEN, "%Y-%m-%dT%H:%M:%S", &tm) != 19) {
		snprintf(out, TIMEFMT_LEN, "0000-00-00T00:00:00.000Z");
		return;
	}
	snprintf(out + 19, TIMEFMT_LEN - 19, ".%03dZ", frac);
}
