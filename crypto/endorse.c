#include <stdlib.h>
#include <string.h>

#include "../common/jcs.h"
#include "base64.h"
#include "endorse.h"

/* An SPKI of either algorithm (RSA 3072: about 420 bytes) fits. */
#define ENDORSE_SPKI_MAX	1024

/* One member, name then value: the caller writes them in JCS order. */
static void
endorse_member(struct sbuf *out, const char *name, const char *value,
    int first)
{
	if (!first)
		sbuf_addc(out, ',');
	jcs_string(name, strlen(name), out);
	sbuf_addc(out, ':');
	jcs_string(value, strlen(value), out);
}

/*
 * Written by hand rather than through a json_object: seven string
 * members, already in the order JCS sorts them (by UTF-16 code units:
 * alg, endorsedBy, keyId, name, publicKey, type, validFrom).
 */
int
endorse_statement(const struct endorse_subject *s, struct sbuf *out)
{
	uint8_t	spki[ENDORSE_SPKI_MAX];
	char	b64[BASE64_LEN(ENDORSE_SPKI_MAX)];
	size_t	len;

	if (s->key_id == NULL || s->name == NULL || s->valid_from == NULL ||
	    s->endorsed_by == NULL ||
	    sigkey_public_der(s->key, spki, sizeof(spki), &len) < 0)
		return -1;
	base64_encode(spki, len, b64);
	sbuf_addc(out, '{');
	endorse_member(out, "alg", sigkey_alg_name(sigkey_alg(s->key)), 1);
	endorse_member(out, "endorsedBy", s->endorsed_by, 0);
	endorse_member(out, "keyId", s->key_id, 0);
	endorse_member(out, "name", s->name, 0);
	endorse_member(out, "publicKey", b64, 0);
	endorse_member(out, "type", ENDORSE_TYPE, 0);
	endorse_member(out, "validFrom", s->valid_from, 0);
	sbuf_addc(out, '}');
	return out->oom ? -1 : 0;
}

int
endorse_sign(const struct sigkey *endorser, const struct endorse_subject *s,
    uint8_t *sig, size_t *siglen)
{
	struct sbuf	st = { 0 };
	int		rc = -1;

	if (endorse_statement(s, &st) == 0)
		rc = sigkey_sign(endorser, st.buf, st.len, sig, siglen);
	sbuf_free(&st);
	return rc;
}

int
endorse_verify(const struct sigkey *endorser, const struct endorse_subject *s,
    const uint8_t *sig, size_t siglen)
{
	struct sbuf	st = { 0 };
	int		rc = -1;

	if (endorse_statement(s, &st) == 0)
		rc = sigkey_verify(endorser, st.buf, st.len, sig, siglen);
	sbuf_free(&st);
	return rc;
}
