/*
 * tally-verify: the customer's offline verifier of checkpoint receipts
 * (docs/receipt.md, SPEC 4.4 and 4.5).  It trusts nothing in the files
 * it reads but the public keys it is given: a receipt is parsed into
 * plain structs, every member's type checked and every size bounded,
 * before any check looks at a value.
 *
 * One header for the program, a section per file.
 */
#ifndef TALLY_VERIFY_H
#define TALLY_VERIFY_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../common/decimal.h"
#include "../crypto/merkle.h"
#include "../crypto/note.h"
#include "../crypto/sigkey.h"

struct json_object;

/* Exit statuses (docs/receipt.md). */
#define VERIFY_EXIT_OK		0	/* every check holds */
#define VERIFY_EXIT_FAIL	1	/* a check failed */
#define VERIFY_EXIT_USAGE	2	/* bad usage, an unreadable file */

/* Bounds on what is read; past them a file or a member is refused. */
#define VERIFY_RECEIPT_MAX	(256u << 20)	/* bytes of a receipt file */
#define VERIFY_SMALL_MAX	(1u << 20)	/* keys file, PEM, tree head */
#define VERIFY_DELTAS_MAX	1000000		/* deltas in one receipt */
#define VERIFY_STATEMENT_MAX	65536		/* bytes of a statement */
#define VERIFY_KEYS_MAX		1024		/* keys in a keys file */
#define VERIFY_ID_MAX		128		/* any id, a tenant, an alg */
#define VERIFY_LINE_MAX		512		/* one line of output */
#define VERIFY_WHERE_MAX	96		/* "deltas[12] (rec_…)" */
#define VERIFY_HEX_LEN		(2 + 2 * MERKLE_HASH_LEN + 1)	/* 0x… */

/* report.c: what is printed, and the exit status it adds up to. */

/* The checks in the order docs/receipt.md lists them. */
enum check {
	CHECK_RECEIPT,		/* the file is a receipt bundle at all */
	CHECK_STATEMENT,	/* 1: members, and checkpoint agrees */
	CHECK_SIGNATURE,	/* 2: statement signature */
	CHECK_TREEHEAD,		/* 3: signed tree head */
	CHECK_DELTAS,		/* 4: every delta's leaf */
	CHECK_PROOFROOT,	/* 5 */
	CHECK_DELTASCOUNT,	/* 6: count */
	CHECK_NETCHANGE,	/* 6: sum */
	CHECK_ENDINGBALANCE,	/* 6: sum */
	CHECK_INCLUSION,	/* 7 */
	CHECK_CHAIN,		/* 8 */
	CHECK_RESPONSE,		/* --head: the JSON around the note */
	CHECK_MAX
};

/* At most this many FAIL lines per check; the rest are counted. */
#define REPORT_FAILS_MAX	50

struct report {
	FILE		*out;		/* NULL: count, print nothing */
	enum check	 cur;
	int		 open;		/* between begin and end */
	unsigned	 cur_fails;
	unsigned	 ok, failed, skipped;
};

const char	*check_name(enum check);
void	report_init(struct report *, FILE *out);
void	report_begin(struct report *, enum check);
/* A problem found by the current check: one FAIL line. */
void	report_fail(struct report *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	report_vfail(struct report *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
/* Ends the current check: its ok line (fmt) unless something failed. */
void	report_end(struct report *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Ends the current check, which failed (a FAIL line was printed). */
void	report_failed(struct report *);
/*
 * Ends the current check as not run (a skip line, fmt) unless it
 * already failed: for a check whose inputs an earlier failure took.
 */
void	report_cancel(struct report *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* A check that could not run: never a failure in itself. */
void	report_skip(struct report *, enum check, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* Prints the summary line; returns the exit status. */
int	report_finish(struct report *);
/*
 * Untrusted text made safe to print: bytes outside printable ASCII
 * become \xNN, and past outlen it is cut with "...".  Always
 * NUL-terminates out (outlen > 4).
 */
void	report_text(const char *, size_t len, char *out, size_t outlen);
/* "0x" and lowercase hex of a hash, into out. */
void	report_hash(const merkle_hash, char out[VERIFY_HEX_LEN]);

struct receipt;
/*
 * --list: the receipt's deltas as a table a person reads (sequence,
 * date, amount, reason, referenceId, and a mark for each carried in
 * from before the period), with what was unusable shown as "?".
 */
void	report_list(FILE *out, const struct receipt *);

/* field.c: typed access to untrusted JSON.  why says what is wrong. */

#define FIELD_NULLABLE	0x01	/* null is allowed: *out becomes NULL */
#define FIELD_NONEMPTY	0x02

/* 0 and *out if obj has the member, -1 ("missing") if not. */
int	field_member(struct json_object *obj, const char *name,
	    struct json_object **out, char *why, size_t whylen);
/* A string of at most max bytes, without NUL bytes. */
int	field_string(struct json_object *v, size_t max, int flags,
	    const char **out, char *why, size_t whylen);
/* An integer in [0, max] (json-c integers only, not 1.0). */
int	field_uint(struct json_object *v, uint64_t max, uint64_t *out,
	    char *why, size_t whylen);
/* "0x" and 64 lowercase hex digits. */
int	field_hash(struct json_object *v, merkle_hash out, char *why,
	    size_t whylen);
/* An amount as a string in its shortest exact form ("-3", "247.415"). */
int	field_amount(struct json_object *v, decimal_t *out, char *why,
	    size_t whylen);
/* An amount as the API writes it: a JSON number, or such a string. */
int	field_amount_any(struct json_object *v, decimal_t *out, char *why,
	    size_t whylen);
/* A time in Tally's one form, "2026-02-01T00:00:00.000Z". */
int	field_time(struct json_object *v, int64_t *ms, char *why,
	    size_t whylen);
/* Canonical padded base64 of at most max bytes; *out is malloc'd. */
int	field_base64(struct json_object *v, size_t max, uint8_t **out,
	    size_t *outlen, char *why, size_t whylen);
/* 1 if the two values are the same JSON value (compared as JCS). */
int	field_same(struct json_object *, struct json_object *);
/*
 * Unwraps {"success":true,"data":{…}} to data; anything without a
 * success member is taken as data itself.  NULL, why set, for an error
 * envelope or a value that is not an object.
 */
struct json_object *field_envelope(struct json_object *root, char *why,
	    size_t whylen);

/* receipt.c: a receipt bundle parsed into plain data. */

struct receipt_problem {
	enum check	 check;
	char		 text[VERIFY_LINE_MAX];
};

/* The statement: its bytes, and its members once they are usable. */
struct statement {
	uint8_t			*bytes;		/* decoded; owned */
	size_t			 len;
	struct json_object	*obj;		/* bytes parsed; owned */
	int			 usable;	/* every member typed */
	int			 canonical;	/* bytes are JCS of obj */
	const char		*checkpoint_id, *tenant, *env, *customer_id;
	const char		*period;
	const char		*previous_id;	/* NULL: the first */
	uint64_t		 version;	/* 1: a month; 2: a run */
	uint64_t		 first_seq, last_seq;	/* version 2 */
	int			 month;
	int64_t			 start_ms, end_ms, created_ms;
	decimal_t		 starting, net, ending;
	uint64_t		 deltas_count, tree_size;
	merkle_hash		 proof_root, root_hash;
};

/* What a delta entry has, each bit only once it parsed. */
#define RD_INDEX	0x001	/* logIndex */
#define RD_LEAFHASH	0x002	/* leafHash as stated */
#define RD_CONTENTHASH	0x004	/* contentHash as stated */
#define RD_HASHED	0x008	/* leaf is an object: hashes recomputed */
#define RD_OWNER	0x010	/* leaf tenant, env, customerId */
#define RD_SEQ		0x020
#define RD_AMOUNT	0x040
#define RD_CREATED	0x080
#define RD_PROOF	0x100	/* inclusionProof */

struct rdelta {
	const char	*record_id;			/* NULL if unusable */
	unsigned	 have;
	uint64_t	 log_index;
	merkle_hash	 leaf_hash, content_hash;	/* as stated */
	merkle_hash	 leaf_re, content_re;		/* from leaf */
	const char	*tenant, *env, *customer_id;
	uint64_t	 seq;
	decimal_t	 amount;
	int64_t		 created_ms;
	const char	*reason, *reference_id;	/* NULL if unusable */
	merkle_hash	*proof;				/* owned */
	size_t		 proof_len;
};

#define RECEIPT_PROBLEMS_MAX	2000

struct receipt {
	struct json_object	*root;		/* the file; owned */
	struct json_object	*data;		/* the bundle, in root */
	struct json_object	*checkpoint;	/* borrowed from root */
	uint64_t		 version;	/* the bundle's format */
	struct statement	 st;
	const char		*checkpoint_id;	/* the bundle's */
	int			 have_sig;
	uint8_t			 sig[SIGKEY_SIG_MAX];
	size_t			 siglen;
	const char		*key_id;	/* 8 hex digits, or NULL */
	const char		*alg;		/* a known alg, or NULL */
	const char		*tree_head;	/* NULL if unusable */
	size_t			 tree_head_len;
	int			 have_deltas;
	struct rdelta		*deltas;
	size_t			 ndeltas;
	struct receipt_problem	*problems;
	size_t			 nproblems, problems_cap;
	unsigned		 dropped[CHECK_MAX];	/* past the cap */
};

/*
 * Parses a receipt bundle (the API's envelope, or its data alone) from
 * len bytes of untrusted text.  Returns 0 with *out the caller's (free
 * with receipt_free): what does not parse is a problem recorded in it,
 * for the check it belongs to.  Returns -1, *out NULL and err set, only
 * when the text is no bundle at all (not JSON, not an object, an error
 * envelope) or memory ran out.  This is the fuzzing entry point.
 */
int	receipt_parse(const char *bytes, size_t len, struct receipt **out,
	    char *err, size_t errlen);
void	receipt_free(struct receipt *);
/* "deltas[i] (recordId)", printable, into out. */
void	receipt_where(const struct receipt *, size_t i,
	    char out[VERIFY_WHERE_MAX]);

/* keyring.c: the public keys the user trusts. */

struct keyring;

/* One signature line of a signed note: who claims to have signed. */
struct keyring_signer {
	char		name[NOTE_ORIGIN_MAX + 1];
	uint32_t	id;
};
#define KEYRING_SIGNERS_MAX	16

/*
 * Trust (docs/verify.md, "After a key rotation"): a key given with --key
 * is trusted; of a keys file, its oldest key (the log's genesis key) and
 * every key endorsed by a trusted key, through any chain.  Keys added
 * later (another keys file, a receipt's keys) are trusted only by that
 * chain; an unendorsed key (rotated with --no-endorse) never is.  Only
 * trusted keys are found, and verify notes.
 */
/* A key given as a PEM file (--key). */
int	keyring_from_pem(const char *pem, size_t len, struct keyring **out,
	    char *err, size_t errlen);
/* The keys of a saved GET /api/v1/keys answer (--keys). */
int	keyring_from_json(const char *text, size_t len, struct keyring **out,
	    char *err, size_t errlen);
/* Another --key, trusted whatever its ID; source names it in output. */
int	keyring_add_pem(struct keyring *, const char *pem, size_t len,
	    const char *source, char *err, size_t errlen);
/*
 * Another keys file (the first one made by keyring_from_json, or by this
 * on a ring of --key alone, gives the genesis key), or a receipt
 * bundle's keys array: candidates, trusted by endorsement only.  -1 with
 * err (and nothing added) if an entry does not parse.
 */
int	keyring_add_json(struct keyring *, const char *text, size_t len,
	    const char *source, char *err, size_t errlen);
int	keyring_add_keys(struct keyring *, struct json_object *keys,
	    const char *source, char *err, size_t errlen);
void	keyring_free(struct keyring *);
/*
 * Why no trusted key has this keyId, into out (returned): the reason a
 * listed key is not trusted, or that no key has the ID.
 */
const char *keyring_why(const struct keyring *, const char *key_id,
	    char *out, size_t outlen);
/* One "key  …" line per key: trusted and how (the chain), or why not. */
void	keyring_print(const struct keyring *, FILE *out);
/*
 * The trusted key keyId names.  A key known without a name (bare PEM,
 * or a keys file entry without one) is taken under origin, the log's,
 * which is what the ID of an RSA key depends on.  NULL if no trusted key
 * has that ID.
 */
const struct sigkey *keyring_find(const struct keyring *, const char *key_id,
	    const char *origin);
/* The key of --key (whatever its ID), NULL for a keys file. */
const struct sigkey *keyring_given(const struct keyring *);
/* The origin, a note's first line: 0, or -1 if there is none. */
int	keyring_origin(const char *note, size_t len,
	    char out[NOTE_ORIGIN_MAX + 1]);
/*
 * Opens a signed tree head with any trusted key that signed it: 0 with
 * *cp, and by the signature line that verified; -1 with why.
 */
int	keyring_open_note(const struct keyring *, const char *note,
	    size_t len, struct note_head *cp, struct keyring_signer *by,
	    char *why, size_t whylen);

/* check.c: the checks of a receipt, in order. */

/*
 * Runs every check on r with keys, reporting each.  prev is the parsed
 * --previous receipt, or NULL; prev_err says why it did not parse when
 * it was given but is NULL.
 */
void	verify_receipt(struct report *, const struct receipt *r,
	    const struct keyring *keys, const struct receipt *prev,
	    const char *prev_err);

/* head.c: --head, a standalone signed tree head. */

/* Checks the note, as raw text or GET /api/v1/log/checkpoint's JSON. */
void	verify_head(struct report *, const char *text, size_t len,
	    const struct keyring *keys);

#endif
