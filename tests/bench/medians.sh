#!/usr/bin/env bash
# make bench BENCH_RUNS=N: run.sh N times in a row, each run's figures kept
# in bench/results-K.json, then the median of every figure across the
# runs, judged against the same targets, in bench/medians.json and as a
# table.  The big-tenant measurement (tenants.sh) runs once, after the
# last run.  One run (the default) is run.sh alone.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$REPO/bench
RUNS=${BENCH_RUNS:-1}

if [ "$RUNS" -le 1 ]; then
	exec "$REPO/tests/bench/run.sh"
fi
for k in $(seq "$RUNS"); do
	echo "== bench run $k of $RUNS" >&2
	# The big tenants and the cluster, which take no medians: once.
	tenants=0 cluster=0
	[ "$k" -lt "$RUNS" ] || tenants=${BENCH_TENANTS:-1} \
		cluster=${BENCH_CLUSTER:-1}
	BENCH_TENANTS=$tenants BENCH_CLUSTER=$cluster "$REPO/tests/bench/run.sh"
	cp "$OUT/results.json" "$OUT/results-$k.json"
done

files=()
for k in $(seq "$RUNS"); do files+=("$OUT/results-$k.json"); done
jq -s -L "$REPO/tests/bench" 'include "bench";
	def median: map(select(. != null)) | sort |
		if length == 0 then null
		elif length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end
		| if . == null then . else (. * 1000 | round) / 1000 end;
	. as $runs
	| $runs[0] + {
	    runs: ($runs | length),
	    when: [$runs[].when],
	    rows: [$runs[0].rows[] | . as $row
	      | reduce ("rate", "p50Ms", "p99Ms", "ratio", "cpuUs",
	          "unverified", "failed") as $f ($row;
	          if has($f) then .[$f] = ([$runs[].rows[]
	            | select(.step == $row.step) | .[$f]] | median)
	          else . end)]
	  }
	| .rows |= judge' "${files[@]}" > "$OUT/medians.json"
echo "medians of $RUNS runs (bench/medians.json):"
jq -r -L "$REPO/tests/bench" 'include "bench"; table' "$OUT/medians.json" |
	column -t -s $'\t'
