/*
 * Fuzzes the validation of the bodies that record deltas: POST
 * /api/v1/balance/delta (emit_parse on the body) and .../delta/batch
 * (emit_batch_deltas, then emit_parse on each item), behind the strict
 * JSON reader, exactly as app.c and api_delta.c run them.  Every input is
 * tried both ways; each refuses the other's shape at once.
 *
 * What emit_parse accepts must be what it promises: a valid customer id,
 * a canonical non-zero amount within the limit, metadata in JCS form.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../../common/jcs.h"
#include "../../common/jsonin.h"
#include "../../core/emit.h"
#include "../../core/ids.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Metadata is stored and hashed as is: it must be its own JCS form. */
static void
check_metadata(const char *text)
{
	struct json_object	*obj = NULL;
	struct sbuf		 sb = { 0 };
	char			 why[160];
	size_t			 len = strlen(text);

	if (len > EMIT_METADATA_BYTES ||
	    jsonin_parse(text, len, &obj, why, sizeof(why)) < 0 ||
	    !json_object_is_type(obj, json_type_object) ||
	    jcs_serialize(obj, &sb) < 0 || sb.len != len ||
	    memcmp(sb.buf, text, len) != 0)
		abort();
	sbuf_free(&sb);
	json_object_put(obj);
}

static void
check_accepted(const struct emit_input *in)
{
	const decimal_t	 limit = (decimal_t)EMIT_DELTA_LIMIT * DECIMAL_SCALE;
	decimal_t	 amount;
	char		 text[DECIMAL_MAX];

	if (!ids_customer_valid(in->customer_id) || in->reason[0] == '\0')
		abort();
	if (in->amount == 0 || in->amount > limit || in->amount < -limit)
		abort();
	decimal_format(in->amount, text);
	if (strcmp(text, in->delta) != 0 ||
	    decimal_parse(in->delta, strlen(in->delta), &amount) !=
	    DECIMAL_OK || amount != in->amount)
		abort();
	if (in->metadata != NULL)
		check_metadata(in->metadata);
	if ((in->adjusts != EMIT_ADJUSTS_NONE) != (in->adjusts_id != NULL) ||
	    (in->has_reference != 0) != (in->reference_id != NULL))
		abort();
}

/* One delta object: accepted as promised, or refused with a reason. */
static void
delta_parse(struct json_object *obj)
{
	struct emit_input	in;
	struct emit_error	err;

	if (emit_parse(obj, &in, &err) == 0)
		check_accepted(&in);
	else if (err.message[0] == '\0')
		abort();
	emit_input_free(&in);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object	*body = NULL, *deltas;
	struct emit_error	 err;
	char			 why[160];
	size_t			 i, n;

	if (jsonin_parse((const char *)data, size, &body, why,
	    sizeof(why)) < 0)
		return 0;
	/* app.c hands only an object body to a handler. */
	if (json_object_is_type(body, json_type_object)) {
		delta_parse(body);
		if ((deltas = emit_batch_deltas(body, &err)) != NULL) {
			n = json_object_array_length(deltas);
			for (i = 0; i < n; i++)
				delta_parse(json_object_array_get_idx(deltas,
				    i));
		} else if (err.message[0] == '\0')
			abort();
	}
	json_object_put(body);
	return 0;
}
