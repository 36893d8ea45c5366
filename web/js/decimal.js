// Exact decimal amounts, as common/decimal.c: a count of nano-units
// (10^-9) in a BigInt.  No amount of the record ever passes through a
// binary float here: 987654321.123456789 parses, sums and prints as
// itself.

const SCALE = 1000000000n;
const SIG_DIGITS_MAX = 36;

// JSON number text ("12", "-0.5", "1e3") -> { value } or { why }.  The
// value decides, not the spelling; see shortest() for the one spelling.
export function parseDecimal(text) {
  const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(typeof text === "string" ? text : "");
  if (!m || (m[2] === "" && (m[3] === undefined || m[3] === ""))) return { why: "not a decimal number" };
  let digits = (m[2] + (m[3] ?? "")).replace(/^0+/, "");
  let exp = -(m[3] ?? "").length + (m[4] ? Number(m[4]) : 0) + 9;
  if (digits === "") return { value: 0n };
  const trimmed = digits.replace(/0+$/, "");
  exp += digits.length - trimmed.length;
  digits = trimmed;
  if (exp < 0) return { why: "more than 9 decimals" };
  if (digits.length + exp > SIG_DIGITS_MAX) return { why: "out of range" };
  const v = BigInt(digits) * 10n ** BigInt(exp);
  return { value: m[1] === "-" ? -v : v };
}

// The shortest exact form: "-12.5", "1000", "0.000000001", "0".
export function formatDecimal(v) {
  const neg = v < 0n;
  const u = neg ? -v : v;
  const whole = (u / SCALE).toString();
  const frac = (u % SCALE).toString().padStart(9, "0").replace(/0+$/, "");
  return (neg ? "-" : "") + whole + (frac ? "." + frac : "");
}

// An amount the format writes as a string: valid and in shortest form
// (field_amount), -> { value } or { why }.
export function readAmount(text) {
  if (typeof text !== "string" || text === "") return { why: "must be a non-empty string" };
  const r = parseDecimal(text);
  if (r.why) return r;
  const canon = formatDecimal(r.value);
  return canon === text ? r : { why: `not in shortest form (${canon})` };
}

