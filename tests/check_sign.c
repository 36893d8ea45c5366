#include <sys/stat.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <json-c/json.h>

#include "../common/jcs.h"
#include "../crypto/base64.h"
#include "../crypto/endorse.h"
#include "../crypto/note.h"
#include "../crypto/sigkey.h"
#include "check.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define LOG_NAME	"example.com/log"

static const enum sigkey_alg	algs[] = { SIGKEY_ECDSA_P256, SIGKEY_RSA_3072 };

/* snprintf that must not truncate. */
static void
fmt(char *out, size_t outlen, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static void
fmt(char *out, size_t outlen, const char *format, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, format);
	n = vsnprintf(out, outlen, format, ap);
	va_end(ap);
	ck_assert_msg(n >= 0 && (size_t)n < outlen, "'%s' truncated", format);
}

/* Two keys of each algorithm, made once: RSA-3072 keys are slow to make. */
static char		 fx_dir[256];
static char		 fx_path[2][2][320];
static struct sigkey	*fx_key[2][2];

static void
keys_setup(void)
{
	size_t	a, j;

	tmpdir_make(fx_dir, sizeof(fx_dir));
	for (a = 0; a < 2; a++)
		for (j = 0; j < 2; j++) {
			fmt(fx_path[a][j], sizeof(fx_path[a][j]),
			    "%s/%s-%zu.pem", fx_dir, sigkey_alg_name(algs[a]),
			    j);
			ck_assert_int_eq(sigkey_generate(algs[a],
			    fx_path[a][j], &fx_key[a][j]), 0);
		}
}

static void
keys_teardown(void)
{
	size_t	a, j;

	for (a = 0; a < 2; a++)
		for (j = 0; j < 2; j++) {
			sigkey_free(fx_key[a][j]);
			fx_key[a][j] = NULL;
		}
	tmpdir_remove(fx_dir);
}

static size_t
read_file(const char *path, void *buf, size_t len)
{
	ssize_t	n;
	int	fd;

	ck_assert_int_ge(fd = open(path, O_RDONLY), 0);
	ck_assert_int_ge(n = read(fd, buf, len), 0);
	close(fd);
	return (size_t)n;
}

static void
write_file(const char *path, const void *buf, size_t len, int excl)
{
	int	fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | (excl ? O_EXCL : 0),
	    0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

/* Writes pkey's private half as PEM to a new mode 0600 file. */
static void
write_private(const char *path, EVP_PKEY *pkey)
{
	BIO	*bio;
	int	 fd;

	ck_assert_ptr_nonnull(pkey);
	ck_assert_int_ge(fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600),
	    0);
	ck_assert_ptr_nonnull(bio = BIO_new_fd(fd, BIO_CLOSE));
	ck_assert_int_eq(PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0,
	    NULL, NULL), 1);
	BIO_free(bio);
}

/* The DER SubjectPublicKeyInfo of key, read back from its PEM. */
static int
spki_der(const struct sigkey *key, unsigned char **der)
{
	char		 pem[SIGKEY_PEM_MAX];
	EVP_PKEY	*pkey;
	BIO		*bio;
	int		 len;

	ck_assert_int_eq(sigkey_public_pem(key, pem, sizeof(pem)), 0);
	ck_assert_ptr_nonnull(bio = BIO_new_mem_buf(pem, -1));
	ck_assert_ptr_nonnull(pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL,
	    NULL));
	*der = NULL;
	ck_assert_int_gt(len = i2d_PUBKEY(pkey, der), 0);
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	return len;
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
checkpoint(struct note_head *cp, const char *origin, uint64_t size)
{
	size_t	i;

	memset(cp, 0, sizeof(*cp));
	fmt(cp->origin, sizeof(cp->origin), "%s", origin);
	cp->size = size;
	for (i = 0; i < sizeof(cp->root); i++)
		cp->root[i] = (uint8_t)(i * 37 + size);
}

/*
 * A note of exactly this text with a good signature by key under name:
 * what note_sign would write if it accepted any text.
 */
static void
make_note(const struct sigkey *key, const char *name, const char *text,
    char *out, size_t outlen)
{
	uint8_t		raw[4 + SIGKEY_SIG_MAX];
	char		b64[BASE64_LEN(sizeof(raw))];
	size_t		siglen;
	uint32_t	id;

	ck_assert_int_eq(sigkey_note_id(key, name, &id), 0);
	ck_assert_int_eq(sigkey_sign(key, text, strlen(text), raw + 4,
	    &siglen), 0);
	raw[0] = id >> 24;
	raw[1] = id >> 16 & 0xff;
	raw[2] = id >> 8 & 0xff;
	raw[3] = id & 0xff;
	base64_encode(raw, 4 + siglen, b64);
	fmt(out, outlen, "%s\n\xe2\x80\x94 %s %s\n", text, name, b64);
}

/* out is src with its first find, which must be there, replaced by with. */
static void
replace(char *out, size_t outlen, const char *src, const char *find,
    const char *with)
{
	const char	*at = strstr(src, find);

	ck_assert_ptr_nonnull(at);
	ck_assert_ptr_ne(out, src);
	fmt(out, outlen, "%.*s%s%s", (int)(at - src), src, with,
	    at + strlen(find));
}

START_TEST(base64_rfc4648_vectors)
{
	/* RFC 4648 section 10. */
	static const struct {
		const char	*in, *out;
	} v[] = {
		{ "", "" },
		{ "f", "Zg==" },
		{ "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	char	enc[16];
	uint8_t	dec[8];
	size_t	i, inlen, outlen, n;

	for (i = 0; i < NELEM(v); i++) {
		inlen = strlen(v[i].in);
		outlen = strlen(v[i].out);
		ck_assert_uint_eq(BASE64_LEN(inlen), outlen + 1);
		ck_assert_uint_eq(base64_encode((const uint8_t *)v[i].in,
		    inlen, enc), outlen);
		ck_assert_str_eq(enc, v[i].out);
		ck_assert_int_eq(base64_decode(v[i].out, outlen, dec, inlen,
		    &n), 0);
		ck_assert_uint_eq(n, inlen);
		ck_assert(memcmp(dec, v[i].in, n) == 0);
		/* One byte short of room refuses. */
		if (inlen > 0)
			ck_assert_int_eq(base64_decode(v[i].out, outlen, dec,
			    inlen - 1, &n), -1);
	}
}
END_TEST

START_TEST(base64_strict)
{
	static const struct {
		const char	*text;
		size_t		 len;	/* 0: strlen */
	} bad[] = {
		{ "Z", 0 }, { "Zg", 0 }, { "Zg=", 0 }, { "Zg===", 0 },
		{ "Zm9vYg", 0 },		/* unpadded */
		{ "Zh==", 0 }, { "Zm9=", 0 },	/* padding bits set */
		{ "Zg==Zg==", 0 }, { "=Zg=", 0 }, { "Zg=a", 0 },
		{ "Z===", 0 }, { "====", 0 },
		{ " Zg=", 0 }, { "Zg==\n", 0 }, { "Zm9v\r\n", 0 },
		{ "Zm 9v", 0 }, { "Zm9v    ", 0 },
		{ "Zm-_", 0 },			/* the URL alphabet */
		{ "Zm9\0", 4 }, { "\xff\xff\xff\xff", 0 },
	};
	uint8_t	out[16];
	size_t	i, n;

	for (i = 0; i < NELEM(bad); i++)
		ck_assert_msg(base64_decode(bad[i].text, bad[i].len != 0 ?
		    bad[i].len : strlen(bad[i].text), out, sizeof(out),
		    &n) == -1, "case %zu decodes", i);
}
END_TEST

START_TEST(base64_round_trip)
{
	uint8_t	in[100], out[100];
	char	text[BASE64_LEN(100)];
	size_t	len, i, n;

	for (len = 0; len <= sizeof(in); len++) {
		for (i = 0; i < len; i++)
			in[i] = (uint8_t)(i * 151 + len * 7);
		ck_assert_uint_eq(base64_encode(in, len, text),
		    BASE64_LEN(len) - 1);
		ck_assert_uint_eq(strlen(text), BASE64_LEN(len) - 1);
		ck_assert_int_eq(base64_decode(text, strlen(text), out, len,
		    &n), 0);
		ck_assert_uint_eq(n, len);
		ck_assert(memcmp(in, out, len) == 0);
	}
}
END_TEST

START_TEST(sigkey_alg_names)
{
	enum sigkey_alg	alg;
	size_t		i;

	for (i = 0; i < NELEM(algs); i++) {
		ck_assert_uint_lt(strlen(sigkey_alg_name(algs[i])),
		    SIGKEY_ALG_NAME_MAX);
		ck_assert_int_eq(sigkey_alg_parse(sigkey_alg_name(algs[i]),
		    &alg), 0);
		ck_assert_int_eq(alg, algs[i]);
	}
	ck_assert_str_eq(sigkey_alg_name(SIGKEY_ECDSA_P256), "ecdsa-p256");
	ck_assert_str_eq(sigkey_alg_name(SIGKEY_RSA_3072), "rsa-3072");
	ck_assert_int_eq(sigkey_alg_parse("ed25519", &alg), -1);
	ck_assert_int_eq(sigkey_alg_parse("", &alg), -1);
	ck_assert_int_eq(sigkey_alg_parse("ECDSA-P256", &alg), -1);
}
END_TEST

/* Loops over algs. */
START_TEST(sigkey_life)
{
	static const char	 msg[] = "tree head 42";
	static const mode_t	 loose[] = { 0640, 0604, 0660, 0610, 0601 };
	enum sigkey_alg		 alg = algs[_i];
	struct sigkey		*gen = NULL, *k = NULL, *pub = NULL, *again;
	struct stat		 st;
	char			 dir[256], path[320], err[256], want[16];
	char			 pem[SIGKEY_PEM_MAX], before[8192], after[8192];
	uint8_t			 sig[SIGKEY_SIG_MAX], bad[SIGKEY_SIG_MAX];
	size_t			 siglen, i, n;
	uint32_t		 id1, id2;

	tmpdir_make(dir, sizeof(dir));
	fmt(path, sizeof(path), "%s/key.pem", dir);
	ck_assert_int_eq(sigkey_generate(alg, path, &gen), 0);
	ck_assert_int_eq(sigkey_alg(gen), alg);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	n = read_file(path, before, sizeof(before));
	ck_assert(n > 0 && n < sizeof(before));
	before[n] = '\0';
	ck_assert_ptr_nonnull(strstr(before, "-----BEGIN PRIVATE KEY-----"));

	ck_assert_int_eq(sigkey_load_private(path, &k, err, sizeof(err)), 0);
	ck_assert_int_eq(sigkey_alg(k), alg);
	ck_assert_int_eq(sigkey_sign(k, msg, strlen(msg), sig, &siglen), 0);
	ck_assert_uint_gt(siglen, 0);
	ck_assert_uint_le(siglen, SIGKEY_SIG_MAX);
	if (alg == SIGKEY_RSA_3072)
		ck_assert_uint_eq(siglen, 384);
	ck_assert_int_eq(sigkey_verify(k, msg, strlen(msg), sig, siglen), 0);
	ck_assert_int_eq(sigkey_verify(gen, msg, strlen(msg), sig, siglen),
	    0);

	/* Tampered messages and signatures. */
	ck_assert_int_eq(sigkey_verify(k, "tree head 43", strlen(msg), sig,
	    siglen), -1);
	ck_assert_int_eq(sigkey_verify(k, msg, strlen(msg) - 1, sig, siglen),
	    -1);
	ck_assert_int_eq(sigkey_verify(k, msg, strlen(msg), sig, siglen - 1),
	    -1);
	ck_assert_int_eq(sigkey_verify(k, msg, strlen(msg), sig, 0), -1);
	for (i = 0; i < siglen; i++) {
		memcpy(bad, sig, siglen);
		bad[i] ^= 0x01;
		ck_assert_msg(sigkey_verify(k, msg, strlen(msg), bad,
		    siglen) == -1, "flipped byte %zu verifies", i);
	}

	/* The public half verifies, has the same key ID, and cannot sign. */
	ck_assert_int_eq(sigkey_public_pem(k, pem, sizeof(pem)), 0);
	ck_assert_ptr_nonnull(strstr(pem, "-----BEGIN PUBLIC KEY-----"));
	ck_assert_ptr_null(strstr(pem, "PRIVATE"));
	ck_assert_int_eq(sigkey_public_pem(k, pem, 32), -1);
	ck_assert_int_eq(sigkey_public_pem(k, pem, sizeof(pem)), 0);
	ck_assert_int_eq(sigkey_from_public_pem(pem, strlen(pem), &pub), 0);
	ck_assert_int_eq(sigkey_alg(pub), alg);
	ck_assert_int_eq(sigkey_verify(pub, msg, strlen(msg), sig, siglen),
	    0);
	ck_assert_int_eq(sigkey_verify(pub, msg, strlen(msg) - 1, sig,
	    siglen), -1);
	ck_assert_int_eq(sigkey_sign(pub, msg, strlen(msg), bad, &n), -1);
	ck_assert_int_eq(sigkey_note_id(k, LOG_NAME, &id1), 0);
	ck_assert_int_eq(sigkey_note_id(pub, LOG_NAME, &id2), 0);
	ck_assert_uint_eq(id1, id2);
	ck_assert_int_eq(sigkey_from_public_pem(before, strlen(before),
	    &again), -1);
	ck_assert_ptr_null(again);
	ck_assert_int_eq(sigkey_from_public_pem(pem, 20, &again), -1);

	/* Group or others may read or write: refused, saying why. */
	for (i = 0; i < NELEM(loose); i++) {
		ck_assert_int_eq(chmod(path, loose[i]), 0);
		again = gen;
		err[0] = '\0';
		ck_assert_int_eq(sigkey_load_private(path, &again, err,
		    sizeof(err)), -1);
		ck_assert_ptr_null(again);
		fmt(want, sizeof(want), "%04o", (unsigned)loose[i]);
		ck_assert_msg(strstr(err, want) != NULL &&
		    strstr(err, "chmod 600") != NULL, "'%s'", err);
	}
	/* The owner alone, even read-only: accepted. */
	ck_assert_int_eq(chmod(path, 0400), 0);
	ck_assert_int_eq(sigkey_load_private(path, &again, err, sizeof(err)),
	    0);
	sigkey_free(again);
	ck_assert_int_eq(chmod(path, 0600), 0);

	/* An existing file is never overwritten. */
	again = gen;
	ck_assert_int_eq(sigkey_generate(alg, path, &again), -1);
	ck_assert_ptr_null(again);
	ck_assert_uint_eq(read_file(path, after, sizeof(after)),
	    strlen(before));
	ck_assert(memcmp(before, after, strlen(before)) == 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);

	sigkey_free(pub);
	sigkey_free(k);
	sigkey_free(gen);
	tmpdir_remove(dir);
}
END_TEST

static EVP_PKEY *
p256_explicit(void)
{
	EVP_PKEY_CTX	*ctx;
	EVP_PKEY	*pkey = NULL;
	OSSL_PARAM	 params[3];

	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
	params[1] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_EC_ENCODING, "explicit", 0);
	params[2] = OSSL_PARAM_construct_end();
	ck_assert_ptr_nonnull(ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC",
	    NULL));
	ck_assert_int_eq(EVP_PKEY_keygen_init(ctx), 1);
	ck_assert_int_eq(EVP_PKEY_CTX_set_params(ctx, params), 1);
	ck_assert_int_eq(EVP_PKEY_generate(ctx, &pkey), 1);
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

START_TEST(sigkey_refuses_other_keys)
{
	struct {
		const char	*file, *want;
		EVP_PKEY	*pkey;
	} c[] = {
		{ "rsa2048.pem", "RSA key of 2048 bits", NULL },
		{ "p384.pem", "secp384r1", NULL },
		{ "ed25519.pem", "ED25519", NULL },
		{ "p256explicit.pem", "explicit", NULL },
	};
	struct sigkey	*k;
	char		 dir[256], path[320], err[256], pem[SIGKEY_PEM_MAX];
	BIO		*mem;
	char		*text;
	long		 len;
	size_t		 i;

	c[0].pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	c[1].pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	c[2].pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	c[3].pkey = p256_explicit();
	tmpdir_make(dir, sizeof(dir));
	for (i = 0; i < NELEM(c); i++) {
		fmt(path, sizeof(path), "%s/%s", dir, c[i].file);
		write_private(path, c[i].pkey);
		k = NULL;
		err[0] = '\0';
		ck_assert_int_eq(sigkey_load_private(path, &k, err,
		    sizeof(err)), -1);
		ck_assert_ptr_null(k);
		ck_assert_msg(strstr(err, c[i].want) != NULL, "%s: '%s'",
		    c[i].file, err);
		/* Nor will their public halves verify. */
		ck_assert_ptr_nonnull(mem = BIO_new(BIO_s_mem()));
		ck_assert_int_eq(PEM_write_bio_PUBKEY(mem, c[i].pkey), 1);
		len = BIO_get_mem_data(mem, &text);
		ck_assert(len > 0 && (size_t)len < sizeof(pem));
		memcpy(pem, text, (size_t)len);
		ck_assert_int_eq(sigkey_from_public_pem(pem, (size_t)len, &k),
		    -1);
		ck_assert_ptr_null(k);
		BIO_free(mem);
		EVP_PKEY_free(c[i].pkey);
	}
	tmpdir_remove(dir);
}
END_TEST

START_TEST(sigkey_load_errors)
{
	struct sigkey	*k;
	EVP_PKEY	*pkey;
	BIO		*bio;
	char		 dir[256], path[320], err[256];
	int		 fd;

	tmpdir_make(dir, sizeof(dir));
	fmt(path, sizeof(path), "%s/missing.pem", dir);
	ck_assert_int_eq(sigkey_load_private(path, &k, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
	ck_assert_int_eq(sigkey_load_private(dir, &k, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, dir));

	fmt(path, sizeof(path), "%s/junk.pem", dir);
	write_file(path, "not a key\n", 10, 1);
	ck_assert_int_eq(sigkey_load_private(path, &k, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "PEM"));

	/* Encrypted: refused, and no passphrase is asked for. */
	fmt(path, sizeof(path), "%s/encrypted.pem", dir);
	ck_assert_ptr_nonnull(pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
	    "P-256"));
	ck_assert_int_ge(fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600),
	    0);
	ck_assert_ptr_nonnull(bio = BIO_new_fd(fd, BIO_CLOSE));
	ck_assert_int_eq(PEM_write_bio_PKCS8PrivateKey(bio, pkey,
	    EVP_aes_256_cbc(), "secret", 6, NULL, NULL), 1);
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	ck_assert_int_eq(sigkey_load_private(path, &k, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "unencrypted"));

	/* A generate that cannot create the file leaves nothing. */
	fmt(path, sizeof(path), "%s/no/such/dir/key.pem", dir);
	ck_assert_int_eq(sigkey_generate(SIGKEY_ECDSA_P256, path, &k), -1);
	ck_assert_ptr_null(k);
	tmpdir_remove(dir);
}
END_TEST

/* Loops over algs. */
START_TEST(note_ids)
{
	static const uint8_t	 rsa_type[] = "\n\xffrsa-pss-sha256";
	const struct sigkey	*k = fx_key[_i][0], *other = fx_key[_i][1];
	struct sigkey		*loaded;
	EVP_MD_CTX		*md;
	unsigned char		*der;
	uint8_t			 digest[32];
	char			 err[256];
	uint32_t		 id, id2;
	int			 derlen;

	ck_assert_int_eq(sigkey_note_id(k, LOG_NAME, &id), 0);
	ck_assert_int_eq(sigkey_note_id(k, LOG_NAME, &id2), 0);
	ck_assert_uint_eq(id, id2);
	ck_assert_int_eq(sigkey_load_private(fx_path[_i][0], &loaded, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(sigkey_note_id(loaded, LOG_NAME, &id2), 0);
	ck_assert_uint_eq(id, id2);
	sigkey_free(loaded);
	ck_assert_int_eq(sigkey_note_id(other, LOG_NAME, &id2), 0);
	ck_assert_uint_ne(id, id2);

	/* Computed here, independently, from the DER SPKI. */
	derlen = spki_der(k, &der);
	ck_assert_ptr_nonnull(md = EVP_MD_CTX_new());
	ck_assert_int_eq(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
	if (algs[_i] == SIGKEY_RSA_3072) {
		ck_assert_int_eq(EVP_DigestUpdate(md, LOG_NAME,
		    strlen(LOG_NAME)), 1);
		ck_assert_int_eq(EVP_DigestUpdate(md, rsa_type,
		    sizeof(rsa_type) - 1), 1);
	}
	ck_assert_int_eq(EVP_DigestUpdate(md, der, (size_t)derlen), 1);
	ck_assert_int_eq(EVP_DigestFinal_ex(md, digest, NULL), 1);
	ck_assert_uint_eq(id, be32(digest));
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);

	/* ECDSA's ID is the key's alone; RSA's depends on the name. */
	ck_assert_int_eq(sigkey_note_id(k, "example.org/other", &id2), 0);
	if (algs[_i] == SIGKEY_ECDSA_P256)
		ck_assert_uint_eq(id, id2);
	else
		ck_assert_uint_ne(id, id2);
}
END_TEST

/* Loops over algs. */
START_TEST(note_round_trip)
{
	static const struct {
		const char	*origin;
		uint64_t	 size;
	} c[] = {
		{ LOG_NAME, 0 },
		{ LOG_NAME, 1 },
		{ "x", UINT64_MAX },
		{ "\xe4\xbe\x8b\xe3\x81\x88.jp/\xe3\x83\xad\xe3\x82\xb0 "
		    "with spaces+plus", 1234567 },
		{ NULL, 99 },	/* NOTE_ORIGIN_MAX bytes */
	};
	const struct sigkey	*k = fx_key[_i][0];
	struct note_head	 cp, got;
	char			 note[NOTE_MAX], body[NOTE_MAX], root[64];
	char			 longest[NOTE_ORIGIN_MAX + 1];
	size_t			 i;

	memset(longest, 'o', NOTE_ORIGIN_MAX);
	longest[NOTE_ORIGIN_MAX] = '\0';
	for (i = 0; i < NELEM(c); i++) {
		checkpoint(&cp, c[i].origin != NULL ? c[i].origin : longest,
		    c[i].size);
		ck_assert_int_eq(note_sign(&cp, k, LOG_NAME, note,
		    sizeof(note)), NOTE_OK);
		/* The exact text of the body, then the signature line. */
		base64_encode(cp.root, sizeof(cp.root), root);
		fmt(body, sizeof(body), "%s\n%llu\n%s\n\n\xe2\x80\x94 "
		    LOG_NAME " ", cp.origin, (unsigned long long)cp.size,
		    root);
		ck_assert_msg(strncmp(note, body, strlen(body)) == 0, "%s",
		    note);
		ck_assert(note[strlen(note) - 1] == '\n');
		ck_assert_ptr_null(strchr(note + strlen(body), ' '));

		memset(&got, 0xa5, sizeof(got));
		ck_assert_int_eq(note_open(note, strlen(note), k, LOG_NAME,
		    &got), NOTE_OK);
		ck_assert_str_eq(got.origin, cp.origin);
		ck_assert(got.size == cp.size);
		ck_assert(memcmp(got.root, cp.root, sizeof(cp.root)) == 0);
	}
}
END_TEST

/* Loops over algs. */
START_TEST(note_every_byte_matters)
{
	const struct sigkey	*k = fx_key[_i][0];
	struct note_head	 cp, got, untouched;
	char			 note[NOTE_MAX], bad[NOTE_MAX];
	size_t			 len, i, b;
	int			 rc;

	checkpoint(&cp, LOG_NAME, 4242);
	ck_assert_int_eq(note_sign(&cp, k, LOG_NAME, note, sizeof(note)),
	    NOTE_OK);
	len = strlen(note);
	memset(&untouched, 0xa5, sizeof(untouched));
	for (i = 0; i < len; i++) {
		/* Each single bit, and the whole byte. */
		for (b = 0; b <= 8; b++) {
			memcpy(bad, note, len);
			bad[i] ^= b < 8 ? 1 << b : 0xff;
			got = untouched;
			rc = note_open(bad, len, k, LOG_NAME, &got);
			ck_assert_msg(rc != NOTE_OK, "byte %zu ^ bit %zu opens",
			    i, b);
			ck_assert(memcmp(&got, &untouched, sizeof(got)) == 0);
		}
	}
	/* Every proper prefix, and a byte more. */
	for (i = 0; i < len; i++)
		ck_assert_int_ne(note_open(note, i, k, LOG_NAME, &got),
		    NOTE_OK);
	memcpy(bad, note, len);
	bad[len] = '\n';
	ck_assert_int_ne(note_open(bad, len + 1, k, LOG_NAME, &got), NOTE_OK);
	ck_assert_int_eq(note_open(note, len, k, LOG_NAME, &got), NOTE_OK);
}
END_TEST

/* Loops over algs. */
START_TEST(note_other_keys)
{
	const struct sigkey	*k = fx_key[_i][0], *other = fx_key[_i][1];
	const struct sigkey	*foreign = fx_key[1 - _i][0];
	struct note_head	 cp, got;
	char			 note[NOTE_MAX], bad[NOTE_MAX], b64[NOTE_MAX];
	uint8_t			 raw[NOTE_MAX];
	const char		*line, *sig;
	size_t			 rawlen;

	checkpoint(&cp, LOG_NAME, 7);
	ck_assert_int_eq(note_sign(&cp, k, LOG_NAME, note, sizeof(note)),
	    NOTE_OK);
	ck_assert_int_eq(note_open(note, strlen(note), other, LOG_NAME, &got),
	    NOTE_NO_SIGNATURE);
	ck_assert_int_eq(note_open(note, strlen(note), foreign, LOG_NAME,
	    &got), NOTE_NO_SIGNATURE);
	ck_assert_int_eq(note_open(note, strlen(note), k, "example.com/other",
	    &got), NOTE_NO_SIGNATURE);
	ck_assert_int_eq(note_open(note, strlen(note), k, "bad name", &got),
	    NOTE_NO_SIGNATURE);

	/* Our name and key ID, a signature that fails: bad, not absent. */
	ck_assert_ptr_nonnull(line = strstr(note, "\n\n"));
	line += 2;
	sig = strrchr(line, ' ') + 1;
	ck_assert_int_eq(base64_decode(sig, strlen(sig) - 1, raw, sizeof(raw),
	    &rawlen), 0);
	raw[rawlen - 1] ^= 0x01;
	base64_encode(raw, rawlen, b64);
	fmt(bad, sizeof(bad), "%.*s%s\n", (int)(sig - note), note, b64);
	ck_assert_int_eq(note_open(bad, strlen(bad), k, LOG_NAME, &got),
	    NOTE_BAD_SIGNATURE);
	/* Even next to a good line. */
	fmt(bad, sizeof(bad), "%s%.*s%s\n", note, (int)(sig - line),
	    line, b64);
	ck_assert_int_eq(note_open(bad, strlen(bad), k, LOG_NAME, &got),
	    NOTE_BAD_SIGNATURE);
}
END_TEST

/* Loops over algs. */
START_TEST(note_unknown_signatures)
{
	const struct sigkey	*k = fx_key[_i][0], *witness = fx_key[_i][1];
	struct note_head	 cp, got;
	char			 note[NOTE_MAX], cosigned[NOTE_MAX];
	char			 text[NOTE_MAX], b64[128];
	uint8_t			 raw[68];
	const char		*ours, *theirs;
	size_t			 i;

	checkpoint(&cp, LOG_NAME, 77);
	ck_assert_int_eq(note_sign(&cp, k, LOG_NAME, note, sizeof(note)),
	    NOTE_OK);
	ours = strstr(note, "\n\n") + 2;

	/* An Ed25519-sized signature of a key we do not know, after ours... */
	for (i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)(i * 13 + 5);
	base64_encode(raw, sizeof(raw), b64);
	fmt(text, sizeof(text), "%s\xe2\x80\x94 witness.example/w1 %s\n",
	    note, b64);
	ck_assert_int_eq(note_open(text, strlen(text), k, LOG_NAME, &got),
	    NOTE_OK);
	ck_assert(got.size == 77);
	/* ... before ours, and under our name with another key ID. */
	fmt(text, sizeof(text), "%.*s\xe2\x80\x94 %s %s\n%s",
	    (int)(ours - note), note, LOG_NAME, b64, ours);
	ck_assert_int_eq(note_open(text, strlen(text), k, LOG_NAME, &got),
	    NOTE_OK);

	/* A cosigned note opens for each of its keys. */
	ck_assert_int_eq(note_sign(&cp, witness, "witness.example/w2",
	    cosigned, sizeof(cosigned)), NOTE_OK);
	theirs = strstr(cosigned, "\n\n") + 2;
	fmt(text, sizeof(text), "%s%s", note, theirs);
	ck_assert_int_eq(note_open(text, strlen(text), k, LOG_NAME, &got),
	    NOTE_OK);
	ck_assert_int_eq(note_open(text, strlen(text), witness,
	    "witness.example/w2", &got), NOTE_OK);
	ck_assert_int_eq(note_open(text, strlen(text), witness, LOG_NAME,
	    &got), NOTE_NO_SIGNATURE);
}
END_TEST

START_TEST(note_malformed)
{
	/* Texts signed as they are: only their form is wrong. */
	static const char	*texts[] = {
		LOG_NAME "\n01\nROOT\n",
		LOG_NAME "\n00\nROOT\n",
		LOG_NAME "\n18446744073709551616\nROOT\n",
		LOG_NAME "\n99999999999999999999\nROOT\n",
		LOG_NAME "\n\nROOT\n",
		LOG_NAME "\n-1\nROOT\n",
		LOG_NAME "\n+5\nROOT\n",
		LOG_NAME "\n 5\nROOT\n",
		LOG_NAME "\n5 \nROOT\n",
		LOG_NAME "\n0x10\nROOT\n",
		LOG_NAME "\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n",
		LOG_NAME "\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g\n",
		LOG_NAME "\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=\n",
		LOG_NAME "\n5\n000102030405060708090a0b0c0d0e0f1011121314151617"
		    "18191a1b1c1d1e1f\n",
		LOG_NAME "\n5\nROOT \n",
		LOG_NAME "\n5\nROOT\nextension\n",
		LOG_NAME "\n5\n",
		"\n5\nROOT\n",
		"exa\tmple.com/log\n5\nROOT\n",
		LOG_NAME "\r\n5\nROOT\n",
		LOG_NAME "\x7f\n5\nROOT\n",
		LOG_NAME "\x1b[1m\n5\nROOT\n",
		LOG_NAME "\xff\n5\nROOT\n",
		"\xc0\xaf\n5\nROOT\n",
		"\xed\xa0\x80\n5\nROOT\n",
		"caf\xc3\n5\nROOT\n",
	};
	/* The signed note, changed: its signature part is wrong. */
	static const struct {
		const char	*find, *with;
	} edits[] = {
		{ "\n\n", "\n" },			/* no blank line */
		{ "\xe2\x80\x94 ", "- " },		/* no em dash */
		{ "\xe2\x80\x94 ", "\xe2\x80\x93 " },	/* en dash */
		{ "\xe2\x80\x94 ", "\xe2\x80\x94" },	/* no space */
		{ "\xe2\x80\x94 ", "\xe2\x80\x94  " },	/* empty name */
		{ "\xe2\x80\x94 ", " \xe2\x80\x94 " },
		{ " " LOG_NAME " ", " example.com/l+g " },
		{ " " LOG_NAME " ", " " LOG_NAME "  " },
		{ " " LOG_NAME " ", " " LOG_NAME "\t" },
		{ " " LOG_NAME " ", " example.com\xc2\xa0log " },
		{ "\n\n", "\n\n\n" },			/* a blank line more */
		{ "\n\n", "\n\n\r" },
	};
	const struct sigkey	*k = fx_key[0][0];
	struct note_head	 got;
	/* Room for notes over NOTE_MAX. */
	char			 text[2 * NOTE_MAX], bad[2 * NOTE_MAX];
	char			 note[NOTE_MAX];
	char			 root[BASE64_LEN(MERKLE_HASH_LEN)];
	char			 b64[BASE64_LEN(NOTE_MAX)];
	uint8_t			 hash[MERKLE_HASH_LEN], raw[NOTE_MAX];
	uint32_t		 id;
	size_t			 i, len;

	for (i = 0; i < sizeof(hash); i++)
		hash[i] = (uint8_t)i;
	base64_encode(hash, sizeof(hash), root);
	/* The same way, a well-formed text opens. */
	fmt(text, sizeof(text), LOG_NAME "\n5\n%s\n", root);
	make_note(k, LOG_NAME, text, note, sizeof(note));
	ck_assert_int_eq(note_open(note, strlen(note), k, LOG_NAME, &got),
	    NOTE_OK);
	ck_assert(got.size == 5 && memcmp(got.root, hash, sizeof(hash)) == 0);

	for (i = 0; i < NELEM(texts); i++) {
		if (strstr(texts[i], "ROOT") != NULL)
			replace(text, sizeof(text), texts[i], "ROOT", root);
		else
			fmt(text, sizeof(text), "%s", texts[i]);
		make_note(k, LOG_NAME, text, bad, sizeof(bad));
		ck_assert_msg(note_open(bad, strlen(bad), k, LOG_NAME, &got) ==
		    NOTE_MALFORMED, "text %zu opens", i);
	}
	for (i = 0; i < NELEM(edits); i++) {
		replace(bad, sizeof(bad), note, edits[i].find, edits[i].with);
		ck_assert_msg(note_open(bad, strlen(bad), k, LOG_NAME, &got) ==
		    NOTE_MALFORMED, "edit %zu opens", i);
	}

	/* No final newline; a trailing space; a NUL inside. */
	len = strlen(note);
	ck_assert_int_eq(note_open(note, len - 1, k, LOG_NAME, &got),
	    NOTE_MALFORMED);
	fmt(bad, sizeof(bad), "%.*s \n", (int)(len - 1), note);
	ck_assert_int_eq(note_open(bad, strlen(bad), k, LOG_NAME, &got),
	    NOTE_MALFORMED);
	memcpy(bad, note, len);
	bad[3] = '\0';
	ck_assert_int_eq(note_open(bad, len, k, LOG_NAME, &got),
	    NOTE_MALFORMED);
	/* No signature line at all. */
	fmt(bad, sizeof(bad), "%s\n", text);
	ck_assert_int_eq(note_open(bad, strlen(bad), k, LOG_NAME, &got),
	    NOTE_MALFORMED);

	/* A signature of a key ID alone, with no signature bytes. */
	ck_assert_int_eq(sigkey_note_id(k, LOG_NAME, &id), 0);
	raw[0] = id >> 24;
	raw[1] = id >> 16 & 0xff;
	raw[2] = id >> 8 & 0xff;
	raw[3] = id & 0xff;
	base64_encode(raw, 4, b64);
	fmt(bad, sizeof(bad), "%s\xe2\x80\x94 w.example/x %s\n", note,
	    b64);
	ck_assert_int_eq(note_open(bad, strlen(bad), k, LOG_NAME, &got),
	    NOTE_MALFORMED);

	/*
	 * An unknown signature that brings the note to NOTE_MAX - 1
	 * bytes opens; one byte more and it is too long.
	 */
	memset(raw, 0x5a, sizeof(raw));
	len = strlen(note) + strlen("\xe2\x80\x94 w.example/x \n");
	len = (NOTE_MAX - 1 - len) / 4 * 3;
	base64_encode(raw, len, b64);
	fmt(bad, sizeof(bad), "%s\xe2\x80\x94 w.example/x %s\n", note,
	    b64);
	/* Lengthen the name until the note is NOTE_MAX - 1 bytes. */
	while (strlen(bad) < NOTE_MAX - 1) {
		replace(text, sizeof(text), bad, "w.example/", "w.example/w");
		memcpy(bad, text, strlen(text) + 1);
	}
	ck_assert_uint_eq(strlen(bad), NOTE_MAX - 1);
	ck_assert_int_eq(note_open(bad, strlen(bad), k, LOG_NAME, &got),
	    NOTE_OK);
	replace(text, sizeof(text), bad, "w.example/", "w.example/w");
	ck_assert_uint_eq(strlen(text), NOTE_MAX);
	ck_assert_int_eq(note_open(text, strlen(text), k, LOG_NAME, &got),
	    NOTE_MALFORMED);
}
END_TEST

START_TEST(note_sign_refuses)
{
	static const char	*names[] = {
		"", "a b", "a+b", "a\tb", "a\nb", "example.com\xc2\xa0log",
		"example.com\xe3\x80\x80log", "bad\xff",
	};
	static const char	*origins[] = {
		"", "two\nlines", "tab\there", "del\x7f", "bad\xff",
	};
	const struct sigkey	*k = fx_key[0][0];
	struct sigkey		*pub;
	struct note_head	 cp;
	char			 note[NOTE_MAX], pem[SIGKEY_PEM_MAX];
	size_t			 i;

	checkpoint(&cp, LOG_NAME, 3);
	for (i = 0; i < NELEM(names); i++) {
		strcpy(note, "stale");
		ck_assert_msg(note_sign(&cp, k, names[i], note, sizeof(note)) ==
		    NOTE_MALFORMED, "name %zu", i);
		ck_assert_str_eq(note, "");
	}
	for (i = 0; i < NELEM(origins); i++) {
		checkpoint(&cp, origins[i], 3);
		ck_assert_msg(note_sign(&cp, k, LOG_NAME, note, sizeof(note)) ==
		    NOTE_MALFORMED, "origin %zu", i);
	}
	/* An origin that fills the array with no NUL. */
	checkpoint(&cp, LOG_NAME, 3);
	memset(cp.origin, 'o', sizeof(cp.origin));
	ck_assert_int_eq(note_sign(&cp, k, LOG_NAME, note, sizeof(note)),
	    NOTE_MALFORMED);

	/* No room; a key that cannot sign. */
	checkpoint(&cp, LOG_NAME, 3);
	ck_assert_int_eq(note_sign(&cp, k, LOG_NAME, note, 60), NOTE_ERROR);
	ck_assert_str_eq(note, "");
	ck_assert_int_eq(note_sign(&cp, k, LOG_NAME, note, 0), NOTE_ERROR);
	ck_assert_int_eq(sigkey_public_pem(k, pem, sizeof(pem)), 0);
	ck_assert_int_eq(sigkey_from_public_pem(pem, strlen(pem), &pub), 0);
	ck_assert_int_eq(note_sign(&cp, pub, LOG_NAME, note, sizeof(note)),
	    NOTE_ERROR);
	sigkey_free(pub);
	ck_assert_str_eq(note_strerror(NOTE_NO_SIGNATURE),
	    "no signature by the key");
}
END_TEST

struct signer {
	const struct sigkey	*key;
	int			 failures;
};

static void *
signer_run(void *arg)
{
	struct signer	*s = arg;
	char		 msg[64];
	uint8_t		 sig[SIGKEY_SIG_MAX];
	size_t		 siglen;
	int		 i;

	for (i = 0; i < 40; i++) {
		snprintf(msg, sizeof(msg), "head %p %d", (void *)s, i);
		if (sigkey_sign(s->key, msg, strlen(msg), sig, &siglen) < 0 ||
		    sigkey_verify(s->key, msg, strlen(msg), sig, siglen) < 0)
			s->failures++;
	}
	return NULL;
}

/* Loops over algs: threads sign with one key at once. */
START_TEST(sigkey_threads)
{
	struct signer	s[4];
	pthread_t	t[4];
	size_t		i;

	for (i = 0; i < NELEM(s); i++) {
		s[i].key = fx_key[_i][0];
		s[i].failures = 0;
		ck_assert_int_eq(pthread_create(&t[i], NULL, signer_run,
		    &s[i]), 0);
	}
	for (i = 0; i < NELEM(s); i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		ck_assert_int_eq(s[i].failures, 0);
	}
}
END_TEST

/*
 * The independent path: the openssl command line checks our signatures,
 * and we check its, so neither side can agree with itself alone.
 */
START_TEST(sigkey_openssl_cli)
{
	static const char	 msg[] = "example.com/log\n5\nroot\n";
	static const char	*pss = "-sigopt rsa_padding_mode:pss "
	    "-sigopt rsa_pss_saltlen:32";
	char			 dir[256], cmd[2048], path[320];
	char			 pem[SIGKEY_PEM_MAX];
	uint8_t			 sig[SIGKEY_SIG_MAX];
	size_t			 siglen, a;
	const char		*opts;
	const struct sigkey	*k;

	tmpdir_make(dir, sizeof(dir));
	for (a = 0; a < NELEM(algs); a++) {
		k = fx_key[a][0];
		opts = algs[a] == SIGKEY_RSA_3072 ? pss : "";
		ck_assert_int_eq(sigkey_public_pem(k, pem, sizeof(pem)), 0);
		fmt(path, sizeof(path), "%s/pub.pem", dir);
		write_file(path, pem, strlen(pem), 0);
		fmt(path, sizeof(path), "%s/msg", dir);
		write_file(path, msg, strlen(msg), 0);
		ck_assert_int_eq(sigkey_sign(k, msg, strlen(msg), sig,
		    &siglen), 0);
		fmt(path, sizeof(path), "%s/sig", dir);
		write_file(path, sig, siglen, 0);

		fmt(cmd, sizeof(cmd), "openssl dgst -sha256 %s -verify "
		    "%s/pub.pem -signature %s/sig %s/msg >/dev/null 2>&1",
		    opts, dir, dir, dir);
		ck_assert_msg(system(cmd) == 0, "%s", cmd);
		/* The command does check: a changed message fails it. */
		fmt(path, sizeof(path), "%s/msg", dir);
		write_file(path, "x", 1, 0);
		ck_assert_msg(system(cmd) != 0, "%s", cmd);

		/* And what the command signs verifies here. */
		write_file(path, msg, strlen(msg), 0);
		fmt(cmd, sizeof(cmd), "openssl dgst -sha256 %s -sign %s "
		    "-out %s/sig2 %s/msg >/dev/null 2>&1", opts, fx_path[a][0],
		    dir, dir);
		ck_assert_msg(system(cmd) == 0, "%s", cmd);
		fmt(path, sizeof(path), "%s/sig2", dir);
		siglen = read_file(path, sig, sizeof(sig));
		ck_assert_int_eq(sigkey_verify(k, msg, strlen(msg), sig,
		    siglen), 0);
		ck_assert_int_eq(sigkey_verify(k, msg, strlen(msg) - 1, sig,
		    siglen), -1);
	}

	/* PSS with another salt length is not our signature. */
	fmt(cmd, sizeof(cmd), "openssl dgst -sha256 -sigopt "
	    "rsa_padding_mode:pss -sigopt rsa_pss_saltlen:20 -sign %s "
	    "-out %s/sig3 %s/msg >/dev/null 2>&1", fx_path[1][0], dir, dir);
	ck_assert_msg(system(cmd) == 0, "%s", cmd);
	fmt(path, sizeof(path), "%s/sig3", dir);
	siglen = read_file(path, sig, sizeof(sig));
	ck_assert_int_eq(sigkey_verify(fx_key[1][0], msg, strlen(msg), sig,
	    siglen), -1);
	tmpdir_remove(dir);
}
END_TEST

/* An endorsement of fx_key[a][1] (the new key) by fx_key[a][0]. */
static void
endorse_subject_of(size_t a, struct endorse_subject *s)
{
	s->key = fx_key[a][1];
	s->key_id = "0badc0de";
	s->name = LOG_NAME;
	s->valid_from = "2026-12-04T10:00:00.000Z";
	s->endorsed_by = "a1b2c3d4";
}

START_TEST(endorse_statement_bytes)
{
	struct endorse_subject	 s;
	struct sbuf		 st = { 0 }, re = { 0 };
	struct json_object	*obj;
	unsigned char		*der = NULL;
	EVP_PKEY		*pkey;
	BIO			*bio;
	char			 want[4096], b64[2048];
	char			 pem[SIGKEY_PEM_MAX];
	int			 derlen;

	endorse_subject_of((size_t)_i, &s);
	ck_assert_int_eq(endorse_statement(&s, &st), 0);
	/* publicKey is the DER SubjectPublicKeyInfo, as OpenSSL writes it. */
	ck_assert_int_eq(sigkey_public_pem(s.key, pem, sizeof(pem)), 0);
	ck_assert_ptr_nonnull(bio = BIO_new_mem_buf(pem, -1));
	ck_assert_ptr_nonnull(pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL,
	    NULL));
	derlen = i2d_PUBKEY(pkey, &der);
	ck_assert_int_gt(derlen, 0);
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	base64_encode(der, (size_t)derlen, b64);
	OPENSSL_free(der);
	fmt(want, sizeof(want), "{\"alg\":\"%s\",\"endorsedBy\":\"a1b2c3d4\","
	    "\"keyId\":\"0badc0de\",\"name\":\"" LOG_NAME "\","
	    "\"publicKey\":\"%s\",\"type\":\"tally-key-endorsement/v1\","
	    "\"validFrom\":\"2026-12-04T10:00:00.000Z\"}",
	    sigkey_alg_name(algs[_i]), b64);
	ck_assert_str_eq(st.buf, want);
	/* And they are the JCS of what they hold. */
	ck_assert_ptr_nonnull(obj = json_tokener_parse(st.buf));
	ck_assert_int_eq(jcs_serialize(obj, &re), 0);
	ck_assert_str_eq(re.buf, st.buf);
	json_object_put(obj);
	sbuf_free(&st);
	sbuf_free(&re);
}
END_TEST

START_TEST(endorse_verify_and_tamper)
{
	struct endorse_subject	 s, t;
	uint8_t			 sig[SIGKEY_SIG_MAX];
	size_t			 siglen, i;
	const struct sigkey	*old = fx_key[_i][0];

	endorse_subject_of((size_t)_i, &s);
	ck_assert_int_eq(endorse_sign(old, &s, sig, &siglen), 0);
	ck_assert_int_eq(endorse_verify(old, &s, sig, siglen), 0);
	/* Only the old key's signature; the new key cannot endorse itself. */
	ck_assert_int_eq(endorse_verify(fx_key[_i][1], &s, sig, siglen), -1);
	ck_assert_int_eq(endorse_sign(fx_key[_i][1], &s, sig, &siglen) == 0 &&
	    endorse_verify(old, &s, sig, siglen) == 0, 0);
	ck_assert_int_eq(endorse_sign(old, &s, sig, &siglen), 0);
	/* Every member is signed. */
	t = s;
	t.key_id = "0badc0df";
	ck_assert_int_eq(endorse_verify(old, &t, sig, siglen), -1);
	t = s;
	t.name = "example.com/other";
	ck_assert_int_eq(endorse_verify(old, &t, sig, siglen), -1);
	t = s;
	t.valid_from = "2026-12-04T10:00:00.001Z";
	ck_assert_int_eq(endorse_verify(old, &t, sig, siglen), -1);
	t = s;
	t.endorsed_by = "a1b2c3d5";
	ck_assert_int_eq(endorse_verify(old, &t, sig, siglen), -1);
	t = s;
	t.key = fx_key[_i][0];		/* another public key */
	ck_assert_int_eq(endorse_verify(old, &t, sig, siglen), -1);
	/* Every byte of the signature matters. */
	for (i = 0; i < siglen; i += 7) {
		sig[i] ^= 0x01;
		ck_assert_int_eq(endorse_verify(old, &s, sig, siglen), -1);
		sig[i] ^= 0x01;
	}
	ck_assert_int_eq(endorse_verify(old, &s, sig, siglen - 1), -1);
	ck_assert_int_eq(endorse_verify(old, &s, sig, siglen), 0);
}
END_TEST

/* An endorsement is a plain signature: openssl dgst checks it. */
START_TEST(endorse_openssl_cli)
{
	struct endorse_subject	 s;
	struct sbuf		 st = { 0 };
	uint8_t			 sig[SIGKEY_SIG_MAX];
	size_t			 siglen;
	char			 dir[256], path[320], cmd[2048];
	char			 pem[SIGKEY_PEM_MAX];

	tmpdir_make(dir, sizeof(dir));
	endorse_subject_of((size_t)_i, &s);
	ck_assert_int_eq(endorse_statement(&s, &st), 0);
	ck_assert_int_eq(endorse_sign(fx_key[_i][0], &s, sig, &siglen), 0);
	fmt(path, sizeof(path), "%s/endorsement.json", dir);
	write_file(path, st.buf, st.len, 0);
	fmt(path, sizeof(path), "%s/endorsement.sig", dir);
	write_file(path, sig, siglen, 0);
	ck_assert_int_eq(sigkey_public_pem(fx_key[_i][0], pem, sizeof(pem)),
	    0);
	fmt(path, sizeof(path), "%s/old.pem", dir);
	write_file(path, pem, strlen(pem), 0);
	fmt(cmd, sizeof(cmd), "openssl dgst -sha256 %s -verify %s/old.pem "
	    "-signature %s/endorsement.sig %s/endorsement.json >/dev/null 2>&1",
	    algs[_i] == SIGKEY_RSA_3072 ? "-sigopt rsa_padding_mode:pss "
	    "-sigopt rsa_pss_saltlen:32" : "", dir, dir, dir);
	ck_assert_msg(system(cmd) == 0, "%s", cmd);
	sbuf_free(&st);
	tmpdir_remove(dir);
}
END_TEST

Suite *
sign_suite(void)
{
	Suite	*s = suite_create("sign");
	TCase	*b64 = tcase_create("base64");
	TCase	*keys = tcase_create("sigkey");
	TCase	*notes = tcase_create("note");

	tcase_add_test(b64, base64_rfc4648_vectors);
	tcase_add_test(b64, base64_strict);
	tcase_add_test(b64, base64_round_trip);
	suite_add_tcase(s, b64);

	/* RSA-3072 key generation takes a second or more under ASan. */
	tcase_set_timeout(keys, 120);
	tcase_add_test(keys, sigkey_alg_names);
	tcase_add_loop_test(keys, sigkey_life, 0, NELEM(algs));
	tcase_add_test(keys, sigkey_refuses_other_keys);
	tcase_add_test(keys, sigkey_load_errors);
	suite_add_tcase(s, keys);

	tcase_set_timeout(notes, 120);
	tcase_add_unchecked_fixture(notes, keys_setup, keys_teardown);
	tcase_add_loop_test(notes, note_ids, 0, NELEM(algs));
	tcase_add_loop_test(notes, note_round_trip, 0, NELEM(algs));
	tcase_add_loop_test(notes, note_every_byte_matters, 0, NELEM(algs));
	tcase_add_loop_test(notes, note_other_keys, 0, NELEM(algs));
	tcase_add_loop_test(notes, note_unknown_signatures, 0, NELEM(algs));
	tcase_add_test(notes, note_malformed);
	tcase_add_test(notes, note_sign_refuses);
	tcase_add_loop_test(notes, sigkey_threads, 0, NELEM(algs));
	tcase_add_test(notes, sigkey_openssl_cli);
	tcase_add_loop_test(notes, endorse_statement_bytes, 0, NELEM(algs));
	tcase_add_loop_test(notes, endorse_verify_and_tamper, 0, NELEM(algs));
	tcase_add_loop_test(notes, endorse_openssl_cli, 0, NELEM(algs));
	suite_add_tcase(s, notes);
	return s;
}
