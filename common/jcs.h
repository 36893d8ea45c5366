/*
 * RFC 8785 JSON Canonicalization Scheme: one byte sequence per JSON
 * value, so that a hash of it is the same for everyone who holds the
 * value.  Object members sorted by their names' UTF-16 code units,
 * strings escaped minimally, numbers in ECMAScript's shortest form.
 */
#ifndef TALLY_JCS_H
#define TALLY_JCS_H

#include "sbuf.h"

struct json_object;

/*
 * Appends the canonical form of obj to out.  Returns 0, or -1 for a
 * value JSON cannot carry (NaN, infinity) or when out ran out of memory.
 */
int	jcs_serialize(struct json_object *obj, struct sbuf *out);
/* A string of len bytes (valid UTF-8), quoted and escaped. */
void	jcs_string(const char *, size_t len, struct sbuf *out);
/* A double in ECMAScript Number.prototype.toString form; -1 if not finite. */
int	jcs_number(double, struct sbuf *out);

#endif
