#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs first-boot setup's UI test under Xvfb against the real imprintd on a
# private bus, with the polkit, homed, localed, timedated and hostnamed
# stand-ins from tests/lib and dbusmock's NetworkManager.
#
#   run-ui-setup.sh HARNESS IMPRINTD LIBDIR LOCALEDIR [harness args]
set -eu

harness=$1 imprintd=$2 libdir=$3 localedir=$4
shift 4

skip() { echo "1..0 # SKIP $*"; exit 77; }
command -v dbus-daemon >/dev/null || skip "dbus-daemon is not installed"
/usr/bin/python3 -c 'import dbusmock' 2>/dev/null || skip "python3-dbusmock is not installed"
if [ -z "${DISPLAY:-}" ] && [ -z "${IMPRINT_UI_IN_XVFB:-}" ]; then
  command -v xvfb-run >/dev/null || skip "xvfb-run is not installed"
  IMPRINT_UI_IN_XVFB=1 exec xvfb-run -a -s "-screen 0 1280x1024x24" "$0" "$harness" "$imprintd" "$libdir" "$localedir" "$@"
fi

tmp=$(mktemp -d)
pids=
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

. "$(dirname "$0")/ui-bus.sh"
ui_bus_start "$libdir"
export IMPRINT_TEST_LOCALEDIR="$localedir"
# The time zone page asks GeoClue only when GNetworkMonitor says online;
# GIO's base monitor always does (the host's own network state does not
# matter). test-setup-ui starts its GeoClue stand-in from here.
export GIO_USE_NETWORK_MONITOR=base
export IMPRINT_UI_LIBDIR="$libdir"

ui_polkit_allow
ui_mock "$libdir/homed_imprint.py" org.freedesktop.home1 '{"ex": false}'
ui_mock "$libdir/localed_imprint.py" org.freedesktop.locale1 '{"Locale": ["LANG=en_US.UTF-8"], "VConsoleKeymap": "us"}'
ui_mock timedated org.freedesktop.timedate1 '{"Timezone": "Etc/UTC"}'
ui_mock networkmanager org.freedesktop.NetworkManager '{}'
ui_mock "$libdir/hostnamed_imprint.py" org.freedesktop.hostname1 '{"StaticHostname": "live", "PrettyHostname": ""}'

# imprintd's state and credentials, as systemd hands them to the service.
mkdir -p "$tmp/state" "$tmp/credentials"
touch "$tmp/state/setup-pending"
STATE_DIRECTORY="$tmp/state" CREDENTIALS_DIRECTORY="$tmp/credentials" \
  "$imprintd" --debug --idle-timeout=0 >"$tmp/imprintd.log" 2>&1 &
pids="$pids $!"
wait_name dev.imprint.Imprint1
export IMPRINT_UI_STATE="$tmp/state"

rc=0
"$harness" "$@" || rc=$?
if [ $rc != 0 ]; then
  echo "# imprintd log:"; sed 's/^/# /' "$tmp/imprintd.log"
fi
exit $rc
