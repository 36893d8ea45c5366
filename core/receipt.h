/*
 * Receipts (SPEC 3.7, 3.8, docs/receipt.md): what a customer checks
 * offline about one of its checkpoints, and what anyone may check about
 * any checkpoint.  A receipt bundle is the checkpoint, the signed tree
 * head at its treeSize, the signing keys, and each covered delta with
 * its inclusion proof in that tree.  The deltas are handed out a chunk
 * at a time, so a bundle of any size is never held whole (the API
 * streams it).
 */
#ifndef TALLY_RECEIPT_H
#define TALLY_RECEIPT_H

#include <stddef.h>
#include <stdint.h>

#include "../crypto/merkle.h"
#include "../store/store.h"
#include "tlog.h"

#define RECEIPT_DELTAS_MAX	100000	/* deltas in one bundle at most */

enum receipt_result {
	RECEIPT_OK = 0,
	RECEIPT_NOT_FOUND,	/* no such checkpoint (of that customer) */
	RECEIPT_TOO_WIDE,	/* more than RECEIPT_DELTAS_MAX deltas */
	RECEIPT_FAILED		/* the store failed or memory ran out */
};

struct receipt {
	/* In: whose checkpoint, by id, or else by month (-1: the newest). */
	const char		*tenant;
	enum store_env		 env;
	const char		*customer;
	int			 month;
	char			 id[STORE_ID_MAX + 1];	/* "": by month */
	/* Out. */
	struct store_checkpoint	 cp;
	struct store_sth	 head;		/* the head at cp.tree_size */
	struct tlog_keys	 keys;		/* all, endorsements too */
};

/*
 * Finds r's checkpoint; another customer's is as unknown as none.  A
 * checkpoint found by id may be one a re-lock replaced.
 */
enum receipt_result receipt_find(struct store *, struct receipt *);
/* Finds r's checkpoint, its head and the keys: a bundle's beginning. */
enum receipt_result receipt_open(struct store *, struct receipt *);
/* Frees what receipt_open read. */
void	receipt_close(struct receipt *);

/* One covered delta, with its inclusion proof in the tree of cp. */
struct receipt_delta {
	const struct store_delta *d;
	const merkle_hash	*proof;
	size_t			 len;
	int			 carried_in;	/* recorded before the month */
	int			 first;		/* of the run, not the chunk */
	int			 chunk_start;	/* the first of this call */
};
/* A store code; STORE_STOP ends the chunk after this delta. */
typedef int	(*receipt_delta_fn)(const struct receipt_delta *, void *arg);

/*
 * Gives fn r's covered deltas from *next on (cp.first_seq to start), in
 * one read transaction, until fn answers STORE_STOP or the run ends;
 * *next is then the first not given, past cp.last_seq at the end.  A
 * retried transaction gives the chunk again, from its chunk_start.
 * Returns a store code.
 */
int	receipt_deltas(struct store *, const struct receipt *, uint64_t *next,
	    receipt_delta_fn, void *arg);

/* What the public verify endpoint learns about a checkpoint. */
struct receipt_check {
	struct store_checkpoint	 cp;
	int			 verified;	/* its signature holds */
	uint8_t			 statement_hash[STORE_HASH_LEN];
};
/*
 * Finds the checkpoint ref names, by chk_ id or by proof root (hex, 0x
 * optional), and checks its signature with the key it names.
 */
enum receipt_result receipt_check(struct store *, const char *ref,
	    struct receipt_check *);

#endif
