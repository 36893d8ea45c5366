#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../common/hex.h"
#include "../common/jcs.h"
#include "../common/timefmt.h"
#include "../crypto/base64.h"
#include "../crypto/hash.h"
#include "../crypto/random.h"
#include "apikey.h"
#include "emit.h"
#include "ids.h"

#define EMIT_INT_EXACT	9007199254740992LL	/* 2^53, exclusive */
#define EMIT_ID_BYTES	16			/* bytes of a receipt id (hex) */
#define EMIT_REC_BYTES	18			/* ... of a recordId: */
#define EMIT_REC_TIME_BYTES 6			/* its time, then 96 random bits */

static const char *const emit_fields[] = {
	"customerId", "delta", "reason", "referenceId", "metadata", "adjusts",
};

static int
emit_fail(struct emit_error *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
emit_fail(struct emit_error *err, const char *field, const char *fmt, ...)
{
	va_list	ap;

	err->field = field;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* Memory ran out: not the client's fault, and not a validation error. */
static int
emit_oom(struct emit_error *err, const char *field)
{
	err->oom = 1;
	return emit_fail(err, field, "out of memory");
}

/*
 * An unknown field, named in err: cut short at a character boundary, so
 * that the answer that quotes it stays UTF-8.
 */
static void
emit_unknown(struct emit_error *err, const char *key)
{
	size_t	len = strlen(key);

	if (len >= sizeof(err->unknown))
		for (len = sizeof(err->unknown) - 1; len > 0 &&
		    ((unsigned char)key[len] & 0xc0) == 0x80; len--)
			;
	memcpy(err->unknown, key, len);
	err->unknown[len] = '\0';
	emit_fail(err, err->unknown, "unknown field '%s'", err->unknown);
}

/*
 * Characters (code points) of valid UTF-8; -1 if it holds a NUL, -2 if
 * control characters are refused and it holds one (C0, DEL or C1).
 */
static long
emit_chars(const char *s, size_t len, int allow_control)
{
	const unsigned char	*u = (const unsigned char *)s;
	long			 n = 0;
	size_t			 i;

	for (i = 0; i < len; i++) {
		if (u[i] == '\0')
			return -1;
		if (!allow_control && (u[i] < 0x20 || u[i] == 0x7f ||
		    (u[i] == 0xc2 && i + 1 < len && u[i + 1] >= 0x80 &&
		    u[i + 1] <= 0x9f)))
			return -2;
		if ((u[i] & 0xc0) != 0x80)
			n++;
	}
	return n;
}

/*
 * Looks a member up; absent and null both count as absent.  Returns the
 * value, or NULL; *type_ok is 0 when present with another type.
 */
static struct json_object *
emit_member(struct json_object *obj, const char *name, enum json_type want,
    int *type_ok)
{
	struct json_object	*v = NULL;

	*type_ok = 1;
	if (!json_object_object_get_ex(obj, name, &v) || v == NULL)
		return NULL;
	if (!json_object_is_type(v, want))
		*type_ok = 0;
	return v;
}

/*
 * A string member, checked: its length in characters min..max and in
 * bytes below size.  *s (borrowed from obj) and *len are set when
 * present.
 */
static int
emit_string_check(struct json_object *obj, const char *name, int required,
    size_t size, long min, long max, int allow_control,
    struct emit_error *err, int *present, const char **s, size_t *len)
{
	struct json_object	*v;
	long			 chars;
	int			 ok;

	*present = 0;
	v = emit_member(obj, name, json_type_string, &ok);
	if (!ok)
		return emit_fail(err, name, "%s must be a string", name);
	if (v == NULL)
		return required ? emit_fail(err, name, "%s is required", name) :
		    0;
	*s = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	chars = emit_chars(*s, *len, allow_control);
	if (chars == -1 && allow_control)
		return emit_fail(err, name, "%s must not contain NUL "
		    "characters", name);
	if (chars < 0)
		return emit_fail(err, name, "%s must not contain control "
		    "characters", name);
	if (chars < min || chars > max || *len >= size)
		return emit_fail(err, name, "%s must be %ld to %ld characters",
		    name, min, max);
	*present = 1;
	return 0;
}

/* A string member, copied into dst (size bytes). */
static int
emit_string(struct json_object *obj, const char *name, int required,
    char *dst, size_t size, long min, long max, int allow_control,
    struct emit_error *err, int *present)
{
	const char	*s;
	size_t		 len;

	if (emit_string_check(obj, name, required, size, min, max,
	    allow_control, err, present, &s, &len) < 0)
		return -1;
	if (*present)
		memcpy(dst, s, len + 1);
	return 0;
}

/*
 * A string member, copied into *dst, allocated to its length (freed by
 * emit_input_free): a batch of 1000 items holds what they say, not 1000
 * times the longest they could say.  *dst stays NULL when absent.
 */
static int
emit_string_dup(struct json_object *obj, const char *name, int required,
    char **dst, size_t size, long min, long max, int allow_control,
    struct emit_error *err, int *present)
{
	const char	*s;
	size_t		 len;

	if (emit_string_check(obj, name, required, size, min, max,
	    allow_control, err, present, &s, &len) < 0)
		return -1;
	if (*present && (*dst = strndup(s, len)) == NULL)
		return emit_oom(err, name);
	return 0;
}

static int
emit_delta(struct json_object *obj, struct emit_input *in,
    struct emit_error *err)
{
	struct json_object	*v;
	const char		*text;
	int			 ok;

	v = emit_member(obj, "delta", json_type_double, &ok);
	if (v == NULL && ok)
		return emit_fail(err, "delta", "delta is required");
	if (!ok && !json_object_is_type(v, json_type_int))
		return emit_fail(err, "delta", "delta must be a number");
	/* The number as the client wrote it: never through a double. */
	if ((text = json_object_get_string(v)) == NULL)
		return emit_oom(err, "delta");
	switch (decimal_parse(text, strlen(text), &in->amount)) {
	case DECIMAL_OK:
		break;
	case DECIMAL_PRECISION:
		return emit_fail(err, "delta", "delta must have at most 9 "
		    "digits after the decimal point");
	case DECIMAL_RANGE:
		return emit_fail(err, "delta", "delta must be between "
		    "-1000000000 and 1000000000");
	default:
		return emit_fail(err, "delta", "delta must be a number");
	}
	if (in->amount == 0)
		return emit_fail(err, "delta", "delta must be a non-zero "
		    "number");
	if (in->amount > (decimal_t)EMIT_DELTA_LIMIT * DECIMAL_SCALE ||
	    in->amount < -(decimal_t)EMIT_DELTA_LIMIT * DECIMAL_SCALE)
		return emit_fail(err, "delta", "delta must be between "
		    "-1000000000 and 1000000000");
	decimal_format(in->amount, in->delta);
	return 0;
}

/*
 * Integers beyond 2^53 cannot be written canonically (I-JSON): 1 if v
 * holds none, 0 if it does, -1 out of memory.
 */
static int
emit_exact_numbers(struct json_object *v)
{
	const char	*text;
	int64_t		 iv;
	size_t		 i, n;
	int		 rc;

	switch (json_object_get_type(v)) {
	case json_type_int:
		iv = json_object_get_int64(v);
		return iv > -EMIT_INT_EXACT && iv < EMIT_INT_EXACT;
	case json_type_double:
		/* jsonin reads an integer beyond 64 bits as a double. */
		if ((text = json_object_get_string(v)) == NULL)
			return -1;
		return text[strspn(text, "-0123456789")] != '\0';
	case json_type_array:
		n = json_object_array_length(v);
		for (i = 0; i < n; i++)
			if ((rc = emit_exact_numbers(
			    json_object_array_get_idx(v, i))) != 1)
				return rc;
		return 1;
	case json_type_object: {
		json_object_object_foreach(v, key, val) {
			(void)key;
			if ((rc = emit_exact_numbers(val)) != 1)
				return rc;
		}
		return 1;
	}
	default:
		return 1;
	}
}

static int
emit_metadata(struct json_object *obj, struct emit_input *in,
    struct emit_error *err)
{
	struct json_object	*v;
	struct sbuf		 sb = { 0 };
	int			 ok, rc;

	v = emit_member(obj, "metadata", json_type_object, &ok);
	if (!ok)
		return emit_fail(err, "metadata", "metadata must be a JSON "
		    "object");
	if (v == NULL)
		return 0;
	if ((rc = emit_exact_numbers(v)) < 0)
		return emit_oom(err, "metadata");
	if (rc == 0)
		return emit_fail(err, "metadata", "metadata integers must be "
		    "within +/-(2^53-1) (I-JSON)");
	if (jcs_serialize(v, &sb) < 0) {
		if (sb.oom) {
			sbuf_free(&sb);
			return emit_oom(err, "metadata");
		}
		sbuf_free(&sb);
		return emit_fail(err, "metadata", "metadata cannot be "
		    "serialized");
	}
	if (sb.len > EMIT_METADATA_BYTES) {
		sbuf_free(&sb);
		return emit_fail(err, "metadata", "metadata must be at most "
		    "%d bytes when serialized", EMIT_METADATA_BYTES);
	}
	in->metadata = sbuf_take(&sb, NULL);
	return in->metadata == NULL ? emit_oom(err, "metadata") : 0;
}

static int
emit_adjusts(struct json_object *obj, struct emit_input *in,
    struct emit_error *err)
{
	struct json_object	*v;
	const char		*which;
	int			 ok, present;

	v = emit_member(obj, "adjusts", json_type_object, &ok);
	if (!ok || (v != NULL && json_object_object_length(v) != 1))
		return emit_fail(err, "adjusts", "adjusts must be "
		    "{\"recordId\": …} or {\"referenceId\": …}");
	if (v == NULL)
		return 0;
	if (json_object_object_get_ex(v, "recordId", NULL)) {
		which = "recordId";
		in->adjusts = EMIT_ADJUSTS_RECORD;
	} else if (json_object_object_get_ex(v, "referenceId", NULL)) {
		which = "referenceId";
		in->adjusts = EMIT_ADJUSTS_REFERENCE;
	} else
		return emit_fail(err, "adjusts", "adjusts must be "
		    "{\"recordId\": …} or {\"referenceId\": …}");
	if (emit_string_dup(v, which, 1, &in->adjusts_id,
	    STORE_REFERENCE_MAX + 1, 1, EMIT_REFERENCE_CHARS, 0, err,
	    &present) < 0) {
		err->field = "adjusts";
		return -1;
	}
	return 0;
}

/*
 * The fingerprint of the request's meaning: JCS of its canonical fields,
 * so "1.0" and "1", or reordered metadata, are the same request.
 */
static int
emit_fingerprint(struct emit_input *in)
{
	struct sbuf	sb = { 0 };
	int		rc;

	sbuf_adds(&sb, "{\"adjusts\":");
	if (in->adjusts == EMIT_ADJUSTS_NONE)
		sbuf_adds(&sb, "null");
	else {
		sbuf_adds(&sb, in->adjusts == EMIT_ADJUSTS_RECORD ?
		    "{\"recordId\":" : "{\"referenceId\":");
		jcs_string(in->adjusts_id, strlen(in->adjusts_id), &sb);
		sbuf_addc(&sb, '}');
	}
	sbuf_adds(&sb, ",\"customerId\":");
	jcs_string(in->customer_id, strlen(in->customer_id), &sb);
	sbuf_adds(&sb, ",\"delta\":");
	jcs_string(in->delta, strlen(in->delta), &sb);
	sbuf_adds(&sb, ",\"metadata\":");
	sbuf_adds(&sb, in->metadata ? in->metadata : "null");
	sbuf_adds(&sb, ",\"reason\":");
	jcs_string(in->reason, strlen(in->reason), &sb);
	sbuf_adds(&sb, ",\"referenceId\":");
	if (in->has_reference)
		jcs_string(in->reference_id, strlen(in->reference_id), &sb);
	else
		sbuf_adds(&sb, "null");
	sbuf_addc(&sb, '}');
	rc = sb.oom ? -1 : hash_sha256(sb.buf, sb.len, in->fingerprint);
	sbuf_free(&sb);
	return rc;
}

/*
 * A recordId is "rec_", 12 hex digits of the time in milliseconds, then
 * 96 random bits: unguessable still, and ids made one after another sort
 * one after another, so the recordId index grows at its end instead of
 * touching a random page of it (rarely in the cache) for every delta.
 * One call to the generator for everything: each call costs a getpid()
 * system call (OpenSSL's fork check), dear in a VM.
 */
static int
emit_ids(struct emit_input *in)
{
	/* The record's random part, the receipt id, the salt: one draw. */
	uint8_t		rnd[EMIT_REC_BYTES - EMIT_REC_TIME_BYTES + EMIT_ID_BYTES +
			    sizeof(in->salt)];
	uint8_t		*receipt = rnd + EMIT_REC_BYTES - EMIT_REC_TIME_BYTES;
	uint8_t		*salt = receipt + EMIT_ID_BYTES;
	uint8_t		id[EMIT_REC_BYTES];
	char		hex[2 * EMIT_REC_BYTES + 1];
	char		rhex[2 * EMIT_ID_BYTES + 1];
	uint64_t	now = (uint64_t)timefmt_now_ms();
	int		i;

	if (random_bytes(rnd, sizeof(rnd)) < 0)
		return -1;
	for (i = EMIT_REC_TIME_BYTES - 1; i >= 0; i--, now >>= 8)
		id[i] = (uint8_t)now;
	memcpy(id + EMIT_REC_TIME_BYTES, rnd, EMIT_REC_BYTES -
	    EMIT_REC_TIME_BYTES);
	hex_encode(id, EMIT_REC_BYTES, hex);
	snprintf(in->record_id, sizeof(in->record_id), "rec_%s", hex);
	hex_encode(receipt, EMIT_ID_BYTES, rhex);
	snprintf(in->receipt_id, sizeof(in->receipt_id), "rcpt_%s", rhex);
	memcpy(in->salt, salt, sizeof(in->salt));
	return 0;
}

int
emit_parse(struct json_object *obj, struct emit_input *in,
    struct emit_error *err)
{
	size_t	i;
	int	known, present;

	memset(in, 0, sizeof(*in));
	memset(err, 0, sizeof(*err));
	if (!json_object_is_type(obj, json_type_object))
		return emit_fail(err, NULL, "each delta must be a JSON object");
	json_object_object_foreach(obj, key, val) {
		(void)val;
		for (i = known = 0; i < sizeof(emit_fields) /
		    sizeof(emit_fields[0]); i++)
			known |= strcmp(key, emit_fields[i]) == 0;
		if (!known) {
			/* A copy: the key dies with the parsed body. */
			emit_unknown(err, key);
			return -1;
		}
	}
	if (emit_string(obj, "customerId", 1, in->customer_id,
	    sizeof(in->customer_id), 1, STORE_CUSTOMER_MAX, 0, err,
	    &present) < 0)
		return -1;
	if (!ids_customer_valid(in->customer_id))
		return emit_fail(err, "customerId", "customerId must be 1 to "
		    "128 of A-Z a-z 0-9 _ . : -");
	if (emit_string_dup(obj, "referenceId", 0, &in->reference_id,
	    STORE_REFERENCE_MAX + 1, 1, EMIT_REFERENCE_CHARS, 0, err,
	    &in->has_reference) < 0)
		return -1;
	in->identified = 1;
	if (emit_delta(obj, in, err) < 0)
		return -1;
	if (emit_string_dup(obj, "reason", 1, &in->reason,
	    STORE_REASON_MAX + 1, 1, EMIT_REASON_CHARS, 1, err, &present) < 0)
		return -1;
	if (emit_metadata(obj, in, err) < 0 || emit_adjusts(obj, in, err) < 0)
		return -1;
	if (emit_fingerprint(in) < 0)
		return emit_oom(err, NULL);
	if (emit_ids(in) < 0)
		return emit_fail(err, NULL, "internal error");
	return 0;
}

void
emit_input_free(struct emit_input *in)
{
	free(in->metadata);
	in->metadata = NULL;
	free(in->reason);
	in->reason = NULL;
	free(in->reference_id);
	in->reference_id = NULL;
	free(in->adjusts_id);
	in->adjusts_id = NULL;
}

struct json_object *
emit_batch_deltas(struct json_object *body, struct emit_error *err)
{
	struct json_object	*deltas = NULL;
	size_t			 n;

	memset(err, 0, sizeof(*err));
	json_object_object_foreach(body, key, val) {
		(void)val;
		if (strcmp(key, "deltas") != 0) {
			emit_unknown(err, key);
			return NULL;
		}
	}
	if (!json_object_object_get_ex(body, "deltas", &deltas) ||
	    !json_object_is_type(deltas, json_type_array) ||
	    (n = json_object_array_length(deltas)) < 1 ||
	    n > EMIT_BATCH_MAX) {
		emit_fail(err, "deltas", "deltas must be an array of 1 to %d "
		    "deltas", EMIT_BATCH_MAX);
		return NULL;
	}
	return deltas;
}

/*
 * SHA-256 of obj's JCS form: 0, -1 out of memory, or -2 when it has no
 * JCS form (a number beyond a double, 1e400).
 */
static int
emit_jcs_hash(struct json_object *obj, uint8_t *out)
{
	struct sbuf	sb = { 0 };
	int		rc;

	if (jcs_serialize(obj, &sb) < 0)
		rc = sb.oom ? -1 : -2;
	else
		rc = hash_sha256(sb.buf, sb.len, out);
	sbuf_free(&sb);
	return rc;
}

int
emit_batch_fingerprint(struct json_object *body, struct json_object *deltas,
    const uint8_t *const *fps, uint8_t fp[STORE_HASH_LEN],
    uint8_t legacy[STORE_HASH_LEN])
{
	struct sbuf	 sb = { 0 };
	uint8_t		 h[STORE_HASH_LEN];
	const uint8_t	*item;
	size_t		 i, n = json_object_array_length(deltas);
	int		 rc;

	if ((rc = emit_jcs_hash(body, legacy)) != 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++) {
		if ((item = fps[i]) == NULL) {
			rc = emit_jcs_hash(json_object_array_get_idx(deltas, i),
			    h);
			item = h;
		}
		sbuf_addc(&sb, fps[i] != NULL ? 'v' : 'i');
		sbuf_add(&sb, item, STORE_HASH_LEN);
	}
	if (rc == 0)
		rc = sb.oom ? -1 : hash_sha256(sb.buf, sb.len, fp);
	sbuf_free(&sb);
	return rc;
}

int
emit_idempotency_key_valid(const char *key)
{
	size_t	i, len = strlen(key);

	if (len < 1 || len > 255)
		return 0;
	for (i = 0; i < len; i++)
		if (key[i] < 0x20 || key[i] > 0x7e)
			return 0;
	return 1;
}

int
emit_leaf(const struct store_delta *d, struct sbuf *out)
{
	char	when[TIMEFMT_LEN], salt[2 * STORE_HASH_LEN + 1];

	timefmt_rfc3339(d->created_ms, when);
	hex_encode(d->salt, STORE_HASH_LEN, salt);
	/* Members in JCS order: their names sorted by UTF-16 code units. */
	sbuf_adds(out, "{\"createdAt\":");
	jcs_string(when, strlen(when), out);
	sbuf_adds(out, ",\"customerId\":");
	jcs_string(d->customer_id, strlen(d->customer_id), out);
	sbuf_adds(out, ",\"delta\":");
	jcs_string(d->delta, strlen(d->delta), out);
	sbuf_adds(out, ",\"env\":");
	jcs_string(apikey_env_name(d->env), 4, out);
	sbuf_adds(out, ",\"metadata\":");
	sbuf_adds(out, d->metadata ? d->metadata : "null");
	sbuf_adds(out, ",\"reason\":");
	jcs_string(d->reason, strlen(d->reason), out);
	sbuf_adds(out, ",\"referenceId\":");
	if (d->has_reference)
		jcs_string(d->reference_id, strlen(d->reference_id), out);
	else
		sbuf_adds(out, "null");
	sbuf_adds(out, ",\"salt\":");
	jcs_string(salt, strlen(salt), out);
	sbuf_addf(out, ",\"sequenceNumber\":%llu,\"tenant\":",
	    (unsigned long long)d->seq);
	jcs_string(d->tenant, strlen(d->tenant), out);
	sbuf_addc(out, '}');
	return out->oom ? -1 : 0;
}
