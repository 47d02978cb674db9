#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Installing beside Windows by shrinking its NTFS first (plan-shrink.c,
# install-shrink.c), through the test driver, on a real NTFS made by mkntfs
# and filled with files of known checksums. Afterwards ntfs-3g's own
# checks must pass and every file must read back identical (ntfscat, no
# mount). Refusals must leave every byte of the disk as it was.
# Usage: test-shrink.sh DRIVER MAKE_SOURCE_IMAGE CACHE_DIR CASE
set -uo pipefail

DRIVER="$1"; MKSRC="$2"; CACHE="$3"; CASE="$4"
HERE="$(cd "$(dirname "$0")" && pwd)"
DEFS="$HERE/repart.d"
PY=/usr/bin/python3

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root (loop devices)"
for t in mkntfs ntfsresize ntfscat ntfscp ntfsfix ntfsls sfdisk systemd-repart mcopy losetup; do
  command -v "$t" >/dev/null || skip "$t not installed"
done

W="$(mktemp -d "${TMPDIR:-/tmp}/imprint-shrink-test.XXXXXX")"
LOOPS=()
cleanup() {
  for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null; done
  rm -rf "$W"
}
trap cleanup EXIT

"$MKSRC" "$CACHE/source.img"; rc=$?
[ $rc = 77 ] && skip "cannot build the source image"
[ $rc = 0 ] || fail "make-source-image failed"
SRC="$CACHE/source.img"
USR_TYPE=8484680C-9521-48C6-9C11-B0720656F69E
MiB=$((1024 * 1024))

# The disk: ESP with Windows' boot files, MSR, NTFS to the end.
"$PY" "$HERE/../lib/layouts.py" build gpt-windows-whole --dir "$W" > /dev/null || fail "cannot build the layout"
T="$W/gpt-windows-whole.img"

# entry FIELD [DISK]: a field of partition 3 as sfdisk has it.
entry() {
  sfdisk --json "${2:-$T}" | "$PY" -c '
import json, sys
t = json.load(sys.stdin)["partitiontable"]; p = t["partitions"][2]; ss = t.get("sectorsize", 512)
print({"start": p["start"] * ss, "size": p["size"] * ss, "type": p["type"], "uuid": p["uuid"],
       "name": p.get("name", "")}[sys.argv[1]])' "$1"
}
NTFS_AT=$(entry start); NTFS_SIZE=$(entry size)

# vol START SIZE: a loop device over the NTFS bytes (read-write).
vol() {
  local l
  l="$(losetup -f --show -o "$1" --sizelimit "$2" "$T")" || fail "no loop device"
  LOOPS+=("$l"); echo "$l"
}

# Files of known checksums, empty to 40 MiB (ntfscp makes no directories);
# what does not fit the first half of the volume lands behind it, so
# shrinking has to move data.
fill() {
  local v="$1"
  mkdir -p "$W/files"
  "$PY" - "$W/files" <<'PY'
import hashlib, os, random, sys
d = sys.argv[1]
rnd = random.Random(19)
sizes = [rnd.choice([0, 1, 511, 4096, 70000, 1 << 20, 7 << 20, 40 << 20]) for _ in range(40)]
with open(os.path.join(d, "SUMS"), "w") as sums:
    for i, size in enumerate(sizes):
        name = "file%02d.bin" % i
        data = rnd.randbytes(size)
        open(os.path.join(d, name), "wb").write(data)
        sums.write("%s %s\n" % (hashlib.sha256(data).hexdigest(), name))
PY
  while read -r _ name; do
    ntfscp -q "$v" "$W/files/$name" "$name" || fail "ntfscp $name"
  done < "$W/files/SUMS"
}

# vol_at_boot NEW: a loop device over the NTFS as its boot sector says,
# whatever the partition: the old size, or NEW once ntfsresize is done
# (it puts the backup boot sector at the end of the size it was given).
vol_at_boot() {
  local bytes
  bytes=$("$PY" -c '
import struct, sys
f = open(sys.argv[1], "rb"); f.seek(int(sys.argv[2])); b = f.read(512)
print(struct.unpack_from("<H", b, 0x0B)[0] * struct.unpack_from("<Q", b, 0x28)[0])' "$T" "$NTFS_AT")
  if [ "$bytes" -le "$1" ]; then vol "$NTFS_AT" "$1"; else vol "$NTFS_AT" "$NTFS_SIZE"; fi
}

# Every file reads back identical; ntfs-3g's checks find nothing. --force:
# ntfsresize marks a volume it resized for chkdsk at the next Windows start.
check_volume() {
  local v="$1"
  ntfsresize --check --force --no-progress-bar "$v" > "$W/check" 2>&1 || { cat "$W/check"; fail "ntfsresize --check failed"; }
  ntfsfix -n "$v" > "$W/fix" 2>&1 || { cat "$W/fix"; fail "ntfsfix -n failed"; }
  grep -qi "error\|corrupt" "$W/fix" && { cat "$W/fix"; fail "ntfsfix -n reports errors"; }
  while read -r sum name; do
    got="$(ntfscat --force "$v" "$name" | sha256sum | cut -d' ' -f1)"
    [ "$got" = "$sum" ] || fail "$name reads back different"
  done < "$W/files/SUMS"
  ntfsls --force "$v" | grep -q file00.bin || fail "ntfsls does not list the files"
}

prepare() {
  local v; v="$(vol "$NTFS_AT" "$NTFS_SIZE")"
  fill "$v"
  case "$1" in
  dirty) "$PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import ntfs_tamper; ntfs_tamper.set_dirty(sys.argv[2])' \
           "$HERE/../lib" "$v" ;;
  hibernated) { printf 'HIBR'; head -c 65532 /dev/zero; } > "$W/hiberfil"
              ntfscp -q "$v" "$W/hiberfil" hiberfil.sys || fail "ntfscp hiberfil.sys" ;;
  bitlocker) "$PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import ntfs_tamper; ntfs_tamper.set_bitlocker(sys.argv[2])' \
               "$HERE/../lib" "$v" ;;
  esac
  sync
  losetup -d "$v"
}

run() { # expected-rc args...
  local want="$1"; shift
  "$DRIVER" --source "$SRC" --use-free-space --definitions "$DEFS" "$@" > "$W/out" 2> "$W/err"; local rc=$?
  cat "$W/err" >&2
  [ "$rc" = "$want" ] || fail "driver exited $rc, expected $want ($*)"
}

# A refusal: exit code, the sentence, and not one byte changed.
refused() { # want-rc sentence-word size args...
  local want="$1" word="$2" size="$3"; shift 3
  local before; before="$(sha256sum < "$T")"
  run "$want" --target "$T" --shrink-partition 3 --shrink-size "$size" "$@"
  grep -q "$word" "$W/err" || fail "the refusal does not say \"$word\""
  grep -q "nothing was changed" "$W/err" || fail "the refusal does not say nothing was changed"
  [ "$(sha256sum < "$T")" = "$before" ] || fail "a refusal wrote to the disk"
  echo "refused: $(tail -1 "$W/err")"
}

NEW=$((700 * MiB))
case "$CASE" in
shrink-file|shrink-loop)
  prepare clean
  TYPE=$(entry type); UUID=$(entry uuid); NAME=$(entry name)
  before="$(sha256sum < "$T")"
  run 0 --target "$T" --shrink-partition 3 --shrink-size $NEW --dry-run
  grep -q "'shrink-from': <uint64 $NTFS_SIZE>" "$W/out" || fail "the plan does not say what is shrunk"
  [ "$(sha256sum < "$T")" = "$before" ] || fail "the dry run wrote"
  TGT="$T"
  if [ "$CASE" = shrink-loop ]; then
    TGT="$(losetup -f --show "$T")" || skip "no loop device"; LOOPS+=("$TGT")
  fi
  run 0 --target "$TGT" --shrink-partition 3 --shrink-size $NEW
  grep -q "Shrinking Windows" "$W/out" || fail "no shrink step in the progress"
  [ "$(entry start "$TGT")" = "$NTFS_AT" ] || fail "the partition moved"
  [ "$(entry size "$TGT")" = "$NEW" ] || fail "partition 3 is $(entry size "$TGT") bytes, not $NEW"
  [ "$(entry type "$TGT")" = "$TYPE" ] && [ "$(entry uuid "$TGT")" = "$UUID" ] && [ "$(entry name "$TGT")" = "$NAME" ] \
    || fail "type, GUID or name of partition 3 changed"
  sfdisk --json "$TGT" | grep -qi "$USR_TYPE" || fail "nothing was installed after the shrink"
  [ -n "$(sfdisk --verify "$TGT" 2>&1 | grep -i overlap)" ] && fail "partitions overlap"
  check_volume "$(vol "$NTFS_AT" "$NEW")"
  ;;
refuse-bitlocker)
  prepare bitlocker
  refused 1 "BitLocker" $NEW
  ;;
refuse-dirty)
  prepare dirty
  refused 1 "chkdsk" $NEW
  ;;
refuse-hibernated)
  prepare hibernated
  refused 1 "Fast Startup" $NEW
  ;;
refuse-too-full)
  prepare clean
  # The files take about 300 MB: 200 MiB is below what ntfsresize can do.
  refused 1 "free more space" $((200 * MiB))
  ;;
kill)
  # imprintd (here the driver) dies while ntfsresize runs: ntfsresize is
  # left to finish (it ignores SIGPIPE/SIGTERM, own session), the volume is
  # consistent at whichever size its boot sector says, and the partition
  # is never smaller than the volume. Run again before the partition entry
  # was written, the install is refused as "marked to be checked"
  # (ntfsresize schedules chkdsk; Windows runs it) without writing; after
  # it, the shrink is done and the install goes on. When the resize is too
  # quick to catch, the kill lands just after it: the checks are the same.
  prepare clean
  "$DRIVER" --source "$SRC" --use-free-space --definitions "$DEFS" --target "$T" \
    --shrink-partition 3 --shrink-size $NEW > "$W/out" 2> "$W/err" &
  pid=$!
  child=""
  for _ in $(seq 6000); do
    for c in $(pgrep -P "$pid" -x ntfsresize); do
      tr '\0' ' ' < "/proc/$c/cmdline" 2>/dev/null | grep -q -- "--force --size" && child=$c
    done
    [ -n "$child" ] && break
    grep -q "Copying\|Partitioning" "$W/out" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
  done
  grep -q "Shrinking Windows" "$W/out" || fail "the shrink step never started"
  kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  if [ -n "$child" ]; then
    echo "killed the driver while ntfsresize $child ran"
    timeout 300 tail --pid="$child" -f /dev/null || fail "ntfsresize did not finish"
  fi
  [ "$(entry size)" -ge "$NEW" ] || fail "the partition is smaller than asked"
  check_volume "$(vol_at_boot $NEW)"
  before="$(sha256sum < "$T")"
  if [ "$(entry size)" = "$NEW" ]; then
    run 0 --target "$T" --shrink-partition 3 --shrink-size $NEW
    grep -q "Shrinking Windows" "$W/out" && fail "the rerun shrank again"
    check_volume "$(vol "$NTFS_AT" "$NEW")"
  else
    run 1 --target "$T" --shrink-partition 3 --shrink-size $NEW
    grep -q "chkdsk" "$W/err" || fail "the rerun was not refused as marked for chkdsk: $(cat "$W/err")"
    [ "$(sha256sum < "$T")" = "$before" ] || fail "the refused rerun wrote"
  fi
  ;;
*) fail "unknown case $CASE" ;;
esac
echo "ok $CASE"
