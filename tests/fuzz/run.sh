#!/bin/bash
# Runs each libFuzzer target named on the command line for $FUZZ_TIME
# seconds, two at a time (CI has two cores), each on a scratch copy of its
# committed corpus (tests/fuzz/corpus/NAME/) so the repository is never
# written.  A target passes only if libFuzzer exits 0: any crash, leak,
# timeout, out-of-memory or sanitizer report fails it, and the input that
# did it is kept in $B/fuzz/NAME/.  Prints one line per target, then
# "fuzz: N passed, M failed".
set -u

B=${B:-build-fuzz}
FUZZ_TIME=${FUZZ_TIME:-60}
JOBS=2
here=$(cd "$(dirname "$0")" && pwd)
export TALLY_VECTORS=${TALLY_VECTORS:-$here/../vectors}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

# One target: fuzz, then write its summary line to $work/result.
fuzz_one() {
	local name=$1 work=$B/fuzz/$1 dict rc stats eps why
	rm -rf "$work"
	mkdir -p "$work/corpus"
	[ -d "$here/corpus/$name" ] && cp -R "$here/corpus/$name/." "$work/corpus/"
	dict=$here/$name.dict
	[ -f "$dict" ] || dict=$here/json.dict
	"$B/tests/fuzz/$name" -max_total_time="$FUZZ_TIME" -timeout=10 \
	    -rss_limit_mb=2048 -dict="$dict" -print_final_stats=1 \
	    -artifact_prefix="$work/" "$work/corpus" >"$work/log" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ]; then
		# UBSan's own line says more than its SUMMARY.
		why=$(grep -m1 'runtime error' "$work/log")
		[ -n "$why" ] || why=$(grep -m1 '^SUMMARY' "$work/log")
		echo "fuzz: $name: FAILED (exit $rc): ${why:-no report}" \
		    "(log and input in $work/)" >"$work/result"
	else
		# The last status line: "#N DONE cov: C ft: F corp: K/S ...".
		stats=$(grep -E '^#[0-9]+' "$work/log" | tail -n 1 | sed -E \
		    's/^#([0-9]+).*cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+).*/\1 runs, cov \2, ft \3, corpus \4/')
		eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log")
		echo "fuzz: $name: ok: $stats, ${eps:-?} exec/s" >"$work/result"
	fi
	cat "$work/result"
	return "$rc"
}

passed=0
failed=0
running=0
for name in "$@"; do
	if [ "$running" -ge "$JOBS" ]; then
		wait -n
		running=$((running - 1))
	fi
	fuzz_one "$name" &
	running=$((running + 1))
done
wait
for name in "$@"; do
	if grep -q ': ok:' "$B/fuzz/$name/result" 2>/dev/null; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
