// One period: its records with each one's own check, the totals (summed
// exactly by the browser), the tree head they are proven against, and
// for a locked period its checkpoint with every check of its receipt.
// This section is also the printed statement (css: @media print).

import { h, download, announce, replaceChildren } from "./dom.js";
import { amount, time } from "./format.js";
import { periodName } from "./time.js";
import { hashText } from "./bytes.js";
import { formatDecimal } from "./decimal.js";
import { verifyPeriod } from "./record.js";
import { parseReceipt, verifyReceipt, deltaResults } from "./receipt.js";
import { deltasTable } from "./view-deltas.js";
import { checksList, checksVerdict } from "./view-checks.js";
import { trustNote } from "./view-trust.js";

const fact = (term, ...value) => [h("dt", {}, term), h("dd", {}, ...value)];

function counts(rows) {
  const c = { verified: 0, recorded: 0, failed: 0 };
  for (const r of rows) c[r.state] = (c[r.state] ?? 0) + 1;
  return c;
}

function verdict(result) {
  const c = counts(result.rows);
  const parts = [`${c.verified} of ${result.count} verified by your browser`];
  if (c.recorded) parts.push(`${c.recorded} recorded, not yet in a signed tree head`);
  if (c.failed) parts.push(`${c.failed} failed a check`);
  return parts.join("; ") + ".";
}

// The receipt's records that a check names, by sequence number.
function failedRecords(r, rep) {
  const failed = deltaResults(r, rep).flatMap((d, i) => (d.state === "failed" ? [r.deltas[i].seq ?? `#${i + 1}`] : []));
  return failed.length ? h("p", { class: "notice" }, `Records of the receipt that failed a check (sequence numbers): ${failed.join(", ")}.`) : null;
}

// The receipt a checkpoint names as its predecessor, parsed, so that the
// chain check is made here too (as tally-verify --previous does); null
// for a first checkpoint, or when it cannot be had (then the check says
// it was skipped, and why).
async function predecessor(ctx, r) {
  if (!r.st.previousId) return null;
  try {
    const parsed = await parseReceipt(await ctx.api.receiptText(r.st.previousId));
    return parsed.why ? null : parsed.receipt;
  } catch (e) {
    return null;
  }
}

async function receiptSection(ctx, checkpoint) {
  const box = h("section", { class: "checkpoint", "aria-labelledby": "cp-title" },
    h("h3", { id: "cp-title" }, "Checkpoint"), h("p", { class: "loading" }, "Checking the receipt…"));
  const fill = async () => {
    const text = await ctx.api.receiptText(checkpoint.checkpointId);
    const parsed = await parseReceipt(text);
    if (parsed.why) return [h("p", { class: "notice" }, `The receipt could not be read: ${parsed.why}`)];
    const r = parsed.receipt;
    const keys = await ctx.store.keys();
    await keys.addList(r.data.keys ?? [], "the receipt", false).catch(() => null);
    const rep = await verifyReceipt(r, keys, await predecessor(ctx, r));
    const st = r.st;
    const fmt = (v) => (typeof v === "bigint" ? amount(formatDecimal(v)) : "—");
    return [
      h("dl", { class: "figures statement" },
        fact("Checkpoint", h("code", {}, checkpoint.checkpointId)),
        fact("Locked", time(st.createdMs ?? checkpoint.createdAt)),
        fact("Records covered", `${st.deltasCount ?? "?"}`, st.version >= 2 ? ` (sequence ${st.firstSeq}–${st.lastSeq})` : ""),
        fact("Starting balance", fmt(st.starting)),
        fact("Net change", fmt(st.net)),
        fact("Ending balance", fmt(st.ending)),
        fact("Proof root", h("code", { class: "hash" }, st.proofRoot ? hashText(st.proofRoot) : "—"))),
      h("p", { class: `verdict verdict-${rep.ok ? "ok" : "fail"}`, "data-verdict": rep.ok ? "ok" : "fail" }, "Receipt: ", checksVerdict(rep)),
      h("details", { class: "receipt-checks", open: !rep.ok }, h("summary", {}, "Every check of the receipt"), checksList(rep)),
      h("p", { class: "actions" }, h("button", {
        type: "button", class: "button",
        onclick: () => download(new Blob([text], { type: "application/json" }), `${st.customerId ?? "receipt"}-${st.period ?? ""}-${checkpoint.checkpointId}.json`),
      }, "Download the receipt")),
      failedRecords(r, rep),
    ];
  };
  fill().then((nodes) => replaceChildren(box, box.firstChild, nodes), (e) => box.replaceChildren(box.firstChild, h("p", { class: "notice" }, `The receipt could not be fetched: ${e.message}`)));
  return box;
}

export async function periodSection(ctx, period, { current = false } = {}) {
  const [answer, periods] = await Promise.all([ctx.store.period(period), ctx.store.periods().catch(() => [])]);
  const keys = await ctx.store.keys();
  const result = await verifyPeriod(answer, keys, ctx.summary?.customerId);
  const info = periods.find((p) => p.period === period) ?? { state: current ? "open" : "unknown" };
  const rows = result.rows.map((r) => ({ leaf: r.delta?.leaf, recordId: r.delta?.recordId, state: r.state, problems: r.problems }));
  const c = counts(result.rows);
  const serverNet = info.netExact ?? (current ? ctx.summary?.periodTotalExact : undefined);
  const name = periodName(period);
  ctx.onRecorded?.(c.recorded > 0);
  announce(`${name}: ${verdict(result)}`);
  const byKey = result.headBy ? keys.find(result.headBy.id) : null;

  return h("section", { class: "period", "data-period": period, "aria-labelledby": `p-${period}` },
    h("header", { class: "period-head" },
      h("h2", { id: `p-${period}` }, name, current ? " (this month)" : ""),
      h("p", { class: `period-state state-${info.state}` }, info.state === "locked"
        ? ["Locked by a checkpoint, ", time(info.checkpoint?.createdAt)]
        : "Open: records may still be added.")),
    h("dl", { class: "figures" },
      fact("Customer", h("code", {}, ctx.summary?.customerId ?? "")),
      fact("Records", String(result.count)),
      fact("Total of the records", amount(result.sum), h("span", { class: "note" }, " summed exactly by your browser")),
      serverNet !== undefined
        ? fact("Total stated by the server", amount(serverNet), h("span", { class: "note" },
          result.sum === serverNet ? " the same" : " not the same as your browser's sum"))
        : null),
    h("p", { class: "print-only" }, "Printed ", time(Date.now()), " from ", `${location.origin}${location.pathname}`,
      ". The checks above were made by the browser that printed this page."),
    h("p", { class: "actions no-print" },
      h("button", { type: "button", class: "button", onclick: async (ev) => {
        ev.target.disabled = true;
        try {
          const { blob, name: file } = await ctx.api.csv(period);
          download(blob, file);
        } catch (e) {
          announce(e.message);
        } finally {
          ev.target.disabled = false;
        }
      } }, "Download CSV"),
      h("button", { type: "button", class: "button", onclick: () => window.print() }, "Print or save as PDF")),
    h("p", { class: `verdict verdict-${c.failed || result.headWhy ? "fail" : c.recorded ? "wait" : "ok"}`, "data-verdict": c.failed || result.headWhy ? "fail" : "ok" }, verdict(result)),
    deltasTable(rows, `Records of ${name}`),
    h("section", { class: "verification", "aria-label": "How your browser checked these records" },
      h("h3", {}, "How your browser checked them"),
      h("ul", {},
        h("li", {}, "Each record's hashes were recomputed from its content and salt (SHA-256 of its canonical JSON)."),
        result.head
          ? h("li", {}, `Each verified record's inclusion proof leads to the root of the log's signed tree head of size ${result.head.size}, signed by key `,
            h("code", {}, result.headBy.id), byKey ? ` (${keys.how(byKey)}).` : ".")
          : h("li", { class: "problem" }, "The tree head does not verify: ", result.headWhy ?? "none was given", "."),
        h("li", {}, "Amounts were added as exact decimals, never rounded.")),
      trustNote(ctx)),
    info.state === "locked" && info.checkpoint ? await receiptSection(ctx, info.checkpoint) : null);
}
