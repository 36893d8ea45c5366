/* What several groups of handlers share. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/ids.h"
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
