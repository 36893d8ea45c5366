#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jcs.h"

int
jcs_number(double d, struct sbuf *out)
{
	char	buf[40], digits[20];
	int	prec, k = 0, n, i;
	char	*e;

	if (!isfinite(d))
		return -1;
	if (d == 0) {			/* both zeros */
		sbuf_addc(out, '0');
		return 0;
	}
	if (d < 0) {
		sbuf_addc(out, '-');
		d = -d;
	}
	/*
	 * The shortest digit string that reads back as the same double;
	 * %.*e rounds correctly, so at each length it is the nearest.
	 */
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	for (i = 0; buf[i] != 'e'; i++)
		if (buf[i] != '.')
			digits[k++] = buf[i];
	e = buf + i + 1;
	n = atoi(e) + 1;	/* d = 0.digits * 10^n */
	while (k > 1 && digits[k - 1] == '0')
		k--;

	if (k <= n && n <= 21) {
		sbuf_add(out, digits, (size_t)k);
		for (i = k; i < n; i++)
			sbuf_addc(out, '0');
	} else if (0 < n && n <= 21) {
		sbuf_add(out, digits, (size_t)n);
		sbuf_addc(out, '.');
		sbuf_add(out, digits + n, (size_t)(k - n));
	} else if (-6 < n && n <= 0) {
		sbuf_adds(out, "0.");
		for (i = n; i < 0; i++)
			sbuf_addc(out, '0');
		sbuf_add(out, digits, (size_t)k);
	} else {
		sbuf_addc(out, digits[0]);
		if (k > 1) {
			sbuf_addc(out, '.');
			sbuf_add(out, digits + 1, (size_t)(k - 1));
		}
		sbuf_addf(out, "e%c%d", n - 1 < 0 ? '-' : '+',
		    n - 1 < 0 ? 1 - n : n - 1);
	}
	return 0;
}

void
jcs_string(const char *s, size_t len, struct sbuf *out)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i, run = 0;
	unsigned char		c;

	sbuf_addc(out, '"');
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		sbuf_add(out, s + run, i - run);
		run = i + 1;
		sbuf_addc(out, '\\');
		switch (c) {
		case '"':  sbuf_addc(out, '"'); break;
		case '\\': sbuf_addc(out, '\\'); break;
		case '\b': sbuf_addc(out, 'b'); break;
		case '\f': sbuf_addc(out, 'f'); break;
		case '\n': sbuf_addc(out, 'n'); break;
		case '\r': sbuf_addc(out, 'r'); break;
		case '\t': sbuf_addc(out, 't'); break;
		default:
			sbuf_adds(out, "u00");
			sbuf_addc(out, hex[c >> 4]);
			sbuf_addc(out, hex[c & 0xf]);
		}
	}
	sbuf_add(out, s + run, len - run);
	sbuf_addc(out, '"');
}

/* The next UTF-16 code unit of a UTF-8 string (input already valid). */
struct u16iter {
	const unsigned char	*p, *end;
	unsigned		 low;	/* pending low surrogate, or 0 */
};

static int
u16_next(struct u16iter *it, unsigned *unit)
{
	unsigned	c, cp;
	int		n;

	if (it->low) {
		*unit = it->low;
		it->low = 0;
		return 1;
	}
	if (it->p >= it->end)
		return 0;
	c = *it->p++;
	if (c < 0x80) {
		*unit = c;
		return 1;
	}
	n = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
	cp = c & (0x3f >> n);
	while (n-- > 0 && it->p < it->end)
		cp = cp << 6 | (*it->p++ & 0x3f);
	if (cp >= 0x10000) {
		cp -= 0x10000;
		*unit = 0xd800 | cp >> 10;
		it->low = 0xdc00 | (cp & 0x3ff);
	} else
		*unit = cp;
	return 1;
}

struct member {
	const char		*key;
	size_t			 klen;
	struct json_object	*val;
};

static int
member_cmp(const void *a, const void *b)
{
	const struct member	*ma = a, *mb = b;
	struct u16iter		 ia = { (const unsigned char *)ma->key,
				    (const unsigned char *)ma->key + ma->klen,
				    0 };
	struct u16iter		 ib = { (const unsigned char *)mb->key,
				    (const unsigned char *)mb->key + mb->klen,
				    0 };
	unsigned		 ua, ub;
	int			 ha, hb;

	for (;;) {
		ha = u16_next(&ia, &ua);
		hb = u16_next(&ib, &ub);
		if (!ha || !hb)
			return ha - hb;
		if (ua != ub)
			return ua < ub ? -1 : 1;
	}
}

static int
jcs_object(struct json_object *obj, struct sbuf *out)
{
	struct member	*m;
	size_t		 n = (size_t)json_object_object_length(obj), i = 0;
	int		 rc = 0;

	if ((m = calloc(n ? n : 1, sizeof(*m))) == NULL)
		return -1;
	json_object_object_foreach(obj, key, val) {
		m[i].key = key;
		m[i].klen = strlen(key);
		m[i].val = val;
		i++;
	}
	qsort(m, n, sizeof(*m), member_cmp);
	sbuf_addc(out, '{');
	for (i = 0; i < n && rc == 0; i++) {
		if (i > 0)
			sbuf_addc(out, ',');
		jcs_string(m[i].key, m[i].klen, out);
		sbuf_addc(out, ':');
		rc = jcs_serialize(m[i].val, out);
	}
	sbuf_addc(out, '}');
	free(m);
	return rc;
}

int
jcs_serialize(struct json_object *obj, struct sbuf *out)
{
	size_t	i, n;
	int64_t	iv;

	switch (json_object_get_type(obj)) {
	case json_type_null:
		sbuf_adds(out, "null");
		break;
	case json_type_boolean:
		sbuf_adds(out, json_object_get_boolean(obj) ? "true" : "false");
		break;
	case json_type_int:
		/* I-JSON: every number is an IEEE double, big integers too. */
		iv = json_object_get_int64(obj);
		if (iv == INT64_MAX)
			return jcs_number((double)json_object_get_uint64(obj),
			    out);
		return jcs_number((double)iv, out);
	case json_type_double:
		return jcs_number(json_object_get_double(obj), out);
	case json_type_string:
		jcs_string(json_object_get_string(obj),
		    (size_t)json_object_get_string_len(obj), out);
		break;
	case json_type_array:
		n = json_object_array_length(obj);
		sbuf_addc(out, '[');
		for (i = 0; i < n; i++) {
			if (i > 0)
				sbuf_addc(out, ',');
			if (jcs_serialize(json_object_array_get_idx(obj, i),
			    out) < 0)
				return -1;
		}
		sbuf_addc(out, ']');
		break;
	case json_type_object:
		return jcs_object(obj, out) < 0 || out->oom ? -1 : 0;
	}
	return out->oom ? -1 : 0;
}
