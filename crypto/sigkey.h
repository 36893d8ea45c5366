/*
 * Signing keys: ECDSA P-256 (the default) and RSA-PSS 3072, both over
 * SHA-256, through OpenSSL's EVP interface only.  A struct sigkey holds
 * either a private key (it signs and verifies) or a public one (it
 * verifies).  Private keys live in PEM files that only their owner may
 * read or write; loading any other refuses.
 *
 * Signatures: ECDSA is ASN.1 DER (as OpenSSL and `openssl dgst` make
 * it); RSA-PSS uses MGF1-SHA-256 and a 32-byte salt, so
 *   openssl dgst -sha256 -sigopt rsa_padding_mode:pss \
 *       -sigopt rsa_pss_saltlen:32 -verify pub.pem -signature sig msg
 * checks it.  Every function returns 0 on success, -1 on failure.
 */
#ifndef TALLY_SIGKEY_H
#define TALLY_SIGKEY_H

#include <stddef.h>
#include <stdint.h>

enum sigkey_alg {
	SIGKEY_ECDSA_P256 = 1,
	SIGKEY_RSA_3072 = 2
};

#define SIGKEY_SIG_MAX		512	/* bytes of any signature */
#define SIGKEY_PEM_MAX		1024	/* a public key as PEM, with NUL */
#define SIGKEY_ALG_NAME_MAX	16

struct sigkey;

/* "ecdsa-p256" or "rsa-3072". */
const char	*sigkey_alg_name(enum sigkey_alg);
int		 sigkey_alg_parse(const char *name, enum sigkey_alg *out);

/*
 * Generates a key and writes its private half as PEM to a new file at
 * path, created mode 0600 (never overwriting).  On success *out is the
 * caller's, freed with sigkey_free.
 */
int	sigkey_generate(enum sigkey_alg, const char *path,
	    struct sigkey **out);
/*
 * Loads a private key.  Refuses a file that group or others may read or
 * write, or a key of another algorithm or size; err says why.
 */
int	sigkey_load_private(const char *path, struct sigkey **out,
	    char *err, size_t errlen);
/* A verifying key from a public key in PEM (SubjectPublicKeyInfo). */
int	sigkey_from_public_pem(const char *pem, size_t len,
	    struct sigkey **out);
void	sigkey_free(struct sigkey *);

enum sigkey_alg	sigkey_alg(const struct sigkey *);
/* The public key as PEM, NUL-terminated, into out. */
int	sigkey_public_pem(const struct sigkey *, char *out, size_t outlen);
/* The public key as DER SubjectPublicKeyInfo, at most outlen bytes. */
int	sigkey_public_der(const struct sigkey *, uint8_t *out, size_t outlen,
	    size_t *len);
/*
 * The C2SP signed-note key ID of this key under key name: for ECDSA
 * (signature type 0x02) the first four bytes of SHA-256 of the DER
 * SubjectPublicKeyInfo; for RSA-PSS (type 0xff, no assigned byte) of
 * SHA-256(name || 0x0A || 0xff || "rsa-pss-sha256" || DER SPKI).
 */
int	sigkey_note_id(const struct sigkey *, const char *name,
	    uint32_t *id);
/* Signs msg; sig must hold SIGKEY_SIG_MAX bytes. */
int	sigkey_sign(const struct sigkey *, const void *msg, size_t len,
	    uint8_t *sig, size_t *siglen);
/* 0 only when sig is a valid signature of msg by this key. */
int	sigkey_verify(const struct sigkey *, const void *msg, size_t len,
	    const uint8_t *sig, size_t siglen);
/*
 * The same, telling a signature that fails from a check that could not
 * be made (memory ran out), for an answer that must not say "invalid"
 * when it does not know.
 */
enum sigkey_check {
	SIGKEY_VALID,
	SIGKEY_INVALID,
	SIGKEY_ERROR
};
enum sigkey_check sigkey_check(const struct sigkey *, const void *msg,
	    size_t len, const uint8_t *sig, size_t siglen);

#endif
