"""The page against the real tallyd, through nginx and through Apache
(tests/browser/live.sh brings the stack up and passes everything here in
LIVE_* variables): the summary with the link alone, everything with the
code, wrong codes refused and then limited, the figures equal to
derive's to the last digit, every record and both locked months verified
by the browser with the chain between them, a byte changed on the way
caught at its record, the CSV and the receipt as the server sends them,
compare, the gated and open policies, and a recorded record turning
verified on the open page.  Each view is kept as a screenshot, the
printed statement as a PDF; look at them."""

import base64
import json
import os
import re
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers as H  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

ENV = os.environ
HANDLE, CODE, CUSTOMER = ENV["LIVE_HANDLE"], ENV["LIVE_CODE"], ENV["LIVE_CUSTOMER"]
LOCKED = ("2026-10", "2026-11")
CURRENT = "2026-12"
BIG = "987654321.123456789"
# A code of the right alphabet that is not the link's.
WRONG = "AAAAAA" if CODE != "AAAAAA" else "BBBBBB"


class Clock:
    """The stack's simulated clock (libfaketime reads LIVE_CLOCK): moved
    on, never back, so that a rate-limited link's minute passes at once."""

    def __init__(self):
        self.now = datetime.strptime(ENV["LIVE_NOW"], "%Y-%m-%d %H:%M:%S")

    def advance(self, minutes):
        self.now += timedelta(minutes=minutes)
        with open(ENV["LIVE_CLOCK"], "w") as f:
            f.write(self.now.strftime("@%Y-%m-%d %H:%M:%S\n"))


CLOCK = Clock()


def http(base, path, headers=None, body=None):
    """(status, headers, bytes) of one request, errors included."""
    req = urllib.request.Request(base + path, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=H.TIMEOUT) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def shared(base, path, code=CODE):
    """A customer's request on the link, with the code."""
    return http(base, "/api/v1/shared/%s%s" % (HANDLE, path), {"X-Access-Code": code} if code else {})


def vendor(base, method, path, body=None):
    status, _, data = http(base, "/api/v1" + path, {"X-Api-Key": ENV["LIVE_VENDOR_KEY"],
                                                    "Content-Type": "application/json"}, body)
    if status // 100 != 2:
        raise AssertionError("%s %s: %d %s" % (method, path, status, data[:200]))
    return data


def exact(name, body):
    """A JSON number member as the server wrote it (json would read a
    double and lose the last digits)."""
    m = re.search(rb'"%s":(-?[0-9.eE+-]+)' % name.encode(), body)
    if not m:
        raise AssertionError("no %s in %s" % (name, body[:200]))
    return m.group(1).decode()


def derive(base, period=None):
    return vendor(base, "GET", "/balance/derive/%s%s" % (CUSTOMER, "?period=" + period if period else ""))


def settle(base):
    """Until a signed tree head covers every delta of the customer."""
    for _ in range(100):
        if json.loads(derive(base))["data"]["pendingCount"] == 0:
            return
        time.sleep(0.1)
    raise AssertionError("no signed head covers the new delta")


def states(d):
    return H.attrs(d, "table.deltas tr[data-state]", "data-state")


def shot(d, front, name, **kw):
    """A screenshot kept as an artifact, once the page is seen to fit the
    window's width (long hashes in a failed record's row once made the
    whole page scroll sideways)."""
    over = d.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if over > 0:
        raise AssertionError("the page is %d px wider than the window" % over)
    return H.screenshot(d, "live-%s-%s" % (front, name), **kw)


def open_record(d, base, fragment=""):
    H.load(d, base + "/c/" + HANDLE + fragment)


def summary_link_alone(d, front, base):
    open_record(d, base)  # a new origin for each front: no code in its storage yet
    H.wait_ready(d, "summary")
    H.wait_for(d, "#access-code")
    H.eq(H.attrs(d, ".summary .total .amount", "data-amount"), [exact("netChange", derive(base, CURRENT))],
         "the month's total against derive's")
    H.eq(d.find_elements(By.CSS_SELECTOR, "table.deltas"), [], "records without the code")
    text = d.find_element(By.CSS_SELECTOR, ".summary").text
    n = json.loads(derive(base, CURRENT))["data"]["deltasCount"]
    for want in ("Records\n%d" % n, "In a signed tree head\n%d of %d" % (n, n)):
        if want not in text:
            raise AssertionError("the summary does not say %r: %s" % (want, text))
    if d.find_element(By.CSS_SELECTOR, ".summary dd:nth-of-type(3)").text.startswith("not all"):
        raise AssertionError("no 'verified through' date")
    shot(d, front, "summary-without-code")


def submit_code(d, code):
    """Types a code in the page's form and waits for the page's answer
    (a new form, or the record)."""
    d.execute_script("document.querySelector('.code-form').dataset.old = '1'")
    H.wait_for(d, "#access-code").send_keys(code)
    d.find_element(By.CSS_SELECTOR, ".code-form button[type=submit]").click()


def wrong_codes(d, front, base):
    """Five wrong codes refused (401), the sixth limited (429): the page
    says each, the server says 429 even to the right code meanwhile; a
    minute on, the right code opens again and the count starts over."""
    open_record(d, base)
    H.wait_ready(d, "summary")
    for i in range(6):
        submit_code(d, WRONG)
        msg = H.wait_js(d, "document.querySelector('.code-form:not([data-old]) #code-error')?.textContent")
        want = "That code was not accepted" if i < 5 else "Too many codes were tried. Try again in"
        if not msg.startswith(want):
            raise AssertionError("wrong code %d: %s" % (i + 1, msg))
    shot(d, front, "code-rate-limited")
    H.eq(shared(base, "/periods")[0], 429, "the right code while limited")
    H.eq(shared(base, "", code=None)[0], 200, "the link alone while limited")
    CLOCK.advance(2)
    H.eq(shared(base, "/periods")[0], 200, "the right code a minute on")


def with_code(d, front, base):
    open_record(d, base, "#code=" + CODE.lower()[:3] + "-" + CODE.lower()[3:])
    H.wait_ready(d, "summary")
    if "code" in d.current_url:
        raise AssertionError("the code is still in the address bar: " + d.current_url)
    H.eq(d.execute_script("return sessionStorage.getItem('tally.accessCode.%s')" % HANDLE), CODE, "the tab's code")
    H.eq(states(d), ["verified"] * json.loads(derive(base, CURRENT))["data"]["deltasCount"], "December's records")
    net = exact("netChange", derive(base, CURRENT))
    H.eq(H.attrs(d, ".summary .total .amount", "data-amount"), [net], "the summary's total against derive's")
    H.eq(H.attrs(d, ".period .figures .amount", "data-amount"), [net, net], "the browser's sum and the server's")
    H.eq(H.attrs(d, ".period > .verdict", "data-verdict"), ["ok"], "verdict")
    keys = json.loads(http(base, "/api/v1/keys")[2])["data"]["keys"]
    genesis = min(keys, key=lambda k: k["validFrom"])["keyId"]
    trust = d.find_element(By.CSS_SELECTOR, ".verification .trust").text
    if "Trust root: key %s" % genesis not in trust:
        raise AssertionError("the trust root is not the genesis key %s: %s" % (genesis, trust))
    shot(d, front, "summary-with-code")
    if front == "nginx" and ENV.get("README_SHOT"):
        readme_shot(d, ENV["README_SHOT"])
    if front == "nginx":
        shot(d, front, "summary-phone", width=390)


def readme_shot(d, path):
    """README's picture (README_SHOT=docs/img/shared-record.png): the
    month with its records verified, at a width a README shows unscaled,
    cut below the records."""
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                      {"width": 860, "height": 1600, "deviceScaleFactor": 1, "mobile": False})
    try:
        bottom = H.wait_js(d, "document.querySelector('.period .table-wrap')?.getBoundingClientRect().bottom")
        shot = d.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                             "clip": {"x": 0, "y": 0, "width": 860, "height": bottom + 4, "scale": 1}})
    finally:
        d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))


def locked_month(d, front, base, period):
    open_record(d, base, "#period=" + period)
    H.wait_ready(d, "period")
    n = json.loads(derive(base, period))["data"]["deltasCount"]
    H.eq(states(d), ["verified"] * n, "records")
    net = exact("netChange", derive(base, period))
    H.eq(H.attrs(d, ".period > .figures .amount", "data-amount"), [net, net], "the totals against derive's")
    H.eq(H.attrs(d, ".receipt-checks .check", "data-status"), ["ok"] * 10, "the receipt's checks")
    H.eq(H.attrs(d, ".checkpoint .verdict", "data-verdict"), ["ok"], "the receipt's verdict")
    H.eq(H.attrs(d, ".checkpoint .statement dd:nth-of-type(5) .amount", "data-amount"), [net], "the checkpoint's net change")
    chain = d.find_element(By.CSS_SELECTOR, ".receipt-checks .check[data-check='chain']").get_attribute("textContent")
    if ("predecessor" if period == "2026-11" else "first checkpoint") not in chain:
        raise AssertionError("the chain check: " + chain)
    if period == "2026-10" and BIG not in H.attrs(d, "table.deltas .amount", "data-amount"):
        raise AssertionError("%s is not shown exactly" % BIG)
    shot(d, front, "period-" + period)


def printed(d, front, base):
    """October as printed: one page, the print stylesheet's statement."""
    open_record(d, base, "#period=2026-10")
    H.wait_ready(d, "period")
    shot(d, front, "period-2026-10-print", media="print")
    path, pdf = H.print_pdf(d, "live-%s-period-2026-10" % front)
    if not pdf.startswith(b"%PDF"):
        raise AssertionError("no PDF")
    H.eq(H.pdf_pages(path), 1, "pages of the printed statement")


def periods_chain(d, front, base):
    """The periods newest first, the two checkpoints one chain; and the
    balance derive states is November's ending plus December's net."""
    open_record(d, base, "#periods")
    H.wait_ready(d, "periods")
    H.eq(H.attrs(d, "table.periods tbody tr", "data-period"), [CURRENT, "2026-11", "2026-10"], "periods")
    H.eq(H.attrs(d, ".chain > li", "data-status"), ["ok", "ok"], "the chain's links")
    H.eq(H.attrs(d, ".chain-view .verdict", "data-verdict"), ["ok"], "the chain's verdict")
    nets = dict(zip(H.attrs(d, "table.periods tbody tr", "data-period"),
                    H.attrs(d, "table.periods tbody tr .amount", "data-amount")))
    for p in LOCKED + (CURRENT,):
        H.eq(nets[p], exact("netChange", derive(base, p)), p + "'s net against derive's")
    november = d.find_element(By.CSS_SELECTOR, ".chain > li:first-child")
    ending = november.find_elements(By.CSS_SELECTOR, ".amount")[1].get_attribute("data-amount")
    H.eq(Decimal(ending) + Decimal(nets[CURRENT]), Decimal(exact("computedBalance", derive(base))),
         "November's ending plus December's net against derive's balance")
    shot(d, front, "periods")


def tampered(d, front, base):
    """A proxy in front of the real stack changes one byte of October's
    first record (…789 becomes …788) in the deltas answer and in the
    receipt: the page fails that record, and only it."""
    def rewrite(path, body):
        if path.endswith("/periods/2026-10/deltas") or "/receipt/" in path:
            return H.change_one_byte(body, b'"delta":"%s"' % BIG.encode(), b'"delta":"%s8"' % BIG[:-1].encode())
        return body
    proxy = H.TamperProxy(base, rewrite)
    pbase = proxy.start()
    try:
        # The proxy is another origin: a new tab's storage, so the code again.
        H.load(d, pbase + "/c/" + HANDLE + "#code=" + CODE + "&period=2026-10")
        H.wait_ready(d, "period")
        H.eq(states(d), ["failed", "verified", "verified"], "records")
        H.eq(H.attrs(d, ".period > .verdict", "data-verdict"), ["fail"], "the period's verdict")
        H.eq(H.attrs(d, ".checkpoint .verdict", "data-verdict"), ["fail"], "the receipt's verdict")
        failed = H.attrs(d, ".receipt-checks .check[data-status='fail']", "data-check")
        H.eq(failed, ["deltas", "proofRoot", "netChange", "inclusion"], "the receipt's failed checks")
        row = d.find_element(By.CSS_SELECTOR, "table.deltas tr[data-state='failed'] + tr.problem-row").text
        record = json.loads(shared(base, "/periods/2026-10/deltas")[2])["data"]["deltas"][0]["recordId"]
        if "leafHash" not in row or record not in row:
            raise AssertionError("the failed row does not name its record and hash: " + row)
        shot(d, front, "period-tampered")
    finally:
        proxy.stop()


def dropped_files(d, front, base):
    """The receipts of both locked months as a customer saved them, and
    the keys file, checked in the drop zone with the network off: all
    green, the chain between them included; then November's with one
    changed byte (…001 becomes …002 in its second record): failed at
    that record."""
    tmp = tempfile.mkdtemp(prefix="tally-live-files-")
    periods = json.loads(shared(base, "/periods")[2])["data"]["periods"]
    files = {}
    for p in periods:
        if p["checkpoint"]:
            files[p["period"]] = os.path.join(tmp, "%s.json" % p["period"])
            with open(files[p["period"]], "wb") as f:
                f.write(shared(base, "/receipt/" + p["checkpoint"]["checkpointId"])[2])
    keys = os.path.join(tmp, "keys.json")
    with open(keys, "wb") as f:
        f.write(json.dumps(json.loads(http(base, "/api/v1/keys")[2])["data"]).encode())
    check_files(d, base, [files["2026-10"], files["2026-11"], keys])
    H.eq(H.attrs(d, ".file-result", "data-verdict"), ["ok", "ok"], "verdicts")
    H.eq(H.attrs(d, ".file-result .check", "data-status"), ["ok"] * 20, "checks")
    shot(d, front, "check-files")
    body = open(files["2026-11"], "rb").read()
    with open(files["2026-11"], "wb") as f:
        f.write(H.change_one_byte(body, b'"delta":"12.000000001"', b'"delta":"12.000000002"'))
    check_files(d, base, [files["2026-11"], keys])
    H.eq(H.attrs(d, ".file-result", "data-verdict"), ["fail"], "the changed receipt's verdict")
    H.eq(H.attrs(d, ".file-result tr[data-state]", "data-state"), ["verified", "failed"], "its records")
    shot(d, front, "check-file-tampered")


def check_files(d, base, paths):
    """Gives files to the drop zone's input with the network cut off;
    returns when the page has checked them."""
    open_record(d, base, "#check")
    H.wait_for(d, "#receipt-files")
    d.set_network_conditions(offline=True, latency=0, download_throughput=0, upload_throughput=0)
    try:
        d.find_element(By.CSS_SELECTOR, "#receipt-files").send_keys("\n".join(paths))
        H.wait_js(d, "document.querySelector('.file-results[data-done=\"true\"]')")
    finally:
        d.delete_network_conditions()


def downloads(d, front, base):
    """The CSV and the receipt the page saves are the server's bytes."""
    where = tempfile.mkdtemp(prefix="tally-live-downloads-")
    d.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": where})
    open_record(d, base, "#period=2026-10")
    H.wait_ready(d, "period")
    for label in ("Download CSV", "Download the receipt"):
        d.find_element(By.XPATH, "//button[normalize-space()='%s']" % label).click()
    checkpoint = json.loads(shared(base, "/periods")[2])["data"]["periods"][2]["checkpoint"]["checkpointId"]
    csv, receipt = "%s-2026-10.csv" % CUSTOMER, "%s-2026-10-%s.json" % (CUSTOMER, checkpoint)
    H.wait_downloads(d, where, [csv, receipt])
    got = open(os.path.join(where, csv), "rb").read()
    H.eq(got, shared(base, "/export.csv?period=2026-10")[2], "the CSV against the server's export")
    if ("," + BIG + ",").encode() not in got:
        raise AssertionError("the CSV does not hold %s exactly" % BIG)
    got = open(os.path.join(where, receipt), "rb").read()
    H.eq(got, shared(base, "/receipt/" + checkpoint)[2], "the receipt against the server's")


def compare(d, front, base):
    """The same figure, and a figure a float made: facts, to the digit."""
    open_record(d, base, "#compare")
    H.wait_ready(d, "compare")
    net = exact("netChange", derive(base, "2026-10"))
    for figure, sentence in ((net, "Your figure and the recorded total are the same."),
                             ("987654318.97345679", "Your figure is 0.000000001 more than the recorded total.")):
        d.execute_script("document.querySelector('#compare-period').value = '2026-10'")
        box = d.find_element(By.CSS_SELECTOR, "#compare-total")
        box.clear()
        box.send_keys(figure)
        d.execute_script("document.querySelector('.compare-result')?.remove()")
        d.find_element(By.CSS_SELECTOR, ".compare-form button[type=submit]").click()
        H.wait_for(d, ".compare-result")
        H.eq(d.find_element(By.CSS_SELECTOR, ".compare-result .verdict").text, sentence, figure)
    recorded = d.find_elements(By.CSS_SELECTOR, ".compare-result dd .amount")[1].get_attribute("data-amount")
    H.eq(recorded, net, "the recorded total against derive's")
    shot(d, front, "compare")


def policies(d, front, base):
    """gated: nothing but the code form without the code, everything with
    it; open: everything without one."""
    H.load(d, base + "/c/" + ENV["LIVE_GATED_HANDLE"])
    H.wait_ready(d)
    H.wait_for(d, "#access-code")
    H.eq(d.find_elements(By.CSS_SELECTOR, ".summary"), [], "a summary of a gated link without the code")
    shot(d, front, "gated-without-code")
    submit_code(d, ENV["LIVE_GATED_CODE"])
    H.wait_js(d, "document.querySelectorAll('table.deltas tr[data-state=\"verified\"]').length === 1")
    H.load(d, base + "/c/" + ENV["LIVE_OPEN_HANDLE"])
    H.wait_ready(d, "summary")
    H.eq(states(d), ["verified"], "the records of an open link")
    H.eq(d.find_elements(By.CSS_SELECTOR, "#access-code"), [], "a code form on an open link")
    shot(d, front, "open")


def hold_back_newest(path, body):
    """What tallyd answers between recording a delta and its next signed
    head (at most sth_interval_ms, too short to catch): the newest delta
    of the month recorded, not verified; the summary counting it so."""
    if path == "/api/v1/shared/" + HANDLE:
        n = int(exact("verifiedCount", body))
        body = body.replace(b'"verifiedCount":%d' % n, b'"verifiedCount":%d' % (n - 1))
        return re.sub(rb'"verifiedThrough":"[^"]*"', b'"verifiedThrough":null', body)
    if path.endswith("/periods/%s/deltas" % CURRENT):
        at = body.rindex(b'"state":"verified"')
        body = body[:at] + b'"state":"recorded"' + body[at + len(b'"state":"verified"'):]
        return re.sub(rb'"inclusionProof":\[[^\]]*\]\}\]', b'"inclusionProof":null}]', body)
    return body


def live_update(d, front, base):
    """A delta recorded through the vendor API; the page first sees it
    recorded (a proxy answers as tallyd does before the next head), then,
    the proxy out of the way, turns it verified without a reload."""
    vendor(base, "POST", "/balance/delta", json.dumps({"customerId": CUSTOMER, "delta": 0.5,
                                                       "reason": "Recorded while you look (%s)" % front}).encode())
    settle(base)
    held = {"on": True}
    proxy = H.TamperProxy(base, lambda p, b: hold_back_newest(p, b) if held["on"] else b)
    pbase = proxy.start()
    try:
        H.load(d, pbase + "/c/" + HANDLE + "#code=" + CODE)
        H.wait_ready(d, "summary")
        rows = states(d)
        H.eq(rows[-1], "recorded", "the newest record at first")
        H.eq(set(rows[:-1]), {"verified"}, "the others")
        shot(d, front, "summary-recorded")
        d.execute_script("document.body.dataset.sameDocument = '1'")
        held["on"] = False
        H.wait_js(d, "[...document.querySelectorAll('table.deltas tr[data-state]')].every((r) => r.dataset.state === 'verified')", 30)
        H.eq(d.execute_script("return document.body.dataset.sameDocument"), "1", "the same page, not reloaded")
        H.eq(len(states(d)), len(rows), "records")
        H.eq(H.attrs(d, ".summary .total .amount", "data-amount"), [exact("netChange", derive(base, CURRENT))],
             "the total against derive's")
        if "not all records" in d.find_element(By.CSS_SELECTOR, ".summary").text:
            raise AssertionError("'verified through' not updated")
        shot(d, front, "summary-verified-live")
    finally:
        proxy.stop()


def no_console_errors(d, front, base):
    H.eq(H.console_problems(d), [], "console errors (CSP violations included)")


CHECKS = (
    ("the summary with the link alone (two_tier), equal to derive's", summary_link_alone),
    ("wrong codes refused, then 429, then a minute on the right code opens", wrong_codes),
    ("the code from #code=: everything, verified, gone from the address bar", with_code),
    ("October (locked): every record and the receipt verified, to the digit", lambda d, f, b: locked_month(d, f, b, "2026-10")),
    ("November (locked): every record and the receipt verified, to the digit", lambda d, f, b: locked_month(d, f, b, "2026-11")),
    ("October printed: a one-page PDF", printed),
    ("periods and the checkpoint chain between the locked months", periods_chain),
    ("one changed byte on the way: failed at that record", tampered),
    ("saved receipts dropped on the page, offline: green; one changed byte: failed at that record", dropped_files),
    ("CSV and receipt downloads are the server's bytes", downloads),
    ("compare states facts, exactly", compare),
    ("gated and open links", policies),
    ("a recorded delta turns verified on the open page", live_update),
    ("no console errors or CSP violations", no_console_errors),
)


def plain_http(front, base):
    """The link over plain HTTP on a name that is not loopback (mapped to
    127.0.0.1 for the browser): no secure context, no WebCrypto; the
    page says to open it over HTTPS, with the link, and checks nothing."""
    port = base.rsplit(":", 1)[1]
    d = H.make_driver(extra_args=("--host-resolver-rules=MAP tally.invalid 127.0.0.1",))
    try:
        H.load(d, "http://tally.invalid:%s/c/%s#code=%s" % (port, HANDLE, CODE))
        H.wait_ready(d, "insecure")
        H.eq(d.execute_script("return window.isSecureContext"), False, "a secure context")
        link = d.find_element(By.CSS_SELECTOR, "main a").get_attribute("href")
        H.eq(link, "https://tally.invalid/c/%s#code=%s" % (HANDLE, CODE), "the HTTPS link")
        H.eq(d.find_elements(By.CSS_SELECTOR, ".summary, #access-code"), [], "a summary or code form")
        shot(d, front, "plain-http")
    finally:
        d.quit()


def main():
    tally = H.Tally("live")
    fronts = [f.split("=", 1) for f in ENV["LIVE_FRONTS"].split()]
    d = H.make_driver()
    try:
        for front, base in fronts:
            started = time.monotonic()
            for name, fn in CHECKS:
                tally.check("%s: %s" % (front, name), fn, d, front, base)
            print("     (%s: %.1f s)" % (front, time.monotonic() - started))
    finally:
        d.quit()
    # A browser of its own (one at a time): the name mapping is a launch flag.
    front, base = fronts[0]
    tally.check("%s: over plain HTTP, the page asks for HTTPS and checks nothing" % front, plain_http, front, base)
    print("artifacts in", H.artifacts_dir())
    if tally.passed + tally.failed == 0:
        print("browser: nothing ran (live)")
        return 1
    return tally.summary()


if __name__ == "__main__":
    sys.exit(main())
