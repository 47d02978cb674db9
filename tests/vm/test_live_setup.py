#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""VM test: first-boot setup from the live session (the live-install path).

  boot 1: the ImprintOS live stick (tests/vm/build-image --variant live: the
          gui image plus the live UKI add-on in its ESP) as a USB stick with a
          blank disk, a TPM and a VGA card: the root is an empty btrfs on
          zram made by the initrd, the installer comes up full screen in the
          kiosk (its first page is saved as out/test_live_setup/live-
          installer.png), the stick is listed as unusable. `imprintctl
          install` puts the OS on the disk (TPM2 + recovery key; the
          installed ESP has the UKI, not the stick's add-on); `imprintctl setup --target disk:/dev/vda`, unlocked with the
          recovery key the install just printed, writes the computer name,
          time zone and keymap into the installed root and creates the user
          with the live system's systemd-homed, its encrypted home image on
          the installed disk. Afterwards nothing of the target is left mounted
          or open.
  boot 2: the installed disk alone, same TPM: no live settings (not
          imprint.live, root not in RAM), /usr verity is the stick's root
          hash, no failed units, the root unlocks through the TPM2, setup does not run (it is complete), the computer name, time
          zone and keymap are the ones chosen, and the user is known to the
          installed system's homed: `homectl authenticate` and `homectl
          activate` take the password.
Exit 77 (skip) when the host lacks the tools.
"""

import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu  # noqa: E402
from test_boot import check  # noqa: E402
from test_setup_gui import wait_for_page  # noqa: E402

PASSWORD = 'Imprint-Live-Passw0rd'

LIVE_SCRIPT = r'''
set -u
export SYSTEMD_PAGER=cat PAGER=cat
marker "LIVE_ROOT=$(findmnt -no FSTYPE,SOURCE / | tr -s ' ' ,)"
marker "LIVE_CMDLINE=$(tr ' ' '\n' < /proc/cmdline | grep -cx imprint.live)"
marker "USRHASH=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^usrhash=//p')"
# The kiosk comes up on its own with the installer: wait for the app.
app=
for _ in $(seq 1 300); do
    app=$(pgrep -x imprint | head -1)
    [ -n "$app" ] && break
    sleep 1
done
marker "APP_CMDLINE=$(tr '\0' ' ' < /proc/${app:-0}/cmdline 2>/dev/null)"
marker "APP_USER=$(ps -o user:32= -p "${app:-0}" 2>/dev/null)"
marker "ORCA=$(command -v orca >/dev/null && echo yes || echo no)"
# The stick the system runs from is listed, and not usable.
imprintctl --json list-disks > /run/disks.json
marker "STICK_USABLE=$(python3 -c '
import json, sys
for d in json.load(open("/run/disks.json")):
    if d.get("device") == "/dev/sda":
        print(str(d.get("usable")).lower(), "; ".join(d.get("reasons", [])), sep=",")
')"
marker "APP_STARTED"
read -r -t 600 go < /dev/ttyS0 || go=timeout
marker "HOST_SAID=$go"
imprintctl --no-ask-password install --target /dev/vda --erase --tpm2 \
    --recovery-key-file /run/recovery-key
rc=$?
marker "INSTALL_RC=$rc"
[ $rc = 0 ] || exit 1
esp=$(sfdisk -d /dev/vda | awk '/type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B/ {print $1}')
marker "TARGET_UKIS=$(mdir -b -i "$esp" ::/EFI/Linux 2>/dev/null | grep -c '\.efi$')"
marker "TARGET_ADDONS=$(mdir -b -i "$esp" ::/loader/addons >/dev/null 2>&1 && echo yes || echo no)"

printf '%s' '@PASSWORD@' > /run/pw
imprintctl --json setup-defaults --target disk:/dev/vda | tee /run/defaults.json
marker "PENDING_BEFORE=$(tr -d ' \n' < /run/defaults.json | grep -o '"setup-pending":[a-z]*' | cut -d: -f2)"
t0=$(date +%s)
imprintctl --no-ask-password setup --target disk:/dev/vda --unlock-key-file /run/recovery-key \
    --locale de_DE.UTF-8 --hostname live-9 --pretty-hostname 'Live Nine' --timezone Europe/Berlin --keymap de \
    --user bert --real-name 'Bert Example' --password-file /run/pw \
    --home-recovery-key-file /run/home-key --disk-size 300M
rc=$?
marker "SETUP_RC=$rc"
marker "SETUP_SECONDS=$(( $(date +%s) - t0 ))"
[ $rc = 0 ] || { journalctl -b -u systemd-homed -u imprintd -o cat | tail -40; exit 1; }
marker "LEFT_MOUNTS=$(findmnt -rno TARGET | grep -c '^/run/imprint/target-')"
marker "LEFT_UNITS=$(systemctl list-units --all --no-legend 'run-imprint-target*.mount' | wc -l)"
marker "LEFT_DM=$(ls /dev/mapper | grep -c '^imprint-target-')"
# The live system forgets the home again: it lives on the installed disk.
marker "LIVE_KNOWS_BERT=$(homectl inspect bert >/dev/null 2>&1 && echo yes || echo no)"
# What the installed system's homed will find: its signing key pair and
# the signed record of the home.
root_part=$(sfdisk -d /dev/vda | awk '/type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709/ {print $1}')
tr -d '\n' < /run/recovery-key | cryptsetup open --key-file=- "$root_part" peek && {
    mkdir -p /run/peek && mount -o ro /dev/mapper/peek /run/peek
    marker "TARGET_HOMED_DIR=$(ls /run/peek/var/lib/systemd/home | paste -sd, -)"
    marker "TARGET_RECORD_SIGNED=$(grep -c '"signature"' /run/peek/var/lib/systemd/home/bert.identity 2>/dev/null)"
    umount /run/peek; cryptsetup close peek
}
'''.replace('@PASSWORD@', PASSWORD)

TARGET_SCRIPT = r'''
set -u
export SYSTEMD_PAGER=cat PAGER=cat
marker "ROOT=$(findmnt -no FSTYPE,SOURCE / | tr -s ' ' ,)"
marker "LIVE_CMDLINE=$(tr ' ' '\n' < /proc/cmdline | grep -cx imprint.live)"
marker "USRHASH=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^usrhash=//p')"
marker "VERITY_USR=$(veritysetup status usr 2>/dev/null | sed -n 's/^ *root hash: *//p')"
journalctl -b -o cat | grep -q 'Automatically discovered security TPM2 token unlocks volume' \
    && marker "ROOT_UNLOCK=tpm2" || marker "ROOT_UNLOCK=other"
marker "PENDING=$(imprintctl --json setup-defaults | tr -d ' \n' | grep -o '"setup-pending":[a-z]*' | cut -d: -f2)"
marker "SETUP_UNIT=$(systemctl is-active imprint-setup.service 2>/dev/null || true)"
marker "HOSTNAME=$(cat /etc/hostname)"
marker "PRETTY=$(hostnamectl --pretty 2>/dev/null || true)"
marker "TIMEZONE=$(timedatectl show -P Timezone)"
marker "KEYMAP=$(sed -n 's/^KEYMAP=//p' /etc/vconsole.conf)"
marker "LOCALE=$(localectl status | sed -n 's/.*LANG=//p' | head -1)"
homectl list
marker "HOME_IMAGE=$(ls /home/bert.home >/dev/null 2>&1 && echo yes || echo no)"
PASSWORD='@PASSWORD@' homectl authenticate bert
marker "AUTH_RC=$?"
PASSWORD='@PASSWORD@' homectl activate bert
marker "ACTIVATE_RC=$?"
marker "HOME_MOUNTED=$(findmnt -no FSTYPE /home/bert)"
# The UID the record brought along (homed's range), and who owns the home.
marker "USER_UID=$(id -u bert 2>/dev/null)"
marker "HOME_OWNER=$(stat -c %u /home/bert 2>/dev/null)"
homectl deactivate bert
systemctl --failed --no-legend
marker "FAILED_UNITS=$(systemctl --failed --no-legend | wc -l)"
# homed's own account of the home, for when the checks above fail.
journalctl -b -u systemd-homed -o cat | head -40
'''.replace('@PASSWORD@', PASSWORD)


def main():
    t0 = time.monotonic()
    image = qemu.build_image(1, variant='live')
    print(f'live stick: {image} ({time.monotonic() - t0:.0f} s)')
    workdir = os.path.join(qemu.OUT_DIR, 'test_live_setup')
    shutil.rmtree(workdir, ignore_errors=True)
    m = qemu.Machine(workdir, memory=3072)
    stick = qemu.Disk.overlay(os.path.join(workdir, 'stick.qcow2'), image, interface='usb')
    target = qemu.Disk.blank(os.path.join(workdir, 'target.raw'), '6G')
    ok = False
    try:
        print('boot 1: live stick: install onto /dev/vda, then set it up from the live session')
        start = time.monotonic()
        with m.boot([stick, target], name='live-setup', script=LIVE_SCRIPT, display=True) as b:
            b.wait_for(r'IMPRINT-TEST: BEGIN', 900, label='multi-user.target')
            b.wait_for(r'IMPRINT-TEST: APP_STARTED', 600, label='installer started')
            colours, share, png = wait_for_page(b, workdir, name='live-installer')
            b.send('GO\n')
            m_end = b.wait_for(r'IMPRINT-TEST: END rc=(\d+)', 2400, label='script end')
            b.wait_exit(120)
            r = qemu.Result('live-setup', int(m_end.group(1)), b.markers(), b.log,
                            time.monotonic() - start, b.waits)
        r.print_markers()
        print(f'  screen: {colours} colours, {share:.1%} of it drawn on; {png}')
        v = r.marker_value
        check(v('LIVE_ROOT') == 'btrfs,/dev/zram0', f'live session on btrfs in RAM ({v("LIVE_ROOT")})', r)
        check(v('LIVE_CMDLINE') == '1', 'imprint.live came from the stick\'s add-on', r)
        check((v('APP_CMDLINE') or '').split()[1:] == ['--kiosk'],
              f'the kiosk runs the installer ({v("APP_CMDLINE")})', r)
        check(v('APP_USER') == 'imprint-setup', f'as the kiosk account ({v("APP_USER")})', r)
        check(v('ORCA') == 'yes', 'the live image has Orca', r)
        check(colours >= 32 and share >= 0.01,
              f'the screen shows a drawn page ({colours} colours, {share:.1%})', r)
        check((v('STICK_USABLE') or '').startswith('false,'),
              f'the stick is listed, not usable ({v("STICK_USABLE")})', r)
        check(v('INSTALL_RC') == '0', 'imprintctl install finished', r)
        check(v('TARGET_UKIS') not in (None, '', '0') and v('TARGET_ADDONS') == 'no',
              f'the installed ESP has the UKI ({v("TARGET_UKIS")}), not the stick\'s add-on '
              f'({v("TARGET_ADDONS")})', r)
        check(v('PENDING_BEFORE') == 'true', 'GetSetupDefaults(disk:/dev/vda): setup pending', r)
        check(v('SETUP_RC') == '0', f'imprintctl setup --target disk:/dev/vda finished in {v("SETUP_SECONDS")} s', r)
        check(v('LEFT_MOUNTS') == '0' and v('LEFT_UNITS') == '0' and v('LEFT_DM') == '0',
              f'nothing of the target left mounted or open (mounts {v("LEFT_MOUNTS")}, '
              f'units {v("LEFT_UNITS")}, dm {v("LEFT_DM")})', r)
        check(v('LIVE_KNOWS_BERT') == 'no', 'the live system forgot the home again', r)
        check(v('TARGET_RECORD_SIGNED') not in (None, '', '0'),
              f'the installed system holds the signed record ({v("TARGET_HOMED_DIR")})', r)
        r.check()
        t1 = r.duration
        usrhash = v('USRHASH')

        print('boot 2: the installed disk: no setup, the user logs in')
        r = m.run([qemu.Disk(target.path)], TARGET_SCRIPT, name='target', timeout=1500)
        r.print_markers()
        v = r.marker_value
        check(v('ROOT_UNLOCK') == 'tpm2', 'root unlocked through the TPM2 token', r)
        check(v('LIVE_CMDLINE') == '0' and not (v('ROOT') or '').startswith('btrfs,/dev/zram'),
              f'no live settings on the installed disk (root {v("ROOT")})', r)
        check(bool(usrhash) and v('USRHASH') == usrhash and v('VERITY_USR') == usrhash,
              f'/usr is verity with the stick\'s root hash ({v("VERITY_USR")})', r)
        check(v('FAILED_UNITS') == '0', f'no failed units ({v("FAILED_UNITS")})', r)
        check(v('PENDING') == 'false', 'setup is not pending on the installed system', r)
        check(v('SETUP_UNIT') != 'active', f'imprint-setup.service did not run ({v("SETUP_UNIT")})', r)
        check(v('HOSTNAME') == 'live-9', f'computer name from the live session ({v("HOSTNAME")})', r)
        check(v('PRETTY') == 'Live Nine', f'pretty name ({v("PRETTY")})', r)
        check(v('TIMEZONE') == 'Europe/Berlin', f'time zone ({v("TIMEZONE")})', r)
        check(v('KEYMAP') == 'de', f'console keymap ({v("KEYMAP")})', r)
        check(v('LOCALE') == 'de_DE.UTF-8', f'language ({v("LOCALE")})', r)
        check(v('HOME_IMAGE') == 'yes', 'the home image is /home/bert.home on the installed disk', r)
        check(v('AUTH_RC') == '0', 'homectl authenticate bert takes the password', r)
        check(v('ACTIVATE_RC') == '0' and bool(v('HOME_MOUNTED')),
              f'homectl activate mounts the encrypted home ({v("HOME_MOUNTED")})', r)
        uid = v('USER_UID') or ''
        check(uid.isdigit() and 60001 <= int(uid) <= 60513 and v('HOME_OWNER') == uid,
              f'bert has UID {uid} from homed\'s range, owner of his home ({v("HOME_OWNER")})', r)
        r.check()
        print(f'timings: live boot + install + setup {t1:.0f} s, installed boot {r.duration:.0f} s')
        ok = True
    finally:
        print(f'total {time.monotonic() - t0:.0f} s')
        qemu.drop_disks(workdir, ok, ('.qcow2', '.raw'))
    print('PASS')
    return 0


if __name__ == '__main__':
    qemu.test_main(main)
