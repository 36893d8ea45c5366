// A period's deltas as the server lists them (GET …/periods/{p}/deltas),
// checked in the browser: each leaf recomputed from its members and salt
// (contentHash, leafHash), each inclusion proof against the signed tree
// head the answer carries, the tree head's signature against the keys,
// the sequence and log order, and the exact sum.  The same parsing and
// the same words as a receipt's checks (receipt.js), since a delta here
// is what a receipt will hold.

import { bytesEqual, hashText } from "./bytes.js";
import { formatDecimal } from "./decimal.js";
import { verifyInclusion } from "./merkle.js";
import { readDelta } from "./receipt.js";
import { monthStart, parsePeriod, utcText } from "./time.js";

// { head, headWhy, rows: [{ delta, state, problems }], sum, count }:
// state "verified" (its proof leads to the signed head), "recorded"
// (durable, not yet in a signed head: the server says so, and the leaf
// still checks), or "failed" (a check names it).
export async function verifyPeriod(answer, keys, customerId) {
  const opened = typeof answer.treeHead === "string" ? await keys.openNote(answer.treeHead) : { why: "no tree head" };
  const head = opened.why ? null : opened.head;
  const month = parsePeriod(answer.period);
  const r = { problems: [], deltas: [] };
  const list = Array.isArray(answer.deltas) ? answer.deltas : [];
  const rows = [];
  let seq = null, index = null;
  for (const [i, o] of list.entries()) {
    const recorded = o?.state === "recorded";
    await readDelta(r, i, recorded ? { ...o, inclusionProof: [] } : o);
    const d = r.deltas[i];
    const problems = r.problems.filter((p) => p.delta === i).map((p) => p.text);
    const where = `deltas[${i}]${d.recordId ? ` (${d.recordId})` : ""}`;
    if (d.leafRe && d.contentHash && !bytesEqual(d.contentHash, d.contentRe)) {
      problems.push(`${where}: contentHash: the server says ${hashText(d.contentHash)}, the leaf hashes to ${hashText(d.contentRe)}`);
    }
    if (d.leafRe && d.leafHash && !bytesEqual(d.leafHash, d.leafRe)) {
      problems.push(`${where}: leafHash: the server says ${hashText(d.leafHash)}, the leaf hashes to ${hashText(d.leafRe)}`);
    }
    if (customerId && d.customerId !== undefined && d.customerId !== customerId) {
      problems.push(`${where}: leaf.customerId: ${d.customerId}, not ${customerId}`);
    }
    if (month !== null && d.createdMs !== undefined && (d.createdMs < monthStart(month) || d.createdMs >= monthStart(month + 1))) {
      problems.push(`${where}: leaf.createdAt: ${utcText(d.createdMs)} is not in ${answer.period}`);
    }
    if (d.seq !== undefined) {
      if (seq !== null && d.seq <= seq) problems.push(`${where}: leaf.sequenceNumber ${d.seq} does not increase (the one before is ${seq})`);
      seq = d.seq;
    }
    if (d.logIndex !== undefined) {
      if (index !== null && d.logIndex <= index) problems.push(`${where}: logIndex ${d.logIndex} does not increase (the one before is ${index})`);
      index = d.logIndex;
    }
    let state = recorded ? "recorded" : "verified";
    if (o?.state !== "recorded" && o?.state !== "verified") problems.push(`${where}: state: neither recorded nor verified`);
    if (!recorded) {
      if (!head) problems.push(`${where}: inclusion: not checked: the tree head does not verify`);
      else if (d.leafRe && d.logIndex !== undefined && d.proof) {
        if (!(await verifyInclusion(d.leafRe, d.logIndex, Number(head.size), d.proof, head.root))) {
          problems.push(`${where}: inclusion: logIndex ${d.logIndex}: the proof of ${d.proof.length} hashes does not lead to the signed tree head's root at size ${head.size}`);
        }
      }
    }
    if (problems.length > 0) state = "failed";
    rows.push({ delta: o, parsed: d, state, problems });
  }
  const amounts = r.deltas.map((d) => d.amount);
  const sum = amounts.every((a) => a !== undefined) ? formatDecimal(amounts.reduce((a, b) => a + b, 0n)) : null;
  return { head, headBy: opened.by ?? null, headWhy: opened.why ?? null, rows, sum, count: list.length };
}
