// Checking saved receipt files, in the browser alone: nothing is sent
// anywhere, and it works with the network off once the page is loaded.
// Files may be receipts (one or more: each is checked with the one it
// names as its predecessor, when that one is given too) and a keys file
// saved from GET /api/v1/keys, whose oldest key is then the trust root,
// as with tally-verify --keys.

import { h, announce } from "./dom.js";
import { Keyring } from "./keys.js";
import { decodeUtf8, parseJson } from "./json.js";
import { envelopeData, parseReceipt, verifyReceipt, deltaResults } from "./receipt.js";
import { deltasTable } from "./view-deltas.js";
import { checksList, checksVerdict } from "./view-checks.js";
import { periodName } from "./time.js";

const RECEIPT_MAX = 256 * 1024 * 1024;

// Sorts the files into receipts and keys lists by what they hold.
async function readFiles(files) {
  const receipts = [], keyFiles = [], unread = [];
  for (const f of files) {
    if (f.size > RECEIPT_MAX) {
      unread.push(`${f.name}: larger than 256 MiB`);
      continue;
    }
    let text, data = null;
    try {
      text = decodeUtf8(await f.arrayBuffer());
      data = envelopeData(parseJson(text)).value ?? null;
    } catch (e) {
      unread.push(`${f.name}: not UTF-8 JSON (${e.message})`);
      continue;
    }
    if (data && Object.hasOwn(data, "statement")) {
      const p = await parseReceipt(text);
      if (p.why) unread.push(`${f.name}: ${p.why}`);
      else receipts.push({ name: f.name, r: p.receipt });
    } else if (data && Array.isArray(data.keys)) keyFiles.push({ name: f.name, keys: data.keys });
    else unread.push(`${f.name}: neither a receipt nor a keys file`);
  }
  return { receipts, keyFiles, unread };
}

// The keyring and a sentence on where its root came from.
async function trustFor(ctx, keyFiles, receipts) {
  const ring = new Keyring();
  const notes = [];
  for (const k of keyFiles) {
    const why = await ring.addList(k.keys, k.name, true);
    if (why) notes.push(`${k.name}: not used: ${why}`);
  }
  let root = keyFiles.length ? `the oldest key of ${keyFiles[0].name}, the keys file you gave` : null;
  if (!ring.anchored && ctx.store) {
    // The server's keys, if it can be reached (offline, this fails quietly).
    await ctx.store.keys().catch(() => null);
    for (const list of ctx.store.servedLists) await ring.addList(list, "the keys this server served", true);
    if (ring.anchored) root = "the oldest of the keys this server served";
  }
  for (const { name, r } of receipts) {
    if (!Array.isArray(r.data.keys)) continue;
    const why = await ring.addList(r.data.keys, name, !ring.anchored);
    if (why) notes.push(`${name}'s keys: not used: ${why}`);
    else if (!root && ring.anchored) root = `the oldest key listed in ${name} itself: compare its ID with the one your vendor gave you`;
  }
  const genesis = ring.keys.find((e) => e.trust === "genesis");
  return { ring, notes, root: genesis ? `Trust root: key ${genesis.keyId}, ${root}.` : "No keys: give the keys file you saved (GET /api/v1/keys) with the receipt." };
}

function receiptResult(name, r, rep) {
  const st = r.st;
  const results = deltaResults(r, rep);
  const rows = r.deltas.map((d, i) => ({ leaf: d.leafText, recordId: d.recordId, state: results[i].state, problems: results[i].problems, carriedIn: d.carriedIn }));
  const failedSeqs = results.flatMap((d, i) => (d.state === "failed" ? [r.deltas[i].seq ?? `#${i + 1}`] : []));
  return h("article", { class: "file-result", "data-file": name, "data-verdict": rep.ok ? "ok" : "fail" },
    h("h3", {}, name),
    h("p", {}, st.usable ? [`${st.customerId}, ${periodName(st.period)}, checkpoint `, h("code", {}, st.checkpointId)] : "The statement could not be read."),
    h("p", { class: `verdict verdict-${rep.ok ? "ok" : "fail"}` }, checksVerdict(rep),
      failedSeqs.length ? ` Records that failed (sequence numbers): ${failedSeqs.join(", ")}.` : ""),
    checksList(rep),
    deltasTable(rows, `Records of ${name}`));
}

export function checkView(ctx) {
  const results = h("div", { class: "file-results", "aria-live": "polite" });
  const run = async (files) => {
    results.replaceChildren(h("p", { class: "loading" }, "Checking…"));
    const { receipts, keyFiles, unread } = await readFiles([...files]);
    const trust = await trustFor(ctx, keyFiles, receipts);
    receipts.sort((a, b) => (a.r.st.createdMs ?? 0) - (b.r.st.createdMs ?? 0));
    const out = [h("p", { class: "trust" }, trust.root), ...trust.notes.map((n) => h("p", { class: "notice" }, n)),
      ...unread.map((u) => h("p", { class: "notice" }, u))];
    for (const { name, r } of receipts) {
      const prev = receipts.find((p) => p.r !== r && p.r.st.checkpointId && p.r.st.checkpointId === r.st.previousId)?.r ?? null;
      out.push(receiptResult(name, r, await verifyReceipt(r, trust.ring, prev)));
    }
    if (receipts.length === 0 && unread.length === 0) out.push(h("p", {}, "No receipt among the files."));
    results.replaceChildren(...out);
    results.dataset.done = "true";
    announce(receipts.map((x) => x.name).join(", ") + " checked.");
  };
  const input = h("input", { id: "receipt-files", type: "file", multiple: true, accept: ".json,application/json",
    onchange: () => input.files.length && run(input.files) });
  const zone = h("div", { class: "dropzone", ondragover: (ev) => { ev.preventDefault(); zone.classList.add("over"); },
    ondragleave: () => zone.classList.remove("over"),
    ondrop: (ev) => { ev.preventDefault(); zone.classList.remove("over"); run(ev.dataTransfer.files); } },
  h("p", {}, "Drop receipt files here, with the keys file you saved, or choose them:"),
  h("label", { for: "receipt-files" }, "Receipt and keys files"), input);
  return h("section", { class: "check-files", "aria-labelledby": "check-title" },
    h("h2", { id: "check-title" }, "Check a receipt file"),
    h("p", {}, "A receipt is the file of a locked period (\"Download the receipt\"). Your browser checks it the way tally-verify does: the signature, the tree head, every record's hashes and proof, the totals, and, given the receipt before it, the chain. The files stay on your device; this works with the network off."),
    zone, results);
}
