/*
 * HTTP for the end-to-end suites: one libcurl request per call, against
 * TALLY_URL (TALLY_CACERT for https), with Check assertions on failure.
 */
#ifndef TALLY_E2E_HTTP_H
#define TALLY_E2E_HTTP_H

#include <stddef.h>

#include <check.h>

struct json_object;

struct reply {
	long			 status;
	char			*body;
	size_t			 len;
	char			 request_id[128];
	char			 allow[128];
	char			 replayed[16];
	struct json_object	*json;		/* body, when it is JSON */
};

/* Unique per run: makes customer ids and keys of one run distinct. */
extern char	run_id[32];

/*
 * One request; key, ctype, body and extra (header lines, '\n' between
 * them) may be NULL.  The path is sent as given, dot segments included.
 */
void	http(struct reply *, const char *method, const char *path,
	    const char *key, const char *ctype, const char *body,
	    size_t bodylen, const char *extra);
/* A JSON POST, with an Idempotency-Key when idem is not NULL. */
void	post(struct reply *, const char *path, const char *key,
	    const char *idem, const char *body);
void	reply_free(struct reply *);

/* The member at a dotted path ("data.proof.treeSize"), or NULL. */
struct json_object *get(struct json_object *, const char *path);
const char	*get_str(struct json_object *, const char *path);
long long	 get_int(struct json_object *, const char *path);

/* Status and the error envelope with this code. */
void		 assert_error(const struct reply *, long status,
		    const char *code);
/* Status and the success envelope. */
void		 assert_ok(const struct reply *, long status);
/* An environment variable the test needs. */
const char	*env_key(const char *name);

/* Sets run_id, runs the suite; the exit status of an e2e program. */
int	e2e_run(Suite *);

#endif
