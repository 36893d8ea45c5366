// Signed tree heads: a C2SP tlog-checkpoint in a C2SP signed note, read
// as strictly as crypto/note.c reads it.
//
//   tally.example/vectors            origin (the log's name)
//   7                                tree size, decimal
//   X48tXAWlEp/7kq2pcUm3j/mUYG/...=  root hash, padded base64
//                                    (blank line)
//   — tally.example/vectors <base64(4-byte key ID || signature)>
//
// The signature covers the first three lines with their newlines.  Tally
// signs with ECDSA P-256 or RSA-PSS (sig.js), under the key IDs of
// sig.js's noteKeyId, not with Ed25519.

import { fromBase64, utf8 } from "./bytes.js";
import { verifySignature } from "./sig.js";

const NOTE_MAX = 2048; // bytes, as crypto/note.h
const ORIGIN_MAX = 255;
const DASH = "\u2014 ";

// Unicode White_Space (Go's unicode.IsSpace), which a key name may not hold.
const SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const nameOk = (name) => name.length > 0 && !SPACE.test(name) && !name.includes("+") && !CONTROL.test(name);

// "— name base64" -> { name, id (8 hex digits), sig } or null.
function parseSignatureLine(line, strictName) {
  if (!line.startsWith(DASH)) return null;
  const rest = line.slice(DASH.length);
  const sp = rest.indexOf(" ");
  if (sp <= 0) return null;
  const name = rest.slice(0, sp);
  if (strictName && !nameOk(name)) return null;
  const raw = fromBase64(rest.slice(sp + 1));
  if (!raw || raw.length < 5) return null;
  const id = Array.from(raw.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join("");
  return { name, id, sig: raw.subarray(4) };
}

// The parts of a note: { origin, size (BigInt), root (32 bytes), body
// (the signed bytes), signers: [{ name, id, sig }] } or { why }.
export function parseNote(text) {
  const malformed = { why: "not a checkpoint in a signed note" };
  if (typeof text !== "string") return malformed;
  const bytes = utf8(text);
  if (bytes.length >= NOTE_MAX || CONTROL.test(text) || LONE_SURROGATE.test(text)) return malformed;
  const blank = text.lastIndexOf("\n\n");
  if (blank < 0 || blank + 2 === text.length || !text.endsWith("\n")) return malformed;
  const body = text.slice(0, blank + 1);
  const lines = body.split("\n");
  if (lines.length !== 4 || lines[3] !== "") return malformed;
  const [origin, sizeText, rootText] = lines;
  if (origin.length === 0 || utf8(origin).length > ORIGIN_MAX) return malformed;
  if (!/^(0|[1-9]\d*)$/.test(sizeText) || BigInt(sizeText) >= 2n ** 64n) return malformed;
  const root = fromBase64(rootText);
  if (!root || root.length !== 32) return malformed;
  const signers = [];
  for (const line of text.slice(blank + 2, -1).split("\n")) {
    const s = parseSignatureLine(line, true);
    if (!s) return malformed;
    signers.push(s);
  }
  return { origin, size: BigInt(sizeText), root, body: utf8(body), signers };
}

const SIGNERS_MAX = 16; // KEYRING_SIGNERS_MAX

// Who claims to have signed (keyring_signers), read loosely, only to
// pick the keys to try; openNote reads the note strictly.  { origin,
// signers } or null when there is no well-formed signature line.
export function noteClaims(text) {
  if (typeof text !== "string" || text.length === 0 || !text.endsWith("\n") || text.includes("\u0000")) return null;
  if (utf8(text).length >= NOTE_MAX) return null;
  const origin = text.slice(0, text.indexOf("\n"));
  if (origin === "" || utf8(origin).length > ORIGIN_MAX) return null;
  const blank = text.lastIndexOf("\n\n");
  if (blank < 0 || blank + 2 === text.length) return null;
  const signers = [];
  for (const line of text.slice(blank + 2, -1).split("\n").slice(0, SIGNERS_MAX)) {
    const s = parseSignatureLine(line, false);
    if (!s || utf8(s.name).length > ORIGIN_MAX) return null;
    signers.push(s);
  }
  return { origin, signers };
}

// note_open: the note verifies under pub as name with key ID id: every
// signature line by (name, id) verifies, and there is at least one.
// Lines of other keys are ignored, as C2SP has verifiers do.  Returns
// null, or what is wrong in crypto/note.c's words.
export async function openNote(text, pub, name, id) {
  const note = parseNote(text);
  if (note.why) return note.why;
  let good = 0, bad = 0;
  for (const s of note.signers) {
    if (s.id !== id || s.name !== name) continue;
    if (await verifySignature(pub, note.body, s.sig)) good++;
    else bad++;
  }
  if (bad > 0) return "a signature by the key does not verify";
  if (good === 0) return "no signature by the key";
  return null;
}
