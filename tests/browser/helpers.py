"""Shared helpers of the browser tests (test_offline.py, and
test_live.py against tallyd through nginx and Apache): a headless Debian Chromium driven
by chromedriver, waits on the page's own state attributes, screenshots
and PDFs kept as artifacts, and a tally of checks that ends in one
summary line.  Run with /usr/bin/python3 (Debian's python3-selenium)."""

import base64
import os
import sys
import time
import traceback

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
VECTORS = os.path.join(ROOT, "tests", "vectors")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
TIMEOUT = float(os.environ.get("BROWSER_TIMEOUT", "30"))


def artifacts_dir():
    d = os.environ.get("ARTIFACTS") or os.path.join(HERE, "artifacts")
    os.makedirs(d, exist_ok=True)
    return d


def make_driver(width=1280, height=900, extra_args=()):
    """One headless Chromium (with extra_args, Chromium flags, added); the
    caller quits it (one at a time: the machine is shared)."""
    o = webdriver.ChromeOptions()
    o.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              "--no-first-run", "--disable-extensions", "--lang=en-GB", "--force-device-scale-factor=1",
              "--window-size=%d,%d" % (width, height)) + tuple(extra_args):
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The test's own time zone, so that local times are the same every run.
    os.environ.setdefault("TZ", "Europe/Berlin")
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=o)
    d.set_script_timeout(TIMEOUT)
    return d


def wait_for(driver, css, timeout=TIMEOUT):
    """The first element matching css, once there."""
    return WebDriverWait(driver, timeout).until(lambda d: d.find_element(By.CSS_SELECTOR, css))


def wait_js(driver, expr, timeout=TIMEOUT):
    """Waits until the JavaScript expression is truthy; returns its value."""
    return WebDriverWait(driver, timeout).until(lambda d: d.execute_script("return " + expr))


def wait_downloads(driver, where, names, timeout=TIMEOUT):
    """Waits until Chromium has saved every one of names in the directory
    where: each there, none still in progress (.crdownload), and each of a
    size that holds between two looks 0.2 s apart.  Chromium may name a
    file before its bytes are in it: a test read one empty once."""
    def sizes():
        have = set(os.listdir(where))
        if not set(names) <= have or any(n.endswith(".crdownload") for n in have):
            return None
        return [os.path.getsize(os.path.join(where, n)) for n in names]

    def settled(_):
        before = sizes()
        if before is None or 0 in before:
            return False
        time.sleep(0.2)
        return sizes() == before

    WebDriverWait(driver, timeout).until(settled)


def wait_ready(driver, view=None, timeout=TIMEOUT):
    """Waits for the page to have drawn a view (main[data-ready]) and for
    every check it started to end (no .loading left)."""
    cond = "document.querySelector('main[data-ready=\"true\"]%s') && !document.querySelector('main .loading')" % (
        '[data-view="%s"]' % view if view else "")
    return wait_js(driver, cond, timeout)


def page_js(driver, body, *args):
    """Runs an async function body in the page (ES modules may be
    imported with `await import(...)`); returns what it returns, or raises
    with the page's error."""
    script = ("const done = arguments[arguments.length - 1];"
              "(async (...args) => { %s })(...Array.from(arguments).slice(0, -1))"
              ".then((v) => done({ ok: v }), (e) => done({ error: String(e && e.stack || e) }));" % body)
    r = driver.execute_async_script(script, *args)
    if "error" in r:
        raise AssertionError("in the page: " + r["error"])
    return r["ok"]


def full_size(driver, width=None):
    m = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = m.get("cssContentSize") or m["contentSize"]
    return int(width or size["width"]), int(size["height"])


def screenshot(driver, name, width=None, media=None):
    """The whole page as artifacts/NAME.png, at width (CSS px) if given,
    under CSS media type media ("print") if given."""
    if media:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": media})
    if width:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": width < 600})
        time.sleep(0.2)
    w, h = full_size(driver, width)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": w, "height": min(h, 12000), "deviceScaleFactor": 1, "mobile": bool(width and width < 600)})
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    if media:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    path = os.path.join(artifacts_dir(), name + ".png")
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    return path


def print_pdf(driver, name):
    """Print → Save as PDF, as Chrome does it: artifacts/NAME.pdf; returns
    (path, bytes)."""
    pdf = driver.execute_cdp_cmd("Page.printToPDF", {"printBackground": False, "preferCSSPageSize": True})
    data = base64.b64decode(pdf["data"])
    path = os.path.join(artifacts_dir(), name + ".pdf")
    with open(path, "wb") as f:
        f.write(data)
    return path, data


def pdf_pages(path):
    """How many pages a PDF has (pdfinfo, poppler-utils); its pages are
    also rendered next to it as NAME-page-N.png, to be looked at."""
    import subprocess
    info = subprocess.run(["pdfinfo", path], check=True, capture_output=True, text=True).stdout
    pages = int(next(l.split()[1] for l in info.splitlines() if l.startswith("Pages:")))
    subprocess.run(["pdftoppm", "-r", "60", "-png", path, path[:-4] + "-page"], check=True)
    return pages


def console_problems(driver):
    """Severe console lines since the last call (script errors, CSP
    violations), less the failed loads the tests provoke on purpose (a
    wrong code is a 401; a fetch with the network cut off fails)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"
            and "favicon.ico" not in e["message"]
            and "the server responded with a status of 4" not in e["message"]
            and "net::ERR_INTERNET_DISCONNECTED" not in e["message"]]


def load(driver, url):
    """Opens url as a new document, even when only its fragment differs
    from the current one (which a browser would treat as a jump)."""
    driver.get("about:blank")
    driver.get(url)


# texts and attrs read in one script, at one moment: a page that redraws
# itself (records awaiting a signed head are looked at again every few
# seconds) would leave element references read one by one stale.
def texts(driver, css):
    return driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map((e) => e.innerText.trim())", css)


def attrs(driver, css, name):
    return driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map((e) => e.getAttribute(arguments[1]))", css, name)


def text(driver, css):
    """The text of the first element matching css, at one moment."""
    return texts(driver, css)[0]


class TamperProxy:
    """An HTTP proxy on 127.0.0.1 in front of upstream (a base URL) that
    passes every request through and lets rewrite(path, body) -> body
    change an answer's bytes on the way back: a server that lies, for the
    page to catch.  start() returns the proxy's base URL; stop() ends it."""

    def __init__(self, upstream, rewrite):
        self.upstream = upstream.rstrip("/")
        self.rewrite = rewrite

    def start(self):
        import http.client
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import urlsplit

        proxy = self
        up = urlsplit(self.upstream)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, fmt, *args):
                pass

            def relay(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                conn = (http.client.HTTPSConnection if up.scheme == "https" else http.client.HTTPConnection)(
                    up.hostname, up.port, timeout=TIMEOUT)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                headers["Host"] = up.netloc
                conn.request(self.command, self.path, body or None, headers)
                res = conn.getresponse()
                data = proxy.rewrite(urlsplit(self.path).path, res.read())
                self.send_response(res.status)
                for k, v in res.getheaders():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = relay

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def stop(self):
        self.server.shutdown()


def change_one_byte(body, old, new):
    """body with its one occurrence of old (bytes) changed to new, which
    must differ in one byte; fails loudly when old is not there once."""
    if body.count(old) != 1 or len(old) != len(new):
        raise AssertionError("cannot change %r once in the answer" % old)
    return body.replace(old, new)


class Tally:
    """Counts checks; each prints ok or FAIL with why; summary() prints
    the one line the runner greps and returns the exit status."""

    def __init__(self, suite):
        self.suite = suite
        self.passed = 0
        self.failed = 0

    def check(self, name, fn, *args):
        try:
            fn(*args)
        except Exception as e:  # an assertion, a timeout, the page's error
            self.failed += 1
            print("FAIL %s: %s" % (name, str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__))
            if os.environ.get("BROWSER_VERBOSE"):
                traceback.print_exc()
            return False
        self.passed += 1
        print("ok   %s" % name)
        return True

    def skip(self, name, why):
        print("skip %s: %s" % (name, why))

    def summary(self):
        print("browser: %d passed, %d failed (%s)" % (self.passed, self.failed, self.suite))
        sys.stdout.flush()
        return 1 if self.failed else 0


def eq(got, want, what=""):
    if got != want:
        raise AssertionError("%s%r, want %r" % (what + ": " if what else "", got, want))
