/*
 * The keys the user trusts: public keys in PEM (--key), or saved answers
 * of GET /api/v1/keys (--keys), which name every key the log ever signed
 * with, so receipts and heads signed before a rotation still verify.
 *
 * A key's C2SP ID (sigkey_note_id) is over its SPKI alone for ECDSA, but
 * over the key name as well for RSA-PSS.  A keys file gives the name; a
 * bare PEM does not, and is then taken under the log's origin (the first
 * line of a tree head), the name Tally gives every signing key.
 *
 * Keys across rotations (SPEC 4.5, docs/verify.md): the ring holds every
 * key it was shown, but trusts only the roots (each --key, and the
 * oldest key of the first keys file, the log's genesis key) and the keys
 * endorsed, directly or through a chain, by a trusted key
 * (crypto/endorse.h).  Keys made before Tally recorded endorsements
 * (no rotation member, or "unrecorded") have none to show: in the first
 * keys file, which the user chose to trust, they are trusted as listed,
 * as every key of a keys file was before; anywhere else they are not.  Keys of a later keys file or of a receipt bundle
 * are candidates, trusted only by that chain, so a customer who saved
 * the keys file once follows any number of rotations, and a key the
 * vendor rotated without an endorsement (--no-endorse) is refused until
 * the customer gives it with --key.  Lookups see only trusted keys.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../common/grow.h"
#include "../common/jsonin.h"
#include "../common/timefmt.h"
#include "../crypto/base64.h"
#include "../crypto/endorse.h"
#include "verify.h"

#define KEY_PEM_MAX	16384
#define KEY_ID_LEN	8
/* Keys of every file and bundle together. */
#define KEYRING_MAX	(4 * VERIFY_KEYS_MAX)

/* UTF-8 EM DASH and a space: what starts a signature line. */
#define NOTE_DASH	"\xe2\x80\x94 "
#define NOTE_DASH_LEN	(sizeof(NOTE_DASH) - 1)

/* How a key is known to the ring. */
enum keytrust {
	KEY_CANDIDATE,		/* not (yet) trusted */
	KEY_GIVEN,		/* --key */
	KEY_GENESIS,		/* oldest key of the first keys file */
	KEY_LISTED,		/* of the first keys file, made before endorsements */
	KEY_ENDORSED		/* endorsed by a trusted key */
};

struct keyentry {
	struct sigkey	*key;
	int		 has_id;	/* id known without a name */
	uint32_t	 id;
	char		 name[NOTE_ORIGIN_MAX + 1];	/* "" if unknown */
	/* What a keys entry says of its rotation, for the chain. */
	char		 key_id[KEY_ID_LEN + 1];	/* as listed, or "" */
	int64_t		 from_ms;	/* validFrom; INT64_MAX if absent */
	char		 endorsed_by[KEY_ID_LEN + 1];	/* "" if none */
	uint8_t		*endorsement;	/* owned; NULL if none */
	size_t		 endorsement_len;
	int		 unendorsed;	/* rotation: "unendorsed" */
	int		 unrecorded;	/* no rotation, or "unrecorded" */
	enum keytrust	 trust;
	int		 broken;	/* its endorsement did not verify */
	size_t		 endorser;	/* KEY_ENDORSED: its index */
	char		 source[VERIFY_WHERE_MAX];	/* where it was listed */
	char		 why[VERIFY_LINE_MAX];	/* a candidate: not trusted */
};

struct keyring {
	struct keyentry	*keys;
	size_t		 n, cap;
	int		 given;		/* one key from --key, nothing else */
	int		 anchored;	/* a keys file gave the genesis key */
};

void
keyring_free(struct keyring *ring)
{
	size_t	i;

	if (ring == NULL)
		return;
	for (i = 0; i < ring->n; i++) {
		sigkey_free(ring->keys[i].key);
		free(ring->keys[i].endorsement);
	}
	free(ring->keys);
	free(ring);
}

/* A zeroed entry at the end of ring, counted (so freed with it). */
static struct keyentry *
keyring_push(struct keyring *ring, char *err, size_t errlen)
{
	if (ring->n == KEYRING_MAX) {
		snprintf(err, errlen, "more than %d keys in all", KEYRING_MAX);
		return NULL;
	}
	if (grow(&ring->keys, &ring->cap, ring->n + 1,
	    sizeof(*ring->keys)) < 0) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memset(&ring->keys[ring->n], 0, sizeof(ring->keys[0]));
	ring->keys[ring->n].from_ms = INT64_MAX;
	return &ring->keys[ring->n++];
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

/* Whether e's endorsement is the signature of by over e's key. */
static int
keyentry_endorsed_by(const struct keyentry *e, const struct keyentry *by)
{
	struct endorse_subject	s;
	char			from[TIMEFMT_LEN];

	if (e->endorsement == NULL || e->from_ms == INT64_MAX ||
	    e->key_id[0] == '\0' || e->name[0] == '\0')
		return -1;
	timefmt_rfc3339(e->from_ms, from);
	s.key = e->key;
	s.key_id = e->key_id;
	s.name = e->name;
	s.valid_from = from;
	s.endorsed_by = e->endorsed_by;
	return endorse_verify(by->key, &s, e->endorsement,
	    e->endorsement_len);
}

/* Why candidate e is not trusted, once the chain was followed. */
static void
keyring_why_not(const struct keyring *ring, struct keyentry *e)
{
	const char	*id = e->key_id[0] != '\0' ? e->key_id : "(no keyId)";
	size_t		 i;
	int		 known = 0;

	if (e->unendorsed) {
		snprintf(e->why, sizeof(e->why), "key %s was rotated without "
		    "endorsement (--no-endorse): confirm its id %s with your "
		    "vendor, then pass it with --key", id, id);
		return;
	}
	if (e->broken) {
		snprintf(e->why, sizeof(e->why), "key %s is not endorsed by a "
		    "key you trust: its endorsement by %s does not verify (it "
		    "was altered, or is not the vendor's)", id,
		    e->endorsed_by);
		return;
	}
	if (e->endorsed_by[0] == '\0' || e->endorsement == NULL) {
		snprintf(e->why, sizeof(e->why), "key %s is not endorsed by a "
		    "key you trust: it carries no endorsement%s", id,
		    e->unrecorded ? " (made before endorsements: confirm its "
		    "id with your vendor, then pass it with --key)" : "");
		return;
	}
	for (i = 0; i < ring->n; i++)
		if (strcmp(ring->keys[i].key_id, e->endorsed_by) == 0)
			known = 1;
	snprintf(e->why, sizeof(e->why), "key %s is not endorsed by a key you "
	    "trust: its endorser %s is %s", id, e->endorsed_by, known ?
	    "not trusted either" : "in no keys file given nor in the receipt");
}

/*
 * Follows endorsements out from every trusted key until no key is added:
 * each candidate whose endorser (by ID) is trusted and whose endorsement
 * verifies under it becomes trusted.  Each trusted key is visited once,
 * so a long or shuffled chain costs no more than a short one.
 */
static void
keyring_settle(struct keyring *ring)
{
	struct keyentry	*e;
	size_t		*order = NULL, head = 0, tail = 0, i, j;
	uint32_t	 id;

	if (ring->n == 0 ||
	    (order = calloc(ring->n, sizeof(*order))) == NULL)
		goto out;	/* out of memory: only the roots are trusted */
	for (i = 0; i < ring->n; i++)
		if (ring->keys[i].trust != KEY_CANDIDATE)
			order[tail++] = i;
	while (head < tail) {
		i = order[head++];
		if (keyentry_id(&ring->keys[i], NULL, &id) < 0)
			continue;	/* an RSA key given bare: no ID */
		for (j = 0; j < ring->n; j++) {
			e = &ring->keys[j];
			if (e->trust != KEY_CANDIDATE ||
			    e->endorsed_by[0] == '\0' ||
			    strtoul(e->endorsed_by, NULL, 16) != id)
				continue;
			if (keyentry_endorsed_by(e, &ring->keys[i]) != 0) {
				e->broken = 1;
				continue;
			}
			e->trust = KEY_ENDORSED;
			e->broken = 0;
			e->endorser = i;
			order[tail++] = j;
		}
	}
out:
	free(order);
	for (i = 0; i < ring->n; i++)
		if (ring->keys[i].trust == KEY_CANDIDATE)
			keyring_why_not(ring, &ring->keys[i]);
}

/* A trusted key in PEM, whatever its ID (--key). */
static int
keyring_pem(struct keyring *ring, const char *pem, size_t len,
    const char *source, char *err, size_t errlen)
{
	struct keyentry	*e;

	if ((e = keyring_push(ring, err, errlen)) == NULL)
		return -1;
	if (sigkey_from_public_pem(pem, len, &e->key) < 0) {
		snprintf(err, errlen, "not a PEM public key on P-256 or of "
		    "RSA 3072 bits");
		return -1;
	}
	e->trust = KEY_GIVEN;
	report_text(source, strlen(source), e->source, sizeof(e->source));
	if (sigkey_alg(e->key) == SIGKEY_ECDSA_P256) {
		if (sigkey_note_id(e->key, NULL, &e->id) < 0) {
			snprintf(err, errlen, "cannot compute the key's ID");
			return -1;
		}
		e->has_id = 1;
		snprintf(e->key_id, sizeof(e->key_id), "%08x", e->id);
	}
	return 0;
}

/* Adds the keys of text (a PEM, a keys file) to ring; 0 or -1, err. */
typedef int	(*keyring_add_fn)(struct keyring *, const char *text,
		    size_t len, const char *source, char *err, size_t errlen);

/* A new ring holding what add makes of text; *out the caller's. */
static int
keyring_make(keyring_add_fn add, const char *text, size_t len,
    const char *source, struct keyring **out, char *err, size_t errlen)
{
	struct keyring	*ring;

	*out = NULL;
	if ((ring = calloc(1, sizeof(*ring))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (add(ring, text, len, source, err, errlen) < 0) {
		keyring_free(ring);
		return -1;
	}
	*out = ring;
	return 0;
}

int
keyring_from_pem(const char *pem, size_t len, struct keyring **out,
    char *err, size_t errlen)
{
	if (keyring_make(keyring_pem, pem, len, "--key", out, err,
	    errlen) < 0)
		return -1;
	(*out)->given = 1;
	return 0;
}

int
keyring_add_pem(struct keyring *ring, const char *pem, size_t len,
    const char *source, char *err, size_t errlen)
{
	ring->given = 0;	/* several keys: each is found by its ID */
	if (keyring_pem(ring, pem, len, source, err, errlen) < 0)
		return -1;
	keyring_settle(ring);
	return 0;
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

static int
keyring_hex_id(const char *id)
{
	return strlen(id) == KEY_ID_LEN &&
	    strspn(id, "0123456789abcdef") == KEY_ID_LEN;
}

/*
 * The rotation members (SPEC 4.5), each optional so that a keys file
 * saved before endorsements still reads: validFrom, endorsedBy and
 * endorsement (null for the genesis key and an unendorsed rotation),
 * and rotation.
 */
static int
keyring_rotation(struct json_object *o, struct keyentry *e, size_t i,
    char *err, size_t errlen)
{
	struct json_object	*v;
	const char		*s;
	char			 why[128];

	if (json_object_object_get_ex(o, "validFrom", &v) && v != NULL &&
	    field_time(v, &e->from_ms, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "keys[%zu].validFrom: %s", i, why);
		return -1;
	}
	if (json_object_object_get_ex(o, "endorsedBy", &v)) {
		if (keyring_string(o, "endorsedBy", KEY_ID_LEN, FIELD_NULLABLE,
		    &s, i, err, errlen) < 0)
			return -1;
		if (s != NULL && !keyring_hex_id(s)) {
			snprintf(err, errlen, "keys[%zu].endorsedBy: not 8 "
			    "lowercase hex digits", i);
			return -1;
		}
		if (s != NULL)
			snprintf(e->endorsed_by, sizeof(e->endorsed_by), "%s",
			    s);
	}
	if (json_object_object_get_ex(o, "endorsement", &v) && v != NULL &&
	    field_base64(v, SIGKEY_SIG_MAX, &e->endorsement,
	    &e->endorsement_len, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "keys[%zu].endorsement: %s", i, why);
		return -1;
	}
	e->unrecorded = 1;
	if (json_object_object_get_ex(o, "rotation", &v) && v != NULL) {
		if (keyring_string(o, "rotation", 32, 0, &s, i, err,
		    errlen) < 0)
			return -1;
		e->unendorsed = strcmp(s, "unendorsed") == 0;
		e->unrecorded = strcmp(s, "unrecorded") == 0;
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
	if (!keyring_hex_id(id)) {
		snprintf(err, errlen, "keys[%zu].keyId: not 8 lowercase hex "
		    "digits", i);
		return -1;
	}
	e->id = (uint32_t)strtoul(id, NULL, 16);
	snprintf(e->key_id, sizeof(e->key_id), "%s", id);
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
	if (keyring_rotation(o, e, i, err, errlen) < 0)
		return -1;
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

/*
 * Adds the entries of a keys array as candidates, from source; the first
 * keys file (anchor) makes its oldest key the genesis root.  On failure
 * the entries added are taken back.
 */
static int
keyring_array(struct keyring *ring, struct json_object *keys,
    const char *source, int anchor, char *err, size_t errlen)
{
	struct keyentry	*e;
	size_t		 i, n, first = ring->n, oldest;

	if (keys == NULL || !json_object_is_type(keys, json_type_array)) {
		snprintf(err, errlen, "no keys array");
		return -1;
	}
	if ((n = json_object_array_length(keys)) == 0 ||
	    n > VERIFY_KEYS_MAX) {
		snprintf(err, errlen, "%s keys", n ? "too many" : "no");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if ((e = keyring_push(ring, err, errlen)) == NULL ||
		    keyring_entry(json_object_array_get_idx(keys, i), e, i,
		    err, errlen) < 0)
			goto undo;
		report_text(source, strlen(source), e->source,
		    sizeof(e->source));
	}
	if (anchor) {
		/* The oldest by validFrom; the first listed of equals. */
		for (oldest = i = first; i < ring->n; i++) {
			if (ring->keys[i].from_ms < ring->keys[oldest].from_ms)
				oldest = i;
			if (ring->keys[i].unrecorded)
				ring->keys[i].trust = KEY_LISTED;
		}
		ring->keys[oldest].trust = KEY_GENESIS;
		ring->anchored = 1;
	}
	keyring_settle(ring);
	return 0;
undo:
	while (ring->n > first) {
		ring->n--;
		sigkey_free(ring->keys[ring->n].key);
		free(ring->keys[ring->n].endorsement);
	}
	return -1;
}

/* A saved GET /api/v1/keys answer, or its data alone. */
static int
keyring_file(struct keyring *ring, const char *text, size_t len,
    const char *source, char *err, size_t errlen)
{
	struct json_object	*root = NULL, *data, *keys = NULL;
	int			 rc = -1;

	if (jsonin_parse(text, len, &root, err, errlen) < 0)
		goto out;
	if ((data = field_envelope(root, err, errlen)) == NULL)
		goto out;
	if (!json_object_object_get_ex(data, "keys", &keys) ||
	    !json_object_is_type(keys, json_type_array)) {
		snprintf(err, errlen, "no keys array (data.keys)");
		goto out;
	}
	rc = keyring_array(ring, keys, source, !ring->anchored, err, errlen);
out:
	json_object_put(root);
	return rc;
}

int
keyring_from_json(const char *text, size_t len, struct keyring **out,
    char *err, size_t errlen)
{
	return keyring_make(keyring_file, text, len, "keys file", out, err,
	    errlen);
}

int
keyring_add_json(struct keyring *ring, const char *text, size_t len,
    const char *source, char *err, size_t errlen)
{
	ring->given = 0;
	return keyring_file(ring, text, len, source, err, errlen);
}

int
keyring_add_keys(struct keyring *ring, struct json_object *keys,
    const char *source, char *err, size_t errlen)
{
	return keyring_array(ring, keys, source, 0, err, errlen);
}

const char *
keyring_why(const struct keyring *ring, const char *key_id, char *out,
    size_t outlen)
{
	char	t[VERIFY_ID_MAX];
	size_t	i;

	for (i = 0; key_id != NULL && i < ring->n; i++)
		if (ring->keys[i].trust == KEY_CANDIDATE &&
		    strcmp(ring->keys[i].key_id, key_id) == 0) {
			snprintf(out, outlen, "%s", ring->keys[i].why);
			return out;
		}
	report_text(key_id != NULL ? key_id : "(none)", key_id != NULL ?
	    strlen(key_id) : 6, t, sizeof(t));
	snprintf(out, outlen, "%s: no such key in the keys file", t);
	return out;
}

/* How a trusted key came to be trusted, briefly, into out. */
static void
keyring_how(const struct keyring *ring, const struct keyentry *e, char *out,
    size_t outlen)
{
	switch (e->trust) {
	case KEY_GIVEN:
		snprintf(out, outlen, "given with --key %s", e->source);
		break;
	case KEY_GENESIS:
		snprintf(out, outlen, "the genesis (oldest) key of %s",
		    e->source);
		break;
	case KEY_LISTED:
		snprintf(out, outlen, "listed in %s, made before endorsements",
		    e->source);
		break;
	default:
		snprintf(out, outlen, "endorsed by %s",
		    ring->keys[e->endorser].key_id);
	}
}

/* The next key after prev (ring->n: the first) by validFrom, then index. */
static size_t
keyring_next(const struct keyring *ring, size_t prev)
{
	const struct keyentry	*p = prev < ring->n ? &ring->keys[prev] : NULL;
	size_t			 i, best = ring->n;

	for (i = 0; i < ring->n; i++) {
		if (p != NULL && (ring->keys[i].from_ms < p->from_ms ||
		    (ring->keys[i].from_ms == p->from_ms && i <= prev)))
			continue;
		if (best == ring->n ||
		    ring->keys[i].from_ms < ring->keys[best].from_ms)
			best = i;
	}
	return best;
}

void
keyring_print(const struct keyring *ring, FILE *out)
{
	const struct keyentry	*e, *by;
	char			 how[VERIFY_LINE_MAX];
	size_t			 i, j;

	/* Oldest first: the chain reads from the root down. */
	for (i = keyring_next(ring, ring->n); out != NULL && i < ring->n;
	    i = keyring_next(ring, i)) {
		e = &ring->keys[i];
		/*
		 * A key listed twice (keys file and receipt): once, trusted
		 * if either listing is.
		 */
		for (j = 0; j < ring->n; j++)
			if (j != i && e->key_id[0] != '\0' &&
			    strcmp(ring->keys[j].key_id, e->key_id) == 0 &&
			    ((ring->keys[j].trust != KEY_CANDIDATE) ==
			    (e->trust != KEY_CANDIDATE) ? j < i :
			    ring->keys[j].trust != KEY_CANDIDATE))
				break;
		if (j < ring->n)
			continue;
		if (e->trust == KEY_CANDIDATE) {
			fprintf(out, "key  %s NOT trusted (%s): %s\n",
			    e->key_id, e->source, e->why);
			continue;
		}
		if (e->trust != KEY_ENDORSED) {
			keyring_how(ring, e, how, sizeof(how));
			fprintf(out, "key  %s trusted: %s\n",
			    e->key_id[0] != '\0' ? e->key_id : "(given)", how);
			continue;
		}
		by = &ring->keys[e->endorser];
		keyring_how(ring, by, how, sizeof(how));
		fprintf(out, "key  %s endorsed by %s (trusted, %s), listed in "
		    "%s\n", e->key_id, by->key_id, how, e->source);
	}
}

const struct sigkey *
keyring_find(const struct keyring *ring, const char *key_id,
    const char *origin)
{
	uint32_t	want, id;
	size_t		i;

	if (key_id == NULL || !keyring_hex_id(key_id))
		return NULL;
	want = (uint32_t)strtoul(key_id, NULL, 16);
	for (i = 0; i < ring->n; i++)
		if (ring->keys[i].trust != KEY_CANDIDATE &&
		    keyentry_id(&ring->keys[i], origin, &id) == 0 &&
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

	if (e->trust == KEY_CANDIDATE || name == NULL ||
	    strcmp(name, s->name) != 0)
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
    struct note_head *cp, struct keyring_signer *by, char *why,
    size_t whylen)
{
	struct keyring_signer	 signers[KEYRING_SIGNERS_MAX];
	char			 name[NOTE_ORIGIN_MAX + 1];
	char			 origin[NOTE_ORIGIN_MAX + 1];
	char			 id[KEY_ID_LEN + 1], reason[VERIFY_LINE_MAX];
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
		snprintf(id, sizeof(id), "%08x", signers[0].id);
		snprintf(why, whylen, "signed by no trusted key (first "
		    "signature line: %s %s): %s", name, id,
		    keyring_why(ring, id, reason, sizeof(reason)));
	}
	return -1;
}
