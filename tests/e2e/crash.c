/*
 * The crash test's client and judges.
 *
 *   crash write URL KEY OUT THREADS
 *	Until SIGTERM, each thread records deltas: three single emits,
 *	then a batch of BATCH, each request under its own Idempotency-Key,
 *	retrying a failed request with the same key and body, as the SDKs
 *	do, until it is acknowledged (or RETRY_SECONDS pass).  Every
 *	acknowledged delta is appended to OUT as "key recordId customer seq
 *	delta"; a batch's items as key#index, with seq 0 (a batch answers
 *	no sequence numbers).  On SIGTERM each thread first finishes the
 *	request it has begun.  Meanwhile the harness kills tallyd with
 *	SIGKILL and restarts it.
 *
 *   crash check OUT EXPORT [N]
 *	Judges the store (EXPORT: `tallyctl export` JSON lines) against
 *	the acknowledgements: every acknowledged delta present exactly
 *	once and unchanged, nothing present that was not acknowledged (so
 *	no batch in part), sequence numbers and log indexes without gaps,
 *	every leaf hash recomputed.  With N, EXPORT is of a backup taken
 *	after the first N acknowledgements: those must all be there, later
 *	ones may be.
 *
 *   crash balance URL KEY OUT
 *	Each customer's derived balance, read through URL, is the exact
 *	sum of its acknowledged deltas, counting all of them, none pending.
 */
#include <pthread.h>
#include <signal.h>
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
#define BATCH		10	/* deltas in every fourth request */
#define RETRY_SECONDS	60	/* per request, however many kills */

struct writer {
	pthread_t	 thread;
	int		 id;
	const char	*url, *key;
	FILE		*out;
	long		 singles, batches, failed;
};

static pthread_mutex_t		out_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t	stopping;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

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

/*
 * One request: a POST of body (with idem as its Idempotency-Key, unless
 * NULL), or a GET if body is NULL.  Returns the reply if the status is
 * want, else NULL; the caller frees it.
 */
static char *
http(const char *url, const char *key, const char *idem, const char *body,
    long want)
{
	CURL			*curl = curl_easy_init();
	struct curl_slist	*h = NULL;
	char			 line[256], *reply = NULL;
	long			 status = 0;

	if (curl == NULL)
		return NULL;
	snprintf(line, sizeof(line), "X-Api-Key: %s", key);
	h = curl_slist_append(h, line);
	if (idem != NULL) {
		snprintf(line, sizeof(line), "Idempotency-Key: %s", idem);
		h = curl_slist_append(h, line);
	}
	if (body != NULL) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
	/* Threads, and a SIGTERM handler: no signals from libcurl. */
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	if (curl_easy_perform(curl) == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(curl);
	if (status != want) {
		free(reply);
		return NULL;
	}
	return reply;
}

/* Retries with the same key and body until want comes back, or NULL. */
static char *
http_until(const char *url, const char *key, const char *idem,
    const char *body, long want)
{
	time_t	 deadline = time(NULL) + RETRY_SECONDS;
	char	*reply;

	while ((reply = http(url, key, idem, body, want)) == NULL &&
	    time(NULL) <= deadline)
		usleep(20000);
	return reply;
}

static struct json_object *
member(struct json_object *o, const char *name)
{
	struct json_object	*v;

	return json_object_object_get_ex(o, name, &v) ? v : NULL;
}

/* A member's text (a number's as it was written), or "". */
static const char *
field(struct json_object *o, const char *name)
{
	struct json_object	*v = member(o, name);

	return v != NULL ? json_object_get_string(v) : "";
}

/* Amounts here are thousandths, never negative: exact, and small. */
static void
milli_text(long long m, char *out, size_t len)
{
	int	frac = (int)(m % 1000), digits = 3;

	if (frac == 0) {
		snprintf(out, len, "%lld", m / 1000);
		return;
	}
	for (; frac % 10 == 0; digits--)
		frac /= 10;
	snprintf(out, len, "%lld.%0*d", m / 1000, digits, frac);
}

/* "I" or "I.F" with at most three decimals; -1 if it is neither. */
static int
milli_parse(const char *s, long long *out)
{
	long long	 v = 0;
	int		 scale = 1000;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (*s - '0');
	v *= 1000;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9' && scale > 1; s++)
			v += (*s - '0') * (scale /= 10);
	*out = v;
	return *s == '\0' ? 0 : -1;
}

/* Request i of thread id, item j: the delta to send, in thousandths. */
static long long
amount(int id, long i, int j)
{
	return (1 + (i + j) % 7) * 1000 + (id * 37 + i * 11 + j) % 1000;
}

static void
record_single(struct writer *w, const char *idem, const char *reply)
{
	struct json_object	*obj = json_tokener_parse(reply), *data;

	if ((data = member(obj, "data")) == NULL) {
		w->failed++;
		json_object_put(obj);
		return;
	}
	pthread_mutex_lock(&out_lock);
	fprintf(w->out, "%s %s %s %s %s\n", idem, field(data, "recordId"),
	    field(data, "customerId"), field(data, "sequenceNumber"),
	    field(data, "delta"));
	fflush(w->out);
	pthread_mutex_unlock(&out_lock);
	json_object_put(obj);
	w->singles++;
}

/* All of a batch's items queued, or it counts as never acknowledged. */
static void
record_batch(struct writer *w, const char *idem, long i, const char *reply)
{
	struct json_object	*obj = json_tokener_parse(reply), *res, *it;
	char			 text[32];
	int			 j;

	res = member(member(obj, "data"), "results");
	for (j = 0; j < BATCH; j++) {
		it = json_object_array_get_idx(res, (size_t)j);
		if (it == NULL || strcmp(field(it, "status"), "QUEUED") != 0)
			break;
	}
	if (res == NULL || j < BATCH || json_object_array_length(res) !=
	    BATCH) {
		fprintf(stderr, "crash: batch %s answered %s\n", idem, reply);
		w->failed++;
		json_object_put(obj);
		return;
	}
	pthread_mutex_lock(&out_lock);
	for (j = 0; j < BATCH; j++) {
		milli_text(amount(w->id, i, j), text, sizeof(text));
		fprintf(w->out, "%s#%d %s crash_%d 0 %s\n", idem, j,
		    field(json_object_array_get_idx(res, (size_t)j),
		    "recordId"), (w->id + j) % CUSTOMERS, text);
	}
	fflush(w->out);
	pthread_mutex_unlock(&out_lock);
	json_object_put(obj);
	w->batches++;
}

/* The body of request i: one delta, or a batch of BATCH. */
static void
request_body(const struct writer *w, long i, int batch, char *body,
    size_t len)
{
	char	text[32];
	size_t	off = 0;
	int	j, n = batch ? BATCH : 1;

	if (batch)
		off += (size_t)snprintf(body, len, "{\"deltas\":[");
	for (j = 0; j < n && off < len; j++) {
		milli_text(amount(w->id, i, j), text, sizeof(text));
		off += (size_t)snprintf(body + off, len - off,
		    "%s{\"customerId\":\"crash_%d\",\"delta\":%s,"
		    "\"reason\":\"crash test\"}", j ? "," : "",
		    (w->id + (batch ? j : (int)i)) % CUSTOMERS, text);
	}
	if (batch && off < len)
		snprintf(body + off, len - off, "]}");
}

static void *
writer_main(void *arg)
{
	struct writer	*w = arg;
	char		 url[512], idem[64], body[4096], *reply;
	long		 i;
	int		 batch;

	for (i = 0; !stopping; i++) {
		batch = i % 4 == 3;
		snprintf(url, sizeof(url), "%s/api/v1/balance/delta%s",
		    w->url, batch ? "/batch" : "");
		snprintf(idem, sizeof(idem), "crash-%d-%ld", w->id, i);
		request_body(w, i, batch, body, sizeof(body));
		reply = http_until(url, w->key, idem, body,
		    batch ? 200 : 201);
		if (reply == NULL)
			w->failed++;
		else if (batch)
			record_batch(w, idem, i, reply);
		else
			record_single(w, idem, reply);
		free(reply);
	}
	return NULL;
}

static int
cmd_write(char *argv[])
{
	struct writer		*w;
	struct sigaction	 sa;
	FILE			*out;
	long			 singles = 0, batches = 0, failed = 0;
	int			 n = atoi(argv[3]), i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	curl_global_init(CURL_GLOBAL_ALL);
	if ((out = fopen(argv[2], "w")) == NULL || n < 1 ||
	    (w = calloc((size_t)n, sizeof(*w))) == NULL)
		return 2;
	for (i = 0; i < n; i++) {
		w[i] = (struct writer){ .id = i, .url = argv[0],
		    .key = argv[1], .out = out };
		pthread_create(&w[i].thread, NULL, writer_main, &w[i]);
	}
	for (i = 0; i < n; i++) {
		pthread_join(w[i].thread, NULL);
		singles += w[i].singles;
		batches += w[i].batches;
		failed += w[i].failed;
	}
	fclose(out);
	free(w);
	printf("crash writer: %ld single emits and %ld batches of %d "
	    "acknowledged (%ld deltas), %ld never\n", singles, batches, BATCH,
	    singles + batches * BATCH, failed);
	return failed == 0 ? 0 : 1;
}

struct ack {
	char		key[64], record[48], customer[32], delta[32];
	long		seq;	/* 0: not answered (a batch's item) */
	long		line;	/* its place in OUT, from 0 */
	int		seen;
};

static int
ack_order(const void *a, const void *b)
{
	return strcmp(((const struct ack *)a)->record,
	    ((const struct ack *)b)->record);
}

/* Reads OUT; *acks is malloc'd, sorted by recordId. */
static long
acks_read(const char *path, struct ack **acks)
{
	FILE		*fp;
	struct ack	*a = NULL, *na;
	long		 n = 0, cap = 0;

	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	for (;;) {
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			if ((na = realloc(a, (size_t)cap * sizeof(*a))) ==
			    NULL) {
				n = -1;
				break;
			}
			a = na;
		}
		memset(&a[n], 0, sizeof(a[n]));
		if (fscanf(fp, "%63s %47s %31s %ld %31s", a[n].key,
		    a[n].record, a[n].customer, &a[n].seq, a[n].delta) != 5)
			break;
		a[n].line = n;
		n++;
	}
	fclose(fp);
	if (n > 0)
		qsort(a, (size_t)n, sizeof(*a), ack_order);
	*acks = a;
	return n;
}

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
ack_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct ack *)elem)->record);
}

/* One exported delta: its own hashes, its place, its acknowledgement. */
static void
check_one(struct json_object *o, long n, long *first, long last_seq[],
    struct ack *acks, long nacks)
{
	struct ack	*a;
	const char	*leaf = field(o, "leafData"), *rec = field(o, "recordId");
	char		 hex[67];
	long		 index = atol(field(o, "logIndex"));
	int		 c;

	/* The only writer while it ran: its indexes are contiguous. */
	if (n == 0)
		*first = index;
	expect(index == *first + n, "logIndex %ld at position %ld", index, n);
	c = atoi(field(o, "customerId") + strlen("crash_"));
	if (c >= 0 && c < CUSTOMERS) {
		expect(atol(field(o, "sequenceNumber")) == last_seq[c] + 1,
		    "customer %d: sequence %s after %ld", c,
		    field(o, "sequenceNumber"), last_seq[c]);
		last_seq[c] = atol(field(o, "sequenceNumber"));
	}
	sha256_hex(leaf, strlen(leaf), 0, hex);
	expect(strcmp(hex, field(o, "contentHash")) == 0,
	    "logIndex %ld: contentHash does not match its leaf", index);
	sha256_hex(leaf, strlen(leaf), 1, hex);
	expect(strcmp(hex, field(o, "leafHash")) == 0,
	    "logIndex %ld: leafHash does not match its leaf", index);
	a = bsearch(rec, acks, (size_t)nacks, sizeof(*acks), ack_cmp);
	expect(a != NULL, "logIndex %ld (%s) was never acknowledged", index,
	    rec);
	if (a == NULL)
		return;
	a->seen++;
	expect(strcmp(a->delta, field(o, "delta")) == 0 &&
	    strcmp(a->customer, field(o, "customerId")) == 0 &&
	    (a->seq == 0 || a->seq == atol(field(o, "sequenceNumber"))),
	    "%s changed since its 2xx", rec);
}

static int
cmd_check(char *argv[], long upto)
{
	struct ack		*acks = NULL;
	struct json_object	*o;
	FILE			*fp;
	char			 line[65536];
	long			 nacks, n = 0, i, first = 0;
	long			 last_seq[CUSTOMERS] = { 0 };

	if ((nacks = acks_read(argv[0], &acks)) < 0 ||
	    (fp = fopen(argv[1], "r")) == NULL)
		return 2;
	if (upto < 0 || upto > nacks)
		upto = nacks;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if ((o = json_tokener_parse(line)) == NULL) {
			expect(0, "export line %ld is not JSON", n);
			continue;
		}
		check_one(o, n, &first, last_seq, acks, nacks);
		json_object_put(o);
		n++;
	}
	fclose(fp);
	for (i = 0; i < nacks; i++)
		expect(acks[i].line >= upto ? acks[i].seen <= 1 :
		    acks[i].seen == 1, "%s (key %s) present %d times",
		    acks[i].record, acks[i].key, acks[i].seen);
	if (upto == nacks)
		expect(n == nacks, "%ld deltas stored for %ld acknowledged",
		    n, nacks);
	free(acks);
	printf("crash: %ld deltas judged against %ld acknowledged: %d passed, "
	    "%d failed\n", n, upto, passed, failures);
	return failures == 0 ? 0 : 1;
}

static int
cmd_balance(char *argv[])
{
	struct ack		*acks = NULL;
	struct json_object	*obj, *data;
	long long		 sum[CUSTOMERS] = { 0 }, m;
	long			 count[CUSTOMERS] = { 0 }, nacks, i;
	char			 url[512], want[32], *reply;
	int			 c;

	if ((nacks = acks_read(argv[2], &acks)) < 0)
		return 2;
	for (i = 0; i < nacks; i++) {
		c = atoi(acks[i].customer + strlen("crash_"));
		if (c < 0 || c >= CUSTOMERS ||
		    milli_parse(acks[i].delta, &m) < 0) {
			expect(0, "unexpected acknowledgement %s", acks[i].key);
			continue;
		}
		sum[c] += m;
		count[c]++;
	}
	free(acks);
	for (c = 0; c < CUSTOMERS; c++) {
		snprintf(url, sizeof(url), "%s/api/v1/balance/derive/crash_%d",
		    argv[0], c);
		reply = http(url, argv[1], NULL, NULL, 200);
		obj = reply ? json_tokener_parse(reply) : NULL;
		data = member(obj, "data");
		milli_text(sum[c], want, sizeof(want));
		expect(strcmp(field(data, "computedBalance"), want) == 0 &&
		    atol(field(data, "deltasCount")) == count[c] &&
		    atol(field(data, "pendingCount")) == 0,
		    "crash_%d: derived %s over %s deltas (%s pending), "
		    "acknowledged %s over %ld", c,
		    field(data, "computedBalance"), field(data, "deltasCount"),
		    field(data, "pendingCount"), want, count[c]);
		printf("crash: crash_%d derives %s over %s deltas; the client "
		    "summed %s over %ld\n", c, field(data, "computedBalance"),
		    field(data, "deltasCount"), want, count[c]);
		json_object_put(obj);
		free(reply);
	}
	return failures == 0 ? 0 : 1;
}

int
main(int argc, char *argv[])
{
	if (argc == 6 && strcmp(argv[1], "write") == 0)
		return cmd_write(argv + 2);
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "check") == 0)
		return cmd_check(argv + 2, argc == 5 ? atol(argv[4]) : -1);
	if (argc == 5 && strcmp(argv[1], "balance") == 0)
		return cmd_balance(argv + 2);
	fprintf(stderr, "usage: crash write URL KEY OUT THREADS\n"
	    "       crash check OUT EXPORT [N]\n"
	    "       crash balance URL KEY OUT\n");
	return 2;
}
