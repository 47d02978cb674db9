#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs the installer UI test (test-installer-ui) under Xvfb against a
# daemon on a private D-Bus bus that stands in for the system bus.
#
#   run-ui-tests.sh HARNESS STANDIN XML SCENARIO LOCALEDIR [harness args]
#
# With IMPRINT_SCREENSHOT_DIR set, the harness writes PNGs there.
set -eu

harness=$1 standin=$2 xml=$3 scenario=$4 localedir=$5
shift 5

skip() { echo "1..0 # SKIP $*"; exit 77; }
command -v dbus-daemon >/dev/null || skip "dbus-daemon is not installed"
[ -x /usr/bin/python3 ] || skip "/usr/bin/python3 is missing"
/usr/bin/python3 -c 'import gi; gi.require_version("Gio", "2.0")' 2>/dev/null || skip "python3-gi is not installed"
if [ -z "${DISPLAY:-}" ] && [ -z "${IMPRINT_UI_IN_XVFB:-}" ]; then
  command -v xvfb-run >/dev/null || skip "xvfb-run is not installed"
  IMPRINT_UI_IN_XVFB=1 exec xvfb-run -a -s "-screen 0 1280x1024x24" "$0" "$harness" "$standin" "$xml" "$scenario" "$localedir" "$@"
fi

tmp=$(mktemp -d)
busconf=$tmp/bus.conf
cat > "$busconf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=$tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF

bus_pid= daemon_pid=
cleanup() {
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null || true
  [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

dbus-daemon --config-file="$busconf" --nofork --print-address=3 --print-pid=4 \
  3>"$tmp/address" 4>"$tmp/pid" &
bus_pid=$!
for _ in $(seq 50); do [ -s "$tmp/address" ] && break; sleep 0.1; done
address=$(head -n1 "$tmp/address")
[ -n "$address" ] || { echo "Bail out! the private bus did not start"; exit 1; }

# The app talks to the "system" bus: point it at the private one. The
# session bus too, so nothing reaches out to a real desktop session.
export DBUS_SYSTEM_BUS_ADDRESS="$address"
export DBUS_SESSION_BUS_ADDRESS="$address"
# GTK_A11Y=test keeps GTK off any accessibility bus; run-ui-a11y.py gives
# it a real one (IMPRINT_UI_GTK_A11Y=atspi, AT_SPI_BUS_ADDRESS).
export GTK_A11Y="${IMPRINT_UI_GTK_A11Y:-test}"
export NO_AT_BRIDGE=1
export GSETTINGS_BACKEND=memory
export GDK_BACKEND=x11
export GSK_RENDERER=cairo
export IMPRINT_TEST_LOCALEDIR="$localedir"
export XDG_RUNTIME_DIR="$tmp"

/usr/bin/python3 "$standin" "$scenario" "$xml" >"$tmp/standin.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do grep -q ready "$tmp/standin.log" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$tmp/standin.log" || { cat "$tmp/standin.log"; echo "Bail out! the daemon did not start"; exit 1; }

rc=0
"$harness" "$@" || rc=$?
if [ $rc != 0 ]; then
  echo "# daemon log:"; sed 's/^/# /' "$tmp/standin.log"
fi
exit $rc
