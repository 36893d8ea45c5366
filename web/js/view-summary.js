// The first thing the link shows: this month's total, how many records,
// how many a signed tree head covers, and "verified through".  With the
// access code (or an open link) the month's records follow.

import { h } from "./dom.js";
import { amount, time } from "./format.js";
import { periodName } from "./time.js";
import { periodSection } from "./view-period.js";
import { codeForm } from "./view-code.js";

const fact = (term, ...value) => [h("dt", {}, term), h("dd", {}, ...value)];

export function summaryCard(s) {
  return h("section", { class: "summary", "aria-labelledby": "summary-title" },
    h("h2", { id: "summary-title" }, periodName(s.period), " so far"),
    h("p", { class: "total" }, h("span", { class: "total-label" }, "Total recorded "), amount(s.periodTotalExact)),
    h("dl", { class: "figures" },
      fact("Records", String(s.recordCount)),
      fact("In a signed tree head", `${s.verifiedCount} of ${s.recordCount}`),
      fact("Verified through", s.verifiedThrough ? time(s.verifiedThrough) : (s.recordCount ? "not all records are in a signed tree head yet" : "no records yet")),
      fact("Last recorded", s.lastRecordedAt ? time(s.lastRecordedAt) : "—"),
      fact("As of", time(s.asOf))));
}

export async function summaryView(ctx) {
  const s = ctx.summary;
  const out = [summaryCard(s)];
  if (s.access === "full") out.push(await periodSection(ctx, s.period, { current: true }));
  else out.push(codeForm(ctx, "The link alone shows this summary. Enter the access code printed on your invoice to see every record, download them, and have your browser check them.", ctx.codeMessage));
  return out;
}
