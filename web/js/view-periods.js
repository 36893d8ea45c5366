// Every period, newest first, with its state and totals, and the chain of
// checkpoints between them, each link checked by the browser.

import { h } from "./dom.js";
import { amount, time } from "./format.js";
import { periodName } from "./time.js";
import { formatDecimal } from "./decimal.js";
import { verifyChain } from "./chain.js";
import { trustNote } from "./view-trust.js";

function periodsTable(periods) {
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Periods" },
    h("table", { class: "periods" },
      h("caption", {}, "Periods"),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Period"), h("th", { scope: "col" }, "State"),
        h("th", { scope: "col", class: "num" }, "Records"), h("th", { scope: "col", class: "num" }, "Net"),
        h("th", { scope: "col" }, "Checkpoint"))),
      h("tbody", {}, periods.map((p) => h("tr", { "data-period": p.period },
        h("th", { scope: "row", "data-label": "Period" }, h("a", { href: `#period=${p.period}` }, periodName(p.period))),
        h("td", { "data-label": "State" }, p.state === "locked" ? "Locked" : "Open"),
        h("td", { class: "num", "data-label": "Records" }, String(p.recordCount)),
        h("td", { class: "num", "data-label": "Net" }, amount(p.netExact)),
        h("td", { "data-label": "Checkpoint" }, p.checkpoint ? [h("code", {}, p.checkpoint.checkpointId), " ", time(p.checkpoint.createdAt)] : "none yet"))))));
}

function chainList(chain) {
  return h("ol", { class: "chain" }, chain.links.map((l) => {
    const st = l.st;
    const ok = l.problems.length === 0;
    return h("li", { class: `link link-${ok ? "ok" : "fail"}`, "data-status": ok ? "ok" : "fail", "data-checkpoint": l.checkpointId },
      h("span", { class: "check-mark", "aria-hidden": "true" }),
      h("span", { class: "check-name" }, l.period ? periodName(l.period) : "?"), " ",
      h("code", {}, l.checkpointId), l.listed ? "" : " (replaced by a later checkpoint of its month)",
      st?.usable
        ? h("p", { class: "check-found" },
          `Starts at `, amount(formatDecimal(st.starting)), `, ends at `, amount(formatDecimal(st.ending)),
          st.version >= 2 ? `; records ${st.firstSeq}–${st.lastSeq}` : "",
          st.previousId ? ["; follows ", h("code", {}, st.previousId)] : "; the first checkpoint")
        : null,
      ok ? h("p", { class: "check-found" }, st?.previousId ? "Its signature holds, and it starts where its predecessor ended."
        : "Its signature holds, and it starts at 0, as the first checkpoint must.")
        : h("ul", { class: "problems" }, l.problems.map((p) => h("li", {}, p))));
  }));
}

export async function periodsView(ctx) {
  const periods = await ctx.store.periods();
  const keys = await ctx.store.keys();
  const checkpoints = periods.filter((p) => p.checkpoint).map((p) => p.checkpoint);
  const chain = checkpoints.length ? await verifyChain(checkpoints, keys, (id) => ctx.api.receiptText(id)) : null;
  return [
    h("section", { class: "periods-view", "aria-labelledby": "periods-title" },
      h("h2", { id: "periods-title" }, "All periods"),
      periodsTable(periods)),
    h("section", { class: "chain-view", "aria-labelledby": "chain-title" },
      h("h2", { id: "chain-title" }, "The chain of checkpoints"),
      h("p", {}, "Each locked period has a checkpoint: a signed statement of its records and totals. Each names the one before it, starts where that one ended, and the first starts at 0, so no record can fall between two periods."),
      chain
        ? [h("p", { class: `verdict verdict-${chain.ok ? "ok" : "fail"}`, "data-verdict": chain.ok ? "ok" : "fail" },
          !chain.ok ? "Some links of the chain do not hold; each is named below."
            : chain.links.length === 1 ? "The one checkpoint is signed and starts at 0, as the first must."
              : `All ${chain.links.length} checkpoints are signed and form one chain back to the first.`),
        chainList(chain)]
        : h("p", { class: "empty" }, "No period is locked yet."),
      trustNote(ctx)),
  ];
}
