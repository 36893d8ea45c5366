// Times and periods as the record writes them (SPEC 1): RFC 3339 UTC
// with milliseconds, "2026-02-01T00:00:00.000Z", one spelling per
// instant; periods are UTC months "YYYY-MM".  Display is in the viewer's
// time zone, with UTC beside it, because a person reads their own clock
// and an auditor reads the record's.

// Milliseconds since the epoch, or null when text is not exactly the
// canonical form (timefmt_parse_date + timefmt_rfc3339 in C).
export function parseTime(text) {
  if (typeof text !== "string" || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(text)) return null;
  const ms = Date.parse(text);
  if (Number.isNaN(ms) || new Date(ms).toISOString() !== text) return null;
  return ms;
}

// Month number (year * 12 + month - 1), or null: "2026-02" strictly.
export function parsePeriod(text) {
  const m = /^(\d{4})-(\d{2})$/.exec(typeof text === "string" ? text : "");
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) return null;
  return Number(m[1]) * 12 + Number(m[2]) - 1;
}

export const monthStart = (month) => Date.UTC(Math.floor(month / 12), month % 12, 1);

export const utcText = (ms) => new Date(ms).toISOString();

const localFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "numeric",
  hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short",
});
const monthFormat = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "long", timeZone: "UTC" });

// "5 Dec 2026, 11:42:17 CET": the viewer's clock.
export const localText = (ms) => localFormat.format(new Date(ms));

// "December 2026" for "2026-12" (a UTC month, named in the viewer's language).
export function periodName(period) {
  const month = parsePeriod(period);
  return month === null ? String(period) : monthFormat.format(new Date(monthStart(month)));
}
