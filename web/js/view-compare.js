// "Your figure" against the record: the difference, stated as a fact.
// The figure is read as an exact decimal and sent as a string.

import { h, announce } from "./dom.js";
import { amount } from "./format.js";
import { parseDecimal, formatDecimal } from "./decimal.js";
import { periodName } from "./time.js";

function answer(d) {
  const diff = parseDecimal(String(d.difference)).value ?? 0n;
  const abs = formatDecimal(diff < 0n ? -diff : diff);
  const sentence = diff === 0n ? "Your figure and the recorded total are the same."
    : `Your figure is ${abs} ${diff > 0n ? "more" : "less"} than the recorded total.`;
  return h("div", { class: "compare-result", "data-matches": d.matches ? "true" : "false" },
    h("p", { class: "verdict" }, sentence),
    h("dl", { class: "figures" },
      h("dt", {}, "Period"), h("dd", {}, periodName(d.period)),
      h("dt", {}, "Your figure"), h("dd", {}, amount(String(d.yourTotal))),
      h("dt", {}, "Recorded total"), h("dd", {}, amount(String(d.recordedTotal))),
      h("dt", {}, "Difference (yours − recorded)"), h("dd", {}, amount(String(d.difference))),
      h("dt", {}, "Records"), h("dd", {}, `${d.recordCount} (${d.verifiedCount} in a signed tree head)`)));
}

export async function compareView(ctx) {
  const periods = await ctx.store.periods().catch(() => []);
  const select = h("select", { id: "compare-period", name: "period" },
    (periods.length ? periods : [{ period: ctx.summary.period }]).map((p) => h("option", { value: p.period }, periodName(p.period))));
  const input = h("input", { id: "compare-total", name: "yourTotal", type: "text", inputmode: "decimal", autocomplete: "off", required: true, "aria-describedby": "compare-error" });
  const error = h("p", { id: "compare-error", class: "form-error", role: "alert" });
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "compare-form", novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    const text = input.value.trim().replace(/\s/g, "");
    const parsed = parseDecimal(text);
    if (parsed.why) {
      error.textContent = `Enter a number such as 2812.5 (with a point, up to 9 decimals): ${parsed.why}.`;
      input.focus();
      return;
    }
    try {
      const { data } = await ctx.api.compare(select.value, formatDecimal(parsed.value));
      out.replaceChildren(answer(data));
      announce(out.textContent);
    } catch (e) {
      error.textContent = e.message;
    }
  } },
  h("div", { class: "field" }, h("label", { for: "compare-period" }, "Period"), select),
  h("div", { class: "field" }, h("label", { for: "compare-total" }, "Your figure for the period's total"), input),
  error,
  h("button", { type: "submit", class: "button" }, "Compare"));
  return h("section", { class: "compare", "aria-labelledby": "compare-title" },
    h("h2", { id: "compare-title" }, "Compare with your own figure"),
    h("p", {}, "Enter the total you have for a period, for example from your own usage logs. The page states the difference; it does not say which figure is right."),
    form, out);
}
