#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""VM test: from a live USB stick to a TPM-unlocked installed system.

1. Boots ImprintOS as a live USB stick (tmpfs root, /usr from the stick's
   verity partition, the stick left unchanged) with two blank virtio disks
   and a swtpm. In the live system: `imprintctl install` onto the first disk
   with TPM2 + recovery key, and `imprintctl install --defer-data-partitions`
   (the OEM preload) onto the second.
2. Boots the first disk alone with the same TPM: multi-user, / on dm-crypt
   unlocked by the TPM2 token with no prompt, /usr on dm-verity with the
   expected root hash, B slots "_empty", nothing left for repart to create.
3. Boots it again with a new TPM (its sealed key no longer unseals): the
   recovery key, typed on the console, unlocks it.
4. Boots the OEM disk: the initrd's systemd-repart creates the root, LUKS2
   sealed to this machine's TPM (a systemd-tpm2 token), and it is unlocked
   with no prompt.
Exit 77 (skip) when the host lacks the tools.
"""

import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu  # noqa: E402
from test_boot import GUEST_SCRIPT as CHECKS, assert_secure_boot_policy, check  # noqa: E402

# The live session: tmpfs root, /usr from the stick; the initrd's
# systemd-repart must not grow the stick into an installed system.
LIVE = 'root=tmpfs rd.systemd.mask=systemd-repart.service systemd.show_status=yes'

INSTALL = r'''
set -u
marker "LIVE_ROOT=$(findmnt -no FSTYPE /)"
marker "USRHASH=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^usrhash=//p')"
imprintctl list-disks
imprintctl security
t0=$(date +%s)
imprintctl --no-ask-password install --target /dev/vda --erase --tpm2 \
    --recovery-key-file /run/recovery-key
rc=$?
marker "INSTALL_RC=$rc"
marker "INSTALL_SECONDS=$(( $(date +%s) - t0 ))"
[ $rc = 0 ] || exit 1
marker "RECOVERY_KEY=$(cat /run/recovery-key)"
marker "RECOVERY_KEY_MODE=$(stat -c %a /run/recovery-key)"
sfdisk -d /dev/vda
marker "TARGET_LABELS=$(lsblk -nro PARTLABEL /dev/vda | sed '/^$/d' | paste -sd, -)"
marker "BOOT_ENTRIES=$(ls /sys/firmware/efi/efivars | grep -c '^Boot[0-9A-F]\{4\}-')"
t0=$(date +%s)
imprintctl --no-ask-password install --target /dev/vdb --erase --defer-data-partitions
rc=$?
marker "OEM_RC=$rc"
marker "OEM_SECONDS=$(( $(date +%s) - t0 ))"
marker "OEM_LABELS=$(lsblk -nro PARTLABEL /dev/vdb | sed '/^$/d' | paste -sd, -)"
[ $rc = 0 ]
'''

MODHEX = r'([cbdefghijklnrtuv]{8}-){7}[cbdefghijklnrtuv]{8}'


def assert_installed(r, usrhash, unlock, new_partitions):
    v = r.marker_value
    check(r.rc == 0, 'guest script ran', r)
    check(v('MULTI_USER') == 'active', 'multi-user.target reached', r)
    check(not v('FAILED_UNITS'), f'no failed units ({v("FAILED_UNITS")})', r)
    check(v('ROOT_DM_TYPE') == 'crypt' and v('ROOT_FSTYPE') == 'ext4',
          f'/ is ext4 on dm-crypt ({v("ROOT_SOURCE")})', r)
    check(v('ROOT_BACKING_PARTTYPE') == '4f68bce3-e8cd-4db1-96e7-fbcaf984b709',
          'the LUKS volume is the discoverable root-x86-64 partition', r)
    tokens = (v('ROOT_TOKENS') or '').split(',')
    check('systemd-tpm2' in tokens, f'LUKS2 tokens {tokens}', r)
    if unlock is not None:
        check(v('ROOT_UNLOCK') == unlock, f'root unlocked by {unlock} ({v("ROOT_UNLOCK")})', r)
    check(v('USR_DM_TYPE') == 'VERITY' and v('USR_ROOTHASH') == usrhash,
          f'/usr on dm-verity with the installed root hash {usrhash}', r)
    labels = (v('PARTLABELS') or '').split(',')
    check(labels.count('ImprintOS_1') == 3 and labels.count('_empty') == 3,
          f'A slot "ImprintOS_1" x3, B slot "_empty" x3 ({v("PARTLABELS")})', r)
    n = int(v('REPART_NEW') or 0)
    check(n == new_partitions if new_partitions == 0 else n >= new_partitions,
          f'systemd-repart created {n} partitions at boot (expected {new_partitions})', r)


def main():
    timings = []
    t0 = time.monotonic()
    image = qemu.build_image(1)
    timings.append(('build-image', time.monotonic() - t0))

    workdir = os.path.join(qemu.OUT_DIR, 'test_install')
    shutil.rmtree(workdir, ignore_errors=True)
    m = qemu.Machine(workdir)
    # The live command line comes from a signed UKI add-on on the stick:
    # under Secure Boot systemd-stub ignores one from SMBIOS.
    stick = qemu.Disk.stick(os.path.join(workdir, 'stick.raw'), image, [qemu.addon(LIVE)])
    target = qemu.Disk.blank(os.path.join(workdir, 'target.raw'), '6G')
    oem = qemu.Disk.blank(os.path.join(workdir, 'oem.raw'), '6G')
    ok = False
    try:
        print('1. live stick: install onto /dev/vda (TPM2 + recovery key) and /dev/vdb (OEM)')
        r = m.run([stick, target, oem], INSTALL, name='live-install', timeout=2400)
        r.print_markers()
        v = r.marker_value
        check(v('LIVE_ROOT') == 'tmpfs', 'live session on a tmpfs root', r)
        check(v('INSTALL_RC') == '0', f'imprintctl install finished in {v("INSTALL_SECONDS")} s', r)
        check(re.fullmatch(MODHEX, v('RECOVERY_KEY') or '') is not None, 'a recovery key was made', r)
        check(v('RECOVERY_KEY_MODE') == '600', 'the recovery key file is private (0600)', r)
        check(v('OEM_RC') == '0', f'OEM install (deferred data partitions) in {v("OEM_SECONDS")} s', r)
        check('root' not in (v('OEM_LABELS') or '').split(','),
              f'OEM disk has no root yet ({v("OEM_LABELS")})', r)
        r.check()
        usrhash = v('USRHASH')
        recovery_key = v('RECOVERY_KEY')
        timings.append(('live boot + 2 installs', r.duration))

        print('2. installed disk, same TPM')
        r = m.run([qemu.Disk(target.path)], CHECKS, name='target-tpm', timeout=1500)
        r.print_markers()
        assert_installed(r, usrhash, 'tpm2', 0)
        console = r.console()
        check('Please enter' not in console, 'no passphrase prompt', r)
        assert_secure_boot_policy(r)
        timings.append(('installed boot (TPM unlock)', r.duration))

        print('3. installed disk, new TPM: the recovery key unlocks it')
        m.reset_tpm()
        start = time.monotonic()
        with m.boot([qemu.Disk(target.path)], name='target-recovery', script=CHECKS) as b:
            b.wait_for(r'Please enter recovery key', 900, label='recovery key prompt')
            time.sleep(2)
            b.send(recovery_key + '\n')
            mm = b.wait_for(r'IMPRINT-TEST: END rc=(\d+)', 1200, label='script end')
            b.wait_exit(120)
            r = qemu.Result('target-recovery', int(mm.group(1)), b.markers(), b.log,
                            time.monotonic() - start, b.waits)
        r.print_markers()
        # systemd-cryptsetup logs that it found the TPM2 token whether or
        # not the TPM unseals it: the proof here is the prompt, answered
        # with the recovery key, and the boot that followed.
        check('Please enter recovery key' in r.console(), 'systemd-cryptsetup asked for the recovery key', r)
        assert_installed(r, usrhash, None, 0)
        timings.append(('installed boot (recovery key)', r.duration))

        print('4. OEM disk: first boot creates the root sealed to this TPM')
        r = m.run([qemu.Disk(oem.path)], CHECKS, name='oem-firstboot', timeout=1800)
        r.print_markers()
        assert_installed(r, usrhash, 'tpm2', 1)
        v = r.marker_value
        check(v('ROOT_LUKS_VERSION') == '2', f'the new root is LUKS{v("ROOT_LUKS_VERSION")}', r)
        console = r.console()
        check('root' in (v('PARTLABELS') or '').split(','), f'a "root" partition now ({v("PARTLABELS")})', r)
        check('Please enter' not in console, 'no passphrase prompt: unlocked by the TPM alone', r)
        # systemd-repart sealed it: PCR 7 and the PCR 11 policy key it found
        # in /run/systemd/tpm2-pcr-public-key.pem (the UKI's .pcrpkey).
        assert_secure_boot_policy(r)
        timings.append(('OEM first boot', r.duration))
        ok = True
    except qemu.VMError as e:
        print(f'FAIL: {e}')
        if e.log:
            print(f'console log kept: {e.log}')
            qemu.print_tail(e.log) if hasattr(qemu, 'print_tail') else None
        return 1
    finally:
        print('timings:')
        for what, secs in timings:
            print(f'  {what:32s} {secs:7.1f} s')
    return 0 if ok else 1


if __name__ == '__main__':
    qemu.test_main(main)
