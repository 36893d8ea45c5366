#!/usr/bin/env bash
# The Debian package, as a hosting team would take it: `make deb`, checked
# with lintian, its unit with systemd-analyze, its man pages with mandoc,
# installed on this machine with dpkg -i, and its binaries run from /usr
# with the configuration from /etc: --help and --version without a data
# directory, `tallyctl init` as the tally user, tallyd started directly
# (systemd is not PID 1 here) with the unit's user and groups, answering
# through nginx and Apache configured with the installed snippets.  One
# nginx and one Apache then front two instances at once, each with its
# own tenants.  The package is purged at the end and the machine left as
# it was.  Needs root, and a machine without Tally installed.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
DIR=$(mktemp -d /tmp/tally-pkg.XXXXXX)
# shellcheck source=../../tools/stack.sh
source "$REPO/tools/stack.sh"
DEB_OUT=$REPO/build/deb
passed=0
failed=0

say() { printf '== %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
	echo "pkg: needs root (dpkg -i)" >&2
	echo "pkg: 0 passed, 1 failed"
	exit 1
fi
# Never touch an operator's installation or record.
if dpkg-query -W tally >/dev/null 2>&1 || [ -e /etc/tally ] ||
    [ -e /var/lib/tally ] || [ -e /run/tally ]; then
	echo "pkg: Tally is installed here (the package, /etc/tally," \
		"/var/lib/tally or /run/tally): this test installs and purges" \
		"it, so it runs only where Tally is not" >&2
	echo "pkg: 0 passed, 1 failed"
	exit 1
fi

installed=0
cleanup() {
	stack_stop
	if [ "$installed" -eq 1 ]; then
		dpkg --purge tally >"$DIR/purge.log" 2>&1 ||
			{ echo "FAIL: dpkg --purge tally" >&2; failed=$((failed + 1)); }
		# Kept by the purge on purpose (debian/postrm): ours to remove.
		rm -rf /var/lib/tally /run/tally
	fi
	stack_finish pkg
	echo "pkg: $passed passed, $failed failed"
	# The status of the script, not of this trap's last command.
	[ "$failed" -eq 0 ] || exit 1
}
trap cleanup EXIT

# ---- build and static checks --------------------------------------------
say "make deb"
start=$SECONDS
stack_check "make deb" make -s -C "$REPO" deb >"$DIR/deb.log" 2>&1
echo "pkg: make deb took $((SECONDS - start)) s"
DEB=$(ls "$DEB_OUT"/tally_*.deb 2>/dev/null | head -1)
if [ -z "$DEB" ]; then
	tail -20 "$DIR/deb.log" >&2
	exit 1
fi

say "lintian (no error, no warning)"
stack_check "lintian" lintian --fail-on error,warning "$DEB"

say "mandoc -T lint on every man page"
# Run beside the pages: mandoc finds each Xr cross-reference there.
for m in "$REPO"/man/*.[158]; do
	stack_check "mandoc -T lint ${m##*/}" \
		bash -c 'cd "${1%/*}" && mandoc -T lint "${1##*/}"' _ "$m"
done

# ---- installed ----------------------------------------------------------
say "dpkg -i $(basename "$DEB")"
installed=1
stack_check "dpkg -i" dpkg -i "$DEB" >"$DIR/install.log" 2>&1
stack_check "user tally" getent passwd tally >/dev/null
stack_check "/var/lib/tally is tally's, 0750" \
	test "$(stat -c '%U:%G %a' /var/lib/tally)" = "tally:tally 750"
conffiles=$(dpkg-query -W -f='${Conffiles}' tally)
for f in /etc/tally/tally.conf /etc/tally/nginx/tally-locations.conf \
    /etc/tally/nginx/tally-http.conf /etc/tally/apache/tally.conf \
    /etc/logrotate.d/tally; do
	stack_check "conffile $f" grep -q " $f " <<<"$conffiles"
done
stack_check "systemd-analyze verify tally.service" \
	systemd-analyze verify /lib/systemd/system/tally.service
unit=$(cat /lib/systemd/system/tally.service)
for d in Restart=on-failure User=tally RuntimeDirectory=tally \
    ProtectSystem=strict ReadWritePaths=/var/lib/tally NoNewPrivileges=yes; do
	stack_check "unit: $d" grep -qx "$d" <<<"$unit"
done
stack_check "logrotate -d /etc/logrotate.d/tally" \
	logrotate -d /etc/logrotate.d/tally >/dev/null 2>&1
stack_check "man -w tallyd tallyctl tally-verify tally.conf" \
	man -w tallyd tallyctl tally-verify tally.conf >/dev/null

say "the binaries from /usr, nothing opened"
version=$(dpkg-query -W -f='${Version}' tally)
stack_check "tallyd --version" test "$(/usr/sbin/tallyd --version)" = \
	"tallyd $version"
stack_check "tallyctl --version" test "$(tallyctl --version)" = \
	"tallyctl $version"
stack_check "tally-verify --version" \
	grep -q "^tally-verify $version " <<<"$(tally-verify --version)"
for b in /usr/sbin/tallyd /usr/bin/tallyctl /usr/bin/tally-verify; do
	for a in --help -h help; do
		stack_check "${b##*/} $a: usage on stdout, exit 0" \
			grep -q '^usage: ' <<<"$("$b" "$a" 2>/dev/null)"
	done
	stack_check "${b##*/} --bogus: exit 2, usage on stderr" \
		bash -c '"$1" --bogus >/dev/null 2>"$2"; [ $? -eq 2 ] &&
			grep -q "^usage: " "$2"' _ "$b" "$DIR/err"
done
stack_check "tallyctl frobnicate: exit 2" \
	bash -c 'tallyctl frobnicate 2>/dev/null; [ $? -eq 2 ]'
stack_check "/var/lib/tally untouched by all of it" \
	test -z "$(ls -A /var/lib/tally)"

say "tallyctl init as tally, with /etc/tally/tally.conf"
stack_check "tallyctl init" runuser -u tally -- tallyctl init >/dev/null
stack_check "tenant add (root, becomes tally)" tallyctl tenant add acme \
	>/dev/null
KEY_A=$(tallyctl key create --tenant acme --env live)
stack_check "/var/lib/tally all tally's" \
	test -z "$(find /var/lib/tally ! -user tally)"

# tallyd as the unit starts it: user tally, group tally, www-data besides
# (SupplementaryGroups), no capability, no new privileges.
start_tallyd() {	# start_tallyd LOG [ARGS...]
	setpriv --reuid=tally --regid=tally --groups="$(getent group www-data |
		cut -d: -f3)" --no-new-privs --inh-caps=-all \
		--bounding-set=-all "/usr/sbin/tallyd" "${@:2}" 2>>"$1" &
	STACK_PIDS+=("$!")
}
say "tallyd as the unit runs it, /etc/tally/tally.conf"
install -d -o tally -g tally -m 755 /run/tally
start_tallyd "$DIR/tallyd-a.log"
stack_check "socket /run/tally/tallyd.sock" \
	stack_wait_socket /run/tally/tallyd.sock
stack_check "socket 0660, group www-data" \
	test "$(stat -c '%a %G' /run/tally/tallyd.sock)" = "660 www-data"

# A second instance, as a second tally.conf would run one.
mkdir -p "$DIR/b/run"
chmod 755 "$DIR" "$DIR/b"
chown tally:tally "$DIR/b/run"
cat > "$DIR/b.conf" <<CONF
listen = unix:b/run/tallyd.sock
socket_group = www-data
data_dir = b/db
CONF
tallyctl -c "$DIR/b.conf" init >/dev/null
tallyctl -c "$DIR/b.conf" tenant add beta >/dev/null
KEY_B=$(tallyctl -c "$DIR/b.conf" key create --tenant beta --env live)
start_tallyd "$DIR/tallyd-b.log" -c "$DIR/b.conf"
stack_check "second instance's socket" stack_wait_socket "$DIR/b/run/tallyd.sock"

# ---- through the web servers, with the installed snippets ----------------
NGINX_A=$(stack_free_port); NGINX_B=$(stack_free_port)
mkdir -p "$DIR/nginx-tmp"
cat > "$DIR/nginx.conf" <<CONF
daemon off;
user www-data;
worker_processes 1;
pid $DIR/nginx.pid;
error_log $DIR/nginx-error.log warn;
events { worker_connections 256; }
http {
    include /etc/tally/nginx/tally-http.conf;
    access_log $DIR/nginx-access.log tally;
    client_body_temp_path $DIR/nginx-tmp/body;
    fastcgi_temp_path     $DIR/nginx-tmp/fastcgi;
    upstream tally   { server unix:/run/tally/tallyd.sock; }
    upstream tally_b { server unix:$DIR/b/run/tallyd.sock; }
    server {
        listen 127.0.0.1:$NGINX_A;
        set \$tally_upstream tally;
        set \$tally_web /usr/share/tally/web;
        include /etc/tally/nginx/tally-locations.conf;
    }
    server {
        listen 127.0.0.1:$NGINX_B;
        set \$tally_upstream tally_b;
        set \$tally_web /usr/share/tally/web;
        include /etc/tally/nginx/tally-locations.conf;
    }
}
CONF
APACHE_A=$(stack_free_port); APACHE_B=$(stack_free_port)
mkdir -p "$DIR/apache-run"
{
	# The stack's global settings and modules, TLS left out.
	sed -n '/^ServerRoot/,/^LoadModule alias_module/p' \
		"$REPO/apache/httpd.conf.in" | grep -v 'ssl\|socache' |
		sed "s|@PREFIX@|$DIR|g"
	cat <<CONF
User www-data
Group www-data
Listen 127.0.0.1:$APACHE_A
Listen 127.0.0.1:$APACHE_B
Define TALLY_ERRORS /etc/tally/apache/errors
Define TALLY_WEB /usr/share/tally/web
<VirtualHost 127.0.0.1:$APACHE_A>
    Define TALLY_SOCKET /run/tally/tallyd.sock
    Include /etc/tally/apache/tally.conf
</VirtualHost>
<VirtualHost 127.0.0.1:$APACHE_B>
    Define TALLY_SOCKET $DIR/b/run/tallyd.sock
    Include /etc/tally/apache/tally.conf
</VirtualHost>
CONF
} > "$DIR/httpd.conf"

say "one nginx and one Apache, two instances"
nginx -q -e "$DIR/nginx-error.log" -c "$DIR/nginx.conf" &
STACK_PIDS+=("$!")
apache2 -f "$DIR/httpd.conf" -DFOREGROUND 2>>"$DIR/apache-error.log" &
STACK_PIDS+=("$!")
for p in "$NGINX_A" "$NGINX_B" "$APACHE_A" "$APACHE_B"; do
	stack_check "listening on $p" stack_wait_port "$p"
done

status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
whoami() {	# whoami PORT KEY: the tenant the key is for, through PORT
	curl -s -H "X-Api-Key: $2" "http://127.0.0.1:$1/api/v1/auth/whoami" |
		jq -r '.data.tenant // .error.code'
}
for front in "nginx $NGINX_A $NGINX_B" "apache $APACHE_A $APACHE_B"; do
	read -r name a b <<<"$front"
	stack_check "$name: /healthz of the first instance" \
		test "$(status "http://127.0.0.1:$a/healthz")" = 200
	stack_check "$name: /healthz of the second instance" \
		test "$(status "http://127.0.0.1:$b/healthz")" = 200
	stack_check "$name: the first instance's tenant" \
		test "$(whoami "$a" "$KEY_A")" = acme
	stack_check "$name: the second instance's tenant" \
		test "$(whoami "$b" "$KEY_B")" = beta
	stack_check "$name: each key only where it was made" \
		test "$(whoami "$b" "$KEY_A")" = INVALID_API_KEY
	stack_check "$name: the customer page from /usr/share/tally/web" \
		test "$(status "http://127.0.0.1:$a/c/abc")" = 200
done
