#include "base64.h"

static const char	base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
base64_encode(const uint8_t *in, size_t len, char *out)
{
	size_t		i, n = 0;
	uint32_t	v;

	for (i = 0; i + 3 <= len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		out[n++] = base64_alphabet[v >> 18];
		out[n++] = base64_alphabet[v >> 12 & 0x3f];
		out[n++] = base64_alphabet[v >> 6 & 0x3f];
		out[n++] = base64_alphabet[v & 0x3f];
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[n++] = base64_alphabet[v >> 18];
		out[n++] = base64_alphabet[v >> 12 & 0x3f];
		out[n++] = '=';
		out[n++] = '=';
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[n++] = base64_alphabet[v >> 18];
		out[n++] = base64_alphabet[v >> 12 & 0x3f];
		out[n++] = base64_alphabet[v >> 6 & 0x3f];
		out[n++] = '=';
	}
	out[n] = '\0';
	return n;
}

static int
base64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Only the canonical encoding decodes, so that every byte string has
 * exactly one text: a signed note then cannot be altered into another
 * that still verifies, and tests can compare encodings as strings.
 */
int
base64_decode(const char *text, size_t len, uint8_t *out, size_t outmax,
    size_t *outlen)
{
	size_t		i, j, n = 0, pad;
	uint32_t	v;
	int		c;

	if (len % 4 != 0)
		return -1;
	for (i = 0; i < len; i += 4) {
		/* '=' may only end the last quartet, once or twice. */
		pad = 0;
		if (i + 4 == len && text[i + 3] == '=')
			pad = text[i + 2] == '=' ? 2 : 1;
		v = 0;
		for (j = 0; j < 4 - pad; j++) {
			if ((c = base64_value(text[i + j])) < 0)
				return -1;
			v |= (uint32_t)c << (18 - 6 * j);
		}
		/* The bits below the last byte must be zero. */
		if ((pad == 1 && (v & 0xff) != 0) ||
		    (pad == 2 && (v & 0xffff) != 0))
			return -1;
		if (outmax - n < 3 - pad)
			return -1;
		out[n++] = v >> 16;
		if (pad < 2)
			out[n++] = v >> 8 & 0xff;
		if (pad < 1)
			out[n++] = v & 0xff;
	}
	*outlen = n;
	return 0;
}
