#!/usr/bin/python3
"""Checks a GET /metrics answer with a parser that shares nothing with
tallyd: prometheus_client's (python3-prometheus-client), plus the rules
that parser lets pass: a HELP and a TYPE line before each family's
samples, names as Prometheus' conventions want them (counters end in
_total, no unit but base units), histograms whose buckets are cumulative,
end in +Inf and equal _count.

Usage: promcheck.py FILE                      check, print a summary
       promcheck.py FILE NAME [LABEL=VALUE...] the sample's value (0 if
                                              absent), after the check
Exit status 1 (and what is wrong, on stderr) if the text is not valid.
"""
import math
import re
import sys

from prometheus_client.parser import text_string_to_metric_families

NAME = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*$')


def structure(text):
    """HELP then TYPE before samples; one family block each."""
    errors, seen, typed = [], set(), {}
    current = None
    for n, line in enumerate(text.splitlines(), 1):
        if not line:
            continue
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            if name in seen:
                errors.append(f"line {n}: family {name} twice")
            seen.add(name)
            current = name
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            if name != current:
                errors.append(f"line {n}: TYPE {name} without its HELP")
            typed[name] = kind
        elif line.startswith("#"):
            continue
        else:
            sample = re.split(r'[{ ]', line, 1)[0]
            base = re.sub(r'_(bucket|sum|count)$', '', sample) \
                if typed.get(current) == "histogram" else sample
            if base != current or current not in typed:
                errors.append(f"line {n}: {sample} outside its family")
    return errors, typed


def conventions(typed):
    errors = []
    for name, kind in typed.items():
        if not NAME.match(name):
            errors.append(f"{name}: not a metric name")
        if kind == "counter" and not name.endswith("_total"):
            errors.append(f"{name}: a counter must end in _total")
        if kind != "counter" and name.endswith("_total"):
            errors.append(f"{name}: only counters end in _total")
        if re.search(r'_(ms|milliseconds|kb|mb|percent)$', name):
            errors.append(f"{name}: not a base unit")
    return errors


def histograms(families):
    errors = []
    for fam in families:
        if fam.type != "histogram":
            continue
        series = {}
        for s in fam.samples:
            labels = {k: v for k, v in s.labels.items() if k != "le"}
            key = tuple(sorted(labels.items()))
            series.setdefault(key, {"buckets": [], "count": None})
            if s.name.endswith("_bucket"):
                series[key]["buckets"].append(
                    (float(s.labels["le"]), s.value))
            elif s.name.endswith("_count"):
                series[key]["count"] = s.value
        for key, h in series.items():
            b = sorted(h["buckets"])
            if not b or not math.isinf(b[-1][0]):
                errors.append(f"{fam.name}{key}: no +Inf bucket")
                continue
            if any(b[i][1] > b[i + 1][1] for i in range(len(b) - 1)):
                errors.append(f"{fam.name}{key}: buckets not cumulative")
            if h["count"] != b[-1][1]:
                errors.append(f"{fam.name}{key}: _count is not +Inf")
    return errors


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser's own refusal
        print(f"promcheck: parser: {e}", file=sys.stderr)
        return 1
    errors, typed = structure(text)
    errors += conventions(typed)
    errors += histograms(families)
    for e in errors:
        print(f"promcheck: {e}", file=sys.stderr)
    if errors:
        return 1
    if len(sys.argv) == 2:
        n = sum(len(f.samples) for f in families)
        print(f"promcheck: {len(families)} families, {n} samples, valid")
        return 0
    want = dict(a.split("=", 1) for a in sys.argv[3:])
    for fam in families:
        for s in fam.samples:
            if s.name == sys.argv[2] and s.labels == want:
                v = s.value
                print(int(v) if float(v).is_integer() else v)
                return 0
    print("0")
    return 0


if __name__ == "__main__":
    sys.exit(main())
