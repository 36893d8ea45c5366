#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "sigkey.h"

#define SIGKEY_RSA_BITS		3072
#define SIGKEY_PSS_SALT		32
/* The identifier after type 0xff in the RSA key ID (sigkey.h). */
#define SIGKEY_RSA_NOTE_TYPE	"rsa-pss-sha256"

struct sigkey {
	enum sigkey_alg	 alg;
	EVP_PKEY	*pkey;		/* shared read-only by signers */
	int		 private;	/* pkey holds the private half */
};

const char *
sigkey_alg_name(enum sigkey_alg alg)
{
	switch (alg) {
	case SIGKEY_ECDSA_P256:
		return "ecdsa-p256";
	case SIGKEY_RSA_3072:
		return "rsa-3072";
	}
	return "unknown";
}

int
sigkey_alg_parse(const char *name, enum sigkey_alg *out)
{
	if (strcmp(name, "ecdsa-p256") == 0)
		*out = SIGKEY_ECDSA_P256;
	else if (strcmp(name, "rsa-3072") == 0)
		*out = SIGKEY_RSA_3072;
	else
		return -1;
	return 0;
}

/*
 * Which of our algorithms pkey is for.  Anything else is refused, with
 * why saying what the key is: an EC key must be on P-256 by name (a key
 * with explicit curve parameters has another SPKI, hence another key
 * ID), an RSA key must have exactly 3072 bits.
 */
static int
sigkey_classify(EVP_PKEY *pkey, enum sigkey_alg *alg, char *why,
    size_t whylen)
{
	char	group[64], enc[32];

	if (EVP_PKEY_is_a(pkey, "EC")) {
		if (EVP_PKEY_get_group_name(pkey, group, sizeof(group),
		    NULL) != 1)
			snprintf(group, sizeof(group), "an unnamed curve");
		if (OBJ_sn2nid(group) != NID_X9_62_prime256v1) {
			snprintf(why, whylen, "an EC key on %s, not P-256",
			    group);
			return -1;
		}
		if (EVP_PKEY_get_utf8_string_param(pkey,
		    OSSL_PKEY_PARAM_EC_ENCODING, enc, sizeof(enc),
		    NULL) != 1 ||
		    strcmp(enc, OSSL_PKEY_EC_ENCODING_GROUP) != 0) {
			snprintf(why, whylen, "a P-256 key with explicit "
			    "curve parameters, not the named curve");
			return -1;
		}
		*alg = SIGKEY_ECDSA_P256;
		return 0;
	}
	if (EVP_PKEY_is_a(pkey, "RSA")) {
		if (EVP_PKEY_get_bits(pkey) != SIGKEY_RSA_BITS) {
			snprintf(why, whylen, "an RSA key of %d bits, not %d",
			    EVP_PKEY_get_bits(pkey), SIGKEY_RSA_BITS);
			return -1;
		}
		*alg = SIGKEY_RSA_3072;
		return 0;
	}
	snprintf(why, whylen, "a %s key, neither ecdsa-p256 nor rsa-3072",
	    EVP_PKEY_get0_type_name(pkey) != NULL ?
	    EVP_PKEY_get0_type_name(pkey) : "foreign");
	return -1;
}

/* Takes pkey over (freed on failure too). */
static struct sigkey *
sigkey_wrap(EVP_PKEY *pkey, enum sigkey_alg alg, int private)
{
	struct sigkey	*k;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		EVP_PKEY_free(pkey);
		return NULL;
	}
	k->alg = alg;
	k->pkey = pkey;
	k->private = private;
	return k;
}

/* Writes all of buf to fd, as write(2) may stop short. */
static int
sigkey_write_all(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
sigkey_generate(enum sigkey_alg alg, const char *path, struct sigkey **out)
{
	EVP_PKEY	*pkey = NULL;
	BIO		*mem = NULL;
	char		*pem;
	long		 pemlen;
	int		 fd = -1, created = 0, rc = -1;

	*out = NULL;
	if (alg == SIGKEY_ECDSA_P256)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (alg == SIGKEY_RSA_3072)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
		    (size_t)SIGKEY_RSA_BITS);
	if (pkey == NULL)
		goto out;
	/*
	 * PKCS#8 PEM, unencrypted: the file's mode is its protection.  A
	 * secure-memory BIO is wiped when freed, so the key's text does
	 * not linger in the heap.
	 */
	if ((mem = BIO_new(BIO_s_secmem())) == NULL ||
	    PEM_write_bio_PrivateKey(mem, pkey, NULL, NULL, 0, NULL,
	    NULL) != 1 ||
	    (pemlen = BIO_get_mem_data(mem, &pem)) <= 0)
		goto out;
	/* O_EXCL: never overwrite a key, nor follow a symlink. */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) < 0)
		goto out;
	created = 1;
	if (sigkey_write_all(fd, pem, (size_t)pemlen) < 0 || fsync(fd) < 0)
		goto out;
	/* The key is on disk once fsync returns: close cannot lose it. */
	close(fd);
	fd = -1;
	*out = sigkey_wrap(pkey, alg, 1);
	pkey = NULL;
	if (*out == NULL)
		goto out;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	/* A half-written key file would only make the next load fail. */
	if (rc < 0 && created)
		unlink(path);
	BIO_free(mem);
	EVP_PKEY_free(pkey);
	return rc;
}

/* Never prompt on a terminal for the passphrase of an encrypted key. */
static int
sigkey_no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return -1;
}

int
sigkey_load_private(const char *path, struct sigkey **out, char *err,
    size_t errlen)
{
	EVP_PKEY	*pkey = NULL;
	BIO		*bio = NULL;
	struct stat	 st;
	enum sigkey_alg	 alg;
	char		 why[128];
	int		 fd = -1, rc = -1;

	*out = NULL;
	/*
	 * fstat the file we read rather than stat the path: the mode
	 * checked is then the mode of the very file read.
	 */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: mode %04o gives group or others "
		    "access to a private key; chmod 600 %s", path,
		    (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	if ((bio = BIO_new_fd(fd, BIO_CLOSE)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	fd = -1;
	if ((pkey = PEM_read_bio_PrivateKey(bio, NULL, sigkey_no_passphrase,
	    NULL)) == NULL) {
		snprintf(err, errlen, "%s: not an unencrypted PEM private key",
		    path);
		goto out;
	}
	if (sigkey_classify(pkey, &alg, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		goto out;
	}
	*out = sigkey_wrap(pkey, alg, 1);
	pkey = NULL;
	if (*out == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	rc = 0;
out:
	/* Failures are reported through err: leave no stale queue behind. */
	if (rc < 0)
		ERR_clear_error();
	if (fd >= 0)
		close(fd);
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	return rc;
}

int
sigkey_from_public_pem(const char *pem, size_t len, struct sigkey **out)
{
	EVP_PKEY	*pkey = NULL;
	BIO		*bio = NULL;
	enum sigkey_alg	 alg;
	char		 why[128];
	int		 rc = -1;

	*out = NULL;
	if (len > INT_MAX ||
	    (bio = BIO_new_mem_buf(pem, (int)len)) == NULL ||
	    (pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) == NULL ||
	    sigkey_classify(pkey, &alg, why, sizeof(why)) < 0)
		goto out;
	*out = sigkey_wrap(pkey, alg, 0);
	pkey = NULL;
	if (*out == NULL)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		ERR_clear_error();
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	return rc;
}

void
sigkey_free(struct sigkey *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

enum sigkey_alg
sigkey_alg(const struct sigkey *k)
{
	return k->alg;
}

int
sigkey_public_pem(const struct sigkey *k, char *out, size_t outlen)
{
	BIO	*mem = NULL;
	char	*pem;
	long	 len;
	int	 rc = -1;

	if ((mem = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PUBKEY(mem, k->pkey) != 1 ||
	    (len = BIO_get_mem_data(mem, &pem)) <= 0 ||
	    (size_t)len >= outlen)
		goto out;
	memcpy(out, pem, (size_t)len);
	out[len] = '\0';
	rc = 0;
out:
	BIO_free(mem);
	return rc;
}

int
sigkey_public_der(const struct sigkey *k, uint8_t *out, size_t outlen,
    size_t *len)
{
	unsigned char	*der = NULL;
	int		 derlen, rc = -1;

	if ((derlen = i2d_PUBKEY(k->pkey, &der)) <= 0 ||
	    (size_t)derlen > outlen)
		goto out;
	memcpy(out, der, (size_t)derlen);
	*len = (size_t)derlen;
	rc = 0;
out:
	OPENSSL_free(der);
	return rc;
}

int
sigkey_note_id(const struct sigkey *k, const char *name, uint32_t *id)
{
	static const unsigned char	 rsa_prefix[] =
	    "\n\xff" SIGKEY_RSA_NOTE_TYPE;
	EVP_MD_CTX			*ctx = NULL;
	unsigned char			*der = NULL;
	unsigned char			 digest[EVP_MAX_MD_SIZE];
	int				 derlen, rc = -1;

	if ((k->alg == SIGKEY_RSA_3072 && name == NULL) ||
	    (derlen = i2d_PUBKEY(k->pkey, &der)) <= 0 ||
	    (ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	/* ECDSA (type 0x02) hashes the SPKI alone, as CT log IDs do. */
	if (k->alg == SIGKEY_RSA_3072 &&
	    (EVP_DigestUpdate(ctx, name, strlen(name)) != 1 ||
	    EVP_DigestUpdate(ctx, rsa_prefix, sizeof(rsa_prefix) - 1) != 1))
		goto out;
	if (EVP_DigestUpdate(ctx, der, (size_t)derlen) != 1 ||
	    EVP_DigestFinal_ex(ctx, digest, NULL) != 1)
		goto out;
	*id = (uint32_t)digest[0] << 24 | (uint32_t)digest[1] << 16 |
	    (uint32_t)digest[2] << 8 | digest[3];
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	return rc;
}

/* RSA signs and verifies with PSS, MGF1-SHA-256 and a 32-byte salt. */
static int
sigkey_pss(const struct sigkey *k, EVP_PKEY_CTX *pctx)
{
	if (k->alg != SIGKEY_RSA_3072)
		return 0;
	if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, SIGKEY_PSS_SALT) <= 0)
		return -1;
	return 0;
}

/*
 * A context per call, so that threads may sign with one key at once:
 * only the EVP_PKEY is shared, and OpenSSL only reads it.
 */
int
sigkey_sign(const struct sigkey *k, const void *msg, size_t len,
    uint8_t *sig, size_t *siglen)
{
	EVP_MD_CTX	*ctx = NULL;
	EVP_PKEY_CTX	*pctx = NULL;
	size_t		 n = SIGKEY_SIG_MAX;
	int		 rc = -1;

	if (!k->private)
		goto out;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit_ex(ctx, &pctx, "SHA256", NULL, NULL, k->pkey,
	    NULL) != 1 ||
	    sigkey_pss(k, pctx) < 0 ||
	    EVP_DigestSign(ctx, sig, &n, msg, len) != 1)
		goto out;
	*siglen = n;
	rc = 0;
out:
	if (rc < 0)
		ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* Whether the errors OpenSSL queued include running out of memory. */
static int
sigkey_ran_out(void)
{
	unsigned long	e;
	int		oom = 0;

	while ((e = ERR_get_error()) != 0)
		if (ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE)
			oom = 1;
	return oom;
}

static enum sigkey_check
sigkey_check_once(const struct sigkey *k, const void *msg, size_t len,
    const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX	*ctx = NULL;
	EVP_PKEY_CTX	*pctx = NULL;
	enum sigkey_check res = SIGKEY_ERROR;

	/* The key is one of ours: failing to set it up is no verdict. */
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit_ex(ctx, &pctx, "SHA256", NULL, NULL,
	    k->pkey, NULL) != 1 ||
	    sigkey_pss(k, pctx) < 0)
		goto out;
	/* 1 holds; anything else fails, 0 or negative alike (a signature
	 * that is not even DER is a negative). */
	if (EVP_DigestVerify(ctx, sig, siglen, msg, len) == 1)
		res = SIGKEY_VALID;
	else if (!sigkey_ran_out())
		res = SIGKEY_INVALID;
out:
	/* A bad signature leaves errors queued; they are not news. */
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	return res;
}

/*
 * OpenSSL reports a failed allocation inside a verification (hashing
 * the message, say) as a signature that fails, with no error that says
 * so.  A failure is therefore checked once more: a signature is only
 * invalid if two checks say it; one that holds the second time was
 * memory, not the signature.  (Under memory that stays short, both may
 * fail; every other answer of tallyd would be failing by then.)
 */
enum sigkey_check
sigkey_check(const struct sigkey *k, const void *msg, size_t len,
    const uint8_t *sig, size_t siglen)
{
	enum sigkey_check	res;

	if ((res = sigkey_check_once(k, msg, len, sig, siglen)) ==
	    SIGKEY_VALID)
		return res;
	return sigkey_check_once(k, msg, len, sig, siglen);
}

int
sigkey_verify(const struct sigkey *k, const void *msg, size_t len,
    const uint8_t *sig, size_t siglen)
{
	return sigkey_check(k, msg, len, sig, siglen) == SIGKEY_VALID ? 0 :
	    -1;
}
