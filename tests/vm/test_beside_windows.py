#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""VM test: install beside Windows on a disk that Windows fills.

The host builds the disk as a laptop comes with it (tests/lib/layouts.py):
a 100 MiB FAT32 ESP with Windows' boot files (EFI/Microsoft/Boot/
bootmgfw.efi, BCD, ...), an MSR and an NTFS file system to the end of the
disk, filled with files of known checksums (ntfscp, no mount). The new
size of the NTFS is its minimum (ntfsresize --info) plus a margin, so the
resize has to move data.

1. The live stick (tmpfs root, as test_install.py) sees how far the NTFS
   can shrink (imprintctl list-disks --probe-shrink) and installs with
   `imprintctl install --shrink 3:SIZE --tpm2` (free-space mode: the
   Windows ESP is kept, an XBOOTLDR added when it is too small).
2. The installed system boots alone with the same TPM: the root unlocked
   by the TPM2 token with no prompt, /usr on dm-verity, and `bootctl list`
   shows systemd-boot's auto-detected Windows entry (auto-windows).
3. On the host afterwards: partition 3 is the new size and kept its
   GUID; `ntfsresize --check` and `ntfsfix -n` find no errors; every file
   reads back identical (ntfscat); Windows' boot files in the ESP too.

Suite vm-extra (CI's 90 minutes go to the install, update, setup and live
GUI proofs). Exit 77 (skip) when the host lacks the tools.
"""

import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
import qemu  # noqa: E402
import layouts  # noqa: E402
from test_boot import GUEST_SCRIPT as CHECKS, check  # noqa: E402
from test_install import LIVE, assert_installed  # noqa: E402

MiB = 1024 * 1024
GiB = 1024 * MiB
NTFS_TOOLS = ['mkntfs', 'ntfscp', 'ntfscat', 'ntfsresize', 'ntfsfix', 'mcopy', 'sfdisk', 'losetup']



def windows_layout(size_mib):
    """layouts.py's gpt-windows-whole at a size the new system fits beside:
    Windows as a laptop comes with it."""
    return layouts.LayoutSpec('gpt', size_mib, [
        layouts.PartSpec(100, layouts.ESP, 'vfat', 'EFI system partition', 'SYSTEM',
                         'EFI system partition', files=layouts.WINDOWS_ESP_FILES, fat32=True),
        layouts.PartSpec(16, layouts.MSR, None, 'Microsoft reserved partition', '', 'Microsoft reserved'),
        layouts.PartSpec(None, layouts.BASIC_DATA, 'ntfs', 'Basic data partition', 'Windows', 'Windows'),
    ], 'Windows', description=f'Windows filling a {size_mib} MiB disk')


INSTALL = r'''
set -u
marker "LIVE_ROOT=$(findmnt -no FSTYPE /)"
marker "USRHASH=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^usrhash=//p')"
marker "NTFSRESIZE=$(command -v ntfsresize || echo none)"
facts=$(imprintctl list-disks --probe-shrink --json | tr -d ' \n' | grep -o '"shrink":{[^}]*}' | head -1)
marker "SHRINK_FACTS=$facts"
imprintctl --no-ask-password install --target /dev/vda --shrink 3:@SIZE@ --dry-run
t0=$(date +%s)
imprintctl --no-ask-password install --target /dev/vda --shrink 3:@SIZE@ --tpm2 \
    --recovery-key-file /run/recovery-key
rc=$?
marker "INSTALL_RC=$rc"
marker "INSTALL_SECONDS=$(( $(date +%s) - t0 ))"
sfdisk -d /dev/vda
marker "TARGET_LABELS=$(lsblk -nro PARTLABEL /dev/vda | sed '/^$/d' | paste -sd, -)"
[ $rc = 0 ]
'''

BOOT_CHECKS = CHECKS + r'''
bootctl list --no-pager 2>&1 | sed -n '1,80p'
marker "WINDOWS_ENTRY=$(bootctl list --no-pager 2>/dev/null | grep -c 'auto-windows')"
marker "LOADER_ENTRIES=$(bootctl list --no-pager --json=short 2>/dev/null | grep -o '"id":"[^"]*"' | cut -d'"' -f4 | paste -sd, -)"
marker "ESP_WINDOWS=$(find /efi /boot -ipath '*EFI/Microsoft/Boot/bootmgfw.efi' 2>/dev/null | head -1)"
'''


def run(*argv, **kw):
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=600, **kw).stdout


def partition(path, index=2):
    """(start, size, GUID) of a partition of the disk image; the NTFS by default."""
    t = json.loads(run('sfdisk', '--json', path))['partitiontable']
    p = t['partitions'][index]
    ss = t.get('sectorsize', 512)
    return p['start'] * ss, p['size'] * ss, p['uuid'].lower()


class Volume:
    """A loop device over the NTFS bytes of the disk image."""

    def __init__(self, path, read_only=False):
        start, size, _ = partition(path)
        argv = ['losetup', '-f', '--show', '-o', str(start), '--sizelimit', str(size)]
        if read_only:
            argv.append('-r')
        self.node = run(*argv, path).strip()

    def __enter__(self):
        return self.node

    def __exit__(self, *exc):
        subprocess.run(['losetup', '-d', self.node], timeout=60)


def fill(node, workdir, seed):
    """Files of known checksums, empty to 48 MiB (ntfscp makes no
    directories); returns {name: sha256}."""
    rnd = random.Random(seed)
    sums = {}
    sizes = [rnd.choice([0, 1, 511, 4096, 70000, 1 << 20, 9 << 20, 48 << 20]) for _ in range(36)]
    src = os.path.join(workdir, 'file.bin')
    for i, size in enumerate(sizes):
        name = 'file%02d.bin' % i
        data = rnd.randbytes(size)
        with open(src, 'wb') as f:
            f.write(data)
        run('ntfscp', '-q', node, src, name)
        sums[name] = hashlib.sha256(data).hexdigest()
    os.unlink(src)
    return sums


def min_size(node):
    out = run('ntfsresize', '--info', '--force', '--no-progress-bar', node)
    m = re.search(r'You might resize at (\d+) bytes', out)
    if m is None:
        raise RuntimeError('ntfsresize --info: no minimum size:\n' + out)
    return int(m.group(1))


def check_host(path, sums, uuid_before, new_size=None, old_size=None):
    """The NTFS after the install: its size (@new_size when the test chose
    it, else smaller than @old_size), GUID, ntfs-3g's checks, every file,
    and Windows' boot files in the ESP. Prints each; True when all hold."""
    start, size, uuid = partition(path)
    ok = True

    def say(cond, what):
        nonlocal ok
        print(f'  {"ok" if cond else "FAIL"}: {what}')
        ok = ok and cond
    if new_size is not None:
        say(size == new_size, f'partition 3 is {size} bytes (asked {new_size})')
    if old_size is not None:
        say(size < old_size, f'partition 3 shrank from {old_size} to {size} bytes')
    say(uuid == uuid_before, 'partition 3 kept its GUID')
    with Volume(path, read_only=True) as node:
        r = subprocess.run(['ntfsresize', '--check', '--force', '--no-progress-bar', node],
                           capture_output=True, text=True, timeout=600)
        say(r.returncode == 0, 'ntfsresize --check finds no errors' + ('' if r.returncode == 0 else ':\n' + r.stdout + r.stderr))
        r = subprocess.run(['ntfsfix', '-n', node], capture_output=True, text=True, timeout=600)
        say(r.returncode == 0, 'ntfsfix -n finds nothing to fix' + ('' if r.returncode == 0 else ':\n' + r.stdout + r.stderr))
        bad = []
        for name, digest in sums.items():
            # --force: ntfsresize leaves the volume marked for Windows' own
            # check at its next start (chkdsk), which ntfs-3g then refuses.
            r = subprocess.run(['ntfscat', '--force', node, name], capture_output=True, timeout=600)
            if r.returncode != 0 or hashlib.sha256(r.stdout).hexdigest() != digest:
                bad.append(name)
        say(not bad, f'all {len(sums)} files read back identical' + (f' (differ: {bad})' if bad else ''))
    esp_at = partition(path, 0)[0]
    bad = []

    def esp_file(name):
        return subprocess.run(['mcopy', '-n', '-i', f'{path}@@{esp_at}', '::' + name, '-'],
                              capture_output=True, timeout=120).stdout
    for name, length in layouts.WINDOWS_ESP_FILES.items():
        # The removable-media path is taken over for systemd-boot (which
        # offers Windows), as bootctl install does; Windows starts from
        # its own Boot#### entry and \EFI\Microsoft.
        if name.lower() == 'efi/boot/bootx64.efi':
            continue
        if esp_file(name) != layouts._file_bytes(name, length):
            bad.append(name)
    say(not bad, "Windows' boot files in the ESP are unchanged" + (f' (differ: {bad})' if bad else ''))
    say(b'#### LoaderInfo: systemd-boot' in esp_file('EFI/BOOT/BOOTX64.EFI'),
        'the removable-media path starts systemd-boot')
    return ok


class WindowsDisk:
    """The disk image: built, filled, measured (ntfsresize's minimum)."""

    def __init__(self, workdir, size_mib):
        name = f'windows-{size_mib}'
        layouts.LAYOUTS[name] = windows_layout(size_mib)
        with layouts.Layout(name, directory=workdir) as layout:
            self.path = os.path.join(workdir, 'windows.raw')
            os.replace(layout.path, self.path)
        self.seed = int(os.environ.get('IMPRINT_TEST_SEED', time.time()))
        with Volume(self.path) as node:
            self.sums = fill(node, workdir, self.seed)
            self.minimum = min_size(node)
        _, self.ntfs_size, self.uuid = partition(self.path)
        print(f'Windows disk: NTFS {self.ntfs_size // MiB} MiB, minimum {self.minimum // MiB} MiB, '
              f'{len(self.sums)} files (IMPRINT_TEST_SEED={self.seed})')

    def check(self, new_size=None):
        return check_host(self.path, self.sums, self.uuid, new_size=new_size, old_size=self.ntfs_size)


def missing_tools():
    return [t for t in NTFS_TOOLS if shutil.which(t) is None]


def main():
    missing = missing_tools()
    if missing:
        print(f'SKIP: host lacks {", ".join(missing)} (ntfs-3g, mtools, fdisk)')
        return 77
    timings = []
    t0 = time.monotonic()
    image = qemu.build_image(1)
    timings.append(('build-image', time.monotonic() - t0))

    workdir = os.path.join(qemu.OUT_DIR, 'test_beside_windows')
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    t0 = time.monotonic()
    w = WindowsDisk(workdir, 10240)
    new_size = (w.minimum + 384 * MiB + MiB - 1) // MiB * MiB
    print(f'shrinking to {new_size // MiB} MiB')
    disk = w.path
    timings.append(('host: Windows disk', time.monotonic() - t0))

    m = qemu.Machine(workdir)
    stick = qemu.Disk.stick(os.path.join(workdir, 'stick.raw'), image, [qemu.addon(LIVE)])
    ok = False
    try:
        print(f'1. live stick: install beside Windows on /dev/vda (shrink 3 to {new_size} bytes)')
        r = m.run([stick, qemu.Disk(disk)], INSTALL.replace('@SIZE@', str(new_size)),
                  name='live-install', timeout=2400)
        r.print_markers()
        v = r.marker_value
        check(v('NTFSRESIZE') not in (None, 'none'), 'ntfsresize is in the image', r)
        facts = v('SHRINK_FACTS') or ''
        check('"possible":true' in facts, f'ListDisks says the NTFS can shrink ({facts})', r)
        check(v('INSTALL_RC') == '0', f'imprintctl install --shrink finished in {v("INSTALL_SECONDS")} s', r)
        r.check()
        usrhash = v('USRHASH')
        timings.append(('live boot + install beside Windows', r.duration))

        print('2. installed system, same TPM')
        r = m.run([qemu.Disk(disk)], BOOT_CHECKS, name='installed-tpm', timeout=1500)
        r.print_markers()
        assert_installed(r, usrhash, 'tpm2', 0)
        check('Please enter' not in r.console(), 'no passphrase prompt', r)
        v = r.marker_value
        check(v('WINDOWS_ENTRY') not in (None, '', '0'),
              f'systemd-boot offers Windows (entries: {v("LOADER_ENTRIES")})', r)
        timings.append(('installed boot (TPM unlock)', r.duration))

        print('3. host: the Windows file system and its boot files')
        ok = w.check(new_size)
    except qemu.VMError as e:
        print(f'FAIL: {e}')
        if e.log:
            print(f'console log kept: {e.log}')
        return 1
    finally:
        print('timings:')
        for what, secs in timings:
            print(f'  {what:36s} {secs:7.1f} s')
    return 0 if ok else 1


if __name__ == '__main__':
    qemu.test_main(main)
