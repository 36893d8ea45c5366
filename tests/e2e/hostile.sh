# Hostile input (SPEC 6: bad input never crashes a worker, never
# half-writes), sourced by run.sh, which runs tests/e2e/check_hostile
# through each front end between hostile_begin and hostile_end.  Uses
# run.sh's check, the stack functions, DIR and BIN.  Afterwards nothing
# may differ: the hostile tenant's export, its usage and checkpoints,
# the log's size; tallyctl verify holds; tallyd is the same process.

# hostile_snapshot URL FILE: what any recorded request would change.
hostile_snapshot() {
	local k=(-H "X-Api-Key: $TALLY_KEY_HOSTILE")
	{
		stack_ctl export --tenant hostile
		curl -sf "$1/api/v1/log/checkpoint" | jq -e .data.treeSize
		curl -sf "${k[@]}" "$1/api/v1/balance/usage" | jq -ec .data
		curl -sf "${k[@]}" "$1/api/v1/balance/checkpoints" | jq -ec .data
	} > "$2"
}

# hostile_seed URL: customer hostile_c, with a verified delta and its
# month locked, for the cases to find (or not).
hostile_seed() {
	local h=(-H "X-Api-Key: $TALLY_KEY_HOSTILE" -H 'Content-Type: application/json')
	curl -sf "${h[@]}" -d '{"customerId":"hostile_c","delta":1,"reason":"seed"}' \
		"$1/api/v1/balance/delta" >/dev/null &&
	curl -sf "${h[@]}" -d "{\"customerId\":\"hostile_c\",\"period\":\"$(date -u +%Y-%m)\"}" \
		"$1/api/v1/balance/checkpoint" >/dev/null
}

hostile_begin() {	# hostile_begin URL
	stack_ctl tenant add hostile >/dev/null
	export TALLY_KEY_HOSTILE TALLY_STATE_DIR=$DIR
	TALLY_KEY_HOSTILE=$(stack_key --tenant hostile --env live)
	HOSTILE_PID=$TALLYD_PID
	stack_check "hostile: seed" hostile_seed "$1"
	hostile_snapshot "$1" "$DIR/hostile.before"
}

hostile_end() {		# hostile_end URL
	hostile_snapshot "$1" "$DIR/hostile.after"
	stack_check "hostile: nothing was recorded" \
		cmp -s "$DIR/hostile.before" "$DIR/hostile.after"
	stack_check "hostile: tallyctl verify holds" stack_ctl verify
	stack_check "hostile: tallyd is the same process" bash -c \
		'[ "$1" = "$2" ] && kill -0 "$1"' _ "$HOSTILE_PID" "$TALLYD_PID"
}
