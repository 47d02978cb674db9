#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""VM test: first-boot setup from the live session (the live-install path).

  boot 1: ImprintOS as a live USB stick (tmpfs root) with a blank disk and a
          TPM. `imprintctl install` puts the OS on the disk (TPM2 + recovery
          key); `imprintctl setup --target disk:/dev/vda`, unlocked with the
          recovery key the install just printed, writes the computer name,
          time zone and keymap into the installed root and creates the user
          with the live system's systemd-homed, its encrypted home image on
          the installed disk. Afterwards nothing of the target is left mounted
          or open.
  boot 2: the installed disk alone, same TPM: the root unlocks through the
          TPM2, setup does not run (it is complete), the computer name, time
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
from test_install import LIVE  # noqa: E402

PASSWORD = 'Imprint-Live-Passw0rd'

LIVE_SCRIPT = r'''
set -u
export SYSTEMD_PAGER=cat PAGER=cat
marker "LIVE_ROOT=$(findmnt -no FSTYPE /)"
imprintctl --no-ask-password install --target /dev/vda --erase --tpm2 \
    --recovery-key-file /run/recovery-key
rc=$?
marker "INSTALL_RC=$rc"
[ $rc = 0 ] || exit 1

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
# homed's own account of the home, for when the checks above fail.
journalctl -b -u systemd-homed -o cat | head -40
'''.replace('@PASSWORD@', PASSWORD)


def main():
    t0 = time.monotonic()
    image = qemu.build_image(1)
    print(f'image: {image} ({time.monotonic() - t0:.0f} s)')
    workdir = os.path.join(qemu.OUT_DIR, 'test_live_setup')
    shutil.rmtree(workdir, ignore_errors=True)
    m = qemu.Machine(workdir)
    stick = qemu.Disk.overlay(os.path.join(workdir, 'stick.qcow2'), image, interface='usb')
    target = qemu.Disk.blank(os.path.join(workdir, 'target.raw'), '6G')
    ok = False
    try:
        print('boot 1: live stick: install onto /dev/vda, then set it up from the live session')
        r = m.run([stick, target], LIVE_SCRIPT, name='live-setup', timeout=2400, cmdline_extra=LIVE)
        r.print_markers()
        v = r.marker_value
        check(v('LIVE_ROOT') == 'tmpfs', 'live session on a tmpfs root', r)
        check(v('INSTALL_RC') == '0', 'imprintctl install finished', r)
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

        print('boot 2: the installed disk: no setup, the user logs in')
        r = m.run([qemu.Disk(target.path)], TARGET_SCRIPT, name='target', timeout=1500)
        r.print_markers()
        v = r.marker_value
        check(v('ROOT_UNLOCK') == 'tpm2', 'root unlocked through the TPM2 token', r)
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
