// The customer's endpoints (docs/shared.md), and the access code.
//
// The code arrives in the URL fragment (/c/{handle}#code=K7Q2PX), which
// browsers never send to a server.  The page reads it once, removes it
// from the address bar (so it is not bookmarked, shared or shown over a
// shoulder) and keeps it in sessionStorage: for this tab only, gone when
// the tab closes.  It travels in X-Access-Code, never in a URL.

import { decodeUtf8, parseJson } from "./json.js";

const HANDLE = /^\/c\/(s[a-z2-7]{26})\/?$/;
const CODE_KEY = "tally.accessCode.";

// The share's handle from the page's path, or null.
export function handleFromPath(pathname) {
  const m = HANDLE.exec(pathname);
  return m ? m[1] : null;
}

// Codes are read case-insensitively with spaces and dashes ignored.
export const normalizeCode = (text) => String(text).toUpperCase().replace(/[\s-]/g, "");

export class Api {
  constructor(handle) {
    this.handle = handle;
    this.base = `/api/v1/shared/${handle}`;
    this.code = sessionStorage.getItem(CODE_KEY + handle);
  }

  // Takes #code=… (and leaves the rest of the fragment, the view) out of
  // the address bar into the tab's storage.
  adoptCodeFromFragment(loc = location) {
    const params = new URLSearchParams(loc.hash.replace(/^#/, ""));
    if (!params.has("code")) return;
    this.setCode(params.get("code"));
    params.delete("code");
    const rest = params.toString();
    history.replaceState(history.state, "", loc.pathname + loc.search + (rest ? "#" + rest : ""));
  }

  setCode(code) {
    this.code = code ? normalizeCode(code) : null;
    if (this.code) sessionStorage.setItem(CODE_KEY + this.handle, this.code);
    else sessionStorage.removeItem(CODE_KEY + this.handle);
  }

  headers(extra = {}) {
    return this.code ? { ...extra, "X-Access-Code": this.code } : extra;
  }

  // GET or POST path under the share; resolves to { data, text } or
  // throws an ApiError with the envelope's code and message.
  async request(path, { method = "GET", body } = {}) {
    let res;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: this.headers(body !== undefined ? { "Content-Type": "application/json", Accept: "application/json" } : { Accept: "application/json" }),
        body: body !== undefined ? JSON.stringify(body) : undefined,
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer",
      });
    } catch (e) {
      throw new ApiError(0, "NETWORK", "The server could not be reached.");
    }
    let text = "", json = null;
    try {
      text = decodeUtf8(await res.arrayBuffer());
      json = parseJson(text);
    } catch (e) {
      /* not UTF-8 JSON: an error page of the web server, or worse */
    }
    if (res.ok && json && json.success === true) return { data: json.data, text, json };
    const err = json?.error ?? {};
    const header = res.headers.get("Retry-After");
    const retry = err.retryAfterSeconds ?? (header !== null ? Number(header) : null);
    throw new ApiError(res.status, err.code ?? "HTTP_" + res.status, err.message ?? res.statusText, retry);
  }

  summary() {
    return this.request("");
  }

  periods() {
    return this.request("/periods");
  }

  // Every delta of a period, page after page (500 at a time).
  async deltas(period) {
    const limit = 500;
    let offset = 0, first = null;
    const all = [];
    for (;;) {
      const { data } = await this.request(`/periods/${encodeURIComponent(period)}/deltas?limit=${limit}&offset=${offset}`);
      first ??= data;
      all.push(...(data.deltas ?? []));
      const total = data.pagination?.total ?? all.length;
      if (all.length >= total || (data.deltas ?? []).length === 0) break;
      offset = all.length;
    }
    return { ...first, deltas: all };
  }

  // The receipt bundle's answer as text, exactly as sent (envelope and
  // all: tally-verify reads it as it is, so it is what a download saves).
  async receiptText(checkpointId) {
    const { text } = await this.request(`/receipt/${encodeURIComponent(checkpointId)}`);
    return text;
  }

  compare(period, yourTotal) {
    return this.request("/compare", { method: "POST", body: { period, yourTotal } });
  }

  // The CSV export as a Blob and its file name.
  async csv(period) {
    const res = await fetch(`${this.base}/export.csv?period=${encodeURIComponent(period)}`, {
      headers: this.headers(), credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer",
    });
    if (!res.ok) throw new ApiError(res.status, "HTTP_" + res.status, "The export could not be downloaded.");
    const m = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") ?? "");
    return { blob: await res.blob(), name: m ? m[1] : `${period}.csv` };
  }
}

export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}
