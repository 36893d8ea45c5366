/*
 * Typed access to untrusted JSON.  json-c's getters coerce silently (a
 * string reads as 0 through json_object_get_int64), so every value is
 * type-checked here first, and strings are bounded and refused when they
 * hold a NUL byte that C would cut them at.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../common/hex.h"
#include "../common/jcs.h"
#include "../common/timefmt.h"
#include "../crypto/base64.h"
#include "verify.h"

/* 2^53: integers up to here are exact as the doubles JCS writes. */
#define FIELD_INT_EXACT	9007199254740992ULL

int
field_member(struct json_object *obj, const char *name,
    struct json_object **out, char *why, size_t whylen)
{
	*out = NULL;
	if (!json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, name, out)) {
		snprintf(why, whylen, "missing");
		return -1;
	}
	return 0;
}

int
field_string(struct json_object *v, size_t max, int flags, const char **out,
    char *why, size_t whylen)
{
	size_t	len;

	*out = NULL;
	if ((flags & FIELD_NULLABLE) && json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(why, whylen, "must be a string%s",
		    flags & FIELD_NULLABLE ? " or null" : "");
		return -1;
	}
	len = (size_t)json_object_get_string_len(v);
	if (len > max) {
		snprintf(why, whylen, "longer than %zu bytes", max);
		return -1;
	}
	if ((flags & FIELD_NONEMPTY) && len == 0) {
		snprintf(why, whylen, "empty");
		return -1;
	}
	if (memchr(json_object_get_string(v), '\0', len) != NULL) {
		snprintf(why, whylen, "holds a NUL character");
		return -1;
	}
	*out = json_object_get_string(v);
	return 0;
}

int
field_uint(struct json_object *v, uint64_t max, uint64_t *out, char *why,
    size_t whylen)
{
	int64_t		i;
	uint64_t	u;

	*out = 0;
	if (!json_object_is_type(v, json_type_int)) {
		snprintf(why, whylen, "must be an integer");
		return -1;
	}
	/* json-c keeps integers past INT64_MAX as unsigned, saturated. */
	i = json_object_get_int64(v);
	if (i < 0) {
		snprintf(why, whylen, "negative");
		return -1;
	}
	u = i == INT64_MAX ? json_object_get_uint64(v) : (uint64_t)i;
	if (u > max || u > FIELD_INT_EXACT) {
		snprintf(why, whylen, "too large");
		return -1;
	}
	*out = u;
	return 0;
}

int
field_hash(struct json_object *v, merkle_hash out, char *why, size_t whylen)
{
	const char	*s;

	if (field_string(v, VERIFY_HEX_LEN, 0, &s, why, whylen) < 0)
		return -1;
	/* Lowercase only: one spelling per hash (SPEC 1). */
	if (hex_decode_0x(s, out, MERKLE_HASH_LEN, 0) < 0) {
		snprintf(why, whylen, "not 0x and 64 lowercase hex digits");
		return -1;
	}
	return 0;
}

/* Text of an amount, exactly; spelling decides nothing but validity. */
static int
field_amount_text(const char *s, size_t len, decimal_t *out, char *why,
    size_t whylen)
{
	switch (decimal_parse(s, len, out)) {
	case DECIMAL_OK:
		return 0;
	case DECIMAL_PRECISION:
		snprintf(why, whylen, "more than 9 decimals");
		return -1;
	case DECIMAL_RANGE:
		snprintf(why, whylen, "out of range");
		return -1;
	default:
		snprintf(why, whylen, "not a decimal number");
		return -1;
	}
}

int
field_amount(struct json_object *v, decimal_t *out, char *why, size_t whylen)
{
	char		 canon[DECIMAL_MAX];
	const char	*s;

	*out = 0;
	if (field_string(v, DECIMAL_MAX, FIELD_NONEMPTY, &s, why, whylen) < 0 ||
	    field_amount_text(s, strlen(s), out, why, whylen) < 0)
		return -1;
	/* The format has one spelling per amount: its shortest form. */
	decimal_format(*out, canon);
	if (strcmp(canon, s) != 0) {
		snprintf(why, whylen, "not in shortest form (%s)", canon);
		return -1;
	}
	return 0;
}

int
field_amount_any(struct json_object *v, decimal_t *out, char *why,
    size_t whylen)
{
	const char	*s;

	*out = 0;
	if (json_object_is_type(v, json_type_string))
		return field_amount(v, out, why, whylen);
	if (!json_object_is_type(v, json_type_int) &&
	    !json_object_is_type(v, json_type_double)) {
		snprintf(why, whylen, "must be a number or a string");
		return -1;
	}
	/*
	 * A parsed double keeps the text it was read from, and an integer
	 * prints exactly, so no binary rounding comes between.
	 */
	s = json_object_get_string(v);
	if (s == NULL || strlen(s) > 64) {
		snprintf(why, whylen, "not a decimal number");
		return -1;
	}
	return field_amount_text(s, strlen(s), out, why, whylen);
}

int
field_time(struct json_object *v, int64_t *ms, char *why, size_t whylen)
{
	char		 canon[TIMEFMT_LEN];
	const char	*s;

	*ms = 0;
	if (field_string(v, TIMEFMT_LEN, 0, &s, why, whylen) < 0)
		return -1;
	if (timefmt_parse_date(s, ms) == 0) {
		timefmt_rfc3339(*ms, canon);
		if (strcmp(canon, s) == 0)
			return 0;
	}
	snprintf(why, whylen, "not an RFC 3339 UTC time with milliseconds");
	return -1;
}

int
field_base64(struct json_object *v, size_t max, uint8_t **out,
    size_t *outlen, char *why, size_t whylen)
{
	const char	*s;
	size_t		 len;

	*out = NULL;
	*outlen = 0;
	if (field_string(v, BASE64_LEN(max), 0, &s, why, whylen) < 0)
		return -1;
	len = strlen(s);
	if ((*out = malloc(max > 0 ? max : 1)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (base64_decode(s, len, *out, max, outlen) < 0) {
		free(*out);
		*out = NULL;
		snprintf(why, whylen, "not canonical base64 of at most %zu "
		    "bytes", max);
		return -1;
	}
	return 0;
}

int
field_same(struct json_object *a, struct json_object *b)
{
	struct sbuf	sa, sb;
	int		same;

	memset(&sa, 0, sizeof(sa));
	memset(&sb, 0, sizeof(sb));
	same = jcs_serialize(a, &sa) == 0 && jcs_serialize(b, &sb) == 0 &&
	    sa.len == sb.len && (sa.len == 0 || memcmp(sa.buf, sb.buf,
	    sa.len) == 0);
	sbuf_free(&sa);
	sbuf_free(&sb);
	return same;
}

struct json_object *
field_envelope(struct json_object *root, char *why, size_t whylen)
{
	struct json_object	*success, *data, *err, *v;
	const char		*code = "", *msg = "";
	char			 safe[2][128];

	if (!json_object_is_type(root, json_type_object)) {
		snprintf(why, whylen, "not a JSON object");
		return NULL;
	}
	if (!json_object_object_get_ex(root, "success", &success))
		return root;
	if (json_object_is_type(success, json_type_boolean) &&
	    json_object_get_boolean(success) &&
	    json_object_object_get_ex(root, "data", &data) &&
	    json_object_is_type(data, json_type_object))
		return data;
	if (json_object_object_get_ex(root, "error", &err)) {
		if (json_object_object_get_ex(err, "code", &v) &&
		    json_object_is_type(v, json_type_string))
			code = json_object_get_string(v);
		if (json_object_object_get_ex(err, "message", &v) &&
		    json_object_is_type(v, json_type_string))
			msg = json_object_get_string(v);
	}
	report_text(code, strlen(code), safe[0], sizeof(safe[0]));
	report_text(msg, strlen(msg), safe[1], sizeof(safe[1]));
	snprintf(why, whylen, "an error answer, not a success with data "
	    "(%s: %s)", safe[0], safe[1]);
	return NULL;
}
