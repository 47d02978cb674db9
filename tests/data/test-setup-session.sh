#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# data/imprint-setup-session: with the word imprint.live on the kernel
# command line it runs the installer (imprint --kiosk, no --setup) and
# starts it again when closed, four runs in all; otherwise first-boot setup
# (imprint --setup --kiosk), three runs while setup is not complete. The
# command line is a file bind-mounted over /proc/cmdline in a mount
# namespace of the test's own; cage is a stand-in that logs its arguments.
# Usage: test-setup-session.sh SESSION_SCRIPT
set -uo pipefail

SESSION="$1"
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root (a mount namespace for /proc/cmdline)"
command -v unshare >/dev/null || skip "unshare not installed"
[ -e /var/lib/imprint/setup-complete ] && skip "this host's setup is complete"

W="$(mktemp -d "${TMPDIR:-/tmp}/imprint-session-test.XXXXXX")"
trap 'rm -rf "$W"' EXIT
mkdir "$W/bin"
cat > "$W/bin/cage" <<'CAGE'
#!/bin/sh
echo "$*" >> "$CAGE_LOG"
CAGE
chmod +x "$W/bin/cage"

# session CMDLINE: runs the session with CMDLINE as /proc/cmdline; its
# exit status in $W/rc, cage's runs in $W/log.
session() {
  printf '%s\n' "$1" > "$W/cmdline"
  rm -f "$W/log"; touch "$W/log"
  # shellcheck disable=SC2016 # expanded by the inner shell
  timeout 60 unshare -m sh -c 'mount --bind "$1" /proc/cmdline && exec sh "$2"' sh "$W/cmdline" "$SESSION" \
    </dev/null >/dev/null 2>"$W/err"
  echo $? > "$W/rc"
}
export PATH="$W/bin:$PATH" CAGE_LOG="$W/log" DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent

session "BOOT_IMAGE=/x quiet imprint.live root=/dev/zram0 rootfstype=btrfs"
cat "$W/err" >&2
[ "$(wc -l < "$W/log")" = 4 ] || fail "live: $(wc -l < "$W/log") runs, expected 4 (one and three restarts)"
grep -v -- ' --kiosk$' "$W/log" && fail "live: not the kiosk"
grep -- '--setup' "$W/log" && fail "live: setup instead of the installer"
grep -q -- '^-s -- .*/imprint --kiosk$' "$W/log" || fail "live: not imprint in cage: $(head -1 "$W/log")"
[ "$(cat "$W/rc")" = 0 ] || fail "live: exit $(cat "$W/rc") after the installer was closed"

for cmdline in "BOOT_IMAGE=/x quiet" "imprint.live=1" "x.imprint.live" "imprint.lived"; do
  session "$cmdline"
  [ "$(wc -l < "$W/log")" = 3 ] || fail "$cmdline: $(wc -l < "$W/log") runs, expected 3"
  [ "$(grep -c -- '/imprint --setup --kiosk$' "$W/log")" = 3 ] || fail "$cmdline: not setup: $(head -1 "$W/log")"
  [ "$(cat "$W/rc")" = 1 ] || fail "$cmdline: exit $(cat "$W/rc"), expected 1 (setup never completed)"
done
echo "PASS"
