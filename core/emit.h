/*
 * One delta as a client sends it (SPEC 3.1): validated field by field
 * before anything is recorded, reduced to canonical values, and
 * fingerprinted so that a retry can be told from a different request.
 */
#ifndef TALLY_EMIT_H
#define TALLY_EMIT_H

#include <stdint.h>

#include "../common/decimal.h"
#include "../common/sbuf.h"
#include "../store/store.h"

struct json_object;

#define EMIT_DELTA_LIMIT	1000000000LL	/* |delta| <= 10^9 */
#define EMIT_REASON_CHARS	500
#define EMIT_REFERENCE_CHARS	256
#define EMIT_METADATA_BYTES	16384

enum emit_adjusts {
	EMIT_ADJUSTS_NONE,
	EMIT_ADJUSTS_RECORD,		/* {"recordId": …} */
	EMIT_ADJUSTS_REFERENCE		/* {"referenceId": …} */
};

struct emit_input {
	char		 customer_id[STORE_CUSTOMER_MAX + 1];
	/* customerId and referenceId are valid, even if what follows fails. */
	int		 identified;
	decimal_t	 amount;
	char		 delta[STORE_DECIMAL_MAX];	/* canonical text */
	/*
	 * Owned, each allocated to its length (emit_input_free): reason
	 * once valid, reference_id when has_reference, adjusts_id unless
	 * adjusts is EMIT_ADJUSTS_NONE; NULL otherwise.
	 */
	char		*reason;
	int		 has_reference;
	char		*reference_id;
	char		*metadata;		/* canonical JSON or NULL */
	enum emit_adjusts adjusts;
	char		*adjusts_id;
	uint8_t		 fingerprint[STORE_HASH_LEN];
	/* Chosen before recording, so a retried commit reuses them. */
	char		 record_id[STORE_ID_MAX + 1];
	char		 receipt_id[STORE_ID_MAX + 1];
	uint8_t		 salt[STORE_HASH_LEN];
};

/* A validation failure: which field, and what is wrong with it. */
struct emit_error {
	const char	*field;			/* NULL: the item itself */
	char		 message[200];
	char		 unknown[72];		/* field, when it is unknown */
	int		 oom;			/* memory ran out, not input */
};

/*
 * Validates one delta object and fills in (which the caller releases with
 * emit_input_free, also on failure).  Returns 0, or -1 with err set.
 */
int	emit_parse(struct json_object *obj, struct emit_input *in,
	    struct emit_error *err);
void	emit_input_free(struct emit_input *);

#define EMIT_BATCH_MAX	1000

/*
 * The deltas of a batch body (SPEC 3.2), which must be {"deltas": [...]}
 * with 1 to EMIT_BATCH_MAX items and no other member.  Returns the array,
 * borrowed from body, or NULL with err set.  Each item is then checked on
 * its own with emit_parse, so that one bad item fails only itself.
 */
struct json_object *emit_batch_deltas(struct json_object *body,
	    struct emit_error *err);
/*
 * The whole batch's fingerprint, by meaning as a single emit's is: over
 * each item of deltas in order, its own fingerprint fps[i] when it is
 * valid (amounts as exact decimals), else (fps[i] NULL) the hash of its
 * JCS form (it records nothing), behind a byte telling the two apart.
 * The JCS form of the whole body is not enough: it writes numbers as
 * doubles, so two batches whose amounts differ past a double's 17 digits
 * were one request, a replay where a single emit is a conflict.  Batches
 * keyed before were bound under that form, which legacy keeps so their
 * retries still replay.  Returns 0, -1 out of memory, or -2 when the body
 * has no JCS form (a number beyond a double, 1e400), which only a body
 * whose invalid items are refused anyway has.
 */
int	emit_batch_fingerprint(struct json_object *body,
	    struct json_object *deltas, const uint8_t *const *fps,
	    uint8_t fp[STORE_HASH_LEN], uint8_t legacy[STORE_HASH_LEN]);
/* Checks an Idempotency-Key header value: 1-255 printable ASCII. */
int	emit_idempotency_key_valid(const char *);

/*
 * The canonical leaf (SPEC 4.2) of a delta, appended to out: JCS of
 * {tenant, env, customerId, sequenceNumber, delta, reason, referenceId,
 * metadata, createdAt, salt}.  Returns 0, or -1 out of memory.
 */
int	emit_leaf(const struct store_delta *, struct sbuf *out);

#endif
