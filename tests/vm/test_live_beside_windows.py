#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""VM test: a person installs beside Windows with the graphical installer,
by keyboard only (the live stick, as test_live_gui.py).

  host:   a 48 GiB disk Windows fills (test_beside_windows.WindowsDisk:
          ESP with Windows' boot files, MSR, NTFS full of files of known
          checksums).
  boot 1: the live stick (usb-storage) and that disk. In the installer:
          Install, the disk, "Install beside Windows" (the split left at its
          default: Windows keeps half the disk or its files plus 20 GiB),
          TPM and the recovery key, the summary must say what is shrunk
          from what to what, Install; the done page must say Windows stays
          and how to choose it at start.
  boot 2: the disk alone, same TPM: the root unlocked by the TPM with no
          prompt and systemd-boot's menu has Windows (auto-windows).
  host:   the NTFS is smaller, checks clean, every file reads back
          identical, Windows' boot files are unchanged.
Suite vm-extra. Exit 77 (skip) when the host lacks the tools.
"""

import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu  # noqa: E402
from test_beside_windows import WindowsDisk, missing_tools  # noqa: E402
from test_boot import check  # noqa: E402
from test_live_gui import (INSTALLED_HEAD, Person, commit_install, live_script, open_installer,  # noqa: E402
                           unlock_and_key)  # noqa: E402
from test_setup_gui import wait_for_page  # noqa: E402

LIVE = live_script(r'''
journalctl -b -u imprintd -o cat | tail -30
sfdisk -d /dev/vda
marker "TARGET_LABELS=$(lsblk -nro PARTLABEL /dev/vda | sed '/^$/d' | paste -sd, -)"
marker "ROOT_NOW=$(findmnt -no FSTYPE,SOURCE / | tr -s ' ' ,)"
''')

TARGET = INSTALLED_HEAD + r'''marker "VERITY_USR=$(veritysetup status usr 2>/dev/null | sed -n 's/^ *root hash: *//p')"
bootctl list --no-pager 2>&1 | sed -n '1,80p'
marker "WINDOWS_ENTRY=$(bootctl list --no-pager 2>/dev/null | grep -c 'auto-windows')"
marker "PARTLABELS=$(lsblk -nro PARTLABEL /dev/vda | sed '/^$/d' | paste -sd, -)"
for _ in $(seq 1 60); do
    [ "$(systemctl is-system-running 2>/dev/null)" != starting ] && break
    sleep 2
done
systemctl --failed --no-legend
marker "FAILED_UNITS=$(systemctl --failed --no-legend --plain | awk '{print $1}' | paste -sd, -)"
'''


def beside_windows(p):
    """The disk page: the Windows disk, then "Install beside Windows" with
    the split at its default."""
    p.tab_to(r'\bvda\b')
    p.b.key('spc')
    n = len(p.labels())
    p.tab_to(r'(?i)beside Windows')
    p.b.key('spc')
    m = p.wait_label(r'Windows keeps (.+), the new system gets (.+)', since=n)
    print(f'  the split: {m.group(0)}')
    time.sleep(2)
    p.shot('disk-beside-windows')
    p.b.key('alt-right')


def main():
    missing = missing_tools()
    if missing:
        print(f'SKIP: host lacks {", ".join(missing)} (ntfs-3g, mtools, fdisk)')
        return 77
    t0 = time.monotonic()
    image = qemu.build_image(1, variant='live')
    print(f'live stick: {image} ({time.monotonic() - t0:.0f} s)')
    workdir = os.path.join(qemu.OUT_DIR, 'test_live_beside_windows')
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    w = WindowsDisk(workdir, 48 * 1024)
    m = qemu.Machine(workdir, memory=3072)
    stick = qemu.Disk.overlay(os.path.join(workdir, 'stick.qcow2'), image, interface='usb')
    ok = False
    try:
        print('boot 1: the live stick; install beside Windows by keyboard')
        start = time.monotonic()
        with m.boot([stick, qemu.Disk(w.path)], name='live-gui', script=LIVE, display=True) as b:
            b.wait_for(r'IMPRINT-TEST: BEGIN', 900, label='multi-user.target')
            b.wait_for(r'IMPRINT-TEST: APP_STARTED', 900, label='installer started')
            b.wait_for(r'IMPRINT-TEST: A11Y=ready', 600, label='accessibility tree')
            wait_for_page(b, workdir, name='00-first')
            p = Person(b, workdir)
            try:
                open_installer(p, screen_reader=False)
                beside_windows(p)
                unlock_and_key(p)
                shrink = p.wait_label(r'shrunk from (.+) to (.+) first')
                print(f'  summary: {shrink.group(0)}')
                p.shot('summary-beside-windows')
                n = len(p.labels())
                done = commit_install(p, r'Install$')
                print(f'  done page: {done.group(0)} ({p.install_s:.0f} s)')
                both = p.wait_label(r'Windows stays: the menu at start offers both systems', timeout=30, since=n)
                print(f'  done page: {both.group(0)}')
            finally:
                b.send('DONE\n')
            m_end = b.wait_for(r'IMPRINT-TEST: END rc=(\d+)', 600, label='script end')
            b.wait_exit(180)
            r = qemu.Result('live-gui', int(m_end.group(1)), b.markers(), b.log,
                            time.monotonic() - start, b.waits)
        for mk in r.markers:
            if not mk.text.startswith(('LABEL=', 'FOCUS=')):
                print(f'  {mk.elapsed:7.1f}s {mk.text}')
        r.check()

        print('boot 2: the disk alone, same TPM')
        r = m.run([qemu.Disk(w.path)], TARGET, name='installed', timeout=1500)
        r.print_markers()
        v = r.marker_value
        check(v('ROOT_UNLOCK') == 'tpm2', 'root unlocked through the TPM2 token', r)
        check('Please enter' not in r.console(), 'no passphrase prompt', r)
        check(v('WINDOWS_ENTRY') not in (None, '', '0'), 'systemd-boot offers Windows (auto-windows)', r)
        # systemd-repart among them once refused to run beside Windows' ESP.
        check(not v('FAILED_UNITS'), f'no failed units ({v("FAILED_UNITS")})', r)
        r.check()

        print('host: the Windows file system')
        ok = w.check()
    finally:
        print(f'total {time.monotonic() - t0:.0f} s')
        qemu.drop_disks(workdir, ok, suffixes=('.qcow2', '.raw', '.ppm'))
    if not ok:
        return 1
    print('PASS')
    return 0


if __name__ == '__main__':
    qemu.test_main(main)
