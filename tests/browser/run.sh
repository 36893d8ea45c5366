#!/bin/sh
# The browser tests, in headless Debian Chromium.  Prints one summary line
# per suite ("browser: N passed, M failed") and exits non-zero on failure.
# Screenshots and PDFs go to $ARTIFACTS (default tests/browser/artifacts).
# Debian's python3 on purpose: python3-selenium is installed for it, and a
# python3 earlier on PATH (pyenv) does not see it.
set -eu
here=$(dirname "$0")
status=0
/usr/bin/python3 "$here/test_offline.py" || status=1
# The live suite (nginx and Apache in front of tallyd) joins here:
# [ -f "$here/test_live.py" ] && { /usr/bin/python3 "$here/test_live.py" || status=1; }
exit $status
