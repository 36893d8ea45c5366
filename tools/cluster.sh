#!/usr/bin/env bash
# make cluster: a replication group of three tallyd nodes behind one
# nginx on 127.0.0.1:$PORT (README "Running more than one machine"), each
# node supervised (tools/supervise.sh: started again whenever it exits,
# as a demoted master does), in the foreground until Ctrl-C or SIGTERM.
# State lives in $CLUSTER_DIR (var/cluster): n1, n2, n3, each with its
# tally.conf, db, run/tallyd.sock and tallyd.log, and `nodes`, one line
# a node, "NAME PID CONFIG", rewritten whenever a tallyd starts.
#
# Sourced (by a test), it only defines the cluster_* functions; the
# test sets REPO, BIN, PORT, CLUSTER_DIR, CLUSTER_REPL_BASE as it likes
# first.  CLUSTER_NETNS=1 puts node N in the network namespace tally-nN
# (10.77.0.N, on the bridge tallybr0; root only), so that a test can cut
# a node off the others (cluster_partition, cluster_heal); nginx still
# reaches every node by its unix socket, which no namespace hides.

REPO=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BIN=${BIN:-$REPO/${B:-build}}
CLUSTER_DIR=${CLUSTER_DIR:-$REPO/var/cluster}
CLUSTER_REPL_BASE=${CLUSTER_REPL_BASE:-7100}	# node N: BASE + N
CLUSTER_NETNS=${CLUSTER_NETNS:-}
CLUSTER_NODES=(n1 n2 n3)
CLUSTER_SUPERVISORS=()	# one a node, also in STACK_PIDS
PORT=${PORT:-8080}
# A test may have sourced them already: again would forget its STACK_PIDS.
if ! declare -F stack_start_tallyd >/dev/null; then
	# shellcheck source=stack.sh
	source "$REPO/tools/stack.sh"
fi
if ! declare -F supervise_loop >/dev/null; then
	# shellcheck source=supervise.sh
	source "$REPO/tools/supervise.sh"
fi

# A CLUSTER_REPL_BASE for a test: its nodes' ports below 32768 (Berkeley
# DB's replication refuses others) and not listened on.
cluster_free_repl_base() {
	local base n
	for _ in $(seq 50); do
		base=$(stack_free_port) || return 1
		[ $((base + ${#CLUSTER_NODES[@]})) -lt 32768 ] || continue
		for n in $(seq ${#CLUSTER_NODES[@]}); do
			! (exec 3<>"/dev/tcp/127.0.0.1/$((base + n))") \
				2>/dev/null || continue 2
		done
		echo "$base"
		return 0
	done
	return 1
}

# cluster_addr NAME: the node's replication address, HOST:PORT.
cluster_addr() {
	local n=${1#n}
	if [ -n "$CLUSTER_NETNS" ]; then
		echo "10.77.0.$n:7100"
	else
		echo "127.0.0.1:$((CLUSTER_REPL_BASE + n))"
	fi
}

# cluster_conf NAME: the node's tally.conf, stack_conf's plus the group.
cluster_conf() {
	local name=$1 other peers=''
	local DIR=$CLUSTER_DIR/$name
	for other in "${CLUSTER_NODES[@]}"; do
		[ "$other" = "$name" ] ||
			peers=${peers:+$peers, }$(cluster_addr "$other")
	done
	mkdir -p "$DIR"
	STACK_PUBLIC_URL=http://127.0.0.1:$PORT stack_conf
	cat >> "$DIR/tally.conf" <<CONF
# The replication group of tools/cluster.sh (tally.conf.example).
repl_listen = $(cluster_addr "$name")
repl_peers = $peers
$([ "$name" != n1 ] || echo "repl_create = yes")
CONF
}

# cluster_ctl NAME ARGS...: tallyctl on the node, from inside its
# namespace if it has one (a tallyctl beside tallyd joins the group).
cluster_ctl() {
	local name=$1
	shift
	${CLUSTER_NETNS:+ip netns exec tally-$name} \
		"$BIN/tallyctl" -c "$CLUSTER_DIR/$name/tally.conf" "$@"
}

# The group's data, once: node 1 made with its demo tenant and key
# ($CLUSTER_DIR/demo.key) before it ever starts, the others empty but
# for node 1's signing keys, the one thing replication does not carry.
# Kept across runs, like make run's.  With CLUSTER_NETNS, the namespaces
# too, made again each time.
cluster_setup() {
	local name
	[ -z "$CLUSTER_NETNS" ] || cluster_netns_setup
	mkdir -p "$CLUSTER_DIR"
	# tallyd and tallyctl become another user, who must get through.
	chmod 755 "$CLUSTER_DIR"
	for name in "${CLUSTER_NODES[@]}"; do
		[ -f "$CLUSTER_DIR/$name/tally.conf" ] || cluster_conf "$name"
	done
	[ -d "$CLUSTER_DIR/n1/db" ] && [ -s "$CLUSTER_DIR/demo.key" ] &&
		return 0
	cluster_ctl n1 init >/dev/null
	cluster_ctl n1 tenant add demo >/dev/null
	(umask 077 && cluster_ctl n1 key create --tenant demo --env live \
		> "$CLUSTER_DIR/demo.key.new")
	mv "$CLUSTER_DIR/demo.key.new" "$CLUSTER_DIR/demo.key"
	stack_secret "$(cut -d. -f2- "$CLUSTER_DIR/demo.key")"
	for name in "${CLUSTER_NODES[@]:1}"; do
		rm -rf "$CLUSTER_DIR/$name/db"
		mkdir -m 700 "$CLUSTER_DIR/$name/db"
		# -a: the keys stay 0600 and the data directory's user's.
		cp -a "$CLUSTER_DIR/n1/db/keys" "$CLUSTER_DIR/$name/db/"
		[ "$(id -u)" -ne 0 ] ||
			chown "$STACK_USER:" "$CLUSTER_DIR/$name/db"
	done
}

# Writes $CLUSTER_DIR/nodes from the nodes' run/tallyd.pid, under a lock
# (three supervisors write it) and whole (a reader never sees half).
cluster_nodes_write() {
	local name pid
	(
		flock 9
		for name in "${CLUSTER_NODES[@]}"; do
			pid=$(cat "$CLUSTER_DIR/$name/run/tallyd.pid" \
				2>/dev/null) || continue
			echo "$name $pid $CLUSTER_DIR/$name/tally.conf"
		done > "$CLUSTER_DIR/nodes.new"
		mv "$CLUSTER_DIR/nodes.new" "$CLUSTER_DIR/nodes"
	) 9> "$CLUSTER_DIR/nodes.lock"
}

# cluster_supervise NAME, in a shell of its own: supervise_loop for the
# node's DIR.  supervise_loop starts each tallyd with stack_start_tallyd,
# which this shell wraps, so that the nodes file names every new tallyd
# as soon as its socket is there, and tallyd runs in the node's
# namespace if it has one.
cluster_supervise() {
	DIR=$CLUSTER_DIR/$1
	# shellcheck disable=SC2034	# stack_start_tallyd's
	[ -z "$CLUSTER_NETNS" ] || STACK_TALLYD_WRAP="ip netns exec tally-$1"
	eval "cluster_start_tallyd() $(declare -f stack_start_tallyd |
		tail -n +2)"
	stack_start_tallyd() {
		cluster_start_tallyd
		echo "$TALLYD_PID" > "$DIR/run/tallyd.pid"
		cluster_nodes_write
	}
	supervise_loop
}

# The nginx of cluster.conf.in in front of the three sockets.
cluster_start_nginx() {
	local DIR=$CLUSTER_DIR
	mkdir -p "$DIR/nginx-tmp"
	stack_render "$REPO/nginx/cluster.conf.in" "$DIR/nginx.conf" "$PORT" ''
	nginx -q -e "$DIR/nginx-error.log" -c "$DIR/nginx.conf" &
	NGINX_PID=$!
	STACK_PIDS+=("$NGINX_PID")
	stack_wait_port "$PORT"
}

# cluster_start_apache APACHE_PORT: Apache (apache/cluster.conf.in, a
# balancer of the three sockets) in front of the group too, on its own
# port; CLUSTER_APACHE_URL is its base URL.
cluster_start_apache() {
	local DIR=$CLUSTER_DIR
	mkdir -p "$DIR/apache-run"
	stack_render "$REPO/apache/cluster.conf.in" "$DIR/httpd.conf" "$1" ''
	apache2 -f "$DIR/httpd.conf" -DFOREGROUND &
	APACHE_PID=$!
	STACK_PIDS+=("$APACHE_PID")
	CLUSTER_APACHE_URL=http://127.0.0.1:$1
	stack_wait_port "$1"
}

# cluster_master: the name of the node whose tallyctl says it is the
# master, or nothing.  A node whose tallyd is not running is not asked:
# what its data directory remembers is no longer true.
cluster_master() {
	local name pid role
	for name in "${CLUSTER_NODES[@]}"; do
		pid=$(cluster_pid "$name")
		if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
			continue
		fi
		# A node that cannot reach its group may keep tallyctl waiting.
		# shellcheck disable=SC2086	# the prefix is words
		role=$(timeout 5 ${CLUSTER_NETNS:+ip netns exec tally-$name} \
			"$BIN/tallyctl" -c "$CLUSTER_DIR/$name/tally.conf" \
			repl status 2>/dev/null | head -n 1) || true
		if [ "${role%% *}" = master ]; then
			echo "$name"
			return 0
		fi
	done
}

# cluster_live_master: the node that answers /readyz through nginx as a
# master that leads (a master answers 200 only while the group
# acknowledges its claims; a replica's answer names no master of its
# own): its name.  Asked again for up to SECONDS (30), as nginx spreads
# the requests and an election may be under way: a dozen tries at once
# all missed on a loaded machine, just after a failover.
cluster_live_master() {	# cluster_live_master [SECONDS]
	local body name end=$((SECONDS + ${1:-30}))
	while [ "$SECONDS" -lt "$end" ]; do
		if body=$(curl -sf --max-time 5 "$CLUSTER_URL/readyz") &&
		    [[ $body == *'"role":"master"'* ]]; then
			for name in "${CLUSTER_NODES[@]}"; do
				case $body in *"\"node\":\"$(cluster_addr "$name")\""*)
					echo "$name"
					return 0 ;;
				esac
			done
		fi
		sleep 0.1
	done
	return 1
}

# cluster_pid NAME: the node's current tallyd, from the nodes file.
cluster_pid() {
	awk -v name="$1" '$1 == name { print $2 }' "$CLUSTER_DIR/nodes" \
		2>/dev/null
}

# Every node supervised, then nginx; returns once a master leads, i.e.
# takes writes (within 60 s, else fails): a replica answers /readyz with
# 200 while a freshly formed group's master still waits for its first
# claim to be acknowledged, and a bench that began then had its first
# seconds of writes refused.  CLUSTER_URL is nginx's base URL.
cluster_start() {
	local name DIR
	rm -f "$CLUSTER_DIR/nodes"
	for name in "${CLUSTER_NODES[@]}"; do
		DIR=$CLUSTER_DIR/$name
		# A socket or PID left by a kill -9 must not pass for the new.
		rm -f "$DIR/run/tallyd.sock" "$DIR/run/tallyd.pid"
		(cluster_supervise "$name") &
		STACK_PIDS+=("$!")
		CLUSTER_SUPERVISORS+=("$!")
	done
	for name in "${CLUSTER_NODES[@]}"; do
		stack_wait_socket "$CLUSTER_DIR/$name/run/tallyd.sock" || return 1
	done
	cluster_start_nginx || return 1
	CLUSTER_URL=http://127.0.0.1:$PORT
	cluster_live_master 60 >/dev/null && return 0
	stack_log "cluster: no master within 60 s (logs: $CLUSTER_DIR/n*/tallyd.log)"
	return 1
}

# Stops the supervisors (each stops its tallyd) and nginx; then the
# namespaces, if any.  The data stays.  The nodes stop together, and
# are given a minute: one at a time (stack_stop), the last is a master
# without its quorum, whose last commits wait for acknowledgements that
# cannot come, and it took up to 24 s, where stack_stop kills at 10.
cluster_stop() {
	local DIR=$CLUSTER_DIR pid name
	[ ${#CLUSTER_SUPERVISORS[@]} -eq 0 ] ||
		kill -TERM "${CLUSTER_SUPERVISORS[@]}" 2>/dev/null || true
	for pid in "${CLUSTER_SUPERVISORS[@]}"; do
		for _ in $(seq 600); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	done
	CLUSTER_SUPERVISORS=()
	stack_stop
	# The nodes' logs too, for the test suite's sweeps (secrets, ASan).
	for name in "${CLUSTER_NODES[@]}"; do
		DIR=$CLUSTER_DIR/$name stack_keep
	done
	rm -f "$CLUSTER_DIR/nodes"
	[ -z "$CLUSTER_NETNS" ] || cluster_netns_remove
}

# Network namespaces (CLUSTER_NETNS): node N in tally-nN at 10.77.0.N/24,
# linked by the veth pair tally-vN (ours, on the bridge tallybr0) and
# eth0 (the node's).  Made again from nothing, so that a run that died
# leaves nothing in the way.
cluster_netns_setup() {
	local name n
	cluster_netns_remove
	ip link add tallybr0 type bridge
	ip link set tallybr0 up
	for name in "${CLUSTER_NODES[@]}"; do
		n=${name#n}
		ip netns add "tally-$name"
		ip link add "tally-v$n" type veth peer name eth0 \
			netns "tally-$name"
		ip link set "tally-v$n" master tallybr0 up
		ip -n "tally-$name" addr add "10.77.0.$n/24" dev eth0
		ip -n "tally-$name" link set eth0 up
		ip -n "tally-$name" link set lo up
	done
}

cluster_netns_remove() {
	local name
	for name in "${CLUSTER_NODES[@]}"; do
		# A namespace goes in the background, and its end of the pair
		# with it: ours goes now, or a new pair's name may be taken.
		ip link del "tally-v${name#n}" 2>/dev/null || true
		ip netns del "tally-$name" 2>/dev/null || true
	done
	ip link del tallybr0 2>/dev/null || true
}

# cluster_until SECONDS CMD...: CMD succeeds within SECONDS (tried every
# 0.1 s).
cluster_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# Now in milliseconds, for failover times.
cluster_now_ms() { echo $(($(date +%s%N) / 1000000)); }

# cluster_kill NAME: the node's tallyd and what it runs (the webhook
# sender) killed at once, stopped first so that it forks nothing more.
# One already gone is not an error: a master whose replication leases
# expired (a loaded machine) stops by itself, to be started again.
cluster_kill() {
	local pid
	pid=$(cluster_pid "$1")
	[ -n "$pid" ] || return 1
	kill -STOP "$pid" 2>/dev/null || return 0
	# shellcheck disable=SC2046	# one word per child
	kill -KILL $(pgrep -P "$pid") "$pid" 2>/dev/null || true
}

# cluster_follows NAME: the node is a replica of a known master, and
# has caught up with it (its tallyctl repl status says so).  A replica
# still copying the master's log acknowledges nothing: a test that
# killed the master then left one node that could, no majority, and its
# failover lasted as long as the copy (30 s and more).
cluster_follows() {
	local status
	status=$(cluster_ctl "$1" repl status 2>/dev/null) || return 1
	cluster_status_follows "$status"
}

# cluster_status_follows STATUS: what cluster_follows asks of a node's
# tallyctl repl status.
cluster_status_follows() {
	[ "${1%% *}" = replica ] &&
		! grep -q '^master: unknown' <<< "$1" &&
		grep -q '^caught up: yes' <<< "$1"
}

# cluster_back NAME: a node killed is in the group again, as a replica
# caught up or as the master: a group that lost another node meanwhile
# (a master's leases expired) may elect it as soon as it is back.  One
# repl status a try, as cluster_follows.
cluster_back() {
	local status
	status=$(cluster_ctl "$1" repl status 2>/dev/null) || return 1
	cluster_status_follows "$status" || [ "${status%% *}" = master ]
}

# cluster_partition NAME, cluster_heal NAME: the node's link to the
# others down, up again.  Its tallyd runs on; nginx still reaches it.
cluster_partition() { ip link set "tally-v${1#n}" down; }
cluster_heal() { ip link set "tally-v${1#n}" up; }

# make cluster.
cluster_main() {
	set -euo pipefail
	local var=$REPO/var
	cluster_setup
	# make run's key, if any, is kept: it is the only copy of its secret.
	if [ -s "$var/demo.key" ] &&
		! cmp -s "$var/demo.key" "$CLUSTER_DIR/demo.key"; then
		mv "$var/demo.key" "$var/demo.key.run"
		echo "make run's demo key is now in $var/demo.key.run"
	fi
	cp -p "$CLUSTER_DIR/demo.key" "$var/demo.key"
	trap 'cluster_stop; exit 0' INT TERM
	trap cluster_stop EXIT
	cluster_start

	cat <<MSG
Tally, three nodes, serving on $CLUSTER_URL (master: $(cluster_master)).
Try:
  KEY=\$(cat var/demo.key)
  curl -s -H "X-Api-Key: \$KEY" -H "Content-Type: application/json" \\
    -H "Idempotency-Key: try:1" $CLUSTER_URL/api/v1/balance/delta \\
    -d '{"customerId":"c1","delta":5,"reason":"try","referenceId":"try:1"}'
  curl -s -H "X-Api-Key: \$KEY" $CLUSTER_URL/api/v1/balance/derive/c1
  curl -s $CLUSTER_URL/readyz        (again: each node in turn)
  $BIN/tallyctl -c var/cluster/n1/tally.conf repl status
  cat var/cluster/nodes              (NAME PID CONFIG)
  kill -9 <the master's PID>         (another is elected; it comes back
                                      as a replica)
Logs: $CLUSTER_DIR/n*/tallyd.log, $CLUSTER_DIR/nginx-error.log.
Ctrl-C stops.
MSG

	# The supervisors outlive their tallyd; if one of them or nginx
	# exits, stop all and fail.
	set +e
	wait -n "${STACK_PIDS[@]}"
	echo "cluster: a server process exited; stopping" >&2
	exit 1
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	cluster_main "$@"
fi
