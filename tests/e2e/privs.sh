# Privileges, sourced by run.sh: run as root (as make test is), tallyd
# serves as STACK_USER with no way back to root, and the data directory
# is that user's alone, however many tallyctl commands root ran on it.
# Uses run.sh's check, DIR and TALLYD_PID.

# proc_ids FIELD: the four IDs of a "Uid:" or "Gid:" line of tallyd.
proc_ids() { awk -v f="$1:" '$1 == f { print $2, $3, $4, $5 }' \
	"/proc/$TALLYD_PID/status"; }
proc_field() { awk -v f="$1:" '$1 == f { $1 = ""; print $0 }' \
	"/proc/$TALLYD_PID/status" | xargs; }

priv_checks() {
	local uid gid
	echo "== privileges: tallyd and tallyctl started by root run as $STACK_USER"
	if [ "$(id -u)" -ne 0 ]; then
		echo "privileges: not root, nothing dropped: skipped"
		return 0
	fi
	uid=$(id -u "$STACK_USER")
	gid=$(id -g "$STACK_USER")
	stack_check "tallyd's real, effective, saved and fs uids are $STACK_USER's" \
		test "$(proc_ids Uid)" = "$uid $uid $uid $uid"
	stack_check "tallyd's gids are $STACK_USER's" \
		test "$(proc_ids Gid)" = "$gid $gid $gid $gid"
	stack_check "tallyd's only group is $STACK_USER's" \
		test "$(proc_field Groups)" = "$gid"
	stack_check "tallyd holds no capability" test "$(proc_field CapPrm)" = \
		0000000000000000
	stack_check "the data directory is $STACK_USER's, 0700" \
		test "$(stat -c '%U %a' "$DIR/db")" = "$STACK_USER 700"
	stack_check "every file in it is $STACK_USER's" \
		test -z "$(find "$DIR/db" ! -user "$STACK_USER")"
	stack_check "no file in it is open to group or others" \
		test -z "$(find "$DIR/db" -perm /077)"
	stack_check "signing keys are 0600, their directory 0700" test -z \
		"$(find "$DIR/db/keys" \( -type f ! -perm 600 \) -o \( -type d ! -perm 700 \))"
	touch "$DIR/db/root-owned"
	stack_check "a root-owned file in the data directory is refused, with the fix" \
		bash -c '! out=$("$1" -c "$2/tally.conf" tenant list 2>&1) &&
			grep -q "root-owned is not owned by .*: chown -R" <<<"$out"' _ \
		"$BIN/tallyctl" "$DIR"
	rm -f "$DIR/db/root-owned"
}
