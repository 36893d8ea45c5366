// A receipt bundle (docs/receipt.md) checked as tally-verify checks it,
// in its order and with its words: statement, signature, treeHead,
// deltas, proofRoot, deltasCount, netChange, endingBalance, inclusion,
// chain.  This is a port of verify/receipt.c (parsing: every bad member
// becomes a problem of the check it belongs to, and is left out) and
// verify/check.c (the checks), so the page and tally-verify agree on
// every receipt.

import { bytesEqual, hashText } from "./bytes.js";
import { formatDecimal } from "./decimal.js";
import {
  ID_MAX, member, readAmount, readAmountAny, readBase64, readHash, readString, readTime, readUint,
} from "./fields.js";
import { canonicalBytes, canonicalize } from "./jcs.js";
import { isObject, parseJson } from "./json.js";
import { leafHash, rootOf, sha256, verifyInclusion } from "./merkle.js";
import { Report } from "./report.js";
import { verifySignature } from "./sig.js";
import { monthStart, parsePeriod, utcText } from "./time.js";

const STATEMENT_MAX = 65536;
const SIG_MAX = 512;
const PROOF_MAX = 66;
const LEAF_TEXT_MAX = 4096;
const CUSTOMER_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const SALT = /^[0-9a-f]{64}$/;

// The statement's members and the version each appears in.
const STATEMENT_MEMBERS = {
  version: 1, checkpointId: 1, tenant: 1, env: 1, customerId: 1, period: 1, startDate: 1, endDate: 1,
  startingBalance: 1, netChange: 1, endingBalance: 1, deltasCount: 1, proofRoot: 1, previousCheckpointId: 1,
  treeSize: 1, rootHash: 1, createdAt: 1, firstSequence: 2, lastSequence: 2, salt: 2,
};
const LEAF_MEMBERS = ["tenant", "env", "customerId", "sequenceNumber", "delta", "reason", "referenceId", "metadata", "createdAt", "salt"];

// The bundle's data: the envelope's, or the object itself (field_envelope).
export function envelopeData(root) {
  if (!isObject(root)) return { why: "not a JSON object" };
  if (!Object.hasOwn(root, "success")) return { value: root };
  if (root.success === true && isObject(root.data)) return { value: root.data };
  const e = isObject(root.error) ? root.error : {};
  return { why: `an error answer, not a success with data (${e.code ?? ""}: ${e.message ?? ""})` };
}

// "deltas[3] (rec_…)": where a problem is, as tally-verify says it.
const where = (r, i) => (r.deltas[i]?.recordId ? `deltas[${i}] (${quote(r.deltas[i].recordId, 64)})` : `deltas[${i}]`);

function problem(r, check, text, delta = null) {
  r.problems.push({ check, text, delta });
}

function readStatement(r, data) {
  const st = { usable: false, version: 0 };
  r.st = st;
  const m = member(data, "statement");
  const b = m.why ? m : readBase64(m.value, STATEMENT_MAX);
  if (b.why) return problem(r, "statement", `statement: ${b.why}`);
  st.bytes = b.value;
  try {
    st.obj = parseJson(new TextDecoder("utf-8", { fatal: true }).decode(st.bytes));
  } catch (e) {
    return problem(r, "statement", `statement: ${e.message}`);
  }
  if (!isObject(st.obj)) return problem(r, "statement", "statement: not a JSON object");
  st.usable = true;
  const bad = (name, why) => {
    problem(r, "statement", `statement: ${name}: ${why}`);
    st.usable = false;
  };
  const get = (name, read) => {
    if (!Object.hasOwn(st.obj, name)) return bad(name, "missing");
    const v = read(st.obj[name], name);
    if (v.why) return bad(name, v.why);
    return v.value;
  };
  const uint = (v, name) => readUint(st.obj, name);
  st.version = get("version", uint) ?? 0;
  if (st.version !== 0 && st.version !== 1 && st.version !== 2) {
    bad("version", "neither 1 nor 2: a format this verifier does not know");
  }
  if (st.version === 2) {
    st.firstSeq = get("firstSequence", uint);
    st.lastSeq = get("lastSequence", uint);
    const salt = get("salt", (v) => readString(v, ID_MAX));
    if (salt !== undefined && !SALT.test(salt)) bad("salt", "not 64 lowercase hex digits");
    if (st.usable && st.lastSeq + 1 < st.firstSeq) bad("lastSequence", "before firstSequence - 1");
  }
  st.checkpointId = get("checkpointId", (v) => readString(v, ID_MAX, { nonEmpty: true }));
  st.tenant = get("tenant", (v) => readString(v, ID_MAX, { nonEmpty: true }));
  st.env = get("env", (v) => readString(v, ID_MAX));
  st.customerId = get("customerId", (v) => readString(v, ID_MAX));
  st.period = get("period", (v) => readString(v, ID_MAX));
  st.startMs = get("startDate", readTime);
  st.endMs = get("endDate", readTime);
  st.starting = get("startingBalance", readAmount);
  st.net = get("netChange", readAmount);
  st.ending = get("endingBalance", readAmount);
  st.deltasCount = get("deltasCount", uint);
  st.proofRoot = get("proofRoot", readHash);
  st.previousId = get("previousCheckpointId", (v) => readString(v, ID_MAX, { nullable: true, nonEmpty: true }));
  st.treeSize = get("treeSize", uint);
  st.rootHash = get("rootHash", readHash);
  st.createdMs = get("createdAt", readTime);
  // Values constrained beyond their type (st_values).
  if (st.version === 2 && st.usable && st.firstSeq === 0) bad("firstSequence", "sequence numbers start at 1");
  if (st.version === 2 && st.usable && st.lastSeq + 1 - st.firstSeq !== st.deltasCount) {
    problem(r, "statement", `statement: deltasCount: ${st.deltasCount}, but firstSequence..lastSequence (${st.firstSeq}..${st.lastSeq}) holds ${st.lastSeq + 1 - st.firstSeq}`);
  }
  if (typeof st.env === "string" && st.env !== "live" && st.env !== "test") bad("env", "neither live nor test");
  if (typeof st.customerId === "string" && !CUSTOMER_ID.test(st.customerId)) bad("customerId", "not a customer id");
  if (typeof st.period === "string") {
    st.month = parsePeriod(st.period);
    if (st.month === null) bad("period", "not YYYY-MM");
    else if (st.usable) {
      if (st.startMs !== monthStart(st.month)) problem(r, "statement", `statement: startDate: not the start of ${st.period} (${utcText(monthStart(st.month))})`);
      if (st.endMs !== monthStart(st.month + 1)) problem(r, "statement", `statement: endDate: not the end of ${st.period} (${utcText(monthStart(st.month + 1))})`);
    }
  }
  for (const name of Object.keys(st.obj)) {
    if (!(STATEMENT_MEMBERS[name] <= st.version)) problem(r, "statement", `statement: unknown member ${name}`);
  }
  // Signed bytes that are their own JCS form: one reading for everyone.
  let canonical = false;
  try {
    canonical = bytesEqual(canonicalBytes(st.obj), st.bytes);
  } catch (e) {
    /* a number JSON cannot carry: not canonical */
  }
  if (!canonical) problem(r, "statement", "statement: the bytes are not the JCS (RFC 8785) form of the object they hold");
  if (st.version !== 0 && r.version !== null && r.version !== st.version) {
    problem(r, "statement", `version: ${r.version}, but the statement is of version ${st.version}`);
  }
}

function readHead(r, data) {
  const m = (name) => member(data, name);
  let v = m("version");
  v = v.why ? v : readUint(data, "version");
  r.version = v.why ? null : v.value;
  if (v.why) problem(r, "statement", `version: ${v.why}`);
  else if (r.version !== 1 && r.version !== 2) problem(r, "statement", "version: neither 1 nor 2: a format this verifier does not know");
  v = m("checkpointId");
  v = v.why ? v : readString(v.value, ID_MAX, { nonEmpty: true });
  if (v.why) problem(r, "statement", `checkpointId: ${v.why}`);
  else r.checkpointId = v.value;
  v = m("checkpoint");
  if (v.why) problem(r, "statement", `checkpoint: ${v.why}`);
  else if (!isObject(v.value)) problem(r, "statement", "checkpoint: not an object");
  else r.checkpoint = v.value;
  v = m("signature");
  v = v.why ? v : readBase64(v.value, SIG_MAX);
  if (v.why || v.value.length === 0) problem(r, "signature", `signature: ${v.why ?? "empty"}`);
  else r.sig = v.value;
  v = m("keyId");
  v = v.why ? v : readString(v.value, 8);
  if (v.why) problem(r, "signature", `keyId: ${v.why}`);
  else if (!/^[0-9a-f]{8}$/.test(v.value)) problem(r, "signature", "keyId: not 8 lowercase hex digits");
  else r.keyId = v.value;
  v = m("alg");
  v = v.why ? v : readString(v.value, ID_MAX);
  if (v.why) problem(r, "signature", `alg: ${v.why}`);
  else if (v.value !== "ecdsa-p256" && v.value !== "rsa-3072") problem(r, "signature", "alg: neither ecdsa-p256 nor rsa-3072");
  else r.alg = v.value;
  v = m("treeHead");
  v = v.why ? v : readString(v.value, 2047, { nonEmpty: true });
  if (v.why) problem(r, "treeHead", `treeHead: ${v.why}`);
  else r.treeHead = v.value;
}

async function readLeaf(r, i, leaf, d) {
  const w = where(r, i);
  const bad = (name, why) => problem(r, "deltas", `${w}: leaf.${name}: ${why}`, i);
  if (!isObject(leaf)) return problem(r, "deltas", `${w}: leaf: not an object`, i);
  try {
    const data = canonicalBytes(leaf);
    d.contentRe = await sha256(data);
    d.leafRe = await leafHash(data);
  } catch (e) {
    problem(r, "deltas", `${w}: leaf: has no canonical form (a number JSON cannot carry)`, i);
  }
  const str = (name, max, opts) => {
    if (!Object.hasOwn(leaf, name)) return bad(name, "missing");
    const v = readString(leaf[name], max, opts);
    return v.why ? bad(name, v.why) : v.value;
  };
  d.tenant = str("tenant", ID_MAX);
  d.env = str("env", ID_MAX);
  d.customerId = str("customerId", ID_MAX);
  if (!Object.hasOwn(leaf, "sequenceNumber")) bad("sequenceNumber", "missing");
  else {
    const v = readUint(leaf, "sequenceNumber");
    if (v.why) bad("sequenceNumber", v.why);
    else d.seq = v.value;
  }
  if (!Object.hasOwn(leaf, "delta")) bad("delta", "missing");
  else {
    const v = readAmount(leaf.delta);
    if (v.why) bad("delta", v.why);
    else d.amount = v.value;
  }
  d.reason = str("reason", LEAF_TEXT_MAX);
  d.referenceId = str("referenceId", LEAF_TEXT_MAX, { nullable: true });
  if (!Object.hasOwn(leaf, "metadata")) bad("metadata", "missing");
  else if (leaf.metadata !== null && !isObject(leaf.metadata)) bad("metadata", "must be an object or null");
  if (!Object.hasOwn(leaf, "createdAt")) bad("createdAt", "missing");
  else {
    const v = readTime(leaf.createdAt);
    if (v.why) bad("createdAt", v.why);
    else d.createdMs = v.value;
  }
  const salt = str("salt", 64);
  if (typeof salt === "string" && !SALT.test(salt)) bad("salt", "not 64 lowercase hex digits");
  for (const name of Object.keys(leaf)) {
    if (!LEAF_MEMBERS.includes(name)) problem(r, "deltas", `${w}: leaf: unknown member ${name}`, i);
  }
}

// One entry of deltas: the parts that parse (see the checks for which
// each needs), and a problem for each part that does not.
export async function readDelta(r, i, o) {
  const d = { index: i };
  r.deltas[i] = d;
  if (!isObject(o)) return problem(r, "deltas", `${where(r, i)}: not an object`, i);
  const rid = Object.hasOwn(o, "recordId") ? readString(o.recordId, ID_MAX, { nonEmpty: true }) : { why: "missing" };
  if (rid.why) problem(r, "deltas", `${where(r, i)}: recordId: ${rid.why}`, i);
  else d.recordId = rid.value;
  const w = where(r, i);
  const idx = Object.hasOwn(o, "logIndex") ? readUint(o, "logIndex") : { why: "missing" };
  if (idx.why) problem(r, "deltas", `${w}: logIndex: ${idx.why}`, i);
  else d.logIndex = idx.value;
  for (const [name, key] of [["leafHash", "leafHash"], ["contentHash", "contentHash"]]) {
    const h = Object.hasOwn(o, name) ? readHash(o[name]) : { why: "missing" };
    if (h.why) problem(r, "deltas", `${w}: ${name}: ${h.why}`, i);
    else d[key] = h.value;
  }
  if (!Object.hasOwn(o, "leaf")) problem(r, "deltas", `${w}: leaf: missing`, i);
  else await readLeaf(r, i, o.leaf, d);
  d.leafText = isObject(o.leaf) ? o.leaf : null;
  if (!Object.hasOwn(o, "inclusionProof")) return problem(r, "inclusion", `${w}: inclusionProof: missing`, i);
  const a = o.inclusionProof;
  if (!Array.isArray(a)) return problem(r, "inclusion", `${w}: inclusionProof: not an array`, i);
  if (a.length > PROOF_MAX) return problem(r, "inclusion", `${w}: inclusionProof: more than ${PROOF_MAX} hashes`, i);
  const proof = [];
  for (let j = 0; j < a.length; j++) {
    const h = readHash(a[j]);
    if (h.why) return problem(r, "inclusion", `${w}: inclusionProof[${j}]: ${h.why}`, i);
    proof.push(h.value);
  }
  d.proof = proof;
}

// A receipt from its text (a file, or an answer): { receipt } or { why }
// when it is no bundle at all (not JSON, an error answer).
export async function parseReceipt(text) {
  let root;
  try {
    root = parseJson(text);
  } catch (e) {
    return { why: `not JSON: ${e.message}` };
  }
  const data = envelopeData(root);
  if (data.why) return { why: data.why };
  const r = { data: data.value, problems: [], deltas: [], version: null, haveDeltas: false };
  readHead(r, data.value);
  readStatement(r, data.value);
  const a = data.value.deltas;
  if (!Object.hasOwn(data.value, "deltas")) problem(r, "deltas", "deltas: missing");
  else if (!Array.isArray(a)) problem(r, "deltas", "deltas: not an array");
  else {
    r.haveDeltas = true;
    for (let i = 0; i < a.length; i++) await readDelta(r, i, a[i]);
  }
  return { receipt: r };
}

function begin(rep, r, check) {
  rep.begin(check);
  for (const p of r.problems) if (p.check === check) rep.fail(p.text, p.delta);
}

// Check 1, part two: the API's checkpoint object agrees with the statement.
const CHECKPOINT_MEMBERS = [
  ["checkpointId", "checkpointId", 1, 0], ["customerId", "customerId", 1, 0], ["period", "period", 1, 0],
  ["startDate", "startDate", 1, 0], ["endDate", "endDate", 1, 0], ["startingBalance", "startingBalance", 1, 1],
  ["deltasCount", "deltasCount", 1, 0], ["netChange", "netChange", 1, 1], ["endingBalance", "endingBalance", 1, 1],
  ["proofRoot", "proofRoot", 1, 0], ["merkleRoot", "proofRoot", 0, 0], ["itemsRoot", "proofRoot", 0, 0],
  ["previousCheckpointId", "previousCheckpointId", 1, 0], ["treeSize", "treeSize", 1, 0], ["rootHash", "rootHash", 1, 0],
  ["createdAt", "createdAt", 1, 0], ["firstSequence", "firstSequence", 0, 0], ["lastSequence", "lastSequence", 0, 0],
  ["version", "version", 0, 0], ["tenant", "tenant", 0, 0], ["env", "env", 0, 0],
];

const same = (a, b) => {
  try {
    return canonicalize(a) === canonicalize(b);
  } catch (e) {
    return false;
  }
};
// Untrusted text quoted in a problem as tally-verify quotes it
// (report_text): printable ASCII as is, every other byte as \xHH, cut
// with "..." past max bytes, so that a long or invisible value reads the
// same in both.
export function quote(text, max = 96) {
  let out = "";
  for (const b of new TextEncoder().encode(text)) {
    if (out.length + 8 >= max) return out + "...";
    out += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : "\\x" + b.toString(16).padStart(2, "0");
  }
  return out;
}

const show = (v) => {
  try {
    return quote(JSON.stringify(v));
  } catch (e) {
    return "?";
  }
};

function compareCheckpoint(rep, r) {
  const cp = r.checkpoint, so = r.st.obj;
  if (!cp || !isObject(so)) return;
  for (const [name, stname, required, amount] of CHECKPOINT_MEMBERS) {
    if (!Object.hasOwn(cp, name)) {
      if (required) rep.fail(`checkpoint.${name}: missing`);
      continue;
    }
    if (!Object.hasOwn(so, stname)) continue;
    if (amount) {
      const ca = readAmountAny(cp, name);
      if (ca.why) {
        rep.fail(`checkpoint.${name}: ${ca.why}`);
        continue;
      }
      // A browser that cannot say a number's text: its exact twin decides.
      const exact = ca.unknown ? readAmount(cp[name + "Exact"]) : ca;
      const sa = readAmount(so[stname]);
      if (sa.why || exact.why || exact.value === sa.value) continue;
    } else if (same(cp[name], so[stname])) continue;
    rep.fail(`checkpoint.${name}: ${show(cp[name])}, but the statement's ${stname} is ${show(so[stname])}`);
  }
  for (const name of ["keyId", "alg", "signature", "statement"]) {
    if (Object.hasOwn(cp, name) && Object.hasOwn(r.data, name) && !same(cp[name], r.data[name])) {
      rep.fail(`checkpoint.${name}: ${show(cp[name])}, not the bundle's`);
    }
  }
}

function checkStatement(rep, r) {
  const st = r.st;
  begin(rep, r, "statement");
  if (st.obj && st.checkpointId && r.checkpointId && st.checkpointId !== r.checkpointId) {
    rep.fail(`checkpointId: the bundle's is ${r.checkpointId}, the statement's ${st.checkpointId}`);
  }
  compareCheckpoint(rep, r);
  if (!st.usable) return rep.failed();
  rep.end(st.version >= 2
    ? `${st.checkpointId} of ${st.tenant}/${st.env} ${st.customerId}, period ${st.period}: ${st.deltasCount} deltas, sequences ${st.firstSeq}..${st.lastSeq}, tree size ${st.treeSize}; checkpoint agrees`
    : `${st.checkpointId} of ${st.tenant}/${st.env} ${st.customerId}, period ${st.period}: ${st.deltasCount} deltas, tree size ${st.treeSize}; checkpoint agrees (statement version 1)`);
}

async function checkSignature(rep, r, keys) {
  begin(rep, r, "signature");
  const key = r.keyId ? keys.find(r.keyId) : null;
  if (!key && r.keyId) rep.fail(`keyId: ${keys.why(r.keyId)}`);
  if (key && r.alg && r.alg !== key.alg) rep.fail(`alg: ${r.alg}, but key ${r.keyId} is ${key.alg}`);
  if (!key || !r.sig || !r.st.bytes) return rep.failed();
  if (!(await verifySignature(key.pub, r.st.bytes, r.sig))) {
    rep.fail(`does not verify over the ${r.st.bytes.length} statement bytes with key ${r.keyId}`);
  }
  rep.end(`${key.alg} signature of key ${r.keyId} over the ${r.st.bytes.length} statement bytes`);
}

async function checkTreeHead(rep, r, keys) {
  const st = r.st;
  begin(rep, r, "treeHead");
  if (!r.treeHead) return rep.failed();
  const opened = await keys.openNote(r.treeHead);
  if (opened.why) {
    rep.fail(opened.why);
    return rep.failed();
  }
  const { head, by } = opened;
  r.head = head;
  if (!st.usable) return rep.cancel(`signed by ${by.name} ${by.id}, but not compared: the statement is unusable`);
  if (head.size !== BigInt(st.treeSize)) rep.fail(`size ${head.size}, but the statement's treeSize is ${st.treeSize}`);
  if (!bytesEqual(head.root, st.rootHash)) rep.fail(`root ${hashText(head.root)}, but the statement's rootHash is ${hashText(st.rootHash)}`);
  rep.end(`${head.origin} size ${head.size}, signed by ${by.name} ${by.id}; size and root are the statement's`);
}

function checkDeltas(rep, r) {
  const st = r.st;
  begin(rep, r, "deltas");
  if (!st.usable) return rep.cancel("the statement is unusable");
  let seq = null, index = null, next = st.firstSeq, carried = 0, allSeqs = true;
  r.deltas.forEach((d, i) => {
    const w = where(r, i);
    if (d.tenant !== undefined && d.env !== undefined && d.customerId !== undefined) {
      if (d.tenant !== st.tenant) rep.fail(`${w}: leaf.tenant: ${d.tenant}, not the statement's ${st.tenant}`, i);
      if (d.env !== st.env) rep.fail(`${w}: leaf.env: ${d.env}, not the statement's ${st.env}`, i);
      if (d.customerId !== st.customerId) rep.fail(`${w}: leaf.customerId: ${d.customerId}, not the statement's ${st.customerId}`, i);
    }
    if (d.createdMs !== undefined) {
      if (st.version >= 2 && d.createdMs >= st.endMs) {
        rep.fail(`${w}: leaf.createdAt: ${utcText(d.createdMs)} is not before the period's end, ${utcText(st.endMs)}`, i);
      } else if (st.version < 2 && (d.createdMs < st.startMs || d.createdMs >= st.endMs)) {
        rep.fail(`${w}: leaf.createdAt: ${utcText(d.createdMs)} is not in [${utcText(st.startMs)}, ${utcText(st.endMs)})`, i);
      }
      d.carriedIn = d.createdMs < st.startMs;
      if (d.carriedIn) carried++;
    }
    if (d.seq === undefined) allSeqs = false;
    else if (st.version >= 2) {
      if (d.seq > st.lastSeq) rep.fail(`${w}: leaf.sequenceNumber ${d.seq} is past the statement's lastSequence ${st.lastSeq}`, i);
      else if (d.seq < st.firstSeq) rep.fail(`${w}: leaf.sequenceNumber ${d.seq} is before the statement's firstSequence ${st.firstSeq}`, i);
      else {
        if (d.seq > next) rep.fail(d.seq - 1 === next ? `sequence ${next} missing` : `sequences ${next}..${d.seq - 1} missing`, i);
        if (d.seq >= next) next = d.seq + 1;
      }
    }
    if (d.seq !== undefined) {
      if (seq !== null && d.seq <= seq) rep.fail(`${w}: leaf.sequenceNumber ${d.seq} does not increase (the one before is ${seq})`, i);
      seq = d.seq;
    }
    if (d.logIndex !== undefined) {
      if (index !== null && d.logIndex <= index) rep.fail(`${w}: logIndex ${d.logIndex} does not increase (the one before is ${index})`, i);
      if (d.logIndex >= st.treeSize) rep.fail(`${w}: logIndex ${d.logIndex} is not below treeSize ${st.treeSize}`, i);
      index = d.logIndex;
    }
    if (d.leafRe) {
      if (d.contentHash && !bytesEqual(d.contentHash, d.contentRe)) {
        rep.fail(`${w}: contentHash: the receipt says ${hashText(d.contentHash)}, the leaf hashes to ${hashText(d.contentRe)}`, i);
      }
      if (d.leafHash && !bytesEqual(d.leafHash, d.leafRe)) {
        rep.fail(`${w}: leafHash: the receipt says ${hashText(d.leafHash)}, the leaf hashes to ${hashText(d.leafRe)}`, i);
      }
    }
  });
  if (st.version >= 2 && allSeqs && next <= st.lastSeq) rep.fail(next === st.lastSeq ? `sequence ${next} missing` : `sequences ${next}..${st.lastSeq} missing`);
  if (st.version < 2) {
    return rep.end(`${r.deltas.length} deltas of ${st.customerId}, in ${st.period}, in log order; contentHash and leafHash recomputed from each leaf`);
  }
  rep.end(`${r.deltas.length} deltas of ${st.customerId}, sequences ${st.firstSeq}..${st.lastSeq} without a gap, in log order (${carried} carried in, recorded before ${st.period}); contentHash and leafHash recomputed from each leaf`);
}

const unusable = (r) => `no usable ${r.st.usable ? "deltas" : "statement"}`;

async function checkProofRoot(rep, r) {
  begin(rep, r, "proofRoot");
  if (!r.st.usable || !r.haveDeltas) return rep.cancel(unusable(r));
  const i = r.deltas.findIndex((d) => !d.leafRe);
  if (i >= 0) return rep.cancel(`${where(r, i)} has no leaf to hash`);
  const root = await rootOf(r.deltas.map((d) => d.leafRe));
  if (!bytesEqual(root, r.st.proofRoot)) {
    rep.fail(`rebuilt from ${r.deltas.length} leaf hashes: ${hashText(root)}, but the statement's is ${hashText(r.st.proofRoot)}`);
  }
  rep.end(`${hashText(r.st.proofRoot)} rebuilt from ${r.deltas.length} leaf hashes`);
}

function checkCount(rep, r) {
  begin(rep, r, "deltasCount");
  if (!r.st.usable || !r.haveDeltas) return rep.cancel(unusable(r));
  if (r.deltas.length !== r.st.deltasCount) rep.fail(`the statement says ${r.st.deltasCount}, the receipt holds ${r.deltas.length} deltas`);
  rep.end(`${r.deltas.length} deltas`);
}

function checkNetChange(rep, r) {
  begin(rep, r, "netChange");
  if (!r.st.usable || !r.haveDeltas) return rep.cancel(unusable(r));
  const i = r.deltas.findIndex((d) => d.amount === undefined);
  if (i >= 0) return rep.cancel(`${where(r, i)} has no usable amount`);
  const sum = r.deltas.reduce((a, d) => a + d.amount, 0n);
  if (sum !== r.st.net) rep.fail(`the statement says ${formatDecimal(r.st.net)}, the deltas sum to ${formatDecimal(sum)}`);
  rep.end(`${formatDecimal(sum)} = the sum of ${r.deltas.length} deltas`);
}

function checkEnding(rep, r) {
  const st = r.st;
  begin(rep, r, "endingBalance");
  if (!st.usable) return rep.cancel("no usable statement");
  const sum = st.starting + st.net;
  if (sum !== st.ending) {
    rep.fail(`${formatDecimal(st.ending)}, but startingBalance ${formatDecimal(st.starting)} + netChange ${formatDecimal(st.net)} = ${formatDecimal(sum)}`);
  }
  rep.end(`${formatDecimal(st.ending)} = startingBalance ${formatDecimal(st.starting)} + netChange ${formatDecimal(st.net)}`);
}

async function checkInclusion(rep, r) {
  const st = r.st;
  begin(rep, r, "inclusion");
  if (!st.usable) return rep.cancel("no usable statement");
  let checked = 0;
  for (const [i, d] of r.deltas.entries()) {
    if (!d.leafRe || d.logIndex === undefined || !d.proof) continue;
    checked++;
    if (await verifyInclusion(d.leafRe, d.logIndex, st.treeSize, d.proof, st.rootHash)) continue;
    rep.fail(`${where(r, i)}: logIndex ${d.logIndex}: the proof of ${d.proof.length} hashes does not lead to rootHash at treeSize ${st.treeSize}`, i);
  }
  if (checked < r.deltas.length) return rep.cancel(`${r.deltas.length - checked} of ${r.deltas.length} deltas lack a leaf, logIndex or proof`);
  rep.end(`${checked} proofs lead to rootHash ${hashText(st.rootHash)} at treeSize ${st.treeSize}`);
}

function chainFirst(rep, r) {
  const st = r.st;
  if (st.previousId !== null) return rep.skip("chain", `predecessor ${st.previousId} not given`);
  rep.begin("chain");
  if (st.starting !== 0n) rep.fail(`startingBalance ${formatDecimal(st.starting)}, but a first checkpoint (previousCheckpointId null) starts at 0`);
  if (st.version >= 2 && st.firstSeq !== 1) {
    rep.fail(`firstSequence ${st.firstSeq}, but a first checkpoint (previousCheckpointId null) starts at sequence 1: sequence${st.firstSeq > 2 ? "s" : ""} 1..${st.firstSeq - 1} in no checkpoint`);
  }
  rep.end(`first checkpoint of the customer: startingBalance 0${st.version >= 2 ? ", from sequence 1" : ""}`);
}

// The chain rule between a checkpoint and its predecessor (docs/receipt.md
// "Chaining"), on two usable statements; prevHeld: the highest sequence
// number the predecessor holds, for a version 1 predecessor.  Returns the
// problems, each a sentence.  Shared with the periods view.
export function chainProblems(st, ps, prevHeld = null) {
  const out = [];
  if (st.tenant !== ps.tenant || st.env !== ps.env || st.customerId !== ps.customerId) {
    out.push(`the predecessor is of ${ps.tenant}/${ps.env} ${ps.customerId}, not of this customer`);
  }
  if (st.previousId === null) out.push(`previousCheckpointId is null, but the predecessor ${ps.checkpointId} was given`);
  else if (st.previousId !== ps.checkpointId) out.push(`previousCheckpointId ${st.previousId}, but the predecessor is ${ps.checkpointId}`);
  if (ps.month < st.month && st.starting !== ps.ending) {
    out.push(`startingBalance ${formatDecimal(st.starting)}, but the predecessor's endingBalance (${ps.period}) is ${formatDecimal(ps.ending)}`);
  } else if (ps.month === st.month && st.starting !== ps.starting) {
    out.push(`startingBalance ${formatDecimal(st.starting)}, but the predecessor of the same month starts at ${formatDecimal(ps.starting)}`);
  } else if (ps.month > st.month) out.push(`the predecessor is of a later period, ${ps.period}`);
  if (ps.createdMs > st.createdMs) out.push("the predecessor was created after this checkpoint");
  if (st.version >= 2) {
    let want = null;
    if (ps.version >= 2) want = ps.month === st.month ? ps.firstSeq : ps.lastSeq + 1;
    else if (prevHeld !== null && prevHeld > 0 && ps.month < st.month) want = prevHeld + 1;
    if (want !== null && st.firstSeq > want) {
      out.push(`firstSequence ${st.firstSeq}, but the predecessor ends at ${want - 1}: sequence${st.firstSeq - want > 1 ? "s" : ""} ${want}..${st.firstSeq - 1} in no checkpoint`);
    } else if (want !== null && st.firstSeq < want) {
      out.push(`firstSequence ${st.firstSeq}, but the predecessor covers through ${want - 1}: sequences ${st.firstSeq}..${want - 1} in two checkpoints`);
    }
  }
  return out;
}

async function checkChain(rep, r, keys, prev) {
  const st = r.st;
  if (!prev) {
    if (st.usable) chainFirst(rep, r);
    return;
  }
  rep.begin("chain");
  // The predecessor in full, as if given alone: a changed byte in it
  // makes it no link.
  const pr = await verifyReceipt(prev, keys);
  const failed = pr.count("fail");
  if (failed > 0) rep.fail(`the previous receipt ${prev.checkpointId}: ${failed} of its checks fail (verify it alone to see which)`);
  const ps = prev.st;
  if (!st.usable || !ps.usable) return rep.cancel("no usable statement");
  const held = prev.deltas.reduce((m, d) => (d.seq !== undefined && d.seq > m ? d.seq : m), 0);
  for (const p of chainProblems(st, ps, held)) rep.fail(p);
  rep.end(`predecessor ${ps.checkpointId} (${ps.period}), verified in full: startingBalance ${formatDecimal(st.starting)} chains${st.version >= 2 ? ", sequences join without a gap" : ""}`);
}

// Every check of docs/receipt.md over a parsed receipt, with keys (a
// Keyring) and optionally the parsed previous receipt.  Returns a Report.
export async function verifyReceipt(r, keys, prev = null) {
  const rep = new Report();
  checkStatement(rep, r);
  await checkSignature(rep, r, keys);
  await checkTreeHead(rep, r, keys);
  checkDeltas(rep, r);
  await checkProofRoot(rep, r);
  checkCount(rep, r);
  checkNetChange(rep, r);
  checkEnding(rep, r);
  await checkInclusion(rep, r);
  await checkChain(rep, r, keys, prev);
  return rep;
}

// Each delta's own result: "failed" with its problems when a check names
// it; "verified" when none does and what every delta's proof stands on
// holds (the statement, its signature, the tree head, and the inclusion
// check ran); else "unverified" with the reason.
export function deltaResults(r, rep) {
  const status = Object.fromEntries(rep.checks.map((c) => [c.name, c.status]));
  const shared = ["statement", "signature", "treeHead"].filter((n) => status[n] !== "ok");
  if (status.inclusion !== "ok" && status.inclusion !== "fail") shared.push("inclusion");
  return r.deltas.map((d, i) => {
    const problems = rep.checks.flatMap((c) => c.problems.filter((p) => p.delta === i).map((p) => p.text));
    if (problems.length > 0) return { state: "failed", problems };
    if (shared.length > 0) return { state: "unverified", problems: [`not verified: the receipt's ${shared.join(", ")} check${shared.length > 1 ? "s do" : " does"} not hold`] };
    return { state: "verified", problems: [] };
  });
}

// A checkpoint's statement on its own (the API's checkpoint object, as
// the periods list gives it): { st, problems } where st.usable says
// whether its members all read.
export function readCheckpointStatement(cp) {
  const r = { problems: [], deltas: [], version: null };
  readStatement(r, isObject(cp) ? { statement: cp.statement } : {});
  return { st: r.st, problems: r.problems.map((p) => p.text) };
}

// A first checkpoint's rule (no predecessor): starts at 0 and sequence 1.
export function firstProblems(st) {
  const out = [];
  if (st.starting !== 0n) out.push(`startingBalance ${formatDecimal(st.starting)}, but a first checkpoint (previousCheckpointId null) starts at 0`);
  if (st.version >= 2 && st.firstSeq !== 1) out.push(`firstSequence ${st.firstSeq}, but a first checkpoint starts at sequence 1: sequences 1..${st.firstSeq - 1} in no checkpoint`);
  return out;
}
