/*
 * core/share and core/shared against a real store: links and codes made,
 * shown, rotated and revoked; what each policy lets a link and a code
 * read; the code's loose spelling; guesses limited per link on a clock
 * the test sets; a revoked link answering as an unknown one; and the
 * store never holding a code.  Then the record's facts for a share.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/decimal.h"
#include "../common/timefmt.h"
#include "../core/apikey.h"
#include "../core/ledger.h"
#include "../core/share.h"
#include "../core/shared.h"
#include "check.h"

#define T0	INT64_C(1790000000000)	/* a fixed clock, in ms */

static char			 dir[256];
static struct store		*st;
static struct ledger		*led;
static struct principal		 who;

static void
setup(void)
{
	unit_ledger_setup(dir, sizeof(dir), &st, &led, &who);
}

static void
teardown(void)
{
	unit_ledger_teardown(dir, st, led);
}

/* A share of acme's live customer with policy p; its code into code. */
static void
make(const char *customer, enum share_policy p, struct share *sh,
    char code[SHARE_CODE_LEN + 1])
{
	ck_assert_int_eq(share_create(st, "acme", STORE_ENV_LIVE, customer, p,
	    T0, sh, code), SHARE_OK);
}

static enum share_access
try_at(const char *handle, const char *code, enum share_need need,
    int64_t now, long long *wait)
{
	struct share_attempt	a;
	struct share		sh;
	long long		w;

	memset(&a, 0, sizeof(a));
	a.handle = handle;
	a.code = code;
	a.need = need;
	a.now_ms = now;
	a.client = "192.0.2.7";
	a.request_id = "test";
	return share_access(st, &a, &sh, wait != NULL ? wait : &w);
}

START_TEST(code_spelling)
{
	static const struct {
		const char	*in, *out;	/* out NULL: refused */
	} cases[] = {
		{ "K7Q2PX", "K7Q2PX" }, { "k7q2px", "K7Q2PX" },
		{ "k7q-2px", "K7Q2PX" }, { " K7Q 2PX ", "K7Q2PX" },
		{ "--k-7-q-2-p-x--", "K7Q2PX" }, { "K7Q2P", NULL },
		{ "K7Q2PXA", NULL }, { "K7Q2P0", NULL }, { "K7Q2PO", NULL },
		{ "K7Q2P1", NULL }, { "K7Q2PI", NULL }, { "K7Q2PL", NULL },
		{ "K7Q2P_", NULL }, { "", NULL }, { "K7Q\t2PX", NULL },
	};
	char	out[SHARE_CODE_LEN + 1];
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].out == NULL) {
			ck_assert_msg(share_code_normalize(cases[i].in,
			    out) < 0, "%s accepted", cases[i].in);
			continue;
		}
		ck_assert_msg(share_code_normalize(cases[i].in, out) == 0,
		    "%s refused", cases[i].in);
		ck_assert_str_eq(out, cases[i].out);
	}
}
END_TEST

START_TEST(links)
{
	char	out[200];

	ck_assert_int_eq(share_link("https://t.example.com", "sabc", out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "https://t.example.com/c/sabc");
	ck_assert_int_eq(share_link("https://t.example.com/tally//", "sabc",
	    out, sizeof(out)), 0);
	ck_assert_str_eq(out, "https://t.example.com/tally/c/sabc");
	ck_assert_int_eq(share_link(NULL, "sabc", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/c/sabc");
	ck_assert_int_eq(share_link("https://t.example.com", "sabc", out, 10),
	    -1);
	ck_assert_int_eq(share_link_host("https://t.example.com:8443/x?y",
	    out, sizeof(out)), 0);
	ck_assert_str_eq(out, "t.example.com:8443");
	ck_assert_int_eq(share_link_host("https://u:p@t.example.com/", out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "t.example.com");
	ck_assert_int_eq(share_link_host("", out, sizeof(out)), -1);
	ck_assert_int_eq(share_link_host(NULL, out, sizeof(out)), -1);
	ck_assert_ptr_null(share_access_hint(SHARE_OPEN));
	ck_assert_ptr_nonnull(share_access_hint(SHARE_TWO_TIER));
}
END_TEST

START_TEST(create_show_rotate_revoke)
{
	struct share	sh, again, shown;
	char		code[SHARE_CODE_LEN + 1], code2[SHARE_CODE_LEN + 1];
	char		norm[SHARE_CODE_LEN + 1];
	size_t		i;

	make("cust_1", SHARE_TWO_TIER, &sh, code);
	ck_assert_uint_eq(strlen(sh.handle), SHARE_HANDLE_LEN);
	ck_assert_int_eq(sh.handle[0], 's');
	for (i = 1; i < SHARE_HANDLE_LEN; i++)
		ck_assert_ptr_nonnull(strchr("abcdefghijklmnopqrstuvwxyz234567",
		    sh.handle[i]));
	ck_assert_int_eq(share_code_normalize(code, norm), 0);
	ck_assert_str_eq(norm, code);
	ck_assert_str_eq(sh.customer_id, "cust_1");
	ck_assert_int_eq(sh.policy, SHARE_TWO_TIER);
	ck_assert(sh.created_ms == T0 && sh.code_rotated_ms == T0);

	/* One link per customer: create again shows it, with no code. */
	ck_assert_int_eq(share_create(st, "acme", STORE_ENV_LIVE, "cust_1",
	    SHARE_OPEN, T0 + 5, &again, code2), SHARE_EXISTS);
	ck_assert_str_eq(again.handle, sh.handle);
	ck_assert_int_eq(again.policy, SHARE_TWO_TIER);
	ck_assert_str_eq(code2, "");
	/* The same customer in test is another customer. */
	ck_assert_int_eq(share_create(st, "acme", STORE_ENV_TEST, "cust_1",
	    SHARE_OPEN, T0, &again, code2), SHARE_OK);
	ck_assert_str_ne(again.handle, sh.handle);
	ck_assert_int_eq(share_create(st, "nobody", STORE_ENV_LIVE, "cust_1",
	    SHARE_OPEN, T0, &again, code2), SHARE_NO_TENANT);

	ck_assert_int_eq(share_show(st, "acme", STORE_ENV_LIVE, "cust_1",
	    &shown), SHARE_OK);
	ck_assert_str_eq(shown.handle, sh.handle);
	ck_assert_int_eq(share_show(st, "acme", STORE_ENV_LIVE, "cust_2",
	    &shown), SHARE_NOTFOUND);

	ck_assert_int_eq(share_rotate_code(st, "acme", STORE_ENV_LIVE,
	    "cust_1", T0 + 1000, &shown, code2), SHARE_OK);
	ck_assert_str_eq(shown.handle, sh.handle);
	ck_assert(shown.code_rotated_ms == T0 + 1000);
	ck_assert_uint_eq(strlen(code2), SHARE_CODE_LEN);
	/* The old code stops working (unless the draw repeated it). */
	if (strcmp(code, code2) != 0)
		ck_assert_int_eq(try_at(sh.handle, code, SHARE_NEED_FULL, T0,
		    NULL), SHARE_ACCESS_CODE_INVALID);
	ck_assert_int_eq(try_at(sh.handle, code2, SHARE_NEED_FULL, T0, NULL),
	    SHARE_ACCESS_FULL);

	ck_assert_int_eq(share_revoke(st, "acme", STORE_ENV_LIVE, "cust_1",
	    T0 + 2000, &shown), SHARE_OK);
	ck_assert_int_eq(share_show(st, "acme", STORE_ENV_LIVE, "cust_1",
	    &shown), SHARE_NOTFOUND);
	ck_assert_int_eq(share_revoke(st, "acme", STORE_ENV_LIVE, "cust_1",
	    T0, &shown), SHARE_NOTFOUND);
	ck_assert_int_eq(share_rotate_code(st, "acme", STORE_ENV_LIVE,
	    "cust_1", T0, &shown, code), SHARE_NOTFOUND);
	/* A revoked customer may have a new link, never the old one. */
	make("cust_1", SHARE_GATED, &again, code);
	ck_assert_str_ne(again.handle, sh.handle);
}
END_TEST

START_TEST(policies)
{
	static const struct {
		enum share_policy	p;
		int			code;	/* 0 none, 1 right, 2 wrong */
		enum share_need		need;
		enum share_access	want;
	} cases[] = {
		{ SHARE_TWO_TIER, 0, SHARE_NEED_SUMMARY, SHARE_ACCESS_SUMMARY },
		{ SHARE_TWO_TIER, 0, SHARE_NEED_FULL,
		    SHARE_ACCESS_CODE_REQUIRED },
		{ SHARE_TWO_TIER, 1, SHARE_NEED_SUMMARY, SHARE_ACCESS_FULL },
		{ SHARE_TWO_TIER, 1, SHARE_NEED_FULL, SHARE_ACCESS_FULL },
		{ SHARE_TWO_TIER, 2, SHARE_NEED_SUMMARY,
		    SHARE_ACCESS_CODE_INVALID },
		{ SHARE_TWO_TIER, 2, SHARE_NEED_FULL,
		    SHARE_ACCESS_CODE_INVALID },
		{ SHARE_GATED, 0, SHARE_NEED_SUMMARY,
		    SHARE_ACCESS_CODE_REQUIRED },
		{ SHARE_GATED, 0, SHARE_NEED_FULL, SHARE_ACCESS_CODE_REQUIRED },
		{ SHARE_GATED, 1, SHARE_NEED_SUMMARY, SHARE_ACCESS_FULL },
		{ SHARE_GATED, 1, SHARE_NEED_FULL, SHARE_ACCESS_FULL },
		{ SHARE_GATED, 2, SHARE_NEED_FULL, SHARE_ACCESS_CODE_INVALID },
		{ SHARE_OPEN, 0, SHARE_NEED_SUMMARY, SHARE_ACCESS_FULL },
		{ SHARE_OPEN, 0, SHARE_NEED_FULL, SHARE_ACCESS_FULL },
		{ SHARE_OPEN, 1, SHARE_NEED_FULL, SHARE_ACCESS_FULL },
		{ SHARE_OPEN, 2, SHARE_NEED_FULL, SHARE_ACCESS_FULL },
	};
	struct share	sh;
	char		code[SHARE_CODE_LEN + 1], customer[32];
	const char	*given;
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(customer, sizeof(customer), "policy_%zu", i);
		make(customer, cases[i].p, &sh, code);
		given = cases[i].code == 0 ? NULL : cases[i].code == 1 ?
		    code : strcmp(code, "AAAAAA") != 0 ? "AAAAAA" : "BBBBBB";
		ck_assert_msg(try_at(sh.handle, given, cases[i].need, T0,
		    NULL) == cases[i].want, "case %zu", i);
	}
}
END_TEST

START_TEST(loose_code)
{
	struct share	sh;
	char		code[SHARE_CODE_LEN + 1], typed[16];
	size_t		i;

	make("loose", SHARE_GATED, &sh, code);
	for (i = 0; i < SHARE_CODE_LEN; i++)
		typed[i] = (char)(code[i] >= 'A' && code[i] <= 'Z' ?
		    code[i] - 'A' + 'a' : code[i]);
	typed[SHARE_CODE_LEN] = '\0';
	ck_assert_int_eq(try_at(sh.handle, typed, SHARE_NEED_FULL, T0, NULL),
	    SHARE_ACCESS_FULL);
	snprintf(typed, sizeof(typed), "%.3s - %s", code, code + 3);
	ck_assert_int_eq(try_at(sh.handle, typed, SHARE_NEED_FULL, T0, NULL),
	    SHARE_ACCESS_FULL);
	/* Not a code at all: as wrong as any wrong one. */
	ck_assert_int_eq(try_at(sh.handle, "0O1IL!", SHARE_NEED_FULL, T0,
	    NULL), SHARE_ACCESS_CODE_INVALID);
}
END_TEST

START_TEST(guesses_limited)
{
	struct share	sh, other;
	char		code[SHARE_CODE_LEN + 1], code2[SHARE_CODE_LEN + 1];
	const char	*wrong;
	long long	wait;
	int		i;

	make("guessed", SHARE_TWO_TIER, &sh, code);
	make("bystander", SHARE_TWO_TIER, &other, code2);
	wrong = strcmp(code, "AAAAAA") != 0 ? "AAAAAA" : "BBBBBB";
	for (i = 0; i < SHARE_WRONG_MAX; i++)
		ck_assert_int_eq(try_at(sh.handle, wrong, SHARE_NEED_FULL,
		    T0 + i, NULL), SHARE_ACCESS_CODE_INVALID);
	/* Then nothing is checked for a minute, the right code neither. */
	ck_assert_int_eq(try_at(sh.handle, wrong, SHARE_NEED_FULL, T0 + 1000,
	    &wait), SHARE_ACCESS_LIMITED);
	ck_assert_int_eq(wait, 60);
	ck_assert_int_eq(try_at(sh.handle, code, SHARE_NEED_FULL, T0 + 30000,
	    &wait), SHARE_ACCESS_LIMITED);
	ck_assert_int_eq(wait, 31);
	/* The link alone still shows what it shows. */
	ck_assert_int_eq(try_at(sh.handle, NULL, SHARE_NEED_SUMMARY,
	    T0 + 30000, NULL), SHARE_ACCESS_SUMMARY);
	/* Per link: another customer's link is untouched. */
	ck_assert_int_eq(try_at(other.handle, code2, SHARE_NEED_FULL,
	    T0 + 30000, NULL), SHARE_ACCESS_FULL);
	/* A minute on: one try; wrong, and the next minute starts. */
	ck_assert_int_eq(try_at(sh.handle, wrong, SHARE_NEED_FULL,
	    T0 + 4 + 60000, NULL), SHARE_ACCESS_CODE_INVALID);
	ck_assert_int_eq(try_at(sh.handle, code, SHARE_NEED_FULL,
	    T0 + 4 + 60001, &wait), SHARE_ACCESS_LIMITED);
	/* Right, a minute later: the count starts over. */
	ck_assert_int_eq(try_at(sh.handle, code, SHARE_NEED_FULL,
	    T0 + 4 + 120000, NULL), SHARE_ACCESS_FULL);
	for (i = 0; i < SHARE_WRONG_MAX - 1; i++)
		ck_assert_int_eq(try_at(sh.handle, wrong, SHARE_NEED_FULL,
		    T0 + 130000, NULL), SHARE_ACCESS_CODE_INVALID);
	ck_assert_int_eq(try_at(sh.handle, code, SHARE_NEED_FULL, T0 + 130000,
	    NULL), SHARE_ACCESS_FULL);
	/* Survives a restart: the count lives in the store. */
	for (i = 0; i < SHARE_WRONG_MAX; i++)
		try_at(sh.handle, wrong, SHARE_NEED_FULL, T0 + 140000, NULL);
	store_close(st);
	ck_assert_int_eq(store_open(&st, dir, 8, 0), STORE_OK);
	ck_assert_int_eq(try_at(sh.handle, code, SHARE_NEED_FULL, T0 + 140001,
	    NULL), SHARE_ACCESS_LIMITED);
}
END_TEST

START_TEST(revoked_is_unknown)
{
	struct share	sh;
	char		code[SHARE_CODE_LEN + 1];

	make("revoked", SHARE_OPEN, &sh, code);
	ck_assert_int_eq(try_at(sh.handle, NULL, SHARE_NEED_FULL, T0, NULL),
	    SHARE_ACCESS_FULL);
	ck_assert_int_eq(share_revoke(st, "acme", STORE_ENV_LIVE, "revoked",
	    T0, &sh), SHARE_OK);
	ck_assert_int_eq(try_at(sh.handle, NULL, SHARE_NEED_SUMMARY, T0,
	    NULL), SHARE_ACCESS_NOT_FOUND);
	ck_assert_int_eq(try_at(sh.handle, code, SHARE_NEED_FULL, T0, NULL),
	    SHARE_ACCESS_NOT_FOUND);
	ck_assert_int_eq(try_at("saaaaaaaaaaaaaaaaaaaaaaaaaa", code,
	    SHARE_NEED_FULL, T0, NULL), SHARE_ACCESS_NOT_FOUND);
	ck_assert_int_eq(try_at("s1aaaaaaaaaaaaaaaaaaaaaaaaa", NULL,
	    SHARE_NEED_SUMMARY, T0, NULL), SHARE_ACCESS_NOT_FOUND);
	ck_assert_int_eq(try_at("", NULL, SHARE_NEED_SUMMARY, T0, NULL),
	    SHARE_ACCESS_NOT_FOUND);
	ck_assert_int_eq(try_at("../../etc/passwd", NULL, SHARE_NEED_SUMMARY,
	    T0, NULL), SHARE_ACCESS_NOT_FOUND);
}
END_TEST

/* Whether any file under path holds the bytes of s. */
static int
file_holds(const char *path, const char *s)
{
	char		 name[512], *buf = NULL;
	DIR		*d;
	struct dirent	*e;
	FILE		*f;
	size_t		 n, len = strlen(s), i;
	int		 found = 0;

	ck_assert_ptr_nonnull(d = opendir(path));
	while (!found && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(name, sizeof(name), "%s/%s", path, e->d_name);
		if ((f = fopen(name, "rb")) == NULL)
			continue;
		buf = realloc(NULL, 1 << 24);
		ck_assert_ptr_nonnull(buf);
		n = fread(buf, 1, 1 << 24, f);
		for (i = 0; i + len <= n && !found; i++)
			found = memcmp(buf + i, s, len) == 0;
		free(buf);
		fclose(f);
	}
	closedir(d);
	return found;
}

START_TEST(code_never_stored)
{
	struct share	sh;
	char		code[SHARE_CODE_LEN + 1], code2[SHARE_CODE_LEN + 1];

	make("secret", SHARE_TWO_TIER, &sh, code);
	ck_assert_int_eq(share_rotate_code(st, "acme", STORE_ENV_LIVE,
	    "secret", T0, &sh, code2), SHARE_OK);
	ck_assert_int_eq(store_sync(st), STORE_OK);
	/* Neither in a database nor in the log. */
	ck_assert_msg(!file_holds(dir, code), "code %s stored", code);
	ck_assert_msg(!file_holds(dir, code2), "code %s stored", code2);
}
END_TEST

START_TEST(invoice_link)
{
	struct share_invoice	inv;
	struct share		sh;
	char			code[SHARE_CODE_LEN + 1], want[200];

	ck_assert_int_eq(share_invoice(st, "acme", STORE_ENV_LIVE, "inv",
	    "https://t.example.com", &inv), SHARE_OK);
	ck_assert(!inv.has_share);
	make("inv", SHARE_GATED, &sh, code);
	ck_assert_int_eq(share_invoice(st, "acme", STORE_ENV_LIVE, "inv",
	    "https://t.example.com", &inv), SHARE_OK);
	snprintf(want, sizeof(want), "https://t.example.com/c/%s", sh.handle);
	ck_assert(inv.has_share);
	ck_assert_str_eq(inv.url, want);
	ck_assert_str_eq(inv.host, "t.example.com");
	ck_assert_str_eq(inv.hint, "access code printed on your invoice");
	make("inv_open", SHARE_OPEN, &sh, code);
	ck_assert_int_eq(share_invoice(st, "acme", STORE_ENV_LIVE, "inv_open",
	    "", &inv), SHARE_OK);
	ck_assert(inv.has_share && inv.hint == NULL && inv.host[0] == '\0');
	ck_assert_uint_eq(strlen(inv.url), 3 + SHARE_HANDLE_LEN);
}
END_TEST

/* The record's facts, read as the endpoints read them. */
struct facts {
	const struct share	*sh;
	int			 month;
	struct shared_month	 m;
	struct shared_periods	 ps;
	uint64_t		 seen;
};

static int
facts_txn(struct store_txn *t, void *arg)
{
	struct facts	*f = arg;
	int		 rc;

	if ((rc = shared_month(t, f->sh, f->month, &f->m)) != STORE_OK)
		return rc;
	return shared_periods(t, f->sh, f->month, &f->ps);
}

static int
facts_delta(void *arg, const struct store_delta *d, int verified,
    const merkle_hash *proof, size_t len)
{
	struct facts	*f = arg;

	(void)proof;
	ck_assert(!verified && len == 0);	/* no head signed here */
	ck_assert_str_eq(d->delta, "-0.1");
	f->seen++;
	return STORE_OK;
}

static int
facts_page_txn(struct store_txn *t, void *arg)
{
	struct facts		*f = arg;
	struct shared_page	 pg;

	memset(&pg, 0, sizeof(pg));
	pg.month = f->month;
	pg.offset = 1;
	pg.limit = 10;
	f->seen = 0;
	return shared_deltas(t, f->sh, &pg, 1, facts_delta, f);
}

START_TEST(record_facts)
{
	struct facts	f;
	struct share	sh;
	char		code[SHARE_CODE_LEN + 1], total[DECIMAL_MAX];

	memset(&f, 0, sizeof(f));
	make("customer_acme", SHARE_TWO_TIER, &sh, code);
	f.sh = &sh;
	f.month = timefmt_month(timefmt_now_ms());
	/* No delta yet: an empty record, the current month alone. */
	ck_assert_int_eq(store_read(st, facts_txn, &f), STORE_OK);
	ck_assert(f.m.count == 0 && f.m.total == 0 &&
	    f.m.verified_through_ms == 0 && f.m.last_ms == 0);
	ck_assert(f.ps.n == 1 && f.ps.list[0].month == f.month);
	ck_assert_int_eq(unit_emit(led, &who, "{\"customerId\":"
	    "\"customer_acme\",\"delta\":987654321.123456789,\"reason\":"
	    "\"a\"}"), STORE_OK);
	ck_assert_int_eq(unit_emit(led, &who, "{\"customerId\":"
	    "\"customer_acme\",\"delta\":-0.1,\"reason\":\"b\"}"),
	    STORE_OK);
	ck_assert_int_eq(store_read(st, facts_txn, &f), STORE_OK);
	/* Recorded, not yet verified: counted and summed exactly. */
	decimal_format(f.m.total, total);
	ck_assert_str_eq(total, "987654321.023456789");
	ck_assert(f.m.count == 2 && f.m.verified == 0);
	ck_assert(f.m.verified_through_ms == 0 && f.m.last_ms != 0);
	ck_assert(f.ps.n == 1 && f.ps.list[0].count == 2 &&
	    f.ps.list[0].net == f.m.total && !f.ps.list[0].locked);
	/* A page from offset 1: the second delta alone. */
	ck_assert_int_eq(store_read(st, facts_page_txn, &f), STORE_OK);
	ck_assert_uint_eq(f.seen, 1);
	shared_periods_free(&f.ps);
}
END_TEST

Suite *
share_suite(void)
{
	Suite	*s = suite_create("share");
	TCase	*tc = tcase_create("pure"), *tx = tcase_create("store");

	tcase_add_test(tc, code_spelling);
	tcase_add_test(tc, links);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tx, setup, teardown);
	tcase_add_test(tx, create_show_rotate_revoke);
	tcase_add_test(tx, policies);
	tcase_add_test(tx, loose_code);
	tcase_add_test(tx, guesses_limited);
	tcase_add_test(tx, revoked_is_unknown);
	tcase_add_test(tx, code_never_stored);
	tcase_add_test(tx, invoice_link);
	tcase_add_test(tx, record_facts);
	suite_add_tcase(s, tx);
	return s;
}
