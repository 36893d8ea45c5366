#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "../common/hex.h"
#include "../crypto/hash.h"
#include "../crypto/merkle.h"
#include "check.h"

#define N	70	/* the exhaustive trees: every size 1..N */
#define LEVELS	7	/* levels of complete subtrees in N leaves */

/*
 * The reference here is RFC 9162's recursive definitions, written out
 * over a leaf array with a node hash of their own, so that they share
 * no code with the iterative, node-source-driven merkle.c.
 */

static void
naive_node(const merkle_hash left, const merkle_hash right, merkle_hash out)
{
	uint8_t	buf[1 + 2 * MERKLE_HASH_LEN];

	buf[0] = 0x01;
	memcpy(buf + 1, left, MERKLE_HASH_LEN);
	memcpy(buf + 1 + MERKLE_HASH_LEN, right, MERKLE_HASH_LEN);
	if (hash_sha256(buf, sizeof(buf), out) != 0)
		ck_abort_msg("SHA-256 failed");
}

/* The largest power of two strictly less than n. */
static uint64_t
naive_split(uint64_t n)
{
	uint64_t	k = 1;

	while (k < n - k)	/* 2k < n, for n up to 2^64 - 1 */
		k *= 2;
	return k;
}

/* MTH(D[0:n]) of RFC 9162 2.1.1, d being leaf hashes. */
static void
naive_mth(const merkle_hash *d, uint64_t n, merkle_hash out)
{
	merkle_hash	l, r;
	uint64_t	k;

	if (n == 0) {
		ck_assert_int_eq(hash_sha256("", 0, out), 0);
		return;
	}
	if (n == 1) {
		memcpy(out, d[0], MERKLE_HASH_LEN);
		return;
	}
	k = naive_split(n);
	naive_mth(d, k, l);
	naive_mth(d + k, n - k, r);
	naive_node(l, r, out);
}

/* PATH(m, D[n]) of RFC 9162 2.1.3.1, appended to proof[*len]. */
static void
naive_path(uint64_t m, const merkle_hash *d, uint64_t n, merkle_hash *proof,
    size_t *len)
{
	uint64_t	k;

	if (n == 1)
		return;
	k = naive_split(n);
	if (m < k) {
		naive_path(m, d, k, proof, len);
		naive_mth(d + k, n - k, proof[*len]);
	} else {
		naive_path(m - k, d + k, n - k, proof, len);
		naive_mth(d, k, proof[*len]);
	}
	(*len)++;
}

/*
 * The shape of PATH(m, D[n]): left[i] is whether proof[i] is a left
 * sibling.  The RFC's verifier sees only this shape and the hashes, so
 * two trees whose paths have one shape take the same proofs.
 */
static void
naive_shape(uint64_t m, uint64_t n, int *left, size_t *len)
{
	uint64_t	k;

	if (n == 1)
		return;
	k = naive_split(n);
	if (m < k)
		naive_shape(m, k, left, len);
	else
		naive_shape(m - k, n - k, left, len);
	left[(*len)++] = m >= k;
}

/* SUBPROOF(m, D[n], b) of RFC 9162 2.1.4.1, appended to proof[*len]. */
static void
naive_subproof(uint64_t m, const merkle_hash *d, uint64_t n, int b,
    merkle_hash *proof, size_t *len)
{
	uint64_t	k;

	if (m == n) {
		if (!b) {
			naive_mth(d, n, proof[*len]);
			(*len)++;
		}
		return;
	}
	k = naive_split(n);
	if (m <= k) {
		naive_subproof(m, d, k, b, proof, len);
		naive_mth(d + k, n - k, proof[*len]);
	} else {
		naive_subproof(m - k, d + k, n - k, 0, proof, len);
		naive_mth(d, k, proof[*len]);
	}
	(*len)++;
}

/*
 * The shape of SUBPROOF(m, D[n], b): 'S' for the old tree's last subtree
 * that seeds both roots, 'L' for a left sibling in both trees, 'R' for a
 * right sibling in the new tree only.
 */
static void
naive_subshape(uint64_t m, uint64_t n, int b, char *shape, size_t *len)
{
	uint64_t	k;

	if (m == n) {
		if (!b)
			shape[(*len)++] = 'S';
		return;
	}
	k = naive_split(n);
	if (m <= k)
		naive_subshape(m, k, b, shape, len);
	else
		naive_subshape(m - k, n - k, 0, shape, len);
	shape[(*len)++] = m <= k ? 'R' : 'L';
}

/* Distinct leaf hashes for the generated trees. */
static void
make_leaves(merkle_hash *d, size_t n)
{
	uint8_t	data[2];
	size_t	i;

	for (i = 0; i < n; i++) {
		data[0] = (uint8_t)i;
		data[1] = (uint8_t)(i >> 8);
		ck_assert_int_eq(merkle_leaf_hash(data, sizeof(data), d[i]), 0);
	}
}

static void
make_roots(const merkle_hash *d, merkle_hash *roots, size_t n)
{
	size_t	i;

	for (i = 0; i <= n; i++)
		naive_mth(d, i, roots[i]);
}

static void
from_hex(const char *hex, merkle_hash out)
{
	ck_assert_int_eq(hex_decode(hex, out, MERKLE_HASH_LEN), 0);
}

static void
proof_eq(const merkle_hash *got, size_t got_len, const merkle_hash *want,
    size_t want_len)
{
	size_t	i;

	ck_assert_uint_eq(got_len, want_len);
	for (i = 0; i < want_len; i++)
		ck_assert_mem_eq(got[i], want[i], MERKLE_HASH_LEN);
}

/*
 * The Certificate Transparency reference vectors (RFC 6962 tests in
 * certificate-transparency-go and transparency-dev/merkle).
 */
static const char *const rfc_data[8] = {
	"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
};

static const char *const rfc_roots[9] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

#define H_96A2	\
	"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
#define H_5F08	\
	"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
#define H_6B47	\
	"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
#define H_BC1A	\
	"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
#define H_CA85	\
	"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
#define H_D37E	\
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"
#define H_FAC5	\
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"
#define H_6E34	\
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
#define H_0EBC	\
	"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"

static const struct rfc_proof {
	uint64_t	 a, b;		/* index and size, or from and to */
	size_t		 len;
	const char	*hash[3];
} rfc_inclusion[] = {
	{ 0, 8, 3, { H_96A2, H_5F08, H_6B47 } },
	{ 5, 8, 3, { H_BC1A, H_CA85, H_D37E } },
	{ 2, 3, 1, { H_FAC5 } },
	{ 1, 5, 3, { H_6E34, H_5F08, H_BC1A } },
	{ 0, 1, 0, { NULL } },
}, rfc_consistency[] = {
	{ 1, 1, 0, { NULL } },
	{ 1, 8, 3, { H_96A2, H_5F08, H_6B47 } },
	{ 2, 8, 2, { H_5F08, H_6B47 } },
	{ 6, 8, 3, { H_0EBC, H_CA85, H_D37E } },
	{ 2, 5, 2, { H_5F08, H_BC1A } },
};

static void
rfc_leaves(merkle_hash d[8])
{
	uint8_t	data[16];
	size_t	i, len;

	for (i = 0; i < 8; i++) {
		len = strlen(rfc_data[i]) / 2;
		ck_assert_int_eq(hex_decode(rfc_data[i], data, len), 0);
		ck_assert_int_eq(merkle_leaf_hash(data, len, d[i]), 0);
	}
}

START_TEST(rfc_root_vectors)
{
	merkle_hash		d[8], want, got;
	struct merkle_array	a = { d, 8 };
	struct merkle_edge	e;
	uint64_t		size;

	rfc_leaves(d);
	memset(&e, 0, sizeof(e));
	for (size = 0; size <= 8; size++) {
		from_hex(rfc_roots[size], want);
		a.size = size;
		ck_assert_int_eq(merkle_root(merkle_array_node, &a, size, got),
		    0);
		ck_assert_mem_eq(got, want, MERKLE_HASH_LEN);
		ck_assert_int_eq(merkle_edge_root(&e, got), 0);
		ck_assert_mem_eq(got, want, MERKLE_HASH_LEN);
		if (size < 8)
			ck_assert_int_eq(merkle_edge_append(&e, d[size], NULL,
			    NULL), 0);
	}
}
END_TEST

START_TEST(rfc_inclusion_vectors)
{
	const struct rfc_proof	*v = &rfc_inclusion[_i];
	merkle_hash		 d[8], want[3], proof[MERKLE_PROOF_MAX], root;
	struct merkle_array	 a = { d, 8 };
	size_t			 i, len = 99;

	rfc_leaves(d);
	for (i = 0; i < v->len; i++)
		from_hex(v->hash[i], want[i]);
	from_hex(rfc_roots[v->b], root);
	ck_assert_int_eq(merkle_inclusion_proof(merkle_array_node, &a, v->a,
	    v->b, proof, &len), 0);
	proof_eq(proof, len, want, v->len);
	ck_assert_int_eq(merkle_verify_inclusion(d[v->a], v->a, v->b, want,
	    v->len, root), 0);
	root[0] ^= 1;
	ck_assert_int_eq(merkle_verify_inclusion(d[v->a], v->a, v->b, want,
	    v->len, root), -1);
}
END_TEST

START_TEST(rfc_consistency_vectors)
{
	const struct rfc_proof	*v = &rfc_consistency[_i];
	merkle_hash		 d[8], want[3], proof[MERKLE_PROOF_MAX];
	merkle_hash		 from_root, to_root;
	struct merkle_array	 a = { d, 8 };
	size_t			 i, len = 99;

	rfc_leaves(d);
	for (i = 0; i < v->len; i++)
		from_hex(v->hash[i], want[i]);
	from_hex(rfc_roots[v->a], from_root);
	from_hex(rfc_roots[v->b], to_root);
	ck_assert_int_eq(merkle_consistency_proof(merkle_array_node, &a, v->a,
	    v->b, proof, &len), 0);
	proof_eq(proof, len, want, v->len);
	ck_assert_int_eq(merkle_verify_consistency(v->a, v->b, want, v->len,
	    from_root, to_root), 0);
	to_root[31] ^= 1;
	ck_assert_int_eq(merkle_verify_consistency(v->a, v->b, want, v->len,
	    from_root, to_root), -1);
}
END_TEST

/* Does a proof of this shape for leaf m pass as one in a tree of n? */
static int
same_shape(uint64_t m, uint64_t n, const int *left, size_t len)
{
	int	other[MERKLE_PROOF_MAX];
	size_t	olen = 0;

	if (m >= n)
		return 0;
	naive_shape(m, n, other, &olen);
	return olen == len && memcmp(other, left, len * sizeof(*left)) == 0;
}

/* Does a consistency proof of this shape pass as one from m to n? */
static int
same_subshape(uint64_t m, uint64_t n, const char *shape, size_t len)
{
	char	other[MERKLE_PROOF_MAX];
	size_t	olen = 0;

	if (m == 0 || m > n)
		return 0;
	naive_subshape(m, n, 1, other, &olen);
	return olen == len && memcmp(other, shape, len) == 0;
}

/*
 * The probes run by the hundred thousand: they assert only on failure,
 * as every passing ck_assert costs Check a write.
 */
static void
probe_inclusion(const merkle_hash leaf, uint64_t m, uint64_t size,
    const merkle_hash *proof, size_t len, const merkle_hash root, int want,
    const char *what)
{
	if (merkle_verify_inclusion(leaf, m, size, proof, len, root) != want)
		ck_abort_msg("inclusion of leaf %llu in %llu, %zu hashes, %s: "
		    "not %d", (unsigned long long)m, (unsigned long long)size,
		    len, what, want);
}

static void
probe_consistency(uint64_t from, uint64_t to, const merkle_hash *proof,
    size_t len, const merkle_hash from_root, const merkle_hash to_root,
    int want, const char *what)
{
	if (merkle_verify_consistency(from, to, proof, len, from_root,
	    to_root) != want)
		ck_abort_msg("consistency of %llu with %llu, %zu hashes, %s: "
		    "not %d", (unsigned long long)from, (unsigned long long)to,
		    len, what, want);
}

START_TEST(inclusion_exhaustive)
{
	merkle_hash		d[N + 1], roots[N + 2];
	merkle_hash		proof[MERKLE_PROOF_MAX + 1];
	merkle_hash		want[MERKLE_PROOF_MAX];
	struct merkle_array	a = { d, 0 };
	int			left[MERKLE_PROOF_MAX];
	uint64_t		size, m, j, k;
	size_t			len, wlen, i;

	make_leaves(d, N + 1);
	make_roots(d, roots, N + 1);
	for (size = 1; size <= N; size++) {
		a.size = size;
		for (m = 0; m < size; m++) {
			ck_assert_int_eq(merkle_inclusion_proof(
			    merkle_array_node, &a, m, size, proof, &len), 0);
			wlen = 0;
			naive_path(m, d, size, want, &wlen);
			proof_eq(proof, len, want, wlen);
			probe_inclusion(d[m], m, size, proof, len, roots[size],
			    0, "as built");

			for (i = 0; i < len; i++) {
				proof[i][i % MERKLE_HASH_LEN] ^= 0x80;
				probe_inclusion(d[m], m, size, proof, len,
				    roots[size], -1, "a hash flipped");
				proof[i][i % MERKLE_HASH_LEN] ^= 0x80;
			}
			probe_inclusion(d[m + 1], m, size, proof, len,
			    roots[size], -1, "another leaf");
			probe_inclusion(d[m], m, size, proof, len,
			    roots[size - 1], -1, "a smaller tree's root");
			probe_inclusion(d[m], m, size, proof, len,
			    roots[size + 1], -1, "a larger tree's root");
			for (j = 0; j <= size; j++)
				if (j != m)
					probe_inclusion(d[m], j, size, proof,
					    len, roots[size], -1,
					    "another index");

			/*
			 * Other sizes fail unless their path has this one's
			 * shape: leaf 0 of 3 and of 4 both take [right,
			 * right], and RFC 9162's verifier cannot tell them
			 * apart.  Twice and half the size always differ.
			 */
			wlen = 0;
			naive_shape(m, size, left, &wlen);
			for (j = 0; j <= 2 * size; j++)
				if (j != size)
					probe_inclusion(d[m], m, j, proof, len,
					    roots[size], same_shape(m, j, left,
					    wlen) ? 0 : -1, "another size");
			ck_assert(!same_shape(m, 2 * size, left, wlen));
			ck_assert(!same_shape(m, size / 2, left, wlen));

			/*
			 * A leaf of the right subtree, its path one hash
			 * longer than the subtree's own: the subtree's size
			 * must not let that last hash through.
			 */
			k = naive_split(size);
			if (size > 1 && m >= k)
				probe_inclusion(d[m], m - k, size - k, proof,
				    len, roots[size], -1, "as in the right "
				    "subtree");

			if (len > 0)
				probe_inclusion(d[m], m, size, proof, len - 1,
				    roots[size], -1, "a hash short");
			memcpy(proof[len], d[0], MERKLE_HASH_LEN);
			probe_inclusion(d[m], m, size, proof, len + 1,
			    roots[size], -1, "a hash too many");
		}
	}
}
END_TEST

START_TEST(consistency_exhaustive)
{
	static const struct {
		int		 from, to;	/* added to from, to */
		int		 twice;		/* to becomes 2 * to */
		const char	*what;
	} other[] = {
		{ -1, 0, 0, "old size - 1" }, { 1, 0, 0, "old size + 1" },
		{ 0, -1, 0, "new size - 1" }, { 0, 1, 0, "new size + 1" },
		{ 0, 0, 1, "new size * 2" },
	};
	merkle_hash		d[N], roots[N + 1], bad;
	merkle_hash		proof[MERKLE_PROOF_MAX + 1];
	merkle_hash		want[MERKLE_PROOF_MAX];
	struct merkle_array	a = { d, 0 };
	char			shape[MERKLE_PROOF_MAX];
	uint64_t		from, to, k, m, n;
	size_t			len, wlen, i;

	make_leaves(d, N);
	make_roots(d, roots, N);
	for (to = 1; to <= N; to++) {
		a.size = to;
		for (from = 1; from <= to; from++) {
			ck_assert_int_eq(merkle_consistency_proof(
			    merkle_array_node, &a, from, to, proof, &len), 0);
			wlen = 0;
			naive_subproof(from, d, to, 1, want, &wlen);
			proof_eq(proof, len, want, wlen);
			probe_consistency(from, to, proof, len, roots[from],
			    roots[to], 0, "as built");

			for (i = 0; i < len; i++) {
				proof[i][i % MERKLE_HASH_LEN] ^= 0x80;
				probe_consistency(from, to, proof, len,
				    roots[from], roots[to], -1,
				    "a hash flipped");
				proof[i][i % MERKLE_HASH_LEN] ^= 0x80;
			}
			if (from < to)
				probe_consistency(from, to, proof, len,
				    roots[to], roots[from], -1,
				    "roots swapped");
			memcpy(bad, roots[from], MERKLE_HASH_LEN);
			bad[7] ^= 0x04;
			probe_consistency(from, to, proof, len, bad, roots[to],
			    -1, "old root flipped");
			memcpy(bad, roots[to], MERKLE_HASH_LEN);
			bad[7] ^= 0x04;
			probe_consistency(from, to, proof, len, roots[from],
			    bad, -1, "new root flipped");

			/* As for inclusion, sizes of one shape pass alike. */
			wlen = 0;
			naive_subshape(from, to, 1, shape, &wlen);
			for (i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
				m = from + (uint64_t)other[i].from;
				n = other[i].twice ? 2 * to :
				    to + (uint64_t)other[i].to;
				probe_consistency(m, n, proof, len, roots[from],
				    roots[to], same_subshape(m, n, shape,
				    wlen) ? 0 : -1, other[i].what);
			}
			k = naive_split(to);
			if (from < to && from > k)
				probe_consistency(from - k, to - k, proof, len,
				    roots[from], roots[to], -1,
				    "as in the right subtree");

			if (len > 0)
				probe_consistency(from, to, proof, len - 1,
				    roots[from], roots[to], -1,
				    "a hash short");
			memcpy(proof[len], d[0], MERKLE_HASH_LEN);
			probe_consistency(from, to, proof, len + 1,
			    roots[from], roots[to], -1, "a hash too many");
		}
	}
}
END_TEST

START_TEST(argument_checks)
{
	merkle_hash		d[8], proof[MERKLE_PROOF_MAX + 1], empty, root;
	merkle_hash		out;
	struct merkle_array	a = { d, 7 };
	size_t			len;

	make_leaves(d, 8);
	ck_assert_int_eq(hash_sha256("", 0, empty), 0);
	naive_mth(d, 7, root);
	memset(proof, 0, sizeof(proof));

	/* Subtrees must lie wholly inside the array. */
	ck_assert_int_eq(merkle_array_node(&a, 0, 6, out), 0);
	ck_assert_int_eq(merkle_array_node(&a, 0, 7, out), -1);
	ck_assert_int_eq(merkle_array_node(&a, 1, 2, out), 0);
	ck_assert_int_eq(merkle_array_node(&a, 1, 3, out), -1);
	ck_assert_int_eq(merkle_array_node(&a, 2, 0, out), 0);
	ck_assert_int_eq(merkle_array_node(&a, 2, 1, out), -1);
	ck_assert_int_eq(merkle_array_node(&a, 3, 0, out), -1);
	ck_assert_int_eq(merkle_array_node(&a, 64, 0, out), -1);
	ck_assert_int_eq(merkle_array_node(&a, 1, UINT64_MAX / 2 + 1, out),
	    -1);
	ck_assert_int_eq(merkle_root(merkle_array_node, &a, 8, out), -1);

	len = 99;
	ck_assert_int_eq(merkle_inclusion_proof(merkle_array_node, &a, 0, 0,
	    proof, &len), -1);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(merkle_inclusion_proof(merkle_array_node, &a, 7, 7,
	    proof, &len), -1);
	ck_assert_int_eq(merkle_inclusion_proof(merkle_array_node, &a,
	    UINT64_MAX, UINT64_MAX, proof, &len), -1);
	ck_assert_int_eq(merkle_consistency_proof(merkle_array_node, &a, 0, 7,
	    proof, &len), -1);
	ck_assert_int_eq(merkle_consistency_proof(merkle_array_node, &a, 0, 0,
	    proof, &len), -1);
	ck_assert_int_eq(merkle_consistency_proof(merkle_array_node, &a, 5, 4,
	    proof, &len), -1);
	len = 99;
	ck_assert_int_eq(merkle_consistency_proof(merkle_array_node, &a, 7, 7,
	    proof, &len), 0);
	ck_assert_uint_eq(len, 0);

	ck_assert_int_eq(merkle_verify_inclusion(d[0], 0, 0, proof, 0, empty),
	    -1);
	ck_assert_int_eq(merkle_verify_inclusion(d[7], 7, 7, proof, 3, root),
	    -1);
	ck_assert_int_eq(merkle_verify_inclusion(d[0], 0, 1, proof, 0, d[0]),
	    0);
	ck_assert_int_eq(merkle_verify_inclusion(d[0], 0, 1, proof, 1, d[0]),
	    -1);
	ck_assert_int_eq(merkle_verify_inclusion(d[0], 0, 1, proof,
	    MERKLE_PROOF_MAX + 1, d[0]), -1);

	ck_assert_int_eq(merkle_verify_consistency(5, 4, proof, 0, root, root),
	    -1);
	ck_assert_int_eq(merkle_verify_consistency(5, 4, proof, 1, root, root),
	    -1);
	/* Without the size check the loop would take this, sn being 0. */
	memcpy(proof[0], root, MERKLE_HASH_LEN);
	memcpy(proof[1], d[0], MERKLE_HASH_LEN);
	naive_node(root, d[0], out);
	ck_assert_int_eq(merkle_verify_consistency(3, 2, proof, 2, root, out),
	    -1);
	memset(proof, 0, sizeof(proof));
	/* Every tree extends the empty one, whose root is SHA-256(""). */
	ck_assert_int_eq(merkle_verify_consistency(0, 7, proof, 0, empty,
	    root), 0);
	ck_assert_int_eq(merkle_verify_consistency(0, 0, proof, 0, empty,
	    empty), 0);
	ck_assert_int_eq(merkle_verify_consistency(0, 7, proof, 1, empty,
	    root), -1);
	ck_assert_int_eq(merkle_verify_consistency(0, 7, proof, 0, root,
	    root), -1);
	ck_assert_int_eq(merkle_verify_consistency(0, 0, proof, 0, empty,
	    root), -1);
	ck_assert_int_eq(merkle_verify_consistency(7, 7, proof, 0, root,
	    root), 0);
	ck_assert_int_eq(merkle_verify_consistency(7, 7, proof, 1, root,
	    root), -1);
	ck_assert_int_eq(merkle_verify_consistency(7, 7, proof, 0, root,
	    empty), -1);
	ck_assert_int_eq(merkle_verify_consistency(3, 7, NULL, 0, d[0],
	    root), -1);
	ck_assert_int_eq(merkle_verify_consistency(4, 7, NULL, 0, d[0],
	    root), -1);
	ck_assert_int_eq(merkle_verify_consistency(3, 7, proof,
	    MERKLE_PROOF_MAX + 1, d[0], root), -1);
}
END_TEST

/*
 * A table of the nodes an edge emits, checked as they come: each append
 * gives its leaf, then every parent it completes, lowest first, and each
 * is the hash of its leaves.
 */
struct table {
	const merkle_hash	*d;
	merkle_hash		 node[LEVELS][N];
	int			 set[LEVELS][N];
	uint64_t		 size;		/* before the current append */
	unsigned		 emits;
	unsigned		 fail_at;	/* emit fails with 9 here */
};

static int
table_emit(void *arg, unsigned level, uint64_t index, const merkle_hash hash)
{
	struct table	*t = arg;
	merkle_hash	 want;

	if (t->emits++ == t->fail_at)
		return 9;
	ck_assert_uint_eq(level, t->emits - 1);
	ck_assert_uint_lt(level, LEVELS);
	if (level == 0)
		ck_assert_uint_eq(index, t->size);
	else
		ck_assert_uint_eq(index, ((t->size + 1) >> level) - 1);
	ck_assert_uint_lt(index, N);
	naive_mth(t->d + (index << level), (uint64_t)1 << level, want);
	ck_assert_mem_eq(hash, want, MERKLE_HASH_LEN);
	memcpy(t->node[level][index], hash, MERKLE_HASH_LEN);
	t->set[level][index] = 1;
	return 0;
}

static int
table_node(void *arg, unsigned level, uint64_t index, merkle_hash out)
{
	struct table	*t = arg;

	if (level >= LEVELS || index >= N || !t->set[level][index])
		return 5;
	memcpy(out, t->node[level][index], MERKLE_HASH_LEN);
	return 0;
}

/* Appends d[e->size], checking the emits through t. */
static void
table_append(struct table *t, struct merkle_edge *e)
{
	uint64_t	carry = 0;

	while (e->size >> carry & 1)
		carry++;
	t->size = e->size;
	t->emits = 0;
	t->fail_at = UINT_MAX;
	ck_assert_int_eq(merkle_edge_append(e, t->d[e->size], table_emit, t),
	    0);
	ck_assert_uint_eq(t->emits, 1 + carry);
	ck_assert_uint_eq(e->size, t->size + 1);
}

static void
edge_eq(const struct merkle_edge *a, const struct merkle_edge *b)
{
	unsigned	level;

	ck_assert_uint_eq(a->size, b->size);
	for (level = 0; level < 64; level++)
		if (a->size >> level & 1)
			ck_assert_mem_eq(a->node[level], b->node[level],
			    MERKLE_HASH_LEN);
}

/* Every level merkle_levels lays out is naive_mth of its range. */
START_TEST(levels_are_subtree_roots)
{
	merkle_hash	nodes[511], want;
	size_t		n, r, i, width;

	for (n = 1; n <= 256; n *= 2) {
		make_leaves(nodes, n);
		ck_assert_int_eq(merkle_levels(nodes, n), 0);
		for (r = 0; ((size_t)1 << r) <= n; r++) {
			width = (size_t)1 << r;
			for (i = 0; i < n / width; i++) {
				naive_mth(nodes + i * width, width, want);
				ck_assert_mem_eq(nodes[2 * n - (2 * n >> r) + i],
				    want, MERKLE_HASH_LEN);
			}
		}
	}
	ck_assert_int_eq(merkle_levels(nodes, 0), -1);
	ck_assert_int_eq(merkle_levels(nodes, 3), -1);
}
END_TEST

/*
 * Over a prefix of width hashes, each node above them alone is
 * naive_mth of its range, at the place merkle_levels puts it, and the
 * places of the others keep what they held.
 */
START_TEST(levels_over_a_prefix)
{
	merkle_hash	nodes[511], want, mark;
	size_t		n = 256, width, r, i, at;

	memset(mark, 0xa5, sizeof(mark));
	for (width = 0; width <= n; width += width < 10 ? 1 : 37) {
		make_leaves(nodes, n);
		for (i = n; i < 2 * n - 1; i++)
			memcpy(nodes[i], mark, sizeof(mark));
		ck_assert_int_eq(merkle_levels_prefix(nodes, n, width), 0);
		for (r = 1; ((size_t)1 << r) <= n; r++)
			for (i = 0; i < n >> r; i++) {
				at = 2 * n - (2 * n >> r) + i;
				if (i < width >> r) {
					naive_mth(nodes + (i << r),
					    (size_t)1 << r, want);
					ck_assert_mem_eq(nodes[at], want,
					    MERKLE_HASH_LEN);
				} else
					ck_assert_mem_eq(nodes[at], mark,
					    MERKLE_HASH_LEN);
			}
	}
	ck_assert_int_eq(merkle_levels_prefix(nodes, n, n + 1), -1);
	ck_assert_int_eq(merkle_levels_prefix(nodes, 3, 2), -1);
}
END_TEST

START_TEST(edge_appends)
{
	static struct table	t;
	static struct merkle_edge snap[N + 1];
	merkle_hash		d[N], roots[N + 1], got, want;
	merkle_hash		p[MERKLE_PROOF_MAX], q[MERKLE_PROOF_MAX];
	struct merkle_array	a = { d, N };
	struct merkle_edge	e;
	uint64_t		size, m;
	size_t			plen, qlen;

	make_leaves(d, N);
	make_roots(d, roots, N);
	memset(&t, 0, sizeof(t));
	t.d = d;
	memset(&e, 0, sizeof(e));
	for (size = 0; size <= N; size++) {
		ck_assert_int_eq(merkle_edge_root(&e, got), 0);
		ck_assert_mem_eq(got, roots[size], MERKLE_HASH_LEN);
		snap[size] = e;
		if (size < N)
			table_append(&t, &e);
	}

	/* The emitted nodes are a node source for every smaller tree. */
	for (size = 0; size <= N; size++) {
		a.size = size;
		ck_assert_int_eq(merkle_root(table_node, &t, size, got), 0);
		ck_assert_mem_eq(got, roots[size], MERKLE_HASH_LEN);
		for (m = 0; m < size; m++) {
			ck_assert_int_eq(merkle_inclusion_proof(table_node, &t,
			    m, size, p, &plen), 0);
			ck_assert_int_eq(merkle_inclusion_proof(
			    merkle_array_node, &a, m, size, q, &qlen), 0);
			proof_eq(p, plen, q, qlen);
		}
		for (m = 1; m <= size; m++) {
			ck_assert_int_eq(merkle_consistency_proof(table_node,
			    &t, m, size, p, &plen), 0);
			ck_assert_int_eq(merkle_consistency_proof(
			    merkle_array_node, &a, m, size, q, &qlen), 0);
			proof_eq(p, plen, q, qlen);
		}
	}
	ck_assert_int_eq(merkle_root(table_node, &t, N + 1, got), 5);

	/* An edge loaded at any size grows as the appended one did. */
	for (size = 0; size <= N; size++) {
		memset(&e, 0xa5, sizeof(e));
		ck_assert_int_eq(merkle_edge_load(&e, table_node, &t, size), 0);
		edge_eq(&e, &snap[size]);
		while (e.size < N) {
			table_append(&t, &e);
			edge_eq(&e, &snap[e.size]);
			ck_assert_int_eq(merkle_edge_root(&e, got), 0);
			ck_assert_mem_eq(got, roots[e.size], MERKLE_HASH_LEN);
		}
	}

	/* A leaf that completes three parents; make each emit fail. */
	for (t.fail_at = 0; t.fail_at < 4; t.fail_at++) {
		e = snap[7];
		t.size = 7;
		t.emits = 0;
		ck_assert_int_eq(merkle_edge_append(&e, d[7], table_emit, &t),
		    9);
		ck_assert_mem_eq(&e, &snap[7], sizeof(e));
	}
	ck_assert_int_eq(merkle_edge_append(&e, d[7], NULL, NULL), 0);
	ck_assert_int_eq(merkle_edge_root(&e, got), 0);
	ck_assert_mem_eq(got, roots[8], MERKLE_HASH_LEN);

	memset(&e, 0, sizeof(e));
	e.size = UINT64_MAX;
	ck_assert_int_eq(merkle_edge_append(&e, d[0], NULL, NULL), -1);
	ck_assert_uint_eq(e.size, UINT64_MAX);
	ck_assert_int_eq(hash_sha256("", 0, want), 0);
	ck_assert_int_eq(merkle_edge_load(&e, table_node, &t, 0), 0);
	ck_assert_int_eq(merkle_edge_root(&e, got), 0);
	ck_assert_mem_eq(got, want, MERKLE_HASH_LEN);
}
END_TEST

/* The array source, failing with 7 at its fail_at'th read. */
struct failing {
	struct merkle_array	a;
	unsigned		reads, fail_at;
};

static int
failing_node(void *arg, unsigned level, uint64_t index, merkle_hash out)
{
	struct failing	*f = arg;

	if (f->reads++ == f->fail_at)
		return 7;
	return merkle_array_node(&f->a, level, index, out);
}

START_TEST(source_errors)
{
	static const struct {
		int		op;	/* root, inclusion, consistency, edge */
		uint64_t	a, b;
	} v[] = {
		{ 0, 0, 13 }, { 0, 0, 64 },
		{ 1, 0, 13 }, { 1, 5, 13 }, { 1, 12, 13 }, { 1, 63, 64 },
		{ 2, 1, 13 }, { 2, 5, 13 }, { 2, 8, 13 }, { 2, 12, 13 },
		{ 3, 0, 13 }, { 3, 0, 63 },
	};
	merkle_hash		d[N], out, proof[MERKLE_PROOF_MAX];
	struct merkle_edge	e, before;
	struct failing		f;
	size_t			i, len;
	int			rc;

	make_leaves(d, N);
	f.a.leaves = (const merkle_hash *)d;
	f.a.size = N;
	memset(&before, 0x5a, sizeof(before));
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		for (f.fail_at = 0;; f.fail_at++) {
			f.reads = 0;
			len = 99;
			e = before;
			switch (v[i].op) {
			case 0:
				rc = merkle_root(failing_node, &f, v[i].b, out);
				break;
			case 1:
				rc = merkle_inclusion_proof(failing_node, &f,
				    v[i].a, v[i].b, proof, &len);
				break;
			case 2:
				rc = merkle_consistency_proof(failing_node, &f,
				    v[i].a, v[i].b, proof, &len);
				break;
			default:
				rc = merkle_edge_load(&e, failing_node, &f,
				    v[i].b);
				break;
			}
			if (f.reads <= f.fail_at)
				break;
			ck_assert_int_eq(rc, 7);
			if (v[i].op == 1 || v[i].op == 2)
				ck_assert_uint_eq(len, 0);
			ck_assert_mem_eq(&e, &before, sizeof(e));
		}
		ck_assert_int_eq(rc, 0);
		ck_assert_uint_gt(f.fail_at, 0);
	}
}
END_TEST

/*
 * A tree whose leaves are all one hash, so that node (level, i) is u[level]
 * for every i: trees of up to 2^64 - 1 leaves without storing any.  Its
 * symmetry lets wrong proofs pass, so it only checks that sizes near
 * the limit stay in bounds, read O(log n) nodes, and verify.
 */
struct uniform {
	merkle_hash	u[64];
	unsigned	reads;
};

static int
uniform_node(void *arg, unsigned level, uint64_t index, merkle_hash out)
{
	struct uniform	*s = arg;

	ck_assert_uint_lt(level, 64);
	ck_assert_uint_lt(index, UINT64_MAX >> level);
	s->reads++;
	memcpy(out, s->u[level], MERKLE_HASH_LEN);
	return 0;
}

static void
uniform_mth(const struct uniform *s, uint64_t n, merkle_hash out)
{
	merkle_hash	r;
	uint64_t	k;
	unsigned	level = 0;

	if ((n & (n - 1)) == 0) {
		while (((uint64_t)1 << level) < n)
			level++;
		memcpy(out, s->u[level], MERKLE_HASH_LEN);
		return;
	}
	k = naive_split(n);
	while (((uint64_t)1 << level) < k)
		level++;
	uniform_mth(s, n - k, r);
	naive_node(s->u[level], r, out);
}

START_TEST(huge_trees)
{
	static const uint64_t	sizes[] = {
		1, 2, 3, 0x5555555555555555, 0x8000000000000000 - 1,
		0x8000000000000000, 0x8000000000000001, 0xaaaaaaaaaaaaaaaa,
		UINT64_MAX - 1, UINT64_MAX,
	};
	static struct uniform	s;
	merkle_hash		proof[MERKLE_PROOF_MAX], root, from_root;
	struct merkle_edge	e;
	uint64_t		size, idx[5];
	size_t			i, j, len, max_incl = 0, max_cons = 0;
	unsigned		bits, level;

	ck_assert_int_eq(merkle_leaf_hash("x", 1, s.u[0]), 0);
	for (i = 1; i < 64; i++)
		naive_node(s.u[i - 1], s.u[i - 1], s.u[i]);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size = sizes[i];
		for (bits = 0, level = 0; level < 64; level++)
			bits += size >> level & 1;
		s.reads = 0;
		ck_assert_int_eq(merkle_root(uniform_node, &s, size, root), 0);
		ck_assert_uint_eq(s.reads, bits);
		uniform_mth(&s, size, proof[0]);
		ck_assert_mem_eq(root, proof[0], MERKLE_HASH_LEN);

		ck_assert_int_eq(merkle_edge_load(&e, uniform_node, &s, size),
		    0);
		ck_assert_int_eq(merkle_edge_root(&e, from_root), 0);
		ck_assert_mem_eq(root, from_root, MERKLE_HASH_LEN);

		idx[0] = 0;
		idx[1] = size / 3;
		idx[2] = size / 2;
		idx[3] = size - 2;
		idx[4] = size - 1;
		for (j = 0; j < 5; j++) {
			if (idx[j] >= size)
				continue;
			s.reads = 0;
			ck_assert_int_eq(merkle_inclusion_proof(uniform_node,
			    &s, idx[j], size, proof, &len), 0);
			ck_assert_uint_le(s.reads, 2 * 64);
			ck_assert_int_eq(merkle_verify_inclusion(s.u[0],
			    idx[j], size, proof, len, root), 0);
			if (len > max_incl)
				max_incl = len;
			if (idx[j] == 0)
				continue;
			s.reads = 0;
			ck_assert_int_eq(merkle_consistency_proof(uniform_node,
			    &s, idx[j], size, proof, &len), 0);
			ck_assert_uint_le(s.reads, 2 * 64 + 1);
			uniform_mth(&s, idx[j], from_root);
			ck_assert_int_eq(merkle_verify_consistency(idx[j], size,
			    proof, len, from_root, root), 0);
			if (len > max_cons)
				max_cons = len;
		}
	}
	/* The longest proofs there are: the bound is not loose. */
	ck_assert_uint_eq(max_incl, 64);
	ck_assert_uint_eq(max_cons, 65);
	e.size = UINT64_MAX;
	ck_assert_int_eq(merkle_edge_append(&e, s.u[0], NULL, NULL), -1);
}
END_TEST

Suite *
merkle_suite(void)
{
	Suite	*s = suite_create("merkle");
	TCase	*tc = tcase_create("rfc9162");

	tcase_add_test(tc, rfc_root_vectors);
	tcase_add_loop_test(tc, rfc_inclusion_vectors, 0,
	    sizeof(rfc_inclusion) / sizeof(rfc_inclusion[0]));
	tcase_add_loop_test(tc, rfc_consistency_vectors, 0,
	    sizeof(rfc_consistency) / sizeof(rfc_consistency[0]));
	tcase_add_test(tc, argument_checks);
	suite_add_tcase(s, tc);

	tc = tcase_create("exhaustive");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, inclusion_exhaustive);
	tcase_add_test(tc, consistency_exhaustive);
	suite_add_tcase(s, tc);

	tc = tcase_create("sources");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, levels_are_subtree_roots);
	tcase_add_test(tc, levels_over_a_prefix);
	tcase_add_test(tc, edge_appends);
	tcase_add_test(tc, source_errors);
	tcase_add_test(tc, huge_trees);
	suite_add_tcase(s, tc);
	return s;
}
