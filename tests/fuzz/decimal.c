/*
 * Fuzzes the exact-decimal parser (common/decimal.c) both ways.
 *
 * Text: whatever decimal_parse accepts must format to a shortest form
 * that parses back to the same value and formats to itself.
 * Value: the first 16 bytes as a decimal_t; any value within the parser's
 * 36 significant digits must survive format then parse unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/decimal.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* format(v) parses back to v and is its own shortest form. */
static void
decimal_round_trip(decimal_t v)
{
	char		text[DECIMAL_MAX], again[DECIMAL_MAX];
	decimal_t	back;

	decimal_format(v, text);
	if (decimal_parse(text, strlen(text), &back) != DECIMAL_OK ||
	    back != v)
		abort();
	decimal_format(back, again);
	if (strcmp(text, again) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* 10^27 units of 10^-9: the 36 digits decimal_parse keeps. */
	const decimal_t	limit = (decimal_t)1000000000000000000LL *
			    1000000000LL * 1000000000LL;
	decimal_t	v;
	char		text[DECIMAL_MAX];

	if (decimal_parse((const char *)data, size, &v) == DECIMAL_OK)
		decimal_round_trip(v);
	if (size >= sizeof(v)) {
		memcpy(&v, data, sizeof(v));
		if (v < limit && v > -limit)
			decimal_round_trip(v);
		else	/* past the parser's range: it must still format */
			decimal_format(v, text);
	}
	return 0;
}
