/*
 * Loads one customer's history for make bench: COUNT deltas through
 * POST /api/v1/balance/delta/batch, BATCH per request, over CONNS
 * keep-alive connections (one thread each).  Every delta has its own
 * referenceId; a request is good only if it answers 200 with nothing
 * failed.
 *
 *   load URL KEY CUSTOMER COUNT [BATCH [CONNS]]
 *
 * URL is the API base (http://127.0.0.1:PORT/api/v1).  Prints one JSON
 * line: {"deltas":N,"seconds":S,"deltasPerSec":R,"failed":F}; exits 1 if
 * any request failed.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#define LOAD_CONNS_MAX	64

struct load {
	const char	*url;
	const char	*key;
	const char	*customer;
	long		 count, batch, nreq;
	atomic_long	 next;		/* the next request to send */
	atomic_long	 failed;	/* requests not all QUEUED */
};

struct reply {
	char	*buf;
	size_t	 len;
};

static size_t
load_collect(char *data, size_t size, size_t n, void *arg)
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

/* The body of request i: deltas i*batch .. up to count, one customer. */
static size_t
load_body(const struct load *l, long i, char *buf, size_t size)
{
	long	k, first = i * l->batch, last = first + l->batch;
	size_t	len;

	if (last > l->count)
		last = l->count;
	len = (size_t)snprintf(buf, size, "{\"deltas\":[");
	for (k = first; k < last && len < size; k++)
		len += (size_t)snprintf(buf + len, size - len,
		    "%s{\"customerId\":\"%s\",\"delta\":%s,\"reason\":"
		    "\"bench load\",\"referenceId\":\"%s-%ld\"}",
		    k > first ? "," : "", l->customer,
		    k % 2 ? "-0.25" : "1.5", l->customer, k);
	if (len < size)
		len += (size_t)snprintf(buf + len, size - len, "]}");
	return len < size ? len : 0;
}

static void *
load_worker(void *arg)
{
	struct load		*l = arg;
	struct curl_slist	*hdr = NULL;
	struct reply		 reply = { NULL, 0 };
	CURL			*curl;
	char			 url[512], auth[512], *body;
	size_t			 size, len;
	long			 i, status;

	size = (size_t)l->batch * 256 + 64;
	if ((curl = curl_easy_init()) == NULL ||
	    (body = malloc(size)) == NULL) {
		atomic_fetch_add(&l->failed, 1);
		return NULL;
	}
	snprintf(url, sizeof(url), "%s/balance/delta/batch", l->url);
	snprintf(auth, sizeof(auth), "X-Api-Key: %s", l->key);
	hdr = curl_slist_append(hdr, auth);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, load_collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
	while ((i = atomic_fetch_add(&l->next, 1)) < l->nreq) {
		if ((len = load_body(l, i, body, size)) == 0) {
			atomic_fetch_add(&l->failed, 1);
			continue;
		}
		reply.len = 0;
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)len);
		status = 0;
		if (curl_easy_perform(curl) != CURLE_OK ||
		    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE,
		    &status) != CURLE_OK || status != 200 ||
		    reply.buf == NULL ||
		    strstr(reply.buf, "\"totalFailed\":0") == NULL) {
			if (atomic_fetch_add(&l->failed, 1) == 0)
				fprintf(stderr, "load: request %ld: HTTP %ld "
				    "%.300s\n", i, status,
				    reply.buf ? reply.buf : "");
		}
	}
	curl_slist_free_all(hdr);
	curl_easy_cleanup(curl);
	free(body);
	free(reply.buf);
	return NULL;
}

int
main(int argc, char *argv[])
{
	struct load	 l;
	pthread_t	 t[LOAD_CONNS_MAX];
	struct timespec	 t0, t1;
	double		 s;
	int		 i, conns = 4;

	if (argc < 5 || argc > 7) {
		fprintf(stderr, "usage: load URL KEY CUSTOMER COUNT "
		    "[BATCH [CONNS]]\n");
		return 2;
	}
	memset(&l, 0, sizeof(l));
	l.url = argv[1];
	l.key = argv[2];
	l.customer = argv[3];
	l.count = atol(argv[4]);
	l.batch = argc > 5 ? atol(argv[5]) : 100;
	if (argc > 6)
		conns = atoi(argv[6]);
	if (l.count < 1 || l.batch < 1 || l.batch > 1000 || conns < 1 ||
	    conns > LOAD_CONNS_MAX || strlen(l.customer) > 128) {
		fprintf(stderr, "load: COUNT >= 1, BATCH 1-1000, CONNS 1-%d\n",
		    LOAD_CONNS_MAX);
		return 2;
	}
	l.nreq = (l.count + l.batch - 1) / l.batch;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < conns; i++)
		if (pthread_create(&t[i], NULL, load_worker, &l) != 0) {
			fprintf(stderr, "load: cannot start thread %d\n", i);
			return 1;
		}
	for (i = 0; i < conns; i++)
		pthread_join(t[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("{\"deltas\":%ld,\"seconds\":%.3f,\"deltasPerSec\":%.0f,"
	    "\"failed\":%ld}\n", l.count, s, (double)l.count / s,
	    (long)atomic_load(&l.failed));
	curl_global_cleanup();
	return atomic_load(&l.failed) == 0 ? 0 : 1;
}
