/*
 * The Shared Record's views (SPEC 8, docs/shared.md): the shapes of the
 * customer's endpoints, the vendor's view of a share, and the CSV
 * export's rows.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "../common/sbuf.h"
#include "../common/timefmt.h"
#include "shared.h"
#include "view.h"

/* A time, or null for 0 (none). */
static void
view_shared_time(struct json_object *o, const char *key, int64_t ms)
{
	if (ms != 0)
		view_put(o, key, view_time(ms));
	else
		view_put_null(o, key);
}

struct json_object *
view_share(const struct share *sh, const char *url, const char *code)
{
	struct json_object	*o;

	if ((o = view_object()) == NULL)
		return NULL;
	view_put(o, "handle", view_string(sh->handle));
	view_put(o, "url", view_string(url));
	view_put(o, "customerId", view_string(sh->customer_id));
	view_put(o, "policy", view_string(share_policy_name(sh->policy)));
	view_put(o, "createdAt", view_time(sh->created_ms));
	view_put(o, "codeRotatedAt", view_time(sh->code_rotated_ms));
	if (code != NULL)
		view_put(o, "accessCode", view_string(code));
	return o;
}

struct json_object *
view_shared_summary(const struct share *sh, int full,
    const struct shared_month *m, int64_t as_of_ms)
{
	struct json_object	*o;
	char			 period[TIMEFMT_PERIOD_LEN];

	if ((o = view_object()) == NULL)
		return NULL;
	timefmt_period(m->month, period);
	view_put(o, "customerId", view_string(sh->customer_id));
	view_put(o, "policy", view_string(share_policy_name(sh->policy)));
	view_put(o, "access", view_string(full ? "full" : "summary"));
	view_put(o, "period", view_string(period));
	view_put_exact(o, "periodTotal", m->total);
	view_put(o, "recordCount", view_u64(m->count));
	view_put(o, "verifiedCount", view_u64(m->verified));
	view_shared_time(o, "verifiedThrough", m->verified_through_ms);
	view_shared_time(o, "lastRecordedAt", m->last_ms);
	view_put(o, "asOf", view_time(as_of_ms));
	return o;
}

struct json_object *
view_shared_period(const struct shared_period *p)
{
	struct json_object	*o;
	char			 period[TIMEFMT_PERIOD_LEN];

	if ((o = view_object()) == NULL)
		return NULL;
	timefmt_period(p->month, period);
	view_put(o, "period", view_string(period));
	view_put(o, "state", view_string(p->locked ? "locked" : "open"));
	view_put(o, "recordCount", view_u64(p->count));
	view_put_exact(o, "net", p->net);
	if (p->has_checkpoint)
		view_put(o, "checkpoint", view_checkpoint(&p->cp));
	else
		view_put_null(o, "checkpoint");
	return o;
}

struct json_object *
view_shared_delta(const struct store_delta *d, int verified,
    const uint8_t (*proof)[STORE_HASH_LEN], size_t len)
{
	struct json_object	*o;

	if ((o = view_object()) == NULL)
		return NULL;
	view_put(o, "recordId", view_string(d->record_id));
	view_put(o, "state", view_string(verified ? "verified" : "recorded"));
	view_put(o, "logIndex", view_u64(d->log_index));
	view_put(o, "leafHash", view_hash(d->leaf_hash));
	view_put(o, "contentHash", view_hash(d->content_hash));
	view_put(o, "leaf", view_stored(d->leaf_data));
	if (verified)
		view_put(o, "inclusionProof", view_hashes(proof, len));
	else
		view_put_null(o, "inclusionProof");
	return o;
}

struct json_object *
view_shared_compare(const struct shared_comparison *cmp)
{
	struct json_object	*o;
	char			 period[TIMEFMT_PERIOD_LEN];
	char			 text[DECIMAL_MAX];

	if ((o = view_object()) == NULL)
		return NULL;
	timefmt_period(cmp->record.month, period);
	view_put(o, "period", view_string(period));
	/* Exact strings: a figure put through a float could not match. */
	decimal_format(cmp->yours, text);
	view_put(o, "yourTotal", view_string(text));
	decimal_format(cmp->record.total, text);
	view_put(o, "recordedTotal", view_string(text));
	decimal_format(cmp->difference, text);
	view_put(o, "difference", view_string(text));
	view_put(o, "recordCount", view_u64(cmp->record.count));
	view_put(o, "verifiedCount", view_u64(cmp->record.verified));
	view_put(o, "matches", view_bool(cmp->matches));
	return o;
}

/* Whether s is a number as a spreadsheet reads one: -12.5, +3, 1e3. */
static int
view_shared_csv_number(const char *s)
{
	size_t	digits = 0;

	if (*s == '-' || *s == '+')
		s++;
	for (; *s >= '0' && *s <= '9'; s++)
		digits++;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			digits++;
	if (digits > 0 && (*s == 'e' || *s == 'E')) {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return digits > 0 && *s == '\0';
}

/*
 * One field (RFC 4180): quoted when it holds a comma, a quote or a line
 * break.  A field a spreadsheet would run as a formula (=, +, -, @, and
 * tab and carriage return, which some read past) gets a leading quote
 * mark, unless it is a plain number such as a negative amount.
 */
static void
view_shared_csv_field(struct sbuf *sb, const char *s, int last)
{
	const char	*p;
	int		 quoted = strpbrk(s, ",\"\r\n") != NULL;

	if (quoted)
		sbuf_addc(sb, '"');
	if (*s != '\0' && strchr("=+-@\t\r", *s) != NULL &&
	    !view_shared_csv_number(s))
		sbuf_addc(sb, '\'');
	for (p = s; *p != '\0'; p++) {
		if (*p == '"')
			sbuf_addc(sb, '"');
		sbuf_addc(sb, *p);
	}
	if (quoted)
		sbuf_addc(sb, '"');
	sbuf_adds(sb, last ? "\r\n" : ",");
}

void
view_shared_csv_head(struct sbuf *sb)
{
	sbuf_adds(sb, "sequenceNumber,createdAt,delta,reason,referenceId,"
	    "recordId,state\r\n");
}

void
view_shared_csv_row(struct sbuf *sb, const struct store_delta *d,
    int verified)
{
	char	seq[24], when[TIMEFMT_LEN];

	snprintf(seq, sizeof(seq), "%llu", (unsigned long long)d->seq);
	timefmt_rfc3339(d->created_ms, when);
	view_shared_csv_field(sb, seq, 0);
	view_shared_csv_field(sb, when, 0);
	view_shared_csv_field(sb, d->delta, 0);
	view_shared_csv_field(sb, d->reason, 0);
	view_shared_csv_field(sb, d->has_reference ? d->reference_id : "", 0);
	view_shared_csv_field(sb, d->record_id, 0);
	view_shared_csv_field(sb, verified ? "verified" : "recorded", 1);
}
