// A verification's results, one entry per check as tally-verify prints
// them (verify/report.c): "ok" with what it found, "fail" with every
// problem (each naming where, and the delta it is about when it is about
// one), or "skip" when an earlier failure took its inputs.

export class Report {
  constructor() {
    this.checks = [];
    this.current = null;
  }

  begin(name) {
    this.current = { name, status: "open", summary: "", problems: [] };
    this.checks.push(this.current);
  }

  // A problem of the current check; delta: the index it is about, if any.
  fail(text, delta = null) {
    this.current.problems.push({ text, delta });
  }

  // Closes the check: ok with summary, unless a problem was found.
  end(summary) {
    const c = this.current;
    if (!c || c.status !== "open") return;
    c.status = c.problems.length > 0 ? "fail" : "ok";
    if (c.status === "ok") c.summary = summary;
  }

  // Closes the check as failed; never an ok by mistake.
  failed() {
    if (this.current?.status === "open" && this.current.problems.length === 0) this.fail("not checked");
    this.end("");
  }

  // Closes the check as not run, unless it already has problems.
  cancel(summary) {
    const c = this.current;
    if (!c || c.status !== "open") return;
    if (c.problems.length > 0) return this.failed();
    c.status = "skip";
    c.summary = summary;
  }

  skip(name, summary) {
    this.checks.push({ name, status: "skip", summary, problems: [] });
  }

  count(status) {
    return this.checks.filter((c) => c.status === status).length;
  }

  get ok() {
    return this.count("fail") === 0;
  }
}
