/*
 * tallyctl signing-key generate|rotate [--no-endorse]|list, and tallyctl
 * verify.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../common/timefmt.h"
#include "../core/audit.h"
#include "../core/tlog.h"
#include "ctl.h"

static int
ctl_key_new(struct store *st, const struct conf *conf, enum sigkey_alg alg,
    int flags)
{
	struct store_signkey	rec;
	char			err[600];

	if (tlog_key_generate(st, conf->data_dir, conf->log_origin, alg,
	    flags, &rec, err, sizeof(err)) != TLOG_KEY_OK) {
		fprintf(stderr, "tallyctl: signing-key: %s\n", err);
		return 1;
	}
	printf("signing key %s (%s) %s; private key in %s/%s\n", rec.key_id,
	    rec.alg, flags & TLOG_KEY_ROTATE ? "now signs, the previous one "
	    "is retired" : "generated", conf->data_dir, rec.file);
	if (rec.rotation == STORE_ROTATION_ENDORSED)
		printf("endorsed by %s, the key it replaces: customers who "
		    "trust %s now trust it too\n", rec.replaces, rec.replaces);
	else if (rec.rotation == STORE_ROTATION_UNENDORSED)
		printf("NOT endorsed (--no-endorse): every customer must "
		    "confirm key ID %s with you before tally-verify accepts "
		    "it\n", rec.key_id);
	return 0;
}

int
ctl_signing_key_ensure(struct store *st, const struct conf *conf)
{
	struct store_signkey	rec;
	int			rc;

	rc = tlog_key_active(st, &rec);
	if (rc == STORE_OK)
		return 0;
	if (rc != STORE_NOTFOUND)
		return ctl_fail("signing key", rc);
	return ctl_key_new(st, conf, SIGKEY_ECDSA_P256, 0);
}

/* How k came to sign, checking an endorsement against its endorser. */
static void
ctl_key_rotation(struct store_txn *t, const struct store_signkey *k,
    char *out, size_t len)
{
	struct store_signkey	by;

	switch (k->rotation) {
	case STORE_ROTATION_GENESIS:
		snprintf(out, len, "genesis");
		break;
	case STORE_ROTATION_ENDORSED:
		snprintf(out, len, "endorsed-by-%s%s", k->replaces,
		    store_signkey_get(t, k->replaces, &by) == STORE_OK &&
		    tlog_key_endorsed(k, &by) == 0 ? "" : "(BROKEN)");
		break;
	case STORE_ROTATION_UNENDORSED:
		snprintf(out, len, "UNENDORSED(--no-endorse)");
		break;
	default:
		snprintf(out, len, "unrecorded");
	}
}

static int
ctl_key_print(const struct store_signkey *k, void *arg)
{
	char	from[TIMEFMT_LEN], to[TIMEFMT_LEN], how[64];

	timefmt_rfc3339(k->valid_from_ms, from);
	if (k->valid_to_ms != 0)
		timefmt_rfc3339(k->valid_to_ms, to);
	ctl_key_rotation(arg, k, how, sizeof(how));
	printf("%-8s  %-10s  %s  %-24s  %-24s  %s\n", k->key_id, k->alg, from,
	    k->valid_to_ms != 0 ? to : "(signing)", how, k->name);
	return 0;
}

static int
ctl_key_list(struct store_txn *t, void *arg)
{
	(void)arg;
	return store_signkey_each(t, ctl_key_print, t);
}

int
ctl_signing_key(struct store *st, const struct conf *conf, int argc,
    char *argv[])
{
	static const struct option opts[] = {
		{ "alg", required_argument, NULL, 'a' },
		{ "no-endorse", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	enum sigkey_alg	alg = SIGKEY_ECDSA_P256;
	int		ch, rc, flags = 0;

	/* argv[0] is "signing-key", argv[1] the action. */
	if (argc < 2)
		return ctl_usage();
	if (strcmp(argv[1], "list") == 0 && argc == 2) {
		if ((rc = store_read(st, ctl_key_list, NULL)) != STORE_OK)
			return ctl_fail("signing-key list", rc);
		return 0;
	}
	if (strcmp(argv[1], "generate") != 0 && strcmp(argv[1], "rotate") != 0)
		return ctl_usage();
	if (strcmp(argv[1], "rotate") == 0)
		flags |= TLOG_KEY_ROTATE;
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		/* Only a rotation has a predecessor to endorse it. */
		if (ch == 'n' && (flags & TLOG_KEY_ROTATE))
			flags |= TLOG_KEY_NO_ENDORSE;
		else if (ch != 'a' || sigkey_alg_parse(optarg, &alg) < 0)
			return ctl_usage();
	}
	if (optind != argc)
		return ctl_usage();
	return ctl_key_new(st, conf, alg, flags);
}

static void
ctl_verify_report(void *arg, enum audit_finding kind, const char *line)
{
	(void)arg;
	printf("%s %s\n", kind == AUDIT_WARNING ? "WARN" : "FAIL", line);
}

int
ctl_verify(struct store *st, int argc, char *argv[])
{
	struct audit_result	res;
	int			rc;

	(void)argv;
	if (argc != 1)
		return ctl_usage();
	if ((rc = audit_run(st, ctl_verify_report, NULL, &res)) != STORE_OK)
		return ctl_fail("verify", rc);
	printf("verify: %llu leaves, %llu tree nodes, %llu signed tree heads, "
	    "%llu signing keys, %llu customers (%llu positions, %llu months), "
	    "%llu usage counters, %llu checkpoints: %s\n",
	    (unsigned long long)res.leaves, (unsigned long long)res.nodes,
	    (unsigned long long)res.heads, (unsigned long long)res.keys,
	    (unsigned long long)res.customers,
	    (unsigned long long)res.positions, (unsigned long long)res.months,
	    (unsigned long long)res.usage, (unsigned long long)res.checkpoints,
	    res.problems == 0 ? "everything holds" : "PROBLEMS FOUND");
	if (res.busy != 0)
		printf("verify: %llu totals kept changing while read and were "
		    "not checked\n", (unsigned long long)res.busy);
	if (res.problems != 0)
		printf("verify: %llu problems\n",
		    (unsigned long long)res.problems);
	/*
	 * A warning is a fact of the record, not a fault of the store: it
	 * stays true whatever is done, so it cannot fail verify for good.
	 */
	if (res.warnings != 0)
		printf("verify: %llu warnings (not repaired: see the WARN "
		    "lines)\n", (unsigned long long)res.warnings);
	return res.problems == 0 ? 0 : 1;
}
