#!/usr/bin/env python3
"""The borders between Tally's folders, checked on the source and on the
objects of a build (issue 19).  Usage: tests/border.py BUILD_DIR

- Berkeley DB is included only under store/, OpenSSL only under crypto/,
  libfcgi only by fcgi/server.c, json-c never by store/ or crypto/.
- No file of core/ outside the views (core/view*.c) builds JSON, names an
  API error code or an HTTP status; fcgi/ builds JSON only through views.
- No header but store/store.h defines a result as STORE_USER + n.
- No cycle between the files of core/ (x.c with its x.h; the files that
  share an x_internal.h are one): neither through #include nor through
  calls, read from the symbols each object defines and uses.

Each finding is printed; the exit status is 1 if there was one.
"""
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
findings = []


def source(pattern):
    return sorted(glob.glob(os.path.join(ROOT, pattern)))


def rel(path):
    return os.path.relpath(path, ROOT)


def grep(paths, regex, why, allow=lambda path: False):
    rx = re.compile(regex)
    for path in paths:
        if allow(rel(path)):
            continue
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if rx.search(line):
                    findings.append(f"{rel(path)}:{n}: {why}: "
                                    f"{line.strip()}")


def libraries():
    c_and_h = [p for folder in ("common", "crypto", "store", "core",
                                "deliver", "fcgi", "tools", "verify")
               for p in source(f"{folder}/*.[ch]")]
    grep([p for p in c_and_h if not rel(p).startswith("store/")],
         r'#include\s*<db\.h>', "Berkeley DB outside store/")
    grep([p for p in c_and_h if not rel(p).startswith("crypto/")],
         r'#include\s*<openssl/', "OpenSSL outside crypto/")
    grep([p for p in c_and_h if rel(p) != "fcgi/server.c"],
         r'#include\s*<fcgi', "libfcgi outside fcgi/server.c")
    grep(source("store/*.[ch]") + source("crypto/*.[ch]"),
         r'#include\s*<json-c/', "json-c below core/")


def api_codes():
    with open(os.path.join(ROOT, "fcgi/response.c"), encoding="utf-8") as f:
        codes = re.findall(r'\{\s*\d{3},\s*"([A-Z_]+)"\s*\}', f.read())
    if len(codes) < 10:
        findings.append("fcgi/response.c: the error table was not found")
    return codes


def views():
    def is_view(path):
        return os.path.basename(path).startswith("view")

    builders = r'json_object_(new_|object_add|array_add|array_put_idx)'
    grep(source("core/*.[ch]"), builders, "JSON built outside the views",
         lambda path: is_view(path))
    grep(source("fcgi/*.[ch]"), builders, "JSON built outside the views")
    grep(source("core/*.[ch]"),
         r'"(%s)"' % "|".join(api_codes()), "an API error code in core/",
         lambda path: is_view(path))
    grep(source("core/*.[ch]"), r'\bhttp_?status|\bHTTP\b',
         "HTTP in core/", lambda path: is_view(path))
    grep([p for p in source("*/*.h") if rel(p) != "store/store.h"],
         r'STORE_USER\s*[+-]', "a STORE_USER code in a header")


def module_of(path):
    """A file's module: its stem, x.c with x.h; files that share an
    x_internal.h (core/audit_search.c, core/audit.c) are one module.
    The views are files of their own: view_delta.c reads ledger.h's
    types and ledger.c's caller renders through it, which is no cycle
    as long as no view file is used by what it reads."""
    stem = os.path.splitext(os.path.basename(path))[0]
    if stem.endswith("_internal"):
        stem = stem[:-len("_internal")]
    head = stem.split("_")[0]
    if head != stem and os.path.exists(os.path.join(ROOT, "core",
                                                    head + "_internal.h")):
        return head
    return stem


def cycles(edges, what):
    """Reports each cycle of the module graph edges once."""
    state, stack, seen = {}, [], set()

    def visit(m):
        state[m] = 1
        stack.append(m)
        for n in sorted(edges.get(m, ())):
            if state.get(n) == 1:
                loop = stack[stack.index(n):]
                key = frozenset(loop)
                if key not in seen:
                    seen.add(key)
                    findings.append(f"core/: a cycle of {what}: "
                                    + " -> ".join(loop + [n]))
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)


def core_includes():
    edges = {}
    rx = re.compile(r'#include\s+"([a-z_]+)\.h"')
    for path in source("core/*.[ch]"):
        m = module_of(path)
        with open(path, encoding="utf-8") as f:
            for inc in rx.findall(f.read()):
                n = module_of(os.path.join(ROOT, "core", inc + ".h"))
                if n != m:
                    edges.setdefault(m, set()).add(n)
    cycles(edges, "includes")


def core_calls(build):
    objects = sorted(glob.glob(os.path.join(build, "core", "*.o")))
    if not objects:
        findings.append(f"{build}/core: no objects; build first")
        return
    defines, uses = {}, {}
    for obj in objects:
        m = module_of(obj)
        out = subprocess.run(["nm", obj], capture_output=True, text=True,
                             check=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "TDBR":
                defines[parts[2]] = m
            elif len(parts) == 2 and parts[0] == "U":
                uses.setdefault(m, set()).add(parts[1])
    edges = {}
    for m, symbols in uses.items():
        for sym in symbols:
            n = defines.get(sym)
            if n is not None and n != m:
                edges.setdefault(m, set()).add(n)
    cycles(edges, "calls")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: tests/border.py BUILD_DIR")
    libraries()
    views()
    core_includes()
    core_calls(sys.argv[1])
    for f in findings:
        print(f)
    print(f"borders: {len(findings)} finding(s)")
    sys.exit(1 if findings else 0)


main()
