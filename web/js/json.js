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

const DEPTH_MAX = 32; // JSONIN_DEPTH
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

// What JSON.parse lets through and common/jsonin.c refuses: a duplicate
// key (JSON.parse keeps the last, so two readers could see two
// documents), a lone surrogate, a NUL in a key, nesting past 32.  Runs
// on text JSON.parse has accepted, so the grammar is known good.
function strictProblem(text) {
  const stack = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      const s = JSON.parse(text.slice(i, j + 1));
      if (LONE_SURROGATE.test(s)) return "a lone surrogate in a string";
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        if (s.includes("\u0000")) return "NUL in object key";
        if (top.keys.has(s)) return "duplicate key in object: " + s;
        top.keys.add(s);
        top.expectKey = false;
      }
      i = j;
    } else if (c === "{" || c === "[") {
      stack.push({ keys: c === "{" ? new Set() : null, expectKey: c === "{" });
      if (stack.length > DEPTH_MAX) return `nested deeper than ${DEPTH_MAX}`;
    } else if (c === "}" || c === "]") stack.pop();
    else if (c === ",") {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
    }
  }
  return null;
}

// The parsed value, or throws a SyntaxError naming the problem.
export function parseJson(text) {
  const value = JSON.parse(text, remember);
  const problem = strictProblem(text);
  if (problem) throw new SyntaxError(problem);
  return value;
}

// Bytes as UTF-8 text, refusing what is not UTF-8 (rather than putting
// U+FFFD in, which would make other bytes read the same).
export const decodeUtf8 = (bytes) => new TextDecoder("utf-8", { fatal: true }).decode(bytes);

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
