/*
 * Exact decimal amounts.  An amount is a count of nano-units (10^-9), in
 * a 128-bit integer: every delta the API accepts (|d| <= 10^9, at most 9
 * digits after the point) is exact, and sums of up to 10^20 of them
 * cannot overflow.  No binary floating point touches an amount.
 */
#ifndef TALLY_DECIMAL_H
#define TALLY_DECIMAL_H

#include <stddef.h>

typedef __int128	decimal_t;

#define DECIMAL_SCALE	1000000000LL	/* nano-units per unit */
#define DECIMAL_MAX	44		/* formatted length bound, with NUL */

enum decimal_rc {
	DECIMAL_OK = 0,
	DECIMAL_SYNTAX,		/* not a JSON number */
	DECIMAL_PRECISION,	/* a non-zero digit beyond the 9th decimal */
	DECIMAL_RANGE		/* far too large to be an amount */
};

/*
 * Parses JSON number text ("12", "-0.5", "1e3", "2.50E-1") exactly.
 * The value decides, not the spelling: "1.0000000000" is 1, while
 * "0.0000000001" has a tenth decimal and is DECIMAL_PRECISION.
 */
enum decimal_rc	decimal_parse(const char *text, size_t len, decimal_t *out);
/* Shortest exact form: "-12.5", "1000", "0.000000001". */
void		decimal_format(decimal_t, char out[DECIMAL_MAX]);

#endif
