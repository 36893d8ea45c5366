#!/usr/bin/env bash
# End-to-end tests: real tallyd behind real nginx and real Apache, each
# over HTTP and HTTPS, on free loopback ports, with configs under a
# temporary directory.  The same Check suite (check_http) runs against
# all four; then restart and kill -9 recovery, then `make run` itself.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$REPO/${B:-build}
DIR=$(mktemp -d /tmp/tally-e2e.XXXXXX)
# shellcheck source=../../tools/stack.sh
source "$REPO/tools/stack.sh"
# For the secrets sweep at the end: every script lists the secrets it
# creates, and keeps its logs, here (tools/stack.sh).
export TALLY_E2E_SECRETS=$DIR/secrets.list TALLY_E2E_LOGS=$DIR/logs

passed=0
failed=0
LANE_PID=
trap '[ -z "$LANE_PID" ] || kill -- "-$LANE_PID" 2>/dev/null; stack_finish e2e' EXIT

# Scripts with a stack of their own run one after another in a second
# lane (lane.sh), beside everything else: they spend much of their time
# waiting (slow clients, CGI processes started and killed), and with one
# lane a core sat idle half of the e2e minutes.
# Their output is printed, and their exits counted, when it is joined.
LANE=(memory.sh abuse.sh cgi.sh)
declare -A LANE_LABEL=(
	[memory.sh]="memory: streamed 100k-delta receipts, bounded compare (a tallyd of its own)"
	[abuse.sh]="abuse: slow clients, half FastCGI records, keys in URLs (a stack of its own)"
	[cgi.sh]="tallyd as CGI behind Apache mod_cgid: the suites, retries, kill -9, heads and tallyctl tick (cgi.sh)"
)
# A session of its own, so that a run cut short stops the whole lane.
setsid "$REPO/tests/e2e/lane.sh" "$DIR/lane" "${LANE[@]}" &
LANE_PID=$!
lane_join() {
	local script rc secs start=$SECONDS
	wait "$LANE_PID" || true
	LANE_PID=
	echo "== the second lane, joined after $SECONDS s (waited $((SECONDS - start)) s for it)"
	for script in "${LANE[@]}"; do
		echo "== (second lane) ${LANE_LABEL[$script]}"
		cat "$DIR/lane/$script.out" 2>/dev/null
		read -r rc secs < "$DIR/lane/$script.rc" || rc=1 secs=0
		stack_check "${LANE_LABEL[$script]}" test "$rc" -eq 0
		echo "   ($secs s in the second lane: $script)"
	done
}

stack_conf
stack_ctl init >/dev/null
stack_suite_tenants

stack_start_tallyd
NGINX_PORT=$(stack_free_port); NGINX_TLS=$(stack_free_port)
stack_start_nginx "$NGINX_PORT" "$NGINX_TLS"
APACHE_PORT=$(stack_free_port); APACHE_TLS=$(stack_free_port)
stack_start_apache "$APACHE_PORT" "$APACHE_TLS"

export TALLY_CACERT=$DIR/tls/cert.pem
suite() {	# suite LABEL URL
	echo "== check_http, check_log and check_read via $1 ($2)"
	stack_check "check_http via $1" env TALLY_URL="$2" "$BIN/tests/check_http"
	stack_check "check_log via $1" env TALLY_URL="$2" "$BIN/tests/check_log"
	stack_check "check_read via $1" env TALLY_URL="$2" "$BIN/tests/check_read"
}
suite nginx-http "http://127.0.0.1:$NGINX_PORT"
suite apache-https "https://127.0.0.1:$APACHE_TLS"
# E2E_FRONTS=2 (make asan): each web server once, one of them over TLS;
# the other two passes send tallyd nothing new, and cost minutes there.
if [ "${E2E_FRONTS:-4}" -ge 4 ]; then
	suite nginx-https "https://127.0.0.1:$NGINX_TLS"
	suite apache-http "http://127.0.0.1:$APACHE_PORT"
fi

echo "== hostile input through nginx and Apache: refused, and nothing recorded"
# shellcheck source=hostile.sh
source "$REPO/tests/e2e/hostile.sh"
hostile_begin "http://127.0.0.1:$NGINX_PORT"
# Under ASan (E2E_FRONTS=2) through Apache only: it hands tallyd every
# case nginx does, and bodies cut short besides.
[ "${E2E_FRONTS:-4}" -lt 4 ] ||
	stack_check "check_hostile via nginx-http" env TALLY_FRONT=nginx \
	TALLY_URL="http://127.0.0.1:$NGINX_PORT" "$BIN/tests/check_hostile"
stack_check "check_hostile via apache-http" env TALLY_FRONT=apache \
	TALLY_URL="http://127.0.0.1:$APACHE_PORT" "$BIN/tests/check_hostile"
hostile_end "http://127.0.0.1:$NGINX_PORT"

echo "== the README's worked example (customer_acme, simulated clock)"
stack_check "worked example" env B="${B:-build}" "$REPO/tests/e2e/acme.sh"

echo "== checkpoint chains cover every delta; salted statements (simulated clock)"
stack_check "checkpoint chains" env B="${B:-build}" "$REPO/tests/e2e/chain.sh"
stack_check "big tenants: checkpoint-all paged, search" env B="${B:-build}" "$REPO/tests/e2e/big.sh"
stack_check "search while the indexer works behind the log, tallyd killed -9 (search.sh)" env B="${B:-build}" "$REPO/tests/e2e/search.sh"

echo "== rate limits per key (a tallyd of its own, 5 requests a second)"
stack_check "rate limits" env B="${B:-build}" "$REPO/tests/e2e/ratelimit.sh"

echo "== webhooks (a tallyd of its own, a receiver on loopback)"
stack_check "webhooks" env B="${B:-build}" "$REPO/tests/e2e/webhooks.sh"
stack_check "a store that heals itself: tallyctl misused and killed -9 under writes, tallyd restarted (heal.sh)" env B="${B:-build}" "$REPO/tests/e2e/heal.sh"
stack_check "keys across rotations (a tallyd of its own)" env B="${B:-build}" "$REPO/tests/e2e/rotation.sh"
stack_check "the Shared Record: links, access codes, the customer's endpoints (a tallyd of its own)" env B="${B:-build}" "$REPO/tests/e2e/shared.sh"
stack_check "the log as C2SP tlog-tiles, read by an independent client (a tallyd of its own, 70,000 deltas)" env B="${B:-build}" "$REPO/tests/e2e/tiles.sh"
stack_check "operations: /metrics, log_file and SIGHUP, format upgrades, cache_mb, restore without a fork (ops.sh)" env B="${B:-build}" "$REPO/tests/e2e/ops.sh"
stack_check "data format 2 -> 3: a format 2 directory migrates to tiles, verifies, answers the old proofs (migrate3.sh)" env B="${B:-build}" "$REPO/tests/e2e/migrate3.sh"

# shellcheck source=log.sh
source "$REPO/tests/e2e/log.sh"

echo "== kill -9 during a stream of writes: nothing acknowledged is lost or doubled"
stack_check "crash test, 5 cycles (make crashtest: 50)" env B="${B:-build}" \
	"$REPO/tests/e2e/crash.sh" 5

echo "== tallyctl backup while tallyd serves writes, restored and verified"
stack_check "hot backup" env B="${B:-build}" "$REPO/tests/e2e/backup.sh"

lane_join

# After the second lane: elections and replication leases run on
# timeouts, and a master starved of the CPU lost its leases.
echo "== a replication group of three: the master killed and cut off under writes"
stack_check "replication (cluster.sh; make crashtest-cluster: 30 kills)" \
	env B="${B:-build}" "$REPO/tests/e2e/cluster.sh" \
	"$([ "${E2E_FRONTS:-4}" -ge 4 ] && echo 5 || echo 2)"
[ "${E2E_FRONTS:-4}" -lt 4 ] ||
	stack_check "replication behind Apache's balancer (cluster-apache.sh)" \
		env B="${B:-build}" "$REPO/tests/e2e/cluster-apache.sh"

log_checks "http://127.0.0.1:$NGINX_PORT"

# shellcheck source=privs.sh
source "$REPO/tests/e2e/privs.sh"
priv_checks

whoami_ok() {	# whoami_ok URL KEY: 200 with the key's tenant
	curl -sf -H "X-Api-Key: $2" "$1/api/v1/auth/whoami" |
		grep -q '"tenant":"acme"'
}

echo "== restart: SIGTERM, start again; tenants and keys are kept"
stack_kill "$TALLYD_PID"
stack_check "tallyd left no socket behind" test ! -e "$DIR/run/tallyd.sock"
# down_json URL: while tallyd is down the web server answers itself, in
# the API's envelope (502/503), with an X-Request-Id.
down_json() {
	local head
	head=$(curl -s -D - -o "$DIR/down.json" "$1/api/v1/auth/whoami" |
		tr -d '\r') || return 1
	grep -qE '^HTTP/[0-9.]+ 50[234]' <<<"$head" &&
		grep -qiE '^x-request-id: [A-Za-z0-9._:=-]+$' <<<"$head" &&
		jq -e '.success == false and .error.code == "SERVICE_UNAVAILABLE"' \
		"$DIR/down.json" >/dev/null
}
stack_check "nginx answers JSON with an X-Request-Id while tallyd is down" \
	down_json "http://127.0.0.1:$NGINX_PORT"
stack_check "Apache answers JSON with an X-Request-Id while tallyd is down" \
	down_json "http://127.0.0.1:$APACHE_PORT"
stack_start_tallyd
stack_check "key works after restart" whoami_ok "http://127.0.0.1:$NGINX_PORT" "$TALLY_KEY_LIVE"

echo "== crash: kill -9, start again; the store recovers"
kill -KILL "$TALLYD_PID"
wait "$TALLYD_PID" 2>/dev/null || true
stack_start_tallyd
stack_check "key works after kill -9" whoami_ok "http://127.0.0.1:$APACHE_PORT" "$TALLY_KEY_LIVE"
stack_check "revoked key stays revoked" test "$(curl -s -o /dev/null -w '%{http_code}' \
	-H "X-Api-Key: $TALLY_KEY_REVOKED" "http://127.0.0.1:$NGINX_PORT/api/v1/auth/whoami")" = 401

stack_stop

echo "== make run: serves, stops on SIGTERM, keeps its key on a second run"
RUNDIR=$DIR/makerun
RUN_PORT=$(stack_free_port); RUN_TLS=$(stack_free_port)
run_once() {	# starts tools/run.sh, checks it, stops it with SIGTERM
	TALLY_VAR=$RUNDIR PORT=$RUN_PORT TLS_PORT=$RUN_TLS B=${B:-build} \
		"$REPO/tools/run.sh" > "$DIR/makerun-$1.out" 2>&1 &
	local pid=$!
	stack_check "make run ($1) listens" stack_wait_port "$RUN_PORT"
	stack_check "make run ($1) key file is 0600" \
		test "$(stat -c %a "$RUNDIR/demo.key")" = 600
	stack_check "make run ($1) whoami" bash -c 'curl -sf -H "X-Api-Key: $(cat "$1")" \
		"$2/api/v1/auth/whoami" | grep -q "\"tenant\":\"demo\""' _ \
		"$RUNDIR/demo.key" "http://127.0.0.1:$RUN_PORT"
	kill -TERM "$pid"
	stack_check "make run ($1) exits 0 on SIGTERM" wait "$pid"
	stack_check "make run ($1) stopped nginx" bash -c '! (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null' _ "$RUN_PORT"
	stack_check "make run ($1) stopped tallyd" test ! -e "$RUNDIR/run/tallyd.sock"
}
run_once first
first_key=$(cat "$RUNDIR/demo.key")
stack_check "first run printed the key" grep -qF "$first_key" "$DIR/makerun-first.out"
run_once second
stack_check "second run kept the key" test "$(cat "$RUNDIR/demo.key")" = "$first_key"
stack_check "second run did not print the key" bash -c '! grep -qF "$1" "$2"' _ \
	"$first_key" "$DIR/makerun-second.out"

echo "== secrets: no API key secret, webhook secret or private key in any log"
stack_secret "$(cut -d. -f2- "$RUNDIR/demo.key")"
stack_check "none of $(wc -l < "$TALLY_E2E_SECRETS") secrets in a log of the run" \
	stack_sweep "$DIR"

echo "== sanitizers (make asan): no report in any log of the run"
sanitizer_quiet() {
	! grep -rlE 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
		--include='*.log' --include='*.out' "$DIR"
}
stack_check "no ASan, LSan or UBSan report from any server" sanitizer_quiet

echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
