/*
 * tallyctl share: a customer's Shared Record link (SPEC 8).  The access
 * code is shown only when it is made (create, rotate-code): the store
 * keeps nothing it could be read back from.
 *
 * Each prints "name value" lines on stdout (link, code, policy, ...),
 * for a person and for a script alike.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../common/timefmt.h"
#include "../core/apikey.h"
#include "../core/ids.h"
#include "../core/share.h"
#include "ctl.h"

struct share_args {
	const char		*tenant;
	enum store_env		 env;
	const char		*customer;
	enum share_policy	 policy;
	int			 policy_given;
};

/* --tenant, --env, --customer and (create) --policy; -1: usage. */
static int
share_args_parse(int argc, char *argv[], int with_policy,
    struct share_args *a)
{
	static const struct option opts[] = {
		{ "tenant", required_argument, NULL, 't' },
		{ "env", required_argument, NULL, 'e' },
		{ "customer", required_argument, NULL, 'c' },
		{ "policy", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch;

	memset(a, 0, sizeof(*a));
	a->env = STORE_ENV_LIVE;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 't')
			a->tenant = optarg;
		else if (ch == 'c')
			a->customer = optarg;
		else if (ch == 'e' && strcmp(optarg, "test") == 0)
			a->env = STORE_ENV_TEST;
		else if (ch == 'e' && strcmp(optarg, "live") == 0)
			a->env = STORE_ENV_LIVE;
		else if (ch == 'p' && with_policy &&
		    share_policy_parse(optarg, &a->policy) == 0)
			a->policy_given = 1;
		else
			return -1;
	}
	if (a->tenant == NULL || a->customer == NULL || optind != argc)
		return -1;
	return 0;
}

static void
share_print(const struct conf *conf, const struct share *sh,
    const char *code)
{
	char	link[SHARE_LINK_MAX], when[TIMEFMT_LEN];

	if (share_link(conf->public_url, sh->handle, link, sizeof(link)) < 0)
		snprintf(link, sizeof(link), "/c/%s", sh->handle);
	printf("link %s\n", link);
	if (code != NULL)
		printf("code %s\n", code);
	printf("policy %s\n", share_policy_name(sh->policy));
	printf("tenant %s\n", sh->tenant);
	printf("env %s\n", apikey_env_name(sh->env));
	printf("customer %s\n", sh->customer_id);
	timefmt_rfc3339(sh->created_ms, when);
	printf("created %s\n", when);
	timefmt_rfc3339(sh->code_rotated_ms, when);
	printf("code-rotated %s\n", when);
}

/* A share call's failure, said once; the command's exit status. */
static int
share_failed(const char *what, const struct share_args *a, enum share_rc rc)
{
	if (rc == SHARE_NO_TENANT)
		fprintf(stderr, "tallyctl: no tenant %s\n", a->tenant);
	else if (rc == SHARE_NOTFOUND)
		fprintf(stderr, "tallyctl: customer %s of %s (%s) has no live "
		    "share\n", a->customer, a->tenant,
		    apikey_env_name(a->env));
	else
		fprintf(stderr, "tallyctl: share %s: %s\n", what,
		    share_strerror(rc));
	return 1;
}

int
ctl_share(struct store *st, const struct conf *conf, int argc, char *argv[])
{
	struct share_args	 a;
	struct share		 sh;
	const char		*cmd;
	char			 code[SHARE_CODE_LEN + 1] = "";
	int64_t			 now = timefmt_now_ms();
	enum share_rc		 rc;

	if (argc < 2)
		return ctl_usage();
	cmd = argv[1];
	if (share_args_parse(argc - 1, argv + 1, strcmp(cmd, "create") == 0,
	    &a) < 0)
		return ctl_usage();
	if (!ids_customer_valid(a.customer)) {
		fprintf(stderr, "tallyctl: --customer must be 1 to 128 of "
		    "A-Z a-z 0-9 _ . : -\n");
		return 2;
	}
	if (strcmp(cmd, "create") == 0)
		rc = share_create(st, a.tenant, a.env, a.customer,
		    a.policy_given ? a.policy : SHARE_TWO_TIER, now, &sh, code);
	else if (strcmp(cmd, "show") == 0)
		rc = share_show(st, a.tenant, a.env, a.customer, &sh);
	else if (strcmp(cmd, "rotate-code") == 0)
		rc = share_rotate_code(st, a.tenant, a.env, a.customer, now,
		    &sh, code);
	else if (strcmp(cmd, "revoke") == 0)
		rc = share_revoke(st, a.tenant, a.env, a.customer, now, &sh);
	else
		return ctl_usage();
	if (rc == SHARE_EXISTS) {
		fprintf(stderr, "tallyctl: customer %s has a live share "
		    "already; its code was shown when it was made "
		    "(rotate-code makes a new one)\n", a.customer);
		share_print(conf, &sh, NULL);
		return 0;
	}
	if (rc != SHARE_OK)
		return share_failed(cmd, &a, rc);
	if (strcmp(cmd, "revoke") == 0) {
		printf("share %s of customer %s revoked: the link is dead\n",
		    sh.handle, sh.customer_id);
		return 0;
	}
	if (code[0] != '\0')
		fprintf(stderr, "tallyctl: the access code is shown only now; "
		    "print it beside the link\n");
	share_print(conf, &sh, code[0] != '\0' ? code : NULL);
	explicit_bzero(code, sizeof(code));
	return 0;
}
