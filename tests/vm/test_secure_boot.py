#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""VM test: Secure Boot, the signed TPM policy, tampering, healing after a
fallback unlock, and the keyboard layout at the passphrase prompt.

OVMF's Secure Boot build with the test key enrolled (qemu.Machine default);
ImprintOS is signed with that key and its UKI carries a PCR 11 policy signed
with the test PCR key.

1. Live stick: `imprintctl install --tpm2` with a passphrase and a recovery
   key, then `imprintctl setup --target disk:/dev/vda --keymap de` (the
   layout also goes to the ESP as the vconsole.keymap credential).
2. The installed disk: Secure Boot on, unlocked by the TPM with no prompt,
   the token bound to PCR 7 + the PCR 11 policy of the image's key.
3. Tamper: the UKI rebuilt with the same contents but its PCR 11 policy
   signed by another key (and Secure Boot-signed with the test key, so the
   firmware runs it): the TPM refuses, the recovery key typed at the prompt
   opens the disk, and `imprintctl unlock-status` says the start needed it.
4. Tamper: the same UKI without a Secure Boot signature: the firmware
   refuses to start it; Linux never starts.
5. The legitimate UKI back, but the firmware's db gets one more certificate
   (a firmware key update: PCR 7 changes). The TPM refuses; at the prompt on
   the screen (tty1, a signed add-on adds that console) the passphrase
   is typed on the keys a German keyboard has for it (y and z swapped, '-'
   where a US keyboard has '/'): it only unlocks if the "de" layout reached
   the initrd. Then imprintd heals: Enroll tpm2 again with the passphrase.
6. The next start unlocks by the TPM alone again, bound as in 2.
Exit 77 (skip) when the host lacks the tools. About 13 minutes.
"""

import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import qemu  # noqa: E402
from test_boot import GUEST_SCRIPT as CHECKS, assert_secure_boot_policy, check  # noqa: E402
from test_install import LIVE, MODHEX  # noqa: E402

KEYS = os.path.join(HERE, 'keys')
# y, z and '-' sit on other keys of a German keyboard than of a US one.
PASSPHRASE = 'Yz-lazy-Zebra-2y'
# The QEMU key (a US keyboard's key name) a person with a German keyboard
# presses for each character.
DE_KEYS = {'y': 'z', 'z': 'y', 'Y': 'shift-z', 'Z': 'shift-y', '-': 'slash'}
PROMPT = r'Please enter (passphrase|recovery key)'

INSTALL = r'''
set -u
printf '%s' '@PASSPHRASE@' > /run/pw
imprintctl --no-ask-password install --target /dev/vda --erase --tpm2 \
    --passphrase-file /run/pw --recovery-key-file /run/recovery-key
rc=$?
marker "INSTALL_RC=$rc"
[ $rc = 0 ] || exit 1
marker "RECOVERY_KEY=$(cat /run/recovery-key)"
imprintctl --no-ask-password setup --target disk:/dev/vda --unlock-key-file /run/recovery-key \
    --keymap de --hostname sb-test
rc=$?
marker "SETUP_RC=$rc"
[ $rc = 0 ] || { journalctl -b -u imprintd -o cat | tail -40; exit 1; }
esp=$(sfdisk -d /dev/vda | awk '/type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B/ {print $1}')
marker "KEYMAP_CRED=$(mdir -b -i "$esp" ::/loader/credentials 2>/dev/null | grep -c 'vconsole.keymap.cred$')"
marker "UKI=$(mdir -b -i "$esp" ::/EFI/Linux 2>/dev/null | grep '\.efi$' | head -1 | xargs -r basename)"
'''

STATUS = r'''
journalctl -b -o cat -u systemd-cryptsetup@root.service | grep -i 'tpm2\|fall\|unseal\|signature' | head -20
marker "UNLOCK_STATUS=$(imprintctl --json unlock-status | tr -d ' \n')"
imprintctl unlock-status
'''

HEAL = r'''
root_part=$(cryptsetup status "$(findmnt -no SOURCE / | sed 's|/dev/mapper/||')" | awk '$1 == "device:" {print $2}')
marker "KEYMAP_NOW=$(sed -n 's/^KEYMAP=//p' /etc/vconsole.conf)"
marker "VCONSOLE_CRED=$(systemd-creds --system list 2>/dev/null | grep -c vconsole.keymap || true)"
printf '%s' '@PASSPHRASE@' > /run/pw
imprintctl --no-ask-password enroll --tpm2 --unlock-key-file /run/pw "$root_part"
marker "HEAL_RC=$?"
marker "UNLOCK_STATUS_AFTER=$(imprintctl --json unlock-status | tr -d ' \n')"
'''


def tamper_ukis(uki, workdir):
    """Two UKIs from the installed one: its sections with a PCR 11 policy
    signed by a new key (Secure Boot-signed with the test key), and the
    same without any Secure Boot signature."""
    parts = {}
    for section in ('.linux', '.initrd', '.cmdline', '.osrel', '.uname'):
        out = os.path.join(workdir, 'sect' + section)
        subprocess.run(['objcopy', '--dump-section', f'{section}={out}', uki, os.path.join(workdir, 'scratch.efi')],
                       check=True)
        if section in ('.cmdline', '.osrel', '.uname'):
            with open(out, 'rb') as f:
                data = f.read().rstrip(b'\0')
            with open(out, 'wb') as f:
                f.write(data)
        parts[section] = out
    other = os.path.join(workdir, 'other-pcr.key')
    subprocess.run(['openssl', 'genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', other],
                   check=True, stderr=subprocess.DEVNULL)
    other_pub = os.path.join(workdir, 'other-pcr.pub.pem')
    subprocess.run(['openssl', 'pkey', '-in', other, '-pubout', '-out', other_pub], check=True)
    with open(parts['.uname']) as f:
        uname = f.read().strip()
    files = list(parts.values()) + [other, other_pub, os.path.join(KEYS, 'secureboot-test-only.key'),
                                    os.path.join(KEYS, 'secureboot-test-only.crt')]
    common = ['ukify', 'build', '--linux={}/sect.linux', '--initrd={}/sect.initrd',
              '--cmdline=@{}/sect.cmdline', '--os-release=@{}/sect.osrel', f'--uname={uname}',
              '--pcr-private-key={}/other-pcr.key', '--pcr-public-key={}/other-pcr.pub.pem']
    signed, = qemu.tools_run(common + ['--signtool=sbsign',
                                       '--secureboot-private-key={}/secureboot-test-only.key',
                                       '--secureboot-certificate={}/secureboot-test-only.crt',
                                       '--output={}/other-key.efi'], files, ['other-key.efi'])
    unsigned, = qemu.tools_run(common + ['--output={}/unsigned.efi'], files, ['unsigned.efi'])
    return signed, unsigned


def boot_by_tpm(m, disk, name):
    """Boot `disk`: the TPM unlocks it with no prompt, bound to PCR 7 and
    the image's signed PCR 11 policy, Secure Boot on."""
    r = m.run([disk], CHECKS, name=name, timeout=1500)
    r.print_markers()
    check(r.marker_value('ROOT_UNLOCK') == 'tpm2', 'unlocked by the TPM', r)
    check(not re.search(PROMPT, r.console()), 'no prompt', r)
    assert_secure_boot_policy(r)
    return r


def type_de(boot, text):
    """Type `text` as a person with a German keyboard layout would."""
    for ch in text:
        if ch in DE_KEYS:
            boot.key(DE_KEYS[ch])
        else:
            boot.type(ch)
        time.sleep(0.05)
    boot.key('ret')


def main():
    timings = []
    t0 = time.monotonic()
    image = qemu.build_image(1)
    timings.append(('build-image', time.monotonic() - t0))

    workdir = os.path.join(qemu.OUT_DIR, 'test_secure_boot')
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    m = qemu.Machine(workdir)
    stick = qemu.Disk.stick(os.path.join(workdir, 'stick.raw'), image, [qemu.addon(LIVE)])
    target = qemu.Disk.blank(os.path.join(workdir, 'target.raw'), '6G')
    installed = qemu.Disk(target.path)
    ok = False
    try:
        print('1. live stick: install (TPM2, passphrase, recovery key), keyboard layout "de"')
        r = m.run([stick, target], INSTALL.replace('@PASSPHRASE@', PASSPHRASE), name='live-install', timeout=2400)
        r.print_markers()
        v = r.marker_value
        check(v('INSTALL_RC') == '0' and v('SETUP_RC') == '0', 'installed and set up', r)
        check(v('KEYMAP_CRED') == '1', 'the ESP carries the vconsole.keymap credential', r)
        recovery_key = v('RECOVERY_KEY') or ''
        check(re.fullmatch(MODHEX, recovery_key) is not None, 'a recovery key was made', r)
        uki_name = v('UKI')
        check(bool(uki_name), f'the installed ESP has a UKI ({uki_name})', r)
        r.check()
        timings.append(('live boot: install + setup', r.duration))

        print('2. installed, Secure Boot on: the TPM unlocks')
        r = boot_by_tpm(m, installed, 'installed')
        token = r.marker_value('TPM2_TOKEN_SHA')
        timings.append(('installed boot', r.duration))

        ukis = [n for n in qemu.esp_list(target.path, 'EFI/Linux') if n.endswith('.efi')]
        check_plain(ukis == [uki_name], f'one UKI on the installed ESP ({ukis})')
        uki_path = f'EFI/Linux/{uki_name}'
        legit = os.path.join(workdir, 'legit.efi')
        qemu.esp_get(target.path, uki_path, legit)
        signed_other, unsigned = tamper_ukis(legit, workdir)

        print('3. the UKI\'s PCR 11 policy signed by another key: the TPM refuses, the recovery key opens')
        qemu.esp_put(target.path, signed_other, uki_path)
        start = time.monotonic()
        with m.boot([installed], name='other-pcr-key', script=CHECKS + STATUS) as b:
            b.wait_for(PROMPT, 900, label='prompt')
            time.sleep(2)
            b.send(recovery_key + '\n')
            mm = b.wait_for(r'IMPRINT-TEST: END rc=(\d+)', 1200, label='script end')
            b.wait_exit(120)
            r = qemu.Result('other-pcr-key', int(mm.group(1)), b.markers(), b.log, time.monotonic() - start, b.waits)
        r.print_markers()
        v = r.marker_value
        check(r.rc == 0 and v('MULTI_USER') == 'active', 'booted after the recovery key', r)
        # (ROOT_UNLOCK only says the TPM2 token was found; the prompt and
        # imprintd's reading of the journal say it did not unlock.)
        status = v('UNLOCK_STATUS') or ''
        check('"needed-recovery":true' in status and '"reason":"signature"' in status,
              f'unlock-status: this start needed the recovery key, no valid signed policy ({status})', r)
        timings.append(('tampered policy key', r.duration))

        print('4. an unsigned UKI under Secure Boot: the firmware refuses it')
        qemu.esp_put(target.path, unsigned, uki_path)
        start = time.monotonic()
        with m.boot([installed], name='unsigned', script='true') as b:
            # systemd-boot: "Error loading \EFI\Linux\ImprintOS_1.efi: Access denied"
            # (the firmware's LoadImage refused it).
            b.wait_for(r'Error loading \\EFI\\Linux\\\S+\.efi: Access denied', 600, label='refused')
            time.sleep(20)
            console = open(b.log, errors='replace').read()
            check_plain('Linux version' not in console, 'Linux never started')
        timings.append(('unsigned UKI', time.monotonic() - start))

        print('5. legitimate UKI, new firmware db key (PCR 7 changes): passphrase typed with a German layout, heal')
        qemu.esp_put(target.path, legit, uki_path)
        other_cert = os.path.join(workdir, 'other-db.crt')
        subprocess.run(['openssl', 'req', '-new', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650',
                        '-subj', '/CN=Imprint test: another db key', '-keyout', os.path.join(workdir, 'other-db.key'),
                        '-out', other_cert], check=True, stderr=subprocess.DEVNULL)
        m.enroll_db(other_cert)
        # The passphrase prompt on the screen too, where the keyboard layout
        # applies (systemd-ask-password-console asks on every active
        # console: the serial one says when the prompt is up). Add-ons are
        # measured into PCR 12, which the seal does not use.
        console_addon = qemu.addon('console=ttyS0,115200 console=tty1')
        qemu.esp_put(target.path, console_addon, 'loader/addons/console.addon.efi')
        start = time.monotonic()
        with m.boot([installed], name='heal', script=CHECKS + STATUS + HEAL.replace('@PASSPHRASE@', PASSPHRASE),
                    display=True) as b:
            b.wait_for(PROMPT, 900, label='prompt')
            time.sleep(3)
            type_de(b, PASSPHRASE)
            mm = b.wait_for(r'IMPRINT-TEST: END rc=(\d+)', 1200, label='script end')
            b.wait_exit(120)
            r = qemu.Result('heal', int(mm.group(1)), b.markers(), b.log, time.monotonic() - start, b.waits)
        r.print_markers()
        v = r.marker_value
        check('imprint-initrd-keymap: loaded keymap de' in r.console(),
              'the initrd loaded the "de" keymap from the vconsole.keymap credential', r)
        check(r.rc == 0 and v('MULTI_USER') == 'active', 'the passphrase typed on German keys unlocked the disk', r)
        status = v('UNLOCK_STATUS') or ''
        check('"needed-recovery":true' in status and '"reason":"pcr-mismatch"' in status,
              f'unlock-status: the TPM did not unlock (PCR 7 changed), a fallback was needed ({status})', r)
        check(v('HEAL_RC') == '0', 'imprintd sealed the disk to the TPM again', r)
        check('"resealed":true' in (v('UNLOCK_STATUS_AFTER') or ''),
              f'unlock-status: sealed again ({v("UNLOCK_STATUS_AFTER")})', r)
        timings.append(('PCR 7 changed: passphrase + heal', r.duration))
        qemu.esp_delete(target.path, 'loader/addons/console.addon.efi')

        print('6. after healing: the TPM unlocks by itself again')
        r = boot_by_tpm(m, installed, 'healed')
        check(r.marker_value('TPM2_TOKEN_SHA') != token, 'a new TPM2 token (sealed to the new PCR 7)', r)
        timings.append(('healed boot', r.duration))
        ok = True
    finally:
        print('timings:')
        for what, secs in timings:
            print(f'  {what:36s} {secs:7.1f} s')
        qemu.drop_disks(workdir, ok, ('.raw',))
    print('PASS')
    return 0


def check_plain(cond, what):
    if not cond:
        raise qemu.VMError(what)
    print(f'  ok: {what}')


if __name__ == '__main__':
    qemu.test_main(main)
