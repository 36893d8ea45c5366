// Public keys and signatures, through WebCrypto only: the two algorithms
// Tally signs with (crypto/sigkey.c), ECDSA P-256 over SHA-256 with
// DER-encoded signatures (as OpenSSL writes them) and RSA-PSS 3072 with
// SHA-256, MGF1-SHA-256 and a 32-byte salt.

import { concatBytes, fromBase64, utf8 } from "./bytes.js";
import { sha256 } from "./merkle.js";

const OID_EC_PUBLIC_KEY = "2a8648ce3d0201";
const OID_P256 = "2a8648ce3d030107";
const OID_RSA = "2a864886f70d010101";
const RSA_NOTE_TYPE = "rsa-pss-sha256";

// One DER element at bytes[at]: { tag, start (of contents), end } or null.
function derElement(bytes, at) {
  if (at + 2 > bytes.length) return null;
  const tag = bytes[at];
  let len = bytes[at + 1];
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || start + n > bytes.length || bytes[start] === 0) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + bytes[start + i];
    if (len < 0x80) return null; // not the shortest length form
    start += n;
  }
  const end = start + len;
  return end <= bytes.length ? { tag, start, end } : null;
}

const hexOf = (bytes, e) => Array.from(bytes.subarray(e.start, e.end), (b) => b.toString(16).padStart(2, "0")).join("");

// "ecdsa-p256", "rsa" or null, from a SubjectPublicKeyInfo's algorithm.
function spkiKind(der) {
  const spki = derElement(der, 0);
  if (!spki || spki.tag !== 0x30 || spki.end !== der.length) return null;
  const algo = derElement(der, spki.start);
  if (!algo || algo.tag !== 0x30) return null;
  const oid = derElement(der, algo.start);
  if (!oid || oid.tag !== 0x06) return null;
  if (hexOf(der, oid) === OID_RSA) return "rsa";
  if (hexOf(der, oid) !== OID_EC_PUBLIC_KEY) return null;
  const curve = derElement(der, oid.end);
  return curve && curve.tag === 0x06 && hexOf(der, curve) === OID_P256 ? "ecdsa-p256" : null;
}

// The DER inside a "PUBLIC KEY" PEM, or null.
export function pemToDer(pem) {
  if (typeof pem !== "string") return null;
  const m = /^-----BEGIN PUBLIC KEY-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n?-----END PUBLIC KEY-----\r?\n?$/.exec(pem.trim() + "\n");
  return m ? fromBase64(m[1].replace(/[\r\n]/g, "")) : null;
}

// A verifying key from SPKI DER: { alg, der, key } or { why }, where alg
// is "ecdsa-p256" or "rsa-3072" (the only two sigkey_classify accepts).
export async function importPublicKey(der) {
  const kind = der ? spkiKind(der) : null;
  try {
    if (kind === "ecdsa-p256") {
      const key = await crypto.subtle.importKey("spki", der, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
      return { alg: "ecdsa-p256", der, key };
    }
    if (kind === "rsa") {
      const key = await crypto.subtle.importKey("spki", der, { name: "RSA-PSS", hash: "SHA-256" }, false, ["verify"]);
      if (key.algorithm.modulusLength === 3072) return { alg: "rsa-3072", der, key };
    }
  } catch (e) {
    /* falls through: not a key WebCrypto reads */
  }
  return { why: "not a PEM public key on P-256 or of RSA 3072 bits" };
}

// The C2SP signed-note key ID, as 8 hex digits: over the SPKI alone for
// ECDSA (type 0x02), over the name, 0x0A, 0xFF, "rsa-pss-sha256" and the
// SPKI for RSA-PSS (sigkey_note_id).  null: an RSA key without a name.
export async function noteKeyId(pub, name) {
  let input;
  if (pub.alg === "ecdsa-p256") input = pub.der;
  else if (typeof name === "string") input = concatBytes(utf8(name), Uint8Array.of(0x0a, 0xff), utf8(RSA_NOTE_TYPE), pub.der);
  else return null;
  const d = await sha256(input);
  return Array.from(d.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join("");
}

// One DER INTEGER of an ECDSA signature as 32 bytes, or null.  Strict:
// positive, minimal, as OpenSSL (which re-encodes and compares) requires.
function derScalar(bytes, e) {
  if (!e || e.tag !== 0x02 || e.end === e.start) return null;
  let v = bytes.subarray(e.start, e.end);
  if (v[0] & 0x80) return null; // negative
  if (v.length > 1 && v[0] === 0 && !(v[1] & 0x80)) return null; // not minimal
  if (v[0] === 0) v = v.subarray(1);
  if (v.length > 32) return null;
  const out = new Uint8Array(32);
  out.set(v, 32 - v.length);
  return out;
}

// ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } -> r || s (64
// bytes, what WebCrypto verifies), or null when it is not exactly that.
export function ecdsaDerToRaw(sig) {
  const seq = derElement(sig, 0);
  if (!seq || seq.tag !== 0x30 || seq.end !== sig.length) return null;
  const re = derElement(sig, seq.start);
  const se = re && derElement(sig, re.end);
  if (!se || se.end !== seq.end) return null;
  const r = derScalar(sig, re), s = derScalar(sig, se);
  return r && s ? concatBytes(r, s) : null;
}

// Whether sig is pub's signature over data.
export async function verifySignature(pub, data, sig) {
  if (pub.alg === "ecdsa-p256") {
    const raw = ecdsaDerToRaw(sig);
    return raw !== null && crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, pub.key, raw, data);
  }
  return crypto.subtle.verify({ name: "RSA-PSS", saltLength: 32 }, pub.key, sig, data);
}
