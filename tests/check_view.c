/*
 * core/view: a delta written as text (view_delta_write,
 * view_record_write, a page by view_records_*) is byte for byte what the
 * json-c views wrote before the writer was their one definition.  The
 * builders below are those views as they were, kept as the reference.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../common/hex.h"
#include "../common/jcs.h"
#include "../common/jsonin.h"
#include "../common/sbuf.h"
#include "../core/balance.h"
#include "../core/tlog.h"
#include "../core/view.h"
#include "check.h"

/* UTF-8 spelled out, so no source encoding is involved. */
#define E_ACUTE	"\xc3\xa9"		/* U+00E9, 2 bytes */
#define GRIN	"\xf0\x9f\x98\x80"	/* U+1F600, 4 bytes */

/* The reference: view_delta as json-c built it member by member. */
static struct json_object *
old_delta(const struct store_delta *d)
{
	struct json_object	*o;

	if ((o = view_object()) == NULL)
		return NULL;
	view_put(o, "recordId", view_string(d->record_id));
	view_put(o, "receiptId", view_string(d->receipt_id));
	view_put(o, "status", view_string(view_delta_status(d->status)));
	view_put(o, "customerId", view_string(d->customer_id));
	view_put(o, "delta", view_amount(d->delta));
	view_put(o, "reason", view_string(d->reason));
	if (d->has_reference)
		view_put(o, "referenceId", view_string(d->reference_id));
	else
		view_put_null(o, "referenceId");
	view_put(o, "sequenceNumber", view_i64((int64_t)d->seq));
	view_put(o, "logIndex", view_i64((int64_t)d->log_index));
	view_put(o, "contentHash", view_hash(d->content_hash));
	view_put(o, "leafHash", view_hash(d->leaf_hash));
	view_put(o, "createdAt", view_time(d->created_ms));
	return o;
}

static void
old_metadata(struct json_object *o, const struct store_delta *d)
{
	struct json_object	*m;
	char			 err[160];

	/* As the old view_put_parsed read it: through jsonin. */
	if (d->metadata == NULL)
		view_put_null(o, "metadata");
	else {
		ck_assert_int_eq(jsonin_parse(d->metadata,
		    strlen(d->metadata), &m, err, sizeof(err)), 0);
		view_put(o, "metadata", m);
	}
}

/* The reference view_record. */
static struct json_object *
old_record(const struct store_delta *d)
{
	struct json_object	*o, *adjusts;

	if ((o = old_delta(d)) == NULL)
		return NULL;
	old_metadata(o, d);
	if (d->adjusts[0] != '\0') {
		if ((adjusts = view_object()) != NULL)
			view_put(adjusts, "recordId", view_string(d->adjusts));
		view_put(o, "adjusts", adjusts);
	} else
		view_put_null(o, "adjusts");
	if (d->verified_ms != 0)
		view_put(o, "verifiedAt", view_time(d->verified_ms));
	else
		view_put_null(o, "verifiedAt");
	return o;
}

/* The reference view_delta_export. */
static struct json_object *
old_export(const struct store_delta *d)
{
	struct json_object	*o;
	char			 salt[2 * STORE_HASH_LEN + 1];

	if ((o = old_delta(d)) == NULL)
		return NULL;
	old_metadata(o, d);
	view_put_optional(o, "adjusts", d->adjusts[0] != '\0' ?
	    d->adjusts : NULL);
	hex_encode(d->salt, STORE_HASH_LEN, salt);
	view_put(o, "salt", view_string(salt));
	view_put(o, "leafData", view_check(json_object_new_string_len(
	    d->leaf_data, (int)d->leaf_len)));
	return o;
}

/* The reference view_record_proved. */
static struct json_object *
old_proved(const struct store_delta *d, const struct store_sth *head,
    const uint8_t (*proof)[STORE_HASH_LEN], size_t len)
{
	struct json_object	*o, *p;

	if ((o = old_record(d)) == NULL)
		return NULL;
	if (d->status != STORE_DELTA_VERIFIED) {
		view_put_null(o, "proof");
		return o;
	}
	if ((p = view_delta_proof(d, head)) != NULL) {
		view_put(p, "inclusionProof", view_hashes(proof, len));
		view_put(p, "checkpoint", view_string(head->note));
	}
	view_put(o, "proof", p);
	return o;
}

/* Metadata as Tally stores it: the client's object, canonical (JCS). */
static char *
canonical(const char *json)
{
	struct json_object	*v;
	struct sbuf		 sb = { 0 };
	char			 err[160];

	ck_assert_int_eq(jsonin_parse(json, strlen(json), &v, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(jcs_serialize(v, &sb), 0);
	json_object_put(v);
	return sbuf_take(&sb, NULL);
}

/* Every shape a delta's fields take, one case each. */
static const struct {
	const char	*reason;
	const char	*delta;
	const char	*reference;	/* NULL: none */
	const char	*metadata;	/* as sent; NULL: none */
	const char	*adjusts;
	int		 verified;
	uint64_t	 seq;
} view_cases[] = {
	{ "usage", "1", NULL, NULL, "", 0, 1 },
	{ "usage", "-12.5", "ref-1", NULL, "", 1, 2 },
	{ "plain", "0.000000001", "ref \"q\" \\ /", "{}", "rec_abc", 1, 3 },
	{ "n" E_ACUTE "e " GRIN " \x01\x1f\t\n\r\b\f\"\\/\x7f", "1000000000",
	    "r" GRIN, "{\"z\":1,\"a\":\"x\\u0001\\\"\\\\/" E_ACUTE "\","
	    "\"n\":{\"f\":1.5,\"e\":1e21,\"neg\":-0.000001,\"big\":"
	    "9007199254740991,\"arr\":[true,false,null,-0,\"\\u2028\","
	    "{\"\\n\":[]}]}}", "rec_adj", 0, UINT64_C(1) << 40 },
	{ "", "-1000000000", "", "{\"k\":\"\"}", "", 1, 9 },
};

static void
view_case(struct store_delta *d, int i)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->record_id, sizeof(d->record_id), "rec_%d", i);
	snprintf(d->receipt_id, sizeof(d->receipt_id), "rcpt_%d", i);
	snprintf(d->customer_id, sizeof(d->customer_id), "cus.%d:x-y_", i);
	snprintf(d->delta, sizeof(d->delta), "%s", view_cases[i].delta);
	snprintf(d->reason, sizeof(d->reason), "%s", view_cases[i].reason);
	if ((d->has_reference = view_cases[i].reference != NULL))
		snprintf(d->reference_id, sizeof(d->reference_id), "%s",
		    view_cases[i].reference);
	if (view_cases[i].metadata != NULL)
		d->metadata = canonical(view_cases[i].metadata);
	snprintf(d->adjusts, sizeof(d->adjusts), "%s", view_cases[i].adjusts);
	d->seq = view_cases[i].seq;
	d->log_index = view_cases[i].seq * 7 + 3;
	d->created_ms = INT64_C(1764892800123) + i;
	d->status = view_cases[i].verified ? STORE_DELTA_VERIFIED :
	    (i % 2 ? STORE_DELTA_FAILED : STORE_DELTA_QUEUED);
	d->verified_ms = view_cases[i].verified ? d->created_ms + 999 : 0;
	memset(d->salt, 0xa0 + i, sizeof(d->salt));
	memset(d->content_hash, 0x10 + i, sizeof(d->content_hash));
	memset(d->leaf_hash, 0xf0 - i, sizeof(d->leaf_hash));
	d->leaf_data = strdup("{\"leaf\":\"" E_ACUTE "\\n\"}");
	d->leaf_len = strlen(d->leaf_data);
}

/* view_text of obj (consumed), checked to be there. */
static char *
text_of(struct json_object *obj)
{
	char	*t;
	size_t	 len;

	ck_assert_ptr_nonnull(t = view_text(obj, &len));
	ck_assert_uint_eq(strlen(t), len);
	return t;
}

/* The writer's bytes (write) and the value's (now) are the reference's. */
static void
view_check_same(struct json_object *old, struct json_object *now,
    void (*write)(const struct store_delta *, struct sbuf *),
    const struct store_delta *d)
{
	struct sbuf	 sb = { 0 };
	char		*want, *got;

	want = text_of(old);
	if (now != NULL) {
		got = text_of(now);
		ck_assert_str_eq(got, want);
		free(got);
	}
	if (write != NULL) {
		write(d, &sb);
		ck_assert_int_eq(sb.oom, 0);
		ck_assert_uint_eq(sb.len, strlen(want));
		ck_assert_str_eq(sb.buf, want);
		sbuf_free(&sb);
	}
	free(want);
}

START_TEST(view_delta_bytes)
{
	struct store_delta	d;
	struct store_sth	head;
	uint8_t			proof[3][STORE_HASH_LEN];

	memset(&head, 0, sizeof(head));
	head.size = 77;
	memset(head.root, 0x5c, sizeof(head.root));
	snprintf(head.note, sizeof(head.note), "tally.example/log\n77\n"
	    "XFxc\n\n\u2014 tally.example/log AbCd\n");
	memset(proof, 0x3e, sizeof(proof));

	view_case(&d, _i);
	view_check_same(old_delta(&d), view_delta(&d), view_delta_write, &d);
	view_check_same(old_record(&d), NULL, view_record_write, &d);
	view_check_same(old_export(&d), view_delta_export(&d), NULL, &d);
	view_check_same(old_proved(&d, &head, proof, 3),
	    view_record_proved(&d, &head, proof, 3), NULL, &d);
	store_delta_free(&d);
}
END_TEST

/* A derive answer around a page written as text, and around an empty one. */
START_TEST(view_records_page)
{
	struct store_delta	d[5];
	struct balance_scope	scope = { .kind = BALANCE_PERIOD,
				    .month = 2026 * 12 + 11,
				    .start_ms = 1764547200000,
				    .end_ms = 1767225600000 };
	struct balance		b = { .tree_size = 40, .count = 5,
				    .pending = 2, .net = -1234567 };
	struct json_object	*old;
	struct sbuf		 sb = { 0 };
	char			*want, *got;
	size_t			 n = sizeof(d) / sizeof(d[0]), i, shown;

	for (i = 0; i < n; i++)
		view_case(&d[i], (int)i);
	snprintf(b.latest_receipt, sizeof(b.latest_receipt), "rcpt_4");
	for (shown = 0; shown <= n; shown += n) {
		ck_assert_ptr_nonnull(old = view_array());
		for (i = 0; i < shown; i++)
			view_push(old, old_record(&d[i]));
		want = text_of(view_derive("cus_1", &scope, &b, 5, old,
		    100, 0));
		/* A reading that starts over begins the page again. */
		view_records_begin(&sb);
		view_records_add(&sb, &d[0]);
		view_records_begin(&sb);
		for (i = 0; i < shown; i++)
			view_records_add(&sb, &d[i]);
		got = text_of(view_derive("cus_1", &scope, &b, 5,
		    view_records_end(&sb), 100, 0));
		ck_assert_ptr_null(sb.buf);
		ck_assert_str_eq(got, want);
		free(got);
		free(want);
	}
	for (i = 0; i < n; i++)
		store_delta_free(&d[i]);
}
END_TEST

/* A page that ran out of memory is no answer at all. */
START_TEST(view_records_oom)
{
	struct sbuf	 sb = { 0 };
	char		*text;
	size_t		 len;

	view_records_begin(&sb);
	sb.oom = 1;
	ck_assert_ptr_null(view_records_end(&sb));
	/* Remembered by the next view_text, then forgotten. */
	ck_assert_ptr_null(view_text(view_object(), NULL));
	ck_assert_ptr_nonnull(text = view_text(view_object(), &len));
	ck_assert_str_eq(text, "{}");
	free(text);
}
END_TEST

/* The reference proofs: view_inclusion, view_consistency as json-c built them. */
static void
old_note(struct json_object *o, const struct store_sth *h)
{
	if (h->note[0] != '\0')
		view_put(o, "checkpoint", view_string(h->note));
	else
		view_put_null(o, "checkpoint");
}

static struct json_object *
old_inclusion(const struct tlog_inclusion *in)
{
	struct json_object	*o = view_object();

	view_put(o, "leafIndex", view_u64(in->index));
	view_put(o, "leafHash", view_hash(in->leaf));
	view_put(o, "treeSize", view_u64(in->size));
	view_put(o, "rootHash", view_hash(in->root));
	view_put(o, "inclusionProof", view_hashes(in->proof, in->len));
	old_note(o, &in->head);
	return o;
}

static struct json_object *
old_consistency(const struct tlog_consistency *cs)
{
	struct json_object	*o = view_object();

	view_put(o, "from", view_u64(cs->from));
	view_put(o, "to", view_u64(cs->to));
	view_put(o, "fromRootHash", view_hash(cs->from_root));
	view_put(o, "toRootHash", view_hash(cs->to_root));
	view_put(o, "consistencyProof", view_hashes(cs->proof, cs->len));
	old_note(o, &cs->head);
	return o;
}

/*
 * Proofs written as text: the reference's bytes, with a note that needs
 * escapes and without one, for proofs of none, one and many hashes, and
 * sizes past INT64_MAX.
 */
START_TEST(view_proof_bytes)
{
	static const size_t	lens[] = { 0, 1, MERKLE_PROOF_MAX };
	struct tlog_inclusion	*in;
	struct tlog_consistency	*cs;
	size_t			 i;

	ck_assert_ptr_nonnull(in = calloc(1, sizeof(*in)));
	ck_assert_ptr_nonnull(cs = calloc(1, sizeof(*cs)));
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		in->index = 41 + i;
		in->size = i == 2 ? UINT64_MAX : 1000;
		memset(in->leaf, 0xa5, sizeof(in->leaf));
		memset(in->root, 0x0f, sizeof(in->root));
		memset(in->proof, (int)(0x11 * (i + 1)), sizeof(in->proof));
		in->proof[0][0] = 0;
		in->len = lens[i];
		if (_i == 1)
			snprintf(in->head.note, sizeof(in->head.note),
			    "tally.example/log\n1000\n\"XFxc\"\\\n\n"
			    "\u2014 tally.example/log AbCd\t" E_ACUTE "\n");
		cs->from = 3 + i;
		cs->to = i == 2 ? (uint64_t)INT64_MAX + 1 : 1000;
		memcpy(cs->from_root, in->leaf, sizeof(cs->from_root));
		memcpy(cs->to_root, in->root, sizeof(cs->to_root));
		memcpy(cs->proof, in->proof, sizeof(cs->proof));
		cs->len = lens[i];
		cs->head = in->head;
		view_check_same(old_inclusion(in), view_inclusion(in), NULL,
		    NULL);
		view_check_same(old_consistency(cs), view_consistency(cs),
		    NULL, NULL);
	}
	free(in);
	free(cs);
}
END_TEST

Suite *
view_suite(void)
{
	Suite	*s = suite_create("view");
	TCase	*tc = tcase_create("view");

	tcase_add_loop_test(tc, view_delta_bytes, 0,
	    (int)(sizeof(view_cases) / sizeof(view_cases[0])));
	tcase_add_test(tc, view_records_page);
	tcase_add_test(tc, view_records_oom);
	tcase_add_loop_test(tc, view_proof_bytes, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
