#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""VM test: ImprintOS boots as an image-based OS.

Boots the built image (a qcow2 overlay grown to 4 GiB) as the only disk, with
OVMF and a swtpm, twice. Asserts over the serial console:
  boot 1: systemd-repart in the initrd created the B slot ("_empty") and the
          root (LUKS2 + ext4), / is dm-crypt unlocked through the systemd-tpm2
          token without any passphrase prompt, /usr is erofs on dm-verity with
          the root hash from usrhash=, the system reached multi-user.target;
  boot 2: the same, repart changed nothing (same LUKS UUID), TPM unlock again.
Prints the time of each stage. Exit 77 (skip) when the host lacks the tools.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu  # noqa: E402

GUEST_SCRIPT = r'''
set -u
marker "SYSTEM_STATE=$(systemctl is-system-running)"
marker "MULTI_USER=$(systemctl is-active multi-user.target)"
marker "FAILED_UNITS=$(systemctl list-units --failed --plain --no-legend | awk '{print $1}' | paste -sd, -)"

root_src=$(findmnt -no SOURCE /)
root_dm=${root_src#/dev/mapper/}
marker "ROOT_SOURCE=$root_src"
marker "ROOT_FSTYPE=$(findmnt -no FSTYPE /)"
marker "ROOT_DM_TYPE=$(lsblk -dno TYPE "$root_src")"
root_dev=$(cryptsetup status "$root_dm" | awk '$1 == "device:" {print $2}')
marker "ROOT_BACKING=$root_dev"
marker "ROOT_BACKING_PARTTYPE=$(lsblk -dno PARTTYPE "$root_dev")"
marker "ROOT_LUKS_UUID=$(cryptsetup luksUUID "$root_dev")"
marker "ROOT_LUKS_VERSION=$(cryptsetup luksDump "$root_dev" | awk '$1 == "Version:" {print $2; exit}')"
marker "ROOT_TOKENS=$(cryptsetup luksDump "$root_dev" | awk '/^Tokens:/ {t=1; next} /^[A-Z]/ {t=0} t && $2 ~ /^systemd/ {print $2}' | paste -sd, -)"
# The systemd-tpm2 token's binding: PCRs, signed-policy PCRs, the policy key
# (sha256 of its DER) and a hash of the whole token (unchanged = not resealed).
for id in $(cryptsetup luksDump "$root_dev" | awk '/^Tokens:/ {t=1; next} /^[A-Z]/ {t=0} t && $2 == "systemd-tpm2" {sub(":", "", $1); print $1}'); do
    tok=$(cryptsetup token export --token-id "$id" "$root_dev" | tr -d ' \n')
    marker "TPM2_PCRS=$(printf '%s' "$tok" | grep -o '"tpm2-pcrs":\[[0-9,]*\]' | grep -o '\[.*\]')"
    marker "TPM2_PUBKEY_PCRS=$(printf '%s' "$tok" | grep -o '"tpm2_pubkey_pcrs":\[[0-9,]*\]' | grep -o '\[.*\]')"
    marker "TPM2_PUBKEY=$(printf '%s' "$tok" | grep -o '"tpm2_pubkey":"[^"]*"' | cut -d'"' -f4 | base64 -d 2>/dev/null |
        openssl pkey -pubin -outform DER 2>/dev/null | sha256sum | cut -c1-64)"
    marker "TPM2_TOKEN_SHA=$(printf '%s' "$tok" | sha256sum | cut -c1-16)"
done
# Secure Boot as the firmware reports it (the EFI variable's data byte) and
# as bootctl says it; the UKI's PCR 11 signature handed over by systemd-stub.
marker "SECURE_BOOT=$(od -An -tu1 -j4 -N1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c 2>/dev/null | tr -d ' ')"
marker "BOOTCTL_SB=$(bootctl status 2>/dev/null | sed -n 's/^ *Secure Boot: *//p' | head -1)"
marker "PCR_SIGNATURE=$(test -s /run/systemd/tpm2-pcr-signature.json && echo yes || echo no)"
marker "PCR11=$(tpm2_pcrread sha256:11 2>/dev/null | awk '$1 == "11:" {print $2}')"
# How the root was unlocked: systemd-cryptsetup logs the token it used.
if journalctl -b -o cat | grep -q 'Automatically discovered security TPM2 token unlocks volume'; then
    marker "ROOT_UNLOCK=tpm2"
else
    marker "ROOT_UNLOCK=other"
    journalctl -b -o cat | grep -i 'cryptsetup\|tpm2' | tail -20
fi
marker "REPART_NEW=$(journalctl -b -o cat -t systemd-repart | grep -c 'Adding new partition')"

usr_src=$(findmnt -no SOURCE /usr)
usr_dm=${usr_src#/dev/mapper/}
marker "USR_SOURCE=$usr_src"
marker "USR_FSTYPE=$(findmnt -no FSTYPE /usr)"
marker "USR_DM_TYPE=$(veritysetup status "$usr_dm" | awk '$1 == "type:" {print $2}')"
marker "USR_ROOTHASH=$(veritysetup status "$usr_dm" | awk '$1 == "root" && $2 == "hash:" {print $3}')"
marker "USRHASH_CMDLINE=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^usrhash=//p')"

disk=/dev/$(lsblk -dno PKNAME "$root_dev")
lsblk -o NAME,SIZE,PARTTYPENAME,PARTLABEL "$disk"
marker "PARTLABELS=$(lsblk -nro PARTLABEL "$disk" | sed '/^$/d' | paste -sd, -)"
marker "OS=$(. /usr/lib/os-release; echo "${IMAGE_ID:-}_${IMAGE_VERSION:-}")"
marker "IMPRINT_DBUS_POLICY=$(test -e /usr/share/dbus-1/system.d/dev.imprint.Imprint1.conf && echo yes || echo no)"
marker "IMPRINTCTL=$(command -v imprintctl || echo none)"
marker "TPM=$(test -c /dev/tpmrm0 && echo yes || echo no)"
# Boot stages (systemd-analyze refuses while this unit is still starting).
ird=$(systemctl show -P InitRDTimestampMonotonic); us=$(systemctl show -P UserspaceTimestampMonotonic)
mu=$(systemctl show -P ActiveEnterTimestampMonotonic multi-user.target)
ms() { awk -v a="$1" 'BEGIN { printf "%.1fs", a / 1000000 }'; }
marker "STAGES=kernel $(ms "$ird") initrd $(ms $((us - ird))) userspace $(ms $((mu - us)))"
# systemd-repart in the initrd: from its start to its end (the main system
# runs it once more, later).
marker "REPART_INITRD=$(journalctl -b -o short-monotonic -u systemd-repart.service |
    awk 'match($0, /^\[ *[0-9]+\.[0-9]+\]/) { t = substr($0, RSTART + 1, RLENGTH - 2) + 0; if (!s) s = t }
         /Finished|Deactivated|Failed/ { printf "%.1fs", t - s; exit }')"
'''


def check(cond, what, result):
    if not cond:
        raise qemu.VMError(f'{result.name}: {what}', result.log)
    print(f'  ok: {what}')


PCR_PUBKEY = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'keys', 'pcr-test-only.pub.pem')


def pcr_pubkey_sha():
    """sha256 of the DER of the test PCR policy key (what TPM2_PUBKEY says)."""
    der = subprocess.run(['openssl', 'pkey', '-pubin', '-in', PCR_PUBKEY, '-outform', 'DER'],
                         check=True, stdout=subprocess.PIPE).stdout
    return hashlib.sha256(der).hexdigest()


def assert_secure_boot_policy(r):
    """Secure Boot on; the root's TPM2 token bound to PCR 7 and to the PCR 11
    policy signed by the test image's PCR key."""
    v = r.marker_value
    check(v('SECURE_BOOT') == '1' and (v('BOOTCTL_SB') or '').startswith('enabled'),
          f'Secure Boot is on (SecureBoot={v("SECURE_BOOT")}, bootctl: {v("BOOTCTL_SB")})', r)
    check(v('PCR_SIGNATURE') == 'yes', 'systemd-stub handed over the UKI\'s PCR 11 signature', r)
    check(v('TPM2_PCRS') == '[7]', f'TPM2 token bound to PCR 7 ({v("TPM2_PCRS")})', r)
    check(v('TPM2_PUBKEY_PCRS') == '[11]', f'TPM2 token bound to a signed PCR 11 policy ({v("TPM2_PUBKEY_PCRS")})', r)
    check(v('TPM2_PUBKEY') == pcr_pubkey_sha(),
          f'the policy key is the image\'s PCR key (sha256 of DER {v("TPM2_PUBKEY")})', r)


def assert_boot(r, first):
    v = r.marker_value
    check(r.rc == 0, 'guest script ran', r)
    check(v('MULTI_USER') == 'active', 'multi-user.target reached', r)
    # "starting": the test unit itself is still part of the boot transaction.
    check(v('SYSTEM_STATE') in ('running', 'starting') and not v('FAILED_UNITS'),
          f'no failed units (state {v("SYSTEM_STATE")}, failed: {v("FAILED_UNITS")})', r)
    check(v('ROOT_DM_TYPE') == 'crypt' and v('ROOT_FSTYPE') == 'ext4',
          f'/ is ext4 on dm-crypt ({v("ROOT_SOURCE")})', r)
    check(v('ROOT_BACKING_PARTTYPE') == '4f68bce3-e8cd-4db1-96e7-fbcaf984b709',
          'the LUKS volume is the discoverable root-x86-64 partition', r)
    check('systemd-tpm2' in (v('ROOT_TOKENS') or '').split(','), 'LUKS2 has a systemd-tpm2 token', r)
    check(v('ROOT_UNLOCK') == 'tpm2', 'root unlocked through the TPM2 token', r)
    console = r.console()
    check('passphrase for' not in console.lower() and 'Please enter' not in console,
          'no passphrase prompt on the console', r)
    check(v('USR_FSTYPE') == 'erofs' and v('USR_DM_TYPE') == 'VERITY',
          f'/usr is erofs on dm-verity ({v("USR_SOURCE")})', r)
    check(bool(v('USRHASH_CMDLINE')) and v('USR_ROOTHASH') == v('USRHASH_CMDLINE'),
          f'/usr root hash equals usrhash= ({v("USRHASH_CMDLINE")})', r)
    labels = (v('PARTLABELS') or '').split(',')
    check(labels.count('ImprintOS_1') == 3 and labels.count('_empty') == 3,
          f'A slot "ImprintOS_1" x3 and B slot "_empty" x3 ({v("PARTLABELS")})', r)
    check(v('IMPRINT_DBUS_POLICY') == 'yes', 'Imprint is installed in /usr', r)
    check(v('TPM') == 'yes', '/dev/tpmrm0 present', r)
    assert_secure_boot_policy(r)
    if first:
        check(int(v('REPART_NEW') or 0) >= 4, f'first boot: repart created {v("REPART_NEW")} partitions', r)
    else:
        check(int(v('REPART_NEW') or 0) == 0, 'second boot: repart created nothing', r)


def main():
    timings = []
    t0 = time.monotonic()
    image = qemu.build_image(1)
    timings.append(('build-image (version 1)', time.monotonic() - t0))
    print(f'image: {image}')

    workdir = os.path.join(qemu.OUT_DIR, 'test_boot')
    shutil.rmtree(workdir, ignore_errors=True)
    m = qemu.Machine(workdir)
    # 4 GiB: ESP + two /usr slots + a ~1.3 GiB root. A smaller root is faster
    # to create (LUKS + mkfs.ext4 through emulated AES).
    disk = qemu.Disk.overlay(os.path.join(workdir, 'disk.qcow2'), image, size='4G')
    expect = [('firmware+loader: kernel starts', r'Linux version', 300),
              ('multi-user.target', r'IMPRINT-TEST: BEGIN', 900)]
    ok = False
    try:
        results = []
        for n, first in ((1, True), (2, False)):
            print(f'boot {n}:')
            r = m.run([disk], GUEST_SCRIPT, name=f'boot{n}', timeout=1200, expect=expect)
            r.print_markers()
            assert_boot(r, first)
            if n == 2:
                check(r.marker_value('ROOT_LUKS_UUID') == results[0].marker_value('ROOT_LUKS_UUID'),
                      'second boot: the same root volume', r)
            results.append(r)
            for label, t in r.waits:
                timings.append((f'boot {n}: {label}', t))
            timings.append((f'boot {n}: guest uptime at multi-user', float(r.markers[0].text.split('uptime=')[1])))
            timings.append((f'boot {n}: power-off (QEMU wall)', r.duration))
            timings.append((f'boot {n}: guest {r.marker_value("STAGES")}, repart in initrd {r.marker_value("REPART_INITRD")}', 0.0))
        ok = True
    finally:
        print('stage timings:')
        for label, t in timings:
            print(f'  {t:7.1f}s  {label}' if t else f'           {label}')
        print(f'  {time.monotonic() - t0:7.1f}s  total')
        qemu.drop_disks(workdir, ok)
    print('PASS')
    return 0


if __name__ == '__main__':
    qemu.test_main(main)
