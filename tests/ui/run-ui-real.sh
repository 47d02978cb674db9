#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs the installer UI test's /ui/real/ cases under Xvfb against the real
# imprintd on a private bus (with the polkit stand-in from tests/lib), with
# image files built by tests/lib/layouts.py offered as disks.
#
#   run-ui-real.sh HARNESS IMPRINTD LIBDIR LOCALEDIR CACHEDIR [harness args]
#
# CACHEDIR keeps the source image (tests/image/make-source-image caches it).
set -eu

harness=$1 imprintd=$2 libdir=$3 localedir=$4 cache=$5
shift 5
srcdir=$(cd "$libdir/../.." && pwd)

skip() { echo "1..0 # SKIP $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "building disk images needs root"
command -v dbus-daemon >/dev/null || skip "dbus-daemon is not installed"
/usr/bin/python3 -c 'import dbusmock' 2>/dev/null || skip "python3-dbusmock is not installed"
command -v sfdisk >/dev/null || skip "sfdisk is not installed"
if [ -z "${DISPLAY:-}" ] && [ -z "${IMPRINT_UI_IN_XVFB:-}" ]; then
  command -v xvfb-run >/dev/null || skip "xvfb-run is not installed"
  IMPRINT_UI_IN_XVFB=1 exec xvfb-run -a -s "-screen 0 1280x1024x24" "$0" "$harness" "$imprintd" "$libdir" "$localedir" "$cache" "$@"
fi

tmp=$(mktemp -d)
pids=
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

/usr/bin/python3 "$libdir/layouts.py" build gpt-windows gpt-linux empty --dir "$tmp/disks" >/dev/null \
  || skip "tests/lib/layouts.py could not build the disk images"

. "$(dirname "$0")/ui-bus.sh"
ui_bus_start "$libdir"
export IMPRINT_TEST_LOCALEDIR="$localedir"
ui_polkit_allow

"$imprintd" --debug --idle-timeout=0 >"$tmp/imprintd.log" 2>&1 &
pids="$pids $!"
wait_name dev.imprint.Imprint1

export IMPRINT_UI_IMAGES="$tmp/disks/gpt-windows.img:$tmp/disks/gpt-linux.img:$tmp/disks/empty.img"

# A software TPM, as `imprint --tpm2-device=TCTI` would name one.
if command -v swtpm >/dev/null; then
  mkdir -p "$tmp/swtpm"
  port=$(/usr/bin/python3 -c 'import random, socket
for _ in range(50):
    p = random.randrange(20000, 60000) & ~1
    try:
        for q in (p, p + 1):
            s = socket.socket(); s.bind(("127.0.0.1", q)); s.close()
        print(p); break
    except OSError:
        pass')
  swtpm socket --tpm2 --server type=tcp,port="$port",bindaddr=127.0.0.1 \
    --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 \
    --flags not-need-init,startup-clear --tpmstate dir="$tmp/swtpm" >"$tmp/swtpm.log" 2>&1 &
  pids="$pids $!"
  for _ in $(seq 50); do
    /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
    sleep 0.1
  done
  export IMPRINT_UI_TPM2="swtpm:host=127.0.0.1,port=$port"
fi

# A real signed source image for the whole installation, and an empty
# target file; without the tools the install case skips itself.
mkdir -p "$cache"
if "$srcdir/tests/image/make-source-image" "$cache/source.img" >"$tmp/mksrc.log" 2>&1; then
  truncate -s 2G "$tmp/target.img"
  export IMPRINT_UI_SOURCE="$cache/source.img"
  export IMPRINT_UI_SOURCE_CERT="$cache/source.img.crt"
  export IMPRINT_UI_DEFINITIONS="$srcdir/tests/engine/repart.d"
  export IMPRINT_UI_TARGET="$tmp/target.img"
  IMPRINT_UI_IMAGES="$IMPRINT_UI_IMAGES:$tmp/target.img"
else
  echo "# no source image: $(tail -n1 "$tmp/mksrc.log")"
fi
rc=0
"$harness" -p /ui/real "$@" || rc=$?
if [ $rc != 0 ]; then
  echo "# imprintd log:"; sed 's/^/# /' "$tmp/imprintd.log"
fi
exit $rc
