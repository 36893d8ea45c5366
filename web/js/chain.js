// The chain of a customer's checkpoints, checked in the browser: each
// checkpoint's statement signed by a trusted key, and each linked to the
// one it names (previousCheckpointId) by the chain rule of docs/receipt.md
// (balances carry over, sequence numbers join without a gap or overlap),
// back to the first, which starts at 0 and sequence 1.  A checkpoint the
// periods list does not show (one that a re-lock of its month replaced)
// is fetched as a receipt by its id.

import { chainProblems, firstProblems, parseReceipt, readCheckpointStatement } from "./receipt.js";
import { fromBase64 } from "./bytes.js";
import { verifySignature } from "./sig.js";

const WALK_MAX = 240; // twenty years of monthly checkpoints, re-locks included

async function signatureProblems(cp, st, keys) {
  const key = typeof cp.keyId === "string" ? keys.find(cp.keyId) : null;
  if (!key) return [`keyId: ${keys.why(cp.keyId)}`];
  const sig = fromBase64(cp.signature);
  if (!sig || !st.bytes || !(await verifySignature(key.pub, st.bytes, sig))) {
    return [`signature: does not verify over the statement with key ${cp.keyId}`];
  }
  return [];
}

// { links: [{ checkpointId, period, listed, problems, st }] } newest first,
// each link's problems about itself and its tie to its predecessor.
export async function verifyChain(checkpoints, keys, fetchReceiptText) {
  const known = new Map();
  for (const cp of checkpoints) known.set(cp.checkpointId, { cp, listed: true });
  const links = [];
  let id = checkpoints[0]?.checkpointId ?? null;
  const seen = new Set();
  while (id !== null && links.length < WALK_MAX && !seen.has(id)) {
    seen.add(id);
    let node = known.get(id);
    if (!node) {
      node = await fetchNode(id, fetchReceiptText);
      known.set(id, node);
    }
    const link = { checkpointId: id, period: node.cp?.period ?? null, listed: node.listed, problems: [...(node.problems ?? [])], st: null };
    links.push(link);
    if (!node.cp) break;
    const { st, problems } = readCheckpointStatement(node.cp);
    link.st = st;
    link.period = st.period ?? link.period;
    link.problems.push(...problems);
    if (!st.usable) break;
    link.problems.push(...(await signatureProblems(node.cp, st, keys)));
    node.st = st;
    id = st.previousId;
  }
  // Each link against the one after it (its predecessor).
  for (let i = 0; i < links.length; i++) {
    const st = links[i].st, prev = links[i + 1]?.st;
    if (!st?.usable) continue;
    if (st.previousId === null) links[i].problems.push(...firstProblems(st));
    else if (prev?.usable) links[i].problems.push(...chainProblems(st, prev));
    else if (!links[i + 1]) links[i].problems.push(`predecessor ${st.previousId}: not reached`);
  }
  for (const cp of checkpoints) {
    if (!seen.has(cp.checkpointId)) {
      links.push({ checkpointId: cp.checkpointId, period: cp.period, listed: true, st: null, problems: ["not on the chain that leads back from the newest checkpoint"] });
    }
  }
  return { links, ok: links.every((l) => l.problems.length === 0) };
}

async function fetchNode(id, fetchReceiptText) {
  try {
    const p = await parseReceipt(await fetchReceiptText(id));
    if (p.why) return { cp: null, listed: false, problems: [`the receipt of ${id}: ${p.why}`] };
    const d = p.receipt.data;
    return { cp: { ...d.checkpoint, statement: d.statement, signature: d.signature, keyId: d.keyId, alg: d.alg }, listed: false };
  } catch (e) {
    return { cp: null, listed: false, problems: [`the receipt of ${id} could not be fetched: ${e.message}`] };
  }
}
