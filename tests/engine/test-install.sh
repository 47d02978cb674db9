#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Install-engine tests on image files and loop devices, driven through the
# test-only driver imprint-engine-test-install.
# Usage: test-install.sh DRIVER MAKE_SOURCE_IMAGE CACHE_DIR CASE
set -uo pipefail

DRIVER="$1"; MKSRC="$2"; CACHE="$3"; CASE="$4"
HERE="$(cd "$(dirname "$0")" && pwd)"
DEFS="$HERE/repart.d"

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root (loop devices)"
for t in sfdisk veritysetup systemd-repart mkfs.vfat mcopy losetup; do
  command -v "$t" >/dev/null || skip "$t not installed"
done

W="$(mktemp -d "${TMPDIR:-/tmp}/imprint-engine-test.XXXXXX")"
LOOPS=()
MOUNTS=()
cleanup() {
  for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null; done
  for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
  rm -rf "$W"
}
trap cleanup EXIT

"$MKSRC" "$CACHE/source.img"; rc=$?
[ $rc = 77 ] && skip "cannot build the source image"
[ $rc = 0 ] || fail "make-source-image failed"
SRC="$CACHE/source.img"
ROOTHASH="$(cat "$SRC.roothash")"
USR_TYPE=8484680C-9521-48C6-9C11-B0720656F69E
VER_TYPE=77FF5F63-E7B6-4633-ACF4-1565B864C0E6
SIG_TYPE=E7BB33FB-06CF-4E81-8273-E543B413E2E2
ROOT_TYPE=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709
ESP_TYPE=C12A7328-F81F-11D2-BA4B-00A0C93EC93B

# part FIELD DISK TYPE [NTH]: a field of the NTH partition of a type.
part() {
  /usr/bin/python3 - "$@" <<'PY'
import json, subprocess, sys
field, disk, typ = sys.argv[1:4]
nth = int(sys.argv[4]) if len(sys.argv) > 4 else 0
t = json.loads(subprocess.check_output(["sfdisk", "--json", disk]))["partitiontable"]
ps = [p for p in t["partitions"] if p["type"].upper() == typ.upper()]
if nth >= len(ps):
    sys.exit(1)
p = ps[nth]
v = {"start": p["start"] * t.get("sectorsize", 512), "size": p["size"] * t.get("sectorsize", 512),
     "name": p.get("name", ""), "uuid": p["uuid"].lower(), "count": len(ps)}[field]
print(v)
PY
}

# No usr/verity/sig partition on the target may carry a version label.
assert_no_version_label() {
  local disk="$1"
  sfdisk --json "$disk" >/dev/null 2>&1 || return 0
  /usr/bin/python3 - "$disk" "$USR_TYPE" "$VER_TYPE" "$SIG_TYPE" <<'PY' || fail "a slot carries a version label"
import json, subprocess, sys
t = json.loads(subprocess.check_output(["sfdisk", "--json", sys.argv[1]]))["partitiontable"]
bad = [p for p in t["partitions"] if p["type"].upper() in sys.argv[2:] and p.get("name") != "_empty"]
for p in bad:
    print("labelled slot:", p, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}

extract() { # DISK OFFSET SIZE OUT
  dd if="$1" of="$4" bs=1M iflag=skip_bytes,count_bytes skip="$2" count="$3" status=none
}

# Full check of an installed target.
check_installed() {
  local disk="$1" data="${2:-yes}"
  sfdisk --json "$disk" > "$W/table.json" || fail "no partition table on $disk"
  [ "$(part name "$disk" $USR_TYPE 0)" = ImprintOS_1 ] || fail "A slot usr not labelled"
  [ "$(part name "$disk" $VER_TYPE 0)" = ImprintOS_1 ] || fail "A slot verity not labelled"
  [ "$(part name "$disk" $SIG_TYPE 0)" = ImprintOS_1 ] || fail "A slot sig not labelled"
  [ "$(part name "$disk" $USR_TYPE 1)" = _empty ] || fail "B slot usr missing or labelled"
  [ "$(part name "$disk" $VER_TYPE 1)" = _empty ] || fail "B slot verity missing or labelled"
  [ "$(part name "$disk" $SIG_TYPE 1)" = _empty ] || fail "B slot sig missing or labelled"
  # UUIDs = the halves of the root hash (usrhash= discovery).
  local u v
  u="$(part uuid "$disk" $USR_TYPE 0 | tr -d -)"; v="$(part uuid "$disk" $VER_TYPE 0 | tr -d -)"
  [ "$u$v" = "$ROOTHASH" ] || fail "A slot UUIDs $u $v are not the root hash halves"
  # The copied slot verifies with veritysetup against the root hash.
  extract "$disk" "$(part start "$disk" $USR_TYPE 0)" "$(part size "$SRC" $USR_TYPE 0)" "$W/usr"
  extract "$disk" "$(part start "$disk" $VER_TYPE 0)" "$(part size "$SRC" $VER_TYPE 0)" "$W/verity"
  veritysetup verify "$W/usr" "$W/verity" "$ROOTHASH" || fail "veritysetup verify of the copied slot failed"
  rm -f "$W/usr" "$W/verity"
  if [ "$data" = yes ]; then
    [ "$(part count "$disk" $ROOT_TYPE)" = 1 ] || fail "no root-x86-64 partition"
  else
    ! part count "$disk" $ROOT_TYPE >/dev/null || fail "data partitions were not deferred"
  fi
  echo "checked $disk"
}

run() { # expected-rc args...
  local want="$1"; shift
  "$DRIVER" "$@" > "$W/out" 2> "$W/err"; local rc=$?
  cat "$W/err" >&2
  [ "$rc" = "$want" ] || fail "driver exited $rc, expected $want ($*)"
}

case "$CASE" in
erase-file)
  truncate -s 1G "$W/t.img"
  run 0 --source "$SRC" --target "$W/t.img" --erase --definitions "$DEFS" --dry-run
  grep -q "root-x86-64" "$W/out" || fail "plan lacks the root partition"
  [ "$(sfdisk -d "$W/t.img" 2>/dev/null | wc -l)" = 0 ] || fail "dry run wrote something"
  run 0 --source "$SRC" --target "$W/t.img" --erase --definitions "$DEFS" --certificate "$SRC.crt"
  check_installed "$W/t.img"
  # The ESP is a block copy of the source's.
  cmp <(extract "$SRC" "$(part start "$SRC" $ESP_TYPE)" "$(part size "$SRC" $ESP_TYPE)" /dev/stdout) \
      <(extract "$W/t.img" "$(part start "$W/t.img" $ESP_TYPE)" "$(part size "$SRC" $ESP_TYPE)" /dev/stdout) \
      || fail "ESP differs"
  # Rerunning the same install works.
  run 0 --source "$SRC" --target "$W/t.img" --erase --definitions "$DEFS"
  check_installed "$W/t.img"
  ;;
erase-loop)
  truncate -s 1G "$W/t.img"
  L="$(losetup -f --show "$W/t.img")" || skip "no loop device"
  LOOPS+=("$L")
  run 0 --source "$SRC" --target "$L" --erase --definitions "$DEFS"
  check_installed "$L"
  ;;
read-once)
  # Each source byte read once (by the source device's own counter, page
  # cache dropped first): onto a blank disk (streamed, verified in flight)
  # and onto one holding data (verify-first, the copy served from the
  # cache). Copied = ESP + usr + usr-verity + usr-verity-sig.
  S="$(losetup --direct-io=on -r -f --show "$SRC")" || skip "no loop device"
  LOOPS+=("$S")
  copied=0
  for t in $ESP_TYPE $USR_TYPE $VER_TYPE $SIG_TYPE; do copied=$(( copied + $(part size "$SRC" $t) )); done
  reads() { awk '{ print $3 * 512 }' "/sys/block/$(basename "$S")/stat"; }
  for kind in blank data; do
    rm -f "$W/t.img"; truncate -s 1G "$W/t.img"
    if [ $kind = data ]; then
      printf 'label: gpt\nsize=64M, name=data\n' | sfdisk -q "$W/t.img" >/dev/null || fail "sfdisk"
    fi
    L="$(losetup -f --show "$W/t.img")" || skip "no loop device"
    LOOPS+=("$L")
    sync; echo 3 > /proc/sys/vm/drop_caches
    r0=$(reads)
    run 0 --source "$S" --target "$L" --erase --defer-data-partitions --definitions "$DEFS" --verify-first
    r1=$(reads)
    echo "$kind target: read $(( r1 - r0 )) bytes for $copied copied"
    [ $(( (r1 - r0) * 100 )) -le $(( copied * 102 )) ] || fail "$kind target: the source was read $(( r1 - r0 )) bytes for $copied copied"
    check_installed "$L" no
  done
  ;;
defer)
  truncate -s 1G "$W/t.img"
  run 0 --source "$SRC" --target "$W/t.img" --erase --defer-data-partitions --definitions "$DEFS"
  check_installed "$W/t.img" no
  # systemd-dissect 252 cannot acquire metadata when an "_empty" B slot
  # (no file system) sits beside the A slot; dissect the A slot alone, on a
  # copy with the B slot entries removed.
  if command -v systemd-dissect >/dev/null && systemd-dissect --no-pager "$SRC" >/dev/null 2>&1; then
    cp --sparse=always "$W/t.img" "$W/a.img"
    nums=$(sfdisk -d "$W/a.img" | grep -n 'name="_empty"' | sed 's/.*img\([0-9]*\) :.*/\1/')
    sfdisk -q --delete "$W/a.img" $nums || fail "cannot drop B slots from the copy"
    systemd-dissect --no-pager "$W/a.img" > "$W/dissect" 2>&1 || { cat "$W/dissect"; fail "systemd-dissect failed"; }
    cat "$W/dissect"
    grep -q "IMAGE_VERSION=1" "$W/dissect" || fail "systemd-dissect does not see the OS"
    grep -q "usr-verity-sig" "$W/dissect" || fail "systemd-dissect does not see the signature"
    grep -q "bootable system for UEFI" "$W/dissect" || fail "not bootable for UEFI"
  else
    echo "systemd-dissect does not work offline here; sfdisk checks only"
  fi
  ;;
efivars)
  truncate -s 1G "$W/t.img"
  mkdir "$W/efivars"
  run 0 --source "$SRC" --target "$W/t.img" --erase --defer-data-partitions --efivars "$W/efivars" \
    --definitions "$DEFS"
  ls "$W/efivars" | grep -q '^Boot0000-8be4df61' || fail "no Boot0000 variable"
  od -An -c "$W/efivars"/Boot0000-* | tr -d ' \n' | grep -q 'E\\0F\\0I\\0\\\\0s\\0y\\0s\\0t\\0e\\0m\\0d' \
    || fail "Boot0000 does not point to systemd-boot"
  ;;
free-space|free-space-xbootldr|free-space-loop)
  # A Windows disk from tests/lib/layouts.py: FAT32 ESP with Windows' boot
  # files (made with mtools), MSR, NTFS, 1.5 GiB free behind. In the
  # xbootldr case the ESP is nearly full, so the kernel images need an
  # XBOOTLDR partition.
  command -v mkntfs >/dev/null || skip "mkntfs not installed (ntfs-3g)"
  LAYOUT=gpt-windows-free; [ "$CASE" = free-space-xbootldr ] && LAYOUT=gpt-windows-full-esp
  /usr/bin/python3 "$HERE/../lib/layouts.py" build "$LAYOUT" --dir "$W" --json > "$W/layout.json" \
    || fail "cannot build layout $LAYOUT"
  lay() { /usr/bin/python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))[0]; print(eval(sys.argv[2]))' \
            "$W/layout.json" "$1"; }
  export MTOOLS_SKIP_CHECK=1
  T="$W/$LAYOUT.img"
  ESP_AT=$(lay 'd["partitions"][0]["start"]')
  NTFS_AT=$(lay 'd["partitions"][2]["start"]'); NTFS_SIZE=$(lay 'd["partitions"][2]["size"]')
  lay '"\n".join("%s %s" % (h, p) for p, h in sorted(d["partitions"][0]["files"].items()))' > "$W/esp-files"
  grep -q "EFI/Microsoft/Boot/bootmgfw.efi" "$W/esp-files" || fail "the layout has no Windows boot manager"
  if [ "$CASE" = free-space-loop ]; then
    T="$(losetup -f --show "$T")" || skip "no loop device"
    LOOPS+=("$T")
  fi
  sfdisk -d "$T" | grep '^/' > "$W/before"
  extract "$T" "$NTFS_AT" "$NTFS_SIZE" /dev/stdout | sha256sum > "$W/data.sum"
  # Windows' files in the ESP, byte for byte (\EFI\Boot\bootx64.efi is the
  # removable-media path, which the install takes over for systemd-boot).
  check_windows() {
    local h p
    while read -r h p; do
      [ "$p" = EFI/Boot/bootx64.efi ] && continue
      rm -f "$W/f"
      mcopy -n -i "$T@@$ESP_AT" "::/$p" "$W/f" || fail "Windows' $p is gone from the ESP"
      [ "$(sha256sum < "$W/f" | cut -d' ' -f1)" = "$h" ] || fail "Windows' $p changed"
    done < "$W/esp-files"
    sfdisk -d "$T" | grep '^/' | head -3 | diff - "$W/before" || fail "existing partitions changed"
    extract "$T" "$NTFS_AT" "$NTFS_SIZE" /dev/stdout | sha256sum | diff - "$W/data.sum" || fail "NTFS data changed"
    blkid -p -O "$NTFS_AT" "$T" | grep -q 'TYPE="ntfs"' || fail "the NTFS is no longer recognised"
    echo "Windows' partitions and boot files are intact"
  }
  # Definitions asking for a bigger ESP than Windows made: systemd-repart
  # on the installed system would refuse to run on every boot (and a
  # factory reset fail), so the plan is refused before anything is written.
  mkdir "$W/defs-esp"; cp "$DEFS"/*.conf "$W/defs-esp/"
  printf '[Partition]\nType=esp\nFormat=vfat\nSizeMinBytes=512M\n' > "$W/defs-esp/00-esp.conf"
  run 1 --source "$SRC" --target "$T" --use-free-space --definitions "$W/defs-esp"
  grep -q "EFI System Partition of at least" "$W/err" || fail "no clear message for the small ESP"
  sfdisk -d "$T" | grep '^/' | diff - "$W/before" || fail "the refused plan wrote something"
  run 0 --source "$SRC" --target "$T" --use-free-space --definitions "$DEFS"
  check_installed "$T"
  check_windows
  mdir -i "$T@@$ESP_AT" ::/EFI/systemd | grep -qi systemd-bootx64 || fail "no systemd-boot in the ESP"
  mdir -i "$T@@$ESP_AT" ::/EFI/BOOT | grep -qi BOOTX64 || fail "no fallback boot loader"
  XB=BC13C2FF-59E6-4262-A352-B275FD6F7172
  if [ "$CASE" = free-space-xbootldr ]; then
    [ "$(part count "$T" $XB)" = 1 ] || fail "no XBOOTLDR partition"
    mdir -i "$T@@$(part start "$T" $XB)" ::/EFI/Linux | grep -qi '\.efi' || fail "no UKI in XBOOTLDR"
    ! mdir -b -i "$T@@$ESP_AT" ::/EFI/Linux 2>/dev/null | grep -qi '\.efi' || fail "a UKI went into the full ESP"
  else
    ! part count "$T" $XB >/dev/null || fail "an XBOOTLDR was made though the ESP has room"
    mdir -i "$T@@$ESP_AT" ::/EFI/Linux | grep -qi '\.efi' || fail "no UKI in the ESP"
  fi
  sfdisk -l "$T"
  # Rerun on the same disk: the leftovers of the first run are reclaimed.
  run 0 --source "$SRC" --target "$T" --use-free-space --definitions "$DEFS"
  check_installed "$T"
  check_windows
  [ "$(part count "$T" $USR_TYPE)" = 2 ] || fail "rerun piled up slots"
  ;;
too-small)
  truncate -s 200M "$W/t.img"
  run 3 --source "$SRC" --target "$W/t.img" --erase --definitions "$DEFS"
  grep -q "too small" "$W/err" || fail "no clear message"
  # Room for the slots but not for the root: refused by the plan, before
  # anything is written.
  rm -f "$W/t.img"; truncate -s 470M "$W/t.img"
  run 3 --source "$SRC" --target "$W/t.img" --erase --definitions "$DEFS"
  grep -q "data partitions" "$W/err" || fail "no clear message"
  [ "$(sfdisk -d "$W/t.img" 2>/dev/null | wc -l)" = 0 ] || fail "something was written"
  L="$(losetup -f --show "$W/t.img")" || skip "no loop device"
  LOOPS+=("$L")
  run 3 --source "$SRC" --target "$L" --erase --definitions "$DEFS"
  ;;
tamper-usr|tamper-usr-zeros|tamper-verity)
  cp --sparse=always "$SRC" "$W/src.img"
  case "$CASE" in
  tamper-usr) at=$(( $(part start "$SRC" $USR_TYPE) + $(part size "$SRC" $USR_TYPE) / 2 + 77 )) ;;
  # In the unused zero tail of usr, a hole of the image file: the part the
  # copy checks against the tree's zero-block hash without hashing.
  tamper-usr-zeros) at=$(( $(part start "$SRC" $USR_TYPE) + $(part size "$SRC" $USR_TYPE) - 4096 + 123 )) ;;
  *) at=$(( $(part start "$SRC" $VER_TYPE) + 4096 + 1000 )) ;;
  esac
  b=$(dd if="$W/src.img" bs=1 skip=$at count=1 status=none | od -An -tu1 | tr -d ' ')
  if [ "$CASE" = tamper-usr-zeros ]; then
    [ "$b" = 0 ] || fail "the end of the test image's usr is not zero"
    /usr/bin/python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); at = int(sys.argv[2]); sys.exit(os.lseek(fd, at, os.SEEK_DATA) > at)' \
      "$W/src.img" "$at" 2>/dev/null && fail "the end of the test image's usr is not a hole"
  fi
  printf "$(printf '\\%03o' $(( b ^ 0xff )))" | dd of="$W/src.img" bs=1 seek=$at conv=notrunc status=none
  truncate -s 1G "$W/t.img"
  run 4 --source "$W/src.img" --target "$W/t.img" --erase --definitions "$DEFS"
  grep -q -i "corrupt\|does not match" "$W/err" || fail "no clear message"
  assert_no_version_label "$W/t.img"
  # A blank target is streamed once (no verify pass of its own): the slot
  # goes first and the refusal comes before any table or boot file.
  [ "$(sfdisk -d "$W/t.img" 2>/dev/null | wc -l)" = 0 ] || fail "a table was written for a corrupt source"
  # A target that holds data: with the source checked first, nothing at
  # all is written.
  rm -f "$W/t.img"; truncate -s 1G "$W/t.img"
  printf 'label: gpt\nsize=64M, name=data\n' | sfdisk -q "$W/t.img" >/dev/null || fail "sfdisk"
  head -c 4M /dev/urandom | dd of="$W/t.img" bs=1M seek=1 conv=notrunc status=none
  before="$(sha256sum < "$W/t.img")"
  run 4 --source "$W/src.img" --target "$W/t.img" --erase --definitions "$DEFS" --verify-first
  [ "$(sha256sum < "$W/t.img")" = "$before" ] || fail "something was written over the data"
  ;;
truncated)
  cp --sparse=always "$SRC" "$W/src.img"
  truncate -s $(( $(stat -c %s "$SRC") - 4 * 1024 * 1024 )) "$W/src.img"
  truncate -s 1G "$W/t.img"
  run 4 --source "$W/src.img" --target "$W/t.img" --erase --definitions "$DEFS"
  grep -q "truncated" "$W/err" || fail "no clear message"
  [ "$(sfdisk -d "$W/t.img" 2>/dev/null | wc -l)" = 0 ] || fail "something was written"
  ;;
kill)
  truncate -s 1G "$W/t.img"
  # Each progress report sleeps, so a kill lands inside the step.
  for point in "Copying the boot loader:1" "Copying the system:1" "Copying the system:4" \
               "Copying the system’s verity hashes:1" "Marking the system as installed:1"; do
    step="${point%:*}"; nth="${point##*:}"
    IMPRINT_TEST_SLOW_MS=150 "$DRIVER" --source "$SRC" --target "$W/t.img" --erase \
      --definitions "$DEFS" > "$W/fifo.out" 2>&1 &
    pid=$!
    seen=0
    for _ in $(seq 1 300); do
      seen=$(grep -c "\"step\":\"$step\"" "$W/fifo.out" 2>/dev/null || true)
      [ "$seen" -ge "$nth" ] && break
      kill -0 $pid 2>/dev/null || break
      sleep 0.02
    done
    kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
    echo "killed at '$step' #$seen"
    [ "$seen" -ge "$nth" ] || fail "never reached '$step'"
    if [ "$step" != "Marking the system as installed" ]; then
      assert_no_version_label "$W/t.img"
    fi
  done
  run 0 --source "$SRC" --target "$W/t.img" --erase --definitions "$DEFS"
  check_installed "$W/t.img"
  ;;
cancel)
  truncate -s 1G "$W/t.img"
  run 5 --source "$SRC" --target "$W/t.img" --erase --definitions "$DEFS" --cancel-after-bytes 80000000
  grep -q "cancelled" "$W/err" || fail "no clear message"
  assert_no_version_label "$W/t.img"
  run 0 --source "$SRC" --target "$W/t.img" --erase --definitions "$DEFS"
  check_installed "$W/t.img"
  ;;
encrypt-hook)
  truncate -s 1G "$W/t.img"
  run 0 --source "$SRC" --target "$W/t.img" --erase --definitions "$DEFS" --test-encrypt-hook
  check_installed "$W/t.img"
  rs=$(part start "$W/t.img" $ROOT_TYPE)
  grep -q "\"hook\":\"IMPRINT-TEST-HOOK [0-9]* $(part uuid "$W/t.img" $ROOT_TYPE) $rs " "$W/out" \
    || fail "the hook was not called with the root partition"
  head -c 17 <(extract "$W/t.img" "$rs" 4096 /dev/stdout) | grep -q IMPRINT-TEST-HOOK || fail "hook mark missing"
  # repart made no file system there (Format= was left to the hook).
  ! blkid -p -O "$rs" "$W/t.img" 2>/dev/null | grep -q ext4 || fail "repart formatted the root despite the hook"
  ;;
image-definitions)
  # Without explicit definitions the plan uses those the source image ships
  # in its /usr, read only through dm-verity, and says so. Without
  # device-mapper (this host, perhaps) that is refused, saying what to do.
  truncate -s 1G "$W/t.img"
  run 0 --source "$SRC" --target "$W/t.img" --erase --definitions "$DEFS" --dry-run
  grep -q "'definitions-source': <'caller-directory'>" "$W/out" || fail "plan does not name the caller's definitions"
  grep -q "'definitions-directory': <'$DEFS'>" "$W/out" || fail "plan does not name the directory"
  if dmsetup version >/dev/null 2>&1; then
    run 0 --source "$SRC" --target "$W/t.img" --erase --dry-run
    grep -q "'definitions-source': <'source-image'>" "$W/out" || fail "plan does not name the image's definitions"
    grep -q "'definitions-directory': <'/usr/lib/repart.d'>" "$W/out" || fail "plan does not name /usr/lib/repart.d"
    grep -q "root-x86-64" "$W/out" || fail "the image's root definition was not used"
    ! dmsetup ls 2>/dev/null | grep -q imprint-usr || fail "the dm-verity device was left behind"
  else
    run 1 --source "$SRC" --target "$W/t.img" --erase --dry-run
    grep -q "device-mapper" "$W/err" || fail "no clear message without device-mapper"
    grep -q "explicitly" "$W/err" || fail "the message does not say to pass definitions"
  fi
  ! grep -q imprint-usr /proc/self/mountinfo || fail "a scratch mount was left behind"
  ;;
running)
  # The running system as the source: without usrhash= on the kernel
  # command line (this host) it must be refused, saying why.
  grep -q 'usrhash=' /proc/cmdline && skip "this system has usrhash=; covered by the VM tests"
  run 4 --source @running --inspect
  grep -q "usrhash=" "$W/err" || fail "no clear message"
  ;;
medium-addons)
  # A live stick's ESP: a global add-on in \loader\addons\ (the medium's
  # own: systemd-stub applies it to every UKI it starts from that ESP) and
  # an add-on of the UKI in its .extra.d (belongs to the UKI). The installed
  # disk gets the UKI and its add-on, never the global one: fresh ESP (block
  # copy), existing ESP, existing ESP + new XBOOTLDR.
  export MTOOLS_SKIP_CHECK=1
  S2="$W/live.img"
  cp --sparse=always "$SRC" "$S2" || fail "cannot copy the source"
  SE="$S2@@$(part start "$S2" $ESP_TYPE)"
  UKI=$(mdir -b -i "$SE" ::/EFI/Linux | grep -i '\.efi$' | head -1)
  [ -n "$UKI" ] || fail "the test source has no UKI"
  echo "global add-on" > "$W/live.addon.efi"; echo "UKI add-on" > "$W/uki.addon.efi"
  mmd -i "$SE" ::/loader/addons "$UKI.extra.d" || fail "cannot make the add-on directories"
  mcopy -i "$SE" "$W/live.addon.efi" ::/loader/addons/imprint-live.addon.efi || fail "cannot add the global add-on"
  mcopy -i "$SE" "$W/uki.addon.efi" "$UKI.extra.d/y.addon.efi" || fail "cannot add the UKI's add-on"
  # check_boot_files DISK ESP_OFFSET UKI_FS_OFFSET WHAT
  check_boot_files() {
    ! mdir -b -i "$1@@$2" ::/loader/addons/imprint-live.addon.efi >/dev/null 2>&1 \
      || fail "$4: the medium's global add-on was copied"
    mdir -b -i "$1@@$2" ::/loader/loader.conf >/dev/null || fail "$4: no loader.conf"
    mdir -b -i "$1@@$3" "$UKI" >/dev/null || fail "$4: no UKI"
    rm -f "$W/got"
    mcopy -n -i "$1@@$3" "$UKI.extra.d/y.addon.efi" "$W/got" || fail "$4: the UKI's add-on is missing"
    cmp -s "$W/got" "$W/uki.addon.efi" || fail "$4: the UKI's add-on differs"
    echo "$4: the UKI and its add-on, no global add-on"
  }
  truncate -s 1G "$W/t.img"
  run 0 --source "$S2" --target "$W/t.img" --erase --defer-data-partitions --definitions "$DEFS"
  ESP_AT=$(part start "$W/t.img" $ESP_TYPE)
  check_boot_files "$W/t.img" "$ESP_AT" "$ESP_AT" "new ESP"
  ! mdir -b -i "$W/t.img@@$ESP_AT" ::/loader/addons >/dev/null 2>&1 || fail "new ESP: \\loader\\addons is there"
  mdir -b -i "$SE" ::/loader/addons/imprint-live.addon.efi >/dev/null || fail "the source was changed"
  command -v mkntfs >/dev/null || { echo "PASS: $CASE (new ESP only: mkntfs not installed)"; exit 0; }
  XB=BC13C2FF-59E6-4262-A352-B275FD6F7172
  for LAYOUT in gpt-windows-free gpt-windows-full-esp; do
    /usr/bin/python3 "$HERE/../lib/layouts.py" build "$LAYOUT" --dir "$W" --json > "$W/layout.json" \
      || fail "cannot build layout $LAYOUT"
    T="$W/$LAYOUT.img"
    ESP_AT=$(part start "$T" $ESP_TYPE)
    # Another system's global add-on in the existing ESP is not ours to remove.
    mmd -i "$T@@$ESP_AT" ::/loader 2>/dev/null; mmd -i "$T@@$ESP_AT" ::/loader/addons 2>/dev/null
    mcopy -i "$T@@$ESP_AT" "$W/uki.addon.efi" ::/loader/addons/other.addon.efi || fail "cannot add another add-on"
    run 0 --source "$S2" --target "$T" --use-free-space --defer-data-partitions --definitions "$DEFS"
    UKI_AT=$ESP_AT
    [ "$LAYOUT" = gpt-windows-full-esp ] && UKI_AT=$(part start "$T" $XB)
    check_boot_files "$T" "$ESP_AT" "$UKI_AT" "$LAYOUT"
    mdir -b -i "$T@@$ESP_AT" ::/loader/addons/other.addon.efi >/dev/null || fail "$LAYOUT: another add-on was removed"
    rm -f "$T"
  done
  ;;
fallback)
  # A source whose ESP lacks \EFI\BOOT\BOOTX64.EFI: the install adds it.
  "$MKSRC" --no-fallback "$CACHE/source-nofallback.img" || fail "make-source-image failed"
  S2="$CACHE/source-nofallback.img"
  export MTOOLS_SKIP_CHECK=1
  ! mdir -b -i "$S2@@$(part start "$S2" $ESP_TYPE)" ::/EFI/BOOT/BOOTX64.EFI >/dev/null 2>&1 \
    || fail "the test source has the fallback path"
  truncate -s 1G "$W/t.img"
  run 0 --source "$S2" --target "$W/t.img" --erase --defer-data-partitions --definitions "$DEFS"
  ESP_AT=$(part start "$W/t.img" $ESP_TYPE)
  mcopy -n -i "$W/t.img@@$ESP_AT" ::/EFI/BOOT/BOOTX64.EFI "$W/fb.efi" || fail "no fallback boot loader"
  cmp "$W/fb.efi" /usr/lib/systemd/boot/efi/systemd-bootx64.efi || fail "the fallback is not systemd-boot"
  ;;
product-definitions)
  # The product's own repart.d (top of the source tree, or
  # IMPRINT_PRODUCT_REPART_D): slots sized as it says, root made through
  # the encryption hook (no TPM, no device-mapper here).
  PROD="${IMPRINT_PRODUCT_REPART_D:-$HERE/../../repart.d}"
  [ -d "$PROD" ] || skip "no product repart.d at $PROD"
  truncate -s 4G "$W/t.img"
  run 0 --source "$SRC" --target "$W/t.img" --erase --definitions "$PROD" --test-encrypt-hook
  check_installed "$W/t.img"
  want=$(sed -n 's/^SizeMinBytes=//p' "$PROD"/*usr-b.conf | head -1)
  [ -z "$want" ] || [ "$(part size "$W/t.img" $USR_TYPE 1)" = "$(numfmt --from=iec "$want")" ] \
    || fail "B slot size differs from the definitions ($want)"
  ;;
busy)
  truncate -s 1G "$W/t.img"
  L="$(losetup -f --show "$W/t.img")" || skip "no loop device"
  LOOPS+=("$L")
  /usr/bin/python3 -c 'import os,sys,time; fd=os.open(sys.argv[1], os.O_RDONLY|os.O_EXCL); time.sleep(30)' "$L" &
  holder=$!
  sleep 0.5
  run 6 --source "$SRC" --target "$L" --erase --definitions "$DEFS"
  kill $holder; wait $holder 2>/dev/null
  grep -q "in use" "$W/err" || fail "no clear message"
  ;;
enospc)
  mkdir "$W/mnt"
  # Room for the ESP and part of usr: full in the middle of the system
  # copy. Zeros take no room on the target (holes punched), so the ESP
  # (64 MiB, nearly all free space) needs only a few MiB, and usr has
  # about 38 MiB of data.
  mount -t tmpfs -o size=24M tmpfs "$W/mnt" || skip "cannot mount tmpfs"
  MOUNTS+=("$W/mnt")
  truncate -s 1G "$W/mnt/t.img"
  timeout 120 "$DRIVER" --source "$SRC" --target "$W/mnt/t.img" --erase --definitions "$DEFS" \
    > "$W/out" 2> "$W/err"; rc=$?
  cat "$W/err"
  [ $rc = 124 ] && fail "hang on a full target"
  [ $rc = 3 ] || fail "exit $rc, expected 3 (NoSpace)"
  grep -q "ran out of space" "$W/err" || fail "no clear message"
  grep -q "of the system partition" "$W/err" || fail "did not run out in the middle of the system copy"
  assert_no_version_label "$W/mnt/t.img"
  ;;
*)
  fail "unknown case $CASE"
  ;;
esac
echo "PASS: $CASE"
