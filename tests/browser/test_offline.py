"""The page without the Tally server: its JavaScript against the shared
test vectors (the same bytes the C implementation is checked against),
receipt files checked in the drop zone, and every view drawn from
fixtures/shared_fixture.py, served by server.py on 127.0.0.1.  Each view
is kept as a screenshot in the artifacts directory; look at them."""

import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers as H  # noqa: E402
import differential  # noqa: E402
import server  # noqa: E402
from shared_fixture import CODE, HANDLE  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

JS = "/shared-assets/js/"


def js_leaves(d, base):
    bad = H.page_js(d, """
      const { canonicalize } = await import('%(js)sjcs.js');
      const { sha256, leafHash } = await import('%(js)smerkle.js');
      const { hashText } = await import('%(js)sbytes.js');
      const lines = (await (await fetch('/vectors/leaves.jsonl')).text()).split('\\n').filter(Boolean);
      const members = ['tenant','env','customerId','sequenceNumber','delta','reason','referenceId','metadata','createdAt','salt'];
      const bad = [];
      for (const line of lines) {
        const v = JSON.parse(line);
        const leaf = Object.fromEntries(members.map((m) => [m, v[m]]));
        const data = new TextEncoder().encode(canonicalize(leaf));
        if (canonicalize(leaf) !== v.leafData) bad.push(v.logIndex + ': leafData');
        if (hashText(await sha256(data)) !== v.contentHash) bad.push(v.logIndex + ': contentHash');
        if (hashText(await leafHash(data)) !== v.leafHash) bad.push(v.logIndex + ': leafHash');
      }
      return { n: lines.length, bad };
    """ % {"js": JS})
    H.eq(bad["bad"], [], "leaves that differ from the C ones")
    H.eq(bad["n"], 7, "leaves checked")


def js_tree(d, base):
    r = H.page_js(d, """
      const M = await import('%(js)smerkle.js');
      const { parseHash, hashText } = await import('%(js)sbytes.js');
      const t = await (await fetch('/vectors/tree.json')).json();
      const leaves = t.leafHashes.map(parseHash);
      const bad = [];
      for (const r of t.roots)
        if (hashText(await M.rootOf(leaves.slice(0, r.treeSize))) !== r.rootHash) bad.push('root ' + r.treeSize);
      for (const p of t.inclusion) {
        const root = await M.rootOf(leaves.slice(0, p.treeSize));
        const proof = p.inclusionProof.map(parseHash);
        if (!(await M.verifyInclusion(leaves[p.logIndex], p.logIndex, p.treeSize, proof, root))) bad.push('proof ' + p.logIndex + '/' + p.treeSize);
        const made = (await M.inclusionProof(p.logIndex, leaves.slice(0, p.treeSize))).map(hashText);
        if (JSON.stringify(made) !== JSON.stringify(p.inclusionProof)) bad.push('path ' + p.logIndex + '/' + p.treeSize);
        // A proof with a changed hash, one too many or one too few, fails.
        if (proof.length) {
          const bent = proof.map((h) => h.slice()); bent[0][0] ^= 1;
          if (await M.verifyInclusion(leaves[p.logIndex], p.logIndex, p.treeSize, bent, root)) bad.push('bent ' + p.logIndex + '/' + p.treeSize);
          if (await M.verifyInclusion(leaves[p.logIndex], p.logIndex, p.treeSize, proof.slice(1), root)) bad.push('short ' + p.logIndex + '/' + p.treeSize);
        }
        if (await M.verifyInclusion(leaves[p.logIndex], p.logIndex, p.treeSize, [...proof, root], root)) bad.push('long ' + p.logIndex + '/' + p.treeSize);
      }
      return { roots: t.roots.length, proofs: t.inclusion.length, bad };
    """ % {"js": JS})
    H.eq(r["bad"], [], "tree mismatches")
    H.eq((r["roots"], r["proofs"]), (8, 28), "roots and proofs checked")


def js_heads(d, base):
    r = H.page_js(d, """
      const { Keyring } = await import('%(js)skeys.js');
      const { hashText } = await import('%(js)sbytes.js');
      const keys = await (await fetch('/vectors/keys.json')).json();
      const ring = new Keyring();
      const why = await ring.addList(keys.keys, 'keys.json', true);
      const out = { why, heads: {} };
      for (const f of ['head-ecdsa.note', 'head-rsa.note']) {
        const text = await (await fetch('/vectors/' + f)).text();
        const o = await ring.openNote(text);
        out.heads[f] = o.why ?? [o.by.id, String(o.head.size), hashText(o.head.root)].join(' ');
        // One changed character of the signed body: refused.
        const bent = await ring.openNote(text.replace('\\n7\\n', '\\n8\\n'));
        out.heads[f + ' bent'] = bent.why ? 'refused' : 'accepted';
      }
      // Only the RSA key known: the ECDSA head is signed by no trusted key.
      const rsaOnly = new Keyring();
      await rsaOnly.addList([keys.keys[1]], 'rsa', true);
      out.other = (await rsaOnly.openNote(await (await fetch('/vectors/head-ecdsa.note')).text())).why ? 'refused' : 'accepted';
      return out;
    """ % {"js": JS})
    H.eq(r["why"], None, "keys.json")
    root = "0x5f8f2d5c05a5129ffb92ada97149b78ff994606fed339f80896e87742bb80983"
    H.eq(r["heads"], {"head-ecdsa.note": "9388e121 7 " + root, "head-ecdsa.note bent": "refused",
                      "head-rsa.note": "861bfccf 7 " + root, "head-rsa.note bent": "refused"}, "heads")
    H.eq(r["other"], "refused", "a head under another key")


def js_statements(d, base):
    r = H.page_js(d, """
      const { importPublicKey, pemToDer, verifySignature, noteKeyId } = await import('%(js)ssig.js');
      const { fromBase64 } = await import('%(js)sbytes.js');
      const { canonicalize } = await import('%(js)sjcs.js');
      const get = async (f) => new Uint8Array(await (await fetch('/vectors/' + f)).arrayBuffer());
      const keys = (await (await fetch('/vectors/keys.json')).json()).keys;
      const pubs = {};
      for (const k of keys) pubs[k.alg] = await importPublicKey(pemToDer(k.pem));
      const out = { ids: [await noteKeyId(pubs['ecdsa-p256']), await noteKeyId(pubs['rsa-3072'], keys[1].name)] };
      for (const [st, sigs] of [['statement.json', ['statement-ecdsa.sig', 'statement-rsa.sig']],
                                ['statement-v2.json', ['statement-v2-ecdsa.sig', 'statement-v2-rsa.sig']]]) {
        const bytes = await get(st);
        const text = new TextDecoder().decode(bytes);
        out[st + ' jcs'] = canonicalize(JSON.parse(text)) === text;
        for (const s of sigs) {
          const sig = fromBase64(new TextDecoder().decode(await get(s)).trim());
          const pub = s.includes('rsa') ? pubs['rsa-3072'] : pubs['ecdsa-p256'];
          const other = s.includes('rsa') ? pubs['ecdsa-p256'] : pubs['rsa-3072'];
          const bent = bytes.slice(); bent[10] ^= 1;
          out[s] = [await verifySignature(pub, bytes, sig), await verifySignature(pub, bent, sig),
                    await verifySignature(other, bytes, sig)].join(' ');
        }
      }
      return out;
    """ % {"js": JS})
    H.eq(r["ids"], ["9388e121", "861bfccf"], "key IDs")
    for k in ("statement.json jcs", "statement-v2.json jcs"):
        H.eq(r[k], True, k)
    for s in ("statement-ecdsa.sig", "statement-rsa.sig", "statement-v2-ecdsa.sig", "statement-v2-rsa.sig"):
        H.eq(r[s], "true false false", s + " (good, changed byte, other key)")


def js_decimals(d, base):
    r = H.page_js(d, """
      const D = await import('%(js)sdecimal.js');
      const sum = (xs) => D.formatDecimal(xs.map((x) => D.parseDecimal(x).value).reduce((a, b) => a + b, 0n));
      return {
        big: sum(['987654321.123456789', '-12.5', '0.1']),
        tenth: sum(Array(10).fill('0.1')),
        back: D.formatDecimal(D.parseDecimal('987654321.123456789').value),
        forms: ['1e3', '-0.50', '2.50E-1', '0.0000000001', '-0', '01'].map((x) => { const r = D.readAmount(x); return r.why ?? D.formatDecimal(r.value); }),
      };
    """ % {"js": JS})
    H.eq(r["big"], "987654308.723456789", "sum")
    H.eq(r["tenth"], "1", "ten times 0.1")
    H.eq(r["back"], "987654321.123456789", "round trip")
    H.eq(r["forms"], ["not in shortest form (1000)", "not in shortest form (-0.5)", "not in shortest form (0.25)",
                      "more than 9 decimals", "not in shortest form (0)", "not in shortest form (1)"], "amount forms")


def check_files(d, base, paths, offline=False):
    """Gives files to the drop zone's input, with the network cut off if
    offline; returns when they are checked."""
    H.load(d, base + "/c/" + HANDLE + "#check")
    H.wait_for(d, "#receipt-files")
    if offline:
        d.set_network_conditions(offline=True, latency=0, download_throughput=0, upload_throughput=0)
    try:
        d.find_element(By.CSS_SELECTOR, "#receipt-files").send_keys("\n".join(paths))
        H.wait_js(d, "document.querySelector('.file-results[data-done=\"true\"]')")
    finally:
        if offline:
            d.delete_network_conditions()


def drop_ok(d, base, receipt, shot):
    check_files(d, base, [os.path.join(H.VECTORS, receipt), os.path.join(H.VECTORS, "keys.json")], offline=True)
    H.eq(H.attrs(d, ".file-result", "data-verdict"), ["ok"], "verdict")
    statuses = H.attrs(d, ".file-result .check", "data-status")
    H.eq(statuses, ["ok"] * 10, "checks")
    H.eq(H.attrs(d, ".file-result tr[data-state]", "data-state"), ["verified"] * 5, "records")
    if "Trust root: key 9388e121" not in d.find_element(By.CSS_SELECTOR, ".file-results .trust").text:
        raise AssertionError("the trust root is not said")
    H.screenshot(d, shot)


def drop_without_keys(d, base):
    """A receipt alone: online, the server's keys are the root, and the
    page says so; offline, there is no key, and the signature fails."""
    receipt = os.path.join(H.VECTORS, "receipt-v2-ecdsa.json")
    check_files(d, base, [receipt])
    trust = d.find_element(By.CSS_SELECTOR, ".file-results .trust").text
    H.eq(trust, "Trust root: key 9388e121, the oldest of the keys this server served.", "trust root")
    H.eq(H.attrs(d, ".file-result", "data-verdict"), ["ok"], "verdict online")
    check_files(d, base, [receipt], offline=True)
    H.eq(H.attrs(d, ".file-result", "data-verdict"), ["fail"], "verdict offline")
    H.eq(H.attrs(d, ".check[data-status='fail']", "data-check"), ["signature", "treeHead"], "failed offline")


def tampered_receipt(tmp):
    """receipt-v2-ecdsa.json with one byte changed in deltas[2]'s leaf (its
    amount -72.5 becomes -72.4), as an attacker would edit the file."""
    text = open(os.path.join(H.VECTORS, "receipt-v2-ecdsa.json"), encoding="utf-8").read()
    data = json.loads(text)
    want = '"delta":"%s"' % data["data"]["deltas"][2]["leaf"]["delta"]
    if text.count(want) != 1:
        want = '"delta": "%s"' % data["data"]["deltas"][2]["leaf"]["delta"]
    at = text.index(want) + len(want) - 2
    changed = text[:at] + chr(ord(text[at]) - 1) + text[at + 1:]
    path = os.path.join(tmp, "receipt-tampered.json")
    with open(path, "w", encoding="utf-8") as f:
        f.write(changed)
    return path


def drop_tampered(d, base, tmp):
    check_files(d, base, [tampered_receipt(tmp), os.path.join(H.VECTORS, "keys.json")])
    H.eq(H.attrs(d, ".file-result", "data-verdict"), ["fail"], "verdict")
    states = H.attrs(d, ".file-result tr[data-state]", "data-state")
    H.eq(states, ["verified", "verified", "failed", "verified", "verified"], "records")
    failed = {e.get_attribute("data-check") for e in d.find_elements(By.CSS_SELECTOR, ".check[data-status='fail']")}
    H.eq(failed, {"deltas", "proofRoot", "netChange", "inclusion"}, "failed checks")
    row = d.find_element(By.CSS_SELECTOR, ".file-result tr[data-state='failed'] + tr.problem-row").text
    if "deltas[2] (rec_00000000000000000000000000000003)" not in row or "leafHash" not in row:
        raise AssertionError("the failed row does not name what failed: " + row)
    H.screenshot(d, "check-tampered")


def summary_without_code(d, base):
    H.load(d, base + "/c/" + HANDLE)
    H.wait_ready(d, "summary")
    H.eq(H.texts(d, ".summary .total .amount"), ["987654308.723456789"], "total")
    H.wait_for(d, "#access-code")
    H.eq(d.find_elements(By.CSS_SELECTOR, "table.deltas"), [], "records without the code")
    H.screenshot(d, "summary-without-code")


def wrong_code(d, base):
    H.load(d, base + "/c/" + HANDLE)
    H.wait_ready(d, "summary")
    try:
        for i in range(6):
            d.execute_script("document.querySelector('.code-form').dataset.old = '1'")
            H.wait_for(d, "#access-code").send_keys("WRONG%d" % i)
            d.find_element(By.CSS_SELECTOR, ".code-form button[type=submit]").click()
            H.wait_js(d, "document.querySelector('.code-form:not([data-old]) #code-error')?.textContent")
        msg = d.find_element(By.CSS_SELECTOR, "#code-error").text
        if "Try again in 60 seconds" not in msg:
            raise AssertionError("after six wrong codes: " + msg)
        H.screenshot(d, "code-rate-limited")
    finally:
        server.Handler.wrong = 0


def code_by_keyboard(d, base):
    """Tab to the code box from the top of the page, type, press Enter."""
    from selenium.webdriver.common.keys import Keys
    d.execute_script("sessionStorage.clear()")
    H.load(d, base + "/c/" + HANDLE)
    H.wait_ready(d, "summary")
    d.find_element(By.TAG_NAME, "body").click()
    for _ in range(12):
        d.switch_to.active_element.send_keys(Keys.TAB)
        if d.switch_to.active_element.get_attribute("id") == "access-code":
            break
    H.eq(d.switch_to.active_element.get_attribute("id"), "access-code", "focus after tabbing")
    d.switch_to.active_element.send_keys("k7q 2px" + Keys.ENTER)
    H.wait_js(d, "document.querySelector('table.deltas')")
    H.eq(len(H.attrs(d, "table.deltas tr[data-state]", "data-state")), 3, "records")


def summary_with_code(d, base):
    H.load(d, base + "/c/" + HANDLE + "#code=k7q-2px")
    H.wait_ready(d, "summary")
    if "code" in d.current_url:
        raise AssertionError("the code is still in the address bar: " + d.current_url)
    H.eq(d.execute_script("return sessionStorage.getItem('tally.accessCode.%s')" % HANDLE), CODE, "the tab's code")
    H.eq(H.attrs(d, "table.deltas tr[data-state]", "data-state"), ["verified", "verified", "recorded"], "states")
    H.eq(H.texts(d, "table.deltas td .amount"), ["987654321.123456789", "-12.5", "0.1"], "amounts")
    H.eq(H.attrs(d, ".period .figures .amount", "data-amount"), ["987654308.723456789", "987654308.723456789"], "totals")
    H.eq(H.attrs(d, ".period > .verdict", "data-verdict"), ["ok"], "verdict")
    trust = H.text(d, ".verification")
    if "861bfccf (endorsed by 9388e121)" not in trust or "Trust root: key 9388e121" not in trust:
        raise AssertionError("the key chain is not said: " + trust)
    H.screenshot(d, "summary-with-code")
    H.screenshot(d, "summary-phone", width=390)


def period_locked(d, base):
    H.load(d, base + "/c/" + HANDLE + "#period=2026-02")
    H.wait_ready(d, "period")
    H.eq(H.attrs(d, "table.deltas tr[data-state]", "data-state"), ["verified"] * 5, "states")
    H.eq(H.attrs(d, ".receipt-checks .check", "data-status"), ["ok"] * 10, "receipt checks")
    H.eq(H.attrs(d, ".checkpoint .verdict", "data-verdict"), ["ok"], "receipt verdict")
    H.screenshot(d, "period-2026-02")
    H.screenshot(d, "period-2026-02-print", media="print")
    path, pdf = H.print_pdf(d, "period-2026-02")
    if not pdf.startswith(b"%PDF"):
        raise AssertionError("no PDF")
    H.eq(H.pdf_pages(path), 1, "pages of the printed statement")


def periods_chain(d, base):
    H.load(d, base + "/c/" + HANDLE + "#periods")
    H.wait_ready(d, "periods")
    H.eq(H.attrs(d, "table.periods tbody tr", "data-period"), ["2026-03", "2026-02"], "periods")
    H.eq(H.attrs(d, ".chain > li", "data-status"), ["ok"], "chain links")
    H.screenshot(d, "periods")


def compare(d, base):
    H.load(d, base + "/c/" + HANDLE + "#compare")
    H.wait_ready(d, "compare")
    box = d.find_element(By.CSS_SELECTOR, "#compare-total")
    box.send_keys("987654308.7234568")  # what a float would have made of the total
    d.find_element(By.CSS_SELECTOR, ".compare-form button[type=submit]").click()
    H.wait_for(d, ".compare-result")
    text = d.find_element(By.CSS_SELECTOR, ".compare-result .verdict").text
    H.eq(text, "Your figure is 0.000000011 more than the recorded total.", "difference")
    H.screenshot(d, "compare")


def js_strict_json(d, base):
    r = H.page_js(d, """
      const { parseJson } = await import('%(js)sjson.js');
      const tryIt = (t) => { try { parseJson(t); return 'ok'; } catch (e) { return e.message; } };
      return [tryIt('{"a":1,"b":{"a":2}}'), tryIt('{"a":1,"a":2}'), tryIt('["\\ud800"]'),
              tryIt('['.repeat(33) + ']'.repeat(33)), tryIt('['.repeat(32) + ']'.repeat(32)), tryIt('{"a\\\\"b":1,"a\\\\"b":2}')];
    """ % {"js": JS})
    H.eq(r, ["ok", "duplicate key in object: a", "a lone surrogate in a string", "nested deeper than 32", "ok",
             'duplicate key in object: a"b'], "strict JSON")


def tampered_server(d, base):
    """A server (a proxy here) that changes one byte of February's third
    record, in the deltas answer and in the receipt: the page names that
    record as failed, and only it."""
    def rewrite(path, body):
        if path.endswith("/periods/2026-02/deltas") or "/receipt/" in path:
            return H.change_one_byte(body, b'"delta": "-72.5"', b'"delta": "-72.4"') if b'"delta": "-72.5"' in body \
                else H.change_one_byte(body, b'"delta":"-72.5"', b'"delta":"-72.4"')
        return body
    proxy = H.TamperProxy(base, rewrite)
    pbase = proxy.start()
    try:
        H.load(d, pbase + "/c/" + HANDLE + "#code=" + CODE + "&period=2026-02")  # a new origin: a new tab's storage
        H.wait_ready(d, "period")
        H.eq(H.attrs(d, "table.deltas tr[data-state]", "data-state"), ["verified", "verified", "failed", "verified", "verified"], "states")
        H.eq(H.attrs(d, ".period > .verdict", "data-verdict"), ["fail"], "period verdict")
        H.eq(H.attrs(d, ".checkpoint .verdict", "data-verdict"), ["fail"], "receipt verdict")
        failed = H.attrs(d, ".receipt-checks .check[data-status='fail']", "data-check")
        H.eq(failed, ["deltas", "proofRoot", "netChange", "inclusion"], "failed receipt checks")
        row = d.find_element(By.CSS_SELECTOR, "table.deltas tr[data-state='failed'] + tr.problem-row").text
        if "leafHash" not in row or "rec_00000000000000000000000000000003" not in row:
            raise AssertionError("the failed row does not say what failed: " + row)
        H.screenshot(d, "period-tampered-server")
    finally:
        proxy.stop()


def downloads(d, base):
    """CSV and receipt downloads: the bytes the server sent, saved."""
    where = tempfile.mkdtemp(prefix="tally-downloads-")
    d.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": where})
    H.load(d, base + "/c/" + HANDLE + "#period=2026-02")
    H.wait_ready(d, "period")
    for label in ("Download CSV", "Download the receipt"):
        d.find_element(By.XPATH, "//button[normalize-space()='%s']" % label).click()
    want = {"customer_acme-2026-02.csv", "customer_acme-2026-02-chk_00000000000000000000000000000001.json"}
    H.wait_downloads(d, where, sorted(want))
    csv = open(os.path.join(where, "customer_acme-2026-02.csv"), encoding="utf-8").read().splitlines()
    H.eq(csv[0], "sequenceNumber,createdAt,delta,reason,referenceId,recordId,state", "CSV header")
    H.eq(len(csv), 6, "CSV lines")
    got = open(os.path.join(where, "customer_acme-2026-02-chk_00000000000000000000000000000001.json"), "rb").read()
    H.eq(got, open(os.path.join(H.VECTORS, "receipt-v2-ecdsa.json"), "rb").read(), "the receipt's bytes")


def utc_toggle(d, base):
    H.load(d, base + "/c/" + HANDLE + "#period=2026-02")
    H.wait_ready(d, "period")
    first = d.find_element(By.CSS_SELECTOR, "table.deltas time")
    H.eq(first.get_attribute("datetime"), "2026-02-01T00:00:00.000Z", "datetime")
    if "GMT+1" not in first.text:
        raise AssertionError("not in the viewer's zone (TZ=Europe/Berlin): " + first.text)
    d.find_element(By.CSS_SELECTOR, "#tz-toggle").click()
    H.wait_js(d, "document.querySelector('#tz-toggle').getAttribute('aria-pressed') === 'true' && "
                 "document.querySelector('table.deltas time')?.textContent.endsWith('Z')")
    H.eq(d.find_element(By.CSS_SELECTOR, "table.deltas time").text, "2026-02-01 00:00:00Z", "UTC")
    d.find_element(By.CSS_SELECTOR, "#tz-toggle").click()
    H.wait_js(d, "document.querySelector('#tz-toggle').getAttribute('aria-pressed') === 'false'")


def accessible_basics(d, base):
    """What a screen reader and a keyboard need, view by view: a label for
    every control, a name for every button, captions and header cells for
    tables, one h1, a main landmark, a live region, headings in order."""
    for view in ("", "#period=2026-02", "#periods", "#compare", "#check"):
        H.load(d, base + "/c/" + HANDLE + view)
        H.wait_ready(d)
        bad = d.execute_script("""
          const bad = [];
          for (const el of document.querySelectorAll('input, select, textarea'))
            if (!(el.id && document.querySelector('label[for="' + el.id + '"]')) && !el.getAttribute('aria-label')) bad.push('no label: ' + el.outerHTML.slice(0, 60));
          for (const b of document.querySelectorAll('button, a[href]'))
            if (!b.textContent.trim() && !b.getAttribute('aria-label')) bad.push('no name: ' + b.outerHTML.slice(0, 60));
          for (const t of document.querySelectorAll('table'))
            if (!t.querySelector('caption') || !t.querySelector('th[scope]')) bad.push('table without caption or th scope');
          if (document.querySelectorAll('h1').length !== 1) bad.push('not one h1');
          if (!document.querySelector('main') || !document.querySelector('[aria-live]')) bad.push('no main or live region');
          if (!document.documentElement.lang) bad.push('no lang');
          let last = 1;
          for (const h of document.querySelectorAll('h1, h2, h3, h4')) {
            const n = Number(h.tagName[1]);
            if (n > last + 1) bad.push('heading jumps to ' + h.tagName + ': ' + h.textContent);
            last = n;
          }
          return bad;
        """)
        H.eq(bad, [], "view " + (view or "summary"))


def same_as_tally_verify(d, base, verifier, tmp):
    diffs = differential.compare_all(d, verifier, tmp)
    if diffs:
        raise AssertionError("%d receipts read differently:\n  %s" % (len(diffs), "\n  ".join(diffs)))


def heads_same_as_tally_verify(d, base, verifier, tmp):
    diffs = differential.compare_heads(d, verifier, tmp)
    if diffs:
        raise AssertionError("%d heads read differently:\n  %s" % (len(diffs), "\n  ".join(diffs)))


def live_update(d, base):
    """A record that is recorded, then covered by a new signed head: the
    open page shows it verified on its own, without a reload."""
    try:
        H.load(d, base + "/c/" + HANDLE + "#code=" + CODE)
        H.wait_ready(d, "summary")
        H.eq(H.attrs(d, "table.deltas tr[data-state]", "data-state"), ["verified", "verified", "recorded"], "before")
        d.execute_script("document.body.dataset.sameDocument = '1'")
        server.use(covered=10)
        H.wait_js(d, "[...document.querySelectorAll('table.deltas tr[data-state]')].map((r) => r.dataset.state).join() === 'verified,verified,verified'", 45)
        H.eq(d.execute_script("return document.body.dataset.sameDocument"), "1", "the same page, not reloaded")
        if "not all records" in d.find_element(By.CSS_SELECTOR, ".summary").text:
            raise AssertionError("verified through not updated")
        H.screenshot(d, "summary-all-verified")
    finally:
        server.use()


def policies(d, base):
    """gated: nothing without the code, then everything; open: everything
    without one."""
    try:
        server.use(policy="gated")
        d.execute_script("sessionStorage.clear()")
        H.load(d, base + "/c/" + HANDLE)
        H.wait_ready(d)
        H.wait_for(d, "#access-code")
        H.eq(d.find_elements(By.CSS_SELECTOR, ".summary"), [], "a summary without the code")
        H.screenshot(d, "gated-without-code")
        H.wait_for(d, "#access-code").send_keys(CODE)
        d.find_element(By.CSS_SELECTOR, ".code-form button[type=submit]").click()
        H.wait_js(d, "document.querySelectorAll('table.deltas tr[data-state]').length === 3")
        server.use(policy="open")
        d.execute_script("sessionStorage.clear()")
        H.load(d, base + "/c/" + HANDLE)
        H.wait_ready(d, "summary")
        H.eq(len(H.attrs(d, "table.deltas tr[data-state]", "data-state")), 3, "records of an open link")
        H.eq(d.find_elements(By.CSS_SELECTOR, "#access-code"), [], "a code form on an open link")
    finally:
        server.use()


def no_console_errors(d, base):
    H.eq(H.console_problems(d), [], "console errors (CSP violations included)")


def main():
    srv, base = server.start()
    tally = H.Tally("offline")
    d = H.make_driver()
    tmp = tempfile.mkdtemp(prefix="tally-browser-")
    try:
        d.get(base + "/c/" + HANDLE + "#check")
        H.wait_for(d, "#receipt-files")
        for name, fn in (("JS leaf and contentHash equal the C ones on leaves.jsonl", js_leaves),
                         ("JS Merkle roots and inclusion proofs equal tree.json", js_tree),
                         ("JS opens head-ecdsa.note and head-rsa.note with keys.json", js_heads),
                         ("JS verifies statement signatures, v1 and v2, ECDSA and RSA-PSS", js_statements),
                         ("JS decimals are exact", js_decimals),
                         ("JS reads JSON as strictly as common/jsonin.c", js_strict_json)):
            tally.check(name, fn, d, base)
        verifier = os.environ.get("TALLY_VERIFY") or os.path.join(H.ROOT, "build", "tally-verify")
        if os.access(verifier, os.X_OK):
            tally.check("the page's checks say what tally-verify says, on %d receipts" % len(differential.variants()),
                        same_as_tally_verify, d, base, verifier, tmp)
            tally.check("the page trusts the keys tally-verify trusts, on %d keys files and heads" % len(differential.head_variants()),
                        heads_same_as_tally_verify, d, base, verifier, tmp)
        else:
            tally.skip("the page's checks against tally-verify", "no %s (make, or set TALLY_VERIFY)" % verifier)
        tally.check("drop zone: receipt-v2-ecdsa.json all green", drop_ok, d, base, "receipt-v2-ecdsa.json", "check-v2")
        tally.check("drop zone: receipt-ecdsa.json all green", drop_ok, d, base, "receipt-ecdsa.json", "check-v1")
        tally.check("drop zone: one changed byte fails at deltas[2]", drop_tampered, d, base, tmp)
        tally.check("drop zone without a keys file: the server's keys, or none offline", drop_without_keys, d, base)
        tally.check("summary without the code", summary_without_code, d, base)
        tally.check("wrong codes refused, then rate-limited", wrong_code, d, base)
        tally.check("the code typed by keyboard alone opens the record", code_by_keyboard, d, base)
        tally.check("the code from #code=, everything shown and verified", summary_with_code, d, base)
        tally.check("a locked period: records and its receipt verified, printed", period_locked, d, base)
        tally.check("periods and the checkpoint chain", periods_chain, d, base)
        tally.check("compare states the difference exactly", compare, d, base)
        tally.check("a server that changes one byte: failed at that record", tampered_server, d, base)
        tally.check("CSV and receipt downloads", downloads, d, base)
        tally.check("times in the viewer's zone, UTC at a click", utc_toggle, d, base)
        tally.check("gated and open links", policies, d, base)
        tally.check("live: a recorded record turns verified on the open page", live_update, d, base)
        tally.check("labels, names, captions, headings, landmarks", accessible_basics, d, base)
        tally.check("no console errors or CSP violations", no_console_errors, d, base)
    finally:
        d.quit()
        srv.shutdown()
    print("artifacts in", H.artifacts_dir())
    return tally.summary()


if __name__ == "__main__":
    sys.exit(main())
