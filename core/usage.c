#include <string.h>

#include "../common/timefmt.h"
#include "usage.h"

struct usage_read {
	const char	*tenant;
	enum store_env	 env;
	struct usage	*u;
};

static int
usage_txn(struct store_txn *t, void *arg)
{
	struct usage_read	*r = arg;
	struct usage		*u = r->u;
	int			 rc;

	if ((rc = store_usage_get(t, r->tenant, r->env, u->month,
	    &u->used)) != STORE_OK)
		return rc;
	rc = store_quota_get(t, r->tenant, r->env, &u->limit);
	u->limited = rc == STORE_OK;
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

int
usage_get(struct store *st, const char *tenant, enum store_env env,
    int64_t now_ms, struct usage *u)
{
	struct usage_read	r = { tenant, env, u };
	int			rc;

	memset(u, 0, sizeof(*u));
	u->month = timefmt_month(now_ms);
	if ((rc = store_read(st, usage_txn, &r)) != STORE_OK)
		return rc;
	u->allowed = !u->limited || u->used < u->limit;
	u->remaining = u->limited && u->used < u->limit ? u->limit - u->used :
	    0;
	return STORE_OK;
}
