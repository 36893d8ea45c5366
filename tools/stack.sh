# Shell functions that bring up tallyd behind nginx or Apache on loopback:
# sourced by tools/run.sh (make run) and the end-to-end tests, so both
# start the very same stack.  Every process started is recorded in
# STACK_PIDS and stopped by stack_stop.
#
# Inputs: REPO (checkout), BIN (build directory), DIR (state directory).

STACK_PIDS=()
stack_failed_checks=()
# Whom tallyd and tallyctl become when started as root: tally.conf's
# `user`, which stack_conf leaves at its default.
STACK_USER=tally

stack_log() { printf '%s\n' "$*" >&2; }

# stack_check NAME COMMAND...: a shell-level assertion for the tests,
# counted in their $passed and $failed; a failure is named and the run
# goes on.
stack_check() {
	local start=$SECONDS
	if "${@:2}"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		stack_failed_checks+=("$1")
		echo "FAIL: $1" >&2
	fi
	# Where make test's minutes go: any check of 20 s or more says so.
	[ $((SECONDS - start)) -lt 20 ] || echo "   ($((SECONDS - start)) s: $1)"
}

# A loopback TCP port nobody listens on, below the kernel's ephemeral
# range, so that no outgoing connection of the tests can be holding it.
stack_free_port() {
	local p low
	read -r low _ < /proc/sys/net/ipv4/ip_local_port_range
	for _ in $(seq 200); do
		# SRANDOM (bash 5.1): RANDOM in two $(...) in a row can repeat
		# itself, and run.sh once got the same port for HTTP and TLS.
		p=$((10000 + ${SRANDOM:-$RANDOM} % (low - 10000)))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# stack_finish NAME: the end of a test script (its EXIT trap, after what
# it started itself): stops the stack, then removes $DIR unless a check
# failed ($failed) or KEEP is set, and then says where it is.
stack_finish() {
	stack_stop
	if [ "${failed:-0}" -eq 0 ] && [ -z "${KEEP:-}" ]; then
		rm -rf "$DIR"
	else
		[ "${failed:-0}" -eq 0 ] || stack_log_tails "$1"
		stack_failed_list "$1"
		echo "$1: state kept in $DIR" >&2
	fi
}

# stack_failed_list NAME: the checks that failed, said again after the
# log tails: a CI excerpt shows a run's last lines, and the FAIL lines
# themselves were scrolled away by the tails.
stack_failed_list() {
	local check
	for check in "${stack_failed_checks[@]}"; do
		echo "$1: failed: $check" >&2
	done
}

# stack_log_tails NAME: the last warnings and errors of each server's log
# in $DIR, on the test's output: CI keeps nothing else of a failed run.
stack_log_tails() {
	local f tail
	for f in "$DIR"/*.log; do
		case $f in *access.log) continue ;; esac
		tail=$(grep -v -e ' \(info\|debug\) ' \
		    -e '\] \[[a-z_]*:\(info\|debug\|notice\)\]' "$f" |
		    tail -n 15 | cut -c1-300) || true
		[ -z "$tail" ] ||
			printf '%s: the last warnings and errors of %s:\n%s\n' \
			    "$1" "$(basename "$f")" "$tail" >&2
	done
}

# stack_fake_clock "YYYY-MM-DD HH:MM:SS": the tallyd started after this
# runs on the clock in $CLOCK (libfaketime), which the caller moves with
# echo "@…" > "$CLOCK"; the monotonic clock stays real.
stack_fake_clock() {
	local lib
	lib=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -1)
	if [ -z "$lib" ]; then
		stack_log "libfaketime missing (make deps)"
		return 1
	fi
	CLOCK=$DIR/clock
	echo "@$1" > "$CLOCK"
	# An ASan build must not insist on coming first in the preload list.
	export STACK_TALLYD_WRAP="env ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 LD_PRELOAD=$lib FAKETIME_TIMESTAMP_FILE=$CLOCK FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1"
}

# Waits until a TCP port or a unix socket accepts connections.
stack_wait_port() {
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	stack_log "nothing listens on 127.0.0.1:$1"
	return 1
}

stack_wait_socket() {
	for _ in $(seq 100); do
		[ -S "$1" ] && return 0
		sleep 0.05
	done
	stack_log "no socket at $1"
	return 1
}

# A self-signed certificate for 127.0.0.1 and localhost, kept if present.
stack_cert() {
	[ -s "$DIR/tls/cert.pem" ] && return 0
	mkdir -p "$DIR/tls"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		-nodes -days 365 -subj /CN=localhost \
		-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		-keyout "$DIR/tls/key.pem" -out "$DIR/tls/cert.pem" 2>/dev/null
	chmod 600 "$DIR/tls/key.pem"
}

# stack_render TEMPLATE OUT PORT TLS_PORT
stack_render() {
	sed -e "s|@PREFIX@|$DIR|g" -e "s|@REPO@|$REPO|g" \
	    -e "s|@SOCKET@|$DIR/run/tallyd.sock|g" \
	    -e "s|@PORT@|$3|g" -e "s|@TLS_PORT@|$4|g" \
	    -e "s|@CERT@|$DIR/tls/cert.pem|g" \
	    -e "s|@CERT_KEY@|$DIR/tls/key.pem|g" "$1" > "$2"
}

# Writes DIR/tally.conf: socket in DIR/run, data in DIR/db.
stack_conf() {
	mkdir -p "$DIR/run"
	# Web server workers run as another user: they must reach the socket.
	chmod 755 "$DIR" "$DIR/run"
	# The socket is the web server's alone: its group is the one their
	# workers run as when started as root (www-data, for nginx too,
	# see nginx.conf.in); otherwise they run as this very user.
	cat > "$DIR/tally.conf" <<CONF
# Written by tools/stack.sh.  See tally.conf.example for every option.
listen = unix:run/tallyd.sock
listen_mode = 0660
$([ "$(id -u)" -ne 0 ] || echo "socket_group = www-data")
data_dir = db
threads = ${TALLY_THREADS:-16}
# Every link tallyd hands out starts here, whatever Host a client sends.
public_url = ${STACK_PUBLIC_URL:-https://localhost${TLS_PORT:+:$TLS_PORT}}
CONF
}

stack_ctl() { "$BIN/tallyctl" -c "$DIR/tally.conf" "$@"; }

# The tenants and keys the HTTP, log and read suites expect (their
# TALLY_KEY_* environment), in the store of DIR: run.sh's and cgi.sh's.
stack_suite_tenants() {
	stack_ctl tenant add acme >/dev/null
	stack_ctl tenant add other >/dev/null
	stack_ctl tenant add quota >/dev/null
	stack_ctl quota set --tenant quota --env live 5 >/dev/null
	stack_ctl tenant add cadence >/dev/null
	stack_ctl cadence set --tenant cadence 1h >/dev/null
	export TALLY_KEY_LIVE TALLY_KEY_TEST TALLY_KEY_REVOKED \
		TALLY_KEY_CUSTOMER TALLY_KEY_OTHER TALLY_KEY_QUOTA \
		TALLY_KEY_CADENCE
	TALLY_KEY_LIVE=$(stack_key --tenant acme --env live)
	TALLY_KEY_TEST=$(stack_key --tenant acme --env test)
	TALLY_KEY_REVOKED=$(stack_key --tenant acme --env live)
	TALLY_KEY_CUSTOMER=$(stack_key --tenant acme --customer customer_acme)
	TALLY_KEY_OTHER=$(stack_key --tenant other --env live)
	TALLY_KEY_QUOTA=$(stack_key --tenant quota --env live)
	TALLY_KEY_CADENCE=$(stack_key --tenant cadence --env live)
	stack_ctl key revoke "${TALLY_KEY_REVOKED%%.*}" >/dev/null
}

# stack_bench_tenant: the data directory make bench's steps write to:
# tenant "bench" and a live key of it in KEY, with no rate limit (the
# per-key token bucket, 10,000/s by default, would cap the steps).
stack_bench_tenant() {
	stack_conf
	echo "rate_limit = 0" >> "$DIR/tally.conf"
	stack_ctl init >/dev/null
	stack_ctl tenant add bench >/dev/null
	KEY=$(stack_ctl key create --tenant bench --env live)
}

stack_start_tallyd() {
	rm -f "$DIR/run/tallyd.sock"
	# Run as root, tallyd becomes STACK_USER after binding its socket,
	# and must still be able to remove it when it stops.
	[ "$(id -u)" -ne 0 ] || chown "$STACK_USER" "$DIR/run"
	# STACK_TALLYD_WRAP: a command prefix, such as env with a fake clock.
	${STACK_TALLYD_WRAP:-} "$BIN/tallyd" -c "$DIR/tally.conf" \
		2>>"$DIR/tallyd.log" &
	TALLYD_PID=$!
	STACK_PIDS+=("$TALLYD_PID")
	stack_wait_socket "$DIR/run/tallyd.sock"
}

# stack_start_nginx PORT TLS_PORT
stack_start_nginx() {
	mkdir -p "$DIR/nginx-tmp"
	stack_cert
	stack_render "$REPO/nginx/nginx.conf.in" "$DIR/nginx.conf" "$1" "$2"
	nginx -q -e "$DIR/nginx-error.log" -c "$DIR/nginx.conf" &
	NGINX_PID=$!
	STACK_PIDS+=("$NGINX_PID")
	stack_wait_port "$1" && stack_wait_port "$2"
}

# stack_start_apache PORT TLS_PORT
stack_start_apache() {
	mkdir -p "$DIR/apache-run"
	stack_cert
	stack_render "$REPO/apache/httpd.conf.in" "$DIR/httpd.conf" "$1" "$2"
	apache2 -f "$DIR/httpd.conf" -DFOREGROUND &
	APACHE_PID=$!
	STACK_PIDS+=("$APACHE_PID")
	stack_wait_port "$1" && stack_wait_port "$2"
}

# tallyd, then nginx and Apache in front of it on free ports: NGINX and
# APACHE are their base URLs, NGINX_PORT and APACHE_PORT their ports.
stack_start_fronts() {
	stack_start_tallyd
	NGINX_PORT=$(stack_free_port)
	stack_start_nginx "$NGINX_PORT" "$(stack_free_port)"
	APACHE_PORT=$(stack_free_port)
	stack_start_apache "$APACHE_PORT" "$(stack_free_port)"
	NGINX=http://127.0.0.1:$NGINX_PORT
	APACHE=http://127.0.0.1:$APACHE_PORT
}

# A CGI-only host (README "Running as CGI"): Apache runs tallyd once per
# request through mod_cgid, as its own user (www-data when started as
# root), which must then be tally.conf's `user` and own the data: call
# stack_cgi_conf before `tallyctl init`.
stack_cgi_conf() {
	stack_conf
	[ "$(id -u)" -ne 0 ] || echo "user = www-data" >> "$DIR/tally.conf"
}

# stack_start_apache_cgi PORT TLS_PORT: httpd.conf.in, with apache/tally.conf
# switched to CGI (TALLY_CGI, TALLY_CONFIG) and mod_cgid, mod_env loaded.
stack_start_apache_cgi() {
	mkdir -p "$DIR/apache-run"
	stack_cert
	stack_render "$REPO/apache/httpd.conf.in" "$DIR/httpd.conf" "$1" "$2"
	sed -i -e "/^LoadModule alias_module/a\\
LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so\\
LoadModule env_module /usr/lib/apache2/modules/mod_env.so\\
ScriptSock $DIR/apache-run/cgisock\\
Define TALLY_CGI $BIN/tallyd\\
Define TALLY_CONFIG $DIR/tally.conf" "$DIR/httpd.conf"
	apache2 -f "$DIR/httpd.conf" -DFOREGROUND &
	APACHE_PID=$!
	STACK_PIDS+=("$APACHE_PID")
	stack_wait_port "$1" && stack_wait_port "$2"
}

# stack_start_nginx_cgi PORT TLS_PORT: nginx.conf.in with fcgiwrap as the
# upstream, running tallyd per request (tally-http.conf's $tally_cgi).
# Stop fcgiwrap with stack_stop_fcgiwrap before stack_stop.
stack_start_nginx_cgi() {
	local sock=$DIR/run/fcgiwrap.sock
	rm -f "$sock"
	# Its children, tallyd, become tally.conf's user when started as root.
	# A session of its own, and not in STACK_PIDS: stack_stop_fcgiwrap.
	setsid fcgiwrap -c 16 -s "unix:$sock" &
	FCGIWRAP_PID=$!
	stack_wait_socket "$sock" || return 1
	[ "$(id -u)" -ne 0 ] || chown www-data "$sock"
	mkdir -p "$DIR/nginx-tmp"
	stack_cert
	stack_render "$REPO/nginx/nginx.conf.in" "$DIR/nginx.conf" "$1" "$2"
	sed -i -e "s|server unix:$DIR/run/tallyd.sock;|server unix:$sock;|" \
	    -e "s|set \$tally_upstream tally;|& set \$tally_cgi $BIN/tallyd; set \$tally_config $DIR/tally.conf;|" \
	    "$DIR/nginx.conf"
	nginx -q -e "$DIR/nginx-error.log" -c "$DIR/nginx.conf" &
	NGINX_PID=$!
	STACK_PIDS+=("$NGINX_PID")
	stack_wait_port "$1" && stack_wait_port "$2"
}

# fcgiwrap ends by the signal, which stack_kill's wait would take for a
# failure, and its workers outlive it: all of them go here.
stack_stop_fcgiwrap() {
	[ -n "${FCGIWRAP_PID:-}" ] || return 0
	kill -TERM -- "-$FCGIWRAP_PID" 2>/dev/null || true
	wait "$FCGIWRAP_PID" 2>/dev/null || true
	FCGIWRAP_PID=
}

# Stops one process by PID: SIGTERM, then SIGKILL after 10 s.
stack_kill() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 200); do
		# wait says how it ended, not whether stopping worked: under
		# set -e its 137 would end the caller's EXIT trap halfway.
		kill -0 "$pid" 2>/dev/null ||
			{ wait "$pid" 2>/dev/null || true; return 0; }
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || true
	return 0
}

stack_stop() {
	local pid
	for pid in "${STACK_PIDS[@]}"; do
		stack_kill "$pid"
	done
	STACK_PIDS=()
	stack_keep
}

# The secrets sweep of tests/e2e/run.sh.  With TALLY_E2E_SECRETS (a file)
# and TALLY_E2E_LOGS (a directory) exported, every test script lists each
# secret it creates (API key secrets, webhook secrets, private keys) and
# keeps its logs before it removes its DIR, so that one sweep at the end
# can show that no log of the whole run holds any of them.  Unset, as
# in make run, these do nothing.

# stack_secret SECRET...: secrets that must never reach a log.
stack_secret() {
	local s
	[ -n "${TALLY_E2E_SECRETS:-}" ] || return 0
	for s in "$@"; do
		[ -z "$s" ] || printf '%s\n' "$s" >> "$TALLY_E2E_SECRETS"
	done
}

# stack_key ARGS...: `tallyctl key create ARGS`, its secret listed.
stack_key() {
	local key
	key=$(stack_ctl key create "$@") || return
	stack_secret "${key#*.}"
	printf '%s\n' "$key"
}

# Lists the base64 lines of DIR's private keys (TLS, log signing) and
# keeps a copy of DIR's logs; stack_stop does it, after every process
# has written its last line and before a test removes DIR.
stack_keep() {
	local pem
	[ -n "${TALLY_E2E_LOGS:-}" ] && [ -n "${TALLY_E2E_SECRETS:-}" ] ||
		return 0
	for pem in "$DIR"/tls/key.pem "$DIR"/db/keys/*.pem; do
		grep -qs "PRIVATE KEY" "$pem" || continue
		# Lines long enough to be found nowhere by chance.
		grep -v -- ----- "$pem" | grep -E '^.{16,}$' \
			>> "$TALLY_E2E_SECRETS" || true
	done
	mkdir -p "$TALLY_E2E_LOGS/${DIR##*/}"
	cp "$DIR"/*.log "$TALLY_E2E_LOGS/${DIR##*/}/" 2>/dev/null || true
}

# stack_sweep DIR...: fails when a *.log under DIR holds a listed secret,
# naming the logs, never the secret.
stack_sweep() {
	local hits
	[ -s "$TALLY_E2E_SECRETS" ] || { stack_log "sweep: no secrets listed"; return 1; }
	hits=$(grep -rlF -f "$TALLY_E2E_SECRETS" --include='*.log' "$@") ||
		return 0
	stack_log "secrets found in: $hits"
	return 1
}
