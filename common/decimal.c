#include <string.h>

#include "decimal.h"

/* 10^37 is beyond any sum we allow; 36 digits keep a margin in 2^127. */
#define SIG_DIGITS_MAX	36

enum decimal_rc
decimal_parse(const char *text, size_t len, decimal_t *out)
{
	const char	*p = text, *end = text + len;
	char		 digits[64];
	size_t		 nd = 0, pending = 0, i;
	long		 exp10 = 0, e = 0;
	int		 neg = 0, eneg = 0, seen = 0, frac = 0, exp_digits = 0;
	decimal_t	 v = 0;

	*out = 0;
	if (p < end && *p == '-') {
		neg = 1;
		p++;
	}
	/*
	 * Mantissa: keep significant digits and count the decimal shift.
	 * Zeros after the last non-zero digit are only counted (pending),
	 * so "1.000…000" of any length is 1, not a buffer overflow.
	 */
	for (; p < end; p++) {
		if (*p == '.' && !frac) {
			frac = 1;
			continue;
		}
		if (*p < '0' || *p > '9')
			break;
		seen = 1;
		if (frac)
			exp10--;
		if (*p == '0') {
			if (nd > 0)
				pending++;
			continue;
		}
		if (nd + pending + 1 > sizeof(digits))
			return DECIMAL_RANGE;
		for (; pending > 0; pending--)
			digits[nd++] = '0';
		digits[nd++] = *p;
	}
	/* Zeros after the last significant digit only move the exponent. */
	exp10 += (long)pending;
	if (!seen)
		return DECIMAL_SYNTAX;
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		for (; p < end && *p >= '0' && *p <= '9'; p++, exp_digits++)
			if (e < 100000)		/* far past any valid value */
				e = e * 10 + (*p - '0');
		if (exp_digits == 0)
			return DECIMAL_SYNTAX;
		exp10 += eneg ? -e : e;
	}
	if (p != end)
		return DECIMAL_SYNTAX;
	if (nd == 0)
		return DECIMAL_OK;
	exp10 += 9;		/* now a count of nano-units */
	if (exp10 < 0)
		return DECIMAL_PRECISION;
	if ((long)nd + exp10 > SIG_DIGITS_MAX)
		return DECIMAL_RANGE;
	for (i = 0; i < nd; i++)
		v = v * 10 + (digits[i] - '0');
	for (; exp10 > 0; exp10--)
		v *= 10;
	*out = neg ? -v : v;
	return DECIMAL_OK;
}

void
decimal_format(decimal_t v, char out[DECIMAL_MAX])
{
	char		 rev[DECIMAL_MAX];
	unsigned __int128 u;
	size_t		 n = 0, o = 0, i;
	int		 place;

	u = v < 0 ? (unsigned __int128)(-(v + 1)) + 1 : (unsigned __int128)v;
	/* Digits least significant first: 9 decimals, then the integer. */
	for (place = 0; place < 9 || u > 0 || place == 9; place++) {
		rev[n++] = (char)('0' + (int)(u % 10));
		u /= 10;
		if (place >= 9 && u == 0)
			break;
	}
	if (v < 0)
		out[o++] = '-';
	for (i = n; i > 9; i--)
		out[o++] = rev[i - 1];
	/* Decimals, without trailing zeros. */
	for (place = 0; place < 9 && rev[place] == '0'; place++)
		;
	if (place < 9) {
		out[o++] = '.';
		for (i = 9; i > (size_t)place; i--)
			out[o++] = rev[i - 1];
	}
	out[o] = '\0';
}
