// The Shared Record page: served for every /c/{handle} path; reads the
// handle from the path and the access code from the fragment, then shows
// one view at a time by the fragment (#periods, #period=2026-11,
// #compare, #check; none: this month).

import { Api, ApiError, handleFromPath } from "./api.js";
import { RecordStore } from "./record-store.js";
import { h, announce } from "./dom.js";
import { setShowUtc, showUtc, zoneName } from "./format.js";
import { parsePeriod } from "./time.js";
import { summaryView } from "./view-summary.js";
import { periodSection } from "./view-period.js";
import { periodsView } from "./view-periods.js";
import { compareView } from "./view-compare.js";
import { checkView } from "./view-check.js";
import { codeForm } from "./view-code.js";

// While records await a signed tree head, look again soon, then less
// often: tallyd signs a head every sth_interval_ms (at most 250 ms), so
// the first look finds them verified unless the log is stalled, and a
// stalled log is not asked every two seconds for as long as the tab is open.
const REFRESH_MS = [2000, 5000, 10000, 20000];
let refreshes = 0;
const main = document.getElementById("main");
const handle = handleFromPath(location.pathname);
const api = handle ? new Api(handle) : null;
const ctx = { api, store: api ? new RecordStore(api) : null, summary: null, tryCode, onRecorded };
let refreshTimer = null;

function route() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  if (params.has("period") && parsePeriod(params.get("period")) !== null) return { view: "period", period: params.get("period") };
  for (const v of ["periods", "compare", "check"]) if (params.has(v)) return { view: v };
  return { view: "summary" };
}

const VIEWS = {
  summary: (c) => summaryView(c),
  period: (c, r) => periodSection(c, r.period),
  periods: (c) => periodsView(c),
  compare: (c) => compareView(c),
  check: (c) => checkView(c),
};

// Views that need the code (or an open link).
const FULL_ONLY = new Set(["period", "periods", "compare"]);

function markNav(view) {
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.dataset.view === view) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
    a.closest("li").hidden = FULL_ONLY.has(a.dataset.view) && ctx.summary?.access !== "full";
  }
}

function message(title, text, ...more) {
  return h("section", { class: "message" }, h("h2", {}, title), h("p", {}, text), ...more);
}

function errorView(e) {
  if (!(e instanceof ApiError)) return message("Something went wrong", `The page could not show the record: ${e.message}`);
  if (e.status === 404) return message("No record here", "This link is not valid, or it was withdrawn. Check the address printed on your invoice.");
  if (e.code === "NETWORK") return message("Offline", "The server could not be reached. You can still check a receipt file you saved.", h("p", {}, h("a", { href: "#check" }, "Check a receipt file")));
  return message("The record could not be read", `${e.message} (${e.code})`);
}

// The code form after a refusal, with the refusal in words.
function codeRefused(e) {
  if (e.code === "ACCESS_CODE_INVALID") return "That code was not accepted. Check it against your invoice; letters and digits only, case does not matter.";
  if (e.code === "RATE_LIMITED") return `Too many codes were tried. Try again in ${e.retryAfter ?? 60} seconds.`;
  return null;
}

async function render({ focus = true } = {}) {
  clearTimeout(refreshTimer);
  const r = route();
  markNav(r.view);
  if (!handle) {
    main.replaceChildren(message("Not a record link", "This address does not name a usage record. You can still check a receipt file you saved."), checkView(ctx));
    return;
  }
  if (r.view === "check") {
    main.replaceChildren(checkView(ctx));
  } else if (FULL_ONLY.has(r.view) && ctx.summary?.access !== "full") {
    main.replaceChildren(codeForm(ctx, "This part of the record needs the access code printed on your invoice.", ctx.codeMessage));
  } else {
    main.setAttribute("aria-busy", "true");
    try {
      const nodes = await VIEWS[r.view](ctx, r);
      main.replaceChildren(...[nodes].flat());
    } catch (e) {
      main.replaceChildren(errorView(e));
    }
    main.removeAttribute("aria-busy");
  }
  main.dataset.view = r.view;
  main.dataset.ready = "true";
  if (focus) (main.querySelector("h2") ?? main).focus?.();
}

function onRecorded(some) {
  clearTimeout(refreshTimer);
  if (!some || route().view !== "summary") {
    refreshes = 0;
    return;
  }
  const wait = REFRESH_MS[Math.min(refreshes++, REFRESH_MS.length - 1)];
  refreshTimer = setTimeout(async () => {
    if (document.hidden) return onRecorded(true);
    ctx.store.forget();
    ctx.summary = await ctx.store.summary().catch(() => ctx.summary);
    render({ focus: false });
  }, wait);
}

// Loads the summary; false (and the code form or a message shown) when
// the record cannot be shown.
async function load(refusal = null) {
  try {
    ctx.summary = await ctx.store.summary();
  } catch (e) {
    ctx.summary = null;
    markNav(route().view);
    // Checking a file needs no server: its view stays as it is.
    if (route().view === "check") return false;
    if (e.code === "ACCESS_CODE_INVALID" || e.code === "RATE_LIMITED") {
      ctx.api.setCode(null);
      return load(codeRefused(e));
    }
    if (e.code === "ACCESS_CODE_REQUIRED") {
      // Checking a saved receipt file needs no code: that view stays reachable.
      document.getElementById("nav").hidden = false;
      main.replaceChildren(codeForm(ctx, "This record needs the access code printed on your invoice beside the link.", refusal));
    } else main.replaceChildren(errorView(e));
    main.dataset.ready = "true";
    return false;
  }
  document.getElementById("nav").hidden = false;
  document.title = `Usage record of ${ctx.summary.customerId}`;
  document.getElementById("title").textContent = "Usage record";
  document.getElementById("subtitle").textContent = `Customer ${ctx.summary.customerId}`;
  if (refusal) {
    ctx.codeMessage = refusal;
    await render();
    ctx.codeMessage = null;
    return false;
  }
  return true;
}

async function tryCode(code) {
  ctx.api.setCode(code);
  ctx.store.forget();
  if (await load()) {
    if (ctx.summary.access !== "full") {
      ctx.api.setCode(null);
      ctx.codeMessage = "That code was not accepted.";
      await render();
      ctx.codeMessage = null;
      return;
    }
    announce("The code was accepted.");
    await render();
  }
}

function setupTimeToggle() {
  const button = document.getElementById("tz-toggle");
  const note = document.getElementById("tz-note");
  const show = () => {
    button.setAttribute("aria-pressed", String(showUtc()));
    button.textContent = showUtc() ? `Show times in ${zoneName()}` : "Show times in UTC";
    note.textContent = showUtc() ? "Times in UTC." : `Times in your time zone (${zoneName()}).`;
  };
  button.addEventListener("click", () => {
    setShowUtc(!showUtc());
    show();
    render({ focus: false });
  });
  show();
}

// WebCrypto, which every check needs, exists only in a secure context
// (HTTPS, or http://localhost): over plain HTTP the page would show
// figures it cannot check, so it says where to open it instead.  The
// link keeps the fragment (a #code= with it) for a one-click move.
function insecureView() {
  const https = `https://${location.hostname}${location.pathname}${location.hash}`;
  return message("This page needs HTTPS",
    "Your browser checks the record itself, with cryptography it offers only over a secure connection, and this page was opened without one.",
    h("p", {}, "Open it over HTTPS: ", h("a", { href: https }, https.replace(/#.*/, ""))));
}

async function start() {
  if (!window.isSecureContext || !globalThis.crypto?.subtle) {
    main.replaceChildren(insecureView());
    document.getElementById("timezone").hidden = true; // no times to show
    main.dataset.view = "insecure";
    main.dataset.ready = "true";
    return;
  }
  setupTimeToggle();
  if (api) api.adoptCodeFromFragment();
  window.addEventListener("hashchange", () => {
    // A link with #code= followed from this very page: take the code.
    if (api && new URLSearchParams(location.hash.slice(1)).has("code")) {
      api.adoptCodeFromFragment();
      return tryCode(api.code);
    }
    render();
  });
  if (handle && route().view === "check") {
    await render({ focus: false });
    if (await load()) markNav("check");
    document.getElementById("nav").hidden = false;
  } else if (!handle || (await load())) await render({ focus: false });
}

start();
