/*
 * The crash test's client and judge.
 *
 *   crash write URL KEY OUT THREADS PER_THREAD
 *	Emits THREADS x PER_THREAD deltas, each under its own
 *	Idempotency-Key, retrying a failed request with the same key as the
 *	SDKs do, until it is acknowledged (or 120 s pass).  Every
 *	acknowledgement is appended to OUT: key recordId customer seq delta.
 *	Meanwhile the harness kills tallyd with SIGKILL and restarts it.
 *
 *   crash check OUT EXPORT
 *	Judges the store (EXPORT: `tallyctl export` JSON lines) against
 *	the acknowledgements: every acknowledged delta present exactly
 *	once and unchanged, nothing else present, sequence numbers and log
 *	indexes without gaps, every leaf hash recomputed.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#define CUSTOMERS	4
#define MAX_ACKS	100000

struct writer {
	pthread_t	 thread;
	int		 id, count;
	const char	*url, *key;
	FILE		*out;
	int		 failed;
};

static pthread_mutex_t	out_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
	char	**buf = arg, *nb;
	size_t	  len = *buf ? strlen(*buf) : 0;

	if ((nb = realloc(*buf, len + size * n + 1)) == NULL)
		return 0;
	memcpy(nb + len, data, size * n);
	nb[len + size * n] = '\0';
	*buf = nb;
	return size * n;
}

/* One attempt; returns the body of a 201, or NULL. */
static char *
attempt(const char *url, const char *key, const char *idem, const char *body)
{
	CURL			*curl = curl_easy_init();
	struct curl_slist	*h = NULL;
	char			 line[256], *reply = NULL;
	long			 status = 0;

	snprintf(line, sizeof(line), "X-Api-Key: %s", key);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "Idempotency-Key: %s", idem);
	h = curl_slist_append(h, line);
	h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
	if (curl_easy_perform(curl) == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(curl);
	if (status != 201) {
		free(reply);
		return NULL;
	}
	return reply;
}

static void *
writer_main(void *arg)
{
	struct writer		*w = arg;
	struct json_object	*obj, *data, *v;
	char			 idem[64], body[256], *reply;
	time_t			 deadline = time(NULL) + 120;
	int			 i, cust;

	for (i = 0; i < w->count; i++) {
		cust = (w->id + i) % CUSTOMERS;
		snprintf(idem, sizeof(idem), "crash-%d-%d", w->id, i);
		snprintf(body, sizeof(body), "{\"customerId\":\"crash_%d\","
		    "\"delta\":%d.%03d,\"reason\":\"crash test\"}", cust,
		    1 + i % 7, (w->id * 37 + i) % 1000);
		while ((reply = attempt(w->url, w->key, idem, body)) == NULL) {
			if (time(NULL) > deadline) {
				w->failed++;
				break;
			}
			usleep(20000);
		}
		if (reply == NULL)
			continue;
		obj = json_tokener_parse(reply);
		json_object_object_get_ex(obj, "data", &data);
		pthread_mutex_lock(&out_lock);
		fprintf(w->out, "%s", idem);
		json_object_object_get_ex(data, "recordId", &v);
		fprintf(w->out, " %s", json_object_get_string(v));
		json_object_object_get_ex(data, "customerId", &v);
		fprintf(w->out, " %s", json_object_get_string(v));
		json_object_object_get_ex(data, "sequenceNumber", &v);
		fprintf(w->out, " %s", json_object_get_string(v));
		json_object_object_get_ex(data, "delta", &v);
		fprintf(w->out, " %s\n", json_object_get_string(v));
		fflush(w->out);
		pthread_mutex_unlock(&out_lock);
		json_object_put(obj);
		free(reply);
	}
	return NULL;
}

static int
cmd_write(char *argv[])
{
	struct writer	*w;
	FILE		*out;
	int		 n = atoi(argv[3]), per = atoi(argv[4]), i, failed = 0;
	char		 url[512];

	snprintf(url, sizeof(url), "%s/api/v1/balance/delta", argv[0]);
	if ((out = fopen(argv[2], "w")) == NULL || n < 1 || per < 1 ||
	    (w = calloc((size_t)n, sizeof(*w))) == NULL)
		return 2;
	for (i = 0; i < n; i++) {
		w[i] = (struct writer){ .id = i, .count = per, .url = url,
		    .key = argv[1], .out = out };
		pthread_create(&w[i].thread, NULL, writer_main, &w[i]);
	}
	for (i = 0; i < n; i++) {
		pthread_join(w[i].thread, NULL);
		failed += w[i].failed;
	}
	fclose(out);
	free(w);
	printf("crash writer: %d deltas, %d never acknowledged\n", n * per,
	    failed);
	return failed == 0 ? 0 : 1;
}

struct ack {
	char	key[64], record[48], customer[32], delta[32];
	long	seq;
	int	seen;
};

static int	passed, failures;

static void
expect(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
expect(int ok, const char *fmt, ...)
{
	va_list	ap;

	if (ok) {
		passed++;
		return;
	}
	failures++;
	if (failures > 20)
		return;
	va_start(ap, fmt);
	fputs("FAIL: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static const char *
field(struct json_object *o, const char *name)
{
	struct json_object	*v;

	return json_object_object_get_ex(o, name, &v) ?
	    json_object_get_string(v) : "";
}

/* "0x" + hex of SHA-256(prefix? 0x00 : nothing || data). */
static void
sha256_hex(const char *data, size_t len, int leaf, char out[67])
{
	EVP_MD_CTX	*ctx = EVP_MD_CTX_new();
	unsigned char	 md[32], zero = 0;
	int		 i;

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	if (leaf)
		EVP_DigestUpdate(ctx, &zero, 1);
	EVP_DigestUpdate(ctx, data, len);
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	out[0] = '0';
	out[1] = 'x';
	for (i = 0; i < 32; i++)
		snprintf(out + 2 + 2 * i, 3, "%02x", md[i]);
}

static int
cmd_check(char *argv[])
{
	static struct ack	 acks[MAX_ACKS];
	struct json_object	*o;
	FILE			*fp;
	char			 line[65536], hex[67];
	long			 nacks = 0, n = 0, i, last_seq[CUSTOMERS] = { 0 };
	long			 index, first = 0;
	int			 c;

	if ((fp = fopen(argv[0], "r")) == NULL)
		return 2;
	while (nacks < MAX_ACKS && fscanf(fp, "%63s %47s %31s %ld %31s",
	    acks[nacks].key, acks[nacks].record, acks[nacks].customer,
	    &acks[nacks].seq, acks[nacks].delta) == 5)
		nacks++;
	fclose(fp);
	if ((fp = fopen(argv[1], "r")) == NULL)
		return 2;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if ((o = json_tokener_parse(line)) == NULL) {
			expect(0, "export line %ld is not JSON", n);
			continue;
		}
		/* The only writer while it ran: its indexes are contiguous. */
		index = atol(field(o, "logIndex"));
		if (n == 0)
			first = index;
		expect(index == first + n, "logIndex %ld at position %ld",
		    index, n);
		c = atoi(field(o, "customerId") + strlen("crash_"));
		if (c >= 0 && c < CUSTOMERS) {
			expect(atol(field(o, "sequenceNumber")) ==
			    last_seq[c] + 1, "customer %d: sequence %s after "
			    "%ld", c, field(o, "sequenceNumber"), last_seq[c]);
			last_seq[c] = atol(field(o, "sequenceNumber"));
		}
		sha256_hex(field(o, "leafData"), strlen(field(o, "leafData")),
		    0, hex);
		expect(strcmp(hex, field(o, "contentHash")) == 0,
		    "logIndex %ld: contentHash does not match its leaf", n);
		sha256_hex(field(o, "leafData"), strlen(field(o, "leafData")),
		    1, hex);
		expect(strcmp(hex, field(o, "leafHash")) == 0,
		    "logIndex %ld: leafHash does not match its leaf", n);
		for (i = 0; i < nacks; i++)
			if (strcmp(acks[i].record, field(o, "recordId")) == 0)
				break;
		expect(i < nacks, "logIndex %ld (%s) was never acknowledged",
		    n, field(o, "recordId"));
		if (i < nacks) {
			acks[i].seen++;
			expect(strcmp(acks[i].delta, field(o, "delta")) == 0 &&
			    strcmp(acks[i].customer, field(o, "customerId")) ==
			    0 && acks[i].seq == atol(field(o,
			    "sequenceNumber")), "%s changed since its 2xx",
			    acks[i].record);
		}
		json_object_put(o);
		n++;
	}
	fclose(fp);
	for (i = 0; i < nacks; i++)
		expect(acks[i].seen == 1, "%s (key %s) present %d times",
		    acks[i].record, acks[i].key, acks[i].seen);
	expect(n == nacks, "%ld deltas stored for %ld acknowledged", n, nacks);
	printf("crash: %d passed, %d failed\n", passed, failures);
	return failures == 0 ? 0 : 1;
}

int
main(int argc, char *argv[])
{
	if (argc == 7 && strcmp(argv[1], "write") == 0)
		return cmd_write(argv + 2);
	if (argc == 4 && strcmp(argv[1], "check") == 0)
		return cmd_check(argv + 2);
	fprintf(stderr, "usage: crash write URL KEY OUT THREADS PER_THREAD\n"
	    "       crash check OUT EXPORT\n");
	return 2;
}
