// Typed reads of untrusted JSON members, as verify/field.c: each returns
// { value } or { why }, never a coerced value.

import { fromBase64, parseHash, utf8 } from "./bytes.js";
import { parseDecimal, readAmount } from "./decimal.js";
import { isObject, numberSource, readUint } from "./json.js";
import { parseTime } from "./time.js";

export const ID_MAX = 128; // VERIFY_ID_MAX: any id, a tenant, an alg

export function member(obj, name) {
  return isObject(obj) && Object.hasOwn(obj, name) ? { value: obj[name] } : { why: "missing" };
}

// A string of at most max UTF-8 bytes; nullable and nonEmpty as named.
export function readString(v, max, { nullable = false, nonEmpty = false } = {}) {
  if (nullable && v === null) return { value: null };
  if (typeof v !== "string") return { why: `must be a string${nullable ? " or null" : ""}` };
  const len = utf8(v).length;
  if (len > max) return { why: `longer than ${max} bytes` };
  if (nonEmpty && len === 0) return { why: "empty" };
  if (v.includes("\u0000")) return { why: "holds a NUL character" };
  return { value: v };
}

export function readHash(v) {
  const h = parseHash(v);
  return h ? { value: h } : { why: typeof v === "string" ? "not 0x and 64 lowercase hex digits" : "must be a string" };
}

export function readTime(v) {
  const ms = parseTime(v);
  return ms === null ? { why: typeof v === "string" ? "not an RFC 3339 UTC time with milliseconds" : "must be a string" } : { value: ms };
}

export function readBase64(v, max) {
  if (typeof v !== "string") return { why: "must be a string" };
  const b = fromBase64(v);
  return b && b.length <= max ? { value: b } : { why: `not canonical base64 of at most ${max} bytes` };
}

export { readAmount, readUint };

// An amount given as a JSON number or a string (field_amount_any): a
// number is read from its source text, never from the double.
export function readAmountAny(holder, key) {
  const v = holder[key];
  if (typeof v === "string") return readAmount(v);
  if (typeof v !== "number") return { why: "must be a number or a string" };
  const src = numberSource(holder, key);
  if (src === undefined) return { unknown: true }; // this browser does not say
  return parseDecimal(src);
}
