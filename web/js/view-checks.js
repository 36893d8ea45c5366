// A receipt's checks as a list a person can read: each check's name, what
// it proves (docs/verify.md's table), and what it found, or every problem.

import { h } from "./dom.js";

const CHECKS = {
  statement: ["Statement", "the statement is complete and canonical, and the receipt's summary agrees with it"],
  signature: ["Signature", "the log's key signed exactly this statement"],
  treeHead: ["Tree head", "the log head named by the statement is signed, with that size and root"],
  deltas: ["Records", "each record is this customer's, before the period's end, in log order, none missing; its hashes are recomputed from its content and salt"],
  proofRoot: ["Proof root", "the Merkle root over the period's records is the signed one: none added, dropped or reordered"],
  deltasCount: ["Count", "the number of records is the signed one"],
  netChange: ["Net change", "the records sum exactly to the signed net change"],
  endingBalance: ["Ending balance", "ending balance = starting balance + net change, exactly"],
  inclusion: ["Inclusion proofs", "every record is in the signed log at its position"],
  chain: ["Chain", "this checkpoint starts where its predecessor ended, or at 0 if it is the first"],
};

const WORD = { ok: "holds", fail: "failed", skip: "not run" };

export function checksList(report) {
  return h("ol", { class: "checks" }, report.checks.map((c) => {
    const [title, proves] = CHECKS[c.name] ?? [c.name, ""];
    return h("li", { class: `check check-${c.status}`, "data-check": c.name, "data-status": c.status },
      h("span", { class: "check-mark", "aria-hidden": "true" }),
      h("span", { class: "check-name" }, title), " ",
      h("span", { class: "check-word" }, WORD[c.status]),
      h("p", { class: "check-proves" }, proves),
      c.status === "fail"
        ? h("ul", { class: "problems" }, c.problems.map((p) => h("li", {}, p.text)))
        : h("p", { class: "check-found" }, c.summary));
  }));
}

// "10 checks, all hold" / "3 of 10 checks failed": the verdict on the
// record's consistency, never on the amounts.
export function checksVerdict(report) {
  const failed = report.count("fail"), skipped = report.count("skip"), total = report.checks.length;
  if (failed === 0) return `All ${total - skipped} checks hold${skipped ? ` (${skipped} not run)` : ""}.`;
  return `${failed} of ${total} checks failed${skipped ? `, ${skipped} not run` : ""}.`;
}
