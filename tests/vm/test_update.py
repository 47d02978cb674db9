#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""VM test: system update from version 1 to 2, then a factory reset.

1. Builds ImprintOS versions 1 and 2 and turns version 2 into an update
   release (tests/update/make-update-source: usr, usr-verity, signature, UKI
   under the names data/sysupdate.d expects), put on an ext4 disk.
2. Boot 1 (version 1, first boot creates the B slot and the TPM-sealed root):
   `imprintctl update` installs version 2 from that disk (mounted on
   /var/lib/imprint/updates, the shipped transfers' local source) into the
   B slots with real systemd-sysupdate 257, progress through imprintd.
3. Boot 2: systemd-boot starts version 2: os-release says 2, /usr is the B
   slot on dm-verity with the root hash from usrhash=, the root still
   unlocks by the TPM; update-status shows 1 in the other slot.
4. Boot 2 also adds a recovery key to the root (systemd-cryptenroll) and
   requests a factory reset (`imprintctl factory-reset --yes`): the
   FactoryReset EFI variable, byte for byte as systemd 257 reads it, and the
   root partition marked no-auto so the initrd does not unlock the old root.
5. Boot 3 carries out the reset: systemd-repart in the initrd deletes the
   root and creates a new one (new LUKS UUID, sealed to the TPM, unlocked
   with no prompt), the EFI variable is gone, the old recovery key no longer
   opens the root, and setup is pending again (a first boot).
Exit 77 (skip) when the host lacks the tools.
"""

import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import qemu  # noqa: E402
from test_boot import GUEST_SCRIPT as CHECKS, assert_secure_boot_policy, check  # noqa: E402

SRCDIR = os.path.normpath(os.path.join(HERE, '..', '..'))
MAKE_UPDATE_SOURCE = os.path.join(SRCDIR, 'tests', 'update', 'make-update-source')

UPDATE = CHECKS + r'''
set -u
marker "OS=$(. /usr/lib/os-release; echo "${IMAGE_ID:-}_${IMAGE_VERSION:-}")"
mkdir -p /var/lib/imprint/updates
mount -o ro /dev/vdb /var/lib/imprint/updates || { marker "MOUNT_FAILED"; exit 1; }
ls -l /var/lib/imprint/updates
imprintctl --no-ask-password update-status
marker "STATUS_BEFORE=$(imprintctl --no-ask-password --json update-status | tr -d '\n ')"
imprintctl --no-ask-password check-updates
marker "CHECK=$(imprintctl --no-ask-password --json check-updates | tr -d '\n ')"
t0=$(date +%s)
imprintctl --no-ask-password --json update > /run/update.json
rc=$?
grep -c '"event":"progress"' /run/update.json
marker "UPDATE_RC=$rc"
marker "UPDATE_SECONDS=$(( $(date +%s) - t0 ))"
marker "UPDATE_RESULT=$(tail -1 /run/update.json)"
marker "UPDATE_PROGRESS=$(grep -o '"Progress":[0-9.e-]*' /run/update.json | cut -d: -f2 | paste -sd, -)"
usr_dm=$(basename "$(readlink -f "$(findmnt -no SOURCE /usr)")")
usr_part=$(ls /sys/block/$usr_dm/slaves | head -1)
disk=/dev/$(lsblk -dno PKNAME /dev/$usr_part)
marker "DISK=$disk"
sfdisk -d "$disk"
marker "PARTLABELS_AFTER=$(lsblk -nro PARTLABEL "$disk" | sed '/^$/d' | paste -sd, -)"
marker "UKIS=$(ls /efi/EFI/Linux /boot/EFI/Linux 2>/dev/null | grep -i '\.efi$' | paste -sd, -)"
marker "STATUS_AFTER=$(imprintctl --no-ask-password --json update-status | tr -d '\n ')"
umount /var/lib/imprint/updates
[ $rc = 0 ]
'''

AFTER_UPDATE = CHECKS + r'''
marker "STATUS=$(imprintctl --no-ask-password --json update-status | tr -d '\n ')"
usr_dm=$(basename "$(readlink -f "$usr_src")")
marker "USR_PARTLABEL=$(lsblk -dno PARTLABEL /dev/$(ls /sys/block/$usr_dm/slaves | head -1))"
marker "RESET_INFO=$(imprintctl --no-ask-password --json factory-reset-info | tr -d '\n ')"
marker "PENDING_BEFORE=$(imprintctl --json setup-defaults | tr -d ' \n' | grep -o '"setup-pending":[a-z]*' | cut -d: -f2)"
# A recovery key on the root as it is now: the reset must leave it useless.
key=$(systemd-cryptenroll --recovery-key --unlock-tpm2-device=auto "$root_dev" 2>&1 |
      grep -oE '([cbdefghijklnrtuv]{8}-){7}[cbdefghijklnrtuv]{8}' | head -1)
marker "OLD_RECOVERY_KEY=$key"
printf '%s' "$key" | cryptsetup open --test-passphrase --disable-external-tokens --key-file=- "$root_dev"
marker "OLD_KEY_OPENS_OLD=$?"
imprintctl --no-ask-password factory-reset --yes
rc=$?
marker "RESET_RC=$rc"
marker "RESET_VAR=$(od -An -tx1 /sys/firmware/efi/efivars/FactoryReset-8cf2644b-4b0b-428f-9387-6d876050dc67 | tr -d ' \n')"
# From the disk itself (lsblk's PARTFLAGS is udev's copy from the boot).
marker "ROOT_ATTRS=$(sfdisk -d "$disk" | awk -v d="$root_dev" '$1 == d && match($0, /attrs="[^"]*"/) {print substr($0, RSTART + 7, RLENGTH - 8)}')"
[ $rc = 0 ]
'''

AFTER_RESET = CHECKS + r'''
marker "RESET_VAR_AFTER=$(test -e /sys/firmware/efi/efivars/FactoryReset-8cf2644b-4b0b-428f-9387-6d876050dc67 && echo present || echo gone)"
marker "REPART_RESET=$(journalctl -b -o cat -t systemd-repart | grep -ci 'factory reset')"
journalctl -b -o short-monotonic -t systemd-repart | grep -i -E 'factory|Removing|Adding|EFI variable'
# From the disk itself (lsblk's PARTFLAGS is udev's copy from the boot).
marker "ROOT_ATTRS=$(sfdisk -d "$disk" | awk -v d="$root_dev" '$1 == d && match($0, /attrs="[^"]*"/) {print substr($0, RSTART + 7, RLENGTH - 8)}')"
printf '%s' '@OLDKEY@' | cryptsetup open --test-passphrase --disable-external-tokens --key-file=- "$root_dev"
marker "OLD_KEY_OPENS_NEW=$?"
marker "PENDING_AFTER=$(imprintctl --json setup-defaults | tr -d ' \n' | grep -o '"setup-pending":[a-z]*' | cut -d: -f2)"
'''


def make_release_disk(image2, workdir):
    release = os.path.join(workdir, 'release')
    shutil.rmtree(release, ignore_errors=True)
    r = subprocess.run([MAKE_UPDATE_SOURCE, image2, release], capture_output=True, text=True)
    if r.returncode != 0:
        raise qemu.VMError(f'make-update-source failed: {r.stderr}')
    print(f'release {r.stdout.strip()}: {sorted(os.listdir(release))}')
    size = sum(os.path.getsize(os.path.join(release, f)) for f in os.listdir(release))
    disk = os.path.join(workdir, 'release.ext4')
    if os.path.exists(disk):
        os.unlink(disk)
    with open(disk, 'wb') as f:
        f.truncate(size + (256 << 20))
    subprocess.run(['mkfs.ext4', '-q', '-d', release, disk], check=True)
    shutil.rmtree(release)
    return disk


def gpt_bits(attrs):
    """'GUID:59,63' (sfdisk -d attrs=) -> {'59', '63'}."""
    return {b for part in (attrs or '').split() for b in part.replace('GUID:', '').split(',') if b}


def main():
    t0 = time.monotonic()
    image1 = qemu.build_image(1)
    image2 = qemu.build_image(2)
    print(f'images: {image1} {image2} ({time.monotonic() - t0:.0f}s)')

    workdir = os.path.join(qemu.OUT_DIR, 'test_update')
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    release = qemu.Disk(make_release_disk(image2, workdir), fmt='raw', readonly=True)
    m = qemu.Machine(workdir)
    disk = qemu.Disk.overlay(os.path.join(workdir, 'disk.qcow2'), image1, size='4G')
    expect = [('firmware+loader: kernel starts', r'Linux version', 300),
              ('multi-user.target', r'IMPRINT-TEST: BEGIN', 900)]
    ok = False
    try:
        print('boot 1 (version 1): update')
        r = m.run([disk, release], UPDATE, name='update', timeout=1800, expect=expect)
        r.print_markers(400)
        v = r.marker_value
        check(v('OS') == 'ImprintOS_1', 'version 1 runs', r)
        check(v('UPDATE_RC') == '0', 'imprintctl update succeeded', r)
        check('"version":"2"' in (v('UPDATE_RESULT') or '') and '"reboot-required":true' in v('UPDATE_RESULT'),
              f'version 2 installed, restart required ({v("UPDATE_RESULT")})', r)
        progress = [float(p) for p in (v('UPDATE_PROGRESS') or '').split(',') if p]
        check(progress == sorted(progress) and progress and progress[-1] == 1.0,
              f'progress only grows, ends at 100% ({progress})', r)
        labels = (v('PARTLABELS_AFTER') or '').split(',')
        check(labels.count('ImprintOS_1') == 3 and labels.count('ImprintOS_2') == 3 and '_empty' not in labels,
              f'B slots now hold version 2 ({v("PARTLABELS_AFTER")})', r)
        check('ImprintOS_2+3-0.efi' in (v('UKIS') or ''), f'UKI with boot counting in the ESP ({v("UKIS")})', r)
        check('"pending-version":"2"' in (v('STATUS_AFTER') or ''), 'update-status: 2 is pending', r)
        # The first boot's systemd-repart sealed the root to PCR 7 and the
        # PCR 11 policy signed by the image's key.
        assert_secure_boot_policy(r)
        r.check()
        token1, pcr11_1 = v('TPM2_TOKEN_SHA'), v('PCR11')

        print('boot 2 (version 2): checks, factory reset request')
        r2 = m.run([disk], AFTER_UPDATE, name='version2', timeout=1800, expect=expect)
        r2.print_markers(400)
        v = r2.marker_value
        check(v('OS') == 'ImprintOS_2', 'version 2 runs (os-release)', r2)
        check(v('USR_DM_TYPE') == 'VERITY' and v('USR_ROOTHASH') == v('USRHASH_CMDLINE'),
              f'/usr on dm-verity with the root hash from usrhash= ({v("USRHASH_CMDLINE")})', r2)
        check(v('USR_PARTLABEL') == 'ImprintOS_2', f'/usr comes from a version 2 slot ({v("USR_PARTLABEL")})', r2)
        check(v('ROOT_UNLOCK') == 'tpm2', 'the root still unlocks by the TPM', r2)
        # The point of the signed policy: version 2's UKI measures to another
        # PCR 11, its signature (same PCR key) satisfies the same token.
        check(v('PCR11') and v('PCR11') != pcr11_1, f'PCR 11 differs from version 1 ({pcr11_1} -> {v("PCR11")})', r2)
        check(v('TPM2_TOKEN_SHA') == token1, f'the TPM2 token is unchanged: no re-seal ({token1})', r2)
        assert_secure_boot_policy(r2)
        check('"current-version":"2"' in (v('STATUS') or '') and '"other-version":"1"' in v('STATUS'),
              'update-status: running 2, other slot 1', r2)
        check('"supported":true' in (v('RESET_INFO') or ''), 'factory reset supported', r2)
        check(v('RESET_RC') == '0', 'factory reset requested', r2)
        check(v('RESET_VAR') == '07000000310000' + '00', f'FactoryReset EFI variable written ({v("RESET_VAR")})', r2)
        check(v('PENDING_BEFORE') == 'false', 'setup not pending before the reset', r2)
        old_key = v('OLD_RECOVERY_KEY') or ''
        check(len(old_key) == 71 and v('OLD_KEY_OPENS_OLD') == '0', f'a recovery key opens the old root ({old_key})', r2)
        check('63' in gpt_bits(v('ROOT_ATTRS')),
              f'the old root partition is marked no-auto until the reset ({v("ROOT_ATTRS")})', r2)
        r2.check()
        old_luks = v('ROOT_LUKS_UUID')

        print('boot 3: the factory reset')
        r3 = m.run([disk], AFTER_RESET.replace('@OLDKEY@', old_key), name='reset', timeout=1800, expect=expect)
        r3.print_markers(400)
        v = r3.marker_value
        check(v('MULTI_USER') == 'active' and not v('FAILED_UNITS'),
              f'multi-user.target, no failed units ({v("FAILED_UNITS")})', r3)
        check(int(v('REPART_RESET') or 0) >= 1, 'systemd-repart in the initrd applied the factory reset', r3)
        check(v('RESET_VAR_AFTER') == 'gone', 'the FactoryReset EFI variable is gone (no second reset)', r3)
        check(v('ROOT_DM_TYPE') == 'crypt' and v('ROOT_FSTYPE') == 'ext4', f'/ is ext4 on dm-crypt ({v("ROOT_SOURCE")})', r3)
        check(v('ROOT_LUKS_UUID') and v('ROOT_LUKS_UUID') != old_luks,
              f'a new root: LUKS UUID {old_luks} -> {v("ROOT_LUKS_UUID")}', r3)
        check('systemd-tpm2' in (v('ROOT_TOKENS') or '').split(',') and v('ROOT_UNLOCK') == 'tpm2',
              f'the new root is sealed to the TPM and was unlocked by it ({v("ROOT_TOKENS")})', r3)
        check('Please enter' not in r3.console(), 'no passphrase prompt', r3)
        check('63' not in gpt_bits(v('ROOT_ATTRS')), f'the new root has no no-auto flag ({v("ROOT_ATTRS")})', r3)
        check(v('OLD_KEY_OPENS_NEW') not in (None, '0'), f'the old recovery key no longer opens the root (rc {v("OLD_KEY_OPENS_NEW")})', r3)
        check(v('PENDING_AFTER') == 'true', 'setup is pending again', r3)
        check(v('OS') == 'ImprintOS_2', 'still version 2 (the reset keeps the OS)', r3)
        r3.check()
        ok = True
    finally:
        print(f'total {time.monotonic() - t0:.0f}s')
        qemu.drop_disks(workdir, ok, ('.qcow2', '.ext4'))
    print('PASS')
    return 0


if __name__ == '__main__':
    qemu.test_main(main)
