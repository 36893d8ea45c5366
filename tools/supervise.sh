# A supervisor for tallyd, sourced after tools/stack.sh by tools/run.sh
# (make run) and the tests that need tallyd to come back by itself.
#
# supervise_tallyd starts tallyd (stack_start_tallyd) in a background
# shell that starts it again whenever it exits: after a kill -9, a
# crash, or a store panic (tallyd then exits 75 so that a restart runs
# recovery: README, "Operating notes").  Each restart is logged on
# stderr and waits a little longer while tallyd keeps dying young
# (1 s, 2 s, 4 s ... 30 s; 1 s again once it served for a minute, or
# after a SIGKILL), so that a tallyd that cannot start does not spin.
# SIGTERM to the supervisor stops tallyd and then the supervisor: its
# PID is in STACK_PIDS, so stack_stop does that.  tallyd's current PID
# is in $DIR/run/tallyd.pid.

SUPERVISE_DELAY_MAX=30	# seconds between restarts, at most
SUPERVISE_HEALTHY=60	# seconds of service that reset the delay

# The supervisor's loop, in its own shell.
supervise_loop() {
	local stop='' status started delay=1
	set +e
	TALLYD_PID=
	trap 'stop=1; [ -z "$TALLYD_PID" ] || kill -TERM "$TALLYD_PID" 2>/dev/null' TERM
	while [ -z "$stop" ]; do
		started=$SECONDS
		stack_start_tallyd
		echo "$TALLYD_PID" > "$DIR/run/tallyd.pid"
		# wait returns early when the trap runs: wait again for the
		# exit itself, which SIGTERM brings after in-flight requests.
		wait "$TALLYD_PID"
		status=$?
		while kill -0 "$TALLYD_PID" 2>/dev/null; do
			wait "$TALLYD_PID"
			status=$?
		done
		[ -z "$stop" ] || break
		# Killed by SIGKILL (an operator, the OOM killer, a test's
		# kill -9) says nothing of whether tallyd can start: the
		# delay starts over.  The cluster test kills a master every
		# ~20 s, and its nodes waited up to 30 s to come back.
		[ $((SECONDS - started)) -lt "$SUPERVISE_HEALTHY" ] &&
			[ "$status" -ne 137 ] || delay=1
		stack_log "run: tallyd (pid $TALLYD_PID) exited with status" \
			"$status after $((SECONDS - started)) s; starting it" \
			"again in $delay s"
		sleep "$delay" &
		wait $!
		delay=$((delay * 2 > SUPERVISE_DELAY_MAX ? SUPERVISE_DELAY_MAX :
			delay * 2))
	done
}

# Starts the supervisor and returns once tallyd's socket answers.
supervise_tallyd() {
	# A socket left by a kill -9 must not pass for the new tallyd's.
	rm -f "$DIR/run/tallyd.sock"
	supervise_loop &
	STACK_PIDS+=("$!")
	SUPERVISOR_PID=$!
	stack_wait_socket "$DIR/run/tallyd.sock"
}
