/*
 * Fuzzes tally-verify's two readers of untrusted text with each input:
 * the receipt parser, receipt_parse, then every check it runs on what
 * parsed; and --head, verify_head, which takes a bare signed note or a
 * GET /log/checkpoint answer.  A receipt is also checked as its own
 * predecessor (--previous, which verifies it in full again and joins
 * the runs) and listed (--list).  Against the public test keys of
 * tests/vectors ($TALLY_VECTORS, else the path from the repository's
 * root), with the reports written to /dev/null so that their formatting
 * of untrusted text runs too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../verify/verify.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct keyring	*keys;
static FILE		*devnull;

/* Reads the whole of path into a malloc'd buffer; NULL on error. */
static char *
slurp(const char *path, size_t *len)
{
	FILE	*f;
	char	*buf = NULL;
	long	 size;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)size + 1)) != NULL &&
	    fread(buf, 1, (size_t)size, f) == (size_t)size)
		*len = (size_t)size;
	else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*dir = getenv("TALLY_VECTORS");
	char		 path[4096], err[VERIFY_LINE_MAX], *text;
	size_t		 len;

	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "%s/keys.json",
	    dir != NULL ? dir : "tests/vectors");
	if ((text = slurp(path, &len)) == NULL ||
	    keyring_from_json(text, len, &keys, err, sizeof(err)) < 0 ||
	    (devnull = fopen("/dev/null", "w")) == NULL) {
		fprintf(stderr, "receipt: cannot load %s\n", path);
		exit(2);
	}
	free(text);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct receipt	*r = NULL;
	struct report	 rep;
	char		 err[VERIFY_LINE_MAX] = "";

	report_init(&rep, devnull);
	verify_head(&rep, (const char *)data, size, keys);
	report_finish(&rep);

	if (receipt_parse((const char *)data, size, &r, err,
	    sizeof(err)) < 0) {
		/* Not a bundle at all: that must be said, and nothing kept. */
		if (r != NULL || err[0] == '\0')
			abort();
		return 0;
	}
	report_init(&rep, devnull);
	verify_receipt(&rep, r, keys, NULL, NULL);
	report_finish(&rep);
	report_init(&rep, devnull);
	verify_receipt(&rep, r, keys, r, NULL);
	report_finish(&rep);
	report_list(devnull, r);
	receipt_free(r);
	return 0;
}
