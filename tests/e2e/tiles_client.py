#!/usr/bin/env python3
"""An independent C2SP tlog-tiles client for Tally's log (issue 22).

It shares nothing with tallyd: the Python standard library, the spec
(c2sp.org/tlog-tiles, tlog-checkpoint, signed-note) and RFC 9162 only.
It fetches <url>/log/checkpoint, checks the note's signature with the
openssl command line against the key /api/v1/keys publishes, recomputes
the root hash from tiles alone, checks that an older checkpoint's root is
the root of the new tree's prefix (consistency, from tiles), and for each
record given, that the level-0 tile holds its leaf hash and that the
audit path built from tiles leads to the checkpoint's root.

    tiles_client.py URL [--old NOTE_FILE ...] [--key APIKEY --record ID ...]
        [--expect-size N]

Prints one line per check and exits 1 if any fails.
"""
import argparse
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

HEIGHT = 8
WIDTH = 1 << HEIGHT

failed = 0
fetched = {}


def check(what, ok, detail=""):
    global failed
    print("   %s   %s%s" % ("ok" if ok else "FAIL", what,
                            "" if ok else ": " + detail))
    if not ok:
        failed += 1


def get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read(), r.headers


def tile_path(level, n, width):
    """<L>/<N>[.p/<W>], N in 3-digit groups, all but the last with x."""
    groups = []
    while True:
        groups.append("%03d" % (n % 1000))
        n //= 1000
        if n == 0:
            break
    groups.reverse()
    path = "%d/%s" % (level, "/".join(["x" + g for g in groups[:-1]] +
                                      groups[-1:]))
    return path + (".p/%d" % width if width < WIDTH else "")


def parse_note(text):
    """origin, size, root and the signature lines of a checkpoint."""
    body, sep, sigs = text.partition("\n\n")
    lines = body.split("\n")
    if not sep or len(lines) < 3 or not text.endswith("\n"):
        raise ValueError("not a signed note: %r" % text[:200])
    root = base64.b64decode(lines[2], validate=True)
    if len(root) != 32 or not lines[1].isdigit():
        raise ValueError("bad size or root: %r" % lines[1:3])
    return {"origin": lines[0], "size": int(lines[1]), "root": root,
            "signed": body + "\n",
            "sigs": [s for s in sigs.split("\n") if s]}


def node(a, b):
    return hashlib.sha256(b"\x01" + a + b).digest()


class Tiles:
    """The tree of one checkpoint, read from tiles."""

    def __init__(self, url, size):
        self.url, self.size = url, size

    def tile(self, level, n):
        """Tile n of level as the tree of self.size holds it."""
        full = (n + 1) * WIDTH ** (level + 1) <= self.size
        width = WIDTH if full else (self.size // WIDTH ** level) % WIDTH
        key = (level, n, width)
        if key not in fetched:
            path = tile_path(level, n, width)
            body, hdr = get("%s/log/tile/%s" % (self.url, path))
            if len(body) != 32 * width:
                raise ValueError("tile %s: %d bytes" % (path, len(body)))
            fetched[key] = (body, hdr, path)
        return fetched[key][0]

    def subtree(self, h, k):
        """The hash of the complete subtree at height h, index k."""
        level, r = divmod(h, HEIGHT)
        first = k << r                  # its first hash at level 8*level
        t = self.tile(level, first // WIDTH)
        hashes = [t[32 * i:32 * i + 32] for i in
                  range(first % WIDTH, first % WIDTH + (1 << r))]
        while len(hashes) > 1:
            hashes = [node(hashes[i], hashes[i + 1])
                      for i in range(0, len(hashes), 2)]
        return hashes[0]

    def mth(self, lo, hi):
        """RFC 9162 MTH(D[lo:hi]) from tiles."""
        n = hi - lo
        if n & (n - 1) == 0 and lo % n == 0:
            return self.subtree(n.bit_length() - 1, lo // n)
        k = 1 << ((n - 1).bit_length() - 1)
        return node(self.mth(lo, lo + k), self.mth(lo + k, hi))

    def path(self, m, lo, hi):
        """RFC 9162 PATH(m, D[lo:hi]), the audit path, from tiles."""
        if hi - lo == 1:
            return []
        k = 1 << ((hi - lo - 1).bit_length() - 1)
        if m < lo + k:
            return self.path(m, lo, lo + k) + [self.mth(lo + k, hi)]
        return self.path(m, lo + k, hi) + [self.mth(lo, lo + k)]


def verify_inclusion(index, size, leaf, proof, root):
    """RFC 9162 2.1.3.2, independent of how the proof was made."""
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_signature(url, note):
    """The note's signature by a key of /api/v1/keys, with openssl."""
    keys = json.loads(get(url + "/api/v1/keys")[0])["data"]["keys"]
    for line in note["sigs"]:
        dash, name, sig = line.split(" ")
        raw = base64.b64decode(sig)
        key_id = raw[:4].hex()
        key = [k for k in keys if k["keyId"] == key_id]
        check("signature line names the origin", dash == "\u2014" and
              name == note["origin"], line)
        if not key:
            check("key %s published" % key_id, False, "not in /api/v1/keys")
            continue
        with tempfile.TemporaryDirectory() as d:
            for f, data in (("pem", key[0]["pem"].encode()),
                            ("body", note["signed"].encode()),
                            ("sig", raw[4:])):
                with open(os.path.join(d, f), "wb") as fh:
                    fh.write(data)
            opts = []
            if key[0]["alg"] == "rsa-3072":
                opts = ["-sigopt", "rsa_padding_mode:pss",
                        "-sigopt", "rsa_pss_saltlen:32"]
            rc = subprocess.run(
                ["openssl", "dgst", "-sha256"] + opts +
                ["-verify", os.path.join(d, "pem"), "-signature",
                 os.path.join(d, "sig"), os.path.join(d, "body")],
                capture_output=True).returncode
        check("signature by %s (%s) verifies" % (key_id, key[0]["alg"]),
              rc == 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--old", action="append", default=[],
                    help="an earlier checkpoint, saved as a file (repeatable)")
    ap.add_argument("--key", help="an API key, to read records' leaf hashes")
    ap.add_argument("--record", action="append", default=[])
    ap.add_argument("--expect-size", type=int)
    a = ap.parse_args()
    url = a.url.rstrip("/")

    body, hdr = get(url + "/log/checkpoint")
    note = parse_note(body.decode("utf-8"))
    print("== %s: origin %s, size %d" % (url, note["origin"], note["size"]))
    check("checkpoint is text/plain; charset=utf-8",
          hdr["Content-Type"] == "text/plain; charset=utf-8",
          hdr["Content-Type"])
    if a.expect_size is not None:
        check("size %d" % a.expect_size, note["size"] == a.expect_size,
              str(note["size"]))
    verify_signature(url, note)

    tree = Tiles(url, note["size"])
    root = tree.mth(0, note["size"])
    check("root recomputed from %d tiles equals the checkpoint's" %
          len(fetched), root == note["root"], root.hex())
    full = sum(1 for (l, n, w) in fetched if w == WIDTH)
    print("      (%d full tiles, %d partial: %s)" % (
        full, len(fetched) - full,
        " ".join(sorted(p for (_, _, p) in fetched.values()))))

    for path in a.old:
        with open(path, encoding="utf-8") as f:
            old = parse_note(f.read())
        # The empty tree's root is the hash of nothing (RFC 9162 2.1.1).
        prefix = (tree.mth(0, old["size"]) if old["size"] > 0 else
                  hashlib.sha256(b"").digest())
        check("older checkpoint (size %d) is a prefix of this tree" %
              old["size"], old["size"] <= note["size"] and
              prefix == old["root"])

    for rid in a.record:
        d = json.loads(get("%s/api/v1/balance/delta/%s" % (url, rid),
                           {"X-Api-Key": a.key})[0])["data"]
        leaf = bytes.fromhex(d["leafHash"].removeprefix("0x"))
        m = d["logIndex"]
        t = tree.tile(0, m // WIDTH)
        check("record %s: level-0 tile holds its leaf hash at %d" % (rid, m),
              t[32 * (m % WIDTH):32 * (m % WIDTH) + 32] == leaf)
        proof = tree.path(m, 0, note["size"])
        check("record %s: audit path from tiles (%d hashes) verifies" %
              (rid, len(proof)), verify_inclusion(m, note["size"], leaf,
                                                  proof, note["root"]))
        api = json.loads(get("%s/api/v1/log/proof/inclusion?index=%d&"
                             "treeSize=%d" % (url, m, note["size"]))[0])
        check("record %s: equals the API's inclusion proof" % rid,
              [bytes.fromhex(h.removeprefix("0x"))
               for h in api["data"]["inclusionProof"]] == proof)
        check("record %s: a wrong leaf does not verify" % rid,
              not verify_inclusion(m, note["size"], node(leaf, leaf), proof,
                                   note["root"]))
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (urllib.error.URLError, ValueError, KeyError) as e:
        print("   FAIL   %s" % e)
        sys.exit(1)
