// JSON from untrusted bytes, with the source text of every number kept.
// JSON.parse turns 987654321.123456789 into the double 987654321.1234568;
// the record's amounts must never pass through that, so where a JSON
// number is an amount (a checkpoint's netChange) it is read from its
// source text instead (JSON.parse source text access, Chrome 114 and
// later).  An integer is told from a fraction the same way, as json-c
// does: "5.0" is not an integer sequence number.

const sources = new WeakMap(); // holder object or array -> Map(key -> text)

function remember(key, value, context) {
  if (typeof value === "number" && context && typeof context.source === "string") {
    let m = sources.get(this);
    if (!m) sources.set(this, (m = new Map()));
    m.set(String(key), context.source);
  }
  return value;
}

// The parsed value, or throws a SyntaxError naming the problem.
export const parseJson = (text) => JSON.parse(text, remember);

// The text a number member was written as; undefined when the browser
// does not say (an older one) or the member is no number.
export const numberSource = (holder, key) => sources.get(holder)?.get(String(key));

export const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

// An unsigned integer member as json-c reads one (field_uint): written
// with digits only, at most 2^53 so that it is exact.
export function readUint(holder, key) {
  const v = holder[key];
  if (typeof v !== "number") return { why: "must be an integer" };
  const src = numberSource(holder, key);
  if (src !== undefined ? !/^-?\d+$/.test(src) : !Number.isInteger(v)) return { why: "must be an integer" };
  if (v < 0 || Object.is(v, -0)) return { why: "negative" };
  if (v > 2 ** 53) return { why: "too large" };
  return { value: v };
}
