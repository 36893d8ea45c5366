/*
 * Shared Record links and access codes (SPEC 8, docs/shared.md).
 *
 * A share binds one tenant + env + customer to a handle, the capability
 * in the link {public_url}/c/{handle} (128 random bits), and to a
 * six-character access code, which is shown once, when made, and kept
 * only as HMAC-SHA-256 under a random key of the share's own.  The
 * policy says what the link alone shows.  Wrong codes are counted per
 * share, in the store, so that every tallyd process limits the same
 * guesser: SHARE_WRONG_MAX wrong in a row, then one try per
 * SHARE_RETRY_MS; a right code resets the count.
 */
#ifndef TALLY_SHARE_H
#define TALLY_SHARE_H

#include <stddef.h>
#include <stdint.h>

#include "../store/store.h"

#define SHARE_HANDLE_LEN	27	/* "s" and 26 base32 digits */
#define SHARE_CODE_LEN		6
#define SHARE_WRONG_MAX		5
#define SHARE_RETRY_MS		60000

enum share_policy {
	SHARE_TWO_TIER = 0,	/* the link alone: the summary */
	SHARE_GATED = 1,	/* the link alone: nothing */
	SHARE_OPEN = 2		/* the link alone: everything */
};

enum share_rc {
	SHARE_OK = 0,
	SHARE_EXISTS,		/* create: the customer has a live share */
	SHARE_NOTFOUND,		/* no live share (for that customer) */
	SHARE_NO_TENANT,	/* create: no such tenant */
	SHARE_FAILED		/* the store or the generator failed */
};

/* A share as anyone may be told of it: never its code. */
struct share {
	char			handle[STORE_SHARE_HANDLE_MAX + 1];
	char			tenant[STORE_TENANT_MAX + 1];
	enum store_env		env;
	char			customer_id[STORE_CUSTOMER_MAX + 1];
	enum share_policy	policy;
	int64_t			created_ms;
	int64_t			code_rotated_ms;
};

const char	*share_strerror(enum share_rc);
/* two_tier | gated | open, as the API and tallyctl name a policy. */
const char	*share_policy_name(enum share_policy);
/* A policy by its name into *out; 0, or -1 if it names none. */
int		 share_policy_parse(const char *, enum share_policy *);

/*
 * Makes the customer's share with a fresh code, written to code (shown
 * only now).  SHARE_EXISTS, with *out the live share and code "", if the
 * customer has one already: a customer has one link, printed on every
 * invoice.  The customer need not have a delta yet.
 */
enum share_rc	share_create(struct store *, const char *tenant,
		    enum store_env, const char *customer_id,
		    enum share_policy, int64_t now_ms, struct share *out,
		    char code[SHARE_CODE_LEN + 1]);
/* The customer's live share. */
enum share_rc	share_show(struct store *, const char *tenant,
		    enum store_env, const char *customer_id,
		    struct share *out);
/* A new code for the customer's live share; the old one stops working. */
enum share_rc	share_rotate_code(struct store *, const char *tenant,
		    enum store_env, const char *customer_id, int64_t now_ms,
		    struct share *out, char code[SHARE_CODE_LEN + 1]);
/* Revokes the customer's live share: its link is dead from now on. */
enum share_rc	share_revoke(struct store *, const char *tenant,
		    enum store_env, const char *customer_id, int64_t now_ms,
		    struct share *out);

/* What a caller holding a link may read. */
enum share_need {
	SHARE_NEED_SUMMARY,	/* the current period's summary */
	SHARE_NEED_FULL		/* everything else */
};

enum share_access {
	SHARE_ACCESS_FULL,		/* everything */
	SHARE_ACCESS_SUMMARY,		/* the summary, no more */
	SHARE_ACCESS_CODE_REQUIRED,	/* no code, and the policy needs one */
	SHARE_ACCESS_CODE_INVALID,	/* a wrong code (now counted) */
	SHARE_ACCESS_LIMITED,		/* too many wrong: *retry_after s */
	SHARE_ACCESS_NOT_FOUND,		/* unknown, malformed or revoked */
	SHARE_ACCESS_FAILED		/* the store failed: try again */
};

struct share_attempt {
	const char	*handle;
	const char	*code;		/* as the client typed it; NULL: none */
	enum share_need	 need;
	int64_t		 now_ms;
	const char	*client;	/* the client's address, for the log */
	const char	*request_id;	/* for the log */
};

/*
 * Decides what the attempt may read.  A code, when given, is always
 * checked (except under SHARE_OPEN, which needs none), so a wrong one
 * is said even where the link alone would do; it is then counted, and
 * logged with the handle's first 6 characters and the client's address,
 * never with the code.  *out is the share for FULL and SUMMARY;
 * *retry_after the seconds to wait for LIMITED.
 */
enum share_access share_access(struct store *,
		    const struct share_attempt *, struct share *out,
		    long long *retry_after);

/*
 * The code as the share stores what it checks: case folded, spaces and
 * dashes dropped ("k7q-2px" is "K7Q2PX").  0, or -1 if it is not 6
 * characters of the code alphabet then.
 */
int	share_code_normalize(const char *in, char out[SHARE_CODE_LEN + 1]);

/* The link {public_url}/c/{handle}; -1 if it does not fit. */
int	share_link(const char *public_url, const char *handle, char *out,
	    size_t len);
/* The host (and port) of public_url, for "on {host}"; -1 if none. */
int	share_link_host(const char *public_url, char *out, size_t len);
/* What an invoice says beside the link; NULL when no code is needed. */
const char *share_access_hint(enum share_policy);

/* What an invoice proof prints of the customer's share (SPEC 3.7). */
#define SHARE_LINK_MAX		1200
#define SHARE_HOST_MAX		256
struct share_invoice {
	int		 has_share;
	char		 url[SHARE_LINK_MAX];	/* {public_url}/c/{handle} */
	char		 host[SHARE_HOST_MAX];	/* public_url's; "" if none */
	const char	*hint;			/* NULL: no code needed */
};
/*
 * Fills inv for the customer's live share; has_share 0 (SHARE_OK) when
 * it has none.  SHARE_FAILED if the store failed.
 */
enum share_rc	share_invoice(struct store *, const char *tenant,
		    enum store_env, const char *customer_id,
		    const char *public_url, struct share_invoice *inv);

#endif
