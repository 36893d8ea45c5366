#!/usr/bin/env bash
# tallyctl backup while tallyd serves writes.  A client emits throughout
# (the crash test's writer); the backup, restored as the data_dir of a
# fresh configuration, must pass `tallyctl verify` and hold every delta
# acknowledged before the backup began, and nothing never acknowledged.
# Its files are 0600, its directories 0700, and a target that is not
# empty, or that tallyctl's user cannot write, is refused.
set -euo pipefail

NAME=backup
# shellcheck source=writer.sh
source "$(dirname "$0")/writer.sh"

wait_acked() {	# wait_acked N: up to 10 s for N acknowledgements
	for _ in $(seq 200); do
		[ "$(acked)" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
refused() {	# refused TARGET MESSAGE: backup fails and says MESSAGE
	! stack_ctl backup "$1" 2> "$DIR/refused.err" &&
		grep -q "$2" "$DIR/refused.err"
}

writer_stack

# tallyctl writes the backup as the user it runs as (STACK_USER if root).
mkdir "$DIR/backups"
[ "$(id -u)" -ne 0 ] || chown "$STACK_USER" "$DIR/backups"
BACKUP=$DIR/backups/one

writer_start 4
stack_check "the client is writing" wait_acked 500
before=$(acked)
stack_check "tallyctl backup while tallyd serves writes" stack_ctl backup "$BACKUP"
during=$(($(acked) - before))
wait_acked $(($(acked) + 100)) || true
writer_stop
echo "backup: taken after $before acknowledged deltas, $during more" \
	"acknowledged while it ran, $(acked) in all"
stack_check "tallyd went on acknowledging during the backup" test "$during" -gt 0
stack_check "backup files are 0600" test -z "$(find "$BACKUP" -type f ! -perm 600)"
stack_check "backup directories are 0700" \
	test -z "$(find "$BACKUP" -type d ! -perm 700)"

# search.db, written without log records, could not be made one moment
# with the rest by the copy's recovery: the restored copy builds its own.
stack_check "the backup leaves the search index out" \
	test ! -e "$BACKUP/search.db" -a -e "$DIR/db/search.db"

# Restore: the backup becomes the data_dir of a new configuration.
mkdir -m 755 "$DIR/restore"
cp -a "$BACKUP" "$DIR/restore/db"
echo "data_dir = db" > "$DIR/restore/tally.conf"
restored() { "$BIN/tallyctl" -c "$DIR/restore/tally.conf" "$@"; }
stack_check "tallyctl verify holds on the restored backup" restored verify
restored export --tenant crash > "$DIR/restored.export"
stack_check "restored: every delta acknowledged before the backup, nothing unacknowledged" \
	"$BIN/tests/crash" check "$DIR/acks" "$DIR/restored.export" "$before"

mkdir "$DIR/backups/full"
touch "$DIR/backups/full/something"
stack_check "a non-empty target is refused" refused "$DIR/backups/full" "not empty"
mkdir -m 555 "$DIR/locked"
stack_check "an unwritable target is refused" refused "$DIR/locked" \
	"Permission denied (tallyctl runs as "

if [ "$failed" -eq 0 ]; then
	echo "backup: PASS"
else
	echo "backup: FAIL: $failed checks failed"
fi
[ "$failed" -eq 0 ]
