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

dbus-daemon --config-file="$libdir/test-bus.conf" --nofork --print-address=3 3>"$tmp/address" &
pids="$pids $!"
for _ in $(seq 50); do [ -s "$tmp/address" ] && break; sleep 0.1; done
address=$(head -n1 "$tmp/address")
[ -n "$address" ] || { echo "Bail out! the private bus did not start"; exit 1; }

export DBUS_SYSTEM_BUS_ADDRESS="$address"
export DBUS_SESSION_BUS_ADDRESS="$address"
export GTK_A11Y=test NO_AT_BRIDGE=1 GSETTINGS_BACKEND=memory GDK_BACKEND=x11 GSK_RENDERER=cairo
export IMPRINT_TEST_LOCALEDIR="$localedir"
export XDG_RUNTIME_DIR="$tmp"
export LC_ALL=C.UTF-8

wait_name() {
  for _ in $(seq 100); do
    if gdbus call --system --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
         --method org.freedesktop.DBus.NameHasOwner "$1" 2>/dev/null | grep -q true; then
      return 0
    fi
    sleep 0.1
  done
  echo "Bail out! $1 did not appear"; exit 1
}

mock() {
  /usr/bin/python3 -m dbusmock --system --template "$1" --parameters "$3" >/dev/null 2>&1 &
  pids="$pids $!"
  wait_name "$2"
}

mock "$libdir/polkitd_imprint.py" org.freedesktop.PolicyKit1 '{}'
gdbus call --system --dest org.freedesktop.PolicyKit1 --object-path /org/freedesktop/PolicyKit1/Authority \
  --method org.freedesktop.DBus.Mock.SetMode allow >/dev/null
mock "$libdir/homed_imprint.py" org.freedesktop.home1 '{"ex": false}'
mock "$libdir/localed_imprint.py" org.freedesktop.locale1 '{"Locale": ["LANG=en_US.UTF-8"], "VConsoleKeymap": "us"}'
mock timedated org.freedesktop.timedate1 '{"Timezone": "Etc/UTC"}'
mock networkmanager org.freedesktop.NetworkManager '{}'
mock "$libdir/hostnamed_imprint.py" org.freedesktop.hostname1 '{"StaticHostname": "live", "PrettyHostname": ""}'

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
