#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../common/hex.h"
#include "../common/jcs.h"
#include "../common/sbuf.h"
#include "../common/timefmt.h"
#include "../crypto/base64.h"
#include "view.h"

/* Set by a failed allocation or add; cleared by view_text, view_reset. */
static __thread int view_oom;

void
view_reset(void)
{
	view_oom = 0;
}

struct json_object *
view_check(struct json_object *v)
{
	if (v == NULL)
		view_oom = 1;
	return v;
}

int
view_put(struct json_object *o, const char *key, struct json_object *v)
{
	if (o == NULL || v == NULL) {
		json_object_put(v);
		view_oom = 1;
		return -1;
	}
	if (json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		view_oom = 1;
		return -1;
	}
	return 0;
}

int
view_put_null(struct json_object *o, const char *key)
{
	if (o == NULL || json_object_object_add(o, key, NULL) != 0) {
		view_oom = 1;
		return -1;
	}
	return 0;
}

int
view_push(struct json_object *a, struct json_object *v)
{
	if (a == NULL || v == NULL || json_object_array_add(a, v) != 0) {
		json_object_put(v);
		view_oom = 1;
		return -1;
	}
	return 0;
}

int
view_put_optional(struct json_object *o, const char *key, const char *s)
{
	if (s == NULL || s[0] == '\0')
		return view_put_null(o, key);
	return view_put(o, key, view_string(s));
}

struct json_object *
view_object(void)
{
	return view_check(json_object_new_object());
}

struct json_object *
view_array(void)
{
	return view_check(json_object_new_array());
}

/*
 * An integer as json-c writes it: int64, or uint64 beyond (json-c keeps
 * either, and answers INT64_MAX for the int64 of a larger uint64).
 */
static void
view_write_int(struct json_object *v, struct sbuf *out)
{
	int64_t	iv = json_object_get_int64(v);

	if (iv == INT64_MAX)
		sbuf_addf(out, "%" PRIu64, json_object_get_uint64(v));
	else
		sbuf_addf(out, "%" PRId64, iv);
}

/*
 * Writes v as compact JSON, as json-c writes it with PLAIN and
 * NOSLASHESCAPE (the escapes are JCS's, which are those), but with every
 * failed allocation noted in out->oom: json-c's own writer skips a piece
 * it has no memory for and carries on, which would send a body with a
 * member missing.
 */
static void
view_write(struct json_object *v, struct sbuf *out)
{
	const char	*text;
	size_t		 i, n, len;
	int		 first = 1;

	switch (json_object_get_type(v)) {
	case json_type_null:
		sbuf_adds(out, "null");
		break;
	case json_type_object: {
		sbuf_addc(out, '{');
		json_object_object_foreach(v, key, member) {
			if (!first)
				sbuf_addc(out, ',');
			first = 0;
			jcs_string(key, strlen(key), out);
			sbuf_addc(out, ':');
			view_write(member, out);
		}
		sbuf_addc(out, '}');
		break;
	}
	case json_type_array:
		sbuf_addc(out, '[');
		n = json_object_array_length(v);
		for (i = 0; i < n; i++) {
			if (i > 0)
				sbuf_addc(out, ',');
			view_write(json_object_array_get_idx(v, i), out);
		}
		sbuf_addc(out, ']');
		break;
	case json_type_string:
		jcs_string(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v), out);
		break;
	case json_type_boolean:
		sbuf_adds(out, json_object_get_boolean(v) ? "true" : "false");
		break;
	case json_type_int:
		view_write_int(v, out);
		break;
	default:
		/* An amount keeps its exact text (view_amount) as userdata. */
		if ((text = json_object_get_userdata(v)) != NULL) {
			sbuf_adds(out, text);
			break;
		}
		text = json_object_to_json_string_length(v,
		    JSON_C_TO_STRING_PLAIN, &len);
		if (text == NULL || len == 0)
			out->oom = 1;
		else
			sbuf_add(out, text, len);
	}
}

char *
view_text(struct json_object *obj, size_t *len)
{
	return view_text_within(obj, "", "", len);
}

char *
view_text_within(struct json_object *obj, const char *head,
    const char *tail, size_t *len)
{
	struct sbuf	out = { 0 };
	char		*text = NULL;

	if (obj != NULL && !view_oom) {
		sbuf_adds(&out, head);
		view_write(obj, &out);
		sbuf_adds(&out, tail);
		text = sbuf_take(&out, len);
	}
	sbuf_free(&out);
	json_object_put(obj);
	view_oom = 0;
	return text;
}

struct json_object *
view_pagination(uint64_t limit, uint64_t offset, uint64_t total)
{
	struct json_object	*o;

	if ((o = view_object()) == NULL)
		return NULL;
	view_put(o, "limit", view_u64(limit));
	view_put(o, "offset", view_u64(offset));
	view_put(o, "total", view_u64(total));
	return o;
}

struct json_object *
view_list(const char *name, struct json_object *list,
    struct json_object *pagination)
{
	struct json_object	*o;

	if ((o = view_object()) == NULL) {
		json_object_put(list);
		json_object_put(pagination);
		return NULL;
	}
	view_put(o, name, list);
	view_put(o, "pagination", pagination);
	return o;
}

struct json_object *
view_string(const char *s)
{
	return view_check(json_object_new_string(s));
}

struct json_object *
view_u64(uint64_t v)
{
	return view_check(json_object_new_uint64(v));
}

struct json_object *
view_i64(int64_t v)
{
	return view_check(json_object_new_int64(v));
}

struct json_object *
view_bool(int v)
{
	return view_check(json_object_new_boolean(v != 0));
}

struct json_object *
view_amount(const char *decimal_text)
{
	return view_check(json_object_new_double_s(0.0, decimal_text));
}

struct json_object *
view_raw(char *text)
{
	struct json_object	*v;

	if (text == NULL)
		return view_check(NULL);
	if ((v = json_object_new_double(0.0)) == NULL) {
		free(text);
		return view_check(NULL);
	}
	/* view_write writes the userdata as is, as an amount's text. */
	json_object_set_serializer(v, json_object_userdata_to_json_string,
	    text, json_object_free_userdata);
	return v;
}

struct json_object *
view_stored(const char *json_text)
{
	return view_raw(strdup(json_text));
}

struct json_object *
view_decimal(decimal_t v)
{
	char	text[DECIMAL_MAX];

	decimal_format(v, text);
	return view_amount(text);
}

int
view_put_exact(struct json_object *o, const char *name, decimal_t v)
{
	char	text[DECIMAL_MAX], exact[64];

	decimal_format(v, text);
	snprintf(exact, sizeof(exact), "%sExact", name);
	if (view_put(o, name, view_amount(text)) == -1)
		return -1;
	return view_put(o, exact, view_string(text));
}

struct json_object *
view_retry_after(long long seconds)
{
	struct json_object	*o;

	if ((o = view_object()) != NULL)
		view_put(o, "retryAfterSeconds", view_i64(seconds));
	return o;
}

struct json_object *
view_hash(const uint8_t hash[STORE_HASH_LEN])
{
	char	hex[HEX_0X_SIZE(STORE_HASH_LEN)];

	hex_encode_0x(hash, STORE_HASH_LEN, hex);
	return view_string(hex);
}

struct json_object *
view_hashes(const uint8_t (*hashes)[STORE_HASH_LEN], size_t n)
{
	struct json_object	*a = view_array();
	size_t			 i;

	for (i = 0; a != NULL && i < n; i++)
		view_push(a, view_hash(hashes[i]));
	return a;
}

struct json_object *
view_time(int64_t ms)
{
	char	when[TIMEFMT_LEN];

	timefmt_rfc3339(ms, when);
	return view_string(when);
}

struct json_object *
view_base64(const void *data, size_t len)
{
	struct json_object	*s;
	char			*text;

	if ((text = malloc(BASE64_LEN(len))) == NULL)
		return view_check(NULL);
	base64_encode(data, len, text);
	s = view_string(text);
	free(text);
	return s;
}

const char *
view_delta_status(enum store_delta_status s)
{
	switch (s) {
	case STORE_DELTA_VERIFIED:	return "VERIFIED";
	case STORE_DELTA_FAILED:	return "FAILED";
	default:			return "QUEUED";
	}
}

struct json_object *
view_scope(const struct balance_scope *s)
{
	static const char *const types[] = {
		"all", "period", "current_month", "custom", "checkpoint"
	};
	struct json_object	*o;
	char			 period[TIMEFMT_PERIOD_LEN];

	if ((o = view_object()) == NULL)
		return NULL;
	view_put(o, "type", view_string(types[s->kind]));
	if (s->kind == BALANCE_PERIOD || s->kind == BALANCE_CURRENT_MONTH) {
		timefmt_period(s->month, period);
		view_put(o, "period", view_string(period));
	}
	if (s->kind != BALANCE_ALL && s->kind != BALANCE_CHECKPOINT) {
		view_put(o, "startDate", view_time(s->start_ms));
		view_put(o, "endDate", view_time(s->end_ms));
	}
	if (s->kind == BALANCE_CHECKPOINT) {
		view_put(o, "startingCheckpoint", view_string(s->checkpoint));
		view_put(o, "startingCheckpointType", view_string(
		    s->by_proof_root ? "proofRoot" : "checkpointId"));
	}
	return o;
}

const char *
view_event_status(enum store_event_status s)
{
	switch (s) {
	case STORE_EVENT_DELIVERED:	return "VERIFIED";
	case STORE_EVENT_FAILED:	return "FAILED";
	default:			return "QUEUED";
	}
}

struct json_object *
view_event(const struct store_event *e)
{
	struct json_object	*o;

	if ((o = view_object()) == NULL)
		return NULL;
	view_put(o, "eventId", view_string(e->id));
	view_put(o, "event", view_string(e->name));
	view_put(o, "url", view_string(e->url));
	view_put(o, "status", view_string(view_event_status(e->status)));
	view_put(o, "attempts", view_u64(e->attempts));
	if (e->last_code != 0)
		view_put(o, "lastStatusCode", view_i64(e->last_code));
	else
		view_put_null(o, "lastStatusCode");
	if (e->last_error[0] != '\0')
		view_put(o, "lastError", view_string(e->last_error));
	else
		view_put_null(o, "lastError");
	if (e->status == STORE_EVENT_QUEUED)
		view_put(o, "nextAttemptAt", view_time(e->next_ms));
	else
		view_put_null(o, "nextAttemptAt");
	view_put(o, "createdAt", view_time(e->created_ms));
	if (e->done_ms != 0)
		view_put(o, "completedAt", view_time(e->done_ms));
	else
		view_put_null(o, "completedAt");
	return o;
}
