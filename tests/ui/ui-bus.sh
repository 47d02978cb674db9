# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by run-ui-real.sh and run-ui-setup.sh: the private system bus
# (tests/lib/test-bus.conf) with the polkit stand-in, and the environment
# the UI harness runs in. Needs $tmp (a directory removed on exit) and
# $pids (processes killed on exit) from the caller.

# Starts the bus and points both bus addresses at it, so nothing reaches a
# real system or desktop session.
ui_bus_start() {
  libdir=$1
  dbus-daemon --config-file="$libdir/test-bus.conf" --nofork --print-address=3 3>"$tmp/address" &
  pids="$pids $!"
  for _ in $(seq 50); do [ -s "$tmp/address" ] && break; sleep 0.1; done
  address=$(head -n1 "$tmp/address")
  [ -n "$address" ] || { echo "Bail out! the private bus did not start"; exit 1; }

  export DBUS_SYSTEM_BUS_ADDRESS="$address"
  export DBUS_SESSION_BUS_ADDRESS="$address"
  # run-ui-a11y.py gives GTK a real accessibility bus instead.
  export GTK_A11Y="${IMPRINT_UI_GTK_A11Y:-test}"
  export NO_AT_BRIDGE=1 GSETTINGS_BACKEND=memory GDK_BACKEND=x11 GSK_RENDERER=cairo
  export XDG_RUNTIME_DIR="$tmp"
  export LC_ALL=C.UTF-8
}

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

# A python-dbusmock stand-in: TEMPLATE NAME PARAMETERS(JSON)
ui_mock() {
  /usr/bin/python3 -m dbusmock --system --template "$1" --parameters "$3" >/dev/null 2>&1 &
  pids="$pids $!"
  wait_name "$2"
}

# The polkit stand-in, allowing everything.
ui_polkit_allow() {
  ui_mock "$libdir/polkitd_imprint.py" org.freedesktop.PolicyKit1 '{}'
  gdbus call --system --dest org.freedesktop.PolicyKit1 --object-path /org/freedesktop/PolicyKit1/Authority \
    --method org.freedesktop.DBus.Mock.SetMode allow >/dev/null
}
