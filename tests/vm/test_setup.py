#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""VM test: first-boot setup of the running system (the OEM path).

Boots ImprintOS as the only disk with a TPM: its first boot creates the root,
LUKS2 sealed to the TPM2 only, the way an OEM preload comes up at the buyer.
  boot 1: GetSetupDefaults says "oem"; `imprintctl setup` sets the computer
          name (hostnamed) and time zone (timedated), creates the user in
          systemd-homed (encrypted LUKS home, recovery key) and adds a
          recovery key to the root; then `homectl activate` with the password
          mounts the encrypted home, the disk recovery key opens the root,
          setup is marked complete.
  boot 2: the root unlocks through the TPM again, the user is still known to
          homed, `homectl authenticate` takes the password and `homectl
          activate` mounts the home; setup is no longer pending; the
          computer name stayed.
Exit 77 (skip) when the host lacks the tools.
"""

import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu  # noqa: E402
from test_boot import check  # noqa: E402

PASSWORD = 'Imprint-Test-Passw0rd'

FIRST = r'''
set -u
export SYSTEMD_PAGER=cat PAGER=cat
imprintctl --json setup-defaults | tee /run/defaults.json
marker "OEM=$(tr -d ' \n' < /run/defaults.json | grep -o '"oem":[a-z]*' | cut -d: -f2)"
marker "PENDING_BEFORE=$(tr -d ' \n' < /run/defaults.json | grep -o '"setup-pending":[a-z]*' | cut -d: -f2)"

printf '%s' '@PASSWORD@' > /run/pw
tz=
[ -e /usr/share/zoneinfo/Europe/Berlin ] && tz='--timezone Europe/Berlin'
marker "TZ_OPTION=${tz:-none}"
t0=$(date +%s)
imprintctl --no-ask-password setup --hostname oem-7 --pretty-hostname 'OEM Seven' $tz \
    --user anna --real-name 'Anna Example' --password-file /run/pw \
    --home-recovery-key-file /run/home-key --disk-recovery-key-file /run/disk-key --disk-size 300M
rc=$?
marker "SETUP_RC=$rc"
marker "SETUP_SECONDS=$(( $(date +%s) - t0 ))"
[ $rc = 0 ] || { journalctl -b -u systemd-homed -o cat | tail -30; exit 1; }

homectl inspect anna
marker "HOME_STORAGE=$(homectl inspect anna | awk -F': *' '$1 ~ /Storage$/ {print $2; exit}')"
marker "HOME_IMAGE=$(ls /home/anna.home >/dev/null 2>&1 && echo yes || echo no)"
PASSWORD="$(cat /run/pw)" homectl activate anna
marker "ACTIVATE_RC=$?"
marker "HOME_MOUNTED=$(findmnt -no FSTYPE /home/anna)"
homectl deactivate anna

root_src=$(findmnt -no SOURCE /)
root_dev=$(cryptsetup status "${root_src#/dev/mapper/}" | awk '$1 == "device:" {print $2}')
tr -d '\n' < /run/disk-key | cryptsetup open --test-passphrase --disable-external-tokens --key-file=- "$root_dev"
marker "DISK_KEY_RC=$?"
marker "ROOT_TOKENS=$(cryptsetup luksDump "$root_dev" | awk '/^Tokens:/ {t=1; next} /^[A-Z]/ {t=0} t && $2 ~ /^systemd/ {print $2}' | paste -sd, -)"
marker "HOSTNAME=$(cat /etc/hostname)"
marker "TIMEZONE=$(timedatectl show -P Timezone)"
marker "SETUP_COMPLETE=$(test -e /var/lib/imprint/setup-complete && echo yes || echo no)"
'''.replace('@PASSWORD@', PASSWORD)

SECOND = r'''
set -u
export SYSTEMD_PAGER=cat PAGER=cat
journalctl -b -o cat | grep -q 'Automatically discovered security TPM2 token unlocks volume' \
    && marker "ROOT_UNLOCK=tpm2" || marker "ROOT_UNLOCK=other"
homectl list
PASSWORD='@PASSWORD@' homectl authenticate anna
marker "AUTH_RC=$?"
PASSWORD='@PASSWORD@' homectl activate anna
marker "ACTIVATE_RC=$?"
marker "HOME_MOUNTED=$(findmnt -no FSTYPE /home/anna)"
homectl deactivate anna
marker "PENDING_AFTER=$(imprintctl --json setup-defaults | tr -d ' \n' | grep -o '"setup-pending":[a-z]*' | cut -d: -f2)"
marker "HOSTNAME=$(cat /etc/hostname)"
'''.replace('@PASSWORD@', PASSWORD)



def main():
    t0 = time.monotonic()
    image = qemu.build_image(1)
    print(f'image: {image} ({time.monotonic() - t0:.0f} s)')
    workdir = os.path.join(qemu.OUT_DIR, 'test_setup')
    shutil.rmtree(workdir, ignore_errors=True)
    m = qemu.Machine(workdir)
    disk = qemu.Disk.overlay(os.path.join(workdir, 'disk.qcow2'), image, size='4G')
    expect = [('multi-user.target', r'IMPRINT-TEST: BEGIN', 900)]
    ok = False
    try:
        print('boot 1: OEM first boot, setup through imprintctl')
        r = m.run([disk], FIRST, name='setup', timeout=1800, expect=expect)
        r.print_markers()
        v = r.marker_value
        check(v('OEM') == 'true', 'GetSetupDefaults: an OEM root (TPM2 only)', r)
        check(v('PENDING_BEFORE') == 'true', 'GetSetupDefaults: setup pending on the first boot', r)
        check(v('SETUP_RC') == '0', f'imprintctl setup finished in {v("SETUP_SECONDS")} s', r)
        check((v('HOME_STORAGE') or '').startswith('luks'), f'homed knows anna, storage {v("HOME_STORAGE")}', r)
        check(v('HOME_IMAGE') == 'yes', 'the LUKS image is /home/anna.home', r)
        check(v('ACTIVATE_RC') == '0' and bool(v('HOME_MOUNTED')),
              f'homectl activate with the password mounts the home ({v("HOME_MOUNTED")})', r)
        check(v('DISK_KEY_RC') == '0', 'the disk recovery key opens the root', r)
        check('systemd-recovery' in (v('ROOT_TOKENS') or '').split(',')
              and 'systemd-tpm2' in (v('ROOT_TOKENS') or '').split(','),
              f'root tokens: {v("ROOT_TOKENS")}', r)
        check(v('HOSTNAME') == 'oem-7', 'computer name set through hostnamed', r)
        check(v('TZ_OPTION') != 'none', 'the image has time zones (tzdata)', r)
        check(v('TIMEZONE') == 'Europe/Berlin', 'time zone set through timedated', r)
        check(v('SETUP_COMPLETE') == 'yes', 'setup marked complete', r)
        r.check()

        print('boot 2: TPM unlock, the user is still there')
        r = m.run([qemu.Disk(disk.path)], SECOND, name='after-setup', timeout=1500, expect=expect)
        r.print_markers()
        v = r.marker_value
        check(v('ROOT_UNLOCK') == 'tpm2', 'root unlocked through the TPM2 token', r)
        check(v('AUTH_RC') == '0', 'homectl authenticate anna takes the password', r)
        check(v('ACTIVATE_RC') == '0' and bool(v('HOME_MOUNTED')),
              f'homectl activate with the password mounts the home ({v("HOME_MOUNTED")})', r)
        check(v('PENDING_AFTER') == 'false', 'setup is no longer pending', r)
        check(v('HOSTNAME') == 'oem-7', 'the computer name stayed', r)
        r.check()
        ok = True
    finally:
        print(f'total {time.monotonic() - t0:.0f} s')
        qemu.drop_disks(workdir, ok)
    print('PASS')
    return 0


if __name__ == '__main__':
    qemu.test_main(main)
