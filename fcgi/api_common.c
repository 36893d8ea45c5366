/* What several groups of handlers share. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../common/sbuf.h"
#include "../common/timefmt.h"
#include "../core/balance.h"
#include "../core/ids.h"
#include "../core/view.h"
#include "api.h"

int
api_vendor_only(struct ctx *c)
{
	if (c->who.kind == STORE_KEY_VENDOR)
		return 1;
	response_error(c->resp, API_FORBIDDEN, NULL, NULL,
	    "this key is read-only (customer key)");
	return 0;
}

int
api_query_u64(struct ctx *c, const char *name, uint64_t *out)
{
	char			 text[24], *end;
	unsigned long long	 v;
	int			 rc;

	if ((rc = request_query(c->req, name, text, sizeof(text))) == 0)
		return 0;
	errno = 0;
	if (rc > 0 && text[0] >= '0' && text[0] <= '9' &&
	    (text[0] != '0' || text[1] == '\0')) {
		v = strtoull(text, &end, 10);
		if (errno == 0 && *end == '\0') {
			*out = v;
			return 1;
		}
	}
	response_error(c->resp, API_VALIDATION_ERROR, name, NULL,
	    "%s must be a non-negative integer", name);
	return -1;
}

int
api_query_range(struct ctx *c, const char *name, uint64_t min, uint64_t max,
    uint64_t *out)
{
	int	rc;

	if ((rc = api_query_u64(c, name, out)) <= 0 ||
	    (*out >= min && *out <= max))
		return rc;
	response_error(c->resp, API_VALIDATION_ERROR, name, NULL,
	    "%s must be from %llu to %llu", name, (unsigned long long)min,
	    (unsigned long long)max);
	return -1;
}

int
api_customer_access(struct ctx *c, const char *customer_id)
{
	if (c->who.kind == STORE_KEY_CUSTOMER &&
	    strcmp(c->who.customer_id, customer_id) != 0) {
		response_error(c->resp, API_FORBIDDEN, NULL, NULL,
		    "this key may only read customer %s", c->who.customer_id);
		return 0;
	}
	if (!ids_customer_valid(customer_id)) {
		response_error(c->resp, API_CUSTOMER_NOT_FOUND, "customerId",
		    NULL, "no such customer");
		return 0;
	}
	return 1;
}

void
api_unavailable(struct ctx *c)
{
	response_error(c->resp, API_SERVICE_UNAVAILABLE, NULL, NULL,
	    "the record could not be read, try again");
}

int
api_records_begin(void *page)
{
	struct sbuf	*sb = page;

	view_records_begin(sb);
	return sb->oom ? STORE_NOMEM : STORE_OK;
}

int
api_records_add(struct store_delta *d, void *page)
{
	struct sbuf	*sb = page;

	view_records_add(sb, d);
	return sb->oom ? STORE_NOMEM : STORE_OK;
}

void
api_balance_fail(struct ctx *c, enum balance_result r, const char *customer,
    const struct balance_scope *scope, const char *wide_field,
    const char *wide_fmt, ...)
{
	va_list	ap;
	char	wide[200];

	switch (r) {
	case BALANCE_OK:
		break;
	case BALANCE_NO_CUSTOMER:
		response_error(c->resp, API_CUSTOMER_NOT_FOUND, "customerId",
		    NULL, "no deltas recorded for customer %s", customer);
		break;
	case BALANCE_NO_CHECKPOINT:
		if (scope == NULL) {
			api_unavailable(c);
			break;
		}
		response_error(c->resp, API_CHECKPOINT_NOT_FOUND,
		    "startingCheckpoint", NULL, "no checkpoint %s",
		    scope->checkpoint);
		break;
	case BALANCE_TOO_WIDE:
		if (wide_fmt == NULL) {
			api_unavailable(c);
			break;
		}
		va_start(ap, wide_fmt);
		vsnprintf(wide, sizeof(wide), wide_fmt, ap);
		va_end(ap);
		response_error(c->resp, API_SCOPE_TOO_WIDE, wide_field, NULL,
		    "%s", wide);
		break;
	case BALANCE_NOMEM:
		response_out_of_memory(c->resp);
		break;
	case BALANCE_UNAVAILABLE:
		api_unavailable(c);
		break;
	}
}

/* A scope field from the query string; an empty value counts as absent. */
int
api_query_field(void *arg, const char *name, char *out, size_t outlen)
{
	struct ctx	*c = arg;
	int		 rc = request_query(c->req, name, out, outlen);

	return rc > 0 && out[0] == '\0' ? 0 : rc;
}

/* A scope field from the JSON body; null or "" counts as absent. */
int
api_body_field(void *arg, const char *name, char *out, size_t outlen)
{
	struct ctx		*c = arg;
	struct json_object	*v;
	const char		*s;

	if (!json_object_object_get_ex(c->body, name, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string) ||
	    strlen(s = json_object_get_string(v)) >= outlen)
		return -1;
	memcpy(out, s, strlen(s) + 1);
	return out[0] != '\0';
}

int
api_scope(struct ctx *c, balance_field_fn get, struct balance_scope *s)
{
	struct balance_error	err;

	if (balance_scope_parse(get, c, timefmt_now_ms(), s, &err) == 0)
		return 0;
	response_error(c->resp, err.combination ?
	    API_INVALID_SCOPE_COMBINATION : API_VALIDATION_ERROR, err.field,
	    NULL, "%s", err.message);
	return -1;
}

/* period=YYYY-MM in the query into *month (-1 if absent); -1 on 400. */
int
api_query_period(struct ctx *c, int *month)
{
	char	text[16];
	int	rc;

	*month = -1;
	if ((rc = api_query_field(c, "period", text, sizeof(text))) == 0)
		return 0;
	if (rc > 0 && timefmt_parse_period(text, month) == 0)
		return 0;
	response_error(c->resp, API_VALIDATION_ERROR, "period", NULL,
	    "period must be a UTC month, YYYY-MM");
	return -1;
}

int
api_page_query(struct ctx *c, struct api_page *pg, uint64_t dflt, uint64_t max)
{
	pg->limit = dflt;
	pg->offset = 0;
	if (api_query_range(c, "limit", 1, max, &pg->limit) < 0 ||
	    api_query_u64(c, "offset", &pg->offset) < 0)
		return -1;
	return 0;
}

int
api_page_start(struct api_page *pg)
{
	pg->total = 0;
	json_object_put(pg->list);
	return (pg->list = view_array()) == NULL ? STORE_NOMEM : STORE_OK;
}

int
api_page_wants(struct api_page *pg)
{
	return pg->total++ >= pg->offset &&
	    json_object_array_length(pg->list) < pg->limit;
}

void
api_page_answer(struct ctx *c, struct api_page *pg, const char *name)
{
	response_success(c->resp, 200, view_list(name, pg->list,
	    view_pagination(pg->limit, pg->offset, pg->total)));
	pg->list = NULL;
}

/* Exact decimal text into *v; 0, or -1 after answering 400. */
int
api_amount(struct ctx *c, const char *name, const char *text, decimal_t *v)
{
	if (text != NULL && decimal_parse(text, strlen(text), v) == DECIMAL_OK)
		return 0;
	response_error(c->resp, API_VALIDATION_ERROR, name, NULL,
	    "%s must be a number with at most 9 digits after the point",
	    name);
	return -1;
}

/*
 * An amount in the body: a JSON number, or a string holding one (some
 * clients send amounts as strings to keep them exact).  1, 0, -1.
 */
int
api_body_amount(struct ctx *c, struct json_object *obj, const char *name,
    const char *label, int required, decimal_t *v)
{
	struct json_object	*m;
	const char		*text = NULL;

	if (!json_object_object_get_ex(obj, name, &m) || m == NULL) {
		if (!required)
			return 0;
		response_error(c->resp, API_VALIDATION_ERROR, label, NULL,
		    "%s is required", label);
		return -1;
	}
	if (json_object_is_type(m, json_type_int) ||
	    json_object_is_type(m, json_type_double) ||
	    json_object_is_type(m, json_type_string)) {
		/* A number's text is written on demand, into memory. */
		if ((text = json_object_get_string(m)) == NULL) {
			response_out_of_memory(c->resp);
			return -1;
		}
	}
	return api_amount(c, label, text, v) < 0 ? -1 : 1;
}
