// Bytes and their two text forms in the record: lowercase hex (hashes,
// written "0x" + 64 digits, SPEC 1) and standard padded base64
// (statements, signatures, tree-head roots).  Both decoders are strict,
// as crypto/base64.c and common/hex.c are: one spelling per value, so a
// hash or signature that reads here reads the same in tally-verify.

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_VALUE = new Map([...B64].map((c, i) => [c, i]));

export const utf8 = (text) => new TextEncoder().encode(text);

export function concatBytes(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export const toHex = (bytes) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

// Lowercase only, even length; null when it is not that.
export function fromHex(text) {
  if (typeof text !== "string" || text.length % 2 !== 0 || !/^[0-9a-f]*$/.test(text)) return null;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
  return out;
}

// A hash as the API writes it: "0x" and 64 lowercase hex digits.
export function parseHash(text) {
  if (typeof text !== "string" || !/^0x[0-9a-f]{64}$/.test(text)) return null;
  return fromHex(text.slice(2));
}

export const hashText = (bytes) => "0x" + toHex(bytes);

export function toBase64(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = Math.min(3, bytes.length - i);
    const v = (bytes[i] << 16) | ((n > 1 ? bytes[i + 1] : 0) << 8) | (n > 2 ? bytes[i + 2] : 0);
    out += B64[v >> 18] + B64[(v >> 12) & 63];
    out += n > 1 ? B64[(v >> 6) & 63] : "=";
    out += n > 2 ? B64[v & 63] : "=";
  }
  return out;
}

// Canonical padded base64 or null: no whitespace, '=' only at the end,
// unused low bits zero (the rule of crypto/base64.c's decoder).
export function fromBase64(text) {
  if (typeof text !== "string" || text.length % 4 !== 0) return null;
  const out = [];
  for (let i = 0; i < text.length; i += 4) {
    let pad = 0;
    if (i + 4 === text.length && text[i + 3] === "=") pad = text[i + 2] === "=" ? 2 : 1;
    let v = 0;
    for (let j = 0; j < 4 - pad; j++) {
      const c = B64_VALUE.get(text[i + j]);
      if (c === undefined) return null;
      v |= c << (18 - 6 * j);
    }
    if ((pad === 1 && (v & 0xff) !== 0) || (pad === 2 && (v & 0xffff) !== 0)) return null;
    out.push(v >> 16);
    if (pad < 2) out.push((v >> 8) & 0xff);
    if (pad < 1) out.push(v & 0xff);
  }
  return new Uint8Array(out);
}
