#include <stdio.h>
#include <string.h>

#include "base64.h"
#include "note.h"

/* What starts every signature line: U+2014 EM DASH, then a space. */
#define NOTE_DASH	"\xe2\x80\x94 "
#define NOTE_DASH_LEN	(sizeof(NOTE_DASH) - 1)
#define NOTE_ID_LEN	4

const char *
note_strerror(int rc)
{
	switch (rc) {
	case NOTE_OK:
		return "ok";
	case NOTE_MALFORMED:
		return "not a checkpoint in a signed note";
	case NOTE_NO_SIGNATURE:
		return "no signature by the key";
	case NOTE_BAD_SIGNATURE:
		return "a signature by the key does not verify";
	case NOTE_ERROR:
		return "cannot sign or check the note";
	}
	return "unknown note error";
}

/*
 * Decodes the UTF-8 sequence at s, n > 0 bytes long at most, into *cp.
 * Returns its length, or 0 if it is not well-formed UTF-8 (truncated,
 * overlong, a surrogate or beyond U+10FFFF).
 */
static size_t
note_utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
	static const uint32_t	least[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t			len, i;
	uint32_t		c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		c = s[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < least[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/*
 * C2SP signed-note: a note is UTF-8 without ASCII control characters
 * but newline (allowed only when newlines is set).  DEL is refused as
 * well: it is a control character, and nothing Tally signs holds one.
 */
static int
note_text_ok(const char *text, size_t len, int newlines)
{
	const unsigned char	*s = (const unsigned char *)text;
	size_t			 i, n;
	uint32_t		 c;

	for (i = 0; i < len; i += n) {
		if ((n = note_utf8(s + i, len - i, &c)) == 0)
			return 0;
		if (c == '\n' ? !newlines : (c < 0x20 || c == 0x7f))
			return 0;
	}
	return 1;
}

/* The Unicode White_Space characters (Go's unicode.IsSpace). */
static int
note_is_space(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 ||
	    c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
	    c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
	    c == 0x3000;
}

/* C2SP: a key name is non-empty, with no Unicode space and no '+'. */
static int
note_name_ok(const char *name, size_t len)
{
	const unsigned char	*s = (const unsigned char *)name;
	size_t			 i, n;
	uint32_t		 c;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i += n) {
		if ((n = note_utf8(s + i, len - i, &c)) == 0 ||
		    c < 0x20 || c == 0x7f || c == '+' || note_is_space(c))
			return 0;
	}
	return 1;
}

/* A tree size: decimal, no leading zero but in "0", below 2^64. */
static int
note_size_parse(const char *s, size_t len, uint64_t *out)
{
	uint64_t	v = 0;
	size_t		i;
	unsigned	d;

	if (len == 0 || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/*
 * Parses a tree head body, the note text with its final newline, into
 * cp.  tlog-checkpoint allows extension lines after the root hash; Tally
 * writes none and refuses them, rather than vouch for signed text that
 * no caller of note_open ever sees.
 */
static int
note_body_parse(const char *body, size_t len, struct note_head *cp)
{
	const char	*line[3], *p = body, *end = body + len, *nl;
	size_t		 linelen[3], i, n;

	for (i = 0; i < 3; i++) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return -1;
		line[i] = p;
		linelen[i] = (size_t)(nl - p);
		p = nl + 1;
	}
	if (p != end)
		return -1;
	if (linelen[0] == 0 || linelen[0] > NOTE_ORIGIN_MAX)
		return -1;
	memcpy(cp->origin, line[0], linelen[0]);
	cp->origin[linelen[0]] = '\0';
	if (note_size_parse(line[1], linelen[1], &cp->size) < 0)
		return -1;
	if (base64_decode(line[2], linelen[2], cp->root, sizeof(cp->root),
	    &n) < 0 || n != MERKLE_HASH_LEN)
		return -1;
	return 0;
}

/*
 * Parses one signature line (without its newline): em dash, space, key
 * name, space, base64 of a key ID and at least one byte of signature.
 * The decoded bytes go to raw, of rawmax bytes.
 */
static int
note_sig_parse(const char *line, size_t len, const char **name,
    size_t *namelen, uint8_t *raw, size_t rawmax, size_t *rawlen)
{
	const char	*end = line + len, *sp;

	if (len < NOTE_DASH_LEN || memcmp(line, NOTE_DASH, NOTE_DASH_LEN) != 0)
		return -1;
	*name = line + NOTE_DASH_LEN;
	if ((sp = memchr(*name, ' ', (size_t)(end - *name))) == NULL)
		return -1;
	*namelen = (size_t)(sp - *name);
	if (!note_name_ok(*name, *namelen))
		return -1;
	/* The decoder refuses spaces, so the line has exactly two. */
	if (base64_decode(sp + 1, (size_t)(end - sp - 1), raw, rawmax,
	    rawlen) < 0 || *rawlen < NOTE_ID_LEN + 1)
		return -1;
	return 0;
}

int
note_sign(const struct note_head *cp, const struct sigkey *key,
    const char *name, char *out, size_t outlen)
{
	uint8_t		 raw[NOTE_ID_LEN + SIGKEY_SIG_MAX];
	char		 sig[BASE64_LEN(NOTE_ID_LEN + SIGKEY_SIG_MAX)];
	char		 root[BASE64_LEN(MERKLE_HASH_LEN)];
	size_t		 originlen, siglen;
	uint32_t	 id;
	int		 body, n, rc = NOTE_ERROR;

	if (outlen == 0)
		return NOTE_ERROR;
	out[0] = '\0';
	/* Refuse to sign what note_open would refuse to read. */
	originlen = strnlen(cp->origin, sizeof(cp->origin));
	if (originlen == 0 || originlen > NOTE_ORIGIN_MAX ||
	    !note_text_ok(cp->origin, originlen, 0) ||
	    !note_name_ok(name, strlen(name))) {
		rc = NOTE_MALFORMED;
		goto out;
	}
	base64_encode(cp->root, MERKLE_HASH_LEN, root);
	body = snprintf(out, outlen, "%s\n%llu\n%s\n", cp->origin,
	    (unsigned long long)cp->size, root);
	if (body < 0 || (size_t)body >= outlen)
		goto out;
	if (sigkey_note_id(key, name, &id) < 0 ||
	    sigkey_sign(key, out, (size_t)body, raw + NOTE_ID_LEN,
	    &siglen) < 0)
		goto out;
	raw[0] = id >> 24;
	raw[1] = id >> 16 & 0xff;
	raw[2] = id >> 8 & 0xff;
	raw[3] = id & 0xff;
	base64_encode(raw, NOTE_ID_LEN + siglen, sig);
	n = snprintf(out + body, outlen - (size_t)body,
	    "\n" NOTE_DASH "%s %s\n", name, sig);
	/* Nor write a note too long for note_open. */
	if (n < 0 || (size_t)n >= outlen - (size_t)body ||
	    (size_t)body + (size_t)n >= NOTE_MAX)
		goto out;
	rc = NOTE_OK;
out:
	if (rc != NOTE_OK)
		out[0] = '\0';
	return rc;
}

int
note_open(const char *note, size_t len, const struct sigkey *key,
    const char *name, struct note_head *cp)
{
	struct note_head	 parsed;
	uint8_t			 raw[NOTE_MAX];
	const char		*p, *nl, *end = note + len, *sname;
	size_t			 sigs, bodylen, rawlen, snamelen;
	uint32_t		 id, want;
	int			 good = 0, bad = 0;

	if (len >= NOTE_MAX || !note_text_ok(note, len, 1))
		return NOTE_MALFORMED;
	/*
	 * The text is all up to the last blank line, its newline included;
	 * the signature lines start after that line: at least one, each
	 * ending in a newline.
	 */
	for (sigs = len; sigs >= 2; sigs--)
		if (note[sigs - 2] == '\n' && note[sigs - 1] == '\n')
			break;
	if (sigs < 2 || sigs == len || note[len - 1] != '\n')
		return NOTE_MALFORMED;
	bodylen = sigs - 1;
	if (note_body_parse(note, bodylen, &parsed) < 0)
		return NOTE_MALFORMED;
	if (sigkey_note_id(key, name, &want) < 0)
		return NOTE_ERROR;
	/*
	 * Every line must parse, but only the lines by (name, key ID) are
	 * checked: C2SP has verifiers ignore signatures of other keys.
	 */
	for (p = note + sigs; p < end; p = nl + 1) {
		/* Found: the note ends in a newline. */
		nl = memchr(p, '\n', (size_t)(end - p));
		if (note_sig_parse(p, (size_t)(nl - p), &sname, &snamelen, raw,
		    sizeof(raw), &rawlen) < 0)
			return NOTE_MALFORMED;
		id = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 |
		    (uint32_t)raw[2] << 8 | raw[3];
		if (id != want || snamelen != strlen(name) ||
		    memcmp(sname, name, snamelen) != 0)
			continue;
		if (sigkey_verify(key, note, bodylen, raw + NOTE_ID_LEN,
		    rawlen - NOTE_ID_LEN) == 0)
			good++;
		else
			bad++;
	}
	if (bad > 0)
		return NOTE_BAD_SIGNATURE;
	if (good == 0)
		return NOTE_NO_SIGNATURE;
	*cp = parsed;
	return NOTE_OK;
}
