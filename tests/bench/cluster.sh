#!/usr/bin/env bash
# make bench, replication (issue 23, "Target (in make bench)"): one
# tallyd behind nginx, then a group of three (tools/cluster.sh, on
# loopback) behind one nginx, measured alike in the same run:
#   - emit, one delta a request: the cluster's rate over the standalone's
#     (target ≥ 0.5; each commit waits for a quorum's acknowledgement);
#   - derive of a customer of 100 deltas: the same ratio (target ≥ 2
#     where the cores allow; nginx spreads reads over the master and two
#     replicas, each replica read first catching up with the master);
#   - failover: the master killed with SIGKILL, BENCH_FAILOVERS times,
#     under a light writer; each time from the kill to the first write
#     accepted again (target p99 ≤ 5 s);
#   - the time per group commit, standalone and replicated, from the
#     master's GET /metrics: what the quorum's acknowledgement costs.
# Reports, never asserts a timing; exits 1 only if something broke (a
# request failed outside the failovers, no new master, a node that does
# not come back).  Writes bench/cluster.json and prints a table.
#
#   BENCH_SECONDS=10     length of each wrk run
#   BENCH_FAILOVERS=5    kills of the master
#   KEEP=1               keep the state directory (kept anyway on failure)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$REPO/${B:-build}
LUA=$REPO/tests/bench
OUT=$REPO/bench
SECS=${BENCH_SECONDS:-10}
CYCLES=${BENCH_FAILOVERS:-5}
CONNS=32
DERIVE_DELTAS=100

command -v wrk >/dev/null ||
	{ echo "cluster: wrk is missing (make deps installs it)" >&2; exit 1; }
for b in tallyd tallyctl tests/bench/load; do
	[ -x "$BIN/$b" ] || { echo "cluster: $BIN/$b missing (make bench builds it)" >&2; exit 1; }
done

BASE=$(mktemp -d /tmp/tally-benchrepl.XXXXXX)
# tallyd and nginx's workers run as other users and must get through.
chmod 755 "$BASE"
DIR=$BASE/alone
# shellcheck source=../../tools/stack.sh
source "$REPO/tools/stack.sh"
CLUSTER_DIR=$BASE/cluster
# shellcheck source=../../tools/cluster.sh
source "$REPO/tools/cluster.sh"
mkdir -p "$OUT"
T0=$SECONDS
failures=0
writer=

say() { printf '%s\n' "$*" >&2; }

# A failure is counted, named, and the run goes on to report the rest.
broke() {
	say "cluster: $*"
	failures=$((failures + 1))
}

finish() {
	[ -z "$writer" ] || kill "$writer" 2>/dev/null || true
	cluster_stop || true
	if [ "$failures" -gt 0 ]; then
		for name in "${CLUSTER_NODES[@]}"; do
			DIR=$CLUSTER_DIR/$name stack_log_tails "cluster $name" || true
		done
		say "cluster: state and logs kept in $BASE"
	elif [ -n "${KEEP:-}" ]; then
		say "cluster: state kept in $BASE"
	else
		rm -rf "$BASE"
	fi
}
trap finish EXIT

# wrk_run NAME URL SCRIPT [VAR=VALUE...]: run.sh's, without the CPU
# time and profiles: 2 threads, CONNS connections, SECS seconds; the
# BENCH line of common.lua's done() in BASE/NAME.json.
wrk_run() {
	local name=$1 url=$2 script=$3 bad
	shift 3
	env "$@" wrk -t2 -c"$CONNS" -d"${SECS}s" --latency \
		-s "$LUA/$script" "$url" > "$BASE/$name.wrk" 2>&1 || true
	if ! sed -n 's/^BENCH //p' "$BASE/$name.wrk" > "$BASE/$name.json" ||
	    [ ! -s "$BASE/$name.json" ]; then
		say "cluster: wrk gave no result for $name:"
		sed 's/^/    /' "$BASE/$name.wrk" >&2
		echo '{"requests":0,"rps":0,"p50Ms":null,"p99Ms":null,"non2xx":0,"socketErrors":1}' \
			> "$BASE/$name.json"
	fi
	bad=$(jq '.non2xx + .socketErrors' "$BASE/$name.json")
	[ "$bad" -eq 0 ] ||
		broke "$name: $bad requests failed (see $BASE/$name.wrk)"
	say "   $name: $(jq -c . "$BASE/$name.json")"
}

# metrics_groups URL: "GROUPS DELTAS FSYNCS FSYNC_SECONDS" so far, of the
# node that wrote the most: on a cluster nginx answers from any node,
# and only the master runs the group writer.
metrics_groups() {
	local best='0 0 0 0' line
	for _ in $(seq 9); do
		line=$(curl -s --max-time 5 "$1/metrics" | awk '
			$1 == "tally_commit_group_deltas_count" { g = $2 }
			$1 == "tally_commit_group_deltas_sum" { d = $2 }
			$1 == "tally_commit_fsync_seconds_count" { f = $2 }
			$1 == "tally_commit_fsync_seconds_sum" { s = $2 }
			END { print g + 0, d + 0, f + 0, s + 0 }') || continue
		[ "${line%% *}" -le "${best%% *}" ] || best=$line
	done
	echo "$best"
}

# groups_json BEFORE AFTER: what the group writer did in between (a
# saturated emit run of SECS seconds), as JSON.  The writer has work
# throughout, so the wall time over the groups is the time per group,
# the quorum's acknowledgement included on a cluster.
groups_json() {
	read -r g0 d0 f0 s0 <<<"$1"
	read -r g1 d1 f1 s1 <<<"$2"
	jq -n --argjson g "$((g1 - g0))" --argjson d "$(awk -v a="$d0" -v b="$d1" 'BEGIN { print b - a }')" \
		--argjson f "$((f1 - f0))" --argjson s "$(awk -v a="$s0" -v b="$s1" 'BEGIN { print b - a }')" \
		--argjson secs "$SECS" '
		def r: (. * 1000 | round) / 1000;
		{groups: $g, deltas: $d,
		 deltasPerGroup: (if $g > 0 then $d / $g | r else null end),
		 msPerGroup: (if $g > 0 then $secs * 1000 / $g | r else null end),
		 fsyncMs: (if $f > 0 then $s * 1000 / $f | r else null end)}'
}

# derive_ready URL KEY: the derive customer has all its deltas, verified.
derive_ready() {
	local r
	r=$(curl -s --max-time 5 -H "X-Api-Key: $2" \
		"$1/api/v1/balance/derive/bench-derive") || return 1
	[ "$(jq -r '.data.pendingCount' <<<"$r" 2>/dev/null)" = 0 ] &&
		[ "$(jq -r '.data.deltasCount' <<<"$r" 2>/dev/null)" = "$DERIVE_DELTAS" ]
}

# measure NAME URL KEY: emit, with the group writer's figures around it,
# then the derive customer loaded and read.  BASE/NAME-*.json.
measure() {
	local name=$1 url=$2 key=$3 before
	say "== $name: emit, one delta a request, a new customer each ($CONNS connections, ${SECS}s)"
	before=$(metrics_groups "$url")
	wrk_run "$name-emit" "$url" emit.lua BENCH_KEY="$key" BENCH_RUN="$name"
	groups_json "$before" "$(metrics_groups "$url")" > "$BASE/$name-groups.json"
	say "   groups: $(jq -c . "$BASE/$name-groups.json")"
	say "== $name: derive of a customer of $DERIVE_DELTAS deltas ($CONNS connections, ${SECS}s)"
	"$BIN/tests/bench/load" "$url/api/v1" "$key" bench-derive \
		"$DERIVE_DELTAS" 100 1 > /dev/null ||
		broke "$name: loading the derive customer failed"
	cluster_until 30 derive_ready "$url" "$key" ||
		broke "$name: bench-derive not $DERIVE_DELTAS verified deltas within 30 s"
	wrk_run "$name-derive" "$url" get.lua BENCH_KEY="$key" \
		BENCH_PATH=/api/v1/balance/derive/bench-derive
}

# --- 1. one tallyd behind nginx -----------------------------------------
stack_bench_tenant
stack_start_tallyd
APORT=$(stack_free_port)
stack_start_nginx "$APORT" "$(stack_free_port)"
measure alone "http://127.0.0.1:$APORT" "$KEY"
# Stopped before the cluster starts: the two would share the cores.
stack_stop || true

# --- 2. three nodes behind one nginx ------------------------------------
say "== cluster: three nodes on loopback behind one nginx"
# shellcheck disable=SC2034	# tools/cluster.sh's nginx port
PORT=$(stack_free_port)
CLUSTER_REPL_BASE=$(cluster_free_repl_base)
cluster_setup
for name in "${CLUSTER_NODES[@]}"; do
	echo "rate_limit = 0" >> "$CLUSTER_DIR/$name/tally.conf"
done
# Before the group starts, as tests/e2e/cluster.sh: node 1 alone.
cluster_ctl n1 tenant add bench >/dev/null
KEY=$(cluster_ctl n1 key create --tenant bench --env live)
cluster_start || { broke "the group elected no master"; exit 1; }
measure repl "$CLUSTER_URL" "$KEY"

# --- 3. failovers -------------------------------------------------------
has_master() { cluster_live_master >/dev/null; }

# emit_code REFERENCE: one delta through the cluster's nginx, under its
# own Idempotency-Key; prints the status (000: no answer).
emit_code() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST \
		-H "X-Api-Key: $KEY" -H "Content-Type: application/json" \
		-H "Idempotency-Key: $1" \
		-d "{\"customerId\":\"$2\",\"delta\":1,\"reason\":\"failover\",\"referenceId\":\"$1\"}" \
		"$CLUSTER_URL/api/v1/balance/delta" || true
}

# The light writer: a delta every 50 ms or so, each status kept.
light_writer() {
	local i=0
	while :; do
		i=$((i + 1))
		emit_code "light-$i" light >> "$BASE/light.codes"
		echo >> "$BASE/light.codes"
		sleep 0.05
	done
}

# probe_write ID: tried every 50 ms until a 2xx.
probe_write() {
	local code
	until code=$(emit_code "$1" probe) && [ "${code:0:1}" = 2 ]; do
		sleep 0.05
	done
}

say "== failover: $CYCLES kills of the master (SIGKILL) under a light writer"
: > "$BASE/light.codes"
light_writer &
writer=$!
failovers=()
rejoins=()
for cycle in $(seq "$CYCLES"); do
	if ! cluster_until 30 has_master; then
		broke "no master before kill $cycle"
		break
	fi
	master=$(cluster_live_master)
	start=$(cluster_now_ms)
	cluster_kill "$master" || { broke "no PID for $master"; break; }
	# A function in a subshell, so that timeout can end it.
	if ! timeout 30 bash -c "$(declare -f emit_code probe_write); \
	    KEY=$KEY CLUSTER_URL=$CLUSTER_URL probe_write failover-$cycle"; then
		broke "no write accepted within 30 s of kill $cycle ($master)"
		break
	fi
	failovers+=($(($(cluster_now_ms) - start)))
	if ! cluster_until 60 cluster_back "$master"; then
		broke "$master not back in the group within 60 s of kill $cycle"
		break
	fi
	rejoins+=($(($(cluster_now_ms) - start)))
	say "   kill $cycle ($master): writes again after ${failovers[-1]} ms, back in the group after ${rejoins[-1]} ms"
done
kill "$writer" 2>/dev/null || true
wait "$writer" 2>/dev/null || true
writer=
# Statuses the light writer got, {"CODE": COUNT}; 000 is no answer.
jq -R -s 'split("\n") | map(select(. != "")) | group_by(.)
	| map({(.[0]): length}) | add // {}' "$BASE/light.codes" \
	> "$BASE/light.json"

# --- bench/cluster.json, then the table from it -------------------------
ms_json() { printf '%s\n' "$@" | jq -s 'map(select(. != null))'; }
jq -n \
	--slurpfile ae "$BASE/alone-emit.json" --slurpfile ad "$BASE/alone-derive.json" \
	--slurpfile ag "$BASE/alone-groups.json" \
	--slurpfile re "$BASE/repl-emit.json" --slurpfile rd "$BASE/repl-derive.json" \
	--slurpfile rg "$BASE/repl-groups.json" \
	--argjson failovers "$(ms_json "${failovers[@]}")" \
	--argjson rejoins "$(ms_json "${rejoins[@]}")" \
	--slurpfile light "$BASE/light.json" \
	--argjson cycles "$CYCLES" --argjson secs "$SECS" \
	--argjson conns "$CONNS" --argjson failures "$failures" \
	--arg when "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	--arg host "$(nproc) CPU, $(free -g | awk '/^Mem/ { print $2 }') GiB, $(uname -r)" \
	--argjson elapsed "$((SECONDS - T0))" '
	def r: if . == null then null else (. * 1000 | round) / 1000 end;
	def ratio($a; $b): if $b > 0 then $a / $b | r else null end;
	def median: sort | if length == 0 then null
		elif length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	def wrk: {rps: (.rps | round), p50Ms: (.p50Ms | r), p99Ms: (.p99Ms | r),
		requests, failed: (.non2xx + .socketErrors)};
	{
	  when: $when, machine: $host, secondsPerStep: $secs, connections: $conns,
	  nodes: 3, benchSeconds: $elapsed, failures: $failures,
	  emit: {alone: ($ae[0] | wrk), repl: ($re[0] | wrk),
	         ratio: ratio($re[0].rps; $ae[0].rps), target: 0.5},
	  derive: {deltas: 100, alone: ($ad[0] | wrk), repl: ($rd[0] | wrk),
	           ratio: ratio($rd[0].rps; $ad[0].rps), target: 2},
	  groups: {alone: $ag[0], repl: $rg[0],
	           ackMsPerGroup: (if $ag[0].msPerGroup != null and $rg[0].msPerGroup != null
	             then $rg[0].msPerGroup - $ag[0].msPerGroup | r else null end)},
	  failover: {cycles: $cycles, ms: $failovers,
	             medianMs: ($failovers | median), maxMs: ($failovers | max),
	             rejoinMs: $rejoins, targetP99Ms: 5000,
	             lightWriterStatuses: $light[0]}
	}
	| .emit.met = (.emit.ratio != null and .emit.ratio >= 0.5)
	| .derive.met = (.derive.ratio != null and .derive.ratio >= 2)
	| .failover.met = (.failover.maxMs != null and
	    (.failover.ms | length) == $cycles and .failover.maxMs <= 5000)
	' > "$OUT/cluster.json"

jq -r --arg cpus "$(nproc)" '
	def yn: if . then "met" else "missed" end;
	def n: if . == null then "-" else tostring end;
	"replication: 3 nodes on loopback behind one nginx vs one tallyd, \(.connections) connections, \(.secondsPerStep) s a step, \($cpus) CPU",
	"  emit/s           alone \(.emit.alone.rps)  cluster \(.emit.repl.rps)  ratio \(.emit.ratio | n)  (target ≥ 0.5: \(.emit.met | yn)); p99 ms \(.emit.alone.p99Ms | n) vs \(.emit.repl.p99Ms | n)",
	"  derive/s (100)   alone \(.derive.alone.rps)  cluster \(.derive.repl.rps)  ratio \(.derive.ratio | n)  (target ≥ 2 where the cores allow: \(.derive.met | yn))",
	"  per group        alone \(.groups.alone.msPerGroup | n) ms, \(.groups.alone.deltasPerGroup | n) deltas, fsync \(.groups.alone.fsyncMs | n) ms;  cluster \(.groups.repl.msPerGroup | n) ms, \(.groups.repl.deltasPerGroup | n) deltas, fsync \(.groups.repl.fsyncMs | n) ms;  ack ≈ \(.groups.ackMsPerGroup | n) ms a group",
	"  failover ms      \(.failover.ms | map(tostring) | join(" "))  median \(.failover.medianMs | n)  max \(.failover.maxMs | n)  (target p99 ≤ 5000, max of \(.failover.ms | length) stands for p99: \(.failover.met | yn))",
	"  back as replica  ms after the kill: \(.failover.rejoinMs | map(tostring) | join(" "))",
	"  light writer     statuses during the failovers: \(.failover.lightWriterStatuses | to_entries | map("\(.key): \(.value)") | join(", "))"
	' "$OUT/cluster.json"
if [ "$(nproc)" -le 2 ]; then
	echo "  on $(nproc) CPUs the three nodes, nginx and wrk share the same cores: reads cannot add up to 2× here"
fi
echo "  per group: the wall time of the saturated emit run over the master's group commits (GET /metrics)"
echo "cluster: $((SECONDS - T0)) s; written to bench/cluster.json"
[ "$failures" -eq 0 ] || { echo "cluster: $failures things broke: the figures above are not trustworthy" >&2; exit 1; }
