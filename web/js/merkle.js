// The log's Merkle tree, RFC 9162 section 2.1 with SHA-256, every hash by
// WebCrypto: leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || l || r).
// Named after the RFC's terms, as Go's sumdb/tlog is.

import { bytesEqual, concatBytes } from "./bytes.js";

export const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));

export const leafHash = (data) => sha256(concatBytes(Uint8Array.of(0), data));

export const nodeHash = (left, right) => sha256(concatBytes(Uint8Array.of(1), left, right));

// The largest power of two below n (n > 1).
function splitPoint(n) {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// MTH(D[0:n]) over leaf hashes; SHA-256 of nothing for no leaves.
export async function rootOf(leaves) {
  if (leaves.length === 0) return sha256(new Uint8Array(0));
  if (leaves.length === 1) return leaves[0];
  const k = splitPoint(leaves.length);
  return nodeHash(await rootOf(leaves.slice(0, k)), await rootOf(leaves.slice(k)));
}

// The root an audit path leads to from leaf at index in a tree of size,
// or null when the path cannot be one (RFC 9162 2.1.3.2): its length must
// be exactly right, so a padded or truncated proof fails.
export async function rootFromInclusionProof(leaf, index, size, proof) {
  if (!(index < size)) return null;
  let fn = index, sn = size - 1, r = leaf;
  for (const p of proof) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

export async function verifyInclusion(leaf, index, size, proof, root) {
  const r = await rootFromInclusionProof(leaf, index, size, proof);
  return r !== null && bytesEqual(r, root);
}

// PATH(m, D[n]) of RFC 9162 2.1.3.1, for tests and for no check: the
// page only verifies proofs, it never needs to make one.
export async function inclusionProof(index, leaves) {
  if (leaves.length <= 1) return [];
  const k = splitPoint(leaves.length);
  if (index < k) return [...(await inclusionProof(index, leaves.slice(0, k))), await rootOf(leaves.slice(k))];
  return [...(await inclusionProof(index - k, leaves.slice(k))), await rootOf(leaves.slice(0, k))];
}
