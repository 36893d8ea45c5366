// What the page has read of one share, fetched once per view and kept
// for the tab: the summary, the periods, each period's deltas, and the
// keyring built from the keys the server served.

import { Keyring } from "./keys.js";
import { parseJson } from "./json.js";

const SERVED = "the keys this server served";
const PIN_KEY = "tally.genesisKey.";

export class RecordStore {
  constructor(api) {
    this.api = api;
    this.cache = new Map();
    this.keyring = null;
    this.keyLists = new Set();
    this.servedLists = []; // in the order served, for a fresh keyring
  }

  forget() {
    this.cache.clear();
  }

  async once(key, load) {
    if (!this.cache.has(key)) this.cache.set(key, load().catch((e) => { this.cache.delete(key); throw e; }));
    return this.cache.get(key);
  }

  summary() {
    return this.once("summary", async () => (await this.api.summary()).data);
  }

  periods() {
    return this.once("periods", async () => (await this.api.periods()).data.periods ?? []);
  }

  period(p) {
    return this.once("period:" + p, async () => {
      const answer = await this.api.deltas(p);
      await this.addKeys(answer.keys);
      return answer;
    });
  }

  // The keyring: the first list served anchors it (its oldest key is the
  // root); later lists only add keys endorsed from it.
  async addKeys(list) {
    if (!Array.isArray(list)) return;
    const sig = JSON.stringify(list);
    if (this.keyLists.has(sig)) return;
    this.keyLists.add(sig);
    this.servedLists.push(list);
    this.keyring ??= new Keyring();
    const why = await this.keyring.addList(list, SERVED, !this.keyring.anchored);
    if (why) this.keyWhy = why;
  }

  // The keyring, fetching the public GET /api/v1/keys if no answer carried keys yet.
  async keys() {
    if (!this.keyring?.anchored) {
      try {
        const res = await fetch("/api/v1/keys", { credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer" });
        const json = parseJson(await res.text());
        await this.addKeys(json?.data?.keys);
      } catch (e) {
        /* no keys: every signature check says so */
      }
    }
    this.keyring ??= new Keyring();
    return this.keyring;
  }

  // The trust root and whether it is the one this browser saw on its
  // first visit to this link (a pin in localStorage): { genesis, pinned,
  // changed }.
  trustRoot() {
    const genesis = this.keyring?.keys.find((e) => e.trust === "genesis") ?? null;
    if (!genesis) return { genesis: null };
    const key = PIN_KEY + this.api.handle;
    const pinned = localStorage.getItem(key);
    if (!pinned) localStorage.setItem(key, genesis.keyId);
    return { genesis, pinned: pinned ?? genesis.keyId, changed: pinned !== null && pinned !== genesis.keyId };
  }
}
