/*
 * Fuzzes the JCS canonicaliser (common/jcs.c) behind the strict JSON
 * reader (common/jsonin.c), as every body and leaf goes through them.
 *
 * Whatever jsonin accepts and jcs serialises must be JSON that jsonin
 * accepts again, and canonicalising canonical text must give the same
 * bytes: a hash of a canonical form is only shared if it is a fixpoint.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../../common/jcs.h"
#include "../../common/jsonin.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The canonical form of len bytes of JSON into out; -1 if refused. */
static int
canonical(const char *text, size_t len, struct sbuf *out)
{
	struct json_object	*obj = NULL;
	char			 err[160];
	int			 rc;

	if (jsonin_parse(text, len, &obj, err, sizeof(err)) < 0)
		return -1;
	rc = jcs_serialize(obj, out);
	json_object_put(obj);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf	once = { 0 }, twice = { 0 };

	/* NaN and infinity (1e999) are refused, as JSON cannot carry them. */
	if (canonical((const char *)data, size, &once) == 0) {
		if (canonical(once.buf, once.len, &twice) < 0 ||
		    once.len != twice.len ||
		    memcmp(once.buf, twice.buf, once.len) != 0)
			abort();
	}
	sbuf_free(&once);
	sbuf_free(&twice);
	return 0;
}
