/*
 * The verifiable log, end to end (SPEC 3.3, 4.1, 4.3), through whichever
 * front end TALLY_URL names.  Every proof Tally serves is checked here by
 * the test's own RFC 9162 verifiers, written apart from crypto/merkle.c
 * on purpose; run.sh checks the signatures with the openssl command line.
 *
 * Environment: as check_http, and VERIFY_WITHIN_MS (default 1000): how
 * long after its 2xx a delta may take to become VERIFIED.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "http.h"

#define WRITERS		8
#define PER_WRITER	10
#define PROOF_MAX	70

typedef uint8_t	hash_t[32];

static void
node_hash(const hash_t left, const hash_t right, hash_t out)
{
	uint8_t		buf[65];
	unsigned int	len;

	buf[0] = 0x01;
	memcpy(buf + 1, left, 32);
	memcpy(buf + 33, right, 32);
	ck_assert(EVP_Digest(buf, sizeof(buf), out, &len, EVP_sha256(),
	    NULL) == 1);
}

/* RFC 9162 2.1.3.2, written from the RFC's text. */
static int
verify_inclusion(uint64_t index, uint64_t size, const hash_t leaf,
    const hash_t *proof, size_t len, const hash_t root)
{
	uint64_t	fn = index, sn = size - 1;
	hash_t		r;
	size_t		i;

	if (index >= size)
		return 0;
	memcpy(r, leaf, 32);
	for (i = 0; i < len; i++) {
		if (sn == 0)
			return 0;
		if ((fn & 1) || fn == sn) {
			node_hash(proof[i], r, r);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else
			node_hash(r, proof[i], r);
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(r, root, 32) == 0;
}

/* RFC 9162 2.1.4.2. */
static int
verify_consistency(uint64_t m, uint64_t n, const hash_t *proof, size_t len,
    const hash_t root1, const hash_t root2)
{
	hash_t		path[PROOF_MAX + 1], fr, sr;
	uint64_t	fn, sn;
	size_t		i, plen = 0;

	if (m == n)
		return len == 0 && memcmp(root1, root2, 32) == 0;
	if (m == 0 || m > n || len == 0 || len > PROOF_MAX)
		return 0;
	if ((m & (m - 1)) == 0)
		memcpy(path[plen++], root1, 32);
	for (i = 0; i < len; i++)
		memcpy(path[plen++], proof[i], 32);
	fn = m - 1;
	sn = n - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	memcpy(fr, path[0], 32);
	memcpy(sr, path[0], 32);
	for (i = 1; i < plen; i++) {
		if (sn == 0)
			return 0;
		if ((fn & 1) || fn == sn) {
			node_hash(path[i], fr, fr);
			node_hash(path[i], sr, sr);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else
			node_hash(sr, path[i], sr);
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(fr, root1, 32) == 0 &&
	    memcmp(sr, root2, 32) == 0;
}

static void
hex_hash(const char *text, hash_t out)
{
	unsigned int	b;
	int		i;

	ck_assert_msg(text != NULL && strlen(text) == 66 &&
	    strncmp(text, "0x", 2) == 0, "not a hash: %s", text);
	for (i = 0; i < 32; i++) {
		ck_assert(sscanf(text + 2 + 2 * i, "%2x", &b) == 1);
		out[i] = (uint8_t)b;
	}
}

static size_t
proof_hashes(struct json_object *arr, hash_t *out)
{
	size_t	i, n;

	ck_assert(json_object_is_type(arr, json_type_array));
	n = json_object_array_length(arr);
	ck_assert(n <= PROOF_MAX);
	for (i = 0; i < n; i++)
		hex_hash(json_object_get_string(json_object_array_get_idx(arr,
		    i)), out[i]);
	return n;
}

/* The size and root hash inside a signed checkpoint note. */
static void
note_parse(const char *note, uint64_t *size, hash_t root)
{
	char		origin[256], sizetext[32], b64[64];
	uint8_t		raw[48];

	ck_assert_ptr_nonnull(note);
	ck_assert_msg(sscanf(note, "%255[^\n]\n%31[^\n]\n%63[^\n]\n", origin,
	    sizetext, b64) == 3, "not a checkpoint: %s", note);
	*size = strtoull(sizetext, NULL, 10);
	ck_assert_int_eq(strlen(b64), 44);
	ck_assert_int_eq(EVP_DecodeBlock(raw, (unsigned char *)b64, 44), 33);
	memcpy(root, raw, 32);
	ck_assert_msg(strstr(note, "\n\n\xe2\x80\x94 ") != NULL,
	    "no signature line: %s", note);
}

static void
checkpoint(struct reply *r)
{
	http(r, "GET", "/api/v1/log/checkpoint", NULL, NULL, NULL, 0, NULL);
	assert_ok(r, 200);
}

START_TEST(public_endpoints_need_no_key)
{
	struct reply		 r;
	struct json_object	*keys, *k;
	uint64_t		 size;
	hash_t			 root, note_root;
	size_t			 i;

	checkpoint(&r);
	note_parse(get_str(r.json, "data.checkpoint"), &size, note_root);
	ck_assert_int_eq(size, get_int(r.json, "data.treeSize"));
	hex_hash(get_str(r.json, "data.rootHash"), root);
	ck_assert_mem_eq(root, note_root, 32);
	ck_assert_uint_eq(strlen(get_str(r.json, "data.keyId")), 8);
	reply_free(&r);

	http(&r, "GET", "/api/v1/keys", NULL, NULL, NULL, 0, NULL);
	assert_ok(&r, 200);
	keys = get(r.json, "data.keys");
	ck_assert(json_object_array_length(keys) >= 1);
	for (i = 0; i < json_object_array_length(keys); i++) {
		k = json_object_array_get_idx(keys, i);
		ck_assert_uint_eq(strlen(get_str(k, "keyId")), 8);
		ck_assert_ptr_nonnull(get_str(k, "alg"));
		ck_assert_ptr_nonnull(get_str(k, "validFrom"));
		ck_assert(strncmp(get_str(k, "pem"),
		    "-----BEGIN PUBLIC KEY-----", 26) == 0);
		ck_assert(strstr(r.body, "PRIVATE") == NULL);
	}
	reply_free(&r);
}
END_TEST

/* Emits one delta for customer and returns its recordId (malloc). */
static char *
emit_one(const char *customer, int n)
{
	struct reply	 r;
	char		 body[256], *id;

	snprintf(body, sizeof(body), "{\"customerId\":\"%s\",\"delta\":%d,"
	    "\"reason\":\"log_test\"}", customer, n);
	post(&r, "/api/v1/balance/delta", env_key("TALLY_KEY_LIVE"), NULL,
	    body);
	assert_ok(&r, 201);
	id = strdup(get_str(r.json, "data.recordId"));
	reply_free(&r);
	return id;
}

START_TEST(proof_requests_checked)
{
	static const struct {
		const char	*query;
		long		 status;
		const char	*code;
	} bad[] = {
		{ "/api/v1/log/proof/inclusion", 400, "VALIDATION_ERROR" },
		{ "/api/v1/log/proof/inclusion?index=0&leafHash=0x"
		    "0000000000000000000000000000000000000000000000000000000000"
		    "000000", 400, "VALIDATION_ERROR" },
		{ "/api/v1/log/proof/inclusion?leafHash=0xzz", 400,
		    "VALIDATION_ERROR" },
		{ "/api/v1/log/proof/inclusion?index=-1", 400,
		    "VALIDATION_ERROR" },
		{ "/api/v1/log/proof/inclusion?index=01", 400,
		    "VALIDATION_ERROR" },
		{ "/api/v1/log/proof/inclusion?index=0&treeSize="
		    "18446744073709551615", 400, "VALIDATION_ERROR" },
		{ "/api/v1/log/proof/inclusion?index=0&treeSize="
		    "18446744073709551616", 400, "VALIDATION_ERROR" },
		{ "/api/v1/log/proof/inclusion?index=2&treeSize=2", 400,
		    "VALIDATION_ERROR" },
		{ "/api/v1/log/proof/inclusion?leafHash=0x"
		    "0000000000000000000000000000000000000000000000000000000000"
		    "000000", 404, "NOT_FOUND" },
		{ "/api/v1/log/proof/consistency", 400, "VALIDATION_ERROR" },
		{ "/api/v1/log/proof/consistency?from=0", 400,
		    "VALIDATION_ERROR" },
		{ "/api/v1/log/proof/consistency?from=3&to=2", 400,
		    "VALIDATION_ERROR" },
		{ "/api/v1/log/proof/consistency?from=1&to="
		    "18446744073709551615", 400, "VALIDATION_ERROR" },
	};
	struct reply	r;
	char		customer[64];
	size_t		i;
	int		n;

	/* Enough leaves that the sizes above exist in a signed head. */
	snprintf(customer, sizeof(customer), "proofs_%s", run_id);
	for (n = 1; n <= 3; n++)
		free(emit_one(customer, n));
	do {
		usleep(20000);
		checkpoint(&r);
		n = (int)get_int(r.json, "data.treeSize");
		reply_free(&r);
	} while (n < 3);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		http(&r, "GET", bad[i].query, NULL, NULL, NULL, 0, NULL);
		ck_assert_msg(r.status == bad[i].status, "%s: %ld %s",
		    bad[i].query, r.status, r.body);
		assert_error(&r, bad[i].status, bad[i].code);
		reply_free(&r);
	}
}
END_TEST

static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct writer {
	pthread_t	 thread;
	int		 n;
	char		*ids[PER_WRITER];
	long long	 waited[PER_WRITER];	/* ms from 2xx to VERIFIED */
};

/* Emits, then polls its status until VERIFIED, PER_WRITER times. */
static void *
writer_main(void *arg)
{
	struct writer	*w = arg;
	struct reply	 r;
	char		 customer[64], path[128];
	const char	*status;
	long long	 acked;
	int		 i;

	snprintf(customer, sizeof(customer), "stream%d_%s", w->n, run_id);
	for (i = 0; i < PER_WRITER; i++) {
		w->ids[i] = emit_one(customer, i + 1);
		acked = now_ms();
		snprintf(path, sizeof(path), "/api/v1/balance/delta/%s",
		    w->ids[i]);
		for (;;) {
			http(&r, "GET", path, env_key("TALLY_KEY_LIVE"), NULL,
			    NULL, 0, NULL);
			status = get_str(r.json, "data.status");
			if (status != NULL && strcmp(status, "VERIFIED") == 0)
				break;
			reply_free(&r);
			if (now_ms() - acked > 10000)
				break;
			usleep(10000);
		}
		w->waited[i] = now_ms() - acked;
		reply_free(&r);
	}
	return NULL;
}

static int
cmp_ll(const void *a, const void *b)
{
	long long	x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/* A verified delta's proof, against its head, by the test's own code. */
static void
check_proof(const char *record_id)
{
	struct reply		 r, q;
	struct json_object	*p;
	hash_t			 leaf, root, note_root, proof[PROOF_MAX],
				 proof2[PROOF_MAX];
	uint64_t		 index, size, note_size;
	size_t			 len, len2;
	char			 path[512];

	snprintf(path, sizeof(path), "/api/v1/balance/delta/%s", record_id);
	http(&r, "GET", path, env_key("TALLY_KEY_LIVE"), NULL, NULL, 0, NULL);
	assert_ok(&r, 200);
	ck_assert_str_eq(get_str(r.json, "data.status"), "VERIFIED");
	ck_assert_ptr_nonnull(get_str(r.json, "data.verifiedAt"));
	p = get(r.json, "data.proof");
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(get_str(p, "leafHash"), get_str(r.json,
	    "data.leafHash"));
	ck_assert_str_eq(get_str(p, "contentHash"), get_str(r.json,
	    "data.contentHash"));
	index = (uint64_t)get_int(p, "logIndex");
	ck_assert_int_eq(index, get_int(r.json, "data.logIndex"));
	size = (uint64_t)get_int(p, "treeSize");
	hex_hash(get_str(p, "leafHash"), leaf);
	hex_hash(get_str(p, "rootHash"), root);
	len = proof_hashes(get(p, "inclusionProof"), proof);
	ck_assert_msg(verify_inclusion(index, size, leaf, proof, len, root),
	    "inclusion proof of %s does not verify", record_id);
	note_parse(get_str(p, "checkpoint"), &note_size, note_root);
	ck_assert_int_eq(note_size, size);
	ck_assert_mem_eq(note_root, root, 32);

	/* The public proof endpoint gives the same path, by hash or index. */
	snprintf(path, sizeof(path), "/api/v1/log/proof/inclusion?leafHash="
	    "%s&treeSize=%llu", get_str(p, "leafHash"),
	    (unsigned long long)size);
	http(&q, "GET", path, NULL, NULL, NULL, 0, NULL);
	assert_ok(&q, 200);
	ck_assert_int_eq(get_int(q.json, "data.leafIndex"), index);
	len2 = proof_hashes(get(q.json, "data.inclusionProof"), proof2);
	ck_assert_uint_eq(len2, len);
	ck_assert_mem_eq(proof2, proof, len * 32);
	reply_free(&q);
	snprintf(path, sizeof(path), "/api/v1/log/proof/inclusion?index=%llu"
	    "&treeSize=%llu", (unsigned long long)index,
	    (unsigned long long)size);
	http(&q, "GET", path, NULL, NULL, NULL, 0, NULL);
	assert_ok(&q, 200);
	ck_assert_str_eq(get_str(q.json, "data.leafHash"), get_str(p,
	    "leafHash"));
	ck_assert_str_eq(get_str(q.json, "data.rootHash"), get_str(p,
	    "rootHash"));
	reply_free(&q);
	reply_free(&r);
}

START_TEST(stream_reaches_verified)
{
	struct writer	 w[WRITERS];
	long long	 all[WRITERS * PER_WRITER], bound = 1000;
	const char	*env = getenv("VERIFY_WITHIN_MS");
	int		 i, j, n = 0;

	if (env != NULL)
		bound = atoll(env);
	memset(w, 0, sizeof(w));
	for (i = 0; i < WRITERS; i++) {
		w[i].n = i;
		ck_assert_int_eq(pthread_create(&w[i].thread, NULL,
		    writer_main, &w[i]), 0);
	}
	for (i = 0; i < WRITERS; i++)
		pthread_join(w[i].thread, NULL);
	for (i = 0; i < WRITERS; i++)
		for (j = 0; j < PER_WRITER; j++)
			all[n++] = w[i].waited[j];
	qsort(all, n, sizeof(all[0]), cmp_ll);
	fprintf(stderr, "emit -> VERIFIED: %d deltas, p50 %lld ms, max %lld "
	    "ms\n", n, all[n / 2], all[n - 1]);
	ck_assert_msg(all[n - 1] <= bound, "a delta took %lld ms to verify",
	    all[n - 1]);
	for (i = 0; i < WRITERS; i++)
		for (j = 0; j < PER_WRITER; j++) {
			check_proof(w[i].ids[j]);
			free(w[i].ids[j]);
		}
}
END_TEST

START_TEST(consistency_between_heads)
{
	struct reply	r;
	hash_t		root_a, root_b, from_root, to_root, proof[PROOF_MAX];
	uint64_t	a, b;
	size_t		len;
	char		customer[64], path[256];
	int		n;

	checkpoint(&r);
	note_parse(get_str(r.json, "data.checkpoint"), &a, root_a);
	reply_free(&r);
	snprintf(customer, sizeof(customer), "consistency_%s", run_id);
	for (n = 1; n <= 5; n++)
		free(emit_one(customer, n));
	do {
		usleep(20000);
		checkpoint(&r);
		note_parse(get_str(r.json, "data.checkpoint"), &b, root_b);
		reply_free(&r);
	} while (b < a + 5);

	snprintf(path, sizeof(path), "/api/v1/log/proof/consistency?from=%llu"
	    "&to=%llu", (unsigned long long)a, (unsigned long long)b);
	http(&r, "GET", path, NULL, NULL, NULL, 0, NULL);
	assert_ok(&r, 200);
	hex_hash(get_str(r.json, "data.fromRootHash"), from_root);
	hex_hash(get_str(r.json, "data.toRootHash"), to_root);
	ck_assert_mem_eq(from_root, root_a, 32);
	ck_assert_mem_eq(to_root, root_b, 32);
	len = proof_hashes(get(r.json, "data.consistencyProof"), proof);
	ck_assert_msg(verify_consistency(a, b, proof, len, root_a, root_b),
	    "consistency %llu -> %llu does not verify", (unsigned long long)a,
	    (unsigned long long)b);
	/* And it proves nothing for another old root. */
	root_a[0] ^= 1;
	ck_assert(!verify_consistency(a, b, proof, len, root_a, root_b));
	reply_free(&r);

	snprintf(path, sizeof(path), "/api/v1/log/proof/consistency?from=%llu"
	    "&to=%llu", (unsigned long long)b, (unsigned long long)b);
	http(&r, "GET", path, NULL, NULL, NULL, 0, NULL);
	assert_ok(&r, 200);
	ck_assert_uint_eq(json_object_array_length(get(r.json,
	    "data.consistencyProof")), 0);
	reply_free(&r);
}
END_TEST

static Suite *
log_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("log");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, public_endpoints_need_no_key);
	tcase_add_test(tc, proof_requests_checked);
	tcase_add_test(tc, stream_reaches_verified);
	tcase_add_test(tc, consistency_between_heads);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return e2e_run(log_suite());
}
