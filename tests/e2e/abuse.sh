#!/usr/bin/env bash
# Fair under abuse (issue 18.4), and no secrets in the access logs (18.5),
# with a stack of its own: a bounded slowloris (loopback, 20 s, one
# client's slow connections) against nginx and against Apache while a
# second client keeps asking; then 40 connections straight to tallyd's
# FastCGI socket that each send half a BEGIN_REQUEST, while requests
# through nginx keep being answered; then nginx's per-address limit.  Successes are counted, never
# timed: the second client must get answers throughout.  Under 90 s.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$REPO/${B:-build}
DIR=$(mktemp -d /tmp/tally-abuse.XXXXXX)
# shellcheck source=../../tools/stack.sh
source "$REPO/tools/stack.sh"

passed=0
failed=0
trap 'stack_finish abuse' EXIT

stack_conf
stack_ctl init >/dev/null
stack_ctl tenant add abuse >/dev/null
KEY=$(stack_key --tenant abuse --env live)
stack_start_tallyd
NGINX_PORT=$(stack_free_port); NGINX_TLS=$(stack_free_port)
stack_start_nginx "$NGINX_PORT" "$NGINX_TLS"
APACHE_PORT=$(stack_free_port); APACHE_TLS=$(stack_free_port)
stack_start_apache "$APACHE_PORT" "$APACHE_TLS"

# probe URL SECONDS OUT: the second client, one request at a time for
# SECONDS, writing "SECOND STATUS" per answer (000: none in 45 s).
probe() {
	local start=$SECONDS code
	: > "$3"
	while [ $((SECONDS - start)) -lt "$2" ]; do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 45 \
			-H "X-Api-Key: $KEY" "$1/api/v1/auth/whoami") || true
		echo "$((SECONDS - start)) $code" >> "$3"
		sleep 0.5
	done
}

# answered OUT SECONDS: a 200 in every 5 s of the SECONDS, none refused.
answered() {
	local slice ok
	for ((slice = 0; slice < $2; slice += 5)); do
		ok=$(awk -v a="$slice" -v b=$((slice + 5)) \
			'$1 >= a && $1 < b && $2 == 200' "$1" | wc -l)
		[ "$ok" -gt 0 ] || { stack_log "no answer from ${slice}s: $(tr '\n' ' ' < "$1")"; return 1; }
	done
	! awk '$2 != 200' "$1" | grep -q . ||
		{ stack_log "refused or unanswered: $(tr '\n' ' ' < "$1")"; return 1; }
}

# slowloris FRONT PORT NCONN: NCONN slow connections for 20 s, probed.
slowloris() {
	local pid
	"$BIN/tests/slowloris" http "$2" "$3" 20 &
	pid=$!
	sleep 2	# the connections are open before the probe starts
	probe "http://127.0.0.1:$2" 15 "$DIR/probe.$1"
	wait "$pid"
	stack_check "$1: a second client is answered throughout $3 slow connections" \
		answered "$DIR/probe.$1" 15
}

echo "== slow connections: one client holds thousands, another is answered"
# nginx: 2,100, the number that used up 1,024 worker_connections each
# of 2 workers.  Apache: 600, more than the 400 workers its default
# MPM has; it holds a thread per slow connection, and has no stock way
# to cap a client (apache/README.md).
slowloris nginx "$NGINX_PORT" 2100
slowloris apache "$APACHE_PORT" 600

echo "== half FastCGI records on tallyd's socket"
socket_private() {
	local mode
	mode=$(stat -c %a "$DIR/run/tallyd.sock")
	[ "$mode" = 660 ] || { stack_log "socket mode $mode"; return 1; }
	[ "$(id -u)" -ne 0 ] || [ "$(stat -c %G "$DIR/run/tallyd.sock")" = www-data ]
}
stack_check "the socket is 0660, the web server's group" socket_private
"$BIN/tests/slowloris" fcgi "$DIR/run/tallyd.sock" 40 30 &
pid=$!
sleep 1
probe "http://127.0.0.1:$NGINX_PORT" 25 "$DIR/probe.fcgi"
wait "$pid"
fcgi_answered() {
	# Each request is answered (200), the first within the 10 s of
	# read_timeout times the rounds the 40 need of 16 threads.
	[ "$(grep -c ' 200$' "$1")" -ge 2 ] && ! grep -qv ' 200$' "$1" ||
		{ stack_log "through nginx: $(tr '\n' ' ' < "$1")"; return 1; }
}
stack_check "requests through nginx are answered while 40 half records wait" \
	fcgi_answered "$DIR/probe.fcgi"

echo "== per-client limits (nginx): one address's burst is cut, in the envelope"
# burst SOURCE OUT: 300 requests on one connection from SOURCE, answers
# with their headers.  127.0.0.2 is another client on the same loopback.
burst() {
	local urls=() i
	for i in $(seq 300); do urls+=("http://127.0.0.1:$NGINX_PORT/healthz"); done
	curl --interface "$1" -s -i "${urls[@]}" > "$2"
}
cut_in_envelope() {	# 429 RATE_LIMITED, each with its X-Request-Id
	local cut
	# Bodies end without a newline: the next status line follows them.
	cut=$(grep -o 'HTTP/1.1 429' "$1" | wc -l)
	[ "$cut" -gt 0 ] &&
		[ "$(grep -o '"code":"RATE_LIMITED"' "$1" | wc -l)" -eq "$cut" ] &&
		[ "$(grep -ci '^X-Request-Id: ' "$1")" -eq 300 ] ||
		{ stack_log "$cut of 300 cut: $(grep -o 'HTTP/1.1 200' "$1" | wc -l) answered"; return 1; }
}
burst 127.0.0.2 "$DIR/burst.other"
burst 127.0.0.1 "$DIR/burst.local"
stack_check "300 requests at once from one address: past 200, 429 RATE_LIMITED" \
	cut_in_envelope "$DIR/burst.other"
stack_check "127.0.0.1 (a local proxy, make bench) is not limited" \
	test "$(grep -o 'HTTP/1.1 200' "$DIR/burst.local" | wc -l)" -eq 300

echo "== a key in the query string stays out of the access logs"
SECRET=qs$RANDOM$RANDOM$RANDOM
for port in "$NGINX_PORT" "$APACHE_PORT"; do
	curl -s -o /dev/null "http://127.0.0.1:$port/api/v1/auth/whoami?api_key=$SECRET&x=1"
	curl -s -o /dev/null "http://127.0.0.1:$port/no/such?api_key=$SECRET"
done
sleep 1	# Apache writes its log line after the answer
no_query_logged() {
	[ -s "$DIR/$1" ] && grep -q whoami "$DIR/$1" &&
		! grep -q -e "$SECRET" -e api_key "$DIR/$1"
}
stack_check "nginx's access log holds the path, not the query" \
	no_query_logged nginx-access.log
stack_check "Apache's access log holds the path, not the query" \
	no_query_logged apache-access.log

echo "abuse: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
