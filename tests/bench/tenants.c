/*
 * make bench, big tenants (issue 18.3): builds a tenant of N customers,
 * one delta each, through the ledger's own batch path (ledger_submit,
 * batches of BATCH from THREADS submitters, as POST /balance/delta/batch
 * records them, without HTTP), signs heads over them, indexes them for
 * search (indexer_catch_up, timed), then measures, in process, on
 * libtally:
 *
 *   checkpoint-all of the month (checkpoint_make, the real signer), and
 *   the same again (every customer's checkpoint found unchanged);
 *   customer search (store_customer_search, as GET /balance/customers
 *   does, less the JSON of its page): SEARCHES needles, each once,
 *   half "zzzz" (no customer), half one customer's seven digits, and
 *   the p50 and p99 of each kind; and one whole-tenant walk, what a
 *   search cost before the index.
 *
 * Prints "name value" lines for tests/bench/tenants.sh.
 *
 *   tenants DIR N
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "../../common/timefmt.h"
#include "../../core/checkpoint.h"
#include "../../core/indexer.h"
#include "../../core/integrator.h"
#include "../../core/ledger.h"
#include "../../core/tlog.h"

#define BATCH		1000	/* deltas per ledger request */
#define THREADS		4	/* submitters: the ledger groups them */
#define SEARCHES	400
#define ORIGIN		"tally.bench/log"

static struct ledger	*led;
static long		 ncust;
static long		 next_cust;
static pthread_mutex_t	 next_lock = PTHREAD_MUTEX_INITIALIZER;

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(const char *what, int rc)
{
	fprintf(stderr, "tenants: %s: %s\n", what, store_strerror(rc));
	exit(1);
}

static int
tenant_add_txn(struct store_txn *t, void *arg)
{
	struct store_tenant	tn;

	memset(&tn, 0, sizeof(tn));
	snprintf(tn.name, sizeof(tn.name), "%s", (const char *)arg);
	tn.created_ms = timefmt_now_ms();
	return store_tenant_add(t, &tn);
}

/* Records batches of customers "cust-%07ld" until all are taken. */
static void *
submitter(void *arg)
{
	struct ledger_item	*items;
	struct ledger_request	 req;
	struct principal	 who;
	struct json_object	*o;
	char			 id[32];
	long			 first, i, n;
	int			 rc;

	(void)arg;
	memset(&who, 0, sizeof(who));
	snprintf(who.tenant, sizeof(who.tenant), "big");
	who.env = STORE_ENV_LIVE;
	if ((items = calloc(BATCH, sizeof(*items))) == NULL)
		die("calloc", STORE_NOMEM);
	for (;;) {
		pthread_mutex_lock(&next_lock);
		first = next_cust;
		n = ncust - first < BATCH ? ncust - first : BATCH;
		next_cust += n;
		pthread_mutex_unlock(&next_lock);
		if (n <= 0)
			break;
		for (i = 0; i < n; i++) {
			snprintf(id, sizeof(id), "cust-%07ld", first + i);
			o = json_object_new_object();
			json_object_object_add(o, "customerId",
			    json_object_new_string(id));
			json_object_object_add(o, "delta",
			    json_object_new_int(1));
			json_object_object_add(o, "reason",
			    json_object_new_string("bench"));
			memset(&items[i], 0, sizeof(items[i]));
			items[i].valid = emit_parse(o, &items[i].in,
			    &items[i].err) == 0;
			json_object_put(o);
		}
		memset(&req, 0, sizeof(req));
		req.who = &who;
		req.batch = 1;
		req.items = items;
		req.nitems = (size_t)n;
		if ((rc = ledger_submit(led, &req)) != STORE_OK)
			die("ledger_submit", rc);
		for (i = 0; i < n; i++) {
			if (items[i].outcome != LEDGER_RECORDED)
				die("a delta was not recorded", STORE_IO);
			emit_input_free(&items[i].in);
		}
		ledger_request_free(&req);
	}
	free(items);
	return NULL;
}

static int
sign(void *arg, const void *msg, size_t len, uint8_t *sig, size_t *siglen,
    char key_id[STORE_KEYID_MAX + 1], char alg[STORE_ALG_MAX + 1])
{
	return integrator_sign_statement(arg, msg, len, sig, siglen, key_id,
	    alg);
}

struct search {
	const char	*needle;
	uint64_t	 found;
};

static int
search_one(const char *id, void *arg)
{
	(void)id;
	((struct search *)arg)->found++;
	return STORE_OK;
}

static int
search_txn(struct store_txn *t, void *arg)
{
	struct search	*s = arg;

	s->found = 0;
	return store_customer_search(t, "big", STORE_ENV_LIVE, s->needle,
	    search_one, s);
}

static int
walk_one(const char *id, const struct store_customer *c, void *arg)
{
	(void)c;
	return search_one(id, arg);
}

static int
walk_txn(struct store_txn *t, void *arg)
{
	((struct search *)arg)->found = 0;
	return store_customer_each(t, "big", STORE_ENV_LIVE, walk_one, arg);
}

static int
cmp_double(const void *x, const void *y)
{
	double	a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

/* Times n searches of needles made by make(i); prints p50 and p99. */
static void
search_times(struct store *st, const char *name, long n, int digits)
{
	struct search	s;
	double		*ms, t0;
	char		 needle[32];
	long		 i;
	int		 rc;

	if ((ms = calloc((size_t)n, sizeof(*ms))) == NULL)
		die("calloc", STORE_NOMEM);
	for (i = 0; i < n; i++) {
		if (digits)
			snprintf(needle, sizeof(needle), "%07ld",
			    random() % ncust);
		else
			snprintf(needle, sizeof(needle), "zzzz");
		s.needle = needle;
		t0 = now_s();
		if ((rc = store_read(st, search_txn, &s)) != STORE_OK)
			die("search", rc);
		ms[i] = (now_s() - t0) * 1000;
		if (s.found != (uint64_t)digits)
			die("search found the wrong customers", STORE_CORRUPT);
	}
	qsort(ms, (size_t)n, sizeof(*ms), cmp_double);
	printf("%s_p50_ms %.3f\n%s_p99_ms %.3f\n", name, ms[n / 2], name,
	    ms[n * 99 / 100]);
	free(ms);
}

int
main(int argc, char **argv)
{
	struct store		*st = NULL;
	struct integrator	*ig = NULL;
	struct store_signkey	 k;
	struct checkpoint_job	 job;
	struct search		 s = { "zzzz", 0 };
	pthread_t		 th[THREADS];
	char			 err[256];
	uint64_t		 size = 0;
	double			 t0;
	int			 i, rc;

	if (argc != 3 || (ncust = strtol(argv[2], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: tenants DIR N\n");
		return 2;
	}
	if ((rc = store_open(&st, argv[1], 256, STORE_CREATE)) != STORE_OK)
		die("store_open", rc);
	if ((rc = store_write(st, tenant_add_txn, "big")) != STORE_OK)
		die("tenant", rc);
	if (tlog_key_generate(st, argv[1], ORIGIN, SIGKEY_ECDSA_P256, 0, &k,
	    err, sizeof(err)) != TLOG_KEY_OK ||
	    integrator_open(&ig, st, argv[1], ORIGIN, err, sizeof(err)) < 0) {
		fprintf(stderr, "tenants: %s\n", err);
		goto fail;
	}
	if ((rc = ledger_open(&led, st)) != STORE_OK)
		die("ledger_open", rc);

	t0 = now_s();
	for (i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, submitter, NULL);
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	printf("load_s %.1f\n", now_s() - t0);
	t0 = now_s();
	while (size < (uint64_t)ncust)
		if ((rc = integrator_step(ig, &size)) != STORE_OK)
			die("integrator_step", rc);
	printf("integrate_s %.1f\n", now_s() - t0);
	/* As tallyd's indexer thread does behind the writes. */
	t0 = now_s();
	if ((rc = indexer_catch_up(st)) != STORE_OK)
		die("indexer_catch_up", rc);
	printf("index_s %.1f\n", now_s() - t0);
	/* As tallyd does now and then: the log files behind it go. */
	if ((rc = store_sync(st)) != STORE_OK)
		die("store_sync", rc);

	memset(&job, 0, sizeof(job));
	job.tenant = "big";
	job.env = STORE_ENV_LIVE;
	job.month = timefmt_month(timefmt_now_ms());
	job.sign = sign;
	job.sign_arg = ig;
	job.keep = 1000;
	t0 = now_s();
	if ((rc = checkpoint_make(st, &job)) != STORE_OK)
		die("checkpoint-all", rc);
	printf("checkpoint_all_s %.2f\ncheckpoint_all_count %llu\n",
	    now_s() - t0, (unsigned long long)job.count);
	if (job.count != (uint64_t)ncust)
		die("checkpoint-all missed customers", STORE_CORRUPT);
	t0 = now_s();
	if ((rc = checkpoint_make(st, &job)) != STORE_OK)
		die("checkpoint-all again", rc);
	printf("checkpoint_again_s %.2f\n", now_s() - t0);
	checkpoint_job_free(&job);
	if ((rc = store_sync(st)) != STORE_OK)
		die("store_sync", rc);

	search_times(st, "search_nomatch", SEARCHES / 2, 0);
	search_times(st, "search_one", SEARCHES / 2, 1);
	t0 = now_s();
	if ((rc = store_read(st, walk_txn, &s)) != STORE_OK)
		die("walk", rc);
	printf("walk_ms %.3f\n", (now_s() - t0) * 1000);

	ledger_close(led);
	integrator_close(ig);
	store_close(st);
	return 0;
fail:
	integrator_close(ig);
	store_close(st);
	return 1;
}
