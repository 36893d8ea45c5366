/*
 * json-c's parser is lenient in ways that matter for a shared record: it
 * accepts single-quoted keys, and keeps only the last of two equal keys,
 * so two readers of one body could disagree on what it says; and where
 * an allocation fails it drops a member, leaves a null, or crashes on a
 * key it could not copy.  So every text is read here, against RFC 8259
 * (grammar, escapes, UTF-8, nesting, and no repeated key in an object),
 * and the tree built here with json-c's objects as json-c would build it,
 * every allocation checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "grow.h"
#include "hex.h"
#include "jsonin.h"

struct scan {
	const unsigned char	*start, *p, *end;
	int			 depth;
	char			*err;
	size_t			 errlen;
	int			 oom;		/* a failure was memory's */
};

/* The decoded keys of one object, to find a repeated one. */
struct keyset {
	char	**keys;
	size_t	 *lens;
	size_t	  n, cap;
};

static int
scan_fail(struct scan *s, const char *what)
{
	if (s->err[0] == '\0')
		snprintf(s->err, s->errlen, "invalid JSON at byte %zu: %s",
		    (size_t)(s->p - s->start), what);
	return -1;
}

static int
scan_oom(struct scan *s)
{
	s->oom = 1;
	return scan_fail(s, "out of memory");
}

static void
scan_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
	    *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int
scan_literal(struct scan *s, const char *word)
{
	size_t	len = strlen(word);

	if ((size_t)(s->end - s->p) < len || memcmp(s->p, word, len) != 0)
		return scan_fail(s, "unexpected character");
	s->p += len;
	return 0;
}

static int
scan_digits(struct scan *s)
{
	const unsigned char	*from = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > from ? 0 : scan_fail(s, "expected a digit");
}

/*
 * The number from..s->p as json-c makes one: an integer that fits 64
 * bits as its int64 or uint64; any other as a double that keeps its
 * text.  json-c itself saturates an integer beyond 64 bits to INT64_MIN
 * or UINT64_MAX, silently changing its value: 56786233710500000000, the
 * RFC 8785 form of the double 5.67862337105e19, would read back as
 * 18446744073709551615.  Here it is the double it denotes (to I-JSON and
 * RFC 8785 every number is a double), keeping its text.
 */
static struct json_object *
scan_number_object(struct scan *s, const unsigned char *from, int integer)
{
	const char		*max = *from == '-' ? "9223372036854775808" :
				    "9223372036854775807";
	const unsigned char	*digits = from + (*from == '-');
	size_t			 n = (size_t)(s->p - digits), mlen = strlen(max);
	size_t			 len = (size_t)(s->p - from);
	struct json_object	*v;
	char			*text;
	int			 cmp;

	if ((text = strndup((const char *)from, len)) == NULL)
		return NULL;
	cmp = n < mlen ? -1 : n > mlen ? 1 : memcmp(digits, max, n);
	if (integer && cmp <= 0)
		v = json_object_new_int64(strtoll(text, NULL, 10));
	else if (integer && *from != '-' && (n < 20 || (n == 20 &&
	    memcmp(digits, "18446744073709551615", n) <= 0)))
		v = json_object_new_uint64(strtoull(text, NULL, 10));
	else
		v = json_object_new_double_s(strtod(text, NULL), text);
	free(text);
	return v;
}

static int
scan_number(struct scan *s, struct json_object **out)
{
	const unsigned char	*from = s->p;
	int			 integer = 1;

	if (*s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (scan_digits(s) < 0)
		return -1;
	if (s->p < s->end && *s->p == '.') {
		integer = 0;
		s->p++;
		if (scan_digits(s) < 0)
			return -1;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		integer = 0;
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (scan_digits(s) < 0)
			return -1;
	}
	if ((*out = scan_number_object(s, from, integer)) == NULL)
		return scan_oom(s);
	return 0;
}

static int
scan_hex4(struct scan *s, unsigned *out)
{
	unsigned	v = 0;
	int		i, d;

	if (s->end - s->p < 4)
		return scan_fail(s, "short \\u escape");
	for (i = 0; i < 4; i++, s->p++) {
		if ((d = hex_digit((char)*s->p)) < 0)
			return scan_fail(s, "bad \\u escape");
		v = v << 4 | (unsigned)d;
	}
	*out = v;
	return 0;
}

size_t
jsonin_utf8_len(const unsigned char *p, size_t avail)
{
	unsigned	c = *p, cp, min;
	size_t		n, i;

	if (c < 0x80)
		return 1;
	else if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
		cp = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		cp = c & 0x07;
		min = 0x10000;
	} else
		return 0;
	if (avail <= n)
		return 0;
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n + 1;
}

static int
scan_utf8(struct scan *s)
{
	size_t	n = jsonin_utf8_len(s->p, (size_t)(s->end - s->p));

	if (n == 0)
		return scan_fail(s, "invalid UTF-8");
	s->p += n;
	return 0;
}

static void
put_utf8(char *out, size_t *o, unsigned cp)
{
	if (cp < 0x80)
		out[(*o)++] = (char)cp;
	else if (cp < 0x800) {
		out[(*o)++] = (char)(0xc0 | cp >> 6);
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[(*o)++] = (char)(0xe0 | cp >> 12);
		out[(*o)++] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		out[(*o)++] = (char)(0xf0 | cp >> 18);
		out[(*o)++] = (char)(0x80 | (cp >> 12 & 0x3f));
		out[(*o)++] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	}
}

/*
 * A string, s->p at its opening quote.  With out (room for as many
 * bytes as the raw string has), the decoded bytes go there too.
 */
static int
scan_string(struct scan *s, char *out, size_t *outlen)
{
	const unsigned char	*from;
	unsigned		 cp, lo;
	size_t			 o = 0;

	for (s->p++; s->p < s->end && *s->p != '"'; ) {
		if (*s->p < 0x20)
			return scan_fail(s, "control character in string");
		if (*s->p != '\\') {
			from = s->p;
			if (scan_utf8(s) < 0)
				return -1;
			if (out != NULL) {
				memcpy(out + o, from, (size_t)(s->p - from));
				o += (size_t)(s->p - from);
			}
			continue;
		}
		if (++s->p == s->end)
			break;
		switch (*s->p++) {
		case '"':  cp = '"'; break;
		case '\\': cp = '\\'; break;
		case '/':  cp = '/'; break;
		case 'b':  cp = '\b'; break;
		case 'f':  cp = '\f'; break;
		case 'n':  cp = '\n'; break;
		case 'r':  cp = '\r'; break;
		case 't':  cp = '\t'; break;
		case 'u':
			if (scan_hex4(s, &cp) < 0)
				return -1;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return scan_fail(s, "lone low surrogate");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (s->end - s->p < 2 || s->p[0] != '\\' ||
				    s->p[1] != 'u')
					return scan_fail(s,
					    "lone high surrogate");
				s->p += 2;
				if (scan_hex4(s, &lo) < 0)
					return -1;
				if (lo < 0xdc00 || lo > 0xdfff)
					return scan_fail(s,
					    "bad surrogate pair");
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
			}
			break;
		default:
			s->p--;
			return scan_fail(s, "bad escape");
		}
		if (out != NULL)
			put_utf8(out, &o, cp);
	}
	if (s->p == s->end)
		return scan_fail(s, "unterminated string");
	s->p++;
	if (outlen != NULL)
		*outlen = o;
	return 0;
}

/* A string value, s->p at its opening quote, as a json-c string. */
static int
scan_string_value(struct scan *s, struct json_object **out)
{
	const unsigned char	*from = s->p;
	char			*text;
	size_t			 len;

	/* Sized by the string itself: never by the rest of the input. */
	if (scan_string(s, NULL, &len) < 0)
		return -1;
	len = (size_t)(s->p - from);
	s->p = from;
	if ((text = malloc(len + 1)) == NULL)
		return scan_oom(s);
	if (scan_string(s, text, &len) == 0 &&
	    (*out = json_object_new_string_len(text, (int)len)) == NULL)
		scan_oom(s);
	free(text);
	return *out != NULL ? 0 : -1;
}

static void
keyset_free(struct keyset *ks)
{
	size_t	i;

	for (i = 0; i < ks->n; i++)
		free(ks->keys[i]);
	free(ks->keys);
	free(ks->lens);
}

/* Scans a key and remembers it; -1 if it repeats one or memory ran out. */
static int
scan_key(struct scan *s, struct keyset *ks)
{
	const unsigned char	*from = s->p;
	char			*key;
	size_t			 len, i, kcap, lcap;

	/* Sized by the key itself: never by the rest of the input. */
	if (scan_string(s, NULL, &len) < 0)
		return -1;
	len = (size_t)(s->p - from);
	s->p = from;
	if ((key = malloc(len + 1)) == NULL)
		return scan_oom(s);
	if (scan_string(s, key, &len) < 0) {
		free(key);
		return -1;
	}
	key[len] = '\0';
	/* Object keys are C strings downstream: a NUL would cut one short. */
	if (memchr(key, '\0', len) != NULL) {
		free(key);
		s->p = from;
		return scan_fail(s, "NUL in object key");
	}
	for (i = 0; i < ks->n; i++)
		if (ks->lens[i] == len && memcmp(ks->keys[i], key, len) == 0) {
			free(key);
			s->p = from;
			return scan_fail(s, "duplicate key in object");
		}
	/* Two arrays of one length: each grows on its own copy of cap. */
	kcap = lcap = ks->cap;
	if (grow(&ks->keys, &kcap, ks->n + 1, sizeof(*ks->keys)) < 0 ||
	    grow(&ks->lens, &lcap, ks->n + 1, sizeof(*ks->lens)) < 0) {
		free(key);
		return scan_oom(s);
	}
	ks->cap = kcap;
	ks->keys[ks->n] = key;
	ks->lens[ks->n++] = len;
	return 0;
}

static int	scan_value(struct scan *, struct json_object **);

static int
scan_object(struct scan *s, struct json_object **out)
{
	struct keyset		 ks = { NULL, NULL, 0, 0 };
	struct json_object	*v;
	int			 rc = -1;

	if ((*out = json_object_new_object()) == NULL)
		return scan_oom(s);
	s->p++;
	scan_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return 0;
	}
	for (;;) {
		if (s->p == s->end || *s->p != '"') {
			scan_fail(s, "expected a string key");
			goto out;
		}
		if (scan_key(s, &ks) < 0)
			goto out;
		scan_ws(s);
		if (s->p == s->end || *s->p++ != ':') {
			s->p--;
			scan_fail(s, "expected ':'");
			goto out;
		}
		if (scan_value(s, &v) < 0)
			goto out;
		if (json_object_object_add(*out, ks.keys[ks.n - 1], v) != 0) {
			json_object_put(v);
			scan_oom(s);
			goto out;
		}
		scan_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			scan_ws(s);
			continue;
		}
		if (s->p < s->end && *s->p == '}') {
			s->p++;
			rc = 0;
		} else
			scan_fail(s, "expected ',' or '}'");
		break;
	}
out:
	keyset_free(&ks);
	if (rc < 0) {
		json_object_put(*out);
		*out = NULL;
	}
	return rc;
}

static int
scan_array(struct scan *s, struct json_object **out)
{
	struct json_object	*v;
	int			 rc = -1;

	if ((*out = json_object_new_array()) == NULL)
		return scan_oom(s);
	s->p++;
	scan_ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return 0;
	}
	for (;;) {
		if (scan_value(s, &v) < 0)
			break;
		if (json_object_array_add(*out, v) != 0) {
			json_object_put(v);
			scan_oom(s);
			break;
		}
		scan_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == ']') {
			s->p++;
			rc = 0;
		} else
			scan_fail(s, "expected ',' or ']'");
		break;
	}
	if (rc < 0) {
		json_object_put(*out);
		*out = NULL;
	}
	return rc;
}

/* A literal, as json-c makes it: a boolean, or NULL for null. */
static int
scan_literal_value(struct scan *s, const char *word,
    struct json_object **out)
{
	if (scan_literal(s, word) < 0)
		return -1;
	if (strcmp(word, "null") == 0)
		return 0;
	if ((*out = json_object_new_boolean(word[0] == 't')) == NULL)
		return scan_oom(s);
	return 0;
}

/* A value, built into *out (NULL for null), or -1 with *out NULL. */
static int
scan_value(struct scan *s, struct json_object **out)
{
	int	rc;

	*out = NULL;
	scan_ws(s);
	if (s->p == s->end)
		return scan_fail(s, "unexpected end of input");
	switch (*s->p) {
	case '{':
	case '[':
		if (++s->depth > JSONIN_DEPTH)
			return scan_fail(s, "nested too deeply");
		rc = *s->p == '{' ? scan_object(s, out) : scan_array(s, out);
		s->depth--;
		return rc;
	case '"':
		return scan_string_value(s, out);
	case 't':
		return scan_literal_value(s, "true", out);
	case 'f':
		return scan_literal_value(s, "false", out);
	case 'n':
		return scan_literal_value(s, "null", out);
	default:
		if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
			return scan_number(s, out);
		return scan_fail(s, "unexpected character");
	}
}

int
jsonin_parse(const char *text, size_t len, struct json_object **out,
    char *err, size_t errlen)
{
	struct scan	s;

	*out = NULL;
	err[0] = '\0';
	if (len > (size_t)INT32_MAX) {
		snprintf(err, errlen, "body too large to parse");
		return -1;
	}
	memset(&s, 0, sizeof(s));
	s.start = s.p = (const unsigned char *)text;
	s.end = s.start + len;
	s.err = err;
	s.errlen = errlen;
	if (scan_value(&s, out) < 0)
		return s.oom ? JSONIN_NOMEM : -1;
	scan_ws(&s);
	if (s.p == s.end)
		return 0;
	scan_fail(&s, "unexpected data after the document");
	json_object_put(*out);
	*out = NULL;
	return -1;
}
