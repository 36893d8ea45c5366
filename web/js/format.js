// How the record's values read on the page: amounts exactly as written
// (the strings of the record, never a float, never rounded), times in
// the viewer's time zone or in UTC at the viewer's choice, and each
// delta's verification state in words.

import { h } from "./dom.js";
import { localText, parseTime, utcText } from "./time.js";

const UTC_KEY = "tally.showUtc";
export const zoneName = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "local time";

export const showUtc = () => localStorage.getItem(UTC_KEY) === "1";
export const setShowUtc = (on) => localStorage.setItem(UTC_KEY, on ? "1" : "0");

// An exact decimal string as an element; negatives keep the ASCII minus
// so that what is copied is what the record says.
export const amount = (text) => h("span", { class: "amount", "data-amount": text }, text ?? "—");

// A time (RFC 3339 text or ms) as <time>, with the other clock in its title.
export function time(value) {
  const ms = typeof value === "number" ? value : parseTime(value);
  if (ms === null || ms === undefined) return h("span", { class: "time" }, value ?? "—");
  const utc = utcText(ms);
  const local = localText(ms);
  return h("time", { datetime: utc, title: showUtc() ? local : `UTC ${utc}` }, showUtc() ? utc.replace("T", " ").replace(".000Z", "Z") : local);
}

const STATE_WORDS = {
  verified: ["Verified", "in a signed tree head; checked by your browser"],
  recorded: ["Recorded", "durable, not yet in a signed tree head"],
  recording: ["Recording", "sent, not yet confirmed"],
  failed: ["Check failed", ""],
  unverified: ["Not verified", ""],
  pending: ["Checking", ""],
};

export function stateBadge(state, detail) {
  const [word, hint] = STATE_WORDS[state] ?? [state, ""];
  return h("span", { class: `state state-${state}` }, h("span", { class: "state-mark", "aria-hidden": "true" }), word,
    detail ?? hint ? h("span", { class: "visually-hidden" }, `: ${detail ?? hint}`) : null);
}
