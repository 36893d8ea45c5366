/*
 * Emit -> VERIFIED latency for make bench (SPEC 3.3: within 1 s of the
 * 2xx at p99).  For SECONDS, one thread emits a delta every INTERVAL ms
 * (a new customer each time); another polls GET /balance/delta/{id} for
 * every delta not yet verified, one pass after another, and takes the
 * time from the emit's 2xx to the first answer saying VERIFIED.  The
 * resolution is one polling pass (a few ms).  Meant to run while wrk
 * drives the emit load.
 *
 *   verified URL KEY SECONDS [INTERVAL_MS]
 *
 * Prints one JSON line: {"samples":N,"p50Ms":…,"p99Ms":…,"maxMs":…,
 * "unverified":U,"errors":E}.  Deltas still QUEUED 10 s after the last
 * emit count as unverified.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#define PENDING_MAX	8192

struct pending {
	char	id[64];
	double	acked;			/* when the 2xx came, seconds */
	int	done;
};

static struct {
	const char	*url;
	const char	*key;
	pthread_mutex_t	 lock;
	struct pending	 p[PENDING_MAX];
	int		 n;		/* emitted */
	int		 emitting;
	int		 errors;
	double		 lat[PENDING_MAX];	/* ms */
	int		 nlat;
} v = { .lock = PTHREAD_MUTEX_INITIALIZER, .emitting = 1 };

struct reply {
	char	*buf;
	size_t	 len;
};

static double
now_s(void)
{
	struct timespec	t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
	struct reply	*r = arg;
	char		*p;

	if ((p = realloc(r->buf, r->len + size * n + 1)) == NULL)
		return 0;
	memcpy(p + r->len, data, size * n);
	r->len += size * n;
	p[r->len] = '\0';
	r->buf = p;
	return size * n;
}

static CURL *
handle(struct curl_slist **hdr, struct reply *reply)
{
	char	auth[512];
	CURL	*curl;

	if ((curl = curl_easy_init()) == NULL)
		return NULL;
	snprintf(auth, sizeof(auth), "X-Api-Key: %s", v.key);
	*hdr = curl_slist_append(*hdr, auth);
	*hdr = curl_slist_append(*hdr, "Content-Type: application/json");
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, *hdr);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, reply);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
	return curl;
}

/* GET or POST (body not NULL); the HTTP status, 0 on a transport error. */
static long
request(CURL *curl, struct reply *reply, const char *url, const char *body)
{
	long	status = 0;

	reply->len = 0;
	if (reply->buf != NULL)
		reply->buf[0] = '\0';
	curl_easy_setopt(curl, CURLOPT_URL, url);
	if (body != NULL)
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	else
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	if (curl_easy_perform(curl) != CURLE_OK ||
	    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status) !=
	    CURLE_OK)
		return 0;
	return status;
}

/* Copies the string value of "name" in a JSON text; 0 if found. */
static int
field(const char *json, const char *name, char *out, size_t size)
{
	char		 pat[64];
	const char	*s, *e;

	snprintf(pat, sizeof(pat), "\"%s\":\"", name);
	if (json == NULL || (s = strstr(json, pat)) == NULL)
		return -1;
	s += strlen(pat);
	if ((e = strchr(s, '"')) == NULL || (size_t)(e - s) >= size)
		return -1;
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
	return 0;
}

struct emitter {
	double	seconds;
	int	interval_ms;
};

static void *
emitter(void *arg)
{
	struct emitter		*e = arg;
	struct curl_slist	*hdr = NULL;
	struct reply		 reply = { NULL, 0 };
	CURL			*curl;
	char			 url[512], body[512], id[64];
	double			 start = now_s(), next;
	long			 status;
	int			 i;

	snprintf(url, sizeof(url), "%s/balance/delta", v.url);
	if ((curl = handle(&hdr, &reply)) == NULL)
		goto out;
	for (i = 0, next = start; next - start < e->seconds &&
	    i < PENDING_MAX; i++) {
		snprintf(body, sizeof(body), "{\"customerId\":\"bench-vl-%d\","
		    "\"delta\":1,\"reason\":\"bench latency\","
		    "\"referenceId\":\"bench-vl-%d\"}", i, i);
		status = request(curl, &reply, url, body);
		if (status == 201 && field(reply.buf, "recordId", id,
		    sizeof(id)) == 0) {
			pthread_mutex_lock(&v.lock);
			snprintf(v.p[v.n].id, sizeof(v.p[v.n].id), "%s", id);
			v.p[v.n].acked = now_s();
			v.n++;
			pthread_mutex_unlock(&v.lock);
		} else {
			pthread_mutex_lock(&v.lock);
			if (v.errors++ == 0)
				fprintf(stderr, "verified: emit: HTTP %ld "
				    "%.300s\n", status, reply.buf ? reply.buf :
				    "");
			pthread_mutex_unlock(&v.lock);
		}
		next += e->interval_ms / 1e3;
		while (now_s() < next)
			usleep(1000);
	}
out:
	pthread_mutex_lock(&v.lock);
	v.emitting = 0;
	pthread_mutex_unlock(&v.lock);
	if (curl != NULL)
		curl_easy_cleanup(curl);
	curl_slist_free_all(hdr);
	free(reply.buf);
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(double p)
{
	int	i;

	if (v.nlat == 0)
		return 0;
	i = (int)(p / 100 * v.nlat + 0.999999) - 1;
	return v.lat[i < 0 ? 0 : i >= v.nlat ? v.nlat - 1 : i];
}

int
main(int argc, char *argv[])
{
	struct emitter		 e;
	struct curl_slist	*hdr = NULL;
	struct reply		 reply = { NULL, 0 };
	pthread_t		 t;
	CURL			*curl;
	char			 url[512];
	double			 deadline = 0, acked, when;
	long			 status;
	int			 i, n, emitting, open, unverified = 0;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: verified URL KEY SECONDS "
		    "[INTERVAL_MS]\n");
		return 2;
	}
	v.url = argv[1];
	v.key = argv[2];
	e.seconds = atof(argv[3]);
	e.interval_ms = argc > 4 ? atoi(argv[4]) : 20;
	if (e.seconds <= 0 || e.interval_ms < 1) {
		fprintf(stderr, "verified: SECONDS > 0, INTERVAL_MS >= 1\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if ((curl = handle(&hdr, &reply)) == NULL ||
	    pthread_create(&t, NULL, emitter, &e) != 0) {
		fprintf(stderr, "verified: cannot start\n");
		return 1;
	}
	for (;;) {
		pthread_mutex_lock(&v.lock);
		n = v.n;
		emitting = v.emitting;
		pthread_mutex_unlock(&v.lock);
		if (!emitting && deadline == 0)
			deadline = now_s() + 10;
		for (i = open = 0; i < n; i++) {
			if (v.p[i].done)
				continue;
			snprintf(url, sizeof(url), "%s/balance/delta/%s", v.url,
			    v.p[i].id);
			status = request(curl, &reply, url, NULL);
			when = now_s();
			if (status == 200 && reply.buf != NULL &&
			    strstr(reply.buf, "\"status\":\"VERIFIED\"")) {
				pthread_mutex_lock(&v.lock);
				acked = v.p[i].acked;
				pthread_mutex_unlock(&v.lock);
				v.p[i].done = 1;
				v.lat[v.nlat++] = (when - acked) * 1e3;
			} else {
				open++;
				pthread_mutex_lock(&v.lock);
				v.errors += status != 200;
				pthread_mutex_unlock(&v.lock);
			}
		}
		if (!emitting && (open == 0 || now_s() > deadline)) {
			unverified = open;
			break;
		}
		usleep(2000);
	}
	pthread_join(t, NULL);
	qsort(v.lat, (size_t)v.nlat, sizeof(v.lat[0]), cmp);
	printf("{\"samples\":%d,\"p50Ms\":%.1f,\"p99Ms\":%.1f,\"maxMs\":%.1f,"
	    "\"unverified\":%d,\"errors\":%d}\n", v.nlat, pct(50), pct(99),
	    pct(100), unverified, v.errors);
	curl_easy_cleanup(curl);
	curl_slist_free_all(hdr);
	free(reply.buf);
	curl_global_cleanup();
	return 0;
}
