/*
 * The keys the user trusts: one public key in PEM (--key), or the saved
 * answer of GET /api/v1/keys (--keys), which names every key the log
 * ever signed with, so receipts and heads signed before a rotation still
 * verify.
 *
 * A key's C2SP ID (sigkey_note_id) is over its SPKI alone for ECDSA, but
 * over the key name as well for RSA-PSS.  A keys file gives the name; a
 * bare PEM does not, and is then taken under the log's origin (the first
 * line of a tree head), the name Tally gives every signing key.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../common/jsonin.h"
#include "../crypto/base64.h"
#include "verify.h"

#define KEY_PEM_MAX	16384

/* UTF-8 EM DASH and a space: what starts a signature line. */
#define NOTE_DASH	"\xe2\x80\x94 "
#define NOTE_DASH_LEN	(sizeof(NOTE_DASH) - 1)

struct keyentry {
	struct sigkey	*key;
	int		 has_id;	/* id known without a name */
	uint32_t	 id;
	char		 name[NOTE_ORIGIN_MAX + 1];	/* "" if unknown */
};

struct keyring {
	struct keyentry	*keys;
	size_t		 n;
	int		 given;		/* one key from --key */
};

void
keyring_free(struct keyring *ring)
{
	size_t	i;

	if (ring == NULL)
		return;
	for (i = 0; i < ring->n; i++)
		sigkey_free(ring->keys[i].key);
	free(ring->keys);
	free(ring);
}

static struct keyring *
keyring_new(size_t n)
{
	struct keyring	*ring;

	if ((ring = calloc(1, sizeof(*ring))) == NULL)
		return NULL;
	if ((ring->keys = calloc(n ? n : 1, sizeof(*ring->keys))) == NULL) {
		free(ring);
		return NULL;
	}
	return ring;
}

int
keyring_from_pem(const char *pem, size_t len, struct keyring **out,
    char *err, size_t errlen)
{
	struct keyring	*ring;
	struct keyentry	*e;

	*out = NULL;
	if ((ring = keyring_new(1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	e = &ring->keys[0];
	if (sigkey_from_public_pem(pem, len, &e->key) < 0) {
		snprintf(err, errlen, "not a PEM public key on P-256 or of "
		    "RSA 3072 bits");
		goto err;
	}
	ring->n = 1;
	ring->given = 1;
	if (sigkey_alg(e->key) == SIGKEY_ECDSA_P256) {
		if (sigkey_note_id(e->key, NULL, &e->id) < 0) {
			snprintf(err, errlen, "cannot compute the key's ID");
			goto err;
		}
		e->has_id = 1;
	}
	*out = ring;
	return 0;
err:
	keyring_free(ring);
	return -1;
}

/* One member of a keys file entry, a string of at most max bytes. */
static int
keyring_string(struct json_object *o, const char *name, size_t max,
    int flags, const char **out, size_t i, char *err, size_t errlen)
{
	struct json_object	*v;
	char			 why[128];

	if (field_member(o, name, &v, why, sizeof(why)) < 0 ||
	    field_string(v, max, flags, out, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "keys[%zu].%s: %s", i, name, why);
		return -1;
	}
	return 0;
}

/*
 * One entry: the PEM must load, be of the alg it claims, and (when its
 * ID can be computed) have the keyId it claims, so that a lookup by
 * keyId finds the key that ID means.
 */
static int
keyring_entry(struct json_object *o, struct keyentry *e, size_t i,
    char *err, size_t errlen)
{
	struct json_object	*v;
	const char		*id, *alg, *pem, *name = NULL;
	char			 hex[9];
	uint32_t		 computed;

	if (keyring_string(o, "keyId", 8, 0, &id, i, err, errlen) < 0 ||
	    keyring_string(o, "alg", 32, 0, &alg, i, err, errlen) < 0 ||
	    keyring_string(o, "pem", KEY_PEM_MAX, 0, &pem, i, err,
	    errlen) < 0)
		return -1;
	if (json_object_object_get_ex(o, "name", &v) &&
	    keyring_string(o, "name", NOTE_ORIGIN_MAX, FIELD_NULLABLE, &name,
	    i, err, errlen) < 0)
		return -1;
	if (strlen(id) != 8 || strspn(id, "0123456789abcdef") != 8) {
		snprintf(err, errlen, "keys[%zu].keyId: not 8 lowercase hex "
		    "digits", i);
		return -1;
	}
	e->id = (uint32_t)strtoul(id, NULL, 16);
	if (sigkey_from_public_pem(pem, strlen(pem), &e->key) < 0) {
		snprintf(err, errlen, "keys[%zu].pem: not a PEM public key on "
		    "P-256 or of RSA 3072 bits", i);
		return -1;
	}
	if (strcmp(alg, sigkey_alg_name(sigkey_alg(e->key))) != 0) {
		snprintf(err, errlen, "keys[%zu].alg: the pem is a %s key", i,
		    sigkey_alg_name(sigkey_alg(e->key)));
		return -1;
	}
	if (name != NULL)
		snprintf(e->name, sizeof(e->name), "%s", name);
	e->has_id = 1;
	if (name == NULL && sigkey_alg(e->key) == SIGKEY_RSA_3072)
		return 0;	/* its ID needs the name: taken as given */
	if (sigkey_note_id(e->key, name, &computed) < 0 || computed != e->id) {
		snprintf(hex, sizeof(hex), "%08x", computed);
		snprintf(err, errlen, "keys[%zu].keyId: the pem's key ID is "
		    "%s", i, hex);
		return -1;
	}
	return 0;
}

int
keyring_from_json(const char *text, size_t len, struct keyring **out,
    char *err, size_t errlen)
{
	struct keyring		*ring = NULL;
	struct json_object	*root = NULL, *data, *keys;
	size_t			 i, n;
	int			 rc = -1;

	*out = NULL;
	if (jsonin_parse(text, len, &root, err, errlen) < 0)
		goto out;
	if ((data = field_envelope(root, err, errlen)) == NULL)
		goto out;
	if (!json_object_object_get_ex(data, "keys", &keys) ||
	    !json_object_is_type(keys, json_type_array)) {
		snprintf(err, errlen, "no keys array (data.keys)");
		goto out;
	}
	if ((n = json_object_array_length(keys)) == 0 ||
	    n > VERIFY_KEYS_MAX) {
		snprintf(err, errlen, "%s keys", n ? "too many" : "no");
		goto out;
	}
	if ((ring = keyring_new(n)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		ring->n++;	/* so that keyring_free frees this one too */
		if (keyring_entry(json_object_array_get_idx(keys, i),
		    &ring->keys[i], i, err, errlen) < 0)
			goto out;
	}
	*out = ring;
	ring = NULL;
	rc = 0;
out:
	keyring_free(ring);
	json_object_put(root);
	return rc;
}

/* The ID of e under key name (NULL when not known). */
static int
keyentry_id(const struct keyentry *e, const char *name, uint32_t *id)
{
	if (e->has_id) {
		*id = e->id;
		return 0;
	}
	return name == NULL ? -1 : sigkey_note_id(e->key, name, id);
}

const struct sigkey *
keyring_find(const struct keyring *ring, const char *key_id,
    const char *origin)
{
	uint32_t	want, id;
	size_t		i;

	if (key_id == NULL || strlen(key_id) != 8 ||
	    strspn(key_id, "0123456789abcdef") != 8)
		return NULL;
	want = (uint32_t)strtoul(key_id, NULL, 16);
	for (i = 0; i < ring->n; i++)
		if (keyentry_id(&ring->keys[i], origin, &id) == 0 &&
		    id == want)
			return ring->keys[i].key;
	return NULL;
}

const struct sigkey *
keyring_given(const struct keyring *ring)
{
	return ring->given ? ring->keys[0].key : NULL;
}

/*
 * One signature line, without its newline: em dash, space, name, space,
 * base64 of a 4-byte key ID and a signature.  note_open parses it again,
 * strictly; this is only to learn who claims to have signed.
 */
static int
keyring_signer_parse(const char *line, size_t len, struct keyring_signer *s)
{
	uint8_t		 raw[4 + SIGKEY_SIG_MAX];
	const char	*name, *sp, *end = line + len;
	size_t		 namelen, rawlen;

	if (len < NOTE_DASH_LEN || memcmp(line, NOTE_DASH, NOTE_DASH_LEN) != 0)
		return -1;
	name = line + NOTE_DASH_LEN;
	if ((sp = memchr(name, ' ', (size_t)(end - name))) == NULL)
		return -1;
	namelen = (size_t)(sp - name);
	if (namelen == 0 || namelen > NOTE_ORIGIN_MAX ||
	    base64_decode(sp + 1, (size_t)(end - sp - 1), raw, sizeof(raw),
	    &rawlen) < 0 || rawlen < 5)
		return -1;
	memcpy(s->name, name, namelen);
	s->name[namelen] = '\0';
	s->id = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 |
	    (uint32_t)raw[2] << 8 | raw[3];
	return 0;
}

/* The signature lines of a note, at most max; 0 if it is malformed. */
static size_t
keyring_signers(const char *note, size_t len, struct keyring_signer *out,
    size_t max)
{
	const char	*p, *nl, *end = note + len;
	size_t		 sigs, n = 0;

	if (len == 0 || len >= NOTE_MAX || note[len - 1] != '\n' ||
	    memchr(note, '\0', len) != NULL)
		return 0;
	/* Signature lines follow the last blank line. */
	for (sigs = len; sigs >= 2; sigs--)
		if (note[sigs - 2] == '\n' && note[sigs - 1] == '\n')
			break;
	if (sigs < 2 || sigs == len)
		return 0;
	for (p = note + sigs; p < end && n < max; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (keyring_signer_parse(p, (size_t)(nl - p), &out[n]) < 0)
			return 0;
		n++;
	}
	return n;
}

/*
 * Whether entry e can have signed as s: the same ID, under e's name, or
 * the log's origin for a key given without one.  The name matters even
 * where the ID does not hang on it (ECDSA): the signature covers only the
 * note's text, so a signature line with another name is another claim.
 */
static int
keyentry_signed(const struct keyentry *e, const struct keyring_signer *s,
    const char *origin)
{
	const char	*name = e->name[0] != '\0' ? e->name : origin;
	uint32_t	 id;

	if (name == NULL || strcmp(name, s->name) != 0)
		return 0;
	return keyentry_id(e, s->name, &id) == 0 && id == s->id;
}

int
keyring_origin(const char *note, size_t len,
    char out[NOTE_ORIGIN_MAX + 1])
{
	const char	*nl;

	out[0] = '\0';
	if ((nl = memchr(note, '\n', len)) == NULL || nl == note ||
	    (size_t)(nl - note) > NOTE_ORIGIN_MAX ||
	    memchr(note, '\0', (size_t)(nl - note)) != NULL)
		return -1;
	memcpy(out, note, (size_t)(nl - note));
	out[nl - note] = '\0';
	return 0;
}

int
keyring_open_note(const struct keyring *ring, const char *note, size_t len,
    struct note_checkpoint *cp, struct keyring_signer *by, char *why,
    size_t whylen)
{
	struct keyring_signer	 signers[KEYRING_SIGNERS_MAX];
	char			 name[NOTE_ORIGIN_MAX + 1];
	char			 origin[NOTE_ORIGIN_MAX + 1];
	size_t			 n, i, j;
	int			 rc, tried = 0;

	if (keyring_origin(note, len, origin) < 0 || (n = keyring_signers(note,
	    len, signers, KEYRING_SIGNERS_MAX)) == 0) {
		snprintf(why, whylen, "not a signed note: no well-formed "
		    "signature line");
		return -1;
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < ring->n; j++) {
			if (!keyentry_signed(&ring->keys[j], &signers[i],
			    origin))
				continue;
			tried = 1;
			report_text(signers[i].name, strlen(signers[i].name),
			    name, sizeof(name));
			rc = note_open(note, len, ring->keys[j].key,
			    signers[i].name, cp);
			if (rc == NOTE_OK) {
				*by = signers[i];
				return 0;
			}
			snprintf(why, whylen, "%s (signature line %s %08x)",
			    note_strerror(rc), name, signers[i].id);
		}
	if (!tried) {
		report_text(signers[0].name, strlen(signers[0].name), name,
		    sizeof(name));
		snprintf(why, whylen, "signed by no trusted key (first "
		    "signature line: %s %08x)", name, signers[0].id);
	}
	return -1;
}
