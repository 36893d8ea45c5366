#!/usr/bin/env bash
# The browser tests, in headless Debian Chromium: the offline suite (the
# page without tallyd), then the live one (tallyd behind nginx and
# Apache, brought up by live.sh).  Each suite prints its own summary line
# ("browser: N passed, M failed (suite)"); this prints the total last and
# exits non-zero if any check failed, if a suite ended without its line,
# or if nothing ran at all: a run that checked nothing has shown nothing.
# Screenshots and PDFs go to $ARTIFACTS (default tests/browser/artifacts).
# Debian's python3 on purpose: python3-selenium is installed for it, and a
# python3 earlier on PATH (pyenv) does not see it.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp /tmp/tally-browser-run.XXXXXX)
trap 'rm -f "$out"' EXIT
status=0
passed=0
failed=0

# suite NAME COMMAND...: runs one suite, its output shown as it comes,
# and adds its summary line's counts to the total.
suite() {
	local name=$1 line
	shift
	"$@" 2>&1 | tee "$out" || status=1
	line=$(grep -E "^browser: [0-9]+ passed, [0-9]+ failed \($name\)$" "$out" | tail -1)
	if [ -z "$line" ]; then
		echo "browser: the $name suite ended without its summary line"
		status=1
		return
	fi
	# shellcheck disable=SC2086 # split on purpose: the line's words
	set -- $line
	passed=$((passed + $2))
	failed=$((failed + $4))
}

suite offline /usr/bin/python3 "$here/test_offline.py"
suite live "$here/live.sh"

[ "$failed" -eq 0 ] || status=1
if [ "$passed" -eq 0 ]; then
	echo "browser: no check ran"
	status=1
fi
echo "browser: $passed passed, $failed failed (total)"
exit $status
