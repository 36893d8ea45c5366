// Which key the browser trusts, and why, in words: the page is served by
// the same server whose record it checks, so the root of trust (the
// log's genesis key) is only as good as the key ID the customer compares
// it with.  The page remembers the root of a link's first visit and says
// when it changes.

import { h } from "./dom.js";

export function trustNote(ctx) {
  const { genesis, pinned, changed } = ctx.store.trustRoot();
  if (!genesis) return h("p", { class: "trust problem" }, "No signing key could be read, so no signature could be checked.");
  return h("div", { class: "trust" },
    h("p", {}, "Trust root: key ", h("code", { class: "key-id" }, genesis.keyId), ` (${genesis.alg}), the oldest of the keys this server served. `,
      "Every other key counts only if a chain of endorsements leads to it from this one. ",
      "To check without relying on this server, compare this key ID with the one your vendor gave you."),
    changed ? h("p", { class: "notice", role: "alert" }, "On your first visit to this link the oldest key was ",
      h("code", {}, pinned), "; now it is ", h("code", {}, genesis.keyId), ". Ask your vendor why.") : null);
}
