#!/usr/bin/env bash
# make bench: what Tally sustains on this machine, measured in one run
# against its own nginx + tallyd on loopback (tools/stack.sh), next to a
# FastCGI hello world behind the same nginx configuration (the ceiling).
# It reports; it never asserts a timing.  Prints a table and writes the
# same as bench/results.json.  Installs and builds nothing: make bench
# builds first, `make deps` installs wrk.
#
#   BENCH_SECONDS=10     length of each wrk run
#   BENCH_BIG=1000000    deltas of the big customer (and so the log's size)
#   BENCH_RECEIPT=100000 deltas of the customer whose receipt step 8 fetches
#   TALLY_THREADS=16     request threads of tallyd, and of hello
#   BENCH_PERF="STEP…"   perf record tallyd during these wrk steps (emit,
#                        batch, derive-1M, proof, verified-load, …; the
#                        ceiling profiles hello) into bench/perf-STEP.data
#   BENCH_PERF_OPTS=-g   perf record's options (e.g. --call-graph dwarf)
#   BENCH_TENANTS=0      skip the big-tenant measurement (tenants.sh)
#   BENCH_CLUSTER=0      skip the replication measurement (cluster.sh)
#   KEEP=1               keep the state directory
#
# Exits 1 only if something went wrong (a request failed, a tool broke):
# a missed target is reported, not a failure.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$REPO/${B:-build}
LUA=$REPO/tests/bench
OUT=$REPO/bench
SECS=${BENCH_SECONDS:-10}
BIG=${BENCH_BIG:-1000000}
SMALL=1000
CONNS=${CONNS:-32}
PERF_STEPS=${BENCH_PERF:-}
read -ra PERF_OPTS <<<"${BENCH_PERF_OPTS:--g}"
HZ=$(getconf CLK_TCK)

command -v wrk >/dev/null ||
	{ echo "bench: wrk is missing (make deps installs it)" >&2; exit 1; }
for b in tallyd tallyctl tests/bench/hello tests/bench/load \
    tests/bench/verified; do
	[ -x "$BIN/$b" ] || { echo "bench: $BIN/$b missing (make bench builds it)" >&2; exit 1; }
done

BASE=$(mktemp -d /tmp/tally-bench.XXXXXX)
DIR=$BASE
# shellcheck source=../../tools/stack.sh
source "$REPO/tools/stack.sh"
trap 'stack_stop; [ -n "${KEEP:-}" ] || rm -rf "$BASE"' EXIT
mkdir -p "$OUT"
T0=$SECONDS
failures=0
RESPONDER=""

say() { printf '%s\n' "$*" >&2; }

# CPU seconds the responder (hello, then tallyd) has used so far.
cpu_s() {
	awk -v hz="$HZ" '{ printf "%.2f", ($14 + $15) / hz }' \
		"/proc/$RESPONDER/stat"
}

# wrk_run NAME URL SCRIPT [VAR=VALUE...]: 2 threads, 32 connections,
# SECS seconds.  wrk's output is kept in BASE/NAME.wrk, its BENCH line
# (common.lua's done()) plus the responder's CPU time in BASE/NAME.json.
wrk_run() {
	local name=$1 url=$2 script=$3 perf_pid="" c0 bad
	shift 3
	case " $PERF_STEPS " in
	*" $name "*)
		perf record "${PERF_OPTS[@]}" -q -o "$OUT/perf-$name.data" \
			-p "$RESPONDER" -- sleep "$SECS" 2>/dev/null &
		perf_pid=$!
	esac
	c0=$(cpu_s)
	env "$@" wrk -t"$((CONNS < 2 ? 1 : 2))" -c"$CONNS" -d"${SECS}s" --latency \
		--timeout "${WRK_TIMEOUT:-2s}" \
		-s "$LUA/$script" "$url" > "$BASE/$name.wrk" 2>&1 || true
	[ -z "$perf_pid" ] || wait "$perf_pid" || true
	if ! sed -n 's/^BENCH //p' "$BASE/$name.wrk" > "$BASE/$name.json" ||
	    [ ! -s "$BASE/$name.json" ]; then
		say "bench: wrk gave no result for $name:"
		sed 's/^/    /' "$BASE/$name.wrk" >&2
		echo '{"requests":0,"rps":0,"p50Ms":null,"p99Ms":null,"non2xx":0,"socketErrors":1}' \
			> "$BASE/$name.json"
	fi
	jq -c --argjson cpu "$(awk -v a="$c0" -v b="$(cpu_s)" 'BEGIN { print b - a }')" \
		'. + {cpuSeconds: $cpu}' "$BASE/$name.json" > "$BASE/$name.tmp"
	mv "$BASE/$name.tmp" "$BASE/$name.json"
	bad=$(jq '.non2xx + .socketErrors' "$BASE/$name.json")
	if [ "$bad" -gt 0 ]; then
		say "bench: $name: $bad requests failed (KEEP=1 keeps $BASE/$name.wrk)"
		failures=$((failures + 1))
	fi
	say "   $name: $(jq -c . "$BASE/$name.json")"
}

# hello_run NAME [BYTES]: wrk step NAME against hello (answering BYTES of
# body, or its tiny one) behind the same nginx configuration as tallyd.
hello_run() {
	local dir=$DIR port=${PORT:-} tls=${TLS_PORT:-} pid nginx
	local responder=$RESPONDER front=${NGINX_PID:-}
	DIR=$BASE/hello-$1
	mkdir -p "$DIR/run"
	chmod 755 "$BASE" "$DIR" "$DIR/run"
	"$BIN/tests/bench/hello" "$DIR/run/tallyd.sock" "${TALLY_THREADS:-16}" \
		${2:+"$2"} &
	pid=$!
	STACK_PIDS+=("$pid")
	stack_wait_socket "$DIR/run/tallyd.sock"
	PORT=$(stack_free_port) TLS_PORT=$(stack_free_port)
	stack_start_nginx "$PORT" "$TLS_PORT"
	nginx=$NGINX_PID
	RESPONDER=$pid
	wrk_run "$1" "http://127.0.0.1:$PORT" get.lua BENCH_PATH=/api/v1/hello
	stack_kill "$nginx"
	stack_kill "$pid"
	DIR=$dir PORT=$port TLS_PORT=$tls RESPONDER=$responder NGINX_PID=$front
}

# --- 1. the ceiling: hello behind the same nginx configuration ----------
say "== 1. ceiling: FastCGI hello world behind nginx ($CONNS connections, ${SECS}s)"
hello_run ceiling

# --- 2c. emit through CGI: tallyd run per request by Apache mod_cgid ----
say "== 2c. emit through CGI: Apache mod_cgid runs tallyd per request ($CONNS connections, ${SECS}s)"
DIR=$BASE/cgi
mkdir -p "$DIR"
stack_cgi_conf
echo "rate_limit = 0" >> "$DIR/tally.conf"
stack_ctl init >/dev/null
stack_ctl tenant add bench >/dev/null
PORT=$(stack_free_port) TLS_PORT=$(stack_free_port)
stack_start_apache_cgi "$PORT" "$TLS_PORT"
# Apache's own CPU only: each request's is a process of its own.  A
# request takes up to ~1.8 s on a 2-vCPU PVM guest: wrk's 2 s timeout,
# a failed request, would make the whole run untrustworthy.
RESPONDER=$APACHE_PID
WRK_TIMEOUT=10s wrk_run emit-cgi "http://127.0.0.1:$PORT" emit.lua \
	BENCH_KEY="$(stack_ctl key create --tenant bench --env live)" BENCH_RUN=c
stack_kill "$APACHE_PID"
DIR=$BASE

# --- Tally: a tenant, a key, no rate limit ------------------------------
stack_bench_tenant
stack_start_tallyd
PORT=$(stack_free_port) TLS_PORT=$(stack_free_port)
stack_start_nginx "$PORT" "$TLS_PORT"
RESPONDER=$TALLYD_PID
URL=http://127.0.0.1:$PORT
API=$URL/api/v1

say "== 2. emit: one delta per request, a new customer each ($CONNS connections, ${SECS}s)"
wrk_run emit "$URL" emit.lua BENCH_KEY="$KEY" BENCH_RUN=e

say "== 3. batch: 100 deltas per request ($CONNS connections, ${SECS}s)"
wrk_run batch "$URL" batch.lua BENCH_KEY="$KEY" BENCH_RUN=b

# A large batch's answer time is what a vendor flushing a buffer waits:
# its p99 is the figure, so fewer connections than the steps above.
say "== 3c. batch: 1000 deltas per request (8 connections, ${SECS}s)"
CONNS=8 wrk_run batch1000 "$URL" batch.lua BENCH_KEY="$KEY" BENCH_RUN=k \
	BENCH_PER=1000

# The same batch alone: its answer time with no other in flight, what
# 3c's figure is against the eight batches queued before it (a reference:
# 3c carries the target).  The indexer and the integrator still work off
# 3c's deltas meanwhile, and a rare batch has waited seconds: a longer
# timeout puts such a wait in the figures rather than failing the run.
say "== 3d. batch: 1000 deltas per request (1 connection, ${SECS}s)"
WRK_TIMEOUT=10s CONNS=1 wrk_run batch1000-alone "$URL" batch.lua \
	BENCH_KEY="$KEY" BENCH_RUN=a BENCH_PER=1000

say "== 4. derive: load $SMALL and $BIG deltas of two customers (batches of 100, 8 connections)"
"$BIN/tests/bench/load" "$API" "$KEY" bench-small "$SMALL" 100 8 \
	> "$BASE/load-small.json" || failures=$((failures + 1))
c0=$(cpu_s)
"$BIN/tests/bench/load" "$API" "$KEY" bench-big "$BIG" 100 8 \
	> "$BASE/load-big.json" || failures=$((failures + 1))
jq -c --argjson cpu "$(awk -v a="$c0" -v b="$(cpu_s)" 'BEGIN { print b - a }')" \
	'. + {cpuSeconds: $cpu}' "$BASE/load-big.json" > "$BASE/load-big.tmp"
mv "$BASE/load-big.tmp" "$BASE/load-big.json"
say "   load: $(cat "$BASE/load-big.json")"
# Only verified deltas count: wait for a head over all of them.
for _ in $(seq 100); do
	r=$(curl -s -H "X-Api-Key: $KEY" "$API/balance/derive/bench-big")
	[ "$(jq .data.pendingCount <<<"$r")" = 0 ] && break
	sleep 0.1
done
[ "$(jq .data.deltasCount <<<"$r")" = "$BIG" ] || {
	say "bench: bench-big derives $(jq -c '.data.deltasCount' <<<"$r") deltas, not $BIG"
	failures=$((failures + 1))
}
# The load leaves the kernel writing back dirty pages for a while: let
# it finish before measuring reads.
sync
MONTH=$(date -u +%Y-%m)
# The default page (100 deltas, ~52 KB) and a page of one, which leaves
# the balance itself: neither may grow with the customer's history.  The
# two customers run back to back for each query, so drift on this shared
# machine hits both alike.
for q in "" "-period:?period=$MONTH" "-limit1:?limit=1"; do
	for c in small big; do
		label=1k; [ $c = big ] && label=1M
		wrk_run "derive-$label${q%%:*}" "$URL" get.lua BENCH_KEY="$KEY" \
			"BENCH_PATH=/api/v1/balance/derive/bench-$c${q#*:}"
	done
done

# What moving a derive page costs with nothing to compute: hello with a
# body of the same size, behind the same nginx.  A reference, no target:
# derive's ratio cannot pass this one's.
PAGE=$(curl -s -o /dev/null -w '%{size_download}' -H "X-Api-Key: $KEY" \
	"$API/balance/derive/bench-small")
say "== 4r. reference: hello answering a derive page's size ($PAGE bytes)"
hello_run hello-page "$PAGE"

say "== 5. inclusion proofs at random leaves"
TREE=$(curl -s "$API/log/checkpoint" | jq .data.treeSize)
say "   tree size $TREE"
wrk_run proof "$URL" proof.lua BENCH_TREE_SIZE="$TREE"

say "== 6. emit -> VERIFIED, a delta every 20 ms, under the emit load (${SECS}s)"
wrk_run verified-load "$URL" emit.lua BENCH_KEY="$KEY" BENCH_RUN=v &
WRK_BG=$!
sleep 0.5
"$BIN/tests/bench/verified" "$API" "$KEY" "$((SECS > 3 ? SECS - 2 : 1))" 20 \
	> "$BASE/verified.json" || failures=$((failures + 1))
wait "$WRK_BG" || true
# wrk_run ran in a subshell: judge its result here.
[ -s "$BASE/verified-load.json" ] &&
	[ "$(jq '.non2xx + .socketErrors' "$BASE/verified-load.json")" = 0 ] ||
	failures=$((failures + 1))
say "   verified: $(cat "$BASE/verified.json")"
[ "$(jq '.unverified + .errors' "$BASE/verified.json")" = 0 ] || {
	say "bench: deltas not verified or requests failed in step 6"
	failures=$((failures + 1))
}

say "== 7. tallyd resident memory"
grep -E '^(VmRSS|VmHWM|RssAnon|RssFile|RssShmem)' "/proc/$TALLYD_PID/status" \
	> "$BASE/rss.txt"
sed 's/^/   /' "$BASE/rss.txt" >&2
kib() { awk -v k="$1:" '$1 == k { print $2 }' "$BASE/rss.txt"; }

# --- 8. a receipt bundle is streamed: memory flat, whatever its size ----
RECEIPT=${BENCH_RECEIPT:-100000}
say "== 8. receipt of $RECEIPT deltas, four clients at once, tallyd's VmRSS sampled"
"$BIN/tests/bench/load" "$API" "$KEY" bench-receipt "$RECEIPT" 1000 4 \
	> "$BASE/load-receipt.json" || failures=$((failures + 1))
for _ in $(seq 300); do
	r=$(curl -s -H "X-Api-Key: $KEY" "$API/balance/derive/bench-receipt")
	[ "$(jq .data.pendingCount <<<"$r")" = 0 ] && break
	sleep 0.1
done
curl -s -X POST -H "X-Api-Key: $KEY" -H 'Content-Type: application/json' \
	--data-binary "{\"customerId\":\"bench-receipt\",\"period\":\"$MONTH\"}" \
	"$API/balance/checkpoint" | jq -e ".data.deltasCount == $RECEIPT" >/dev/null || {
	say "bench: the checkpoint of bench-receipt does not cover $RECEIPT deltas"
	failures=$((failures + 1))
}
rss_now() { awk '/^VmRSS:/ { print $2 }' "/proc/$TALLYD_PID/status"; }
rss_base=$(rss_now)
touch "$BASE/sampling"
while [ -e "$BASE/sampling" ]; do rss_now; sleep 0.02; done > "$BASE/receipt-rss.txt" &
SAMPLER=$!
t0=$(date +%s.%N)
pids=()
for i in 1 2 3 4; do
	curl -s -o /dev/null -w '%{http_code} %{size_download}\n' -H "X-Api-Key: $KEY" \
		"$API/balance/receipt/bench-receipt?period=$MONTH" > "$BASE/receipt.$i" &
	pids+=($!)
done
wait "${pids[@]}" || true
t1=$(date +%s.%N)
rm -f "$BASE/sampling"
wait "$SAMPLER" || true
sleep 1
[ "$(cat "$BASE"/receipt.[1-4] | awk '$1 == 200' | wc -l)" = 4 ] || {
	say "bench: a receipt failed: $(cat "$BASE"/receipt.[1-4] | tr '\n' ' ')"
	failures=$((failures + 1))
}
jq -n --argjson deltas "$RECEIPT" \
	--argjson bytes "$(awk '{ s += $2 } END { print s + 0 }' "$BASE"/receipt.[1-4])" \
	--argjson secs "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
	--argjson base "$rss_base" --argjson after "$(rss_now)" \
	--argjson peak "$(sort -n "$BASE/receipt-rss.txt" | tail -1)" '
	{deltas: $deltas, bytes: $bytes, seconds: $secs,
	 mbPerSec: ($bytes / 1e6 / $secs), rssBaseKiB: $base, rssPeakKiB: $peak,
	 rssAfterKiB: $after}' > "$BASE/receipt.json"
say "   receipt: $(jq -c . "$BASE/receipt.json")"

# --- 9. tallyctl verify of the whole log, beside the running server ---
say "== 9. tallyctl verify of the log ($TREE deltas and more)"
t0=$(date +%s.%N)
if stack_ctl verify > "$BASE/verify.txt" 2>&1; then ok=true; else
	ok=false
	say "bench: tallyctl verify failed:"
	sed 's/^/    /' "$BASE/verify.txt" >&2
	failures=$((failures + 1))
fi
jq -n --argjson secs "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')" \
	--argjson size "$(curl -s "$API/log/checkpoint" | jq .data.treeSize)" \
	--argjson ok "$ok" '{seconds: $secs, treeSize: $size, ok: $ok}' \
	> "$BASE/verify.json"
say "   verify: $(jq -c . "$BASE/verify.json")"

# --- bench/results.json, then the table from it -------------------------
# One row per figure: rate per second (deltas for writes), latencies in
# ms, cpuUs the responder's CPU per request (per delta for batches),
# ratio the rate over the ceiling's; target and met as issue 22 sets them.
jq -n -L "$LUA" \
	--slurpfile ceiling "$BASE/ceiling.json" \
	--slurpfile emit "$BASE/emit.json" \
	--slurpfile emitcgi "$BASE/emit-cgi.json" \
	--slurpfile batch "$BASE/batch.json" \
	--slurpfile batchk "$BASE/batch1000.json" \
	--slurpfile batcha "$BASE/batch1000-alone.json" \
	--slurpfile verify "$BASE/verify.json" \
	--slurpfile d1k "$BASE/derive-1k.json" \
	--slurpfile d1kp "$BASE/derive-1k-period.json" \
	--slurpfile d1k1 "$BASE/derive-1k-limit1.json" \
	--slurpfile d1m "$BASE/derive-1M.json" \
	--slurpfile d1mp "$BASE/derive-1M-period.json" \
	--slurpfile d1m1 "$BASE/derive-1M-limit1.json" \
	--slurpfile hpage "$BASE/hello-page.json" \
	--argjson page "$PAGE" \
	--slurpfile proof "$BASE/proof.json" \
	--slurpfile vload "$BASE/verified-load.json" \
	--slurpfile ver "$BASE/verified.json" \
	--slurpfile load "$BASE/load-big.json" \
	--slurpfile receipt "$BASE/receipt.json" \
	--argjson rss "$(kib VmRSS)" --argjson hwm "$(kib VmHWM)" \
	--argjson anon "$(kib RssAnon)" --argjson file "$(kib RssFile)" \
	--argjson tree "$TREE" --argjson big "$BIG" --argjson secs "$SECS" \
	--argjson threads "${TALLY_THREADS:-16}" \
	--arg when "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	--arg host "$(nproc) CPU, $(free -g | awk '/^Mem/ { print $2 }') GiB, $(uname -r)" \
	--argjson elapsed "$((SECONDS - T0))" '
	include "bench";
	($ceiling[0].rps) as $c |
	def r(x): if x == null then null else (x * 1000 | round) / 1000 end;
	def row($step; $what; $unit; $w; $per):
		{step: $step, what: $what, unit: $unit,
		 rate: ($w.rps * $per | round), p50Ms: r($w.p50Ms),
		 p99Ms: r($w.p99Ms), ratio: r($w.rps * $per / $c),
		 cpuUs: (if $w.requests > 0 then
		     ($w.cpuSeconds * 1e6 / $w.requests / $per | round)
		     else null end),
		 requests: $w.requests, target: null, goals: []};
	def flat($small):
		{target: "≥ 1k figure / 1.2",
		 goals: [{field: "rate", min: (1 / 1.2), of: $small}]};
	{
	  when: $when, machine: $host, secondsPerStep: $secs,
	  connections: 32, tallydThreads: $threads, logSize: $tree,
	  benchSeconds: $elapsed,
	  rows: [
	    row("1"; "ceiling: FastCGI hello world"; "req/s"; $ceiling[0]; 1),
	    row("2"; "emit, 1 delta/request"; "deltas/s"; $emit[0]; 1)
	      + {target: "≥ 0.6 × ceiling, p99 ≤ 25 ms",
	         goals: [{field: "ratio", min: 0.6}, {field: "p99Ms", max: 25}]},
	    row("2c"; "emit through CGI (Apache mod_cgid), 1 delta/request";
	        "deltas/s"; $emitcgi[0]; 1) + {cpuUs: null},
	    row("3"; "batch, 100 deltas/request"; "deltas/s"; $batch[0]; 100)
	      + {target: "≥ 60,000 deltas/s",
	         goals: [{field: "rate", min: 60000}]},
	    row("3c"; "batch, 1000 deltas/request, 8 conns"; "deltas/s"; $batchk[0]; 1000)
	      + {target: "p99 ≤ 50 ms", goals: [{field: "p99Ms", max: 50}]},
	    row("3d"; "reference: batch, 1000 deltas/request, 1 conn"; "deltas/s"; $batcha[0]; 1000),
	    {step: "3b", what: "load \($big) deltas of one customer, batch 100, 8 conns",
	     unit: "deltas/s", rate: $load[0].deltasPerSec, p50Ms: null,
	     p99Ms: null, ratio: r($load[0].deltasPerSec / $c),
	     cpuUs: ($load[0].cpuSeconds * 1e6 / $load[0].deltas | round),
	     requests: ($load[0].deltas / 100), target: null, goals: []},
	    row("4a"; "derive, 1,000 deltas"; "req/s"; $d1k[0]; 1)
	      + {target: "≥ 0.25 × ceiling", goals: [{field: "ratio", min: 0.25}]},
	    row("4b"; "derive, \($big) deltas"; "req/s"; $d1m[0]; 1)
	      + flat("4a"),
	    row("4c"; "derive by period, 1,000 deltas"; "req/s"; $d1kp[0]; 1),
	    row("4d"; "derive by period, \($big) deltas"; "req/s"; $d1mp[0]; 1)
	      + flat("4c"),
	    row("4e"; "derive limit=1, 1,000 deltas"; "req/s"; $d1k1[0]; 1),
	    row("4f"; "derive limit=1, \($big) deltas"; "req/s"; $d1m1[0]; 1)
	      + flat("4e"),
	    row("4r"; "reference: hello with a \($page)-byte body (a derive page)";
	        "req/s"; $hpage[0]; 1),
	    row("5"; "inclusion proof, log of \($tree)"; "req/s"; $proof[0]; 1)
	      + {target: "≥ 0.5 × ceiling", goals: [{field: "ratio", min: 0.5}]},
	    {step: "6", what: "emit → VERIFIED, \($ver[0].samples) samples under \($vload[0].rps | round) emits/s",
	     unit: "ms", rate: null, p50Ms: $ver[0].p50Ms, p99Ms: $ver[0].p99Ms,
	     ratio: null, cpuUs: null, requests: $ver[0].samples,
	     target: "p99 ≤ 250 ms, all verified",
	     goals: [{field: "p99Ms", max: 250},
	       {field: "unverified", max: 0}], unverified: $ver[0].unverified},
	    {step: "7", what: "tallyd VmRSS after the run (anon \($anon / 1024 | round), file-backed \($file / 1024 | round), peak \($hwm / 1024 | round))",
	     unit: "MiB", rate: r($rss / 1024), p50Ms: null, p99Ms: null,
	     ratio: null, cpuUs: null, requests: null,
	     target: "≤ 64 MiB", goals: [{field: "rate", max: 64}]},
	    {step: "8", what: "receipt of \($receipt[0].deltas) deltas, 4 clients at once: tallyd VmRSS growth (\($receipt[0].mbPerSec | round) MB/s; \((($receipt[0].rssAfterKiB - $receipt[0].rssBaseKiB) / 1024) | round) MiB kept after)",
	     unit: "MiB", rate: r(($receipt[0].rssPeakKiB - $receipt[0].rssBaseKiB) / 1024),
	     p50Ms: null, p99Ms: null, ratio: null, cpuUs: null, requests: 4,
	     target: "≤ 16 MiB", goals: [{field: "rate", max: 16}]},
	    {step: "9", what: "tallyctl verify of \($verify[0].treeSize) deltas (1M: ≤ 30 s)",
	     unit: "s", rate: r($verify[0].seconds), p50Ms: null, p99Ms: null,
	     ratio: null, cpuUs: null, requests: null,
	     target: "≤ 30 s per 1M", failed: (if $verify[0].ok then 0 else 1 end),
	     goals: [{field: "rate", max: (30 * $verify[0].treeSize / 1000000)},
	       {field: "failed", max: 0}]}
	  ]
	} | .rows |= judge' > "$OUT/results.json"

jq -r -L "$LUA" 'include "bench"; table' "$OUT/results.json" | column -t -s $'\t'
echo "cpu µs: the responder's CPU per request (per delta for 3, 3b); 2 vCPUs are shared with nginx and wrk"
echo "bench: $((SECONDS - T0)) s; written to bench/results.json"
[ -z "$PERF_STEPS" ] || echo "bench: profiles in bench/perf-*.data (perf report -i …)"
[ "${BENCH_TENANTS:-1}" = 0 ] ||
	B=${B:-build} "$REPO/tests/bench/tenants.sh" || failures=$((failures + 1))
[ "${BENCH_CLUSTER:-1}" = 0 ] ||
	B=${B:-build} "$REPO/tests/bench/cluster.sh" || failures=$((failures + 1))
if [ "$failures" -gt 0 ]; then
	echo "bench: $failures steps had failed requests: the figures above are not trustworthy" >&2
	exit 1
fi
