// RFC 8785 (JCS): the one byte form of the leaf, the statement and the
// key endorsement that Tally hashes and signs.  It matches
// common/jcs.c byte for byte on tests/vectors: members sorted by UTF-16
// code units (JavaScript's own string order), strings escaped minimally
// (JSON.stringify does exactly RFC 8785's escaping), numbers as
// ECMAScript writes doubles (which is what RFC 8785 defines, and what
// jcs_number computes in C).

export function canonicalize(value) {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "string":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new Error("a number JSON cannot carry");
      return Object.is(value, -0) ? "0" : String(value);
    case "object":
      if (Array.isArray(value)) return "[" + value.map(canonicalize).join(",") + "]";
      return (
        "{" +
        Object.keys(value)
          .sort()
          .map((k) => JSON.stringify(k) + ":" + canonicalize(value[k]))
          .join(",") +
        "}"
      );
    default:
      throw new Error("not a JSON value");
  }
}

export const canonicalBytes = (value) => new TextEncoder().encode(canonicalize(value));
