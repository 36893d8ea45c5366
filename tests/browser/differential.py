"""The page and tally-verify on the same receipts, line for line: the
vectors' two receipts, and variants of them with one thing changed each
(a byte of a leaf, a hash, a proof, the signature, the statement, the
order of the deltas, a duplicate key...).  Both must say the same
ok/FAIL/skip for every check, with the same words, so that a customer
gets one answer whichever verifier they use."""

import base64
import json
import os
import re
import subprocess

import helpers as H

LINE = re.compile(r"^(ok|FAIL|skip) +(\w+): ?(.*)$")


def _bundle(name):
    return json.load(open(os.path.join(H.VECTORS, name), encoding="utf-8"))


def _dump(doc):
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def _edit(name, fn):
    doc = _bundle(name)
    fn(doc["data"])
    return _dump(doc)


def _statement_edit(fn, pretty=False):
    def edit(data):
        st = json.loads(base64.b64decode(data["statement"]))
        fn(st)
        text = json.dumps(st, indent=1) if pretty else json.dumps(st, sort_keys=True, separators=(",", ":"))
        data["statement"] = base64.b64encode(text.encode()).decode()
    return edit


def _flip_hex(h):
    return h[:-1] + ("0" if h[-1] != "0" else "1")


def variants():
    """(name, receipt text) pairs."""
    v2 = "receipt-v2-ecdsa.json"
    raw = open(os.path.join(H.VECTORS, v2), encoding="utf-8").read()
    out = [("v2 as it is", raw), ("v1 as it is", open(os.path.join(H.VECTORS, "receipt-ecdsa.json"), encoding="utf-8").read())]
    edits = {
        "a leaf's amount": lambda d: d["deltas"][2]["leaf"].update(delta="-72.4"),
        "a leaf's reason": lambda d: d["deltas"][0]["leaf"].update(reason="credit_purchasf"),
        "a contentHash": lambda d: d["deltas"][1].update(contentHash=_flip_hex(d["deltas"][1]["contentHash"])),
        "a leafHash": lambda d: d["deltas"][3].update(leafHash=_flip_hex(d["deltas"][3]["leafHash"])),
        "a proof hash": lambda d: d["deltas"][4]["inclusionProof"].__setitem__(0, _flip_hex(d["deltas"][4]["inclusionProof"][0])),
        "a proof one hash short": lambda d: d["deltas"][0]["inclusionProof"].pop(),
        "a delta left out": lambda d: d["deltas"].pop(1),
        "two deltas swapped": lambda d: d["deltas"].insert(1, d["deltas"].pop(2)),
        "the signature": lambda d: d.update(signature=d["signature"][:10] + ("A" if d["signature"][10] != "A" else "B") + d["signature"][11:]),
        "the statement's netChange, not signed again": _statement_edit(lambda st: st.update(netChange="844.266666668", endingBalance="844.266666668")),
        "the statement pretty-printed": _statement_edit(lambda st: None, pretty=True),
        "a statement member more": _statement_edit(lambda st: st.update(note="x")),
        "the tree head's size": lambda d: d.update(treeHead=d["treeHead"].replace("\n7\n", "\n8\n")),
        "the checkpoint's netChange": lambda d: d["checkpoint"].update(netChange=844.266666668),
        "the keyId": lambda d: d.update(keyId="861bfccf"),
        "the alg": lambda d: d.update(alg="rsa-3072"),
        "a leaf member more": lambda d: d["deltas"][0]["leaf"].update(extra=1),
        "a createdAt not canonical": lambda d: d["deltas"][0]["leaf"].update(createdAt="2026-02-01T00:00:00Z"),
        "a logIndex past treeSize": lambda d: d["deltas"][4].update(logIndex=7),
        "a recordId missing": lambda d: d["deltas"][2].pop("recordId"),
        "an amount not in shortest form": lambda d: d["deltas"][0]["leaf"].update(delta="1000.0"),
        "the version": lambda d: d.update(version=1),
        "no deltas member": lambda d: d.pop("deltas"),
        "a first checkpoint not at 0": _statement_edit(lambda st: st.update(startingBalance="1", endingBalance="845.266666667")),
        "metadata not an object": lambda d: d["deltas"][1]["leaf"].update(metadata=[1]),
    }
    for name, fn in edits.items():
        out.append((name, _edit(v2, fn)))
    # Text edits the JSON module cannot make.
    seq = '"sequenceNumber":2'
    if seq in raw:
        out.append(("a sequenceNumber written 2.0", raw.replace(seq, '"sequenceNumber":2.0', 1)))
    salt_at = raw.index('"salt":')
    out.append(("a duplicate key in a leaf", raw[:salt_at] + '"reason":"x",' + raw[salt_at:]))
    return out


def c_lines(verifier, path, keys):
    r = subprocess.run([verifier, path, "--keys", keys], capture_output=True, text=True)
    return [l for l in r.stdout.splitlines() if LINE.match(l)], r.returncode


JS = """
  const { parseReceipt, verifyReceipt } = await import('/shared-assets/js/receipt.js');
  const { Keyring } = await import('/shared-assets/js/keys.js');
  const keys = new Keyring();
  await keys.addList((await (await fetch('/vectors/keys.json')).json()).keys, 'keys file', true);
  const p = await parseReceipt(arguments[0]);
  if (p.why) return ['FAIL receipt: ' + p.why];
  const rep = await verifyReceipt(p.receipt, keys);
  const lines = [];
  for (const c of rep.checks) {
    const tag = c.status === 'fail' ? 'FAIL' : c.status;
    if (c.status === 'fail') for (const q of c.problems) lines.push(tag + ' ' + c.name + ': ' + q.text);
    else lines.push(tag + ' ' + c.name + ': ' + c.summary);
  }
  return lines;
"""


def normalize(line):
    """A line without what may differ: trailing space, and the words of a
    JSON parser's complaint (each verifier has its own parser)."""
    m = LINE.match(line)
    if not m:
        return line
    text = "" if m.group(2) == "receipt" else m.group(3).rstrip()
    return "%s %s: %s" % (m.group(1), m.group(2), text)


def compare_all(d, verifier, tmp):
    """Every variant through both; returns the differences, as text."""
    keys = os.path.join(H.VECTORS, "keys.json")
    diffs = []
    for name, text in variants():
        path = os.path.join(tmp, re.sub(r"\W+", "-", name) + ".json")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        c, rc = c_lines(verifier, path, keys)
        js = H.page_js(d, JS.replace("arguments[0]", "args[0]"), text)
        c = [normalize(l) for l in c]
        js = [normalize(l) for l in js]
        if name.endswith("as it is") and rc != 0:
            diffs.append("%s: tally-verify fails it (exit %d)" % (name, rc))
        if c != js:
            for a, b in zip(c + [""] * len(js), js + [""] * len(c)):
                if a != b:
                    diffs.append("%s:\n    C:  %s\n    JS: %s" % (name, a, b))
                    break
    return diffs


def head_variants():
    """(name, keys list, note text): the fixture's keys (an ECDSA genesis
    key, an RSA key it endorsed) and its RSA-signed head, and variants."""
    import copy
    import shared_fixture
    fx = shared_fixture.build(H.VECTORS)
    keys, note = fx["keys"], fx["deltas"]["2026-03"]["treeHead"]
    ecdsa_note = open(os.path.join(H.VECTORS, "head-ecdsa.note"), encoding="utf-8").read()

    def with_keys(fn):
        k = copy.deepcopy(keys)
        fn(k)
        return k

    def flip_b64(s):
        i = len(s) // 2
        return s[:i] + ("A" if s[i] != "A" else "B") + s[i + 1:]

    return [
        ("endorsed key signs", keys, note),
        ("genesis key signs", keys, ecdsa_note),
        ("endorsement altered", with_keys(lambda k: k[1].update(endorsement=flip_b64(k[1]["endorsement"]))), note),
        ("rotated with --no-endorse", with_keys(lambda k: k[1].update(rotation="unendorsed", endorsedBy=None, endorsement=None)), note),
        ("endorser unknown", with_keys(lambda k: k[1].update(endorsedBy="00000000")), note),
        ("a keys file from before endorsements", with_keys(lambda k: [e.pop(m) for e in k for m in ("rotation", "endorsedBy", "endorsement", "replaces")]), note),
        ("listed newest first", with_keys(lambda k: k.reverse()), note),
        ("the RSA key the oldest", with_keys(lambda k: k[1].update(validFrom="2025-01-01T00:00:00.000Z")), note),
        ("the note's size changed", keys, note.replace("\n9\n", "\n10\n")),
        ("a signature line of another key more", keys, note + "\u2014 other.example/log AAAAAAAA\n"),
        ("no signature line", keys, note.split("\n\n")[0] + "\n"),
    ]


HEAD_JS = """
  const { Keyring } = await import('/shared-assets/js/keys.js');
  const { hashText } = await import('/shared-assets/js/bytes.js');
  const [list, note] = args;
  const ring = new Keyring();
  const why = await ring.addList(list, 'keys file', true);
  if (why) return ['keys file: ' + why];
  // keyring_print's lines, oldest first.
  const lines = [...ring.keys].map((e, i) => [e, i]).sort((a, b) => a[0].fromMs - b[0].fromMs || a[1] - b[1]).map(([e]) => {
    if (e.trust === 'candidate') return 'key  ' + e.keyId + ' NOT trusted (' + e.source + '): ' + e.why;
    if (e.trust !== 'endorsed') return 'key  ' + e.keyId + ' trusted: ' + ring.how(e);
    return 'key  ' + e.keyId + ' endorsed by ' + e.endorser.keyId + ' (trusted, ' + ring.how(e.endorser) + '), listed in ' + e.source;
  });
  const o = await ring.openNote(note);
  lines.push(o.why ? 'FAIL treeHead: ' + o.why
    : 'ok treeHead: ' + o.head.origin + ' size ' + o.head.size + ' root ' + hashText(o.head.root) + ', signed by ' + o.by.name + ' ' + o.by.id);
  return lines;
"""


def compare_heads(d, verifier, tmp):
    """Each head variant through tally-verify --head and the page's
    keyring; the key lines and the treeHead line must be the same (but
    for tally-verify's advice to use --key, which the page has not)."""
    diffs = []
    for name, keys, note in head_variants():
        kp, np_ = os.path.join(tmp, "keys.json"), os.path.join(tmp, "head.note")
        with open(kp, "w", encoding="utf-8") as f:
            json.dump({"keys": keys}, f)
        with open(np_, "w", encoding="utf-8") as f:
            f.write(note)
        r = subprocess.run([verifier, "--head", np_, "--keys", kp], capture_output=True, text=True)
        c = [normalize(l).replace(", then pass it with --key", "") for l in r.stdout.splitlines()
             if l.startswith("key ") or LINE.match(l)]
        js = [normalize(l) for l in H.page_js(d, HEAD_JS, keys, note)]
        if c != js:
            for a, b in zip(c + [""] * len(js), js + [""] * len(c)):
                if a != b:
                    diffs.append("%s:\n    C:  %s\n    JS: %s" % (name, a, b))
                    break
    return diffs
