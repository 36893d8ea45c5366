#!/bin/sh
# Installs the Debian packages Tally builds, runs and tests with, only when
# one is missing, so `make deps` is cheap on a machine that has them all.
set -eu

# clang-14 and libclang-rt-14-dev (its sanitizer and libFuzzer runtimes,
# only recommended by clang) are for make fuzz.  chromium, chromium-driver
# and python3-selenium run the customer page's tests in a real browser
# (tests/browser), fonts-dejavu-core gives its screenshots and PDFs a
# font, and poppler-utils (pdfinfo, pdftoppm) reads the PDFs back.
# fcgiwrap runs tallyd as CGI behind nginx (README "Running as CGI");
# Apache's mod_cgid comes with apache2.  iproute2's ip puts the nodes of
# the replication test in network namespaces (tests/e2e/cluster.sh).
PKGS="build-essential pkg-config libfcgi-dev libjson-c-dev libdb5.3-dev db5.3-util
libssl-dev openssl check libcurl4-openssl-dev curl nginx apache2 ca-certificates
jq libfaketime wrk fcgiwrap clang-14 libclang-rt-14-dev
chromium chromium-driver python3-selenium fonts-dejavu-core poppler-utils
debhelper lintian mandoc logrotate man-db python3-prometheus-client iproute2"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Packaged services must not start on install: Tally starts its own nginx
# and Apache with its own configs, and a distribution instance on :80
# would only get in the way.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod 755 /usr/sbin/policy-rc.d
	trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends $missing
