/*
 * Key endorsements (SPEC 4.5, docs/receipt.md "Keys across rotations"):
 * when the log's signing key is rotated, the key it replaces signs a
 * statement of the new key, so that whoever trusts the old key can come
 * to trust the new one without asking anyone.
 *
 * The statement is the JCS (RFC 8785) form of
 *   {"type":"tally-key-endorsement/v1","keyId","name","alg",
 *    "publicKey","validFrom","endorsedBy"}
 * with publicKey the base64 of the new key's DER SubjectPublicKeyInfo
 * (computed here from the key itself, so an endorsement can only be
 * about the key it is checked against).  The type member keeps it from
 * ever being taken for a checkpoint statement or a signed note, neither
 * of which has one.  The signature is an ordinary sigkey_sign over those
 * bytes.  Every function returns 0 on success, -1 on failure.
 */
#ifndef TALLY_ENDORSE_H
#define TALLY_ENDORSE_H

#include <stddef.h>
#include <stdint.h>

#include "sigkey.h"

#define ENDORSE_TYPE	"tally-key-endorsement/v1"

struct sbuf;

/* The endorsed key and what is said of it; every string NUL-terminated. */
struct endorse_subject {
	const struct sigkey	*key;		/* the new key (public half) */
	const char		*key_id;	/* its 8 hex digits */
	const char		*name;		/* its note key name */
	const char		*valid_from;	/* RFC 3339 UTC with ms */
	const char		*endorsed_by;	/* the endorser's key ID */
};

/* Appends the statement bytes to out. */
int	endorse_statement(const struct endorse_subject *, struct sbuf *out);
/* Signs the statement with endorser; sig holds SIGKEY_SIG_MAX bytes. */
int	endorse_sign(const struct sigkey *endorser,
	    const struct endorse_subject *, uint8_t *sig, size_t *siglen);
/* 0 only when sig is endorser's signature of the statement. */
int	endorse_verify(const struct sigkey *endorser,
	    const struct endorse_subject *, const uint8_t *sig,
	    size_t siglen);

#endif
