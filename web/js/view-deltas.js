// The table of a period's records: date, amount, reason, reference,
// sequence number and each record's own verification state, with its
// problems named beneath it when a check failed.

import { h } from "./dom.js";
import { amount, stateBadge, time } from "./format.js";

// rows: [{ leaf, recordId, state, problems, carriedIn }]
export function deltasTable(rows, caption) {
  if (rows.length === 0) return h("p", { class: "empty" }, "No records in this period.");
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
    h("table", { class: "deltas" },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Recorded"),
        h("th", { scope: "col", class: "num" }, "Amount"),
        h("th", { scope: "col" }, "Reason"),
        h("th", { scope: "col" }, "Reference"),
        h("th", { scope: "col", class: "num" }, "Seq."),
        h("th", { scope: "col" }, "Check"))),
      h("tbody", {}, rows.map((r) => [h("tr", { class: `row-${r.state}`, "data-state": r.state, "data-record": r.recordId ?? "" },
        h("td", { "data-label": "Recorded" }, time(r.leaf?.createdAt), r.carriedIn ? h("span", { class: "note" }, " carried in") : null),
        h("td", { class: "num", "data-label": "Amount" }, amount(typeof r.leaf?.delta === "string" ? r.leaf.delta : null)),
        h("td", { "data-label": "Reason" }, String(r.leaf?.reason ?? "")),
        h("td", { "data-label": "Reference", class: "ref" }, r.leaf?.referenceId ?? h("span", { class: "none" }, "none")),
        h("td", { class: "num", "data-label": "Seq." }, String(r.leaf?.sequenceNumber ?? "")),
        h("td", { "data-label": "Check" }, stateBadge(r.state, r.problems?.[0]))),
      // What failed, on a row of its own so the table keeps its columns.
      r.problems?.length
        ? h("tr", { class: `problem-row row-${r.state}` }, h("td", { colspan: "6" },
          h("ul", { class: "problems", "aria-label": `What failed for sequence ${r.leaf?.sequenceNumber ?? "?"}` },
            r.problems.map((p) => h("li", {}, p)))))
        : null]))));
}
