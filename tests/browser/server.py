"""A tiny static server for the offline browser test, on 127.0.0.1 (a
secure context, so WebCrypto works): the page as the shipped nginx and
Apache configs serve it, and the share endpoints of docs/shared.md
answered from fixtures/shared_fixture.py.

    /c/{anything}          web/index.html
    /shared-assets/{path}  web/{path}
    /api/v1/keys           the fixture's keys list
    /api/v1/shared/{handle}[/…]   the fixture (two_tier, code K7Q2PX)
    /vectors/{file}        tests/vectors/{file}, for the JS unit checks

Every answer carries the Content-Security-Policy the page is made for.
"""

import json
import os
import re
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WEB = os.path.join(ROOT, "web")
VECTORS = os.path.join(ROOT, "tests", "vectors")
sys.path.insert(0, os.path.join(HERE, "fixtures"))
import shared_fixture  # noqa: E402

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".json": "application/json", ".jsonl": "application/json",
         ".note": "text/plain; charset=utf-8", ".sig": "text/plain", ".pem": "text/plain"}
WRONG_MAX = 5


class Handler(SimpleHTTPRequestHandler):
    fixture = None
    wrong = 0
    lock = threading.Lock()

    def log_message(self, fmt, *args):  # quiet: the test prints what matters
        pass

    def send(self, status, body, ctype, extra=None):
        body = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def file(self, path):
        if not os.path.isfile(path):
            return self.send(404, "not found", "text/plain")
        with open(path, "rb") as f:
            self.send(200, f.read(), TYPES.get(os.path.splitext(path)[1], "application/octet-stream"))

    def ok(self, data):
        self.send(200, json.dumps({"success": True, "data": data}), "application/json")

    def error(self, status, code, message, extra=None, retry=None):
        err = {"code": code, "message": message}
        if retry is not None:
            err["retryAfterSeconds"] = retry
        self.send(status, json.dumps({"success": False, "error": err}), "application/json", extra)

    def safe_join(self, base, rel):
        path = os.path.realpath(os.path.join(base, rel))
        return path if path.startswith(base + os.sep) else None

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    # The code as the server decides it: None (no code), True, False.
    def code_ok(self):
        code = self.headers.get("X-Access-Code")
        if code is None:
            return None
        with Handler.lock:
            if re.sub(r"[\s-]", "", code.upper()) == shared_fixture.CODE:
                Handler.wrong = 0
                return True
            Handler.wrong += 1
            return False

    def route(self, method):
        url = urlsplit(self.path)
        p = url.path
        if method == "GET" and re.fullmatch(r"/c/[^/]*/?", p):
            return self.file(os.path.join(WEB, "index.html"))
        if method == "GET" and p.startswith("/shared-assets/"):
            path = self.safe_join(WEB, p[len("/shared-assets/"):])
            return self.file(path) if path else self.send(404, "not found", "text/plain")
        if method == "GET" and p.startswith("/vectors/"):
            path = self.safe_join(VECTORS, p[len("/vectors/"):])
            return self.file(path) if path else self.send(404, "not found", "text/plain")
        if method == "GET" and p == "/api/v1/keys":
            return self.ok({"keys": self.fixture["keys"]})
        m = re.fullmatch(r"/api/v1/shared/([^/]+)(/.*)?", p)
        if not m or m.group(1) != shared_fixture.HANDLE:
            return self.error(404, "NOT_FOUND", "no such share")
        return self.shared(method, m.group(2) or "", parse_qs(url.query))

    def shared(self, method, rest, query):
        fx = self.fixture
        if Handler.wrong >= WRONG_MAX and self.headers.get("X-Access-Code") is not None:
            return self.error(429, "RATE_LIMITED", "too many wrong access codes", {"Retry-After": "60"}, 60)
        code = self.code_ok()
        if code is False:
            return self.error(401, "ACCESS_CODE_INVALID", "the access code is not right")
        if method == "GET" and rest == "":
            if not code and fx["summary_full"]["policy"] == "gated":
                return self.error(401, "ACCESS_CODE_REQUIRED", "this needs the access code")
            return self.ok(fx["summary_full"] if code or fx["summary_full"]["policy"] == "open" else fx["summary_only"])
        if not code and fx["summary_full"]["policy"] != "open":
            return self.error(401, "ACCESS_CODE_REQUIRED", "this needs the access code")
        if method == "GET" and rest == "/periods":
            return self.ok(fx["periods"])
        m = re.fullmatch(r"/periods/(\d{4}-\d{2})/deltas", rest)
        if method == "GET" and m:
            d = fx["deltas"].get(m.group(1))
            return self.ok(d) if d else self.ok({"period": m.group(1), "treeHead": fx["deltas"]["2026-03"]["treeHead"],
                                                 "deltas": [], "keys": fx["keys"],
                                                 "pagination": {"limit": 100, "offset": 0, "total": 0}})
        m = re.fullmatch(r"/receipt/([A-Za-z0-9_]+)", rest)
        if method == "GET" and m:
            text = fx["receipts"].get(m.group(1))
            return self.send(200, text, "application/json") if text else self.error(404, "CHECKPOINT_NOT_FOUND", "no such checkpoint")
        if method == "GET" and rest == "/export.csv":
            period = query.get("period", [""])[0]
            d = fx["deltas"].get(period)
            if not d:
                return self.error(400, "VALIDATION_ERROR", "period")
            return self.send(200, shared_fixture.csv_of(d, "customer_acme"), "text/csv; charset=utf-8",
                             {"Content-Disposition": 'attachment; filename="customer_acme-%s.csv"' % period})
        if method == "POST" and rest == "/compare":
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
            return self.ok(shared_fixture.compare(fx, body.get("period"), body.get("yourTotal")))
        return self.error(404, "NOT_FOUND", "no such route")


def use(**kw):
    """Serves the fixture built with kw from now on (shared_fixture.build):
    the share a moment later (covered=10), or under another policy."""
    Handler.fixture = shared_fixture.build(VECTORS, **kw)


def start(port=0):
    """Starts the server on 127.0.0.1 in a thread; returns (server, base URL)."""
    Handler.fixture = shared_fixture.build(VECTORS)
    Handler.wrong = 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, "http://127.0.0.1:%d" % server.server_address[1]


if __name__ == "__main__":
    srv, base = start(int(sys.argv[1]) if len(sys.argv) > 1 else 8765)
    print("serving", base, "share", base + "/c/" + shared_fixture.HANDLE + "#code=" + shared_fixture.CODE)
    threading.Event().wait()
