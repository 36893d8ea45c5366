#!/usr/bin/env bash
# What an operator runs for years (issue 21), on a tallyd of its own
# behind nginx, in one data directory's life:
#   1. upgrade: the directory is one the last release wrote (format 1,
#      tests/fixtures/v1-datadir.tar.gz), migrated once as tallyd opens
#      it, its deltas, checkpoint and heads read as before;
#   2. GET /metrics parsed by a parser apart from tallyd (promcheck.py),
#      its counters seen to move, refused outside metrics_allow;
#   3. log_file in JSON lines (then logfmt) with the request id, opened
#      again on SIGHUP after a rotation;
#   4. a new cache_mb applied at a restart, no file removed by hand;
#   5. restore: a backup older than the published head refused (current
#      store, saved --head, and after the data directory is lost), one
#      holding it restored, --accept-fork loud; every signing key kept;
#   6. a directory of a newer format refused untouched, tallyd exit 78.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$REPO/${B:-build}
DIR=$(mktemp -d /tmp/tally-ops.XXXXXX)
# shellcheck source=../../tools/stack.sh
source "$REPO/tools/stack.sh"
passed=0
failed=0
trap 'stack_finish ops' EXIT
PROM="/usr/bin/python3 $REPO/tests/e2e/promcheck.py"

# nginx as the stack starts it (the shipped tally-locations.conf passes
# /metrics to tallyd), plus two locations that ask as if from elsewhere.
ops_nginx() {
	mkdir -p "$DIR/nginx-tmp"
	stack_cert
	stack_render "$REPO/nginx/nginx.conf.in" "$DIR/nginx.conf" "$1" "$2"
	cat > "$DIR/metrics-location.conf" <<'CONF'
# The same, as if asked from elsewhere: the address a web server on a
# dual-stack socket gives (loopback, v4-mapped), and a public one.
location = /metrics-mapped {
    fastcgi_param REQUEST_METHOD  GET;
    fastcgi_param REQUEST_URI     /metrics;
    fastcgi_param REMOTE_ADDR     ::ffff:127.0.0.1;
    fastcgi_pass tally;
}
location = /metrics-public {
    fastcgi_param REQUEST_METHOD  GET;
    fastcgi_param REQUEST_URI     /metrics;
    fastcgi_param REMOTE_ADDR     203.0.113.7;
    fastcgi_pass tally;
}
CONF
	sed -i "0,\|^ *include .*/nginx/tally-locations.conf;|s||include $DIR/metrics-location.conf;\n&|" \
		"$DIR/nginx.conf"
	nginx -q -e "$DIR/nginx-error.log" -c "$DIR/nginx.conf" &
	STACK_PIDS+=("$!")
	stack_wait_port "$1"
}

scrape() {	# scrape FILE: GET /metrics into FILE; fails unless 200
	curl -sf -o "$1" "$URL/metrics"
}
metric() {	# metric FILE NAME [LABEL=VALUE...]: a sample's value
	$PROM "$@"
}
absent() {	# absent PATTERN FILE: grep finds nothing
	! grep -q "$@"
}
refused_newer() {	# tallyctl fails on the newer directory, saying why
	! stack_ctl verify 2> "$DIR/newer.err" &&
		grep -q 'written by a newer Tally' "$DIR/newer.err"
}

# The data directory: one the last release wrote (data format 1, made by
# tests/fixtures/make-v1.sh), which this tallyd migrates as it opens it.
stack_conf
tar -C "$DIR" -xzf "$REPO/tests/fixtures/v1-datadir.tar.gz"
[ "$(id -u)" -ne 0 ] || chown -R "$STACK_USER" "$DIR/db"
# A directory tallyd's user may write: it makes the new file on SIGHUP.
mkdir "$DIR/logs"
[ "$(id -u)" -ne 0 ] || chown "$STACK_USER" "$DIR/logs"
cat >> "$DIR/tally.conf" <<CONF
log_file = logs/tally.log
log_format = json
CONF
stack_check "the old directory has no Shared Record databases" \
	test ! -e "$DIR/db/shares.db"
stack_start_tallyd
# Its socket is bound before the store is opened: tallyd first.
for _ in $(seq 200); do
	grep -qs 'listening on' "$DIR/logs/tally.log" && break
	sleep 0.05
done
KEY=$(stack_key --tenant fixture)
PORT=$(stack_free_port)
ops_nginx "$PORT" "$(stack_free_port)"
URL=http://127.0.0.1:$PORT

echo "== upgrade: a data directory of the last release (format 1)"
get() {	# get PATH JQ: a field of an API answer with the fixture's key
	curl -sf -H "X-Api-Key: $KEY" "$URL/api/v1$1" | jq -er ".data$2"
}
stack_check "migrated: the log says format 1 -> 2" \
	grep -q 'data format 1 -> 2' "$DIR/logs/tally.log"
stack_check "migrated: the Shared Record's databases made" \
	test -e "$DIR/db/shares.db" -a -e "$DIR/db/sharecust.db"
stack_check "the old deltas: cust_a's balance is 69.25" \
	test "$(get /balance/derive/cust_a .computedBalance)" = 69.25
stack_check "the old checkpoint is read" \
	test "$(get '/balance/checkpoints?customerId=cust_a' '.checkpoints | length')" = 1
stack_check "the old signed heads are served" \
	test "$(curl -sf "$URL/api/v1/log/checkpoint" | jq -er .data.treeSize)" = 4
stack_check "a share link of the new format works on the old data" \
	curl -sf -o /dev/null -X POST -H "X-Api-Key: $KEY" "$URL/api/v1/balance/share/cust_a"

echo "== GET /metrics"
stack_check "GET /metrics answers 200" scrape "$DIR/m1"
stack_check "GET /metrics is text/plain version 0.0.4" \
	grep -qi '^content-type: text/plain; version=0.0.4' \
	<(curl -s -D - -o /dev/null "$URL/metrics")
stack_check "the text parses (promcheck)" $PROM "$DIR/m1"
status_of() { curl -s -o /dev/null -w '%{http_code}' "$URL$1"; }
stack_check "by default a v4-mapped loopback address may read them" \
	test "$(status_of /metrics-mapped)" = 200
stack_check "by default a public address may not (403)" \
	test "$(status_of /metrics-public)" = 403
for _ in 1 2 3; do curl -sf -o /dev/null "$URL/healthz"; done
emit() {	# emit N: a delta of customer c1
	curl -sf -o /dev/null -H "X-Api-Key: $KEY" -H 'Content-Type: application/json' \
		-d "{\"customerId\":\"c1\",\"delta\":$1,\"reason\":\"ops\"}" \
		"$URL/api/v1/balance/delta"
}
emit 1 && emit 2
curl -s -o /dev/null "$URL/api/v1/balance/delta/nope"	# 401: no key
sleep 0.5	# a signed head covers both
stack_check "GET /metrics parses after traffic" scrape "$DIR/m2"
stack_check "the text still parses" $PROM "$DIR/m2"
h1=$(metric "$DIR/m1" tally_http_requests_total route=/healthz status=200)
h2=$(metric "$DIR/m2" tally_http_requests_total route=/healthz status=200)
stack_check "three GET /healthz count 3 on their route ($h1 -> $h2)" \
	test "$h2" = $((h1 + 3))
stack_check "emits count on the route pattern, not the path" test \
	"$(metric "$DIR/m2" tally_http_requests_total route=/api/v1/balance/delta status=201)" = 2
stack_check "a 401 counts on the route pattern /api/v1/balance/delta/*" test \
	"$(metric "$DIR/m2" tally_http_requests_total 'route=/api/v1/balance/delta/*' status=401)" = 1
stack_check "no raw path is a label" absent 'delta/nope' "$DIR/m2"
stack_check "request durations observed" test \
	"$(metric "$DIR/m2" tally_http_request_duration_seconds_count route=/healthz)" -ge 3
stack_check "group commits observed" test \
	"$(metric "$DIR/m2" tally_commit_group_deltas_count)" -ge 1
stack_check "fsyncs timed" test "$(metric "$DIR/m2" tally_commit_fsync_seconds_count)" -ge 1
stack_check "tree size 6: the fixture's 4 and 2 more" \
	test "$(metric "$DIR/m2" tally_log_tree_size)" = 6
stack_check "emit to VERIFIED lag observed" test \
	"$(metric "$DIR/m2" tally_verify_lag_seconds_count)" = 2
stack_check "cache hit ratio between 0 and 1" /usr/bin/python3 -c \
	"import sys; v = float(sys.argv[1]); sys.exit(not 0 < v <= 1)" \
	"$(metric "$DIR/m2" tally_bdb_cache_hit_ratio)"
stack_check "lock table size said" test "$(metric "$DIR/m2" tally_bdb_locks_max)" -gt 0
stack_check "process RSS said" test \
	"$(metric "$DIR/m2" process_resident_memory_bytes)" -gt 1000000
stack_check "cache size 20 MiB (cache_mb default)" test \
	"$(metric "$DIR/m2" tally_bdb_cache_size_bytes)" -ge $((20 << 20))

echo "== log_file, JSON lines, SIGHUP"
LOG=$DIR/logs/tally.log
stack_check "log_file written" test -s "$LOG"
stack_check "every line is a JSON object with ts, level, msg" /usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert {"ts", "level", "msg"} <= set(o), line' "$LOG"
rid=ops-$RANDOM$RANDOM
curl -sf -o /dev/null -H "X-Request-Id: $rid" "$URL/healthz"
stack_check "a request's line carries its request id" \
	grep -q "\"req\":\"$rid\"" "$LOG"
mv "$LOG" "$LOG.1"
sender=$(pgrep -P "$TALLYD_PID" || true)
# As logrotate's postrotate does it: every tallyd process.
kill -HUP "$TALLYD_PID" $sender
for _ in $(seq 100); do [ -e "$LOG" ] && break; sleep 0.05; done
rid2=ops-$RANDOM$RANDOM
curl -sf -o /dev/null -H "X-Request-Id: $rid2" "$URL/healthz"
stack_check "SIGHUP: a new log file" test -s "$LOG"
stack_check "SIGHUP: the next request's line lands in the new file" \
	grep -q "\"req\":\"$rid2\"" "$LOG"
stack_check "SIGHUP: and not in the rotated one" absent "$rid2" "$LOG.1"
stack_check "tallyd still serves after SIGHUP" kill -0 "$TALLYD_PID"
stack_check "its webhook sender ($sender) outlived the SIGHUP too" \
	kill -0 $sender

echo "== cache_mb applies at a restart"
stack_kill "$TALLYD_PID"
echo "cache_mb = 48" >> "$DIR/tally.conf"
stack_start_tallyd
stack_check "GET /metrics after the restart" scrape "$DIR/m3"
size=$(metric "$DIR/m3" tally_bdb_cache_size_bytes)
stack_check "the cache is 48 MiB now ($size bytes), no file removed by hand" \
	test "$size" -ge $((48 << 20))
stack_check "the log says the environment was made again" \
	grep -q 'environment made again for cache_mb = 48' "$DIR/logs/tally.log"
stack_check "tallyctl verify holds after the upgrade and the resize" \
	stack_ctl verify
stack_check "tallyctl, beside tallyd, found the sizes right" \
	absent 'cache_mb = 48 applies' "$DIR/logs/tally.log"

echo "== metrics_allow"
stack_kill "$TALLYD_PID"
printf 'metrics_allow = 10.0.0.0/8, fd00::/8\nlog_format = logfmt\n' >> "$DIR/tally.conf"
stack_start_tallyd
rid3=ops-$RANDOM$RANDOM
code=$(curl -s -o "$DIR/m403" -w '%{http_code}' -H "X-Request-Id: $rid3" "$URL/metrics")
stack_check "an address outside metrics_allow gets 403 ($code)" test "$code" = 403
stack_check "and no figure" absent tally_ "$DIR/m403"
stack_check "log_format = logfmt: ts, level, req and a quoted msg" grep -Eq \
	"^ts=[0-9T:.-]+Z level=info req=$rid3 msg=\"GET /metrics 403 [0-9.]+ms\"\$" \
	"$DIR/logs/tally.log"

echo "== restore without a fork"
# A backup, then a key rotation and heads signed by the new key, one of
# them saved outside the data directory as a monitor would save it.
mkdir "$DIR/backups"
[ "$(id -u)" -ne 0 ] || chown "$STACK_USER" "$DIR/backups"
stack_ctl backup "$DIR/backups/before" >/dev/null
before=$(curl -sf "$URL/api/v1/log/checkpoint" | jq -er .data.treeSize)
stack_ctl signing-key rotate >/dev/null
emit 3 && emit 4
head_size() { curl -sf "$URL/api/v1/log/checkpoint" | jq -er .data.treeSize; }
for _ in $(seq 100); do [ "$(head_size)" -ge $((before + 2)) ] && break; sleep 0.05; done
curl -sf "$URL/api/v1/log/checkpoint" > "$DIR/backups/head.json"
published=$(jq -er .data.treeSize "$DIR/backups/head.json")
keys() { curl -sf "$URL/api/v1/keys" | jq -er '.data.keys | length'; }
nkeys=$(keys)
stack_check "the rotation made a key ($nkeys in /keys)" test "$nkeys" -ge 2
stack_kill "$TALLYD_PID"

restore_refused() {	# restore_refused ARGS...: fails, saying why
	! stack_ctl restore "$@" 2> "$DIR/restore.err" &&
		grep -q 'stops short of the published head of size' "$DIR/restore.err"
}
stack_check "a backup older than the published head is refused" \
	restore_refused "$DIR/backups/before"
stack_check "the refusal replaced nothing: verify sees size $published" \
	grep -q "^verify: $published leaves" <(stack_ctl verify)
stack_check "refused with --head too" \
	restore_refused "$DIR/backups/before" --head "$DIR/backups/head.json"

stack_ctl backup "$DIR/backups/after" >/dev/null
stack_check "a backup holding the published head is restored" \
	stack_ctl restore "$DIR/backups/after" --head "$DIR/backups/head.json"
stack_start_tallyd
stack_check "restored: the published head is served as it was" \
	test "$(curl -sf "$URL/api/v1/log/checkpoint" | jq -er .data.checkpoint)" = \
	"$(jq -er .data.checkpoint "$DIR/backups/head.json")"
stack_check "restored: every key in /keys" test "$(keys)" = "$nkeys"
stack_kill "$TALLYD_PID"

stack_ctl restore --accept-fork "$DIR/backups/before" > /dev/null \
	2> "$DIR/fork.err" || true
stack_check "--accept-fork restores the old backup, loudly" \
	grep -q 'TELL EVERY CUSTOMER' "$DIR/fork.err"
stack_check "its log is the backup's: size $before" \
	grep -q "^verify: $before leaves" <(stack_ctl verify)
stack_start_tallyd
stack_check "the key made after the backup is still in /keys" \
	test "$(keys)" = "$nkeys"
emit 5
for _ in $(seq 100); do [ "$(head_size)" -gt "$before" ] && break; sleep 0.05; done
stack_check "new heads are signed by the newest key" test \
	"$(curl -sf "$URL/api/v1/log/checkpoint" | jq -er .data.keyId)" = \
	"$(jq -er .data.keyId "$DIR/backups/head.json")"
stack_check "tallyctl verify holds on the restored store" stack_ctl verify

echo "== restore after the data directory is lost"
stack_kill "$TALLYD_PID"
mv "$DIR/db" "$DIR/db.lost"
lost_refused() {	# lost_refused MESSAGE ARGS...
	! stack_ctl restore "${@:2}" 2> "$DIR/lost.err" && grep -q "$1" "$DIR/lost.err"
}
stack_check "without --head, restore cannot tell what was published" \
	lost_refused 'which heads were published is unknown' "$DIR/backups/before"
# As the README says: the data directory made again, empty, for its user.
mkdir -m 700 "$DIR/db"
[ "$(id -u)" -ne 0 ] || chown "$STACK_USER" "$DIR/db"
stack_check "with the saved head, the old backup is refused" \
	lost_refused 'stops short of the published head' "$DIR/backups/before" \
	--head "$DIR/backups/head.json"
stack_check "with the saved head, the backup holding it is restored" \
	stack_ctl restore "$DIR/backups/after" --head "$DIR/backups/head.json"
stack_check "restored: the log up to the published head" \
	grep -q "^verify: $published leaves" <(stack_ctl verify)

echo "== a data directory of a newer format is refused, untouched"
stack_kill "$TALLYD_PID"
# Format 99, as a future tallyd would record it (8 bytes, big-endian).
printf 'format\n\\00\\00\\00\\00\\00\\00\\00\\63\n' |
	db5.3_load -T -t btree -h "$DIR/db" meta.db
[ "$(id -u)" -ne 0 ] || chown -R "$STACK_USER" "$DIR/db"
status=0
timeout 20 "$BIN/tallyd" -c "$DIR/tally.conf" 2>/dev/null || status=$?
stack_check "tallyd exits 78 (EX_CONFIG: no restart heals it), got $status" \
	test "$status" = 78
known=$(sed -n 's/^#define STORE_FORMAT[[:space:]]*\([0-9]*\)$/\1/p' \
	"$REPO/store/store.h")
stack_check "tallyd says why" grep -q \
	"in data format 99, written by a newer Tally; this one knows formats up to $known and will" \
	"$DIR/logs/tally.log"
stack_check "tallyctl refuses it too" refused_newer
stack_check "the directory still says format 99" \
	grep -qx ' \\00\\00\\00\\00\\00\\00\\00c' <(db5.3_dump -p -h "$DIR/db" meta.db)

cat "$DIR"/logs/* > "$DIR/tallyd-json.log"	# for the secrets sweep (run.sh)

if [ "$failed" -eq 0 ]; then
	echo "ops: PASS ($passed checks)"
else
	echo "ops: FAIL: $failed of $((passed + failed)) checks failed"
fi
[ "$failed" -eq 0 ]
