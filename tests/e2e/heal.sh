#!/usr/bin/env bash
# A store that heals itself (issue 18.1).  tallyd, kept running by the
# supervisor of make run (tools/supervise.sh), behind nginx and Apache,
# while two clients keep writing to one tenant: the crash test's client
# through nginx and a curl loop through Apache (customer crash_9, whose
# sequence the crash client's judge leaves alone), each retrying a
# request under its Idempotency-Key until acknowledged.
# Meanwhile:
#   (a) tallyctl is misused every way an operator does: a typo, --help of
#       every command, export | head -1, SIGINT, SIGTERM and SIGHUP while
#       it is blocked writing an export.  Each must leave the store closed
#       (its PID gone from Berkeley DB's registry of processes), and
#       tallyd must never notice (no recovery, no panic, the same
#       process).
#   (b) a tallyctl is killed with -9 mid-transaction (an export blocked on
#       a full pipe); the next tallyctl runs recovery under tallyd, whose
#       store panics: tallyd must stop answering 2xx, exit, and be started
#       again by its supervisor, and writes must resume within seconds.
#       /healthz and /readyz, polled throughout, must never say 200 while
#       tallyd answers 503 for the store.
# Then every acknowledged delta is in the store exactly once, tallyctl
# verify is clean, and make run (tools/run.sh) starts a tallyd killed
# with -9 again.  Prints "heal: N passed, M failed".
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$REPO/${B:-build}
DIR=$(mktemp -d /tmp/tally-heal.XXXXXX)
# shellcheck source=../../tools/stack.sh
source "$REPO/tools/stack.sh"
# shellcheck source=../../tools/supervise.sh
source "$REPO/tools/supervise.sh"

passed=0
failed=0
writer='' apache_writer='' monitor='' run_pid=''
finish() {
	local pid
	touch "$DIR/stop"
	for pid in $writer $apache_writer $monitor $run_pid; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	stack_finish heal
}
trap finish EXIT
# A misused tallyctl on the old code could write where it runs
# (`backup --help` took --help for a directory).
cd "$DIR"

ctl() { "$BIN/tallyctl" -c "$DIR/tally.conf" "$@"; }
tallyd_pid() { cat "$DIR/run/tallyd.pid"; }
lines() { wc -l < "$1"; }

# poll SECONDS COMMAND...: until COMMAND succeeds, every 0.1 s.
poll() {
	local end=$((SECONDS + $1))
	while [ "$SECONDS" -le "$end" ]; do
		"${@:2}" && return 0
		sleep 0.1
	done
	return 1
}
grew() { [ "$(lines "$1")" -ge "$2" ]; }	# grew FILE LINES
# helps COMMAND...: `tallyctl COMMAND --help` prints the usage, exits 0.
helps() {
	misused 0 "$DIR/help.out" "$@" --help &&
		grep -q "^usage: tallyctl" "$DIR/help.out"
}
verified() { ctl verify > "$DIR/verify.out"; }

# Until $DIR/stop exists: one delta at a time through Apache, each
# retried under its own Idempotency-Key until acknowledged (60 s at
# most), as the SDKs do, on no answer or a 5xx (a 4xx is final);
# a line per acknowledgement as the crash client writes them.
apache_write() {
	local i=0 try code rid seq
	while [ ! -e "$DIR/stop" ]; do
		i=$((i + 1))
		for try in $(seq 600); do
			code=$(curl -s -o "$DIR/apache.reply" -w '%{http_code}' \
				-H "X-Api-Key: $KEY" -H "Idempotency-Key: heal-$i" \
				-H 'Content-Type: application/json' \
				-d '{"customerId":"crash_9","delta":1,"reason":"heal"}' \
				"$AURL/api/v1/balance/delta") || true
			case $code in
			2??)	rid=$(grep -o '"recordId":"[^"]*"' "$DIR/apache.reply")
				seq=$(grep -o '"sequenceNumber":[0-9]*' "$DIR/apache.reply")
				echo "heal-$i ${rid:12:-1} crash_9 ${seq#*:} 1" \
					>> "$DIR/apache.acks"
				break ;;
			4??)	echo "heal-$i: $code $(cat "$DIR/apache.reply")" >&2
				return 1 ;;
			esac
			[ "$try" -lt 600 ] || { echo "heal-$i never acknowledged" >&2; return 1; }
			sleep 0.1
		done
	done
}

# Every 50 ms, through each front: whoami (a store read), /healthz,
# /readyz, whoami again.  One line a sample: "nginx W H R W apache W H R
# W" (000: no answer in 2 s).
monitor_run() {
	local u codes
	while [ ! -e "$DIR/stop" ]; do
		codes=()
		for u in "$URL" "$AURL"; do
			# shellcheck disable=SC2207
			codes+=($(curl -s -m 2 -o /dev/null -o /dev/null -o /dev/null \
				-o /dev/null -w '%{http_code} ' -H "X-Api-Key: $KEY" \
				"$u/api/v1/auth/whoami" "$u/healthz" "$u/readyz" \
				"$u/api/v1/auth/whoami" || true))
		done
		echo "nginx ${codes[*]:0:4} apache ${codes[*]:4:4}" >> "$DIR/monitor"
		sleep 0.05
	done
}

# No sample where the key lookups before and after both failed (503)
# while /healthz or /readyz, between them, said 200.  (A web server's
# own 503, while tallyd restarts, is followed by a 200 once it is back.)
monitor_truthful() {
	awk '($2 == 503 && $5 == 503 && ($3 == 200 || $4 == 200)) ||
	     ($7 == 503 && $10 == 503 && ($8 == 200 || $9 == 200)) { lie = 1 }
	     END { exit lie }' "$DIR/monitor"
}
# Samples where the probes said the service was down (502 from the web
# server while tallyd restarts, 503 from tallyd or Apache).
monitor_down() {
	awk '$3 ~ /^50[23]$/ || $8 ~ /^50[23]$/ { down = 1 }
	     END { exit !down }' "$DIR/monitor"
}

# closed PID: tallyctl PID, gone, left the store closed: it is not in
# Berkeley DB's registry of processes (DB_REGISTER), where a process
# that exits with the environment open stays until the next opener runs
# recovery; and tallyd saw no recovery.
closed() {
	! grep -qE "^ *$1\$" "$DIR/db/__db.register" &&
		! grep -qE "PANIC|needs recovery" "$DIR/tallyd.log"
}
# misused STATUS OUT ARGS...: `tallyctl ARGS` exits STATUS, its stdout
# and stderr in OUT, and leaves the store closed.
misused() {
	local status=0 pid
	"$BIN/tallyctl" -c "$DIR/tally.conf" "${@:3}" > "$2" 2>&1 &
	pid=$!
	wait "$pid" || status=$?
	[ "$status" -eq "$1" ] && closed "$pid"
}

# blocked_export: a tallyctl export writing into a pipe nobody reads
# for 5 s, so that it blocks with a read transaction open; its PID in
# $blocked.
blocked_export() {
	"$BIN/tallyctl" -c "$DIR/tally.conf" export --tenant crash \
		> >(sleep 5) 2> "$DIR/blocked.err" &
	blocked=$!
	# Blocked once the pipe is full: asleep in a write.
	poll 5 grep -q pipe_write "/proc/$blocked/wchan" ||
		poll 1 grep -q '^State:.S' "/proc/$blocked/status"
}
# stopped_by SIGNAL STATUS: a blocked export, sent SIGNAL, exits STATUS
# within 3 s (the store closed first).
stopped_by() {
	local status=0
	blocked_export
	kill "-$1" "$blocked"
	poll 3 bash -c '! kill -0 "$1" 2>/dev/null' _ "$blocked" || {
		kill -KILL "$blocked"; wait "$blocked" || true; return 1; }
	wait "$blocked" || status=$?
	[ "$status" -eq "$2" ] && closed "$blocked"
}

stack_conf
ctl init >/dev/null
ctl tenant add crash >/dev/null
KEY=$(stack_key --tenant crash)
supervise_tallyd 2>> "$DIR/supervise.log"
PORT=$(stack_free_port)
stack_start_nginx "$PORT" "$(stack_free_port)"
APORT=$(stack_free_port)
stack_start_apache "$APORT" "$(stack_free_port)"
URL=http://127.0.0.1:$PORT AURL=http://127.0.0.1:$APORT

: > "$DIR/acks"; : > "$DIR/apache.acks"; : > "$DIR/monitor"
"$BIN/tests/crash" write "$URL" "$KEY" "$DIR/acks" 2 > "$DIR/writer.out" &
writer=$!
apache_write 2> "$DIR/apache.err" &
apache_writer=$!
monitor_run &
monitor=$!
stack_check "the client writes through nginx" poll 10 grew "$DIR/acks" 300
stack_check "the client writes through Apache" poll 10 grew "$DIR/apache.acks" 10
first_pid=$(tallyd_pid)

echo "== (a) tallyctl misused while tallyd serves writes"
stack_check "a typo (tenant lst) exits 2 with the usage, the store closed" \
	misused 2 "$DIR/typo.out" tenant lst
stack_check "a typo: the usage on stderr" grep -q "^usage: tallyctl" "$DIR/typo.out"
for cmd in init tenant "tenant add" key "key create" export signing-key \
	quota cadence webhook verify backup; do
	# shellcheck disable=SC2086
	stack_check "tallyctl $cmd --help: the usage, exit 0" helps $cmd
done
# The reader leaves at once: tallyctl's next write fails.
"$BIN/tallyctl" -c "$DIR/tally.conf" export --tenant crash 2> "$DIR/head.err" \
	> >(head -1 > "$DIR/head.out") &
head_pid=$!
head_status=0
wait "$head_pid" || head_status=$?
stack_check "export | head -1: one delta" poll 2 grep -q '"recordId"' "$DIR/head.out"
stack_check "export | head -1: tallyctl stops, quietly, 141" \
	bash -c '[ "$1" -eq 141 ] && [ ! -s "$2" ]' _ "$head_status" "$DIR/head.err"
stack_check "export | head -1: the store closed" closed "$head_pid"
stack_check "SIGINT to a blocked export: exits 130, the store closed" stopped_by INT 130
stack_check "SIGTERM to a blocked export: exits 143, the store closed" stopped_by TERM 143
stack_check "SIGHUP to a blocked export: exits 129, the store closed" stopped_by HUP 129
# The next opener is the one that would run recovery after a bad exit.
stack_check "tallyctl tenant list after all that" ctl tenant list > /dev/null
mark=$(lines "$DIR/acks")
stack_check "writes went on through nginx" poll 10 grew "$DIR/acks" $((mark + 100))
mark=$(lines "$DIR/apache.acks")
stack_check "writes went on through Apache" poll 10 grew "$DIR/apache.acks" $((mark + 5))
stack_check "tallyd never noticed: no recovery, no panic" \
	bash -c '! grep -qE "PANIC|needs recovery" "$1"' _ "$DIR/tallyd.log"
stack_check "tallyd never noticed: the same process" test "$(tallyd_pid)" = "$first_pid"

echo "== (b) kill -9 of a tallyctl mid-transaction; the next one recovers"
stack_check "a tallyctl export blocks mid-transaction" blocked_export
kill -KILL "$blocked"
wait "$blocked" 2>/dev/null || true
ctl tenant list > /dev/null || true	# runs recovery: tallyd's store panics
mark=$(lines "$DIR/acks"); amark=$(lines "$DIR/apache.acks")
stack_check "tallyd exits 75 after the panic" \
	poll 10 grep -q "exited with status 75" "$DIR/supervise.log"
stack_check "the supervisor starts tallyd again" \
	poll 10 bash -c '[ "$(cat "$1")" != "$2" ] && [ -S "$3" ]' _ \
	"$DIR/run/tallyd.pid" "$first_pid" "$DIR/run/tallyd.sock"
stack_check "/readyz 200 again through nginx" poll 15 curl -sf -o /dev/null "$URL/readyz"
stack_check "/readyz 200 again through Apache" poll 15 curl -sf -o /dev/null "$AURL/readyz"
stack_check "writes resume through nginx within seconds" \
	poll 15 grew "$DIR/acks" $((mark + 200))
stack_check "writes resume through Apache within seconds" \
	poll 15 grew "$DIR/apache.acks" $((amark + 5))

touch "$DIR/stop"
kill -TERM "$writer"
stack_check "the nginx client got every request acknowledged" wait "$writer"
writer=
stack_check "the Apache client got every request acknowledged" wait "$apache_writer"
apache_writer=
wait "$monitor" || true
monitor=
cat "$DIR/writer.out"
echo "heal: $(lines "$DIR/apache.acks") deltas acknowledged through Apache," \
	"$(lines "$DIR/monitor") probe samples," \
	"$(grep -c "exited with status" "$DIR/supervise.log") restarts"
stack_check "/healthz and /readyz never said 200 while tallyd said 503" \
	monitor_truthful
stack_check "/healthz and /readyz said the service was down meanwhile" monitor_down

ctl export --tenant crash > "$DIR/crash.export"
cat "$DIR/acks" "$DIR/apache.acks" > "$DIR/all.acks"
stack_check "every delta acknowledged through nginx or Apache is stored exactly once, unchanged, nothing else" \
	"$BIN/tests/crash" check "$DIR/all.acks" "$DIR/crash.export"
stack_check "tallyctl verify holds" verified
tail -1 "$DIR/verify.out"
stack_stop

echo "== make run: its supervisor starts a tallyd killed with -9 again"
RUNDIR=$DIR/makerun
RUN_PORT=$(stack_free_port); RUN_TLS=$(stack_free_port)
TALLY_VAR=$RUNDIR PORT=$RUN_PORT TLS_PORT=$RUN_TLS B=${B:-build} \
	"$REPO/tools/run.sh" > "$DIR/makerun.out" 2>&1 &
run_pid=$!
run_whoami() {
	curl -sf -H "X-Api-Key: $(cat "$RUNDIR/demo.key" 2>/dev/null)" \
		"http://127.0.0.1:$RUN_PORT/api/v1/auth/whoami" | grep -q '"tenant":"demo"'
}
stack_check "make run serves" poll 20 run_whoami
# (Before the supervisor, no PID file: the tallyd serving RUNDIR.)
killed=$(cat "$RUNDIR/run/tallyd.pid" 2>/dev/null ||
	pgrep -f -x "$BIN/tallyd -c $RUNDIR/tally.conf")
kill -KILL "$killed"
stack_check "make run logs the restart" \
	poll 10 grep -q "tallyd (pid $killed) exited with status 137" "$DIR/makerun.out"
stack_check "make run serves again after kill -9 of tallyd" poll 15 run_whoami
kill -TERM "$run_pid" 2>/dev/null || true	# (gone already if it stopped by itself)
stack_check "make run exits 0 on SIGTERM" wait "$run_pid"
run_pid=
stack_check "make run stopped tallyd" test ! -e "$RUNDIR/run/tallyd.sock"

echo "heal: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
