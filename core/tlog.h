/*
 * The verifiable log as the rest of Tally sees it (SPEC 4.1, 4.3): the
 * Merkle tree read from the store, and the signing keys that sign its
 * heads.  Private keys live in files under <data dir>/keys, mode 0600;
 * the store keeps every key's public half and validity for as long as
 * the log lives, so a head signed by a retired key still verifies.
 */
#ifndef TALLY_TLOG_H
#define TALLY_TLOG_H

#include <stddef.h>

#include "../crypto/merkle.h"
#include "../crypto/sigkey.h"
#include "../store/store.h"

/*
 * Sets d's status from the signed heads: VERIFIED, with verified_ms the
 * time of the first head that covers its logIndex, once one does (the
 * stored record keeps the QUEUED it was written with).
 */
int	tlog_delta_status(struct store_txn *, struct store_delta *d);

/* The inclusion proof of leaf index in the tree of size, read in t. */
int	tlog_proof(struct store_txn *t, uint64_t index, uint64_t size,
	    merkle_hash proof[MERKLE_PROOF_MAX], size_t *len);

/* What a reading of the log's heads and proofs answers. */
enum tlog_result {
	TLOG_OK = 0,
	TLOG_NO_HEAD,		/* nothing signed yet */
	TLOG_BEYOND_HEAD,	/* a size past the newest head */
	TLOG_NO_LEAF,		/* no leaf with that hash */
	TLOG_INDEX_RANGE,	/* a leaf index not below the tree size */
	TLOG_FROM_RANGE,	/* from is 0 or past to */
	TLOG_FAILED		/* the store failed or memory ran out */
};

/* The newest signed tree head. */
enum tlog_result tlog_head_latest(struct store *, struct store_sth *);

/*
 * Sizes default to the newest head and may not pass it: a proof is for
 * a tree someone signed.  The head of exactly that size, if any, comes
 * along (else head.note is "") so a client can check the root.
 */
struct tlog_inclusion {
	/* In: the leaf by hash (by_hash) or by index; size if size_given. */
	int			 by_hash, size_given;
	uint64_t		 index, size;
	merkle_hash		 leaf;
	/* Out: index, leaf and size filled in, the root and the proof. */
	merkle_hash		 root;
	merkle_hash		 proof[MERKLE_PROOF_MAX];
	size_t			 len;
	struct store_sth	 head;
};
enum tlog_result tlog_inclusion(struct store *, struct tlog_inclusion *);

struct tlog_consistency {
	/* In: from, and to if to_given. */
	int			 to_given;
	uint64_t		 from, to;
	/* Out: to filled in, both roots and the proof. */
	merkle_hash		 from_root, to_root;
	merkle_hash		 proof[MERKLE_PROOF_MAX];
	size_t			 len;
	struct store_sth	 head;
};
enum tlog_result tlog_consistency(struct store *, struct tlog_consistency *);

/* Every signing key recorded, in the store's order; tlog_keys_free. */
struct tlog_keys {
	struct store_signkey	*list;
	size_t			 n, cap;
};
/* Reads them in t (again from the start on a retry); a store code. */
int	tlog_keys_read(struct store_txn *, struct tlog_keys *);
enum tlog_result tlog_keys(struct store *, struct tlog_keys *);
void	tlog_keys_free(struct tlog_keys *);

/* Flags of tlog_key_generate. */
#define TLOG_KEY_ROTATE		0x1	/* retire the key that signs now */
#define TLOG_KEY_NO_ENDORSE	0x2	/* its private key is lost: no endorsement */

/* What tlog_key_generate answers. */
enum tlog_key_result {
	TLOG_KEY_OK = 0,
	TLOG_KEY_EXISTS,	/* a key signs already: rotate instead */
	/* Rotating refused: the old private key cannot endorse the new. */
	TLOG_NO_ENDORSER,
	/* Another rotation retired the endorsing key meanwhile: try again. */
	TLOG_ENDORSER_RETIRED,
	TLOG_KEY_FAILED		/* files, crypto or the store failed */
};

/*
 * Makes a new signing key named name (the log origin) in data_dir/keys
 * and records it.  Without TLOG_KEY_ROTATE it refuses when a key already
 * signs (the new key is the log's genesis key); with it the current
 * key's validity ends now and the new one's begins, and the current key
 * endorses the new one (crypto/endorse.h), so its private key must load
 * (TLOG_NO_ENDORSER if not), unless TLOG_KEY_NO_ENDORSE records the new
 * key as an unendorsed rotation.  Unless TLOG_KEY_OK, err says what
 * failed.
 */
enum tlog_key_result tlog_key_generate(struct store *, const char *data_dir,
	    const char *name, enum sigkey_alg, int flags,
	    struct store_signkey *out, char *err, size_t errlen);
/*
 * Whether rec's endorsement is the signature of endorser (the key named
 * by rec->replaces) over rec: 0 if it holds, -1 if not or if rec is not
 * an endorsed key.
 */
int	tlog_key_endorsed(const struct store_signkey *rec,
	    const struct store_signkey *endorser);
/* The key that signs now; STORE_NOTFOUND before the first. */
int	tlog_key_active(struct store *, struct store_signkey *out);
/*
 * Loads the private key of rec from data_dir (refusing a file others
 * may read) and checks it is the key rec describes.  Returns 0 or -1.
 */
int	tlog_key_load(const char *data_dir, const struct store_signkey *rec,
	    struct sigkey **out, char *err, size_t errlen);
/* The note key ID of key under name, as the 8 hex digits Tally shows. */
int	tlog_key_id(const struct sigkey *, const char *name,
	    char out[STORE_KEYID_MAX + 1]);

#endif
