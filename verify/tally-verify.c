/*
 * tally-verify: checks a checkpoint receipt offline, with nothing but
 * the log's public key (SPEC 4.5, docs/receipt.md).
 *
 *   tally-verify RECEIPT.json (--key KEY.pem | --keys KEYS.json)...
 *       [--previous PREV.json] [--list]
 *   tally-verify --head NOTE_FILE (--key KEY.pem | --keys KEYS.json)...
 *   tally-verify --help | --version
 *
 * --key and --keys may be repeated and mixed: each --key is trusted, the
 * first keys file's oldest key is, and the keys endorsed by a trusted
 * key, in a keys file or in the receipt, are (verify.h, keyring).
 * Prints the keys and how each is trusted, one line per check and a
 * summary; exits 0 only if every check holds, 1 if one failed, 2 for
 * bad usage or a file it cannot read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../common/grow.h"
#include "../common/version.h"
#include "verify.h"

#define ARGS_KEYS_MAX	16	/* --key and --keys, each */

struct args {
	const char	*receipt, *head, *previous;
	const char	*key[ARGS_KEYS_MAX], *keys[ARGS_KEYS_MAX];
	size_t		 nkey, nkeys;
	int		 list;		/* --list: the deltas as a table */
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: tally-verify RECEIPT.json (--key KEY.pem | "
	    "--keys KEYS.json)... [--previous PREV.json] [--list]\n"
	    "       tally-verify --head NOTE_FILE (--key KEY.pem | "
	    "--keys KEYS.json)...\n"
	    "       tally-verify --help | --version\n");
}

/* One more --key or --keys into list; -1 (with a message) past the max. */
static int
args_add(const char *opt, const char *path, const char **list, size_t *n)
{
	if (*n == ARGS_KEYS_MAX) {
		fprintf(stderr, "tally-verify: %s given more than %d times\n",
		    opt, ARGS_KEYS_MAX);
		return -1;
	}
	list[(*n)++] = path;
	return 0;
}

/* Fills a from argv; -1 (with a message) for anything but one form. */
static int
args_parse(int argc, char *argv[], struct args *a)
{
	const char	**slot, **list;
	size_t		 *n = NULL;
	int		  i;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		slot = list = NULL;
		if (strcmp(argv[i], "--list") == 0) {
			a->list = 1;
			continue;
		}
		if (strcmp(argv[i], "--key") == 0) {
			list = a->key;
			n = &a->nkey;
		} else if (strcmp(argv[i], "--keys") == 0) {
			list = a->keys;
			n = &a->nkeys;
		} else if (strcmp(argv[i], "--previous") == 0)
			slot = &a->previous;
		else if (strcmp(argv[i], "--head") == 0)
			slot = &a->head;
		else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "tally-verify: unknown option %s\n",
			    argv[i]);
			return -1;
		} else
			slot = &a->receipt;
		if (slot != &a->receipt && ++i == argc) {
			fprintf(stderr, "tally-verify: %s needs a file\n",
			    argv[i - 1]);
			return -1;
		}
		if (list != NULL) {
			if (args_add(argv[i - 1], argv[i], list, n) < 0)
				return -1;
			continue;
		}
		if (*slot != NULL) {
			fprintf(stderr, "tally-verify: %s given twice\n",
			    slot == &a->receipt ? "a receipt" : argv[i - 1]);
			return -1;
		}
		*slot = argv[i];
	}
	/*
	 * Both may be given: after a rotation without endorsement the
	 * customer keeps the saved keys file and adds the new key, once
	 * confirmed with the vendor, as --key.
	 */
	if (a->nkey == 0 && a->nkeys == 0) {
		fprintf(stderr, "tally-verify: give --key or --keys (each "
		    "may be repeated)\n");
		return -1;
	}
	if ((a->receipt == NULL) == (a->head == NULL) ||
	    (a->head != NULL && (a->previous != NULL || a->list))) {
		fprintf(stderr, "tally-verify: give a receipt, or --head "
		    "alone\n");
		return -1;
	}
	return 0;
}

/*
 * Reads all of path, at most max bytes, into *out (malloc'd, with a NUL
 * after the *len bytes).  Returns 0, or -1 with a message printed.
 */
static int
read_file(const char *path, size_t max, char **out, size_t *len)
{
	char	*buf = NULL;
	size_t	 cap = 0, n = 0, want;
	ssize_t	 got;
	int	 fd;

	*out = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY)) < 0) {
		fprintf(stderr, "tally-verify: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	for (;;) {
		if (n > max)
			break;	/* max + 1 read: too large */
		/* Room for one byte more and the NUL. */
		if (grow(&buf, &cap, n + 2, 1) < 0) {
			fprintf(stderr, "tally-verify: %s: out of memory\n",
			    path);
			goto err;
		}
		/* Never more than max + 1 bytes in all. */
		want = cap - 1 - n;
		if (want > max + 1 - n)
			want = max + 1 - n;
		if ((got = read(fd, buf + n, want)) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "tally-verify: %s: %s\n", path,
			    strerror(errno));
			goto err;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	if (n > max) {
		fprintf(stderr, "tally-verify: %s: larger than %zu bytes\n",
		    path, max);
		goto err;
	}
	if (buf == NULL && (buf = malloc(1)) == NULL)
		goto err;
	buf[n] = '\0';
	close(fd);
	*out = buf;
	*len = n;
	return 0;
err:
	close(fd);
	free(buf);
	return -1;
}

/* One key file into *keys: the first makes the ring, the rest add. */
static int
load_key_file(const char *path, int json, struct keyring **keys)
{
	char	*text, err[VERIFY_LINE_MAX];
	size_t	 len;
	int	 rc;

	if (read_file(path, VERIFY_SMALL_MAX, &text, &len) < 0)
		return -1;
	if (*keys == NULL)
		rc = json ? keyring_from_json(text, len, keys, err,
		    sizeof(err)) : keyring_from_pem(text, len, keys, err,
		    sizeof(err));
	else
		rc = json ? keyring_add_json(*keys, text, len, path, err,
		    sizeof(err)) : keyring_add_pem(*keys, text, len, path, err,
		    sizeof(err));
	if (rc < 0)
		fprintf(stderr, "tally-verify: %s: %s\n", path, err);
	free(text);
	return rc;
}

/* Every --keys (the first gives the genesis key), or every --key. */
static int
load_keys(const struct args *a, struct keyring **keys)
{
	size_t	i;

	*keys = NULL;
	for (i = 0; i < a->nkeys; i++)
		if (load_key_file(a->keys[i], 1, keys) < 0)
			return -1;
	for (i = 0; i < a->nkey; i++)
		if (load_key_file(a->key[i], 0, keys) < 0)
			return -1;
	return 0;
}

/*
 * The keys a receipt carries (GET /keys' list, with endorsements):
 * candidates that the chain from a trusted key may add.  A list that
 * does not parse adds nothing, and is said; the signature check then
 * says which key was missing.
 */
static void
extend_keys(struct keyring *keys, const struct receipt *r, const char *label)
{
	struct json_object	*list;
	char			 err[VERIFY_LINE_MAX];

	if (r == NULL || r->data == NULL ||
	    !json_object_object_get_ex(r->data, "keys", &list))
		return;
	if (keyring_add_keys(keys, list, label, err, sizeof(err)) < 0)
		printf("key  %s's keys not used: %s\n", label, err);
}

static int
run_head(const struct args *a, struct keyring *keys)
{
	struct report	 rep;
	char		*text;
	size_t		 len;

	if (read_file(a->head, VERIFY_SMALL_MAX, &text, &len) < 0)
		return VERIFY_EXIT_USAGE;
	report_init(&rep, stdout);
	keyring_print(keys, stdout);
	verify_head(&rep, text, len, keys);
	free(text);
	return report_finish(&rep);
}

static int
run_receipt(const struct args *a, struct keyring *keys)
{
	struct report	 rep;
	struct receipt	*r = NULL, *prev = NULL;
	char		*text = NULL, *ptext = NULL;
	char		 err[VERIFY_LINE_MAX], perr[VERIFY_LINE_MAX];
	size_t		 len, plen;
	int		 status = VERIFY_EXIT_USAGE;

	if (read_file(a->receipt, VERIFY_RECEIPT_MAX, &text, &len) < 0 ||
	    (a->previous != NULL && read_file(a->previous,
	    VERIFY_RECEIPT_MAX, &ptext, &plen) < 0))
		goto out;
	report_init(&rep, stdout);
	if (receipt_parse(text, len, &r, err, sizeof(err)) < 0) {
		report_begin(&rep, CHECK_RECEIPT);
		report_fail(&rep, "%s", err);
		report_end(&rep, "%s", "");
		status = report_finish(&rep);
		goto out;
	}
	if (a->list)
		report_list(stdout, r);
	if (ptext != NULL && receipt_parse(ptext, plen, &prev, perr,
	    sizeof(perr)) < 0)
		prev = NULL;
	else
		perr[0] = '\0';
	extend_keys(keys, r, "the receipt");
	extend_keys(keys, prev, "the previous receipt");
	keyring_print(keys, stdout);
	verify_receipt(&rep, r, keys, prev, perr[0] != '\0' ? perr : NULL);
	status = report_finish(&rep);
out:
	receipt_free(r);
	receipt_free(prev);
	free(text);
	free(ptext);
	return status;
}

int
main(int argc, char *argv[])
{
	struct args	 a;
	struct keyring	*keys = NULL;
	int		 status;

	if (argc == 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)) {
		usage(stdout);
		return VERIFY_EXIT_OK;
	}
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("tally-verify %s (receipt formats 1 to %d)\n",
		    TALLY_VERSION, TALLY_RECEIPT_FORMAT);
		return VERIFY_EXIT_OK;
	}
	if (args_parse(argc, argv, &a) < 0) {
		usage(stderr);
		return VERIFY_EXIT_USAGE;
	}
	if (load_keys(&a, &keys) < 0)
		return VERIFY_EXIT_USAGE;
	status = a.head != NULL ? run_head(&a, keys) : run_receipt(&a, keys);
	keyring_free(keys);
	/* Output is the verdict: a write error must not pass as success. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "tally-verify: cannot write the report\n");
		return VERIFY_EXIT_USAGE;
	}
	return status;
}
