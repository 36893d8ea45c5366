#!/usr/bin/env bash
# Webhooks end to end (SPEC 5, 3.10): a tallyd of its own behind nginx, a
# receiver on loopback (hookrecv, which checks each signature with its
# own HMAC), and every signature checked again with `openssl dgst -hmac`.
#
#   1. private targets refused by default, at `webhook add` and, for a
#      name that resolves to loopback, at delivery
#   2. delta.verified for every delta, delta.failed for a refused batch
#      item, checkpoint.verified for a checkpoint; bodies and headers
#   3. receiver down, then failing (503), then up: every event arrives,
#      retries under the same X-Event-ID; the attempts are listed
#   4. a receiver that hangs does not slow emits
#   5. after a secret rotation both signatures, current first
#   6. kill -9 of the sender mid-delivery, then of tallyd: nothing lost
#   7. an HTTPS target (nginx terminating TLS in front of the receiver),
#      its certificate checked against webhook_ca_file
#   8. the deliveries API: filters, paging, retry, refusals
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$REPO/${B:-build}
DIR=$(mktemp -d /tmp/tally-hooks.XXXXXX)
RDIR=$DIR/receiver
# shellcheck source=../../tools/stack.sh
source "$REPO/tools/stack.sh"

RECV_PID=
passed=0
failed=0
finish() {
	if [ "$failed" -gt 0 ]; then	# what CI keeps of a failed run
		echo "webhooks: the receiver's last requests:" >&2
		tail -n 5 "$RDIR/log" >&2 2>/dev/null || echo "(none)" >&2
		echo "webhooks: deliveries by status and last error:" >&2
		deliveries 2>/dev/null | jq -r '"\(.status) \(.lastError // "-")"' |
		    sort | uniq -c >&2 || true
	fi
	[ -z "$RECV_PID" ] || kill "$RECV_PID" 2>/dev/null || true
	stack_finish webhooks
}
trap finish EXIT

# eventually SECONDS COMMAND...: until the command holds, or time is up.
eventually() {
	local deadline=$((SECONDS + $1))
	while ! "${@:2}"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

recv_start() {
	"$BIN/tests/hookrecv" "$RPORT" "$RDIR" &
	RECV_PID=$!
	stack_wait_port "$RPORT"
}
recv_stop() {
	kill "$RECV_PID"
	wait "$RECV_PID" 2>/dev/null || true
	RECV_PID=
}
recv_mode() { echo "$1" > "$RDIR/mode"; }
# Lines of the receiver's log: N ANSWER EVENT-ID EVENT SIGNATURES
answered() { awk -v a="$1" '$2 == a' "$RDIR/log" 2>/dev/null; }

api() {		# api METHOD PATH [BODY]: the JSON answer
	curl -s -X "$1" -H "X-Api-Key: $KEY" -H 'Content-Type: application/json' \
		${3:+--data-binary "$3"} "$URL$2"
}
answers() {	# answers JSON FILTER: the filter holds for the answer
	jq -e "$2" <<<"$1" >/dev/null
}
emit() {	# emit CUSTOMER AMOUNT: the recordId
	api POST /api/v1/balance/delta \
		"{\"customerId\":\"$1\",\"delta\":$2,\"reason\":\"hook test\"}" |
		jq -r .data.recordId
}
# The event ids whose bodies name recordId $1, as the receiver got them.
events_of_record() {
	grep -l "\"recordId\":\"$1\"" "$RDIR"/req/*.body 2>/dev/null |
		sed 's/\.body$/.head/' | xargs -r grep -h -i '^X-Event-ID:' |
		awk '{ print $2 }' | tr -d '\r' | sort -u
}
delivered() {	# delivered RECORD...: each has a delta.verified answered 200
	local r id
	for r in "$@"; do
		id=$(events_of_record "$r" | sed -n 1p)
		[ -n "$id" ] && answered 200 | grep " $id delta.verified " >/dev/null ||
			return 1
	done
}
# Every delivery of tenant hooks, all pages, as JSON lines.
deliveries() {
	local offset=0 page
	while :; do
		page=$(api GET "/api/v1/balance/webhooks?limit=50&offset=$offset${1:+&status=$1}")
		jq -c '.data.deliveries[]' <<<"$page"
		offset=$((offset + 50))
		[ "$offset" -lt "$(jq .data.pagination.total <<<"$page")" ] || break
	done
}

# openssl's HMAC over request N's "<timestamp>.<body>" with secret $2.
openssl_sig() {
	local ts
	ts=$(grep -i '^X-PacSpace-Timestamp:' "$RDIR/req/$1.head" | awk '{ print $2 }' | tr -d '\r')
	{ printf '%s.' "$ts"; cat "$RDIR/req/$1.body"; } |
		openssl dgst -sha256 -hmac "$2" | awk '{ print "v1=" $NF }'
}
# The v1= values request N carries, one per line.
carried_sigs() {
	grep -i '^X-PacSpace-Signature:' "$RDIR/req/$1.head" |
		cut -d' ' -f2- | tr -d '\r' | tr ',' '\n'
}

mkdir -p "$RDIR/req"
RPORT=$(stack_free_port)
stack_conf
cat >> "$DIR/tally.conf" <<CONF
webhook_retry_ms = 200
webhook_timeout_ms = 30000
webhook_concurrency = 8
webhook_ca_file = tls/cert.pem
CONF
stack_ctl init >/dev/null
stack_ctl tenant add hooks >/dev/null
KEY=$(stack_key --tenant hooks)
CUSTOMER_KEY=$(stack_key --tenant hooks --customer c1)
stack_start_tallyd
PORT=$(stack_free_port)
stack_start_nginx "$PORT" "$(stack_free_port)"
URL=http://127.0.0.1:$PORT
recv_start

echo "== 1. private targets are refused unless tally.conf allows them"
stack_check "webhook add refuses a loopback address" \
	bash -c '! "$1" -c "$2" webhook add --tenant hooks "http://127.0.0.1:$3/" 2>/dev/null' \
	_ "$BIN/tallyctl" "$DIR/tally.conf" "$RPORT"
stack_check "webhook add refuses credentials in the URL" \
	bash -c '! "$1" -c "$2" webhook add --tenant hooks "https://u:p@example.com/" 2>/dev/null' \
	_ "$BIN/tallyctl" "$DIR/tally.conf"
stack_check "webhook add refuses loopback in another spelling" \
	bash -c '! "$1" -c "$2" webhook add --tenant hooks "http://0x7f000001:$3/" 2>/dev/null' \
	_ "$BIN/tallyctl" "$DIR/tally.conf" "$RPORT"
stack_check "webhook add refuses localhost" \
	bash -c '! "$1" -c "$2" webhook add --tenant hooks "http://localhost:$3/" 2>/dev/null' \
	_ "$BIN/tallyctl" "$DIR/tally.conf" "$RPORT"
# A name whose address changes after add (DNS moves it onto loopback)
# is caught at delivery: here, added under a configuration that allowed
# it, while tallyd's own does not.
cp "$DIR/tally.conf" "$DIR/tally-add.conf"
echo "webhook_allow_private = yes" >> "$DIR/tally-add.conf"
read -r LOCAL_ID LOCAL_SECRET < <("$BIN/tallyctl" -c "$DIR/tally-add.conf" webhook add --tenant hooks "http://localhost:$RPORT/hook" 2>/dev/null)
stack_secret "$LOCAL_SECRET"
rec=$(emit c1 1)
refused() {
	deliveries | jq -e 'select(.attempts >= 1 and
	    (.lastError | test("not public")))' >/dev/null
}
stack_check "a name resolving to loopback is refused at delivery" eventually 20 refused
stack_check "the receiver got nothing" test ! -s "$RDIR/log"
stack_ctl webhook remove "$LOCAL_ID" >/dev/null
removed() {
	deliveries FAILED | jq -e 'select(.lastError == "the endpoint was removed")' >/dev/null
}
stack_check "events of a removed endpoint fail" eventually 20 removed

echo "== 2. every event arrives, signed"
stack_kill "$TALLYD_PID"
echo "webhook_allow_private = yes" >> "$DIR/tally.conf"
stack_start_tallyd
read -r HOOK_ID SECRET1 < <(stack_ctl webhook add --tenant hooks "http://127.0.0.1:$RPORT/hook" 2>/dev/null)
stack_secret "$SECRET1"
echo "$SECRET1" > "$RDIR/secrets"
records=()
for i in $(seq 20); do
	records+=("$(emit "c$((i % 3))" "$i.5")")
done
batch=$(api POST /api/v1/balance/delta/batch '{"deltas":[
	{"customerId":"c1","delta":2,"reason":"ok","referenceId":"b-1"},
	{"customerId":"c1","delta":0,"reason":"zero","referenceId":"b-2"},
	{"customerId":"c2","delta":3,"reason":"ok"}]}')
records+=($(jq -r '.data.results[] | select(.status != "FAILED") | .recordId' <<<"$batch"))
stack_check "22 deltas recorded" test "${#records[@]}" -eq 22
stack_check "every delta.verified arrives" eventually 30 delivered "${records[@]}"
checkpoint=$(api POST /api/v1/balance/checkpoint '{"customerId":"c1"}')
chk_id=$(jq -r '.data.checkpoints[0].checkpointId // .data.checkpointId' <<<"$checkpoint")
chk_arrived() { grep -lq "\"checkpointId\":\"$chk_id\"" "$RDIR"/req/*.body; }
stack_check "checkpoint.verified arrives" eventually 30 chk_arrived
failed_arrived() { answered 200 | grep ' delta.failed ' >/dev/null; }
stack_check "delta.failed arrives for the refused item" eventually 30 failed_arrived
fbody=$(grep -l '"event":"delta.failed"' "$RDIR"/req/*.body | sed -n 1p)
failed_body() {
	jq -e '.data.index == 1 and .data.referenceId == "b-2" and
	    .data.customerId == "c1" and .data.delta == null and
	    .data.error.code == "VALIDATION_ERROR" and
	    .data.error.field == "delta"' "$fbody" >/dev/null
}
stack_check "delta.failed names the item and its error" failed_body

# One delta.verified body against the delta as the API shows it.
first=${records[0]}
n=$(grep -l "\"recordId\":\"$first\"" "$RDIR"/req/*.body | sed -n 1p)
n=$(basename "$n" .body)
status=$(api GET "/api/v1/balance/delta/$first")
body_matches() {
	jq -e --argjson d "$(jq .data <<<"$status")" --arg t hooks '
	    .event == "delta.verified" and .tenantId == $t and
	    (.id | startswith("evt_")) and
	    .data.recordId == $d.recordId and .data.receiptId == $d.receiptId and
	    .data.customerId == $d.customerId and .data.delta == $d.delta and
	    .data.sequenceNumber == ($d.sequenceNumber | tostring) and
	    .data.verificationReference == $d.leafHash and
	    .data.proof.leafHash == $d.leafHash and
	    .data.proof.contentHash == $d.contentHash and
	    .data.proof.logIndex == $d.logIndex and
	    .data.proof.treeSize > $d.logIndex and
	    (.data.proof.rootHash | test("^0x[0-9a-f]{64}$")) and
	    .data.blockTimestamp == $d.verifiedAt' "$RDIR/req/$n.body" >/dev/null
}
stack_check "delta.verified body matches the delta" body_matches
headers_match() {
	local id
	id=$(jq -r .id "$RDIR/req/$n.body")
	grep -qi "^X-Event-ID: $id" "$RDIR/req/$n.head" &&
	grep -qi '^X-Webhook-Event: delta.verified' "$RDIR/req/$n.head" &&
	grep -qi '^Content-Type: application/json' "$RDIR/req/$n.head"
}
stack_check "X-Event-ID, X-Webhook-Event, Content-Type" headers_match
all_signed() {	# hookrecv's HMAC verdict: one signature, by secret 0
	[ -z "$(awk '$5 != "0"' "$RDIR/log")" ]
}
stack_check "hookrecv: every signature verifies with the secret" all_signed
openssl_agrees() {	# openssl dgst -hmac: the same bytes, the same value
	local f n1
	for f in "$RDIR"/req/*.head; do
		n1=$(basename "$f" .head)
		[ "$(carried_sigs "$n1")" = "$(openssl_sig "$n1" "$SECRET1")" ] ||
			return 1
	done
}
stack_check "openssl dgst -hmac: every signature verifies" openssl_agrees
forged_fails() {	# the check can fail: another secret does not verify
	[ "$(carried_sigs "$n")" != "$(openssl_sig "$n" "whsec_not_it")" ]
}
stack_check "a wrong secret does not verify" forged_fails
stack_check "deliveries: all VERIFIED with one attempt" bash -c '
	[ "$(jq -s "map(select(.attempts == 1 and .lastStatusCode == 200)) |
	    length" <<<"$1")" -ge 24 ]' _ "$(deliveries VERIFIED)"

echo "== 3. receiver down, then failing, then up: every event arrives"
recv_stop
down=()
for i in $(seq 5); do down+=("$(emit c1 "0.$i")"); done
retrying() {
	deliveries QUEUED | jq -s -e 'map(select(.attempts >= 2 and
	    .lastStatusCode == null)) | length >= 5' >/dev/null
}
stack_check "attempts at a receiver that is down are listed" eventually 30 retrying
recv_mode fail
recv_start
for i in $(seq 5); do down+=("$(emit c2 "0.$i")"); done
failing() { [ "$(answered 503 | wc -l)" -ge 10 ]; }
stack_check "a failing receiver gets attempts (503)" eventually 30 failing
listed_503() {
	deliveries QUEUED | jq -s -e 'map(select(.lastStatusCode == 503 and
	    .lastError == "HTTP 503")) | length >= 1' >/dev/null
}
stack_check "deliveries show lastStatusCode 503" eventually 10 listed_503
recv_mode ok
stack_check "every event arrives once the receiver is up" eventually 60 delivered "${down[@]}"
same_ids() {	# each event answered 503 was later answered 200, same id
	local id
	for id in $(answered 503 | awk '{ print $3 }' | sort -u); do
		answered 200 | grep " $id " >/dev/null || return 1
	done
}
stack_check "retries carry the same X-Event-ID" same_ids
stack_check "the retried events list their attempts" bash -c '
	[ "$(jq -s "map(select(.attempts >= 2)) | length" <<<"$1")" -ge 10 ]' \
	_ "$(deliveries VERIFIED)"

echo "== 4. a receiver that hangs does not slow emits"
timed_emits() {	# timed_emits N: ms for N emits, each answered 201
	local t0 i code
	t0=$(date +%s%N)
	for ((i = 0; i < $1; i++)); do
		code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
		    -H "X-Api-Key: $KEY" -H 'Content-Type: application/json' \
		    --data-binary "{\"customerId\":\"h\",\"delta\":1,\"reason\":\"r\"}" \
		    "$URL/api/v1/balance/delta")
		[ "$code" = 201 ] || return 1
	done
	echo $(( ($(date +%s%N) - t0) / 1000000 ))
}
verified_200() { answered 200 | grep -c ' delta.verified '; }
ok_before=$(verified_200)
base_ms=$(timed_emits 50)
# The first 50 are delivered before the receiver hangs: had they hung,
# they would fill every sending slot (webhook_concurrency) before the
# count below is taken, and no further attempt could be seen hanging.
settled() { [ -z "$(deliveries QUEUED)" ]; }
base_delivered() { [ "$(verified_200)" -ge $((ok_before + 50)) ] && settled; }
stack_check "the emits before the hang are delivered" eventually 30 base_delivered
recv_mode hang
hung_before=$(answered hang | wc -l)
hang_ms=$(timed_emits 50)
hung_now() { [ "$(answered hang | wc -l)" -gt "$hung_before" ]; }
stack_check "deliveries hang meanwhile" eventually 10 hung_now
echo "webhooks: 50 emits took $base_ms ms with a receiver that answers, $hang_ms ms with one that hangs"
# Had an emit waited for a delivery, an attempt would have timed out
# (30 s) before the emits ended: none has.
stack_check "50 emits answered while deliveries hang, none timed out yet" \
	bash -c '[ -z "$(jq -c "select(.lastError // \"\" | test(\"[Tt]imeout|timed out\"))" <<<"$1")" ]' \
	_ "$(deliveries)"
# The hung attempts end when the receiver restarts; they are made again.
recv_mode ok
recv_stop
recv_start
stack_check "the hung events are delivered after all" eventually 60 settled

echo "== 5. secret rotation: both signatures for the overlap"
SECRET2=$(stack_ctl webhook rotate-secret "$HOOK_ID" 2>/dev/null)
stack_secret "$SECRET2"
printf '%s\n%s\n' "$SECRET2" "$SECRET1" > "$RDIR/secrets"
stack_check "webhook list shows no secret" bash -c '! "$1" -c "$2" webhook list |
	grep -qe "$3" -e "$4"' _ "$BIN/tallyctl" "$DIR/tally.conf" "$SECRET1" "$SECRET2"
rotated=$(emit c1 7)
stack_check "the delta after the rotation arrives" eventually 30 delivered "$rotated"
n=$(basename "$(grep -l "\"recordId\":\"$rotated\"" "$RDIR"/req/*.body | sed -n 1p)" .body)
stack_check "hookrecv: new secret first, then the old" \
	test "$(awk -v n="$n" '$1 == n { print $5 }' "$RDIR/log")" = "0,1"
both_openssl() {
	[ "$(carried_sigs "$n")" = "$(openssl_sig "$n" "$SECRET2"; openssl_sig "$n" "$SECRET1")" ]
}
stack_check "openssl dgst -hmac agrees with both" both_openssl

echo "== 6. kill -9 mid-delivery: of the sender, then of tallyd"
recv_mode hang
hung_before=$(answered hang | wc -l)
k1=()
for i in 1 2 3; do k1+=("$(emit c1 "1$i")"); done
hung3() { [ "$(answered hang | wc -l)" -ge $((hung_before + 3)) ]; }
stack_check "three deliveries in flight" eventually 20 hung3
sender=$(pgrep -P "$TALLYD_PID" -x tallyd || pgrep -P "$TALLYD_PID")
stack_check "the sender is a process of its own" test -n "$sender"
kill -KILL "$sender"
recv_mode ok
stack_check "after kill -9 of the sender, all arrive" eventually 60 delivered "${k1[@]}"
respawned() {
	local s
	s=$(pgrep -P "$TALLYD_PID") && [ -n "$s" ] && [ "$s" != "$sender" ]
}
stack_check "the sender was started again" eventually 10 respawned
recv_mode hang
hung_before=$(answered hang | wc -l)
k2=()
for i in 1 2 3; do k2+=("$(emit c2 "2$i")"); done
stack_check "three more deliveries in flight" eventually 20 hung3
sender=$(pgrep -P "$TALLYD_PID")
kill -KILL "$TALLYD_PID"
wait "$TALLYD_PID" 2>/dev/null || true
sender_exits() { ! kill -0 "$sender" 2>/dev/null; }
stack_check "the sender exits with tallyd" eventually 10 sender_exits
recv_mode ok
stack_start_tallyd
stack_check "after kill -9 of tallyd, all arrive" eventually 60 delivered "${k2[@]}"

echo "== 7. an HTTPS target, its certificate verified"
PPORT=$(stack_free_port)
cat > "$DIR/proxy.conf" <<PROXY
daemon off;
worker_processes 1;
pid $DIR/proxy.pid;
events { worker_connections 64; }
http {
    access_log $DIR/proxy-access.log;
    client_body_temp_path $DIR/nginx-tmp/proxy-body;
    proxy_temp_path $DIR/nginx-tmp/proxy-proxy;
    server {
        listen 127.0.0.1:$PPORT ssl;
        ssl_certificate $DIR/tls/cert.pem;
        ssl_certificate_key $DIR/tls/key.pem;
        location / { proxy_pass http://127.0.0.1:$RPORT; }
    }
}
PROXY
nginx -q -e "$DIR/proxy-error.log" -c "$DIR/proxy.conf" &
STACK_PIDS+=($!)
stack_wait_port "$PPORT"
read -r TLS_ID TLS_SECRET < <(stack_ctl webhook add --tenant hooks "https://localhost:$PPORT/tls-hook" 2>/dev/null)
stack_secret "$TLS_SECRET"
printf '%s\n%s\n%s\n' "$SECRET2" "$SECRET1" "$TLS_SECRET" > "$RDIR/secrets"
over_tls=$(emit c1 8)
tls_arrived() {	# the request came through the proxy, signed with its secret
	local f n1
	for f in $(grep -l "\"recordId\":\"$over_tls\"" "$RDIR"/req/*.body); do
		n1=$(basename "$f" .body)
		[[ "$(sed -n 1p "$RDIR/req/$n1.head")" == "POST /tls-hook "* ]] &&
			awk -v n="$n1" '$1 == n && $2 == 200 && $5 == "2"' \
			    "$RDIR/log" | grep . >/dev/null && return 0
	done
	return 1
}
stack_check "delivered over HTTPS, signed with that endpoint's secret" eventually 30 tls_arrived
stack_ctl webhook remove "$TLS_ID" >/dev/null

echo "== 8. the deliveries API"
stack_check "every event is delivered or failed by design" bash -c '
	[ -z "$(jq -c "select(.status != \"VERIFIED\" and
	    .lastError != \"the endpoint was removed\")" <<<"$1")" ]' _ "$(deliveries)"
one=$(deliveries VERIFIED | jq -r 'select(.url | endswith("/hook")) | .eventId' | sed -n 1p)
retried=$(api POST "/api/v1/balance/webhooks/$one/retry")
stack_check "retry queues a delivered event again" answers "$retried" \
	'.success and .data.status == "QUEUED"'
twice() { [ "$(answered 200 | grep -c " $one ")" -ge 2 ]; }
stack_check "the retried event is sent again, same id" eventually 30 twice
stack_check "retry of an unknown event: 404" answers \
	"$(api POST /api/v1/balance/webhooks/evt_nope/retry)" '.error.code == "NOT_FOUND"'
stack_check "status filter is checked: 400" answers \
	"$(api GET '/api/v1/balance/webhooks?status=DONE')" '.error.field == "status"'
stack_check "paging: limit and offset" answers \
	"$(api GET '/api/v1/balance/webhooks?limit=2&offset=1')" \
	'(.data.deliveries | length) == 2 and .data.pagination.offset == 1 and
	 .data.pagination.total > 40'
stack_check "customer keys may not list deliveries: 403" bash -c '
	curl -s -H "X-Api-Key: $1" "$2/api/v1/balance/webhooks" |
	jq -e ".error.code == \"FORBIDDEN\"" >/dev/null' _ "$CUSTOMER_KEY" "$URL"
stack_check "tallyctl verify holds" stack_ctl verify

echo "webhooks: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
