// The keys the page trusts, as verify/keyring.c decides it (docs/receipt.md
// "Which keys tally-verify trusts").  A keyring holds every key it was
// shown; it trusts only the roots and the keys a trusted key endorsed,
// directly or through a chain, and lookups see only trusted keys.
//
// The roots: the oldest key (by validFrom) of the first keys list given
// with anchor set, the log's genesis key, and the keys of that list made
// before Tally recorded endorsements (no rotation member, or
// "unrecorded").  In the browser the first list is the one the customer
// dropped with a receipt, or else the one the server served: the page
// says which, since a server that serves the page can also serve its
// keys, and only a key ID compared with the vendor's closes that loop.

import { fromBase64, toBase64, utf8 } from "./bytes.js";
import { canonicalize } from "./jcs.js";
import { isObject } from "./json.js";
import { noteClaims, openNote, parseNote } from "./note.js";
import { importPublicKey, noteKeyId, pemToDer, verifySignature } from "./sig.js";
import { parseTime } from "./time.js";

const KEYS_MAX = 1024; // VERIFY_KEYS_MAX
const ENDORSEMENT_TYPE = "tally-key-endorsement/v1";
const isKeyId = (s) => typeof s === "string" && /^[0-9a-f]{8}$/.test(s);

// One entry of a keys list -> a key record, or throws Error(why).
async function readEntry(o, i) {
  const str = (name, nullable) => {
    const v = o[name];
    if (nullable && v === null) return null;
    if (typeof v !== "string") throw new Error(`keys[${i}].${name}: ${v === undefined ? "missing" : "must be a string"}`);
    return v;
  };
  if (!isObject(o)) throw new Error(`keys[${i}]: not an object`);
  const keyId = str("keyId"), alg = str("alg"), pem = str("pem");
  const name = "name" in o ? str("name", true) : null;
  if (!isKeyId(keyId)) throw new Error(`keys[${i}].keyId: not 8 lowercase hex digits`);
  const pub = await importPublicKey(pemToDer(pem));
  if (pub.why) throw new Error(`keys[${i}].pem: ${pub.why}`);
  if (alg !== pub.alg) throw new Error(`keys[${i}].alg: the pem is a ${pub.alg} key`);
  const e = {
    keyId, alg, name: name ?? "", pub, fromMs: Infinity, validFrom: null, endorsedBy: "", endorsement: null,
    unendorsed: false, unrecorded: true, trust: "candidate", broken: false, endorser: null, source: "", why: "",
  };
  if (o.validFrom !== undefined && o.validFrom !== null) {
    e.fromMs = parseTime(o.validFrom);
    if (e.fromMs === null) throw new Error(`keys[${i}].validFrom: not an RFC 3339 UTC time with milliseconds`);
    e.validFrom = o.validFrom;
  }
  if ("endorsedBy" in o) {
    const by = str("endorsedBy", true);
    if (by !== null && !isKeyId(by)) throw new Error(`keys[${i}].endorsedBy: not 8 lowercase hex digits`);
    e.endorsedBy = by ?? "";
  }
  if (o.endorsement !== undefined && o.endorsement !== null) {
    e.endorsement = fromBase64(o.endorsement);
    if (!e.endorsement || e.endorsement.length > 512) throw new Error(`keys[${i}].endorsement: not canonical base64 of at most 512 bytes`);
  }
  if (o.rotation !== undefined && o.rotation !== null) {
    const rotation = str("rotation");
    e.unendorsed = rotation === "unendorsed";
    e.unrecorded = rotation === "unrecorded";
  }
  // Its ID must be the one it claims, so that a lookup by keyId finds
  // the key that ID means (an RSA key without a name is taken as given).
  if (name !== null || pub.alg !== "rsa-3072") {
    const computed = await noteKeyId(pub, name);
    if (computed !== keyId) throw new Error(`keys[${i}].keyId: the pem's key ID is ${computed}`);
  }
  return e;
}

// The bytes an endorsement signs (crypto/endorse.c), about e's own key.
export function endorsementBytes(e) {
  return utf8(canonicalize({
    alg: e.alg, endorsedBy: e.endorsedBy, keyId: e.keyId, name: e.name,
    publicKey: toBase64(e.pub.der), type: ENDORSEMENT_TYPE, validFrom: e.validFrom,
  }));
}

export class Keyring {
  constructor() {
    this.keys = [];
    this.anchored = false;
  }

  // Adds a keys list (GET /api/v1/keys' data.keys) from source; the first
  // with anchor gives the roots.  Returns null, or why the list was not
  // used (then none of it was).
  async addList(list, source, anchor) {
    if (!Array.isArray(list)) return "no keys array";
    if (list.length === 0 || list.length > KEYS_MAX) return `${list.length ? "too many" : "no"} keys`;
    const added = [];
    try {
      for (let i = 0; i < list.length; i++) added.push(await readEntry(list[i], i));
    } catch (e) {
      return e.message;
    }
    for (const e of added) e.source = source;
    if (anchor && !this.anchored) {
      let oldest = added[0];
      for (const e of added) {
        if (e.fromMs < oldest.fromMs) oldest = e;
        if (e.unrecorded) e.trust = "listed";
      }
      oldest.trust = "genesis";
      this.anchored = true;
    }
    this.keys.push(...added);
    await this.settle();
    return null;
  }

  // Follows endorsements out from every trusted key until no key is added.
  async settle() {
    const queue = this.keys.filter((e) => e.trust !== "candidate");
    while (queue.length > 0) {
      const by = queue.shift();
      for (const e of this.keys) {
        if (e.trust !== "candidate" || e.endorsedBy === "" || e.endorsedBy !== by.keyId) continue;
        if (!(await this.endorsedBy(e, by))) {
          e.broken = true;
          continue;
        }
        Object.assign(e, { trust: "endorsed", broken: false, endorser: by });
        queue.push(e);
      }
    }
    for (const e of this.keys) if (e.trust === "candidate") e.why = this.whyNot(e);
  }

  async endorsedBy(e, by) {
    if (!e.endorsement || e.validFrom === null || e.name === "") return false;
    return verifySignature(by.pub, endorsementBytes(e), e.endorsement);
  }

  whyNot(e) {
    const id = e.keyId;
    if (e.unendorsed)
      return `key ${id} was rotated without endorsement (--no-endorse): confirm its id ${id} with your vendor`;
    if (e.broken)
      return `key ${id} is not endorsed by a key you trust: its endorsement by ${e.endorsedBy} does not verify (it was altered, or is not the vendor's)`;
    if (e.endorsedBy === "" || !e.endorsement)
      return `key ${id} is not endorsed by a key you trust: it carries no endorsement${e.unrecorded ? " (made before endorsements: confirm its id with your vendor)" : ""}`;
    const known = this.keys.some((k) => k.keyId === e.endorsedBy);
    return `key ${id} is not endorsed by a key you trust: its endorser ${e.endorsedBy} is ${known ? "not trusted either" : "in no keys file given nor in the receipt"}`;
  }

  // The trusted key with this ID, or null.
  find(keyId) {
    return this.keys.find((e) => e.trust !== "candidate" && e.keyId === keyId) ?? null;
  }

  // Why keyId finds no trusted key.
  why(keyId) {
    const e = this.keys.find((k) => k.trust === "candidate" && k.keyId === keyId);
    return e ? e.why : `${keyId ?? "(none)"}: no such key in the keys`;
  }

  // How e came to be trusted, in words.
  how(e) {
    switch (e.trust) {
      case "genesis": return `the genesis (oldest) key of ${e.source}`;
      case "listed": return `listed in ${e.source}, made before endorsements`;
      case "endorsed": return `endorsed by ${e.endorser.keyId}`;
      default: return `not trusted: ${e.why}`;
    }
  }

  // One line per key, oldest first, as tally-verify prints them; a key
  // listed twice is said once, trusted if either listing is.
  describe() {
    const seen = new Map();
    for (const e of [...this.keys].sort((a, b) => a.fromMs - b.fromMs)) {
      const prev = seen.get(e.keyId);
      if (!prev || (prev.trust === "candidate" && e.trust !== "candidate")) seen.set(e.keyId, e);
    }
    return [...seen.values()].map((e) => ({
      keyId: e.keyId, alg: e.alg, validFrom: e.validFrom, trusted: e.trust !== "candidate", how: this.how(e),
    }));
  }

  // Opens a tree head note with a trusted key: { head: { origin, size,
  // root }, by: { name, id } } or { why } (keyring_open_note).
  async openNote(text) {
    const claims = noteClaims(text);
    if (!claims) return { why: "not a signed note: no well-formed signature line" };
    let why = null;
    for (const s of claims.signers) {
      for (const e of this.keys) {
        const name = e.name !== "" ? e.name : claims.origin;
        if (e.trust === "candidate" || name !== s.name || e.keyId !== s.id) continue;
        const fail = await openNote(text, e.pub, s.name, s.id);
        if (fail === null) {
          const note = parseNote(text);
          return { head: { origin: note.origin, size: note.size, root: note.root }, by: { name: s.name, id: s.id } };
        }
        why = `${fail} (signature line ${s.name} ${s.id})`;
      }
    }
    if (why) return { why };
    const first = claims.signers[0];
    return { why: `signed by no trusted key (first signature line: ${first.name} ${first.id}): ${this.why(first.id)}` };
  }
}
