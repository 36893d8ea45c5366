/*
 * Signed tree heads: C2SP tlog-checkpoint bodies in C2SP signed notes.
 * C2SP calls a signed tree head a checkpoint; in Tally a checkpoint is a
 * month lock, so here it is a head (struct note_head).
 *
 *   <origin>\n<tree size, decimal>\n<base64 root hash>\n
 *   \n
 *   — <key name> <base64(4-byte big-endian key ID || signature)>\n
 *
 * The signature covers the body: the three lines with their newlines,
 * not the blank line.  The key ID is sigkey_note_id(key, key name).
 */
#ifndef TALLY_NOTE_H
#define TALLY_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "merkle.h"
#include "sigkey.h"

#define NOTE_MAX	2048	/* a signed tree head note, with NUL */
#define NOTE_ORIGIN_MAX	255

enum note_rc {
	NOTE_OK = 0,
	NOTE_MALFORMED,		/* not a tree head in a signed note */
	NOTE_NO_SIGNATURE,	/* no signature line by this key */
	NOTE_BAD_SIGNATURE,	/* a line by this key that does not verify */
	NOTE_ERROR		/* out of memory, OpenSSL failure, too long */
};

struct note_head {
	char		origin[NOTE_ORIGIN_MAX + 1];
	uint64_t	size;
	merkle_hash	root;
};

const char	*note_strerror(int);
/*
 * Writes the signed note of tree head cp, signed by key under key
 * name, NUL-terminated into out.
 */
int	note_sign(const struct note_head *cp, const struct sigkey *key,
	    const char *name, char *out, size_t outlen);
/*
 * Parses a signed tree head note and checks the signature of (name,
 * key): NOTE_OK and *cp filled only if one is there and verifies.
 * Signature lines of other keys are ignored, as C2SP requires.
 */
int	note_open(const char *note, size_t len, const struct sigkey *key,
	    const char *name, struct note_head *cp);

#endif
